"""`juragan webhook` as real processes against the fake Bot API, which plays Telegram's webhook
side (it POSTs each update with the secret token, round-robin over the instances, as a reverse
proxy would spread them): one instance through a whole conversation and a graceful stop, its
JSON log one line per update and free of personal data; and on PostgreSQL two instances at once:
each update handled once whichever gets it, each reminder sent once by one sender within the
bot-wide rate, and the other instance taking over when that one is killed."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flows import reminders as rules
from storage import reminders as reminder_store
from storage import repo
from storage.db import create_engine, create_sessionmaker
from storage.models import Person, utcnow
from tests.support.fake_bot_api import Call, FakeBotAPI
from tests.support.process import (
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    Instance,
    most_in_a_second,
    press,
    step,
)

UID = 7301
RATE = 20  # DELIVERY_RATE for the two instances: the fake enforces Telegram's 30/s besides
KIND = rules.TRAINING_DAY_BEFORE.key


async def onboard(fake: FakeBotAPI, uid: int) -> None:
    async def answer(action: Any, text: str) -> None:
        await step(fake, uid, action, text)

    await answer(lambda: fake.send_text(uid, "/start"), "UU No. 27")
    await answer(lambda: press(fake, "Setuju", uid), "langkah 1 dari 8")
    await answer(lambda: press(fake, "Bahasa Indonesia", uid), "langkah 2 dari 8")
    await answer(lambda: fake.send_text(uid, "Siti Aminah"), "langkah 3 dari 8")
    await answer(lambda: fake.send_contact(uid, "6281234567890"), "langkah 4 dari 8")
    await answer(lambda: fake.send_text(uid, "Jawa Tengah"), "langkah 5 dari 8")
    await answer(lambda: fake.send_text(uid, "Cilacap"), "langkah 6 dari 8")
    await answer(lambda: press(fake, "Hong Kong", uid), "langkah 7 dari 8")
    await answer(lambda: fake.send_text(uid, "4 tahun"), "langkah 8 dari 8")
    await answer(lambda: press(fake, "Pelatihan", uid), "Siti Aminah")


async def stored(database_url: str, uid: int) -> Person | None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await repo.person_by_telegram_id(session, telegram_id=uid)
    finally:
        await engine.dispose()


def assert_private(log: str) -> None:
    assert "Siti" not in log and "81234567890" not in log, log
    at = log.find("Traceback")
    assert at < 0, log[max(0, at - 1500) : at + 4000]


def sample(metrics: str, name: str, **labels: str) -> float:
    """One sample of Prometheus text (0 when absent: a counter never touched)."""
    for line in metrics.splitlines():
        match = re.fullmatch(r"([a-z_]+)(\{.*\})? (\S+)", line)
        if match and match.group(1) == name:
            if dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")) == labels:
                return float(match.group(3))
    return 0.0


async def test_webhook_refuses_to_start_without_its_settings(tmp_path: Path) -> None:
    base = {
        **os.environ,
        "BOT_TOKEN": "123456:TEST-token",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "WEBHOOK_URL": WEBHOOK_URL,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    cases = {
        "WEBHOOK_URL is not set": {"WEBHOOK_URL": ""},
        "WEBHOOK_SECRET is not set": {"WEBHOOK_SECRET": ""},
        "WEBHOOK_SECRET is malformed": {"WEBHOOK_SECRET": "has spaces and ümlauts"},
        "WEBHOOK_URL is malformed": {"WEBHOOK_URL": "http://plain.example.test/hook"},
        "WEBHOOK_PORT is malformed": {"WEBHOOK_PORT": "99999"},
    }
    for expected, change in cases.items():
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "webhook", env={**base, **change}, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 2, output
        assert expected in output.decode(), output
        assert "Traceback" not in output.decode()


async def test_one_instance_takes_a_conversation_and_stops_gracefully(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeBotAPI() as fake:
        instance = await Instance.start(fake, database_url, tmp_path, LOG_FORMAT="json")
        try:
            hook = fake.calls_to("setWebhook")[-1].params
            assert hook["url"] == WEBHOOK_URL and hook["secret_token"] == WEBHOOK_SECRET
            assert {"message", "callback_query", "my_chat_member"} <= set(hook["allowed_updates"])
            assert int(hook["max_connections"]) == 40 and not hook.get("drop_pending_updates")
            fake.deliver_webhooks([instance.url])
            await onboard(fake, UID)
            refused = {"update_id": 999, "message": {"text": "/start"}}
            assert await fake.post_update(instance.url, refused, secret="wrong") == 401
            status, metrics = await instance.get("/metrics")
            assert status == 200
            assert sample(metrics, "juragan_updates_total", outcome="handled", type="message") == 6
            assert sample(metrics, "juragan_webhook_rejected_total", reason="secret") == 1
        finally:
            log = await instance.stop()
        assert instance.proc.returncode == 0, log
        person = await stored(database_url, UID)
        assert person is not None and person.onboarded_at is not None
        assert person.phone == "+6281234567890"
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line JSON
    updates = [line for line in lines if line["logger"] == "juragan.updates"]
    assert len(updates) == 10 and {u["outcome"] for u in updates} == {"handled"}
    assert all(u["ms"] >= 0 and isinstance(u["update_id"], int) for u in updates)
    assert [line["message"] for line in lines][-1] == "stopped"
    assert_private(log)


def quiet_hours_elsewhere() -> str:
    """QUIET_HOURS that exclude now in WIB (the people below live in Jawa Timur)."""
    hour = (datetime.now(UTC).hour + 7) % 24
    return f"{(hour + 3) % 24}-{(hour + 4) % 24}"


class People:
    """People with a reminder due now, written straight into the shared database."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sessions = create_sessionmaker(self.engine)

    async def due_now(self, first: int, count: int) -> range:
        async with self.sessions() as session, session.begin():
            for tid in range(first, first + count):
                person = await repo.create_person(session, telegram_id=tid, locale="id")
                await repo.update_person(
                    session, person, province_code="35", regency_code="35.78",
                    onboarded_at=utcnow(),
                )  # fmt: skip
                at = datetime.now(UTC) + timedelta(days=1)
                await reminder_store.schedule(
                    session, person_id=person.id, kind=KIND, key=f"e2e:{tid}",
                    due_at=utcnow() - timedelta(minutes=1),
                    payload={"title": "Pelatihan jualan online", "at": at.isoformat(),
                             "where": "Balai Desa"},
                )  # fmt: skip
        return range(first, first + count)

    async def close(self) -> None:
        await self.engine.dispose()


def reminders_to(fake: FakeBotAPI, chats: range) -> list[Call]:
    wanted = {str(c) for c in chats}
    return [
        c
        for c in fake.calls_to("sendMessage")
        if c.error_code is None and str(c.params.get("chat_id")) in wanted
    ]


async def all_reminded(fake: FakeBotAPI, chats: range, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while {int(c.params["chat_id"]) for c in reminders_to(fake, chats)} != set(chats):
        assert time.monotonic() < deadline, f"{len(reminders_to(fake, chats))} of {len(chats)}"
        await asyncio.sleep(0.1)


async def leaders(instances: list[Instance]) -> list[str]:
    return [(await i.health())[1].get("sender", "?") for i in instances]


async def test_two_instances_share_one_database_each_update_and_reminder_once(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one process by design; several instances need PostgreSQL")
    people = People(database_url)
    settings = {
        "REMINDER_TICK_SECONDS": "0.5",
        "DELIVERY_RATE": str(RATE),
        "QUIET_HOURS": quiet_hours_elsewhere(),
        "LOG_FORMAT": "json",
    }
    redis = os.environ.get("JURAGAN_TEST_REDIS_URL")
    if redis:  # as in production: the flood windows shared through Redis
        settings["REDIS_URL"] = redis
    try:
        async with FakeBotAPI() as fake:
            fake.rate_limit(30)  # Telegram's own limit: a 429 would mean the rate was broken
            a = await Instance.start(fake, database_url, tmp_path, **settings)
            b = await Instance.start(fake, database_url, tmp_path, **settings)
            try:
                # 1. A conversation whose updates alternate between the two instances.
                fake.deliver_webhooks([a.url, b.url], connections=1)
                await onboard(fake, UID)
                # The reply comes before the 200, which is when a post is written down.
                await fake.wait_until(lambda: len(fake.webhook_posts) >= 10)
                targets = Counter(target for target, _, status in fake.webhook_posts)
                assert targets[a.url] == targets[b.url] == 5  # every other update
                person = await stored(database_url, UID)
                assert person is not None and person.onboarded_at is not None

                # 2. The same update delivered to both at once (a retry meeting the original).
                since = len(fake.calls)
                updates = [
                    {"update_id": 50_000 + i, "message": {
                        "message_id": 1, "date": int(time.time()), "text": "/help",
                        "chat": {"id": 7400 + i, "type": "private"},
                        "from": {"id": 7400 + i, "is_bot": False, "first_name": "Rina"},
                    }}
                    for i in range(20)
                ]  # fmt: skip
                statuses = await asyncio.gather(
                    *(fake.post_update(i.url, u) for u in updates for i in (a, b))
                )
                # A copy meeting replies the other instance may still be sending is answered
                # 503 (Telegram posts it again later); every update got its 200 from one.
                assert set(statuses) <= {200, 503}
                assert all(200 in statuses[2 * i : 2 * i + 2] for i in range(len(updates)))
                replies = Counter(
                    (c.params["chat_id"], c.params["text"])
                    for c in fake.calls[since:]
                    if c.method == "sendMessage" and c.error_code is None
                )  # a burst of 40 gets 429s from the fake: the replies wait and go again
                assert {chat for chat, _ in replies} == set(range(7400, 7420))
                assert set(replies.values()) == {1}  # nobody got anything twice

                # 3. Reminders due now: one instance sends them, each once, within the rate.
                since = len(fake.calls)
                batch = await people.due_now(30_000, 120)
                await all_reminded(fake, batch)
                await asyncio.sleep(1.5)  # three more ticks: nothing more may come
                sent = reminders_to(fake, batch)
                assert Counter(int(c.params["chat_id"]) for c in sent) == Counter(batch)
                assert [c for c in fake.calls[since:] if c.error_code == 429] == []
                assert most_in_a_second(sent) <= RATE + 2
                roles = await leaders([a, b])
                assert sorted(roles) == ["leader", "standby"], roles
                for instance in (a, b):
                    assert (await instance.health())[1]["redis"] == ("ok" if redis else "off")
                leader, standby = (a, b) if roles[0] == "leader" else (b, a)
                counts = [
                    sample((await i.get("/metrics"))[1], "juragan_deliveries_total",
                           kind="reminder", outcome="sent")
                    for i in (leader, standby)
                ]  # fmt: skip
                assert counts == [120, 0]

                # 4. The sender dies; the other takes over and sends the next ones, once.
                await leader.kill()
                later = await people.due_now(31_000, 40)
                await all_reminded(fake, later)
                await asyncio.sleep(1.5)
                again = reminders_to(fake, later)
                assert Counter(int(c.params["chat_id"]) for c in again) == Counter(later)
                assert (await standby.health())[1]["sender"] == "leader"
            finally:
                for instance in (a, b):
                    await instance.stop()
    finally:
        await people.close()
    assert standby.proc.returncode == 0
    assert_private(a.log + b.log)


async def test_sigterm_lets_the_update_in_flight_finish_and_answer(tmp_path: Path) -> None:
    """systemd or docker stops an instance (SIGTERM) while it handles an update: the update is
    finished, its reply sent and its POST answered 200, then the process exits 0."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'j.db'}"
    async with FakeBotAPI(latency=1.5) as fake:  # every reply takes 1.5 s to be accepted
        instance = await Instance.start(fake, url, tmp_path)
        start = {"update_id": 77, "message": {
            "message_id": 1, "date": int(time.time()), "text": "/start",
            "chat": {"id": UID, "type": "private"},
            "from": {"id": UID, "is_bot": False, "first_name": "Rina", "language_code": "id"},
        }}  # fmt: skip
        posting = asyncio.create_task(fake.post_update(instance.url, start))
        await fake.wait_for(lambda c: c.method == "sendMessage", timeout=15)  # in flight now
        stopping = asyncio.create_task(instance.stop())
        assert await posting == 200
        log = await stopping
    assert instance.proc.returncode == 0, log
    # the welcome and the consent notice (three messages)
    assert len([c for c in fake.calls_to("sendMessage") if c.error_code is None]) == 4
    assert "finishing the updates in flight" in log and log.rstrip().endswith("stopped")
