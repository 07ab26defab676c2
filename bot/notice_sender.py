"""Sending the notices other front doors wrote as rows (`outbox_notices`: the staff desk's
decisions): claim due rows, render each with bot/notices.py in its person's language, send it
through the shared `Delivery` (the bot-wide rate), record what happened.

Safe with several instances: only the one holding the sender lock sends (as for reminders and
broadcasts), and rows are claimed under a lease with one conditional UPDATE (`FOR UPDATE SKIP
LOCKED` on PostgreSQL), so a row is sent once; a sender killed mid-way leaves its rows to be
claimed again when the lease runs out. A notice is never dropped for a busy Telegram: a 429 or
a network error retries later with a backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import notices
from bot.delivery import MAX_ATTEMPTS, Delivery, Outcome, backoff
from bot.leader import Leader
from flows import clock
from operations.notices import Notice
from storage import desk as store
from storage import repo
from storage.db import Transactions
from storage.models import Person

log = logging.getLogger(__name__)


@dataclass
class Sent:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    skipped: int = 0
    failed: int = 0
    blocked: int = 0


class NoticeSender:
    """One pass: claim a batch, render, send, record. Run every BROADCAST_POLL_SECONDS."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        transactions: Transactions,
        delivery: Delivery,
        i18n: I18n,
        leader: Leader | None = None,
        batch: int = 100,
    ) -> None:
        self.sessionmaker, self.transactions, self.i18n = sessionmaker, transactions, i18n
        self.delivery, self.leader, self.batch = delivery, leader, batch

    async def _write(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async with self.transactions.begin() as connection:
            return await work(self.sessionmaker(bind=connection))

    async def drain(self, *, max_passes: int = 100) -> Sent:
        total = Sent()
        for _ in range(max_passes):
            one = await self.work()
            for name in total.__dataclass_fields__:
                setattr(total, name, getattr(total, name) + getattr(one, name))
            if one.claimed < self.batch:
                break
        return total

    async def work(self) -> Sent:
        done = Sent()
        if self.leader is not None and not await self.leader.hold():
            return done
        now = clock.now()
        claimed = await self._write(lambda s: store.claim_notices(s, now=now, limit=self.batch))
        done.claimed = len(claimed)
        for item in claimed:
            await self._one(item, done)
        return done

    async def _one(self, item: store.ClaimedNotice, done: Sent) -> None:
        async with self.sessionmaker() as session:  # read-only: the person and the rendering
            person = await session.get(Person, item.person_id)
            rendered = None
            if person is not None and person.blocked_at is None:
                with self.i18n.context():
                    notice = Notice(to=item.person_id, message=item.message, args=item.args)
                    rendered = await notices.render(session, person, notice)
        now = clock.now()
        if person is None or person.blocked_at is not None or rendered is None:
            done.skipped += 1
            await self._write(lambda s: store.settle_notice(s, item.id, status="skipped", now=now))
            return
        text, markup = rendered
        result = await self.delivery.send(person.telegram_id, text, markup, kind="notice")
        now = clock.now()
        if result.outcome is Outcome.SENT:
            done.sent += 1
            status, due = "sent", None
        elif result.outcome is Outcome.BLOCKED:
            done.blocked += 1
            status, due = "blocked", None
            await self._write(lambda s: repo.mark_blocked(s, person_id=person.id, at=now))
        elif result.outcome is Outcome.RETRY and item.attempts < MAX_ATTEMPTS:
            done.retried += 1
            wait = max(result.retry_after or 0.0, backoff(item.attempts))
            status, due = "pending", now + timedelta(seconds=wait)
        else:
            done.failed += 1
            status, due = "failed", None
        await self._write(
            lambda s: store.settle_notice(
                s, item.id, status=status, now=now, due_at=due, error=result.error
            )
        )
