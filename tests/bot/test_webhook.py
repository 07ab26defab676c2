"""The webhook server in process (bot.web.Server over a real app, its real aiohttp session and
the fake Bot API): the secret token, malformed bodies, answers after the commit, duplicates,
/healthz and /metrics, and the one log line per update."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram.methods import SendMessage
from aiohttp import web
from sqlalchemy import func, select, text

from bot.app import REPLAY_AFTER, App, build_app
from bot.config import Settings
from bot.logs import JsonFormatter, SafeTracebacks, guard_personal_data
from bot.outbox import as_data
from bot.web import Server
from flows import clock
from storage import repo
from storage.db import create_engine
from storage.models import ProcessedUpdate
from tests.support.fake_bot_api import FakeBotAPI

SECRET = "s3cret-Token_1"
PATH = "/tg/hook"
UID = 8101


class Running:
    def __init__(self, app: App, fake: FakeBotAPI, url: str, server: Server) -> None:
        self.app, self.fake, self.url, self.server = app, fake, url, server
        self.client = aiohttp.ClientSession()

    async def post(
        self, body: Any, *, secret: str | None = SECRET, raw: bytes | None = None
    ) -> int:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.client.post(self.url + PATH, data=data, headers=headers) as response:
            await response.read()
            return response.status

    async def get(self, path: str) -> tuple[int, str]:
        async with self.client.get(self.url + path) as response:
            return response.status, await response.text()

    async def processed(self) -> int:
        async with self.app.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0)


def text_update(update_id: int, text: str, uid: int = UID) -> dict[str, Any]:
    user = {"id": uid, "is_bot": False, "first_name": "Siti", "language_code": "id"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": uid, "type": "private", "first_name": "Siti"},
            "from": user,
            "text": text,
        },
    }


@pytest_asyncio.fixture
async def running(settings: Settings) -> AsyncIterator[Running]:
    async with FakeBotAPI() as fake:
        config = settings.model_copy(
            update={"telegram_api_url": fake.base_url, "webhook_url": "https://x.test" + PATH}
        )
        app = build_app(config, token="123456:TEST-token")
        server = Server(app, secret=SECRET, path=PATH)
        runner = web.AppRunner(server.web, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        app.heartbeat.beat = app.heartbeat.tick = time.monotonic()  # as a started scheduler
        run = Running(app, fake, f"http://127.0.0.1:{port}", server)
        try:
            yield run
        finally:
            await run.client.close()
            await runner.cleanup()
            await app.close()


def sends(fake: FakeBotAPI) -> list[Any]:
    return [c for c in fake.calls_to("sendMessage") if c.params.get("chat_id") == UID]


async def test_an_update_is_answered_after_its_reply_was_sent(running: Running) -> None:
    assert await running.post(text_update(1, "/start")) == 200
    # Answered 200 only once handled: the reply is at the fake and the update id recorded.
    assert any("UU No. 27" in c.params["text"] for c in sends(running.fake))
    assert await running.processed() == 1


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
async def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_processed(
    running: Running, secret: str | None
) -> None:
    assert await running.post(text_update(1, "/start"), secret=secret) == 401
    assert sends(running.fake) == [] and await running.processed() == 0
    _, metrics = await running.get("/metrics")
    assert 'juragan_webhook_rejected_total{reason="secret"} 1.0' in metrics
    # Not even counted as an update (the series exist from the start, at 0).
    assert 'juragan_updates_total{outcome="handled",type="message"} 0.0' in metrics
    assert 'juragan_updates_total{outcome="error",type="message"} 0.0' in metrics


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1, 2]", b'{"no_update_id": 1}', b'{"update_id": "x"}', b"\xff\xfe"],
)
async def test_a_body_that_is_not_an_update_is_refused(running: Running, raw: bytes) -> None:
    assert await running.post(None, raw=raw) == 400
    assert sends(running.fake) == [] and await running.processed() == 0
    _, metrics = await running.get("/metrics")
    assert 'juragan_webhook_rejected_total{reason="malformed"} 1.0' in metrics


async def test_the_same_update_twice_at_once_is_handled_once(running: Running) -> None:
    update = text_update(7, "/start")
    statuses = await asyncio.gather(*(running.post(update) for _ in range(4)))
    assert statuses == [200, 200, 200, 200]
    texts = [c.params["text"] for c in sends(running.fake)]
    # /start's welcome and the consent notice (three messages), once
    assert len(texts) == len(set(texts)) == 4
    assert await running.processed() == 1
    _, metrics = await running.get("/metrics")
    assert 'juragan_updates_total{outcome="handled",type="message"} 1.0' in metrics
    assert 'juragan_updates_total{outcome="duplicate",type="message"} 3.0' in metrics


async def test_a_redelivered_update_committed_but_never_answered_gets_its_replies(
    running: Running,
) -> None:
    """An instance died between the commit of update 9 and its replies: Telegram, without a
    200, posts it again (to any instance). While the replies are young the instance that
    committed them may still be sending them (held back by a 429): the copy is answered 503 and
    Telegram posts it again later. Then the stored replies are sent, not the handler's."""
    stored = SendMessage(chat_id=UID, text="Tersimpan sebelum mati")
    async with running.app.sessionmaker() as session, session.begin():
        await repo.mark_processed(session, update_id=9, replies=as_data([stored]))
    assert await running.post(text_update(9, "/start")) == 503  # maybe still being sent
    assert sends(running.fake) == []
    later = clock.now() + timedelta(seconds=REPLAY_AFTER + 1)
    clock.set_clock(lambda: later)  # the autouse fixture restores the clock
    assert await running.post(text_update(9, "/start")) == 200
    assert [c.params["text"] for c in sends(running.fake)] == ["Tersimpan sebelum mati"]
    async with running.app.sessionmaker() as session:
        assert (await session.get(ProcessedUpdate, 9)).replies is None
    assert await running.post(text_update(9, "/start")) == 200  # now a plain duplicate
    assert len(sends(running.fake)) == 1
    _, metrics = await running.get("/metrics")
    assert 'juragan_updates_total{outcome="replayed",type="message"} 1.0' in metrics
    assert 'juragan_updates_total{outcome="duplicate",type="message"} 1.0' in metrics


async def test_healthz_says_each_part_is_ok(running: Running) -> None:
    status, body = await running.get("/healthz")
    assert status == 200
    # SQLite has one process, always the sender; on PostgreSQL nothing took the lock here.
    sender = "standby" if running.app.leader.postgres else "leader"
    assert json.loads(body) == {
        "status": "ok", "database": "ok", "scheduler": "ok", "redis": "off", "sender": sender
    }  # fmt: skip


async def test_healthz_fails_when_the_scheduler_stops_ticking(running: Running) -> None:
    running.app.heartbeat.beat = time.monotonic() - 120
    status, body = await running.get("/healthz")
    assert status == 503
    found = json.loads(body)
    assert found["status"] == "failing" and found["scheduler"].startswith("stalled")
    assert found["database"] == "ok"
    running.app.heartbeat.beat = time.monotonic()
    running.app.heartbeat.tick = time.monotonic() - 3600  # the beat goes on, the tick hangs
    status, body = await running.get("/healthz")
    assert status == 503 and "no reminder tick" in json.loads(body)["scheduler"]


async def test_healthz_fails_when_the_database_is_unreachable(running: Running) -> None:
    real = running.app.engine
    running.app.engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        status, body = await running.get("/healthz")
    finally:
        await running.app.engine.dispose()
        running.app.engine = real
    assert status == 503
    found = json.loads(body)
    assert found["database"].startswith("unreachable") and found["scheduler"] == "ok"


async def test_an_update_the_database_cannot_take_is_answered_503_for_telegram_to_retry(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    transactions = running.app.dp["transactions"]

    def down() -> Any:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(transactions, "begin", down)
    assert await running.post(text_update(3, "/start")) == 503
    monkeypatch.undo()
    assert await running.processed() == 0  # not recorded: the retry is handled
    assert await running.post(text_update(3, "/start")) == 200
    assert any("UU No. 27" in c.params["text"] for c in sends(running.fake))
    _, metrics = await running.get("/metrics")
    assert 'juragan_updates_total{outcome="retry",type="message"} 1.0' in metrics


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text."""
    for line in metrics.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-z_]+)(\{.*\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    raise AssertionError(f"no sample {name}{labels}")


async def test_metrics_count_updates_latency_deliveries_pending_and_errors(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n, command in enumerate(["/start", "/help", "/menu"], start=1):
        assert await running.post(text_update(n, command)) == 200
    delivery = running.app.ticker.delivery
    assert (await delivery.send(UID, "hai", kind="reminder")).outcome == "sent"
    running.fake.block(UID)
    assert (await delivery.send(UID, "hai", kind="broadcast")).outcome == "blocked"
    logging.getLogger("bot.somewhere").error("something broke")
    status, metrics = await running.get("/metrics")
    assert status == 200
    assert sample(metrics, "juragan_updates_total", outcome="handled", type="message") == 3
    assert sample(metrics, "juragan_update_duration_seconds_count", type="message") == 3
    assert sample(metrics, "juragan_update_duration_seconds_bucket", le="+Inf", type="message") == 3
    assert sample(metrics, "juragan_deliveries_total", kind="reminder", outcome="sent") == 1
    assert sample(metrics, "juragan_deliveries_total", kind="broadcast", outcome="blocked") == 1
    assert sample(metrics, "juragan_errors_total", logger="bot.somewhere") == 1
    assert sample(metrics, "juragan_reminders_pending") == 0
    assert sample(metrics, "juragan_reminders_overdue") == 0
    assert sample(metrics, "juragan_deliveries_pending") == 0
    assert sample(metrics, "juragan_sender_leader") == (0 if running.app.leader.postgres else 1)
    assert sample(metrics, "juragan_scheduler_heartbeat_age_seconds") < 60
    assert sample(metrics, "process_resident_memory_bytes") > 10_000_000


async def test_one_log_line_per_update_with_no_personal_data(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert await running.post(text_update(1, "/start")) == 200
    assert await running.post(text_update(2, "Siti Aminah 081234567890")) == 200
    assert await running.post(text_update(2, "Siti Aminah 081234567890")) == 200
    lines = [r for r in caplog.records if r.name == "juragan.updates"]
    assert [(r.update_id, r.update_type, r.outcome) for r in lines] == [  # type: ignore[attr-defined]
        (1, "message", "handled"),
        (2, "message", "handled"),
        (2, "message", "duplicate"),
    ]
    formatter = JsonFormatter()
    for record in caplog.records:
        line = formatter.format(record)
        assert "Siti" not in line and "81234567890" not in line and str(UID) not in line
    parsed = json.loads(formatter.format(lines[0]))
    assert parsed["update_id"] == 1 and parsed["outcome"] == "handled" and parsed["ms"] >= 0
    assert parsed["level"] == "INFO" and parsed["logger"] == "juragan.updates"


async def test_a_reply_telegram_asks_to_hold_back_waits_and_goes(running: Running) -> None:
    """Many people answered in one second: Telegram says 429 and retry_after. The person's
    reply waits that long and goes; it is not dropped (a 5xx is tried once more too)."""
    running.fake.fail_next("sendMessage", code=429, retry_after=1, chat_id=UID)
    running.fake.fail_next("sendMessage", code=502, chat_id=UID)
    assert await running.post(text_update(1, "/start")) == 200
    delivered = [c for c in sends(running.fake) if c.error_code is None]
    failed = [c.error_code for c in sends(running.fake) if c.error_code is not None]
    assert failed == [429, 502]
    assert len(delivered) == 4 and "UU No. 27" in delivered[-1].params["text"]


async def test_metrics_count_the_reminders_and_announcements_waiting(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from bot import metrics as metrics_module
    from storage import broadcasts as store
    from storage import reminders, repo
    from storage.models import utcnow

    monkeypatch.setattr(metrics_module, "COUNT_EVERY", 0.0)  # count on every scrape
    async with running.app.sessionmaker() as session, session.begin():
        author = await repo.create_person(session, telegram_id=UID + 1, locale="id")
        await repo.set_role(session, person_id=author.id, role="coordinator")
        for n, late in enumerate([timedelta(hours=-1), timedelta(minutes=-20), timedelta(days=2)]):
            person = await repo.create_person(session, telegram_id=9000 + n, locale="id")
            await repo.update_person(
                session, person, province_code="35", announcements=True, onboarded_at=utcnow()
            )
            await reminders.schedule(
                session, person_id=person.id, kind="training_day_before", key=f"m:{n}",
                due_at=utcnow() + late, payload={"title": "x"},
            )  # fmt: skip
        bid = await store.create_draft(
            session, author_id=author.id, text="Halo", segment={"kind": "all"}
        )
    async with running.app.sessionmaker() as session, session.begin():
        assert await store.start(session, bid, now=utcnow()) == 3
    _, metrics = await running.get("/metrics")
    assert sample(metrics, "juragan_reminders_pending") == 3
    assert sample(metrics, "juragan_reminders_overdue") == 2  # due an hour and 20 minutes ago
    assert sample(metrics, "juragan_deliveries_pending") == 3


async def close_every_other_connection(url: str) -> int:
    """What a PostgreSQL restart does to the app's pooled connections."""
    admin = create_engine(url)
    try:
        async with admin.connect() as connection:
            return int(
                await connection.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            )
    finally:
        await admin.dispose()


async def test_after_the_database_closed_every_connection_the_next_update_is_answered(
    running: Running,
) -> None:
    """A PostgreSQL restart or failover closes the pooled connections. The next update finds
    its connection dead, the pool drops them all, and the update is tried once more: answered
    200 with its reply, not 503 (there is no ping before each update). /healthz likewise."""
    if not running.app.leader.postgres:
        pytest.skip("PostgreSQL's pool; SQLite holds one file connection")
    url = running.app.settings.database_url
    assert await running.post(text_update(1, "/start")) == 200  # the pool has a connection
    assert await close_every_other_connection(url) >= 1
    status, body = await running.get("/healthz")
    assert status == 200 and json.loads(body)["database"] == "ok"
    assert await close_every_other_connection(url) >= 1
    before = len(sends(running.fake))
    assert await running.post(text_update(2, "/help")) == 200
    assert len(sends(running.fake)) > before
    _, metrics = await running.get("/metrics")
    assert sample(metrics, "juragan_updates_total", outcome="handled", type="message") == 2


async def test_during_a_rotation_a_second_secret_is_accepted_but_never_registered(
    running: Running,
) -> None:
    """WEBHOOK_SECRET_ALSO: every instance accepts the new secret before any registers it, so
    a rolling restart refuses nothing (README, Rotating the webhook secret)."""
    rotating = Server(running.app, secret=SECRET, path=PATH, also="the-next-one")
    runner = web.AppRunner(rotating.web, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with running.client.post(
            url + PATH, json=text_update(1, "/start"),
            headers={"X-Telegram-Bot-Api-Secret-Token": "the-next-one"},
        ) as answer:  # fmt: skip
            assert answer.status == 200
        for secret, status in ((SECRET, 200), ("the-next-on", 401), ("", 401)):
            async with running.client.post(
                url + PATH, json=text_update(2, "/help"),
                headers={"X-Telegram-Bot-Api-Secret-Token": secret},
            ) as answer:  # fmt: skip
                assert answer.status == status, secret
    finally:
        await runner.cleanup()
    # The server without it (the fixture's) still refuses the new secret.
    assert await running.post(text_update(3, "/menu"), secret="the-next-one") == 401


def test_the_second_secret_is_checked_like_the_first() -> None:
    from bot.config import ConfigError, load_settings

    settings = load_settings(
        webhook_url="https://x.test/h", webhook_secret="ok", webhook_secret_also="not ok!",
        _env_file=None,
    )  # fmt: skip
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET_ALSO is malformed"):
        settings.require_webhook()


async def test_an_error_line_says_where_and_what_without_personal_data(
    running: Running, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.handlers import start as start_handlers

    assert await running.post(text_update(1, "/start")) == 200

    typed = "".join(["Si", "ti Ami", "nah 08", "1234567890"])  # what a person wrote

    def explode(*args: Any, **kwargs: Any) -> None:
        raise KeyError(typed)  # (a traceback shows this line of source, never the value)

    monkeypatch.setattr(start_handlers, "consent_text", explode, raising=False)
    monkeypatch.setattr(start_handlers, "_", explode, raising=False)
    caplog.set_level(logging.INFO)
    assert await running.post(text_update(2, "/start")) == 200  # answered: an apology
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, [r.getMessage() for r in caplog.records]
    line = errors[0].getMessage()
    assert line.startswith("update 2 (message) failed in bot/handlers/start.py:")
    assert line.endswith(": KeyError")
    assert "Siti" not in line
    # The traceback keeps every frame, and the exception's type but not its message, which may
    # quote what a person typed; in both formats.
    for formatter in (JsonFormatter(), SafeTracebacks("%(message)s")):
        written = formatter.format(errors[0])
        assert "bot/handlers/start.py" in written and "KeyError" in written
        assert "Siti" not in written and "081234567890" not in written
    _, metrics = await running.get("/metrics")
    assert 'juragan_updates_total{outcome="error",type="message"} 1.0' in metrics
    assert sample(metrics, "juragan_errors_total", logger="bot.middlewares") == 1


def nested(depth: int) -> bytes:
    return b'{"update_id": 5, "x": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(text_update(2**63, "/start")).encode(),  # update_id above int64
        json.dumps(text_update(1, "/start", uid=2**64 + 777)).encode(),  # a user id above it
        json.dumps({**text_update(1, "/start"), "x": {"id": -(2**63) - 1}}).encode(),
        nested(5000),  # json's own recursion limit: a RecursionError, not a 500
        nested(200),  # within json's limit, beyond any real update
        b"[" * 5000 + b"]" * 5000,
    ],
    ids=["update_id", "from.id", "nested id", "5000 deep", "200 deep", "deep array"],
)
async def test_ids_beyond_int64_and_deep_nesting_are_refused_with_400(
    running: Running, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    assert await running.post(None, raw=raw) == 400
    assert sends(running.fake) == [] and await running.processed() == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    _, metrics = await running.get("/metrics")
    assert 'juragan_webhook_rejected_total{reason="malformed"} 1.0' in metrics


async def test_an_update_nested_as_deep_as_telegram_nests_is_taken(running: Running) -> None:
    update = text_update(1, "/start")
    reply = update["message"]
    for n in range(6):  # a reply to a reply ... with a keyboard: ~20 levels
        reply["reply_to_message"] = {**text_update(100 + n, "hai")["message"]}
        reply = reply["reply_to_message"]
    reply["reply_markup"] = {"inline_keyboard": [[{"text": "x", "callback_data": "y"}]]}
    assert await running.post(update) == 200
    assert await running.processed() == 1


async def test_an_unknown_update_kind_is_one_neutral_line_and_no_warning(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """aiogram warns about an update kind it does not know with the whole update in the
    text (names, phone numbers, what was typed), outside the log handler; the bot silences it
    and its own line says "unknown"."""
    import warnings

    caplog.set_level(logging.DEBUG)
    update = {
        "update_id": 9,
        "future_kind": {
            "from": {"id": 777000123, "is_bot": False, "first_name": "Siti Aminah"},
            "text": "Siti Aminah NIK 3578014101900001 HP 081234567890",
        },
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        guard_personal_data()  # as build_app did (catch_warnings reset the filters)
        assert await running.post(update) == 200
    assert [str(w.message)[:40] for w in caught] == []
    lines = [r for r in caplog.records if r.name == "juragan.updates"]
    assert [(r.update_id, r.update_type, r.outcome) for r in lines] == [(9, "unknown", "unhandled")]  # type: ignore[attr-defined]
    for record in caplog.records:
        for formatter in (JsonFormatter(), SafeTracebacks("%(message)s")):
            written = formatter.format(record)
            assert "Siti" not in written and "777000123" not in written
