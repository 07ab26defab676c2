"""Tanya petugas in the bot: a returnee asks (typed or a voice note), staff of the region answer
from /tiket on a phone, the answer comes back with the ticket's number, the person rates it;
bad input, forged buttons and other regions change nothing."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram.methods import SendMessage, SendVoice
from aiogram.types import PhotoSize, Voice
from sqlalchemy import event, select, update

from bot.handlers.tickets import WAIT, TicketCB
from bot.handlers.tickets.person import FollowUp
from bot.handlers.tickets.waits import Waiting
from bot.keyboards import AskCB
from flows import clock
from storage import repo
from storage.models import OutboxNotice, Person, Ticket, TicketMessage
from tests.desk.support import staff
from tests.support.talk import count, onboard, one, texts

SITI = 5001


async def asker(person, uid: int = SITI, lang: str = "en"):
    chat = person(uid)
    await onboard(chat, lang=lang)  # Kota Surabaya, Jawa Timur
    return chat


async def ask(chat, question: str = "Bagaimana cara daftar koperasi di desa saya?") -> str:
    await chat.send("/menu")
    await chat.press("Ask a staff member")
    return texts(await chat.send(question))


def voice_message(chat, file_id: str = "AwACAgUAAxkBAAIBvoice", seconds: int = 42):
    voice = Voice(file_id=file_id, file_unique_id="u" + file_id[-6:], duration=seconds)
    return chat._message(voice=voice)


async def test_a_question_goes_to_the_regencys_staff_and_the_answer_comes_back(app, person) -> None:
    office = await staff(app, person, 8601, regions=["35.78"])
    siti = await asker(person)
    said = await ask(siti)
    ticket = await one(app, Ticket)
    assert f"question #{ticket.id}" in said
    assert (ticket.queue_region, ticket.status, ticket.regency_code) == ("35.78", "new", "35.78")
    assert (await app.notices.work()).sent == 1  # the regency's staff member is told
    assert f"New question #{ticket.id} from Kota Surabaya" in texts(office.replies())

    listed = texts(await office.send("/tiket"))
    assert "Questions from returnees" in listed and f"#{ticket.id} Siti Aminah" in " ".join(
        office.buttons()
    )
    card = texts(await office.press(f"#{ticket.id}"))
    assert "Siti Aminah" in card and "Kota Surabaya" in card and "cara daftar koperasi" in card
    assert "NIK" not in card and "7890" not in card  # never the NIK or the phone
    await office.press("Reply")
    sent = texts(await office.send("Datang ke kantor desa hari Senin, bawa KTP."))
    assert f"Sent to the person (question #{ticket.id})" in sent
    assert (await app.notices.work()).sent == 1
    answer = texts(siti.replies())
    assert f"An answer to your question #{ticket.id}" in answer
    assert "Datang ke kantor desa hari Senin" in answer
    ticket = await one(app, Ticket)
    assert ticket.status == "waiting" and ticket.first_answered_at is not None

    # the person's next message joins the same ticket, and the office owes an answer again
    said = texts(await siti.send("Terima kasih, jam berapa kantornya buka?"))
    assert f"Added to your question #{ticket.id}" in said
    ticket = await one(app, Ticket)
    assert ticket.status == "open" and ticket.waiting_since is not None
    assert await count(app, TicketMessage, TicketMessage.ticket_id == ticket.id) == 3

    await office.send("/tiket")
    await office.press("Mine")
    await office.press(f"#{ticket.id}")
    await office.press("Close")
    assert (await one(app, Ticket)).status == "closed"
    await app.notices.work()
    assert "Was the answer helpful?" in texts(siti.replies())
    await siti.press("👍")
    assert (await one(app, Ticket)).rating == 5

    # after closing, a new message is a new question
    await siti.send("/tanya")
    await siti.send("Satu lagi: pelatihan menjahit ada kapan?")
    assert await count(app, Ticket) == 2


async def test_without_regency_staff_the_province_then_the_national_office_gets_it(
    app, person
) -> None:
    await staff(app, person, 8602, regions=["35"])
    siti = await asker(person)
    await ask(siti)
    assert (await one(app, Ticket)).queue_region == "35"
    budi = await asker(person, 5002)
    # Budi moves to Bali, where nobody is assigned: the national office
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Person)
            .where(Person.telegram_id == 5002)
            .values(province_code="51", regency_code="51.71")
        )
    await ask(budi)
    tickets = {t.regency_code: t.queue_region for t in await all_tickets(app)}
    assert tickets == {"35.78": "35", "51.71": None}


async def all_tickets(app) -> list[Ticket]:
    async with app.sessionmaker() as session:
        return list(await session.scalars(select(Ticket).order_by(Ticket.id)))


async def test_a_voice_note_is_kept_by_its_file_id_and_staff_can_play_it(app, person) -> None:
    office = await staff(app, person, 8603, regions=["35.78"])
    siti = await asker(person)
    await siti.send("/tanya")
    said = texts(await siti.feed(message=voice_message(siti)))
    assert "question #" in said
    message = await one(app, TicketMessage)
    assert (message.voice_file_id, message.voice_seconds, message.text) == (
        "AwACAgUAAxkBAAIBvoice",
        42,
        None,
    )
    ticket = await one(app, Ticket)
    await office.press_data(TicketCB(act="open", id=ticket.id).pack())
    calls = await office.press("🎤")
    played = [c for c in calls if isinstance(c, SendVoice)]
    assert [c.voice for c in played] == ["AwACAgUAAxkBAAIBvoice"]
    assert played[0].protect_content is True  # never forwarded on from the staff's chat


async def test_a_voice_note_without_an_open_question_offers_the_button(app, person) -> None:
    siti = await asker(person)
    said = texts(await siti.feed(message=voice_message(siti)))
    assert "I cannot listen to voice notes myself" in said
    assert "Ask a staff member" in " ".join(siti.buttons())
    assert await count(app, Ticket) == 0


async def test_stickers_photos_and_huge_texts_get_a_friendly_word_and_change_nothing(
    app, person
) -> None:
    siti = await asker(person)
    await siti.send("/tanya")
    assert "not stickers, photos or files" in texts(await siti.sticker())
    photo = siti._message(photo=[PhotoSize(file_id="p", file_unique_id="p", width=9, height=9)])
    assert "not stickers, photos or files" in texts(await siti.feed(message=photo))
    assert "too long for one message" in texts(await siti.send("panjang " * 400))
    assert await count(app, Ticket) == 0
    said = texts(await siti.send("Ini pertanyaan saya yang sebenarnya."))  # still waiting
    assert "question #" in said and await count(app, Ticket) == 1


async def test_batal_stops_waiting_and_nothing_is_sent(app, person) -> None:
    siti = await asker(person)
    await siti.send("/tanya")
    assert "Nothing was sent" in texts(await siti.send("/batal"))
    await siti.send("halo")  # now just free text again
    assert await count(app, Ticket) == 0


async def test_not_understood_offers_asking_a_staff_member(app, person) -> None:
    siti = await asker(person)
    said = texts(await siti.send("qwzx blorp"))
    assert "did not understand" in said
    assert "Ask a staff member" in " ".join(siti.buttons())
    await siti.press("Ask a staff member")
    await siti.send("Saya bingung harus mulai dari mana")
    assert await count(app, Ticket) == 1


async def test_the_progress_page_offers_asking_too(app, person) -> None:
    siti = await asker(person)
    await siti.send("/progres")
    assert "Ask a staff member" in " ".join(siti.buttons())


async def test_a_returnee_pressing_staff_buttons_is_refused_and_nothing_changes(
    app, person, caplog
) -> None:
    await staff(app, person, 8604, regions=["35.78"])
    siti = await asker(person)
    await ask(siti)
    ticket = await one(app, Ticket)
    caplog.set_level(logging.WARNING)
    for act in ("open", "take", "reply", "close"):
        said = texts(await siti.press_data(TicketCB(act=act, id=ticket.id).pack()))
        assert "only staff and coordinators" in said, act
    assert "refused" in caplog.text
    assert (await one(app, Ticket)).status == "new"
    said = texts(await siti.send("/tiket"))
    assert "only staff and coordinators" in said


async def test_staff_of_another_region_cannot_see_or_touch_the_ticket(app, person) -> None:
    await staff(app, person, 8605, regions=["35.78"])
    bali = await staff(app, person, 8606, role="coordinator", regions=["51"])
    siti = await asker(person)
    await ask(siti)
    ticket = await one(app, Ticket)
    assert f"#{ticket.id}" not in " ".join(b for b in (await _buttons(bali, "/tiket")))
    for act in ("open", "take", "reply", "close"):
        said = texts(await bali.press_data(TicketCB(act=act, id=ticket.id).pack()))
        assert "outside your regions" in said, act
    message = await one(app, TicketMessage)
    said = texts(await bali.press_data(TicketCB(act="voice", id=message.id).pack()))
    assert "outside your regions" in said
    ticket = await one(app, Ticket)
    assert (ticket.status, ticket.assignee_id) == ("new", None)


async def _buttons(chat, command: str) -> list[str]:
    await chat.send(command)
    return chat.buttons()


async def test_a_rating_pressed_by_someone_else_or_before_closing_counts_for_nothing(
    app, person
) -> None:
    await staff(app, person, 8607, regions=["35.78"])
    siti = await asker(person)
    await ask(siti)
    ticket = await one(app, Ticket)
    budi = await asker(person, 5003)
    for chat in (siti, budi):  # not closed yet / not hers
        said = texts(await chat.press_data(AskCB(act="rate", id=ticket.id, v=5).pack()))
        assert "no longer works" in said
    assert (await one(app, Ticket)).rating is None


async def test_the_staff_reply_after_the_role_is_revoked_is_refused(app, person) -> None:
    office = await staff(app, person, 8608, regions=["35.78"])
    siti = await asker(person)
    await ask(siti)
    ticket = await one(app, Ticket)
    await office.press_data(TicketCB(act="reply", id=ticket.id).pack())
    from tests.desk.support import make_role

    await make_role(app, 8608, "returnee")
    said = texts(await office.send("Ini jawaban saya"))
    assert "cannot do that" in said
    assert await count(app, OutboxNotice, OutboxNotice.message == "tickets.reply") == 0
    assert await count(app, TicketMessage, TicketMessage.kind == "reply") == 0


async def test_my_data_lists_the_questions_and_delete_removes_their_content(app, person) -> None:
    office = await staff(app, person, 8609, regions=["35.78"])
    siti = await asker(person)
    await ask(siti, "Pertanyaan rahasia tentang tabungan saya")
    ticket = await one(app, Ticket)
    await office.press_data(TicketCB(act="reply", id=ticket.id).pack())
    await office.send("Jawaban untuk Siti")
    shown = texts(await siti.send("/datasaya"))
    assert f"Question #{ticket.id}" in shown and "Pertanyaan rahasia tentang tabungan" in shown
    assert "Jawaban untuk Siti" in shown
    await siti.send("/hapusdata")
    await siti.press("Yes, delete")
    ticket = await one(app, Ticket)
    assert ticket.person_id is None
    async with app.sessionmaker() as session:
        kept = list(await session.scalars(select(TicketMessage.text)))
    assert kept and all(text == "" for text in kept)
    # the reply queued before the deletion is never sent: its text is gone
    since = len(app.bot.session.calls)
    await app.notices.work()
    assert not [c for c in app.bot.session.calls[since:] if isinstance(c, SendMessage)
                and c.chat_id == SITI and "Jawaban untuk Siti" in (c.text or "")]  # fmt: skip


class Statements:
    """The SQL statements the bot's updates run (their transactions' engine: on SQLite the
    held writer connection, not the app's engine)."""

    def __init__(self, app) -> None:
        self.engine = app.dp["transactions"].engine.sync_engine
        self.seen: list[str] = []

    def _record(self, conn, cursor, statement, *args) -> None:
        self.seen.append(" ".join(statement.split()))

    async def of(self, act) -> tuple[object, list[str]]:
        self.seen = []
        event.listen(self.engine, "before_cursor_execute", self._record)
        try:
            done = await act
        finally:
            event.remove(self.engine, "before_cursor_execute", self._record)
        return done, self.seen


async def test_free_text_asks_the_help_desk_nothing_of_its_own(app, person) -> None:
    """Whether the bot waits for this person's question and whether they have an open ticket
    come with the person's own query: a free text runs the statements a menu press runs, none
    more (bench/intents.py: free text within 20% of a press)."""
    siti = await asker(person)
    sql = Statements(app)
    said, typed = await sql.of(siti.send("mau pinjam 25 jt buat warung"))
    assert "Did you mean" in texts(said)
    _, pressed = await sql.of(siti.press("Menu"))
    assert len(typed) == len(pressed), typed
    assert not [s for s in typed if "ticket" in s and "people" not in s], typed


async def test_a_question_waited_for_holds_thirty_minutes_and_no_longer(app, person) -> None:
    siti = await asker(person)
    pressed = clock.now()
    clock.set_clock(lambda: pressed)  # stopped (the known_day fixture restarts it after)
    await siti.send("/menu")
    await siti.press("Ask a staff member")
    clock.set_clock(lambda: pressed + WAIT)
    said = texts(await siti.send("mau pinjam 25 jt buat warung"))
    assert "Did you mean" in said and await count(app, Ticket) == 0
    await siti.send("/menu")
    await siti.press("Ask a staff member")
    clock.set_clock(lambda: pressed + 2 * WAIT - timedelta(seconds=1))
    said = texts(await siti.send("Kapan kantor dinas buka?"))
    assert "Sent to the office as question #" in said and await count(app, Ticket) == 1


async def test_a_person_read_another_way_has_the_desk_state_looked_up(app, person) -> None:
    """The filters read the desk state the update's own query brought; given a person read
    some other way (no such state), they ask the database and agree with it."""
    siti = await asker(person)
    text = siti._message(text="Kapan kantor dinas buka?")

    async def filtered(session, found: Person):
        return await Waiting()(text, session, found), await FollowUp()(text, session, found)

    async with app.sessionmaker() as session:
        plain = await session.scalar(select(Person).where(Person.telegram_id == SITI))
        assert repo.desk_state(plain) is None
        assert await filtered(session, plain) == (False, False)
    await ask(siti)  # a question opens a ticket; then "Ask" again: the bot waits once more
    await siti.send("/menu")
    await siti.press("Ask a staff member")
    ticket = await one(app, Ticket)
    async with app.sessionmaker() as session:
        plain = await session.scalar(select(Person).where(Person.telegram_id == SITI))
        waiting, following = await filtered(session, plain)
        assert waiting["wait"].kind == "ask" and following == {"ticket_id": ticket.id}
        read, _run = await repo.person_and_active_run(session, telegram_id=SITI)
        state = repo.desk_state(read)
        assert (state.wait.kind, state.open_ticket_id) == ("ask", ticket.id)
