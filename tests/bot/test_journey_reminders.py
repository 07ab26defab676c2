"""Reminders the journeys create: a training seat, the founding meeting, the bank visit and the
KUR document list. Created when the step is saved, moved when the date changes, cancelled when
the step is done; sent by a tick in the person's own language and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import select, update

from bot.handlers.kur import LoanCB
from bot.handlers.training import TrainingCB
from flows import clock
from flows import kur as flow
from flows.content import kur as facts
from storage.models import (
    Loan,
    Person,
    Reminder,
    ReminderStatus,
    Training,
    TrainingRegistration,
)
from tests.bot.test_coop_found import onboard_in_mataram, start_plan
from tests.bot.test_kur import answer_readiness, onboard_in_papua
from tests.conftest import ADMIN_ID
from tests.support.talk import onboard, one, texts

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 WIB
PENDING, CANCELLED, SENT = (
    ReminderStatus.PENDING.value,
    ReminderStatus.CANCELLED.value,
    ReminderStatus.SENT.value,
)


@pytest.fixture
def now(known_day) -> list[datetime]:  # noqa: ARG001 - after the tests' ticking clock
    """A fixed clock, as a one-element list a test moves forward."""
    moment = [NOW]
    clock.set_clock(lambda: moment[0])
    return moment


async def rows(app, prefix: str = "") -> dict[str, Reminder]:
    async with app.sessionmaker() as session:
        found = await session.scalars(
            select(Reminder).where(Reminder.dedupe_key.startswith(prefix)).order_by(Reminder.id)
        )
        return {r.dedupe_key: r for r in found}


def due(found: dict[str, Reminder]) -> dict[str, tuple[str, datetime]]:
    return {k: (r.status, r.due_at) for k, r in found.items()}


def sent_to(app, chat_id: int) -> list[SendMessage]:
    return [c for c in app.bot.session.calls if isinstance(c, SendMessage) and c.chat_id == chat_id]


async def set_person(app, user_id: int, **fields) -> None:
    async with app.sessionmaker() as session, session.begin():
        await session.execute(update(Person).where(Person.telegram_id == user_id).values(**fields))


async def pid(app, user_id: int) -> int:
    return (await one(app, Person, Person.telegram_id == user_id)).id


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- training ------------------------------------------------------------------------------

START = utc(2027, 1, 10, 1, 30)  # 08:30 WIB, 10:30 WIT


async def add_training(app, **fields) -> int:
    values = {
        "title": "Selling online",
        "organiser": "Disnaker Surabaya",
        "topic": "digital",
        "starts_at": START,
        "ends_at": START + timedelta(hours=3),
        "place": "BLK Surabaya",
        "province_code": None,
        "regency_code": None,
        "seats": 10,
        **fields,
    }
    async with app.sessionmaker() as session, session.begin():
        training = Training(**values)
        session.add(training)
        await session.flush()
        return training.id


def tcb(act: str, id: int = 0) -> str:
    return TrainingCB(act=act, id=id).pack()


async def reg_id(app, user_id: int) -> int:
    person_id = await pid(app, user_id)
    return (await one(app, TrainingRegistration, TrainingRegistration.person_id == person_id)).id


async def test_a_seat_gets_two_reminders_in_the_persons_zone_and_a_cancel_drops_them(
    app, person, now
) -> None:
    tid = await add_training(app)
    west, east = person(8001), person(8002)
    await onboard(west, lang="en")
    await onboard(east, lang="en", name="Yohana Wenda")
    await set_person(app, 8002, province_code="91", regency_code="91.03")
    await west.press_data(tcb("reg", tid))
    await west.press_data(tcb("reg", tid))  # a double tap: still one row per reminder
    await east.press_data(tcb("reg", tid))
    w, e = await reg_id(app, 8001), await reg_id(app, 8002)
    assert due(await rows(app)) == {
        # 08:30 WIB the day before; two hours before is 06:30, at night: 07:00 WIB instead
        f"training:{w}:day": (PENDING, utc(2027, 1, 9, 1, 30)),
        f"training:{w}:soon": (PENDING, utc(2027, 1, 10, 0, 0)),
        # 10:30 WIT: the day before, and 08:30 WIT on the day
        f"training:{e}:day": (PENDING, utc(2027, 1, 9, 1, 30)),
        f"training:{e}:soon": (PENDING, utc(2027, 1, 9, 23, 30)),
    }
    found = await rows(app, f"training:{w}:")
    assert found[f"training:{w}:day"].kind == "training_day_before"
    assert found[f"training:{w}:soon"].kind == "training_soon"
    assert found[f"training:{w}:day"].payload == {
        "title": "Selling online",
        "at": START.isoformat(),
        "where": "BLK Surabaya",
    }
    await east.press_data(tcb("unreg", e))
    assert {r.status for r in (await rows(app, f"training:{e}:")).values()} == {CANCELLED}
    assert {r.status for r in (await rows(app, f"training:{w}:")).values()} == {PENDING}


async def test_a_start_too_early_for_two_hours_before_has_only_the_day_before(
    app, person, now
) -> None:
    tid = await add_training(app, starts_at=utc(2027, 1, 10, 0, 0))  # 07:00 WIB
    chat = person(8003)
    await onboard(chat, lang="en")
    await chat.press_data(tcb("reg", tid))
    r = await reg_id(app, 8003)
    found = due(await rows(app))
    assert found[f"training:{r}:day"] == (PENDING, utc(2027, 1, 9, 0, 0))
    assert found.get(f"training:{r}:soon", (CANCELLED,))[0] == CANCELLED


async def test_the_waitlist_gets_none_until_promoted_then_an_edit_moves_and_a_cancel_drops(
    app, person, now
) -> None:
    tid = await add_training(app, seats=1)
    first, second = person(8011), person(8012)
    await onboard(first, lang="en")
    await onboard(second, lang="en")
    await first.press_data(tcb("reg", tid))
    await second.press_data(tcb("reg", tid))  # waitlisted
    a, b = await reg_id(app, 8011), await reg_id(app, 8012)
    assert set(await rows(app)) == {f"training:{a}:day", f"training:{a}:soon"}
    await first.press_data(tcb("unreg", a))  # the seat goes to the second
    assert due(await rows(app, f"training:{b}:")) == {
        f"training:{b}:day": (PENDING, utc(2027, 1, 9, 1, 30)),
        f"training:{b}:soon": (PENDING, utc(2027, 1, 10, 0, 0)),
    }
    assert {r.status for r in (await rows(app, f"training:{a}:")).values()} == {CANCELLED}

    # a coordinator moves the session to 20/01/2027 10:00 WIB (03:00 UTC) and to an online link
    boss = person(ADMIN_ID)
    await onboard(boss, lang="en", name="Kordinator Satu")
    await boss.press_data(tcb("show", tid))
    await boss.press("Edit")
    await boss.press("Selling online")  # keep the title
    await boss.send("Disnaker Kota Surabaya")
    await boss.choose("digital")
    await boss.send("20/01/2027")
    await boss.choose("10.00")
    await boss.choose("13.00")
    await boss.choose("online")
    await boss.send("https://zoom.us/j/42")
    await boss.choose("all")
    await boss.send("1")
    await boss.choose("no")
    assert "Changes saved" in texts(await boss.choose("yes"))
    moved = await rows(app, f"training:{b}:")
    assert due(moved) == {
        f"training:{b}:day": (PENDING, utc(2027, 1, 19, 3, 0)),
        f"training:{b}:soon": (PENDING, utc(2027, 1, 20, 1, 0)),
    }
    assert moved[f"training:{b}:day"].payload["where"] == "https://zoom.us/j/42"
    assert moved[f"training:{b}:day"].payload["at"] == utc(2027, 1, 20, 3, 0).isoformat()

    await boss.press_data(tcb("show", tid))
    await boss.press("Cancel session")
    await boss.press("Yes, cancel the session")
    assert {r.status for r in (await rows(app)).values()} == {CANCELLED}


async def test_a_tick_sends_training_reminders_in_each_persons_language(app, person, now) -> None:
    tid = await add_training(app)
    english, indonesian = person(8021), person(8022)
    await onboard(english, lang="en")
    await onboard(indonesian, lang="id", name="Budi Santoso")
    await english.press_data(tcb("reg", tid))
    await indonesian.press_data(tcb("reg", tid))
    before = len(sent_to(app, 8021)), len(sent_to(app, 8022))
    now[0] = utc(2027, 1, 9, 1, 30)
    report = await app.ticker.tick()
    assert (report.claimed, report.sent) == (2, 2)
    (en,) = sent_to(app, 8021)[before[0] :]
    (id_,) = sent_to(app, 8022)[before[1] :]
    assert "Selling online" in en.text and "tomorrow" in en.text and "WIB" in en.text
    assert "BLK Surabaya" in en.text and "8:30" in en.text
    assert "Selling online" in id_.text and "besok" in id_.text
    assert (await app.ticker.tick()).claimed == 0  # nothing twice
    now[0] = utc(2027, 1, 10, 0, 0)
    assert (await app.ticker.tick()).sent == 2
    # two hours before 08.30 is at night: held until 07.00, and worded for 07.00
    assert "starts in 1 hour 30 minutes" in sent_to(app, 8021)[-1].text


# --- the founding meeting ----------------------------------------------------------------------

FOUNDER = 8100


async def set_meeting(founder, date: str, time: str) -> None:
    await founder.press("Set the meeting date")
    await founder.send(date)
    await founder.send(time)


async def test_every_founder_is_reminded_and_held_cancels_and_unheld_reschedules(
    app, person, now
) -> None:
    founder = person(FOUNDER)
    await onboard_in_mataram(founder)  # WITA
    plan = await start_plan(app, founder)
    early = person(FOUNDER + 1)
    await onboard(early, lang="en", name="Ani Purnama")  # WIB, joins before the date is set
    await early.send(f"/start f-{plan.code}")
    await early.press("Join as founder")
    assert await rows(app) == {}

    # 06:30 WITA on 10/01/2027 (2027-01-09 22:30 UTC)
    await set_meeting(founder, "10/01/2027", "06.30")
    f, a = await pid(app, FOUNDER), await pid(app, FOUNDER + 1)
    p = f"meeting:{plan.id}:"
    assert due(await rows(app)) == {
        # 06:30 WITA is night in Mataram: 07:00 WITA instead
        f"{p}{f}:3d": (PENDING, utc(2027, 1, 6, 23, 0)),
        f"{p}{f}:1d": (PENDING, utc(2027, 1, 8, 23, 0)),
        # 05:30 WIB in Surabaya, night too: 07:00 WIB
        f"{p}{a}:3d": (PENDING, utc(2027, 1, 7, 0, 0)),
        f"{p}{a}:1d": (PENDING, utc(2027, 1, 9, 0, 0)),
    }
    assert (await rows(app))[f"{p}{f}:3d"].payload == {
        "name": "Koperasi Purna Migran Mataram",
        "at": utc(2027, 1, 9, 22, 30).isoformat(),
    }
    assert (await rows(app))[f"{p}{f}:1d"].kind == "meeting_1_day"

    # a co-founder in Papua (WIT) joins after the date was set: 07:30 WIT, not at night
    late = person(FOUNDER + 2)
    await onboard_in_papua(late)
    await late.send(f"/start f-{plan.code}")
    await late.press("Join as founder")
    await late.press_data(f"co:fj:0::{plan.code}:0")  # a double tap
    w = await pid(app, FOUNDER + 2)
    assert due(await rows(app, f"{p}{w}:")) == {
        f"{p}{w}:3d": (PENDING, utc(2027, 1, 6, 22, 30)),
        f"{p}{w}:1d": (PENDING, utc(2027, 1, 8, 22, 30)),
    }
    assert len(await rows(app)) == 6

    # the date changes: 12/01/2027 14:00 WITA (06:00 UTC) for everyone
    await founder.send("/menu")
    await founder.press("Cooperative")
    await founder.press("My founding plan")
    await set_meeting(founder, "12/01/2027", "14.00")
    assert due(await rows(app, f"{p}{a}:")) == {
        f"{p}{a}:3d": (PENDING, utc(2027, 1, 9, 6, 0)),
        f"{p}{a}:1d": (PENDING, utc(2027, 1, 11, 6, 0)),
    }
    assert len(await rows(app)) == 6

    await founder.press("Founding meeting held")
    assert {r.status for r in (await rows(app)).values()} == {CANCELLED}
    await founder.press("Founding meeting held")  # unmarked: still to come, so again
    assert {r.status for r in (await rows(app)).values()} == {PENDING}
    assert (await rows(app))[f"{p}{w}:1d"].due_at == utc(2027, 1, 11, 6, 0)

    # three days before, each founder hears it in their language, in their zone
    now[0] = utc(2027, 1, 9, 6, 0)
    assert (await app.ticker.tick()).sent == 3
    text = sent_to(app, FOUNDER + 2)[-1].text
    assert "Koperasi Purna Migran Mataram" in text and "in 3 days" in text
    assert "3:00" in text and "WIT" in text  # 14:00 WITA is 15:00 WIT
    assert "WITA" in sent_to(app, FOUNDER)[-1].text


# --- KUR: the bank visit and the document list ---------------------------------------------------


async def loan_of(app, user_id: int) -> Loan:
    return await one(app, Loan, Loan.person_id == await pid(app, user_id))


async def book(chat, loan_id: int, when: str, time: str) -> None:
    await chat.press_data(LoanCB(act="bank", loan=loan_id).pack())
    await chat.choose("bri")
    await chat.send("BRI Unit Abepura")
    await chat.send(when)
    await chat.send(time)


async def test_the_bank_visit_is_reminded_the_day_before_moved_and_cancelled_by_an_outcome(
    app, person, now
) -> None:
    chat = person(8201)
    await onboard_in_papua(chat)  # WIT
    await chat.press("KUR loan")
    await answer_readiness(chat, amount="40 juta")
    loan = await loan_of(app, 8201)
    key = f"bank:{loan.id}:day"
    await book(chat, loan.id, "15/12/2026", "09.00")  # 09:00 WIT = 00:00 UTC
    found = await rows(app, "bank:")
    assert due(found) == {key: (PENDING, utc(2026, 12, 14, 0, 0))}
    assert found[key].kind == "bank_day_before"
    assert found[key].payload == {
        "bank": "BRI",
        "branch": "BRI Unit Abepura",
        "at": utc(2026, 12, 15, 0, 0).isoformat(),
    }
    await book(chat, loan.id, "16/12/2026", "07.30")  # moved: 07:30 WIT the day before
    assert due(await rows(app, "bank:")) == {key: (PENDING, utc(2026, 12, 14, 22, 30))}
    await book(chat, loan.id, "16/12/2026", "07.30")  # the same again: one row
    assert len(await rows(app, "bank:")) == 1

    now[0] = utc(2026, 12, 14, 22, 30)
    assert (await app.ticker.tick()).sent >= 1
    text = sent_to(app, 8201)[-1].text
    assert "Your visit to BRI, BRI Unit Abepura is tomorrow" in text and "7:30" in text
    assert "WIT" in text

    await book(chat, loan.id, "20/12/2026", "10.00")
    assert (await rows(app, "bank:"))[key].status == PENDING
    await chat.press("Record what happened")
    await chat.press("survey")
    assert (await rows(app, "bank:"))[key].status == CANCELLED


async def test_a_no_from_the_bank_cancels_the_visit_and_document_reminders(
    app, person, now
) -> None:
    chat = person(8202)
    await onboard(chat, lang="en")
    await chat.press("KUR loan")
    await answer_readiness(chat, amount="40 juta")
    loan = await loan_of(app, 8202)
    await book(chat, loan.id, "15/12/2026", "09.00")
    assert {r.status for r in (await rows(app)).values()} == {PENDING}
    await chat.press("Record what happened")
    await chat.press("The bank said no")
    await chat.choose(flow.REASONS[0].value)
    assert {r.status for r in (await rows(app)).values()} == {CANCELLED}


async def test_open_documents_are_reminded_after_three_days_in_the_persons_language(
    app, person, now
) -> None:
    chat = person(8203)
    await onboard(chat, lang="en")
    await chat.press("KUR loan")
    await answer_readiness(chat, amount="40 juta")
    await chat.send("/menu")  # a second loan is never made while one is in progress
    loan = await loan_of(app, 8203)
    found = await rows(app, "docs:")
    assert due(found) == {f"docs:{loan.id}": (PENDING, NOW + timedelta(days=3))}
    assert found[f"docs:{loan.id}"].kind == "documents_open"
    await chat.press_data(LoanCB(act="doc", loan=loan.id, v="ktp", on=1).pack())
    now[0] = NOW + timedelta(days=3)
    assert (await app.ticker.tick()).sent == 1
    note = sent_to(app, 8203)[-1]
    assert "still has 4 of 5 documents" in note.text
    buttons = [b for row in note.reply_markup.inline_keyboard for b in row]
    assert [b.callback_data for b in buttons] == [LoanCB(act="docs", loan=loan.id).pack()]
    replies = await chat.press_data(buttons[0].callback_data)
    assert "1 of 5 ready" in texts(replies)


async def test_ticking_the_last_document_cancels_the_reminder(app, person, now) -> None:
    chat = person(8204)
    await onboard(chat, lang="en")
    await chat.press("KUR loan")
    await answer_readiness(chat, amount="40 juta")
    loan = await loan_of(app, 8204)
    keys = [d.key for d in facts.documents_for(loan.amount, loan.scheme)]
    for doc in keys[:-1]:
        await chat.press_data(LoanCB(act="doc", loan=loan.id, v=doc, on=1).pack())
    assert (await rows(app))[f"docs:{loan.id}"].status == PENDING
    await chat.press_data(LoanCB(act="doc", loan=loan.id, v=keys[-1], on=1).pack())
    assert (await rows(app))[f"docs:{loan.id}"].status == CANCELLED


async def test_the_renderer_drops_the_reminder_when_the_list_is_done_by_sending_time(
    app, person, now
) -> None:
    """Four of five papers ticked, then a new check for a smaller amount drops the NPWP from
    the list: nothing was ticked last, so the row waits, and the tick finds nothing missing."""
    chat = person(8205)
    await onboard(chat, lang="en")
    await chat.press("KUR loan")
    await answer_readiness(chat, amount="60 juta", npwp="yes")
    loan = await loan_of(app, 8205)
    for doc in ("ktp", "kk", "spouse_ktp", "marriage", "permit"):
        await chat.press_data(LoanCB(act="doc", loan=loan.id, v=doc, on=1).pack())
    await chat.press_data(LoanCB(act="new", loan=loan.id).pack())
    await answer_readiness(chat, amount="40 juta")
    loan = await loan_of(app, 8205)
    assert loan.amount == 40_000_000
    assert (await rows(app))[f"docs:{loan.id}"].status == PENDING
    before = len(sent_to(app, 8205))
    now[0] = NOW + timedelta(days=3, hours=1)
    report = await app.ticker.tick()
    assert (report.claimed, report.sent, report.cancelled) == (1, 0, 1)
    assert len(sent_to(app, 8205)) == before
    assert (await rows(app))[f"docs:{loan.id}"].status == CANCELLED


async def test_after_downtime_a_seat_gets_the_true_reminder_or_none_once_it_began(
    app, person, now
) -> None:
    later = await add_training(app)  # 08:30 WIB on 10/01/2027
    early = await add_training(app, title="Jahit", starts_at=utc(2027, 1, 10, 0, 30))  # 07:30
    one_, two = person(8031), person(8032)
    await onboard(one_, lang="en")
    await onboard(two, lang="en", name="Budi Santoso")
    await one_.press_data(tcb("reg", later))
    await two.press_data(tcb("reg", early))
    before = len(sent_to(app, 8031)), len(sent_to(app, 8032))
    now[0] = utc(2027, 1, 10, 1, 0)  # back at 08:00 WIB, down since before the day-before ones
    report = await app.ticker.tick()
    assert (report.claimed, report.sent, report.superseded, report.skipped) == (4, 1, 1, 2)
    (said,) = sent_to(app, 8031)[before[0] :]
    assert "“Selling online” starts in 30 minutes" in said.text
    assert sent_to(app, 8032)[before[1] :] == []  # "Jahit" began at 07:30
    r1, r2 = await reg_id(app, 8031), await reg_id(app, 8032)
    assert {k: r.status for k, r in (await rows(app)).items()} == {
        f"training:{r1}:day": "superseded",
        f"training:{r1}:soon": SENT,
        f"training:{r2}:day": "skipped",
        f"training:{r2}:soon": "skipped",
    }
