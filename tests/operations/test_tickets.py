"""operations/tickets.py: routing (regency, else province, else national), the working-day flag
against a fixed clock (weekends, zones), two staff replying at once (both delivered, in order,
on both backends), housekeeping of voice notes, and deletion."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import insert, select

from flows import clock, office_hours
from operations import desk as outbox
from operations import people
from operations import tickets as ops
from storage import tickets as store
from storage.models import Person, Ticket, TicketMessage
from tests.support.talk import one

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"


def at(day: int, hour: int, minute: int = 0, zone_hours: int = 7) -> datetime:
    """A moment in December 2026 given in local time (WIB +7, WITA +8, WIT +9). 7 December
    2026 is a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) - timedelta(hours=zone_hours)


# --- the working-day flag, a pure function --------------------------------------------------------


def test_a_question_asked_monday_morning_is_late_tuesday_after_the_same_hour() -> None:
    asked = at(7, 10)
    assert not office_hours.overdue(asked, at(8, 9, 59), WIB)
    assert not office_hours.overdue(asked, at(8, 10, 0), WIB)  # exactly a working day
    assert office_hours.overdue(asked, at(8, 10, 1), WIB)


def test_nights_and_weekends_do_not_count() -> None:
    friday_evening = at(11, 19)  # Friday after closing
    assert not office_hours.overdue(friday_evening, at(14, 15, 59), WIB)  # Monday, 8 h minus
    assert office_hours.overdue(friday_evening, at(14, 16, 1), WIB) is False  # closed again
    assert office_hours.overdue(friday_evening, at(15, 8, 1), WIB)  # Tuesday, the next minute
    friday_afternoon = at(11, 14)  # 2 h on Friday, then 6 h on Monday
    assert not office_hours.overdue(friday_afternoon, at(14, 13, 59), WIB)
    assert office_hours.overdue(friday_afternoon, at(14, 14, 1), WIB)
    saturday = at(12, 10)
    assert office_hours.working_time(saturday, at(13, 23), WIB) == timedelta(0)


def test_the_zone_of_the_region_decides_when_the_office_is_open() -> None:
    asked = at(7, 10)  # 10.00 WIB = 11.00 WITA = 12.00 WIT, Monday
    tuesday = at(8, 10, 30)  # 10.30 WIB, 11.30 WITA, 12.30 WIT
    assert office_hours.overdue(asked, tuesday, WIB)
    # In Jayapura the office opened at 08.00 WIT = 06.00 WIB; asked at 12.00 WIT: 4 h on
    # Monday, then from 08.00 WIT Tuesday 4 h more: due at 12.00 WIT = 10.00 WIB.
    assert office_hours.overdue(asked, tuesday, WIT)
    # Asked at 07.00 WIB (09.00 WIT): in WIB the office was still closed
    early = at(7, 7)
    assert office_hours.working_time(early, at(7, 8), WIB) == timedelta(0)
    assert office_hours.working_time(early, at(7, 8), WIT) == timedelta(hours=1)
    # Asked at 15.00 WIB: in WIT (17.00) the office had closed; in WIB one hour is left
    late = at(7, 15)
    assert office_hours.working_time(late, at(7, 18), WIT) == timedelta(0)
    assert office_hours.working_time(late, at(7, 18), WIB) == timedelta(hours=1)
    assert office_hours.working_time(late, at(8, 14), WITA) == timedelta(hours=7)
    assert office_hours.working_time(late, at(8, 14), WIT) == timedelta(hours=8)


def test_nobody_waiting_is_never_late() -> None:
    assert not office_hours.overdue(None, at(31, 12), WIB)


# --- routing -------------------------------------------------------------------------------------


async def add_person(app, tg: int, *, role: str = "returnee", scope=None, regency="35.78") -> int:
    now = clock.now()
    async with app.sessionmaker() as session, session.begin():
        found = await session.execute(
            insert(Person).values(
                telegram_id=tg, name=f"Orang {tg}", province_code=regency[:2],
                regency_code=regency, locale="en", role=role, scope_regions=scope,
                onboarded_at=now, created_at=now, updated_at=now,
            ).returning(Person.id)
        )  # fmt: skip
        return int(found.scalar_one())


async def ask(app, person_id: int, text: str = "Tolong bantu", **kw) -> ops.Done:
    async with app.sessionmaker() as session, session.begin():
        person = await session.get(Person, person_id)
        return await ops.ask(session, person=person, text=text, now=clock.now(), **kw)


@pytest.mark.parametrize(
    ("staff", "expected"),
    [
        ([("35.78",), ("35",), None], ("35.78", "regency", [0])),
        ([("35.79",), ("35",), None], ("35", "province", [1])),
        ([("35.79",), ("36",), None], (None, "national", [2])),
        ([("35.79",), ("36",)], (None, "national", [])),
    ],
)
async def test_routing_falls_back_from_regency_to_province_to_national(
    app, staff, expected
) -> None:
    ids = []
    for i, scope in enumerate(staff):
        ids.append(
            await add_person(app, 9900 + i, role="staff" if i != 1 else "coordinator",
                             scope=list(scope) if scope else None)
        )  # fmt: skip
    asker = await add_person(app, 9990)
    done = await ask(app, asker)
    region, tier, told = expected
    async with app.sessionmaker() as session:
        routing = await ops.route(session, regency="35.78", province="35")
    assert (routing.region, routing.tier) == (region, tier)
    assert sorted(n.to for n in done.notices) == [ids[i] for i in told]
    assert (await one(app, Ticket)).queue_region == region


async def test_the_next_messages_join_the_open_ticket_until_it_is_closed(app) -> None:
    staff = await add_person(app, 9901, role="staff", scope=["35.78"])
    asker = await add_person(app, 9902)
    first = await ask(app, asker)
    again = await ask(app, asker, "Lagi")
    assert first.changed["ticket"] == again.changed["ticket"] and "opened" not in again.changed
    assert again.notices == []  # nobody took it yet: no second ping
    [ticket_id] = first.changed["ticket"]
    async with app.sessionmaker() as session, session.begin():
        assert (await ops.close(session, ticket_id=ticket_id, staff_id=staff,
                                now=clock.now())).ok  # fmt: skip
    third = await ask(app, asker, "Pertanyaan baru")
    assert third.changed["ticket"] != first.changed["ticket"] and "opened" in third.changed


async def test_empty_and_too_long_questions_open_nothing(app) -> None:
    asker = await add_person(app, 9903)
    assert (await ask(app, asker, "   ")).refused == "empty"
    assert (await ask(app, asker, "x" * (ops.QUESTION_MAX + 1))).refused == "too_long"
    assert (await ask(app, asker, None, voice="AwAC", voice_seconds=3)).ok


# --- concurrency ---------------------------------------------------------------------------------


async def test_two_staff_replying_at_once_are_both_delivered_in_order(app) -> None:
    one_ = await add_person(app, 9911, role="staff", scope=["35.78"])
    two = await add_person(app, 9912, role="coordinator", scope=["35.78"])
    asker = await add_person(app, 9913)
    [ticket_id] = (await ask(app, asker)).changed["ticket"]
    await app.notices.work()  # the staff's "new question" pings
    transactions = app.dp["transactions"]

    async def reply(staff_id: int, text: str, hold: float, start: float) -> None:
        await asyncio.sleep(start)
        async with transactions.begin() as connection:
            session = app.sessionmaker(bind=connection)
            now = clock.now()
            done = await ops.reply(session, ticket_id=ticket_id, staff_id=staff_id, text=text,
                                   now=now)  # fmt: skip
            assert done.ok
            await outbox.queue_notices(session, done.notices, now=now)
            await asyncio.sleep(hold)  # the other reply arrives while this one is open

    async def send_meanwhile() -> int:
        await asyncio.sleep(0.15)  # while the first reply's transaction is still open
        return (await app.notices.work()).sent

    *_, early = await asyncio.gather(
        reply(one_, "Jawaban pertama", 0.3, 0.0),
        reply(two, "Jawaban kedua", 0.0, 0.05),
        send_meanwhile(),
    )
    sent = await app.notices.work()
    assert early + sent.sent == 2
    said = [
        c.text for c in app.bot.session.calls if isinstance(c, SendMessage) and c.chat_id == 9913
    ]
    assert len(said) == 2
    assert "Jawaban pertama" in said[0] and "Jawaban kedua" in said[1]
    async with app.sessionmaker() as session:
        replies = list(
            await session.scalars(
                select(TicketMessage.text)
                .where(TicketMessage.kind == "reply")
                .order_by(TicketMessage.id)
            )
        )
    assert replies == ["Jawaban pertama", "Jawaban kedua"]
    ticket = await one(app, Ticket)
    assert (ticket.status, ticket.assignee_id) == ("waiting", one_)


# --- housekeeping and deletion -------------------------------------------------------------------


async def test_housekeeping_flags_late_tickets_and_forgets_voice_notes_after_30_days(app) -> None:
    staff = await add_person(app, 9921, role="staff", scope=["35.78"])
    asker = await add_person(app, 9922)
    papua = await add_person(app, 9923, regency="91.71")  # Jayapura: WIT, national office
    asked = at(7, 10)  # Monday 10.00 WIB
    async with app.sessionmaker() as session, session.begin():
        for who in (asker, papua):
            person = await session.get(Person, who)
            await ops.ask(session, person=person, text="Halo", voice="AwACvoice", voice_seconds=5,
                          now=asked)  # fmt: skip
    async with app.sessionmaker() as session, session.begin():
        done = await ops.housekeeping(session, now=at(8, 9))
    assert done.flagged == 0
    async with app.sessionmaker() as session, session.begin():
        done = await ops.housekeeping(session, now=at(8, 10, 30))  # WIB and WIT both late
    assert done.flagged == 2
    async with app.sessionmaker() as session:  # what the daily digest counts, by scope
        everywhere = await store.digest(session, scope=None)
        east_java = await store.digest(session, scope=["35"])
    assert (everywhere.waiting, everywhere.overdue) == (2, 2)
    assert (east_java.waiting, east_java.overdue) == (1, 1)
    from bot.digest import digest_text
    from storage.reviews import Digest

    with app.i18n.context(), app.i18n.use_locale("en"):
        text = digest_text(Digest(0, 0, 0, 0), days=3, tickets=east_java)
    assert "Questions waiting for an answer: 1, over a working day: 1" in text and "/tiket" in text
    async with app.sessionmaker() as session, session.begin():
        ticket = (await session.scalars(select(Ticket).where(Ticket.person_id == asker))).one()
        await ops.reply(session, ticket_id=ticket.id, staff_id=staff, text="Ok", now=at(8, 11))
        ticket = (await session.scalars(select(Ticket).where(Ticket.person_id == asker))).one()
        assert ticket.flagged_overdue_at is None  # answered: no longer late
        closed = at(8, 12)
        await ops.close(session, ticket_id=ticket.id, staff_id=staff, now=closed)
    async with app.sessionmaker() as session, session.begin():
        done = await ops.housekeeping(session, now=closed + timedelta(days=29))
    assert done.voice_pruned == 0
    async with app.sessionmaker() as session, session.begin():
        done = await ops.housekeeping(session, now=closed + timedelta(days=30, seconds=1))
    assert done.voice_pruned == 1  # the open ticket's voice note stays
    async with app.sessionmaker() as session:
        kept = list(
            await session.scalars(
                select(TicketMessage.voice_file_id).where(TicketMessage.kind == "person")
            )
        )
    assert sorted(kept, key=str) == ["AwACvoice", None]


async def test_deleting_a_person_blanks_their_tickets_and_the_office_keeps_counts(app) -> None:
    staff = await add_person(app, 9931, role="staff", scope=["35.78"])
    asker = await add_person(app, 9932)
    [ticket_id] = (await ask(app, asker, "Rahasia saya")).changed["ticket"]
    async with app.sessionmaker() as session, session.begin():
        await ops.note(session, ticket_id=ticket_id, staff_id=staff, text="Catatan tentang dia",
                       now=clock.now())  # fmt: skip
        await people.delete_person(session, person_id=asker, now=clock.now())
    async with app.sessionmaker() as session:
        texts = list(await session.scalars(select(TicketMessage.text)))
        ticket = await session.get(Ticket, ticket_id)
    assert texts == ["", ""] and ticket is not None and ticket.person_id is None
