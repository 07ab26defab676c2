"""`juragan webhook`: the production mode. An aiohttp server behind a reverse proxy that takes
Telegram's updates, and tells an operator how the instance is (/healthz) and what it did
(/metrics, Prometheus).

An update is answered 200 only after it was handled, committed and its replies sent, so one
lost with a crashed instance is delivered again by Telegram (and skipped by its update id if it
had been committed, or answered with the replies stored in that commit if they were never sent). When the database cannot be reached the answer is 503: Telegram retries.
A request without the right secret token is refused with 401 before anything is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
import time
from typing import Any

from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import text

from bot.app import App, build_app, settle, start_scheduler, stop
from bot.config import INT64_MAX, Settings
from bot.middlewares import stale_connection
from bot.preflight import listen, reach_telegram, with_telegram

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEARTBEAT_LIMIT = 30.0  # s without the scheduler's heartbeat job: not ticking
DB_TIMEOUT = 3.0  # s for the health check's SELECT 1
SHUTDOWN_GRACE = 30.0  # s updates in flight get to finish on SIGTERM
MAX_DEPTH = 64  # an update nests ~10 deep (a reply's pinned message's keyboard rows)
INT64_MIN = -(2**63)


def tick_limit(settings: Settings) -> float:
    """Seconds a reminder tick may be missing before the instance is unhealthy: five ticks,
    at least five minutes (one tick may send for a while)."""
    return max(5 * settings.reminder_tick_seconds, 300.0)


class Server:
    """The routes over one App: POST <webhook path> (not for `juragan run`, path None),
    GET /healthz, GET /metrics."""

    def __init__(self, app: App, *, secret: str, path: str | None, also: str = "") -> None:
        self.app = app
        # The registered secret, and during a rotation one more accepted (WEBHOOK_SECRET_ALSO).
        self._secrets = [s.encode() for s in (secret, also) if s]
        # RedisStorage's client when REDIS_URL is set (aiogram's MemoryStorage has none).
        self.redis = getattr(app.dp.fsm.storage, "redis", None)
        self.web = web.Application(client_max_size=1024 * 1024)
        if path is not None:
            self.web.router.add_post(path, self.webhook)
        self.web.router.add_get("/healthz", self.healthz)
        self.web.router.add_get("/metrics", self.metrics)

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not any([hmac.compare_digest(given, known) for known in self._secrets]):
            self.app.metrics.rejected.labels(reason="secret").inc()
            log.warning("webhook request refused: missing or wrong secret token")
            return web.Response(status=401, text="Unauthorized")
        bot = self.app.bot
        try:
            raw = await request.json()
            plausible(raw)
            update = Update.model_validate(raw, context={"bot": bot})
        except (ValueError, ValidationError, UnicodeDecodeError, RecursionError):
            self.app.metrics.rejected.labels(reason="malformed").inc()
            log.warning("webhook request refused: the body is not a Telegram update")
            return web.Response(status=400, text="Bad Request: not an update")
        report: dict[str, Any] = {}
        await self.app.dp.feed_webhook_update(bot, update, report=report)
        if report.get("outcome") == "retry":
            return web.Response(status=503, text="Service Unavailable: try again")
        return web.json_response({})

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Each part and whether the whole is healthy."""
        parts: dict[str, Any] = {}
        for attempt in (1, 2):  # a pooled connection the server closed is dropped, then again
            try:
                async with asyncio.timeout(DB_TIMEOUT), self.app.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                parts["database"] = "ok"
                break
            except Exception as exc:
                parts["database"] = f"unreachable ({type(exc).__name__})"
                if attempt == 2 or not stale_connection(exc):
                    break
        now = time.monotonic()
        beat, tick = self.app.heartbeat.age(now), self.app.heartbeat.tick_age(now)
        limit = tick_limit(self.app.settings)
        if beat > HEARTBEAT_LIMIT:
            parts["scheduler"] = f"stalled (no heartbeat for {beat:.0f} s)"
        elif tick > limit:
            parts["scheduler"] = f"stalled (no reminder tick for {tick:.0f} s)"
        else:
            parts["scheduler"] = "ok"
        if self.redis is None:
            parts["redis"] = "off"
        else:
            try:
                async with asyncio.timeout(DB_TIMEOUT):
                    await self.redis.ping()
                parts["redis"] = "ok"
            except Exception as exc:
                parts["redis"] = f"unreachable ({type(exc).__name__})"
        healthy = all(parts[k] in ("ok", "off") for k in ("database", "scheduler", "redis"))
        parts["sender"] = "leader" if self.app.leader.leading else "standby"
        return healthy, {"status": "ok" if healthy else "failing", **parts}

    async def healthz(self, request: web.Request) -> web.Response:
        healthy, body = await self.health()
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        metrics = self.app.metrics
        metrics.heartbeat_age.set(self.app.heartbeat.age())
        metrics.leader.set(1 if self.app.leader.leading else 0)
        try:
            await metrics.refresh(self.app.sessionmaker)
        except Exception as exc:  # the counts stay as last read; the rest is still worth having
            log.warning("pending counts not refreshed: %s", type(exc).__name__)
        return web.Response(
            body=metrics.exposition(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )


def plausible(raw: object) -> None:
    """A ValueError unless `raw` could be what Telegram sends: an object, nested at most
    MAX_DEPTH deep, every whole number within int64 (ids are stored as BIGINT; a bigger one
    would fail in the database, not here). Iterative: a deep body must not recurse."""
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    stack: list[tuple[object, int]] = [(raw, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ValueError("nested too deep")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
        elif isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                raise ValueError("a number out of range")


async def serve_status(app: App, host: str, port: int) -> web.AppRunner:
    """/healthz and /metrics for `juragan run` (STATUS_PORT): the same checks and figures as
    the webhook server gives, without the webhook."""
    server = Server(app, secret="", path=None)
    runner = web.AppRunner(server.web, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await listen(runner, host, port, setting="STATUS_PORT")
    log.info("serving /healthz and /metrics on %s:%s", host, port)
    return runner


async def serve(settings: Settings) -> None:
    """Start everything, register the webhook, serve until SIGTERM or SIGINT, stop gracefully."""
    url, secret = settings.require_webhook()
    app = build_app(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)
    server = Server(app, secret=secret, path=settings.webhook_path, also=settings.also)
    if settings.desk_url:  # the staff desk under DESK_URL's path: one process kind
        from desk.app import build as build_desk
        from desk.app import mount

        mount(server.web, build_desk(settings, app.sessionmaker, app.i18n), settings.desk_path)
    runner = web.AppRunner(server.web, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
    scheduler = None
    dp = app.dp
    within, api = settings.telegram_start_seconds, settings.telegram_api_url
    try:
        await reach_telegram(app.bot, within=within, api_url=api)
        await dp.emit_startup(bot=app.bot, dispatcher=dp, bots=[app.bot], **dp.workflow_data)
        settle()
        await runner.setup()
        await listen(runner, settings.webhook_host, settings.webhook_port, setting="WEBHOOK_PORT")
        scheduler = start_scheduler(app)
        await with_telegram(
            lambda: app.bot.set_webhook(
                url=url,
                secret_token=secret,
                allowed_updates=dp.resolve_used_update_types(),
                max_connections=settings.webhook_max_connections,
                drop_pending_updates=False,
            ),
            what="setWebhook",
            within=within,
            api_url=api,
        )
        log.info(
            "serving webhook %s on %s:%s (also /healthz, /metrics)",
            settings.webhook_path, settings.webhook_host, settings.webhook_port,
        )  # fmt: skip
        await stopping.wait()
        log.info("stopping: finishing the updates in flight")
    finally:
        await runner.cleanup()  # stops taking requests, waits for those in flight
        await stop(app, scheduler)  # app.close() also closes the FSM storage
        log.info("stopped")
