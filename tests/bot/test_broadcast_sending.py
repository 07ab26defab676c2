"""The broadcast sender against the project's fake Bot API, through aiogram's real session:
rate, retries, blocked and opted-out people, scheduling, pause/resume/cancel, restarts, the
live progress message and the report."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update
from sqlalchemy import select, text

from bot import delivery as delivery_module
from bot import leader as leader_module
from bot.app import App, build_app
from bot.broadcasts import STOP_FOOTER, BroadcastCB
from bot.delivery import MAX_ATTEMPTS, backoff
from flows import clock
from storage import broadcasts as store
from storage import repo
from storage.db import create_engine
from storage.models import Broadcast, BroadcastStatus, Delivery, Person
from tests.support.fake_bot_api import Call, FakeBotAPI, UploadedFile

NOW = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)
AUTHOR = 700001


@pytest.fixture
def now() -> list[datetime]:
    moment = [NOW]
    clock.set_clock(lambda: moment[0])
    return moment


@pytest.fixture
def no_chat_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries to one chat in quick succession (the clock is moved, not waited for): without
    this each would wait a real second for the per-chat spacing."""
    monkeypatch.setattr(delivery_module, "PER_CHAT_INTERVAL", 0.0)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


class LocalSession(AiohttpSession):
    """aiogram's real HTTP session, closed without its 250 ms wait for TLS connections to end:
    the fake is plain HTTP on 127.0.0.1, and the wait cost seconds over this file."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def live_app(settings, fake: FakeBotAPI, **overrides) -> App:
    session = LocalSession(api=TelegramAPIServer.from_base(fake.base_url))
    return build_app(
        settings.model_copy(update=overrides), session=session, token="123456:TEST-token"
    )


@pytest_asyncio.fixture
async def live(settings, fake) -> AsyncIterator[App]:
    app = live_app(settings, fake, delivery_rate=30.0)
    app.sender.progress_every = 0.0
    yield app
    await app.close()


async def people(app: App, first: int, n: int, *, regency: str = "35.78", **values) -> list[int]:
    async with app.sessionmaker() as session, session.begin():
        ids = []
        for tid in range(first, first + n):
            person = await repo.create_person(session, telegram_id=tid, locale="id")
            await repo.update_person(
                session,
                person,
                province_code=regency.split(".")[0],
                regency_code=regency,
                **{"announcements": True, "onboarded_at": NOW, **values},
            )
            ids.append(person.id)
        return ids


async def author(app: App, *, role: str = "coordinator", scope: list[str] | None = None) -> int:
    async with app.sessionmaker() as session, session.begin():
        person = await repo.create_person(session, telegram_id=AUTHOR, locale="en")
        await repo.update_person(session, person, onboarded_at=NOW, province_code="35")
        await repo.set_role(session, person_id=person.id, role=role, regions=scope)
        return person.id


async def draft(app: App, author_id: int, *, segment=None, regions=None, **kw) -> int:
    async with app.sessionmaker() as session, session.begin():
        return await store.create_draft(
            session,
            author_id=author_id,
            text=kw.pop("text", "<b>Pelatihan</b> gratis minggu depan"),
            segment=segment or {"kind": "all"},
            regions=regions,
            **kw,
        )


async def start_now(app: App, broadcast_id: int, *, progress: int | None = None) -> int | None:
    async with app.sessionmaker() as session, session.begin():
        count = await store.start(session, broadcast_id, now=clock.now(), cap_per_week=3)
        if progress is not None:
            await store.set_progress_message(
                session, broadcast_id, chat_id=AUTHOR, message_id=progress
            )
        return count


async def statuses(app: App, broadcast_id: int) -> dict[str, int]:
    async with app.sessionmaker() as session:
        return await store.progress(session, broadcast_id)


async def get(app: App, broadcast_id: int) -> Broadcast:
    async with app.sessionmaker() as session:
        found = await store.get(session, broadcast_id)
        assert found is not None
        return found


def sends(fake: FakeBotAPI, method: str = "sendMessage") -> list:
    return [c for c in fake.calls_to(method) if c.error_code is None]


# --- more helpers ---------------------------------------------------------------------------


def chat_of(call: Call) -> int:
    return int(call.params["chat_id"])


def to_people(fake: FakeBotAPI, method: str = "sendMessage") -> list[Call]:
    """Successful sends to recipients (the author's chat gets the progress and the report)."""
    return [c for c in sends(fake, method) if chat_of(c) != AUTHOR]


def tries_to(fake: FakeBotAPI, chat: int) -> list[Call]:
    """Every call to a chat, failed ones included."""
    return [c for c in fake.calls if str(c.params.get("chat_id")) == str(chat)]


def once_each(calls: list[Call]) -> list[int]:
    """The chats, sorted, after checking that none got two."""
    counted = Counter(chat_of(c) for c in calls)
    twice = {chat: n for chat, n in counted.items() if n > 1}
    assert not twice, f"sent more than once: {twice}"
    return sorted(counted)


async def rows(app: App, broadcast_id: int) -> list[Delivery]:
    async with app.sessionmaker() as session:
        query = select(Delivery).where(Delivery.broadcast_id == broadcast_id)
        return list(await session.scalars(query.order_by(Delivery.id)))


async def row_of(app: App, broadcast_id: int, chat: int) -> Delivery:
    (found,) = [r for r in await rows(app, broadcast_id) if r.chat_id == chat]
    return found


async def person_row(app: App, person_id: int) -> Person:
    async with app.sessionmaker() as session:
        found = await session.get(Person, person_id)
        assert found is not None
        return found


async def audit(app: App, broadcast_id: int) -> list:
    async with app.sessionmaker() as session:
        return await store.audit_of(session, subject=f"broadcast:{broadcast_id}")


async def change(app: App, broadcast_id: int, status: BroadcastStatus) -> bool:
    async with app.sessionmaker() as session, session.begin():
        return await store.set_status(session, broadcast_id, status)


async def say(app: App, fake: FakeBotAPI, uid: int, words: str) -> None:
    """The person types to the bot; the update goes through the real dispatcher."""
    raw = fake.send_text(uid, words)
    await app.dp.feed_update(app.bot, Update.model_validate(raw, context={"bot": app.bot}))


def windows_over(calls: list[Call], seconds: float = 1.0) -> int:
    """The most calls the fake received in any window of `seconds`."""
    times = sorted(c.at for c in calls)
    most, j = 0, 0
    for i, moment in enumerate(times):
        while times[j] <= moment - seconds:
            j += 1
        most = max(most, i - j + 1)
    return most


async def test_everyone_opted_in_gets_it_once_with_how_to_stop(live, fake, now) -> None:
    ids = await people(live, 1000, 20)
    await people(live, 2000, 3, announcements=False)  # never asked for announcements
    me = await author(live)
    bid = await draft(live, me)
    assert await start_now(live, bid) == 20
    done = await live.sender.drain()
    assert done.sent == 20 and done.finished == 1
    got = sends(fake)
    chats = sorted(int(c.params["chat_id"]) for c in got if int(c.params["chat_id"]) != AUTHOR)
    assert chats == list(range(1000, 1020))
    assert all("/berhenti" in c.params["text"] for c in got if int(c.params["chat_id"]) != AUTHOR)
    assert all(
        "<b>Pelatihan</b>" in c.params["text"] for c in got if int(c.params["chat_id"]) != AUTHOR
    )
    counts = await statuses(live, bid)
    assert counts["sent"] == 20 and counts["pending"] == 0
    assert (await get(live, bid)).status == BroadcastStatus.DONE
    assert len(ids) == 20


# --- the rate and Telegram's answers -------------------------------------------------------


async def test_sends_keep_to_the_rate_in_every_second(settings, fake, now) -> None:
    app = live_app(settings, fake, delivery_rate=20.0)
    try:
        await people(app, 1100, 30)
        bid = await draft(app, await author(app))
        assert await start_now(app, bid) == 30
        assert (await app.sender.drain()).sent == 30
    finally:
        await app.close()
    got = to_people(fake)
    assert once_each(got) == list(range(1100, 1130))
    assert windows_over(got) <= 20 + 1  # the limiter's first slot is free: one more at most
    first, *_, last = sorted(c.at for c in got)
    assert last - first >= 29 / 20 - 0.05  # 30 sends: 29 intervals of 1/20 s


async def test_a_429_is_retried_after_its_wait_and_the_person_gets_it_once(live, fake, now):
    await people(live, 1200, 6)
    bid = await draft(live, await author(live))
    await start_now(live, bid)
    fake.fail_next("sendMessage", code=429, retry_after=2)
    done = await live.sender.drain()
    assert (done.sent, done.retried) == (5, 1)
    (refused,) = [c for c in fake.calls_to("sendMessage") if c.error_code == 429]
    slow = await row_of(live, bid, chat_of(refused))
    assert (slow.status, slow.error, slow.attempts) == ("pending", "429", 1)
    assert slow.lease_until == NOW + timedelta(seconds=2)  # not before Telegram's retry_after
    now[0] = NOW + timedelta(seconds=1)
    assert (await live.sender.drain()).claimed == 0  # it waits
    now[0] = NOW + timedelta(seconds=2)
    assert (await live.sender.drain()).sent == 1
    got = to_people(fake)
    assert once_each(got) == list(range(1200, 1206))
    (again,) = [c for c in got if chat_of(c) == chat_of(refused)]
    assert again.at - refused.at >= 2.0  # the whole sender paused for retry_after
    slow = await row_of(live, bid, chat_of(refused))
    assert (slow.status, slow.attempts, slow.error) == ("sent", 2, None)
    assert (await get(live, bid)).status == BroadcastStatus.DONE


async def test_after_a_429_nothing_is_sent_until_retry_after_has_passed(live, fake, now):
    await people(live, 1250, 12)
    bid = await draft(live, await author(live))
    await start_now(live, bid)
    fake.fail_next("sendMessage", code=429, retry_after=1)
    await live.sender.drain()
    now[0] = NOW + timedelta(seconds=1)
    await live.sender.drain()
    (refused,) = [c for c in fake.calls_to("sendMessage") if c.error_code == 429]
    during = [c for c in fake.calls if refused.at < c.at < refused.at + 1.0]
    assert once_each(to_people(fake)) == list(range(1250, 1262))
    assert during == [], f"{len(during)} calls inside the 1 s Telegram asked to wait"


async def test_two_announcements_to_one_chat_go_a_second_apart(live, fake, now) -> None:
    await people(live, 1280, 1, regency="35.73")
    await people(live, 1281, 9)
    me = await author(live)
    wide = await draft(live, me)
    alone = await draft(live, me, segment={"kind": "region", "region": "35.73"}, text="Kedua")
    await start_now(live, wide)
    await start_now(live, alone)
    assert (await live.sender.drain()).sent == 11
    first, second = [c.at for c in to_people(fake) if chat_of(c) == 1280]
    assert second - first >= delivery_module.PER_CHAT_INTERVAL - 0.01


async def test_the_per_chat_second_counts_from_the_send_itself(live, fake, now) -> None:
    await people(live, 1290, 9)
    await people(live, 1299, 1, regency="35.73")  # the last of the first batch: queued longest
    me = await author(live)
    wide = await draft(live, me)
    alone = await draft(live, me, segment={"kind": "region", "region": "35.73"}, text="Kedua")
    await start_now(live, wide)
    await start_now(live, alone)
    assert (await live.sender.drain()).sent == 11
    first, second = [c.at for c in to_people(fake) if chat_of(c) == 1299]
    assert second - first >= delivery_module.PER_CHAT_INTERVAL - 0.01, second - first


async def test_a_person_who_blocked_the_bot_is_marked_and_never_tried_again(
    live, fake, now, no_chat_spacing
) -> None:
    ids = await people(live, 1300, 4)
    me = await author(live)
    first, second = await draft(live, me), await draft(live, me, text="Kedua")
    await start_now(live, first)
    await start_now(live, second)  # both started before anyone knew of the block
    fake.block(1301)
    done = await live.sender.drain()
    assert (done.sent, done.blocked, done.skipped) == (3 + 3, 1, 1)
    blocked = await row_of(live, first, 1301)
    assert (blocked.status, blocked.error, blocked.attempts) == ("blocked", "blocked", 1)
    assert (await person_row(live, ids[1])).blocked_at == NOW
    skipped = await row_of(live, second, 1301)  # their turn came after the 403: no call
    assert (skipped.status, skipped.error) == ("skipped", store.WAS_BLOCKED)
    assert len(tries_to(fake, 1301)) == 1
    now[0] = NOW + timedelta(days=1)
    third = await draft(live, me, text="Ketiga")
    assert await start_now(live, third) == 3  # started after: they are not even a row
    await live.sender.drain()
    assert [r.chat_id for r in await rows(live, third)] == [1300, 1302, 1303]
    assert len(tries_to(fake, 1301)) == 1  # never retried, never tried again
    assert (await statuses(live, first))["blocked"] == 1


async def test_a_5xx_is_retried_with_backoff_and_sent_once(live, fake, now, no_chat_spacing):
    await people(live, 1400, 2)
    bid = await draft(live, await author(live))
    await start_now(live, bid)
    fake.fail_next("sendMessage", code=502, chat_id=1400, times=2)
    assert (await live.sender.drain()).retried == 1
    row = await row_of(live, bid, 1400)
    assert (row.status, row.attempts, row.error) == ("pending", 1, "TelegramServerError")
    assert row.lease_until == NOW + timedelta(seconds=backoff(1))
    now[0] = NOW + timedelta(seconds=backoff(1) - 1)
    assert (await live.sender.drain()).claimed == 0  # not before its time
    now[0] = NOW + timedelta(seconds=backoff(1))
    assert (await live.sender.drain()).retried == 1
    row = await row_of(live, bid, 1400)
    assert row.attempts == 2 and row.lease_until == now[0] + timedelta(seconds=backoff(2))
    now[0] = row.lease_until
    done = await live.sender.drain()
    assert (done.sent, done.finished) == (1, 1)
    assert len(tries_to(fake, 1400)) == 3 and len(to_people(fake)) == 2
    row = await row_of(live, bid, 1400)
    assert (row.status, row.attempts, row.error) == ("sent", 3, None)


async def test_after_max_attempts_it_fails_and_a_400_fails_at_once(
    live, fake, now, no_chat_spacing
) -> None:
    await people(live, 1500, 3)
    bid = await draft(live, await author(live))
    await start_now(live, bid)
    fake.fail_next("sendMessage", code=500, chat_id=1500, times=MAX_ATTEMPTS)
    fake.fail_next("sendMessage", code=400, chat_id=1501, description="Bad Request: chat not found")
    await live.sender.drain()
    refused = await row_of(live, bid, 1501)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert refused.error == "400 Bad Request: chat not found"
    for attempt in range(1, MAX_ATTEMPTS):
        row = await row_of(live, bid, 1500)
        assert (row.status, row.attempts) == ("pending", attempt)
        now[0] = row.lease_until
        await live.sender.drain()
    row = await row_of(live, bid, 1500)
    assert (row.status, row.attempts, row.error) == ("failed", MAX_ATTEMPTS, "TelegramServerError")
    assert len(tries_to(fake, 1500)) == MAX_ATTEMPTS and len(tries_to(fake, 1501)) == 1
    now[0] += timedelta(days=1)
    await live.sender.drain()
    assert len(tries_to(fake, 1500)) == MAX_ATTEMPTS  # failed for good
    assert (await get(live, bid)).status == BroadcastStatus.DONE
    assert await statuses(live, bid) == {
        "pending": 0, "sending": 0, "sent": 1, "failed": 2, "blocked": 0, "skipped": 0
    }  # fmt: skip


# --- who gets it ------------------------------------------------------------------------------


async def test_stopping_announcements_after_the_start_skips_the_person(live, fake, now) -> None:
    ids = await people(live, 1600, 10)
    never = await people(live, 1650, 3, announcements=False)
    bid = await draft(live, await author(live))
    assert await start_now(live, bid) == 10
    live.sender.batch = 4
    assert (await live.sender.drain(max_passes=1)).sent == 4
    await say(live, fake, 1608, "/berhenti")  # after the start, before their turn
    assert "/langganan" in fake.last_message(1608)["text"]  # "you get no more announcements"
    async with live.sessionmaker() as session, session.begin():  # turned off elsewhere too
        person = await session.get(Person, ids[9])
        assert person is not None
        await repo.update_person(session, person, announcements=False)
    done = await live.sender.drain()
    assert (done.sent, done.skipped) == (4, 2)
    for chat in (1608, 1609):
        row = await row_of(live, bid, chat)
        assert (row.status, row.error, row.attempts) == ("skipped", store.OPTED_OUT, 1)
    assert not (await person_row(live, ids[8])).announcements
    announced = [c for c in to_people(fake) if "Pelatihan" in c.params["text"]]
    assert once_each(announced) == list(range(1600, 1608))
    assert tries_to(fake, 1609) == []
    assert [c.params["text"] for c in tries_to(fake, 1608)] == [fake.last_message(1608)["text"]]
    assert {r.person_id for r in await rows(live, bid)} == set(ids)  # never opted in: no row
    assert not set(never) & {r.person_id for r in await rows(live, bid)}
    for chat in range(1650, 1653):
        assert tries_to(fake, chat) == []


async def test_the_weekly_cap_skips_who_already_had_enough(live, fake, now, no_chat_spacing):
    capped, fewer, fresh = (
        (await people(live, 1700, 1, regency="35.78"))[0],
        (await people(live, 1701, 1, regency="35.73"))[0],
        (await people(live, 1702, 1, regency="51.71"))[0],
    )
    me = await author(live)
    earlier = [  # when, to whom
        (NOW - timedelta(days=9), {"kind": "region", "region": "35"}),  # out of the week
        (NOW - timedelta(days=3), {"kind": "region", "region": "35"}),
        (NOW - timedelta(days=2), {"kind": "region", "region": "35"}),
        (NOW - timedelta(days=1), {"kind": "region", "region": "35.78"}),
    ]
    assert live.settings.announcement_weekly_cap == 3
    for moment, segment in [*earlier, (NOW, {"kind": "all"})]:
        now[0] = moment
        bid = await draft(live, me, segment=segment, text=f"Kabar {moment:%d}")
        async with live.sessionmaker() as session, session.begin():
            assert await store.schedule(session, bid, at=moment)  # the sender starts it
        done = await live.sender.drain()
    assert (done.started, done.sent, done.skipped) == (1, 2, 0)  # skipped at the start
    assert (await get(live, bid)).recipients == 2  # the capped person is not counted
    row = await row_of(live, bid, 1700)
    assert (row.person_id, row.status, row.error, row.attempts) == (
        capped, "skipped", store.WEEKLY_CAP, 0,
    )  # fmt: skip
    assert {r.person_id: r.status for r in await rows(live, bid)} == {
        capped: "skipped", fewer: "sent", fresh: "sent"
    }  # fmt: skip
    assert once_each(to_people(fake)[7:]) == [1701, 1702]  # 7: 1700 four times, 1701 three
    assert len(tries_to(fake, 1700)) == 4  # the four before, none now


# --- when it goes -----------------------------------------------------------------------------


async def test_a_scheduled_broadcast_starts_once_when_its_time_comes(settings, fake, now):
    one, two = live_app(settings, fake), live_app(settings, fake)
    try:
        await people(one, 1800, 5)
        bid = await draft(one, await author(one))
        async with one.sessionmaker() as session, session.begin():
            assert await store.schedule(session, bid, at=NOW + timedelta(hours=1))
        done = await one.sender.drain()
        assert (done.started, done.claimed) == (0, 0)
        now[0] = NOW + timedelta(minutes=59, seconds=59)
        assert (await two.sender.drain()).started == 0
        assert (await get(one, bid)).status == BroadcastStatus.SCHEDULED
        assert to_people(fake) == [] and await rows(one, bid) == []
        now[0] = NOW + timedelta(hours=1)
        first, second = await asyncio.gather(one.sender.drain(), two.sender.drain())
        assert first.started + second.started == 1
        assert first.sent + second.sent == 5
        now[0] += timedelta(minutes=5)
        assert (await one.sender.drain()).started == 0 and (await two.sender.drain()).sent == 0
        started = [e for e in await audit(one, bid) if e.action == "broadcast.started"]
        assert [e.details for e in started] == [{"recipients": 5, "scheduled": True}]
        broadcast = await get(one, bid)
        assert broadcast.status == BroadcastStatus.DONE and broadcast.recipients == 5
        assert broadcast.started_at == NOW + timedelta(hours=1)
    finally:
        await one.close()
        await two.close()
    assert once_each(to_people(fake)) == list(range(1800, 1805))


async def test_pause_stops_sending_and_resume_goes_on_with_nobody_twice(live, fake, now):
    await people(live, 1900, 12)
    bid = await draft(live, await author(live))
    await start_now(live, bid)
    live.sender.batch = 4
    assert (await live.sender.drain(max_passes=1)).sent == 4
    assert await change(live, bid, BroadcastStatus.PAUSED)
    done = await live.sender.drain()
    assert (done.claimed, done.sent, done.finished, done.reported) == (0, 0, 0, 0)
    assert len(to_people(fake)) == 4
    assert (await statuses(live, bid))["pending"] == 8
    assert (await get(live, bid)).status == BroadcastStatus.PAUSED
    assert await change(live, bid, BroadcastStatus.SENDING)
    done = await live.sender.drain()
    assert (done.sent, done.finished) == (8, 1)
    assert once_each(to_people(fake)) == list(range(1900, 1912))
    assert (await statuses(live, bid))["sent"] == 12


async def test_cancel_skips_the_rest_and_the_report_says_cancelled(live, fake, now) -> None:
    await people(live, 2000, 12)
    me = await author(live)
    bid = await draft(live, me)
    progress = await live.bot.send_message(AUTHOR, "📣")
    await start_now(live, bid, progress=progress.message_id)
    live.sender.batch = 4
    assert (await live.sender.drain(max_passes=1)).sent == 4
    assert await change(live, bid, BroadcastStatus.CANCELLED)
    done = await live.sender.drain()
    assert (done.claimed, done.sent, done.reported) == (0, 0, 1)
    assert len(to_people(fake)) == 4
    skipped = [r for r in await rows(live, bid) if r.status == "skipped"]
    assert len(skipped) == 8 and {r.error for r in skipped} == {store.CANCELLED}
    assert {r.attempts for r in skipped} == {0}  # never claimed, never tried
    (report,) = [c for c in sends(fake) if chat_of(c) == AUTHOR and "Report" in c.params["text"]]
    assert f"Report on announcement #{bid} (cancelled)" in report.params["text"]
    assert "Received it: 4" in report.params["text"] and "Not sent: 8" in report.params["text"]
    shown = fake.sent_to(AUTHOR)[0]
    assert f"Announcement #{bid}: cancelled" in shown["text"] and "reply_markup" not in shown
    (entry,) = [e for e in await audit(live, bid) if e.action == "broadcast.cancelled"]
    assert entry.details == {"sent": 4, "failed": 0, "blocked": 0, "skipped": 8}
    assert (await live.sender.drain()).reported == 0


async def test_the_batch_claimed_ahead_goes_back_when_paused_and_is_skipped_when_cancelled(
    live, fake, now
) -> None:
    """The sender claims the next batch while the last sends of one are on their way; a pause
    or a cancel that comes before it is sent gives it back untried."""
    await people(live, 2050, 12)
    bid = await draft(live, await author(live))
    await start_now(live, bid)
    live.sender.batch = 4
    assert (await live.sender.work()).sent == 4
    assert (await statuses(live, bid))["sending"] == 4  # the next four, claimed ahead
    assert await change(live, bid, BroadcastStatus.PAUSED)
    assert (await live.sender.drain()).claimed == 0
    counts = await statuses(live, bid)
    assert (counts["pending"], counts["sending"]) == (8, 0)
    assert {r.attempts for r in await rows(live, bid) if r.status == "pending"} == {0}
    assert await change(live, bid, BroadcastStatus.SENDING)
    assert (await live.sender.work()).sent == 4
    assert (await statuses(live, bid))["sending"] == 4
    assert await change(live, bid, BroadcastStatus.CANCELLED)
    assert (await live.sender.drain()).reported == 1
    skipped = [r for r in await rows(live, bid) if r.status == "skipped"]
    assert len(skipped) == 4 and {r.error for r in skipped} == {store.CANCELLED}
    assert {r.attempts for r in skipped} == {0}
    assert once_each(to_people(fake)) == list(range(2050, 2058))


async def test_a_new_process_takes_back_a_dead_ones_batch_and_sends_each_once(
    settings, fake, now
) -> None:
    first = live_app(settings, fake)
    await people(first, 2100, 20)
    bid = await draft(first, await author(first))
    await start_now(first, bid)
    first.sender.batch = 5
    assert (await first.sender.drain(max_passes=1)).sent == 5
    async with first.sessionmaker() as session, session.begin():  # claimed, then it dies
        held = await store.claim(session, bid, now=clock.now(), limit=5)
    assert len(held) == 5
    await first.close()  # nothing marked: the five stay `sending` under their lease

    second = live_app(settings, fake)
    try:
        assert (await statuses(second, bid))["sending"] == 5
        done = await second.sender.drain()  # the lease has not run out: taken back anyway
        assert (done.sent, done.skipped, done.finished) == (15, 0, 1)
        assert (await second.sender.drain()).claimed == 0
        by_chat = {r.chat_id: r for r in await rows(second, bid)}
    finally:
        await second.close()
    assert once_each(to_people(fake)) == list(range(2100, 2120))
    assert {r.status for r in by_chat.values()} == {"sent"}
    assert {by_chat[c.chat_id].attempts for c in held} == {2}  # claimed twice, sent once


# --- what it looks like -----------------------------------------------------------------------

PHOTO = "AgACAgUAAxkBAAIBZ2dmY3Rlc3RwaG90b2ZpbGVpZA"
DOCUMENT = "BQACAgUAAxkBAAIBaGRvY3VtZW50ZmlsZWlkdGVzdA"
BUTTON = {"text": "Daftar di sini", "url": "https://example.org/daftar"}


async def test_a_photo_a_document_and_a_link_button(live, fake, now, no_chat_spacing) -> None:
    await people(live, 2200, 3)
    me = await author(live)
    pictured = await draft(
        live, me, photo_file_id=PHOTO, button_text=BUTTON["text"], button_url=BUTTON["url"]
    )
    filed = await draft(live, me, document_file_id=DOCUMENT, text="Formulir <i>KUR</i>")
    linked = await draft(live, me, text="Cek", button_text=BUTTON["text"], button_url=BUTTON["url"])
    for bid in (pictured, filed, linked):
        await start_now(live, bid)
    assert (await live.sender.drain()).sent == 9
    photos, documents = to_people(fake, "sendPhoto"), to_people(fake, "sendDocument")
    assert once_each(photos) == once_each(documents) == [2200, 2201, 2202]
    for call in photos:
        assert call.params["photo"] == PHOTO
        assert call.params["caption"].startswith("<b>Pelatihan</b> gratis minggu depan\n\n<i>")
        assert "/berhenti" in call.params["caption"] and "text" not in call.params
        assert call.params["reply_markup"] == {"inline_keyboard": [[BUTTON]]}
        assert call.params["parse_mode"] == "HTML"
    for call in documents:
        assert call.params["document"] == DOCUMENT
        assert call.params["caption"].startswith("Formulir <i>KUR</i>\n\n<i>")
        assert "/berhenti" in call.params["caption"] and "reply_markup" not in call.params
    texts = to_people(fake)
    assert once_each(texts) == [2200, 2201, 2202]
    assert all(c.params["reply_markup"] == {"inline_keyboard": [[BUTTON]]} for c in texts)
    stored = fake.sent_to(2200)
    assert [("photo" in m, "document" in m, "text" in m) for m in stored] == [
        (True, False, False), (False, True, False), (False, False, True)
    ]  # fmt: skip
    for bid in (pictured, filed, linked):
        assert (await statuses(live, bid))["sent"] == 3


async def test_how_to_stop_is_in_each_readers_language(live, fake, now) -> None:
    await people(live, 2300, 2)  # id
    await people(live, 2310, 2, locale="en")
    await people(live, 2320, 1, locale=None)  # unknown: the default language
    await start_now(live, await draft(live, await author(live)))
    assert (await live.sender.drain()).sent == 5
    footer = {locale: live.i18n.gettext(STOP_FOOTER, locale=locale) for locale in ("id", "en")}
    shown = {chat_of(c): c.params["text"] for c in to_people(fake)}
    for chat, locale in [(2300, "id"), (2301, "id"), (2310, "en"), (2311, "en"), (2320, "id")]:
        assert shown[chat] == f"<b>Pelatihan</b> gratis minggu depan\n\n<i>{footer[locale]}</i>"
    assert footer["en"] == STOP_FOOTER
    assert all("/berhenti" in text for text in footer.values())
    assert footer["id"] != footer["en"]  # the Indonesian catalog translates it
    assert shown[2300] != shown[2310]


# --- the coordinator's view -------------------------------------------------------------------

COUNTS = re.compile(r"Sent (\d+) · failed (\d+) · blocked (\d+) · remaining (\d+)")


async def test_progress_is_edited_live_and_the_report_comes_once_with_a_csv(live, fake, now):
    ids = await people(live, 2400, 10)
    bid = await draft(live, await author(live))
    progress = await live.bot.send_message(AUTHOR, "📣")
    await start_now(live, bid, progress=progress.message_id)
    fake.block(2403)
    fake.fail_next("sendMessage", code=400, chat_id=2407, description="Bad Request: chat not found")
    live.sender.batch = 4
    done = await live.sender.drain()
    assert (done.sent, done.blocked, done.failed, done.reported) == (8, 1, 1, 1)

    edits = [c for c in sends(fake, "editMessageText") if chat_of(c) == AUTHOR]
    assert {c.params["message_id"] for c in edits} == {progress.message_id}
    *going, last = edits
    assert len(going) == 3  # one after each batch of four
    remaining = []
    for call in going:
        assert f"Announcement #{bid}: sending" in call.params["text"]
        sent, failed, blocked, left = map(int, COUNTS.search(call.params["text"]).groups())
        assert sent + failed + blocked + left == 10
        remaining.append(left)
        buttons = call.params["reply_markup"]["inline_keyboard"][0]
        assert [b["callback_data"] for b in buttons] == [
            BroadcastCB(act="pause", id=bid).pack(), BroadcastCB(act="stop", id=bid).pack()
        ]  # fmt: skip
        assert ["Pause" in buttons[0]["text"], "Cancel" in buttons[1]["text"]] == [True, True]
    assert remaining == [6, 2, 0]
    assert f"Announcement #{bid}: done" in last.params["text"] and "reply_markup" not in last.params
    assert COUNTS.search(last.params["text"]).groups() == ("8", "1", "1", "0")
    assert fake.sent_to(AUTHOR)[0]["text"] == last.params["text"]
    assert "reply_markup" not in fake.sent_to(AUTHOR)[0]  # the buttons are gone

    (report,) = [c for c in sends(fake) if chat_of(c) == AUTHOR and "Report" in c.params["text"]]
    shown = report.params["text"]
    assert f"Report on announcement #{bid}\n" in shown and "(cancelled)" not in shown
    assert "Everyone who accepted announcements" in shown
    for line in ("Received it: 8", "Could not be delivered: 1", "Had blocked the bot: 1 (10%"):
        assert line in shown
    assert "Many people blocked the bot" in shown  # 10% is far above 5%

    (document,) = sends(fake, "sendDocument")
    assert chat_of(document) == AUTHOR and document.at > report.at
    upload = document.params["document"]
    assert isinstance(upload, UploadedFile)
    assert upload.file_name == f"announcement-{bid}-failed.csv"
    lines = list(csv.reader(io.StringIO(upload.content.decode("utf-8"))))
    by_chat = {r.chat_id: r for r in await rows(live, bid)}
    blocked, failed = by_chat[2403], by_chat[2407]
    assert lines == [
        ["delivery_id", "person_id", "status", "attempts", "error"],
        [str(blocked.id), str(ids[3]), "blocked", "1", "blocked"],
        [str(failed.id), str(ids[7]), "failed", "1", "400 Bad Request: chat not found"],
    ]
    content = upload.content.decode("utf-8")
    assert not any(str(tid) in content for tid in range(2400, 2410))  # never a Telegram id

    calls = len(fake.calls)
    assert (await live.sender.drain()).reported == 0
    now[0] += timedelta(hours=1)
    assert (await live.sender.drain()).reported == 0
    assert len(fake.calls) == calls  # the report once; nothing else either
    entries = [e.action for e in await audit(live, bid)]
    assert entries == ["broadcast.done"]
    assert (await get(live, bid)).stage is None


async def test_a_crash_between_the_end_and_the_report_still_reports_once(
    settings, fake, now
) -> None:
    first = live_app(settings, fake)
    await people(first, 2500, 6)
    bid = await draft(first, await author(first))
    progress = await first.bot.send_message(AUTHOR, "📣")
    await start_now(first, bid, progress=progress.message_id)
    assert (await first.sender.drain(max_passes=1)).sent == 6
    async with first.sessionmaker() as session, session.begin():
        assert await store.finish(session, bid, now=clock.now())  # …and the process dies here
    await first.close()
    assert not [c for c in sends(fake) if chat_of(c) == AUTHOR and "Report" in c.params["text"]]

    second = live_app(settings, fake)
    try:
        done = await second.sender.drain()
        assert (done.claimed, done.reported) == (0, 1)
        assert (await second.sender.drain()).reported == 0
        assert [e.action for e in await audit(second, bid)] == ["broadcast.done"]
    finally:
        await second.close()
    (report,) = [c for c in sends(fake) if chat_of(c) == AUTHOR and "Report" in c.params["text"]]
    assert "Received it: 6" in report.params["text"]
    assert sends(fake, "sendDocument") == []  # nothing failed: no file
    assert f"Announcement #{bid}: done" in fake.sent_to(AUTHOR)[0]["text"]
    assert once_each(to_people(fake)) == list(range(2500, 2506))


async def test_the_audit_log_has_the_start_and_the_end_without_personal_data(live, fake, now):
    secret = "Rahasia: rapat koperasi"
    async with live.sessionmaker() as session, session.begin():
        for n, tid in enumerate(range(2600, 2604)):
            person = await repo.create_person(session, telegram_id=tid, locale="id")
            await repo.update_person(
                session, person, name=f"Siti Aminah {n}", phone=f"62812345678{n}",
                nik=f"350101010190000{n}", province_code="35", regency_code="35.78",
                announcements=True, onboarded_at=NOW,
            )  # fmt: skip
    fake.block(2603)
    bid = await draft(live, await author(live), text=secret)
    async with live.sessionmaker() as session, session.begin():
        assert await store.schedule(session, bid, at=NOW)
    done = await live.sender.drain()
    assert (done.started, done.sent, done.blocked, done.reported) == (1, 3, 1, 1)
    entries = await audit(live, bid)
    assert [(e.action, e.actor_id, e.details) for e in entries] == [
        ("broadcast.started", None, {"recipients": 4, "scheduled": True}),
        ("broadcast.done", None, {"sent": 3, "failed": 0, "blocked": 1, "skipped": 0}),
    ]
    written = json.dumps([[e.action, e.subject, e.details] for e in entries])
    async with live.sessionmaker() as session:
        everyone = list(await session.scalars(select(Person)))
    for value in [secret, "Rahasia", *(v for p in everyone for v in (p.name, p.phone, p.nik))]:
        assert value is None or value not in written
    assert not any(str(p.telegram_id) in written for p in everyone)


async def test_a_broadcast_scoped_to_a_regency_reaches_only_people_there(live, fake, now) -> None:
    there = await people(live, 2700, 3, regency="35.78")
    await people(live, 2710, 2, regency="35.73")  # the same province, another regency
    await people(live, 2720, 2, regency="51.71")
    bid = await draft(live, await author(live, scope=["35.78"]), regions=["35.78"])
    async with live.sessionmaker() as session, session.begin():
        assert await store.schedule(session, bid, at=NOW)  # started by the sender itself
    done = await live.sender.drain()
    assert (done.started, done.sent) == (1, 3)
    assert sorted(r.person_id for r in await rows(live, bid)) == sorted(there)
    assert once_each(to_people(fake)) == [2700, 2701, 2702]
    assert (await get(live, bid)).recipients == 3


async def test_a_scheduled_announcement_whose_author_lost_the_role_is_cancelled_not_sent(
    live, fake, now
) -> None:
    await people(live, 2800, 3, regency="35.78")
    author_id = await author(live, scope=["35.78"])
    bid = await draft(live, author_id, regions=["35.78"])
    async with live.sessionmaker() as session, session.begin():
        assert await store.schedule(session, bid, at=NOW)
        await repo.set_role(session, person_id=author_id, role="returnee", regions=None)
    done = await live.sender.drain()
    assert (done.started, done.sent) == (0, 0)
    assert to_people(fake) == [] and await rows(live, bid) == []
    assert (await get(live, bid)).status == BroadcastStatus.CANCELLED
    assert [e.action for e in await audit(live, bid)] == ["broadcast.cancelled"]


async def test_a_scheduled_announcement_reaches_only_the_authors_regions_of_sending_day(
    live, fake, now
) -> None:
    await people(live, 2810, 2, regency="35.78")
    there = await people(live, 2820, 2, regency="35.73")
    author_id = await author(live, scope=["35"])  # the whole province when it was scheduled
    bid = await draft(live, author_id, regions=["35"])
    async with live.sessionmaker() as session, session.begin():
        assert await store.schedule(session, bid, at=NOW)
        await repo.set_role(session, person_id=author_id, role="coordinator", regions=["35.73"])
    done = await live.sender.drain()
    assert (done.started, done.sent) == (1, 2)
    assert sorted(r.person_id for r in await rows(live, bid)) == sorted(there)


# --- one sender among several instances (PostgreSQL) -------------------------------------------


def postgres_only(settings) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite has one process by design: the sender lock is PostgreSQL's")


async def kill_lock_connection(engine) -> None:
    """End the session holding the sender lock in this database, as a failover or an admin
    would, and wait until it is gone (PostgreSQL 14+: the timeout argument)."""
    async with engine.connect() as connection:
        holder = (
            await connection.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND objid = :k AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                ),
                {"k": leader_module.LOCK_KEY},
            )
        ).scalar_one()
        ended = await connection.scalar(
            text("SELECT pg_terminate_backend(:p, 5000)"), {"p": holder}
        )
        await connection.commit()
    assert ended


async def test_of_two_apps_only_the_leader_sends_and_the_other_takes_over_on_release(
    settings, fake, now
) -> None:
    postgres_only(settings)
    one, two = live_app(settings, fake), live_app(settings, fake)
    try:
        assert await one.leader.hold() is True
        assert await two.leader.hold() is False
        await people(one, 2800, 15)
        bid = await draft(one, await author(one))
        await start_now(one, bid)
        one.sender.batch = two.sender.batch = 5
        first, second = await asyncio.gather(one.sender.drain(max_passes=1), two.sender.drain())
        assert (first.sent, second.claimed, second.sent) == (5, 0, 0)
        assert (await two.sender.drain()).claimed == 0
        await one.close()  # shutdown releases the lock
        assert await two.leader.hold() is True
        done = await two.sender.drain()
        assert (done.sent, done.finished, done.reported) == (10, 1, 1)
    finally:
        await one.close()
        await two.close()
    assert once_each(to_people(fake)) == list(range(2800, 2815))


async def test_when_the_leaders_lock_connection_dies_the_other_takes_over(
    settings, fake, now, monkeypatch
) -> None:
    postgres_only(settings)
    monkeypatch.setattr(leader_module, "CHECK_EVERY", 0.0)  # check the lock on every pass
    one, two = live_app(settings, fake), live_app(settings, fake)
    engine = create_engine(settings.database_url)
    try:
        await people(one, 2900, 15)
        bid = await draft(one, await author(one))
        await start_now(one, bid)
        one.sender.batch = two.sender.batch = 5
        assert (await one.sender.drain(max_passes=1)).sent == 5
        assert (await two.sender.drain()).claimed == 0
        await kill_lock_connection(engine)
        assert await two.leader.hold() is True
        assert await one.leader.hold() is False  # it notices, and the lock is taken
        assert (await one.sender.work()).claimed == 0
        done = await two.sender.drain()
        assert (done.sent, done.finished, done.reported) == (10, 1, 1)
        assert two.leader.took_over == 1 and one.leader.took_over == 1
    finally:
        await one.close()
        await two.close()
        await engine.dispose()
    assert once_each(to_people(fake)) == list(range(2900, 2915))


async def test_a_leader_losing_its_lock_mid_batch_stops_before_the_next_send(
    settings, fake, now
) -> None:
    postgres_only(settings)
    one, two = live_app(settings, fake, delivery_rate=20.0), live_app(settings, fake)
    engine = create_engine(settings.database_url)
    try:
        await people(one, 3000, 20)
        bid = await draft(one, await author(one))
        await start_now(one, bid)
        one.sender.batch = 20  # one batch: about a second at 20/s
        sending = asyncio.create_task(one.sender.drain(max_passes=1))
        await fake.wait_for(lambda c: c.method == "sendMessage", timeout=5)
        await kill_lock_connection(engine)  # the process lives on
        assert await two.leader.hold() is True
        done = await two.sender.drain()
        await sending
        assert (done.finished, done.reported) == (1, 1)
    finally:
        with contextlib.suppress(Exception):  # see the next test
            await one.leader.release()
        await one.close()
        await two.close()
        await engine.dispose()
    counted = Counter(chat_of(c) for c in to_people(fake))
    assert sorted(counted) == list(range(3000, 3020))
    twice = sum(n - 1 for n in counted.values())
    assert twice <= one.sender.concurrency, f"{twice} people got it twice"


async def test_closing_an_app_whose_lock_connection_died_does_not_raise(settings, fake, now):
    postgres_only(settings)
    app = live_app(settings, fake)
    engine = create_engine(settings.database_url)
    try:
        assert await app.leader.hold() is True
        await kill_lock_connection(engine)
        await app.close()  # within CHECK_EVERY of the loss: it does not know yet
    finally:
        await app.close()  # the rest of it, whatever the first did
        await engine.dispose()


async def test_sent_but_unwritten_never_exceeds_the_concurrency(settings, fake, now) -> None:
    postgres_only(settings)  # the row locks that make the writes lag here
    one, two = live_app(settings, fake, delivery_rate=30.0), live_app(settings, fake)
    engine = create_engine(settings.database_url)
    try:
        await people(one, 3100, 20)
        bid = await draft(one, await author(one))
        await start_now(one, bid)
        one.sender.batch = 20
        sending = asyncio.create_task(one.sender.drain(max_passes=1))
        await fake.wait_for(lambda c: c.method == "sendMessage", timeout=5)  # claimed
        async with engine.connect() as slow:  # the database stalls: every mark waits
            await slow.execute(
                text("SELECT id FROM deliveries WHERE broadcast_id = :b FOR UPDATE"), {"b": bid}
            )
            with contextlib.suppress(AssertionError):  # all of them, or as many as it sends
                await fake.wait_for(lambda c: len(to_people(fake)) >= 20, timeout=1.5)
            sending.cancel()  # killed while its writes wait
            with contextlib.suppress(asyncio.CancelledError):
                await sending
            await slow.rollback()
        await one.close()
        done = await two.sender.drain()
        assert done.finished == 1
    finally:
        await one.close()
        await two.close()
        await engine.dispose()
    counted = Counter(chat_of(c) for c in to_people(fake))
    assert sorted(counted) == list(range(3100, 3120))
    twice = sum(n - 1 for n in counted.values())
    assert twice <= one.sender.concurrency, f"{twice} people got it twice"


async def test_the_tick_and_the_sender_checking_the_lock_at_once_keep_it(
    settings, fake, monkeypatch
) -> None:
    """Both jobs call hold() when a check is due; two statements at once on the lock's one
    connection must not be taken for a lost connection (which would free the lock)."""
    postgres_only(settings)
    app = live_app(settings, fake)
    try:
        assert await app.leader.hold() is True
        monkeypatch.setattr(leader_module, "CHECK_EVERY", 0.0)  # every call checks
        for _ in range(20):
            assert await asyncio.gather(*(app.leader.hold() for _ in range(3))) == [True] * 3
        assert app.leader.leading and app.leader.took_over == 1
    finally:
        await app.close()
