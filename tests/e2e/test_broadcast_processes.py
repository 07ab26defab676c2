"""Real processes sending a broadcast to the fake Bot API: one `juragan run` killed (SIGKILL)
mid-broadcast and started again finishes it, nobody skipped, and only what was in flight at
the kill goes twice; on PostgreSQL two `juragan webhook` instances at once (as in production),
one sending while the other stands by and takes over when the sender is killed."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from bot.broadcasts import Sender
from storage import broadcasts as store
from storage import repo
from storage.db import create_engine, create_sessionmaker
from storage.models import Broadcast, Delivery, utcnow
from tests.support.fake_bot_api import Call, FakeBotAPI
from tests.support.process import Instance, Spawned, most_in_a_second

FIRST, N = 31000, 150  # the recipients' Telegram ids
AUTHOR = 39999
RATE = 30
# The sender's default: at most this many sends in flight.
CONCURRENCY = inspect.signature(Sender).parameters["concurrency"].default
TEXT = "<b>Pelatihan</b> jualan online"
T = TypeVar("T")


def announcements(fake: FakeBotAPI) -> list[Call]:
    """Every announcement the fake accepted (the author's chat gets the report)."""
    return [
        c
        for c in fake.calls_to("sendMessage")
        if c.error_code is None and str(c.params.get("chat_id")) != str(AUTHOR)
    ]


def chats(calls: list[Call]) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in calls)


def nth_announcement(n: int) -> Callable[[Call], bool]:
    """A wait_for predicate true at the n-th announcement (each call is looked at once)."""
    seen = itertools.count(1)
    return lambda c: (
        c.method == "sendMessage"
        and c.error_code is None
        and str(c.params.get("chat_id")) != str(AUTHOR)
        and next(seen) >= n
    )


def assert_no_traceback(log: str) -> None:
    at = log.find("Traceback")
    assert at < 0, log[max(0, at - 1500) : at + 4000]


class Database:
    """The test's own view of the database the processes share."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sessions = create_sessionmaker(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def broadcast_to_everyone(self, *, progress_message: int | None = None) -> int:
        """N people who accepted announcements, an author, and a broadcast to all of them,
        started (its deliveries written) as `/siaran` → Send now does."""
        async with self.sessions() as session, session.begin():
            for tid in range(FIRST, FIRST + N):
                person = await repo.create_person(session, telegram_id=tid, locale="id")
                await repo.update_person(
                    session, person, province_code="35", regency_code="35.78",
                    announcements=True, onboarded_at=utcnow(),
                )  # fmt: skip
            author = await repo.create_person(session, telegram_id=AUTHOR, locale="en")
            await repo.update_person(session, author, province_code="35", onboarded_at=utcnow())
            await repo.set_role(session, person_id=author.id, role="coordinator")
            bid = await store.create_draft(
                session, author_id=author.id, text=TEXT, segment={"kind": "all"}
            )
        async with self.sessions() as session, session.begin():
            assert await store.start(session, bid, now=utcnow()) == N
            if progress_message is not None:
                await store.set_progress_message(
                    session, bid, chat_id=AUTHOR, message_id=progress_message
                )
        return bid

    async def rows(self, bid: int) -> list[Delivery]:
        async with self.sessions() as session:
            query = select(Delivery).where(Delivery.broadcast_id == bid).order_by(Delivery.id)
            return list(await session.scalars(query))

    async def sent_chats(self, bid: int) -> set[int]:
        return {r.chat_id for r in await self.rows(bid) if r.status == "sent"}

    async def broadcast(self, bid: int) -> Broadcast:
        async with self.sessions() as session:
            found = await store.get(session, bid)
            assert found is not None
            return found

    async def wait_reported(self, bid: int, timeout: float = 60.0) -> Broadcast:
        """Until the broadcast is done and its report sent (stage cleared)."""
        deadline = time.monotonic() + timeout
        while True:
            found = await self.broadcast(bid)
            if found.status == "done" and found.stage is None:
                return found
            assert time.monotonic() < deadline, f"not finished: {found.status}, {found.stage}"
            await asyncio.sleep(0.1)


class Running(Spawned):
    """`juragan run`, returned as soon as it is spawned: `start` in tests.support.process waits
    for a getUpdates the fake records only when the long poll ends (~10 s), and by then the
    broadcast would be over."""

    @classmethod
    async def start(cls, fake: FakeBotAPI, database_url: str, cwd: Path) -> Running:
        env = {
            "BOT_TOKEN": "123456:TEST-token",
            "TELEGRAM_API_URL": fake.base_url,
            "DATABASE_URL": database_url,
            "FLOOD_LIMIT": "1000",
            "LOG_LEVEL": "INFO",
            "BROADCAST_POLL_SECONDS": "0.5",
            "DELIVERY_RATE": str(RATE),
        }
        return cls(await cls.spawn(env, cwd))


async def progress_message(fake: FakeBotAPI) -> int:
    """The coordinator's status message, as /siaran leaves it, for the sender to edit."""
    bot = Bot(
        "123456:TEST-token", session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    )
    try:
        return (await bot.send_message(AUTHOR, "📣")).message_id
    finally:
        await bot.session.close()


async def test_a_process_killed_mid_broadcast_is_started_again_and_finishes(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        async with FakeBotAPI() as fake:
            bid = await db.broadcast_to_everyone(progress_message=await progress_message(fake))
            first = await Running.start(fake, database_url, tmp_path)
            try:
                await first.until(fake.wait_for(nth_announcement(50), timeout=30))
            finally:
                await first.kill()
            await asyncio.sleep(0.1)  # a request that reached the fake before the kill: recorded
            at_kill = chats(announcements(fake))
            written = await db.sent_chats(bid)
            in_flight = set(at_kill) - written  # Telegram took them; their rows never said so
            assert written <= set(at_kill) and 50 <= len(at_kill) < N

            second = await Running.start(fake, database_url, tmp_path)
            try:
                done = await second.until(db.wait_reported(bid))
            finally:
                await second.stop()
            got = chats(announcements(fake))
            reports = [
                c for c in fake.calls_to("sendMessage")
                if str(c.params.get("chat_id")) == str(AUTHOR) and "Report" in c.params["text"]
            ]  # fmt: skip
        rows = await db.rows(bid)
    finally:
        await db.close()
    assert set(got) == set(range(FIRST, FIRST + N))  # nobody left out
    assert {r.status for r in rows} == {"sent"} and len(rows) == N  # nobody skipped
    twice = {chat for chat, n in got.items() if n > 1}
    assert twice == in_flight and max(got.values()) <= 2
    print(f"\nkilled after {len(at_kill)} sends: {len(in_flight)} in flight went twice")
    assert len(twice) <= CONCURRENCY
    assert done.recipients == N and len(reports) == 1
    assert f"Received it: {N}" in reports[0].params["text"]
    assert "took back" in second.log
    assert_no_traceback(first.log)  # the second's stop: see the last test


async def test_two_processes_one_sends_and_the_other_takes_over_when_it_is_killed(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one process by design: the sender lock is PostgreSQL's")
    db = Database(database_url)
    try:
        # One fake server per process, so each call says which process made it; to the
        # processes it is all one Telegram.
        async with FakeBotAPI() as fake_a, FakeBotAPI() as fake_b:
            fakes = [fake_a, fake_b]
            procs = [
                await Instance.start(
                    fake,
                    database_url,
                    tmp_path,
                    BROADCAST_POLL_SECONDS="0.5",
                    DELIVERY_RATE=str(RATE),
                )  # fmt: skip
                for fake in fakes
            ]
            try:
                bid = await db.broadcast_to_everyone()  # both up: whichever holds the lock sends
                waits = [
                    asyncio.create_task(f.wait_for(nth_announcement(1), timeout=30)) for f in fakes
                ]
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for wait in waits:
                    wait.cancel()
                leader = 0 if announcements(fake_a) else 1  # whichever took the lock first
                standby = 1 - leader
                await procs[leader].until(fakes[leader].wait_for(nth_announcement(50), timeout=30))
                assert announcements(fakes[standby]) == []  # alive, standing by
                assert procs[standby].proc.returncode is None
                await procs[leader].kill()
                done = await procs[standby].until(db.wait_reported(bid))
            finally:
                for running in procs:
                    await running.stop()
            by_leader, by_standby = announcements(fakes[leader]), announcements(fakes[standby])
        rows = await db.rows(bid)
    finally:
        await db.close()
    assert by_standby and max(c.at for c in by_leader) < min(c.at for c in by_standby)
    got = chats(by_leader) + chats(by_standby)
    assert set(got) == set(range(FIRST, FIRST + N))
    assert {r.status for r in rows} == {"sent"} and done.recipients == N
    # Twice: only people the dead sender had sent to, whose rows it had not marked yet (the
    # standby may be marking rows by now, so that set is not read from the database here).
    twice = {chat for chat, n in got.items() if n > 1}
    assert twice <= set(chats(by_leader)) and max(got.values()) <= 2
    assert len(twice) <= CONCURRENCY
    print(f"\nkilled the sender after {len(by_leader)} sends: {len(twice)} in flight went twice")
    # Each process keeps to the rate; at the handover two limiters' first slots may meet.
    most = most_in_a_second(by_leader + by_standby)
    print(f"at most {most} sends in any second (DELIVERY_RATE {RATE})")
    assert most <= RATE + 2
    assert "now the one sending" in procs[standby].log and "took back" in procs[standby].log


async def test_a_stop_mid_broadcast_lets_the_sends_in_flight_end_and_be_written(
    database_url: str, tmp_path: Path
) -> None:
    if database_url.startswith("postgresql"):
        pytest.skip("the same on both backends: run on SQLite only, to keep this file short")
    db = Database(database_url)
    try:
        async with FakeBotAPI() as fake:
            bid = await db.broadcast_to_everyone()
            running = await Running.start(fake, database_url, tmp_path)
            try:
                await running.until(fake.wait_for(nth_announcement(50), timeout=30))
            finally:
                log = await running.stop()  # as an operator stops it, mid-batch
            got = chats(announcements(fake))
        written = await db.sent_chats(bid)
    finally:
        await db.close()
    assert set(got) == written  # nothing sent and left unwritten: a restart repeats nobody
    assert_no_traceback(log)
