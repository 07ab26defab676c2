"""APScheduler, started with the bot: periodic ticks over rows in the database (reminders
every REMINDER_TICK_SECONDS, and hourly the update ids too old to be redelivered).

The scheduler holds no state worth keeping: reminders are rows, so a restart loses nothing
and several instances can tick at once (each claims different rows).
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.reminders import Ticker

log = logging.getLogger(__name__)


def build_scheduler(ticker: Ticker, *, every: float) -> AsyncIOScheduler:
    """The reminder tick every `every` seconds; a slow tick is never run twice at once."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        _tick,
        "interval",
        seconds=every,
        args=[ticker],
        id="reminders",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        _prune, "interval", hours=1, args=[ticker], id="prune", max_instances=1, coalesce=True
    )
    return scheduler


async def _prune(ticker: Ticker) -> None:
    try:
        removed = await ticker.prune()
    except Exception:
        log.exception("pruning processed updates failed; the next hour retries")
        return
    if removed:
        log.info("forgot %d processed update ids older than two days", removed)


async def _tick(ticker: Ticker) -> None:
    try:
        report = await ticker.tick()
    except Exception:
        log.exception("reminder tick failed; the next one retries")
        return
    if report.claimed:
        log.info(
            "reminders: %d claimed, %d sent, %d later, %d cancelled, %d failed, %d blocked",
            report.claimed, report.sent, report.deferred, report.cancelled, report.failed,
            report.blocked,
        )  # fmt: skip
