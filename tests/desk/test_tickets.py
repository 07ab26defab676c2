"""The help desk's inbox at the desk: tabs, one question, assign, reply (reaches the person
through the bot), internal note (never sent), close; ready answers; other regions and roles
refused."""

from __future__ import annotations

import re

from aiogram.methods import SendMessage

from storage.models import CannedAnswer, OutboxNotice, Ticket, TicketMessage
from tests.desk.support import csrf_of, sign_in, staff
from tests.support.talk import count, onboard, one, texts


async def question(person, uid: int = 5001, text: str = "Kapan pelatihan menjahit dibuka?"):
    chat = person(uid)
    await onboard(chat, lang="en")  # Kota Surabaya
    await chat.send("/tanya")
    await chat.send(text)
    return chat


async def test_staff_answer_a_question_from_the_inbox_and_the_person_gets_it(
    app, person, browser
) -> None:
    office = await staff(app, person, 8701, regions=["35.78"])
    siti = await question(person)
    ticket = await one(app, Ticket)
    assert (await app.notices.work()).sent == 1  # the office is told of the new question
    client = await browser()
    await sign_in(client, office)
    page = await (await client.get("/meja/tiket")).text()
    assert "Siti Aminah" in page and "Kapan pelatihan menjahit" in page and "New (1)" in page
    assert 'href="/meja/tiket"' in page  # the nav line
    csrf = await csrf_of(client, f"/meja/tiket/{ticket.id}")
    shown = await (await client.get(f"/meja/tiket/{ticket.id}")).text()
    assert "Kota Surabaya" in shown and "3578" not in shown  # region, never the NIK
    done = await client.post(f"/meja/tiket/{ticket.id}/ambil", data={"csrf": csrf},
                             allow_redirects=False)  # fmt: skip
    assert done.status == 303
    assert (await one(app, Ticket)).assignee_id is not None
    mine = await (await client.get("/meja/tiket?tab=mine")).text()
    assert "Siti Aminah" in mine
    await client.post(f"/meja/tiket/{ticket.id}/catatan",
                      data={"csrf": csrf, "text": "Cek jadwal BLK dulu"})  # fmt: skip
    assert await count(app, OutboxNotice, OutboxNotice.message == "tickets.reply") == 0
    answer = await client.post(
        f"/meja/tiket/{ticket.id}/balas",
        data={"csrf": csrf, "text": "Pendaftaran dibuka 3 Januari di BLK Surabaya."},
    )
    assert "Sent. The person gets it in the bot." in await answer.text()
    assert (await app.notices.work()).sent == 1
    said = texts(siti.replies())
    assert f"An answer to your question #{ticket.id}" in said and "BLK Surabaya" in said
    assert "Cek jadwal BLK" not in said  # the note is never sent
    assert (await one(app, Ticket)).status == "waiting"
    closed = await client.post(f"/meja/tiket/{ticket.id}/tutup", data={"csrf": csrf})
    assert "Closed." in await closed.text()
    await app.notices.work()
    assert "Was the answer helpful?" in texts(siti.replies())
    late = await client.post(f"/meja/tiket/{ticket.id}/balas", data={"csrf": csrf, "text": "x"})
    assert late.status == 409
    assert await count(app, TicketMessage, TicketMessage.kind == "reply") == 1


async def test_a_ready_answer_fills_the_reply_and_only_staff_edit_them(
    app, person, browser
) -> None:
    office = await staff(app, person, 8702, regions=["35"])
    await question(person)
    ticket = await one(app, Ticket)
    client = await browser()
    await sign_in(client, office)
    csrf = await csrf_of(client, "/meja/tiket/jawaban")
    nationwide = await client.post(
        "/meja/tiket/jawaban", data={"csrf": csrf, "region": "", "title": "x", "text": "y"}
    )
    assert nationwide.status == 403  # a scoped staff member keeps only their regions' answers
    saved = await client.post(
        "/meja/tiket/jawaban",
        data={"csrf": csrf, "region": "35", "title": "Jadwal BLK",
              "text": "Jadwal BLK ada di pelatihan.kemnaker.go.id"},
    )  # fmt: skip
    assert "Saved." in await saved.text()
    canned = await one(app, CannedAnswer)
    page = await (await client.get(f"/meja/tiket/{ticket.id}")).text()
    assert "Jadwal BLK" in page
    filled = await (await client.get(f"/meja/tiket/{ticket.id}?jawaban={canned.id}")).text()
    assert re.search(r"<textarea name=\"text\"[^>]*>Jadwal BLK ada di", filled)
    coordinator = await staff(app, person, 8703, role="coordinator", regions=["35"])
    other = await browser()
    await sign_in(other, coordinator)
    assert (await other.get("/meja/tiket/jawaban")).status == 403
    assert (await other.get(f"/meja/tiket/{ticket.id}")).status == 200  # but answers questions


async def test_another_regions_question_cannot_be_seen_or_answered(app, person, browser) -> None:
    await staff(app, person, 8704, regions=["35.78"])
    bali = await staff(app, person, 8705, regions=["51"])
    await question(person)
    ticket = await one(app, Ticket)
    client = await browser()
    await sign_in(client, bali)
    assert "Siti" not in await (await client.get("/meja/tiket")).text()
    assert (await client.get(f"/meja/tiket/{ticket.id}")).status == 404
    csrf = await csrf_of(client, "/meja/tiket")
    for act in ("ambil", "balas", "catatan", "tutup"):
        answer = await client.post(f"/meja/tiket/{ticket.id}/{act}",
                                   data={"csrf": csrf, "text": "hai"})  # fmt: skip
        assert answer.status == 404, act
    ticket = await one(app, Ticket)
    assert (ticket.status, ticket.assignee_id) == ("new", None)
    assert await count(app, TicketMessage) == 1
    forged = await client.post(f"/meja/tiket/{ticket.id}/tutup", data={"csrf": "forged"})
    assert forged.status == 403


async def test_an_empty_or_huge_reply_changes_nothing(app, person, browser) -> None:
    office = await staff(app, person, 8706, regions=["35.78"])
    await question(person)
    ticket = await one(app, Ticket)
    client = await browser()
    await sign_in(client, office)
    csrf = await csrf_of(client, f"/meja/tiket/{ticket.id}")
    for text, status in (("   ", 400), ("a" * 2001, 400)):
        answer = await client.post(f"/meja/tiket/{ticket.id}/balas",
                                   data={"csrf": csrf, "text": text})  # fmt: skip
        assert answer.status == status
    assert await count(app, TicketMessage) == 1
    assert not [c for c in app.bot.session.calls if isinstance(c, SendMessage)
                and "An answer" in (c.text or "")]  # fmt: skip
