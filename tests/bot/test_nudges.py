"""Nudges for a journey left halfway, /pengingat, and the person deciding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.reminders import RemindersCB
from flows import clock
from storage.models import FlowRun, Person, Reminder, ReminderStatus
from tests.support.talk import onboard, one, texts

START = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)  # 10:00 WIB


@pytest.fixture
def now() -> list[datetime]:
    moment = [START]
    clock.set_clock(lambda: moment[0])
    return moment


async def halfway(chat) -> None:
    await onboard(chat, lang="en")
    await chat.send("/menu")
    await chat.press("KUR loan")
    await chat.choose("running6")


async def tick_twice(app) -> int:
    """Plan, then send what the plan made due (a second later)."""
    first = await app.ticker.tick()
    later = clock.now() + timedelta(seconds=2)
    clock.set_clock(lambda: later)
    second = await app.ticker.tick()
    return first.sent + second.sent


def nudges_sent(app, chat) -> list:
    return [
        c
        for c in app.bot.session.calls
        if type(c).__name__ == "SendMessage"
        and c.chat_id == chat.user.id
        and "You stopped at" in (c.text or "")
    ]


async def test_three_nudges_further_apart_then_no_more(app, person, now) -> None:
    chat = person(7701)
    await halfway(chat)
    touched = (await one(app, FlowRun, FlowRun.flow == "kur_readiness")).updated_at
    for days, expected in ((1, 0), (2, 1), (3, 1), (5, 2), (11, 2), (12, 3), (30, 3)):
        clock.set_clock(lambda d=days: touched + timedelta(days=d, minutes=1))
        await tick_twice(app)
        assert len(nudges_sent(app, chat)) == expected, f"after {days} days"
    sent = nudges_sent(app, chat)[0]
    assert "KUR readiness check" in sent.text
    buttons = [b.text for row in sent.reply_markup.inline_keyboard for b in row]
    assert any("Continue" in b for b in buttons) and any("No more" in b for b in buttons)


async def test_a_nudge_continues_exactly_where_the_person_stopped(app, person, now) -> None:
    chat = person(7702)
    await halfway(chat)
    now[0] = START + timedelta(days=2, minutes=1)
    await tick_twice(app)
    (nudge,) = nudges_sent(app, chat)
    data = nudge.reply_markup.inline_keyboard[0][0].callback_data
    shown = texts(await chat.press_data(data))
    assert "What is your business, in a few words?" in shown
    run = await one(app, FlowRun, FlowRun.flow == "kur_readiness")
    assert run.step == "business" and run.status == "active"


async def test_answering_again_starts_the_nudges_over(app, person, now) -> None:
    chat = person(7703)
    await halfway(chat)
    now[0] = START + timedelta(days=2, minutes=1)
    await tick_twice(app)
    assert len(nudges_sent(app, chat)) == 1
    clock.set_clock(lambda: START + timedelta(days=3))
    await chat.send("Warung sembako")  # touched: the old series no longer applies
    clock.set_clock(lambda: START + timedelta(days=4, hours=12))
    await tick_twice(app)
    assert len(nudges_sent(app, chat)) == 1  # only 1.5 days since the last answer
    clock.set_clock(lambda: START + timedelta(days=5, minutes=2))
    await tick_twice(app)
    assert len(nudges_sent(app, chat)) == 2


async def test_turning_nudges_off_from_a_nudge_stops_them(app, person, now) -> None:
    chat = person(7704)
    await halfway(chat)
    now[0] = START + timedelta(days=2, minutes=1)
    await tick_twice(app)
    (nudge,) = nudges_sent(app, chat)
    shown = texts(await chat.press_data(RemindersCB(act="off").pack()))
    assert "Nudges are off" in shown
    assert (await one(app, Person, Person.telegram_id == chat.user.id)).nudges is False
    await chat.press_data(RemindersCB(act="off").pack())  # a double tap changes nothing
    clock.set_clock(lambda: START + timedelta(days=30))
    await tick_twice(app)
    assert len(nudges_sent(app, chat)) == 1
    shown = texts(await chat.send("/pengingat"))
    assert "Nudges are off" in shown and "Turn nudges on" in " ".join(chat.buttons())
    await chat.press("Turn nudges on")
    assert (await one(app, Person, Person.telegram_id == chat.user.id)).nudges is True


async def test_a_nudge_whose_run_was_finished_meanwhile_is_dropped(app, person, now) -> None:
    chat = person(7705)
    await halfway(chat)
    now[0] = START + timedelta(days=2, minutes=1)
    await app.ticker.tick()  # planned, due a second later
    await chat.send("/batal")  # stopped on purpose before it went out
    clock.set_clock(lambda: START + timedelta(days=2, minutes=2))
    report = await app.ticker.tick()
    assert report.sent == 0 and report.cancelled == 1
    async with app.sessionmaker() as session:
        statuses = list(await session.scalars(select(Reminder.status)))
    assert statuses == [ReminderStatus.CANCELLED]


async def test_reminders_page_lists_what_is_coming_in_the_persons_zone(app, person, now) -> None:
    chat = person(7706)
    await onboard(chat, lang="en")
    shown = texts(await chat.send("/pengingat"))
    assert "No reminders are waiting" in shown and "07.00" in shown
    async with app.sessionmaker() as session, session.begin():
        pid = (await session.scalars(select(Person.id))).one()
        session.add(
            Reminder(
                person_id=pid,
                kind="bank_day_before",
                dedupe_key="bank:1:day",
                due_at=START + timedelta(days=1),
                payload={},
            )
        )
    shown = texts(await chat.send("/pengingat"))
    assert "Bank visit tomorrow" in shown and "WIB" in shown


async def test_someone_who_blocked_the_bot_is_reachable_again_when_they_write(
    app, person, now
) -> None:
    chat = person(7707)
    await onboard(chat, lang="en")
    async with app.sessionmaker() as session, session.begin():
        await session.execute(update(Person).values(blocked_at=START))
    await chat.send("/menu")
    assert (await one(app, Person)).blocked_at is None


async def test_after_downtime_one_nudge_says_how_long_ago_and_missed_ones_never_come(
    app, person, now
) -> None:
    chat, waiting = person(7708), person(7709)
    await halfway(chat)
    await halfway(waiting)
    touched = START  # the clock stands still while they answer
    clock.set_clock(lambda: touched + timedelta(days=2, minutes=1))
    await app.ticker.tick()  # both first nudges planned, due a second later; then the bot stops
    async with app.sessionmaker() as session, session.begin():  # one of them was already sent
        kur = select(FlowRun.id).where(FlowRun.flow == "kur_readiness").order_by(FlowRun.id)
        first = (await session.scalars(kur)).first()
        await session.execute(
            update(Reminder)
            .where(Reminder.dedupe_key.startswith(f"nudge:{first}:"))
            .values(status=ReminderStatus.SENT)
        )
    clock.set_clock(lambda: touched + timedelta(days=13))  # back after eleven days
    for _ in range(3):
        await tick_twice(app)
    (sent,) = nudges_sent(app, chat)  # the third nudge's time has come: that one, once
    assert "13 days ago" in sent.text
    (late,) = nudges_sent(app, waiting)  # its first, never sent, is superseded by the third
    assert "13 days ago" in late.text
    async with app.sessionmaker() as session:
        statuses = sorted(await session.scalars(select(Reminder.status)))
    assert statuses == ["sent", "sent", "sent", "superseded"]
