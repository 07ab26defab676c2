"""Retention: nothing grows without bound. Hourly, the leading instance deletes the rows past
their time (settings RETAIN_*_DAYS, see README "Retention"), a batch of PRUNE_BATCH rows per
short transaction, until none is left or the run's time is up (the next run goes on):

- processed update ids after RETAIN_UPDATE_IDS_DAYS (Telegram redelivers for 24 hours), and
  role invitation tokens left unused in a record once the invitation expired (a secret);
- deliveries of announcements finished (done or cancelled, report sent) more than
  RETAIN_DELIVERIES_DAYS ago; never one of an announcement still going;
- audit rows after RETAIN_AUDIT_DAYS (the database refuses any other deletion, 0023).

Small batches keep every lock short: on PostgreSQL a batch skips rows others hold, and on
SQLite (one writer) an update waits at most one batch; a pause between batches lets them in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from flows import clock
from storage import repo
from storage import retention as store
from storage.db import Transactions
from storage.roles import INVITE_TTL

log = logging.getLogger(__name__)

PAUSE = 0.05  # seconds between two batches: the bot's own writes go first
RUN_SECONDS = 600.0  # one run at most; the next hour's run goes on


@dataclass(frozen=True)
class Retention:
    """How long each kind of row is kept, and how many rows one statement deletes."""

    update_ids: timedelta = timedelta(days=2)
    deliveries: timedelta = timedelta(days=90)
    audit: timedelta = timedelta(days=730)
    batch: int = 5000


@dataclass
class Pruned:
    """Rows deleted by one run, by kind, and the batches (transactions) it took."""

    rows: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    finished: bool = True  # False: the run's time was up with rows left


Batch = Callable[[AsyncConnection], Awaitable[int]]


class Pruner:
    """Deletes expired rows in batches; `run` is the scheduler's hourly job (leader only)."""

    def __init__(
        self,
        *,
        transactions: Transactions,
        sessionmaker: async_sessionmaker[AsyncSession],
        retention: Retention,
        pause: float = PAUSE,
        run_seconds: float = RUN_SECONDS,
    ) -> None:
        self.transactions, self.sessionmaker = transactions, sessionmaker
        self.retention, self.pause, self.run_seconds = retention, pause, run_seconds

    async def run(self, now: datetime | None = None) -> Pruned:
        now = now or clock.now()
        keep, size = self.retention, self.retention.batch
        done = Pruned()
        deadline = time.monotonic() + self.run_seconds
        async with self.transactions.begin() as connection:
            session = self.sessionmaker(bind=connection)
            cleared = await repo.forget_role_payloads(session, before=now - INVITE_TTL)
        done.rows["role_payloads"] = cleared
        work: dict[str, Batch] = {
            "update_ids": lambda c: store.update_ids(c, before=now - keep.update_ids, batch=size),
            "deliveries": lambda c: store.deliveries(c, before=now - keep.deliveries, batch=size),
            "audit": lambda c: store.audit(c, before=now - keep.audit, batch=size),
        }
        for name, batch in work.items():
            done.rows[name] = 0
            while True:
                if time.monotonic() > deadline:
                    done.finished = False
                    return done
                async with self.transactions.begin() as connection:
                    deleted = await batch(connection)
                done.batches += 1
                done.rows[name] += deleted
                if deleted < size and name != "deliveries":
                    break
                if deleted == 0:
                    break
                await asyncio.sleep(self.pause)
        return done
