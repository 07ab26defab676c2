"""Training: the list near the person, seats and waitlist, coordinators adding and editing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.handlers.training import TrainingCB
from bot.offline import OfflineChat
from storage import trainings
from storage.models import (
    FlowRun,
    Person,
    RegistrationStatus,
    Submission,
    SubmissionKind,
    Training,
    TrainingRegistration,
)
from tests.conftest import ADMIN_ID
from tests.support.talk import count, onboard, one, restarted, texts

START = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # 09:00 WIB, 11:00 WIT


async def add(app, **fields) -> int:
    values = {
        "title": "Selling online",
        "organiser": "Disnaker Surabaya",
        "topic": "digital",
        "starts_at": START,
        "ends_at": START + timedelta(hours=3),
        "place": "BLK Surabaya",
        "province_code": "35",
        "regency_code": "35.78",
        "seats": 10,
        **fields,
    }
    async with app.sessionmaker() as session, session.begin():
        training = Training(**values)
        session.add(training)
        await session.flush()
        return training.id


async def set_person(app, user_id: int, **fields) -> None:
    async with app.sessionmaker() as session, session.begin():
        await session.execute(update(Person).where(Person.telegram_id == user_id).values(**fields))


async def person_id(app, user_id: int) -> int:
    return (await one(app, Person, Person.telegram_id == user_id)).id


async def open_list(chat) -> str:
    await chat.send("/menu")
    return texts(await chat.press("Training"))


def cb(act: str, id: int = 0, **kw) -> str:
    return TrainingCB(act=act, id=id, **kw).pack()


async def test_list_shows_the_persons_region_and_filters_by_topic(app, person) -> None:
    await add(app, title="Surabaya digital")
    await add(app, title="Jawa Timur finance", topic="finance", regency_code=None)
    await add(app, title="Online finance", topic="finance", province_code=None, regency_code=None)
    await add(app, title="Semarang digital", province_code="33", regency_code="33.74")
    await add(app, title="Malang digital", regency_code="35.07")
    await add(app, title="Cancelled one", cancelled=True)
    await add(app, title="Already past", starts_at=datetime(2020, 1, 1, tzinfo=UTC))
    chat = person(8001)
    await onboard(chat, lang="en")
    shown = await open_list(chat)
    for title in ("Surabaya digital", "Jawa Timur finance", "Online finance"):
        assert title in shown
    for title in ("Semarang digital", "Malang digital", "Cancelled one", "Already past"):
        assert title not in shown
    assert "Seats left: 10" in shown and "Organiser: Disnaker Surabaya" in shown
    shown = texts(await chat.press("Financial literacy"))
    assert "Jawa Timur finance" in shown and "Online finance" in shown
    assert "Surabaya digital" not in shown
    # another region: Jawa Tengah shows Semarang's session and the online one
    await chat.press("All topics")
    await chat.press("Another region")
    shown = texts(await chat.press("Jawa Tengah"))
    assert "Semarang digital" in shown and "Online finance" in shown
    assert "Surabaya digital" not in shown


async def test_times_are_shown_in_the_persons_own_zone(app, person) -> None:
    await add(app, title="Everyone online", province_code=None, regency_code=None, place=None,
              link="https://zoom.us/j/1")  # fmt: skip
    west, east = person(8101), person(8102)
    await onboard(west, lang="en")
    await onboard(east, lang="en", name="Yohana Wenda")
    await set_person(app, 8102, province_code="91", regency_code="91.03")
    shown_west, shown_east = await open_list(west), await open_list(east)
    assert "9:00" in shown_west and "WIB" in shown_west
    assert "11:00" in shown_east and "WIT" in shown_east
    assert "11:00" not in shown_west.split("Everyone online")[1].split("\n")[2]


async def test_register_until_full_then_waitlist_and_cancel_promotes_the_first(app, person) -> None:
    tid = await add(app, seats=2)
    chats = [person(8200 + i) for i in range(4)]
    for i, chat in enumerate(chats):
        await onboard(chat, lang="en", name=f"Person {'ABCD'[i]}")
    first = chats[0]
    await open_list(first)
    await first.press("Selling online")
    shown = texts(await first.press("Register"))
    assert "You are registered" in shown
    await chats[1].press_data(cb("reg", tid))
    shown = texts(await chats[2].press_data(cb("reg", tid)))
    assert "waitlist, place 1" in shown
    shown = texts(await chats[3].press_data(cb("reg", tid)))
    assert "waitlist, place 2" in shown
    assert await count(app, TrainingRegistration, TrainingRegistration.status == "registered") == 2
    # "my trainings" of the first shows the place with a cancel button
    shown = texts(await first.press("My trainings"))
    assert "Selling online" in shown and "Registered" in shown
    calls = await first.press("Cancel: Selling online")
    assert "cancelled" in texts(calls)
    third_id = await person_id(app, 8202)
    promoted = await one(app, TrainingRegistration, TrainingRegistration.person_id == third_id)
    assert promoted.status == RegistrationStatus.REGISTERED and promoted.promoted_at is not None
    told = [c for c in chats[2].replies() if getattr(c, "chat_id", None) == 8202]
    assert "Good news" in texts(told) and "Selling online" in texts(told)
    shown = texts(await chats[3].press_data(cb("mine")))
    assert "waitlist, place 1" in shown
    # the cancelled person can register again: the session is full, so the waitlist
    shown = texts(await first.press_data(cb("reg", tid)))
    assert "waitlist, place 2" in shown
    assert await count(app, TrainingRegistration) == 4


async def test_a_promoted_person_is_told_in_their_own_language(app, person) -> None:
    tid = await add(app, seats=1)
    en, id_ = person(8301), person(8302)
    await onboard(en, lang="en")
    await onboard(id_, lang="id", name="Budi Santoso")
    await en.press_data(cb("reg", tid))
    await id_.press_data(cb("reg", tid))
    reg = await one(
        app, TrainingRegistration, TrainingRegistration.person_id == await person_id(app, 8301)
    )
    await en.press_data(cb("unreg", reg.id))
    told = [c for c in id_.replies() if type(c).__name__ == "SendMessage"]
    assert told and "Selling online" in texts(told)
    assert (
        await count(
            app, TrainingRegistration, TrainingRegistration.status == RegistrationStatus.REGISTERED
        )
        == 1
    )


async def test_double_tap_registers_once(app, person) -> None:
    tid = await add(app)
    chat = person(8401)
    await onboard(chat, lang="en")
    await chat.press_data(cb("reg", tid))
    shown = texts(await chat.press_data(cb("reg", tid)))
    assert "already registered" in shown
    assert await count(app, TrainingRegistration) == 1


async def test_a_forged_cancel_of_someone_elses_place_changes_nothing(app, person) -> None:
    tid = await add(app)
    owner, other = person(8501), person(8502)
    await onboard(owner, lang="en")
    await onboard(other, lang="en")
    await owner.press_data(cb("reg", tid))
    reg = await one(app, TrainingRegistration)
    shown = texts(await other.press_data(cb("unreg", reg.id)))
    assert "already cancelled" in shown
    assert (await one(app, TrainingRegistration)).status == RegistrationStatus.REGISTERED
    await other.press_data(cb("reg", 99999))
    assert await count(app, TrainingRegistration) == 1


async def test_needs_approval_files_a_submission(app, person) -> None:
    tid = await add(app, needs_approval=True)
    chat = person(8601)
    await onboard(chat, lang="en")
    shown = texts(await chat.press_data(cb("reg", tid)))
    assert "organiser confirms" in shown
    reg = await one(app, TrainingRegistration)
    sub = await one(app, Submission)
    assert sub.kind == SubmissionKind.TRAINING and sub.ref_id == reg.id
    assert sub.answers["training_id"] == tid and sub.answers["title"] == "Selling online"
    assert sub.answers["status"] == "registered"
    # cancelling the place takes the request out of the staff queue
    await chat.press_data(cb("unreg", reg.id))
    assert (await one(app, Submission)).status == "withdrawn"
    assert "withdrawn" in texts(await chat.send("/datasaya"))


async def test_concurrent_last_seat_gives_one_seat_and_one_waitlist_place(app, person) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer; the row lock matters on PostgreSQL")
    tid = await add(app, seats=1)
    async with app.sessionmaker() as session, session.begin():
        people = [Person(telegram_id=8700 + i, role="returnee") for i in range(2)]
        session.add_all(people)
        await session.flush()
        ids = [p.id for p in people]

    holding, second_done = asyncio.Event(), asyncio.Event()

    async def first() -> str:
        async with app.sessionmaker() as session, session.begin():
            outcome = await trainings.register(session, training_id=tid, person_id=ids[0])
            holding.set()
            # keep the transaction open while the second person presses: without the row lock
            # they would count no seat taken and get it too
            try:
                await asyncio.wait_for(second_done.wait(), timeout=0.3)
            except TimeoutError:
                pass
            return outcome.status

    async def second() -> str:
        await holding.wait()
        async with app.sessionmaker() as session, session.begin():
            outcome = await trainings.register(session, training_id=tid, person_id=ids[1])
        second_done.set()
        return outcome.status

    results = await asyncio.gather(first(), second())
    assert sorted(results) == ["registered", "waitlisted"]
    assert await count(app, TrainingRegistration, TrainingRegistration.status == "registered") == 1


async def coordinator(app, person, user_id: int = ADMIN_ID) -> OfflineChat:
    chat = person(user_id)
    await onboard(chat, lang="en", name="Kordinator Satu")
    if user_id != ADMIN_ID:
        await set_person(app, user_id, role="coordinator")
    return chat


async def test_coordinator_adds_a_session_with_a_wrong_answer_at_each_step(app, person) -> None:
    chat = await coordinator(app, person)
    assert "called" in texts(await chat.send("/pelatihan_baru"))
    assert "at least 5" in texts(await chat.send("Hi"))
    await chat.send("Pembukuan untuk warung")
    await chat.sticker()
    await chat.send("Dinas Koperasi Surabaya")
    await chat.choose("finance")
    assert "like 17/08/2026" in texts(await chat.send("sometime"))
    assert "has passed" in texts(await chat.send("01/01/2020"))
    await chat.send("15/01/2027")
    assert "09.00" in texts(await chat.send("25:99"))
    await chat.choose("09.00")
    assert "after the start" in texts(await chat.send("08:00"))
    await chat.send("12.30")
    await chat.choose("online")
    assert "https://" in texts(await chat.send("not a link"))
    await chat.send("https://zoom.us/j/123456")
    await chat.choose("all")
    assert "from 1 to 1000" in texts(await chat.send("0"))
    assert "type" in texts(await chat.sticker()).lower()
    await chat.send("25")
    await chat.choose("no")
    shown = texts(await chat.choose("yes"))
    assert "Saved" in shown
    saved = await one(app, Training)
    assert saved.title == "Pembukuan untuk warung" and saved.topic == "finance"
    assert saved.starts_at == datetime(2027, 1, 15, 2, 0, tzinfo=UTC)  # 09:00 WIB
    assert saved.ends_at == datetime(2027, 1, 15, 5, 30, tzinfo=UTC)
    assert saved.link == "https://zoom.us/j/123456" and saved.place is None
    assert saved.province_code is None and saved.seats == 25 and not saved.needs_approval
    assert saved.created_by == await person_id(app, ADMIN_ID)


async def test_a_coordinator_whose_role_is_revoked_mid_flow_saves_nothing(app, person) -> None:
    chat = await coordinator(app, person, 8805)
    await chat.send("/pelatihan_baru")
    for answer in ("Pembukuan untuk warung", "Dinas Koperasi Surabaya"):
        await chat.send(answer)
    await chat.choose("finance")
    await chat.send("15/01/2027")
    await chat.choose("09.00")
    await chat.send("12.30")
    await chat.choose("online")
    await chat.send("https://zoom.us/j/123456")
    await chat.choose("all")
    await chat.send("25")
    await chat.choose("no")
    await set_person(app, 8805, role="returnee")
    assert "only coordinators" in texts(await chat.choose("yes"))
    assert await count(app, Training) == 0


async def test_a_coordinator_in_wit_enters_times_in_their_own_zone(app, person) -> None:
    chat = await coordinator(app, person, 8801)
    await set_person(app, 8801, province_code="91", regency_code="91.03")
    await chat.send("/pelatihan_baru")
    for answer in ("Menjahit dasar", "BLK Jayapura"):
        await chat.send(answer)
    await chat.choose("vocational")
    await chat.send("15/01/2027")
    await chat.choose("09.00")
    await chat.choose("12.00")
    await chat.choose("place")
    await chat.send("BLK Jayapura, Jl. Raya Sentani")
    await chat.choose("91.03")
    await chat.send("10")
    await chat.choose("yes")
    await chat.choose("yes")
    saved = await one(app, Training)
    assert saved.starts_at == datetime(2027, 1, 15, 0, 0, tzinfo=UTC)  # 09:00 WIT
    assert saved.regency_code == "91.03" and saved.province_code == "91" and saved.needs_approval


async def test_coordinator_edits_a_session_and_more_seats_promote_the_waitlist(app, person) -> None:
    tid = await add(app, seats=1)
    guests = [person(8900 + i) for i in range(2)]
    for chat in guests:
        await onboard(chat, lang="en")
        await chat.press_data(cb("reg", tid))
    chat = await coordinator(app, person, 8990)
    await open_list(chat)
    await chat.press("Selling online")
    shown = texts(await chat.press("Edit"))
    assert "Selling online" in shown  # the current title, to keep
    await chat.press("Selling online")  # keep the title
    await chat.send("Disnaker Kota Surabaya")
    await chat.choose("digital")
    await chat.send("20/01/2027")
    await chat.choose("10.00")
    await chat.choose("13.00")
    await chat.choose("place")
    await chat.press("BLK Surabaya")  # keep the place
    await chat.choose("35.78")
    await chat.send("3")
    await chat.choose("no")
    shown = texts(await chat.choose("yes"))
    assert "Changes saved" in shown and "got a seat" in shown
    saved = await one(app, Training)
    assert saved.title == "Selling online" and saved.organiser == "Disnaker Kota Surabaya"
    assert saved.place == "BLK Surabaya" and saved.seats == 3
    assert saved.starts_at == datetime(2027, 1, 20, 3, 0, tzinfo=UTC)
    assert await count(app, TrainingRegistration, TrainingRegistration.status == "registered") == 2
    told = [c for c in guests[1].replies() if getattr(c, "chat_id", None) == 8901]
    assert "Good news" in texts(told)


async def test_fewer_seats_than_registered_keeps_the_registrations(app, person) -> None:
    tid = await add(app, seats=3)
    for i in range(3):
        guest = person(9000 + i)
        await onboard(guest, lang="en")
        await guest.press_data(cb("reg", tid))
    chat = await coordinator(app, person)
    await chat.press_data(cb("edit", tid))
    await chat.press("Selling online")
    await chat.press("Disnaker Surabaya")
    await chat.choose("digital")
    await chat.send("10/01/2027")
    await chat.choose("09.00")
    await chat.choose("12.00")
    await chat.choose("place")
    await chat.press("BLK Surabaya")
    await chat.choose("35.78")
    await chat.send("1")
    await chat.choose("no")
    shown = texts(await chat.choose("yes"))
    assert "3 people are already registered" in shown
    assert await count(app, TrainingRegistration, TrainingRegistration.status == "registered") == 3


async def test_coordinator_cancels_a_session_and_registered_people_are_told(app, person) -> None:
    tid = await add(app)
    guest = person(9101)
    await onboard(guest, lang="en")
    await guest.press_data(cb("reg", tid))
    chat = await coordinator(app, person)
    await chat.press_data(cb("show", tid))
    await chat.press("Cancel session")
    shown = texts(await chat.press("Yes, cancel the session"))
    assert "1 people were told" in shown
    assert (await one(app, Training)).cancelled
    told = [c for c in guest.replies() if getattr(c, "chat_id", None) == 9101]
    assert "cancelled" in texts(told) and "Selling online" in texts(told)
    assert (await one(app, TrainingRegistration)).status == RegistrationStatus.CANCELLED


async def test_a_returnee_cannot_use_coordinator_commands_or_buttons(app, person) -> None:
    tid = await add(app)
    chat = person(9201)
    await onboard(chat, lang="en")
    runs = await count(app, FlowRun)
    shown = await open_list(chat)
    assert "New session" not in chat.buttons() and "Selling online" in shown
    assert "only coordinators" in texts(await chat.send("/pelatihan_baru"))
    for act in ("new", "edit", "drop", "dropok"):
        assert "only coordinators" in texts(await chat.press_data(cb(act, tid)))
    assert await count(app, FlowRun) == runs
    saved = await one(app, Training)
    assert not saved.cancelled and saved.title == "Selling online"
    await chat.press_data(cb("show", tid))
    assert not any("Edit" in b for b in chat.buttons())


async def test_a_coordinator_sees_the_new_session_button(app, person) -> None:
    chat = await coordinator(app, person, 9301)
    await open_list(chat)
    assert any("New session" in b for b in chat.buttons())
    assert "called" in texts(await chat.press("New session"))


async def test_a_restart_in_the_middle_of_adding_resumes_at_the_same_step(app, person) -> None:
    chat = await coordinator(app, person)
    await chat.send("/pelatihan_baru")
    await chat.send("Pembukuan untuk warung")
    await chat.send("Dinas Koperasi Surabaya")
    before = await one(app, FlowRun, FlowRun.flow == "training_edit")
    assert before.step == "topic"
    await app.close()
    second = restarted(app)
    try:
        again = OfflineChat(second.bot, second.dp, second.bot.session, ADMIN_ID)  # type: ignore[arg-type]
        await again.send("/start")
        shown = texts(await again.press("Continue"))
        assert "What is it about?" in shown
        await again.choose("finance")
        run = await one(second, FlowRun, FlowRun.flow == "training_edit")
        assert run.id == before.id and run.step == "date"
        assert run.answers["title"] == "Pembukuan untuk warung"
    finally:
        await second.close()


async def test_progress_lists_registrations_with_the_next_step(app, person) -> None:
    tid = await add(app, seats=1)
    other = await add(app, title="Bookkeeping", seats=1)
    chat, rival = person(9401), person(9402)
    await onboard(chat, lang="en")
    await onboard(rival, lang="en")
    await rival.press_data(cb("reg", other))
    await chat.press_data(cb("reg", tid))
    await chat.press_data(cb("reg", other))
    shown = texts(await chat.send("/progres"))
    assert "Selling online: registered" in shown
    assert "Bookkeeping: on the waitlist, place 1" in shown
    assert any("My trainings" in b for b in chat.buttons())
