"""The statistics and roles pages in a real browser (Debian's Chromium through Playwright): the
funnel's table reads as a table (caption, column and row headers) to assistive technology, the
chart is an image named after it, nothing is wider than a 360-pixel phone; an admin narrows a
reviewer, whose open desk is signed out at the next click."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.desk.chromium import Chromium, unavailable
from tests.desk.support import staff
from tests.desk.test_browser import DESKTOP, PHONE, shot, signed_in
from tests.desk.test_stats_pages import seeded

WHY = unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    browser = Chromium()
    yield browser
    browser.close()


async def test_the_statistics_table_is_read_as_a_table(
    app, person, desk_server, chromium, tmp_path
) -> None:
    await seeded(app)
    chat = await staff(app, person, 8601, lang="id")
    page = await signed_in(chromium, desk_server, chat)
    await page.click("nav >> text=Statistik")
    assert "Statistik" in await page.inner_text("h1")
    await page.select_option("select[name=j]", "kur")
    await page.select_option("select[name=p]", "all")
    await page.click("form.filters button[type=submit]")
    table = page.get_by_role("table", name="Pinjaman KUR", exact=False)
    assert await table.count() == 1
    headers = await table.get_by_role("columnheader").all_inner_texts()
    assert len(headers) == 4 and "Orang" in headers[1]
    started = table.get_by_role("row").nth(1)
    assert await started.get_by_role("rowheader").inner_text() == "Dimulai"
    assert (await started.get_by_role("cell").all_inner_texts())[0] == "3"
    chart = page.get_by_role("img", name="Pinjaman KUR", exact=False)
    assert await chart.count() == 1
    await shot(page, tmp_path, "stats-desktop")
    phone = await signed_in(chromium, desk_server, chat := await staff(app, person, 8602), PHONE)
    assert chat
    await phone.goto(str(desk_server.make_url("/meja/statistik?j=kur&p=all")))
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    await shot(phone, tmp_path, "stats-phone")


async def test_an_admin_narrows_a_reviewer_who_is_signed_out_at_the_next_click(
    app, person, desk_server, chromium, tmp_path
) -> None:
    reviewer = await staff(app, person, 8603, lang="id")
    theirs = await signed_in(chromium, desk_server, reviewer)
    admin = await staff(app, person, 8604, role="admin", lang="id")
    page = await signed_in(chromium, desk_server, admin, DESKTOP)
    await page.click("nav >> text=Peran")
    await page.click("tr:has-text('Petugas DA') >> text=Ubah atau cabut")
    await page.check("form.role-grant input[name=where][value=some]")
    await page.select_option("form.role-grant select[name=regions]", ["35.78"])
    await shot(page, tmp_path, "role-person-desktop")
    await page.click("form.role-grant button[type=submit]")
    assert "peran diubah" in (await page.inner_text("[role=status]")).lower()
    assert "Kota Surabaya" in await page.inner_text("tr:has-text('Petugas DA')")
    await theirs.click("nav >> text=Statistik")  # the session was ended with the change
    said = await theirs.inner_text("main")
    assert "Peran Anda berubah" in said and "Pinjaman KUR" not in said
