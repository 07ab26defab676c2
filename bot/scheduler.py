"""APScheduler, started with the bot: periodic ticks over rows in the database.

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
    return scheduler


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
