"""A question's full round trip in a real browser (Debian's Chromium through Playwright): a
returnee asks in the bot, a staff member of the region answers in the desk, the answer reaches
the returnee's chat with the question's number; the person's next message joins the same
question and the staff member closes it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage.models import Ticket
from tests.desk.chromium import Chromium, unavailable
from tests.desk.support import staff
from tests.desk.test_browser import shot, signed_in
from tests.support.talk import onboard, one, texts

WHY = unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    browser = Chromium()
    yield browser
    browser.close()


async def test_asked_in_the_bot_answered_in_the_browser_received_in_the_chat(
    app, person, desk_server, chromium, tmp_path
) -> None:
    office = await staff(app, person, 8801, regions=["35.78"], lang="id")
    siti = person(5001)
    await onboard(siti)  # Indonesian, Kota Surabaya
    await siti.send("/menu")
    await siti.press("Tanya petugas")
    said = texts(await siti.send("Saya mau buka warung, modalnya dari mana ya?"))
    ticket = await one(app, Ticket)
    assert f"#{ticket.id}" in said

    page = await signed_in(chromium, desk_server, office)
    await page.click("header nav >> text=Pertanyaan")
    assert "Siti Aminah" in await page.inner_text("main")
    assert "buka warung" in await page.inner_text("main")
    await page.click("text=Siti Aminah")
    assert "Kota Surabaya" in await page.inner_text("main")
    await page.click("form[action$='/ambil'] button")
    assert "milik Anda" in await page.inner_text("[role=status]")
    await page.fill("form.reply textarea[name=text]", "Coba cek KUR Super Mikro di bank terdekat.")
    await page.click("form.reply button[type=submit]")
    assert "Terkirim" in await page.inner_text("[role=status]")
    await shot(page, tmp_path, "ticket-desktop")

    assert (await app.notices.work()).sent >= 1
    answer = texts(siti.replies())
    assert f"Jawaban untuk pertanyaan Anda #{ticket.id}" in answer
    assert "Coba cek KUR Super Mikro" in answer

    said = texts(await siti.send("Terima kasih! Syaratnya apa saja?"))
    assert f"#{ticket.id}" in said
    await page.reload()
    assert "Syaratnya apa saja" in await page.inner_text("ol.thread")
    await page.click("form.close button")
    assert (await one(app, Ticket)).status == "closed"
    await app.notices.work()
    assert "👍" in " ".join(siti.buttons())
