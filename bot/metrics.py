"""What an operator sees: one log line and a few counters per update, Prometheus metrics, health.

`Observe` is the outermost middleware: it times every update and writes one line with its
update id, type, outcome and latency (never who sent it or what they wrote). The inner
middlewares say how the update ended by setting `data["outcome"]`: throttled (flood control),
duplicate (a redelivered update id), replayed (a redelivered update committed but never
answered: its stored replies sent), error (the handler raised; `retry` when the database was
unreachable and Telegram should deliver it again).
"""

from __future__ import annotations

import logging
import time
from collections import Counter as CountOf
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Reminder,
    ReminderStatus,
    utcnow,
)

log = logging.getLogger("juragan.updates")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
OVERDUE = timedelta(minutes=10)  # a reminder still waiting this long after it was due
COUNT_EVERY = 10.0  # seconds the pending counts are reused between scrapes
# Latency buckets (s): most updates take a few ms; Telegram gives up on a webhook after ~60 s.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OUTCOMES = ("handled", "unhandled", "duplicate", "replayed", "throttled", "error", "retry")
DELIVERY_OUTCOMES = ("sent", "blocked", "retry", "failed")
COMMON_TYPES = ("message", "callback_query")  # the update types the bot gets nearly all of


class ErrorCounter(logging.Handler):
    """Counts every ERROR (and worse) log record by logger: the errors metric sees all of them,
    from handlers, ticks, the sender and libraries alike."""

    def __init__(self, counter: Counter) -> None:
        super().__init__(level=logging.ERROR)
        self.counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        self.counter.labels(logger=record.name).inc()


@dataclass
class Pending:
    reminders: int = 0
    overdue: int = 0
    deliveries: int = 0
    at: float = -1e9  # monotonic time of the count


class Metrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "juragan_updates", "Updates received, by type and outcome", ["type", "outcome"],
            registry=r,
        )  # fmt: skip
        self.duration = Histogram(
            "juragan_update_duration_seconds",
            "Time from receiving an update to its replies sent, by type",
            ["type"],
            buckets=BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "juragan_errors", "Log records at ERROR or worse, by logger", ["logger"], registry=r
        )
        self.rejected = Counter(
            "juragan_webhook_rejected",
            "Webhook requests refused: wrong or missing secret token, or not an update",
            ["reason"],
            registry=r,
        )
        # Known label values start at 0, so Prometheus' increase() sees the first event too
        # (a series born at 1 shows no increase).
        for reason in ("secret", "malformed"):
            self.rejected.labels(reason=reason)
        for kind in COMMON_TYPES:
            for outcome in OUTCOMES:
                self.updates.labels(type=kind, outcome=outcome)
        self.heartbeat_age = Gauge(
            "juragan_scheduler_heartbeat_age_seconds",
            "Seconds since the scheduler last ran its heartbeat job",
            registry=r,
        )
        self.leader = Gauge(
            "juragan_sender_leader",
            "1 on the instance that sends reminders and announcements, else 0",
            registry=r,
        )
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.pending = Pending()
        # (kind, outcome) -> messages; build_app hands in bot.delivery.Delivery's own counter.
        self.deliveries: CountOf[tuple[str, str]] = CountOf()
        r.register(_Collected(self))
        self.error_counter = ErrorCounter(self.errors)

    def observed(self, update_type: str, outcome: str, seconds: float) -> None:
        self.updates.labels(type=update_type, outcome=outcome).inc()
        self.duration.labels(type=update_type).observe(seconds)

    async def refresh(self, sessionmaker: async_sessionmaker[Any]) -> None:
        """Count what waits to be sent, at most every COUNT_EVERY seconds (a count over a
        million pending reminders is an index scan, not free)."""
        now_m = time.monotonic()
        if now_m - self.pending.at < COUNT_EVERY:
            return
        now = utcnow()  # the one clock (aware: due_at is a UTCDateTime, which refuses naive)
        waiting = (ReminderStatus.PENDING, ReminderStatus.SENDING)
        async with sessionmaker() as session:
            reminders, overdue = (
                await session.execute(
                    select(func.count(), func.count().filter(Reminder.due_at < now - OVERDUE))
                    .select_from(Reminder)
                    .where(Reminder.status.in_(waiting))
                )
            ).one()
            running = select(Broadcast.id).where(
                Broadcast.status.in_((BroadcastStatus.SENDING, BroadcastStatus.PAUSED))
            )
            deliveries = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.broadcast_id.in_(running),
                    Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
                )
            )
        self.pending = Pending(int(reminders or 0), int(overdue or 0), int(deliveries or 0), now_m)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Collected:
    """Figures read when scraped: pending counts and deliveries by outcome."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Any:
        p = self.metrics.pending
        for name, doc, value in (
            (
                "juragan_reminders_pending",
                "Reminders waiting to be sent (any due time)",
                p.reminders,
            ),
            (
                "juragan_reminders_overdue",
                "Reminders due more than 10 minutes ago and still waiting",
                p.overdue,
            ),
            (
                "juragan_deliveries_pending",
                "Announcement messages still to send in running broadcasts",
                p.deliveries,
            ),
        ):
            yield GaugeMetricFamily(name, doc, value=value)
        family = CounterMetricFamily(
            "juragan_deliveries",
            "Messages sent outside conversations, by kind and what Telegram answered",
            labels=["kind", "outcome"],
        )
        counts = {(k, o): 0 for k in ("reminder", "broadcast") for o in DELIVERY_OUTCOMES}
        counts.update(self.metrics.deliveries)
        for (kind, outcome), value in sorted(counts.items()):
            family.add_metric([kind, outcome], value)
        yield family


def update_type(update: Update) -> str:
    try:
        return update.event_type
    except Exception:  # an update kind aiogram does not know yet
        return "unknown"


class Observe(BaseMiddleware):
    """Outermost: time the update, count it, and write its one log line."""

    def __init__(self, metrics: Metrics | None) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        start = time.perf_counter()
        kind = update_type(event)
        data["outcome"] = None
        result: Any = UNHANDLED
        try:
            result = await handler(event, data)
        except BaseException:
            data["outcome"] = data.get("outcome") or "error"
            raise
        finally:
            seconds = time.perf_counter() - start
            outcome = data.get("outcome")
            if outcome is None:
                outcome = "unhandled" if result is UNHANDLED else "handled"
                data["outcome"] = outcome
            if self.metrics is not None:
                self.metrics.observed(kind, outcome, seconds)
            report = data.get("report")
            if isinstance(report, dict):
                report["outcome"] = outcome
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "update %s %s %s in %.1f ms",
                    event.update_id, kind, outcome, seconds * 1000,
                    extra={
                        "update_id": event.update_id,
                        "update_type": kind,
                        "outcome": outcome,
                        "ms": round(seconds * 1000, 2),
                    },
                )  # fmt: skip
        return result
