"""APScheduler, started with the bot: periodic jobs over rows in the database (reminders
every REMINDER_TICK_SECONDS, broadcasts every BROADCAST_POLL_SECONDS, hourly, a minute after
the start too, the rows past their retention (bot.retention), every SUMMARY_SECONDS the funnels'
summary tables, every TICKETS_SECONDS the help desk's housekeeping).

The scheduler holds no state worth keeping: reminders and deliveries are rows, so a restart
loses nothing. Only the instance holding the sender lock (bot.leader) sends reminders and
broadcasts, so with several instances the bot-wide rate still holds; the others stand by.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import Sender
from bot.leader import Leader
from bot.notice_sender import NoticeSender
from bot.reminders import Ticker
from bot.retention import Pruner
from flows import clock
from storage import funnel_summary

log = logging.getLogger(__name__)
MAX_PASSES = 1000  # one job run at most (~an hour of sending); the next run goes on
SUMMARY_SECONDS = 600  # the funnels' recent cohorts are at most this old in /statistik


class _ExpectedSkips(logging.Filter):
    """A broadcast run lasts as long as the broadcast; meanwhile APScheduler skips the next
    runs (max_instances=1, as meant) and would warn every poll. Those skips are not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_ExpectedSkips())
HEARTBEAT_SECONDS = 5.0
TICKETS_SECONDS = 600.0  # help desk housekeeping: overdue flags, voice notes past their time
PRUNE_EVERY = 3600.0
PRUNE_FIRST = 60.0  # seconds after the start: an instance restarted hourly still prunes


@dataclass
class Heartbeat:
    """When the scheduler last ran a job of its own (every HEARTBEAT_SECONDS) and when a reminder
    tick last finished (on every instance; one that does not lead finishes at once): /healthz
    reads both, monotonic seconds."""

    beat: float = 0.0
    tick: float = 0.0

    def age(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.beat

    def tick_age(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.tick


def build_scheduler(
    ticker: Ticker,
    *,
    every: float,
    sender: Sender | None = None,
    leader: Leader | None = None,
    poll: float = 2.0,
    heartbeat: Heartbeat | None = None,
    notices: NoticeSender | None = None,
    pruner: Pruner | None = None,
) -> AsyncIOScheduler:
    """The reminder tick every `every` seconds, the broadcast sender and the desk's notices
    every `poll` seconds; a slow run is never started twice at once."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    heartbeat = heartbeat or Heartbeat()
    heartbeat.beat = heartbeat.tick = time.monotonic()  # starting counts as alive

    def every_(seconds: float, job: Any, *args: Any, name: str) -> None:
        """A job every `seconds`: never two runs at once, a late run once, never skipped."""
        scheduler.add_job(
            job, "interval", seconds=seconds, args=list(args), id=name,
            max_instances=1, coalesce=True, misfire_grace_time=None,
        )  # fmt: skip

    every_(HEARTBEAT_SECONDS, _beat, heartbeat, name="heartbeat")
    if sender is not None:
        every_(poll, _send, sender, name="broadcasts")
    if notices is not None:
        every_(poll, _notices, notices, name="notices")
    every_(every, _tick, ticker, leader, heartbeat, name="reminders")
    if pruner is not None:
        scheduler.add_job(
            _retain, "interval", seconds=PRUNE_EVERY, args=[pruner, leader], id="prune",
            max_instances=1, coalesce=True, misfire_grace_time=None,
            next_run_time=datetime.now(UTC) + timedelta(seconds=PRUNE_FIRST),
        )  # fmt: skip
    else:
        every_(PRUNE_EVERY, _prune, ticker, name="prune")
    every_(SUMMARY_SECONDS, summarise, ticker.sessionmaker, leader, name="funnel-summary")
    every_(TICKETS_SECONDS, _tickets, ticker, leader, name="tickets")
    return scheduler


async def _retain(pruner: Pruner, leader: Leader | None = None) -> None:
    """The rows past their retention, deleted by the leading instance only."""
    try:
        if leader is not None and not await leader.hold():
            return
        done = await pruner.run()
    except Exception:
        log.exception("pruning old rows failed; the next hour retries")
        return
    if any(done.rows.values()) or not done.finished:
        log.info(
            "retention: deleted %s in %d batches%s",
            ", ".join(f"{n} {name}" for name, n in done.rows.items() if n),
            done.batches,
            "" if done.finished else "; more left for the next run",
        )


async def summarise(
    sessionmaker: async_sessionmaker[AsyncSession], leader: Leader | None = None
) -> str | None:
    """Recount the funnels' summary tables (storage.funnel_summary), on the leading instance
    only: the recent days every SUMMARY_SECONDS, all days once a day."""
    try:
        if leader is not None and not await leader.hold():
            return None
        async with sessionmaker() as session, session.begin():
            return await funnel_summary.refresh(session, clock.now())
    except Exception:
        log.exception("counting the funnels' summary failed; the next run retries")
        return None


async def _prune(ticker: Ticker) -> None:
    try:
        removed = await ticker.prune()
    except Exception:
        log.exception("pruning processed updates failed; the next hour retries")
        return
    if removed:
        log.info("forgot %d processed update ids older than two days", removed)


async def _tickets(ticker: Ticker, leader: Leader | None = None) -> None:
    """Flag help-desk tickets waiting over a working day; forget voice notes past their time."""
    try:
        if leader is not None and not await leader.hold():
            return
        done = await ticker.tickets()
    except Exception:
        log.exception("help desk housekeeping failed; the next run retries")
        return
    if done.flagged or done.voice_pruned:
        log.info("tickets: %d flagged overdue, %d voice notes forgotten", done.flagged,
                 done.voice_pruned)  # fmt: skip


async def _send(sender: Sender) -> None:
    try:
        done = await sender.drain(max_passes=MAX_PASSES)
    except Exception:
        log.exception("broadcast sending failed; the next run goes on from the database")
        return
    if done.claimed or done.started or done.reported:
        log.info(
            "broadcasts: %d started, %d sent, %d later, %d failed, %d blocked, %d skipped",
            done.started, done.sent, done.retried, done.failed, done.blocked, done.skipped,
        )  # fmt: skip


async def _notices(sender: NoticeSender) -> None:
    try:
        done = await sender.drain()
    except Exception:
        log.exception("sending the desk's notices failed; the next run goes on")
        return
    if done.claimed:
        log.info(
            "notices: %d sent, %d later, %d failed, %d blocked, %d skipped",
            done.sent, done.retried, done.failed, done.blocked, done.skipped,
        )  # fmt: skip


async def _beat(heartbeat: Heartbeat) -> None:
    heartbeat.beat = time.monotonic()


async def _tick(
    ticker: Ticker, leader: Leader | None = None, heartbeat: Heartbeat | None = None
) -> None:
    try:
        leading = leader is None or await leader.hold()  # else another instance sends
        report = await ticker.tick() if leading else None
    except Exception:
        log.exception("reminder tick failed; the next one retries")
        return
    if heartbeat is not None:
        heartbeat.tick = time.monotonic()
    if report is not None and report.claimed:
        log.info(
            "reminders: %d claimed, %d sent, %d later, %d cancelled, %d failed, %d blocked, "
            "%d superseded, %d skipped",
            report.claimed, report.sent, report.deferred, report.cancelled, report.failed,
            report.blocked, report.superseded, report.skipped,
        )  # fmt: skip
