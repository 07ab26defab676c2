"""Reminders as rows: sent on time, once, in daylight, in the person's language; surviving a
restart between claim and send; two tickers on one database; a blocked person; Telegram's 429
and 5xx. Sent through aiogram's real session to the project's fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select

from bot.app import App, build_app
from flows import clock
from flows import reminders as rules
from storage import reminders as store
from storage import repo
from storage.models import Person, Reminder, ReminderStatus
from tests.support.fake_bot_api import FakeBotAPI

NOW = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)  # 10:00 WIB, 11:00 WITA, 12:00 WIT
PAYLOAD = {"title": "Jualan online", "at": "2027-01-11T02:00:00+00:00", "where": "BLK Surabaya"}


@pytest.fixture
def now() -> list[datetime]:
    """The clock, as a one-element list a test moves forward."""
    moment = [NOW]
    clock.set_clock(lambda: moment[0])
    return moment


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


def live_app(settings, fake: FakeBotAPI) -> App:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return build_app(settings, session=session, token="123456:TEST-token")


@pytest_asyncio.fixture
async def live(settings, fake) -> AsyncIterator[App]:
    app = live_app(settings, fake)
    yield app
    await app.close()


async def add_person(
    app: App, telegram_id: int, *, province: str = "35", locale: str = "id"
) -> int:
    async with app.sessionmaker() as session, session.begin():
        person = await repo.create_person(session, telegram_id=telegram_id, locale=locale)
        await repo.update_person(session, person, province_code=province, name="Siti")
        return person.id


async def add(app: App, person_id: int, key: str, due: datetime, kind=rules.TRAINING_DAY_BEFORE):
    async with app.sessionmaker() as session, session.begin():
        await store.schedule(
            session, person_id=person_id, kind=kind.key, key=key, due_at=due, payload=PAYLOAD
        )


async def rows(app: App) -> list[Reminder]:
    async with app.sessionmaker() as session:
        return list(await session.scalars(select(Reminder).order_by(Reminder.id)))


def sends(fake: FakeBotAPI, chat: int | None = None) -> list:
    return [
        c
        for c in fake.calls_to("sendMessage")
        if chat is None or str(c.params.get("chat_id")) == str(chat)
    ]


async def test_the_same_reminder_twice_is_one_row_and_a_new_date_moves_it(live, now) -> None:
    pid = await add_person(live, 8001)
    await add(live, pid, "training:1:day", NOW + timedelta(hours=1))
    await add(live, pid, "training:1:day", NOW + timedelta(hours=1))
    assert len(await rows(live)) == 1
    await add(live, pid, "training:1:day", NOW + timedelta(hours=5))
    (row,) = await rows(live)
    assert row.due_at == NOW + timedelta(hours=5) and row.status == ReminderStatus.PENDING
    async with live.sessionmaker() as session, session.begin():
        assert await store.cancel(session, prefix="training:1:") == 1
    assert (await rows(live))[0].status == ReminderStatus.CANCELLED


async def test_a_due_reminder_is_sent_once_in_the_persons_language(live, fake, now) -> None:
    pid = await add_person(live, 8002)
    english = await add_person(live, 8003, locale="en")
    await add(live, pid, "a", NOW - timedelta(minutes=1))
    await add(live, english, "b", NOW - timedelta(minutes=1))
    await add(live, pid, "later", NOW + timedelta(hours=3))
    report = await live.ticker.tick()
    assert (report.claimed, report.sent) == (2, 2)
    assert "besok" in sends(fake, 8002)[0].params["text"]
    assert "tomorrow" in sends(fake, 8003)[0].params["text"]
    assert "09.00 WIB" in sends(fake, 8002)[0].params["text"]  # the time in the person's zone
    assert (await live.ticker.tick()).claimed == 0  # nothing twice
    statuses = {r.dedupe_key: r.status for r in await rows(live)}
    assert statuses == {"a": "sent", "b": "sent", "later": "pending"}
    now[0] = NOW + timedelta(hours=3)
    assert (await live.ticker.tick()).sent == 1
    assert len(sends(fake)) == 3


@pytest.mark.parametrize(
    ("province", "night_utc", "morning_utc"),
    [
        ("35", datetime(2027, 1, 10, 15, 0, tzinfo=UTC), datetime(2027, 1, 11, 0, 0, tzinfo=UTC)),
        ("73", datetime(2027, 1, 10, 14, 0, tzinfo=UTC), datetime(2027, 1, 10, 23, 0, tzinfo=UTC)),
        ("91", datetime(2027, 1, 10, 13, 0, tzinfo=UTC), datetime(2027, 1, 10, 22, 0, tzinfo=UTC)),
    ],
    ids=["WIB", "WITA", "WIT"],
)
async def test_nothing_is_sent_at_night_it_waits_for_seven(
    live, fake, now, province, night_utc, morning_utc
) -> None:
    pid = await add_person(live, 8004, province=province)
    await add(live, pid, "night", night_utc - timedelta(minutes=5))
    now[0] = night_utc  # 22:00 local
    report = await live.ticker.tick()
    assert (report.sent, report.deferred) == (0, 1)
    (row,) = await rows(live)
    assert row.status == ReminderStatus.PENDING and row.due_at == morning_utc  # 07:00 local
    now[0] = morning_utc - timedelta(minutes=1)
    assert (await live.ticker.tick()).claimed == 0
    now[0] = morning_utc
    assert (await live.ticker.tick()).sent == 1
    assert len(sends(fake, 8004)) == 1


async def test_a_restart_between_claim_and_send_loses_nothing_and_sends_once(
    settings, fake, now
) -> None:
    first = live_app(settings, fake)
    pid = await add_person(first, 8005)
    for n in range(3):
        await add(first, pid, f"r{n}", NOW - timedelta(minutes=1))
    async with first.sessionmaker() as session, session.begin():
        claimed = await store.claim(session, now=NOW, limit=10)  # then the process dies
    assert len(claimed) == 3
    await first.close()

    second = live_app(settings, fake)
    try:
        assert (await second.ticker.tick()).claimed == 0  # still leased to the dead process
        now[0] = NOW + store.LEASE + timedelta(seconds=1)
        report = await second.ticker.tick()
        assert (report.claimed, report.sent) == (3, 3)
        now[0] += store.LEASE * 2
        assert (await second.ticker.tick()).claimed == 0
    finally:
        await second.close()
    assert len(sends(fake, 8005)) == 3


async def test_two_tickers_on_one_database_send_each_reminder_exactly_once(
    settings, fake, now
) -> None:
    one, two = live_app(settings, fake), live_app(settings, fake)
    try:
        people = [await add_person(one, 8100 + i) for i in range(30)]
        for i, pid in enumerate(people):
            for n in range(4):
                await add(one, pid, f"p{i}:{n}", NOW - timedelta(seconds=n))
        one.ticker.batch = two.ticker.batch = 20
        for _ in range(5):
            await asyncio.gather(one.ticker.tick(), two.ticker.tick())
    finally:
        await one.close()
        await two.close()
    texts = [(c.params["chat_id"], c.params["text"]) for c in sends(fake)]
    assert len(texts) == 120
    assert all(r.status == ReminderStatus.SENT for r in await rows_of(settings))


async def rows_of(settings) -> list[Reminder]:
    app = build_app(settings, token="1:offline")
    try:
        return await rows(app)
    finally:
        await app.close()


async def test_a_blocked_person_is_marked_and_their_reminders_stop(live, fake, now) -> None:
    pid = await add_person(live, 8006)
    other = await add_person(live, 8007)
    await add(live, pid, "x", NOW - timedelta(minutes=1))
    await add(live, pid, "y", NOW + timedelta(days=1))
    await add(live, other, "z", NOW - timedelta(minutes=1))
    fake.block(8006)
    report = await live.ticker.tick()
    assert (report.blocked, report.sent) == (1, 1)
    async with live.sessionmaker() as session:
        blocked = await session.scalar(select(Person.blocked_at).where(Person.id == pid))
    assert blocked is not None
    assert {r.dedupe_key: r.status for r in await rows(live)} == {
        "x": "cancelled",
        "y": "cancelled",
        "z": "sent",
    }
    now[0] = NOW + timedelta(days=2)
    assert (await live.ticker.tick()).claimed == 0


async def test_429_waits_retry_after_and_5xx_backs_off(live, fake, now) -> None:
    pid = await add_person(live, 8008)
    await add(live, pid, "slow", NOW - timedelta(minutes=1))
    fake.fail_next("sendMessage", code=429, retry_after=7)
    report = await live.ticker.tick()
    assert (report.sent, report.deferred) == (0, 1)
    (row,) = await rows(live)
    assert row.status == "pending" and row.due_at >= NOW + timedelta(seconds=30)
    now[0] = row.due_at
    fake.fail_next("sendMessage", code=502)
    assert (await live.ticker.tick()).deferred == 1
    (row,) = await rows(live)
    assert row.attempts == 2 and row.due_at == now[0] + timedelta(seconds=60)
    now[0] = row.due_at
    assert (await live.ticker.tick()).sent == 1


async def test_a_request_telegram_refuses_fails_for_good(live, fake, now) -> None:
    pid = await add_person(live, 8009)
    await add(live, pid, "bad", NOW - timedelta(minutes=1))
    fake.fail_next("sendMessage", code=400, description="Bad Request: chat not found")
    assert (await live.ticker.tick()).failed == 1
    assert (await rows(live))[0].status == ReminderStatus.FAILED
    async with live.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Reminder)) == 1


async def test_the_hourly_job_forgets_update_ids_that_cannot_come_again(live, now) -> None:
    from storage.models import ProcessedUpdate

    async with live.sessionmaker() as session, session.begin():
        session.add(ProcessedUpdate(update_id=11, processed_at=NOW - timedelta(days=3)))
        session.add(ProcessedUpdate(update_id=12, processed_at=NOW - timedelta(hours=3)))
    assert await live.ticker.prune() == 1
    async with live.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1


# --- late reminders: after downtime or the night, the words of sending time, or nothing -----------

MEETING = datetime(2027, 1, 20, 7, 0, tzinfo=UTC)  # 14:00 WIB


async def plan_event(app, person_id: int, at: datetime = MEETING) -> dict[str, str]:
    """A founding meeting's two reminders and a bank visit's one, planned as the journeys do."""
    from bot.reminders import remind

    keys = {}
    async with app.sessionmaker() as session, session.begin():
        for kind, name, days in (
            (rules.MEETING_3_DAYS, "3d", 3),
            (rules.MEETING_1_DAY, "1d", 1),
        ):
            keys[name] = f"meeting:1:{person_id}:{name}"
            await remind(
                session,
                person_id=person_id,
                kind=kind,
                key=keys[name],
                due_at=rules.before(at, "Asia/Jakarta", days=days),
                tz="Asia/Jakarta",
                payload={"name": "Koperasi Maju", "at": at.isoformat()},
            )
    return keys


async def statuses(app) -> dict[str, str]:
    return {r.dedupe_key: r.status for r in await rows(app)}


async def test_after_two_days_down_only_the_true_reminder_goes_with_the_true_words(
    live, fake, now
) -> None:
    pid = await add_person(live, 8201)
    english = await add_person(live, 8202, locale="en")
    keys = await plan_event(live, pid)
    en_keys = await plan_event(live, english)
    # down from before the three-days reminder until after the one-day one: 15:00 WIB the day before
    now[0] = MEETING - timedelta(days=1) + timedelta(hours=1)
    report = await live.ticker.tick()
    assert (report.claimed, report.sent, report.superseded) == (4, 2, 2)
    (said,) = sends(fake, 8201)
    text = said.params["text"]
    assert "Koperasi Maju" in text and "besok" in text and "3 hari" not in text
    assert "20 Januari 2027, 14.00 WIB" in text
    assert "is tomorrow" in sends(fake, 8202)[0].params["text"]
    assert await statuses(live) == {
        keys["3d"]: ReminderStatus.SUPERSEDED,
        keys["1d"]: ReminderStatus.SENT,
        en_keys["3d"]: ReminderStatus.SUPERSEDED,
        en_keys["1d"]: ReminderStatus.SENT,
    }
    now[0] += timedelta(days=3)
    assert (await live.ticker.tick()).claimed == 0  # never sent later either


async def test_a_day_late_it_says_how_many_days_are_really_left(live, fake, now) -> None:
    pid = await add_person(live, 8203)
    await plan_event(live, pid)
    now[0] = MEETING - timedelta(days=2)  # a day late: the other one is still a day off
    assert (await live.ticker.tick()).sent == 1
    assert "2 hari lagi" in sends(fake, 8203)[-1].params["text"]
    now[0] = MEETING - timedelta(days=1)
    assert (await live.ticker.tick()).sent == 1
    assert "besok" in sends(fake, 8203)[-1].params["text"]


async def test_a_reminder_whose_event_has_passed_sends_nothing(live, fake, now) -> None:
    pid = await add_person(live, 8204)
    async with live.sessionmaker() as session, session.begin():
        await store.schedule(
            session,
            person_id=pid,
            kind=rules.BANK_DAY_BEFORE.key,
            key="bank:1:day",
            due_at=MEETING - timedelta(days=1),
            payload={"bank": "BRI", "branch": "Unit Gubeng", "at": MEETING.isoformat()},
        )
    now[0] = MEETING + timedelta(hours=2)  # back after the visit
    report = await live.ticker.tick()
    assert (report.claimed, report.sent, report.skipped) == (1, 0, 1)
    assert sends(fake, 8204) == []
    assert await statuses(live) == {"bank:1:day": ReminderStatus.SKIPPED}


async def test_a_reminder_held_until_seven_is_worded_for_seven(live, fake, now) -> None:
    late = datetime(2027, 1, 20, 15, 0, tzinfo=UTC)  # a meeting at 22:00 WIB
    pid = await add_person(live, 8205)
    keys = await plan_event(live, pid, at=late)
    (row,) = [r for r in await rows(live) if r.dedupe_key == keys["1d"]]
    assert row.due_at == datetime(2027, 1, 20, 0, 0, tzinfo=UTC)  # 22:00 the day before: 07:00
    now[0] = row.due_at
    assert (await live.ticker.tick()).sent == 1
    text = sends(fake, 8205)[-1].params["text"]
    assert "hari ini" in text and "besok" not in text

    early = datetime(2027, 1, 25, 1, 0, tzinfo=UTC)  # 08:00 WIB: the day before at 08:00
    other = await add_person(live, 8206)
    await plan_event(live, other, at=early)
    now[0] = datetime(2027, 1, 24, 15, 0, tzinfo=UTC)  # back at 22:00 WIB: held until 07:00
    report = await live.ticker.tick()
    assert (report.sent, report.deferred, report.superseded) == (0, 1, 1)
    now[0] = datetime(2027, 1, 25, 0, 0, tzinfo=UTC)
    assert (await live.ticker.tick()).sent == 1
    text = sends(fake, 8206)[-1].params["text"]
    assert "1 jam lagi" in text and "besok" not in text


async def test_training_reminders_after_downtime_only_the_last_one(live, fake, now) -> None:
    start = datetime(2027, 1, 20, 6, 0, tzinfo=UTC)  # 13:00 WIB
    pid = await add_person(live, 8207)
    payload = {"title": "Jualan online", "at": start.isoformat(), "where": "BLK Surabaya"}
    async with live.sessionmaker() as session, session.begin():
        for kind, key, due in (
            (rules.TRAINING_DAY_BEFORE, "training:9:day", start - timedelta(days=1)),
            (rules.TRAINING_SOON, "training:9:soon", start - timedelta(hours=2)),
        ):
            await store.schedule(
                session, person_id=pid, kind=kind.key, key=key, due_at=due, payload=payload
            )
    now[0] = start - timedelta(minutes=50)  # down since the day before
    report = await live.ticker.tick()
    assert (report.sent, report.superseded) == (1, 1)
    (said,) = sends(fake, 8207)
    assert "dimulai 50 menit lagi" in said.params["text"]


async def test_a_row_that_cannot_be_worded_is_cancelled_and_the_rest_still_go(
    live, fake, now
) -> None:
    pid = await add_person(live, 8208)
    async with live.sessionmaker() as session, session.begin():
        for kind, key, payload in (
            ("no_such_kind", "odd:1", {}),
            (rules.MEETING_1_DAY.key, "meeting:9:1:1d", {"name": "Koperasi Maju"}),  # no "at"
        ):
            await store.schedule(
                session, person_id=pid, kind=kind, key=key, due_at=NOW, payload=payload
            )
    await add(live, pid, "fine", NOW)
    report = await live.ticker.tick()
    assert (report.claimed, report.sent, report.cancelled) == (3, 1, 2)
    assert await statuses(live) == {
        "odd:1": ReminderStatus.CANCELLED,
        "meeting:9:1:1d": ReminderStatus.CANCELLED,
        "fine": ReminderStatus.SENT,
    }
