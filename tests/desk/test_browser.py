"""The desk in a real browser (Debian's Chromium through Playwright, one per module): a
reviewer's day (signed in from the bot's link, a search, one returned for correction and
corrected by its returnee in the bot, 20 approved at once, an XLSX downloaded); another
region stays out of reach by address; a revoked role is signed out at the next click; a
forged form is refused. Screenshots at 360 px and on a desktop are saved with
the test's output (and in test-output/desk/)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from flows import clock
from storage.models import AuditEntry, OutboxNotice, Person, ReasonTemplate, Submission
from tests.desk.chromium import OUTPUT, Chromium, download, unavailable
from tests.desk.support import init_data, link_of, make_role, returnees, staff
from tests.support.talk import count, one, texts

WHY = unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")
PHONE, DESKTOP = 360, 1280
NIK = "3578010101900000"


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


async def test_a_reviewers_day_sign_in_search_return_correct_bulk_approve_and_export(
    app, person, desk_server, chromium, tmp_path
) -> None:
    """The issue's reviewer day, end to end: signed in from /meja's link, a search, one opened
    and returned with a reason; its returnee reads the bot's message, corrects it in the bot,
    and it waits again flagged as corrected with the change in its history; 20 approved at
    once (each person gets a notice); the approved downloaded as XLSX and read back."""
    kur = await returnees(app, 20)  # Warga 000 to Warga 019
    [sid] = await returnees(app, 1, kind="join_request", start=710000,
                            answers={"cooperative_name": "Koperasi Maju", "nik": NIK})  # fmt: skip
    async with app.sessionmaker() as session, session.begin():
        await session.execute(update(Person).where(Person.telegram_id == 710000).values(
            name="Sitti Rahmawatty"))  # fmt: skip
    chat = await staff(app, person, 8501, lang="id")
    page = await signed_in(chromium, desk_server, chat)
    assert "Antrean tinjauan" in await page.inner_text("h1")
    assert await page.locator("tbody tr").count() == 21

    await page.fill("input[name=q]", "Rahmawatty")
    await page.click("form.filters button[type=submit]")
    assert await page.locator("tbody tr").count() == 1
    assert "Rahmawatty" not in page.url  # the search stays out of the address
    await page.click("text=Sitti Rahmawatty")
    assert "Koperasi Maju" in await page.inner_text("main")
    await page.check("input[name=decision][value=return]")
    await page.check("input[name=fields][value=name]")
    await page.fill("textarea[name=reason]", "Nama belum sesuai KTP, mohon diperbaiki.")
    await page.click("form.decide button[type=submit]")
    assert "dikembalikan untuk diperbaiki" in await page.inner_text("[role=status]")
    assert (await one(app, Submission, Submission.id == sid)).returned_fields == ["name"]

    returnee = person(710000)  # what the bot sends the returnee, through its own delivery
    assert (await app.notices.work()).sent == 1
    told = texts(returnee.replies())
    assert "perlu sedikit perbaikan: Nama" in told and "Nama belum sesuai KTP" in told
    asked = texts(await returnee.press("Perbaiki sekarang"))
    assert "Siapa nama Anda?" in asked and "Sitti Rahmawatty" in asked  # only what was returned
    said = texts(await returnee.send("Siti Rahmawati"))
    assert "Perbaikan Anda sudah dikirim kembali" in said
    assert (await one(app, Submission, Submission.id == sid)).status == "submitted"

    await page.click("header nav a[href$='tinjau']")
    corrected = page.locator("tbody tr", has_text="Siti Rahmawati")  # the profile's name, fixed
    assert "sudah diperbaiki" in await corrected.locator(".badge-fixed").inner_text()
    await shot(page, tmp_path, "queue-desktop")
    await corrected.locator("a").nth(0).click()
    history = await page.inner_text("ol.history")
    assert "dikembalikan untuk diperbaiki" in history and "diperbaiki oleh purna PMI" in history
    changed = page.locator("ol.history tbody tr")
    assert await changed.locator("del").inner_text() == "Sitti Rahmawatty"
    assert await changed.locator("ins").inner_text() == "Siti Rahmawati"
    await shot(page, tmp_path, "item-desktop")

    await page.click("header nav a[href$='tinjau']")
    for kid in kur:
        await page.check(f"#pick-{kid}")
    await page.check(".bulk-actions input[value=approve]")
    await page.click(".bulk-actions button[type=submit]")
    assert "20 diputuskan" in await page.inner_text("[role=status]")
    assert await count(app, Submission, Submission.status == "approved") == 20
    async with app.sessionmaker() as session:
        told_each = (await session.execute(
            select(Person.telegram_id, func.count(OutboxNotice.id))
            .join(OutboxNotice, OutboxNotice.person_id == Person.id)
            .where(Person.telegram_id < 710000).group_by(Person.telegram_id)
        )).all()  # fmt: skip
    assert sorted(told_each) == [(700000 + i, 1) for i in range(20)]  # one notice each

    await page.click("header nav >> text=Ekspor")
    await page.select_option("select[name=kind]", "k")
    await page.select_option("select[name=status]", "a")
    await page.check("input[name=format][value=xlsx]")
    saved = await download(page, "form.filters button[type=submit]", tmp_path)
    assert saved.suffix == ".xlsx"
    sheet = load_workbook(saved).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert {"Nama", "Status"} <= set(header)
    got = sorted((r[header.index("Nama")], r[header.index("Status")]) for r in rows)
    assert got == [(f"Warga {i:03d}", "Disetujui") for i in range(20)]
    assert await count(app, AuditEntry, AuditEntry.action == "export") == 1


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


async def test_keys_decide_and_each_decision_opens_the_next_in_the_queue(
    app, person, desk_server, chromium
) -> None:
    ids = await returnees(app, 3)
    chat = await staff(app, person, 8507, lang="id")
    page = await signed_in(chromium, desk_server, chat)
    await page.goto(str(desk_server.make_url(f"/meja/tinjau/{ids[0]}")))
    assert await page.locator(".keys").is_visible()  # desk.js ran (CSP allows it)
    await page.press("body", "r")
    assert await page.is_checked("input[name=decision][value=reject]")
    assert await page.evaluate("document.activeElement.name") == "template"
    async with app.sessionmaker() as session:
        full = (await session.scalars(select(ReasonTemplate).where(
            ReasonTemplate.title == "Kuota sudah penuh"))).one()  # fmt: skip
    await page.select_option("select.template", str(full.id))
    assert await page.input_value("textarea[name=reason]") == full.body  # editable words
    await page.click("form.decide button[type=submit]")
    assert page.url.endswith(f"/meja/tinjau/{ids[1]}?done=reject")  # the next one, at once
    assert "tidak disetujui" in await page.inner_text("[role=status]")
    await page.press("body", "j")
    await page.wait_for_url(f"**/meja/tinjau/{ids[2]}")
    await page.type("textarea[name=reason]", "a")  # typed into a field: the field's, no decision
    assert not await page.is_checked("input[name=decision][value=approve]")
    await page.fill("textarea[name=reason]", "")
    await page.evaluate("document.activeElement.blur()")
    await page.press("body", "a")
    assert await page.is_checked("input[name=decision][value=approve]")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Putuskan"
    await page.press("form.decide button[type=submit]", "Enter")  # where "a" put the focus
    await page.wait_for_url(f"**/meja/tinjau/{ids[1]}?done=approve")  # wraps to the one left
    await page.press("body", "k")
    assert await page.is_checked("input[name=decision][value=return]")
    assert await page.evaluate("document.activeElement.name") == "fields"
    async with app.sessionmaker() as session:
        got = {s.id: s for s in (await session.scalars(select(Submission))).all()}
    assert got[ids[0]].status == "rejected" and got[ids[0]].reason == full.body
    assert got[ids[2]].status == "approved" and got[ids[1]].status == "submitted"


async def test_the_mini_app_signs_in_from_the_init_data_telegram_puts_in_the_fragment(
    app, person, desk_server, chromium
) -> None:
    await returnees(app, 1)
    await staff(app, person, 8508, lang="id")
    page = await chromium.page(PHONE)
    data = quote(init_data(8508), safe="")
    await page.goto(
        str(desk_server.make_url("/meja/app")) + f"#tgWebAppData={data}&tgWebAppVersion=7.0"
    )
    await page.wait_for_url("**/meja/tinjau")
    assert "Antrean tinjauan" in await page.inner_text("h1")
    stale = await chromium.page(PHONE)
    old = quote(init_data(8508, auth_date=int(clock.now().timestamp()) - 7200), safe="")
    await stale.goto(str(desk_server.make_url("/meja/app")) + f"#tgWebAppData={old}")
    await stale.wait_for_selector("[role=alert]")
    assert "Warga" not in await stale.inner_text("main")


UNLABELLED = """Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.name)"""


async def test_every_field_on_the_review_pages_has_a_label(
    app, person, desk_server, chromium
) -> None:
    [sid] = await returnees(app, 1, kind="join_request",
                            answers={"cooperative_name": "Koperasi Maju", "nik": "3578010101900000"})  # fmt: skip
    chat = await staff(app, person, 8509, lang="id")
    page = await signed_in(chromium, desk_server, chat)
    for path in ("/meja/tinjau", f"/meja/tinjau/{sid}", "/meja/tinjau/alasan"):
        await page.goto(str(desk_server.make_url(path)))
        assert await page.evaluate(UNLABELLED) == [], path
    await page.goto(str(desk_server.make_url(f"/meja/tinjau/{sid}")))
    await page.click("form.reveal button")
    assert "3578010101900000" in await page.inner_text("main")
    assert "3578010101900000" not in page.url and page.url.endswith(f"/tinjau/{sid}/nik")
    assert await page.evaluate(UNLABELLED) == []
