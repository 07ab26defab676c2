"""The desk in a real browser (Debian's Chromium through Playwright, one per module): a
reviewer signs in from the bot's link, searches, opens, returns one for correction and approves
several at once; another region stays out of reach by address; a revoked role is signed out at
the next click; a forged form is refused. Screenshots at 360 px and on a desktop are saved with
the test's output (and in test-output/desk/)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.models import OutboxNotice, Submission
from tests.desk.chromium import OUTPUT, Chromium, unavailable
from tests.desk.support import link_of, make_role, returnees, staff
from tests.support.talk import count

WHY = unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")
PHONE, DESKTOP = 360, 1280


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    browser = Chromium()
    yield browser
    browser.close()


async def signed_in(chromium, desk_server, chat, width: int = DESKTOP):
    """A fresh browser that opened the link /meja gave this chat and pressed Sign in."""
    token = await link_of(chat)
    page = await chromium.page(width)
    await page.goto(str(desk_server.make_url(f"/meja/masuk/{token}")))
    await page.click("button[type=submit]")
    return page


async def shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, OUTPUT / path.name)
    assert path.stat().st_size > 1000


async def test_a_reviewer_signs_in_searches_opens_returns_and_bulk_approves(
    app, person, desk_server, chromium, tmp_path
) -> None:
    ids = await returnees(app, 8)
    chat = await staff(app, person, 8501, lang="id")
    page = await signed_in(chromium, desk_server, chat)
    assert "Antrean tinjauan" in await page.inner_text("h1")
    assert await page.locator("tbody tr").count() == 8
    await shot(page, tmp_path, "queue-desktop")
    await page.fill("input[name=q]", "Warga 003")
    await page.click("form.filters button[type=submit]")
    assert await page.locator("tbody tr").count() == 1
    assert "Warga 003" not in page.url  # the search stays out of the address
    await page.click("text=Warga 003")
    assert "Warga 003" in await page.inner_text("main")
    await shot(page, tmp_path, "item-desktop")
    await page.check("input[name=decision][value=return]")
    await page.check("input[name=fields][value=name]")
    await page.fill("textarea[name=reason]", "Nama belum sesuai KTP, mohon diperbaiki.")
    await page.click("form.decide button[type=submit]")
    assert "dikembalikan untuk diperbaiki" in await page.inner_text("[role=status]")
    async with app.sessionmaker() as session:
        returned = await session.get(Submission, ids[3])
    assert returned.status == "returned" and returned.returned_fields == ["name"]
    await page.click("a[href$='tinjau']")
    for sid in ids[:3]:
        await page.check(f"#pick-{sid}")
    await page.check("#pick-" + str(ids[4]))
    await page.check(".bulk-actions input[value=approve]")
    await page.click(".bulk-actions button[type=submit]")
    assert "4 diputuskan" in await page.inner_text("[role=status]")
    assert await count(app, Submission, Submission.status == "approved") == 4
    assert await count(app, OutboxNotice) == 5


async def test_it_reads_on_a_360_pixel_phone(app, person, desk_server, chromium, tmp_path) -> None:
    ids = await returnees(app, 3)
    chat = await staff(app, person, 8502, lang="id")
    page = await signed_in(chromium, desk_server, chat, width=PHONE)
    overflow = await page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= PHONE  # nothing wider than the phone
    await shot(page, tmp_path, "queue-phone")
    await page.click(f"a[href$='tinjau/{ids[0]}']")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE
    await shot(page, tmp_path, "item-phone")


async def test_another_regions_rows_cannot_be_seen_or_reached_by_address(
    app, person, desk_server, chromium
) -> None:
    [mine] = await returnees(app, 1, regency="35.78")
    [theirs] = await returnees(app, 1, regency="51.71", start=760000)
    reviewer = await staff(app, person, 8503, regions=["35.78"], lang="id")
    page = await signed_in(chromium, desk_server, reviewer)
    assert "Warga 000" in await page.inner_text("main") and "Denpasar" not in await page.inner_text(
        "tbody"
    )
    answer = await page.goto(str(desk_server.make_url(f"/meja/tinjau/{theirs}")))
    assert answer.status == 404 and "Warga" not in await page.inner_text("main")
    answer = await page.goto(str(desk_server.make_url("/meja/tinjau?region=51")))
    assert answer.status == 403
    coordinator = await staff(app, person, 8504, role="coordinator", regions=["35.78"], lang="id")
    page = await signed_in(chromium, desk_server, coordinator)
    for path in (f"/meja/tinjau/{theirs}", f"/meja/tinjau/{mine}", "/meja/tinjau"):
        answer = await page.goto(str(desk_server.make_url(path)))
        assert answer.status == 403 and "Warga" not in await page.inner_text("main")


async def test_a_revoked_role_is_signed_out_on_the_next_click(
    app, person, desk_server, chromium
) -> None:
    await returnees(app, 1)
    chat = await staff(app, person, 8505, lang="id")
    page = await signed_in(chromium, desk_server, chat)
    await make_role(app, 8505, "returnee")
    await page.click("text=Warga 000")
    assert "Peran Anda berubah" in await page.inner_text("main")
    assert "Warga" not in await page.inner_text("main")


async def test_a_forged_form_is_refused(app, person, desk_server, chromium) -> None:
    [sid] = await returnees(app, 1)
    chat = await staff(app, person, 8506, lang="id")
    page = await signed_in(chromium, desk_server, chat)
    await page.goto(str(desk_server.make_url(f"/meja/tinjau/{sid}")))
    await page.locator("form.decide input[name=csrf]").evaluate("e => e.value = 'forged'")
    await page.check("input[name=decision][value=approve]")
    await page.click("form.decide button[type=submit]")
    assert "Tidak ada yang diubah" in await page.inner_text("main")
    assert await count(app, Submission, Submission.status == "submitted") == 1
