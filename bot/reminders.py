"""Sending reminders: a tick claims due rows, renders each in its person's language, sends it
through `bot.delivery` and records what happened. Journeys create the rows (`remind`) and say
how their kinds read at sending time (`@renders`), so a reminder whose step is done by then
is dropped instead of sent.

A reminder may go out late: held through the night until 07.00, or after downtime. It says
what is true when it is sent ("tomorrow", "today", "in 2 hours", "in 3 days", from the time left
in the person's zone), or it is not sent at all: `skipped` when its event has begun,
`superseded` when a later reminder of the same event (or the next digest, the next nudge) is
due by then or within hours (`flows.reminders.superseded`).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards as kb
from bot.delivery import MAX_ATTEMPTS, Delivery, Outcome, backoff
from bot.text import moment, t
from flows import clock, regions, registry
from flows import reminders as rules
from operations import reminders as reminder_rule
from storage import reminders as store
from storage import repo
from storage.db import Transactions
from storage.models import ReminderStatus, RunStatus
from storage.roles import INVITE_TTL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Note:
    text: str
    markup: Any = None


Render = Callable[[AsyncSession, store.Claimed, str], Awaitable[Note | None]]
RENDERERS: dict[str, Render] = {}


def renders(kind: str) -> Callable[[Render], Render]:
    """Register how a kind reads when it is sent (None: no longer needed, cancel it)."""

    def register(fn: Render) -> Render:
        RENDERERS[kind] = fn
        return fn

    return register


zone_of = regions.zone_of  # the person's zone, by their province


async def remind(
    session: AsyncSession,
    *,
    person_id: int,
    kind: rules.Kind,
    key: str,
    due_at: datetime | None,
    tz: str,
    payload: dict[str, Any] | None = None,
) -> None:
    """Create or move a reminder, out of the person's night; a moment already past, or None
    (no sensible time, e.g. "two hours before" a 06:30 start), cancels it instead (the rule
    is operations.reminders.remind, with the bot's clock)."""
    await reminder_rule.remind(
        session,
        person_id=person_id,
        kind=kind,
        key=key,
        due_at=due_at,
        tz=tz,
        now=clock.now(),
        payload=payload,
    )


def event_at(claimed: store.Claimed) -> datetime | None:
    """The moment of the event a reminder is about (the payload's "at"), if any."""
    at = claimed.payload.get("at")
    try:
        return datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        return None


def default_text(claimed: store.Claimed, tz: str, locale: str, now: datetime | None = None) -> str:
    """The kind's text with the payload's values: strings escaped, "at" as a time in the zone
    and how far off it is now ({relative})."""
    params: dict[str, Any] = {
        k: html.escape(v) if isinstance(v, str) else v for k, v in claimed.payload.items()
    }
    at = event_at(claimed)
    if at is not None:
        params["when"] = moment(at, tz, locale)
        msgid, values = rules.relative(at, now or clock.now(), tz)
        params["relative"] = t(msgid, **values)
    return t(rules.KINDS[claimed.kind].text, **params)


def dropped(
    item: store.Claimed, series: list[tuple[str, str, datetime]], now: datetime
) -> str | None:
    """Why a due reminder is not sent at all (`skipped`: its event has begun; `superseded`: a
    later one of its series says it), or None to send it."""
    kind = rules.KINDS.get(item.kind)
    at = event_at(item) if kind is not None and kind.lead is not None else None
    if at is not None and at <= now:
        return ReminderStatus.SKIPPED.value
    prefix = rules.series(item.dedupe_key)
    siblings = [s for s in series if s[1] != item.dedupe_key and s[1].startswith(prefix)]
    if rules.superseded(item.kind, item.dedupe_key, item.due_at, siblings, now):
        return ReminderStatus.SUPERSEDED.value
    return None


@dataclass
class Report:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0  # night, or a retry later
    cancelled: int = 0
    superseded: int = 0  # late, and a later one of the same event is due: never sent
    skipped: int = 0  # late, and the event has begun: never sent
    failed: int = 0
    blocked: int = 0
    nudges: int = 0  # nudges planned this tick
    errors: list[str] = field(default_factory=list)


class Ticker:
    """One tick: claim, render, send, record. Safe to run in several processes at once."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        transactions: Transactions,
        bot: Bot,
        i18n: I18n,
        rate: float = 25.0,
        batch: int = 500,
        flush_every: int = 50,
        delivery: Delivery | None = None,
    ) -> None:
        self.sessionmaker, self.transactions, self.i18n = sessionmaker, transactions, i18n
        self.delivery = delivery or Delivery(bot, rate=rate)  # shared with broadcasts in an app
        self.batch, self.flush_every = batch, flush_every
        self.last_tick: datetime | None = None
        # Hourly planners of periodic reminders (the reviewers' digest): (session, now) -> n.
        self.planners: list[Callable[[AsyncSession, datetime], Awaitable[Any]]] = []
        self._planned: datetime | None = None

    async def prune(self, *, keep: timedelta = timedelta(days=2)) -> int:
        """Forget processed update ids Telegram can no longer redeliver, and role invitation
        tokens left by a profile never finished once the invitation has expired."""
        before = clock.now() - keep
        expired = clock.now() - INVITE_TTL
        await self._write(lambda s: repo.forget_role_payloads(s, before=expired))
        return int(await self._write(lambda s: repo.prune_processed(s, before=before)))

    async def tickets(self) -> Any:
        """The help desk's housekeeping: flag tickets waiting over a working day, forget voice
        notes 30 days after their ticket closed (operations/tickets.py)."""
        from operations import tickets

        now = clock.now()
        return await self._write(lambda s: tickets.housekeeping(s, now=now))

    async def _write(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async with self.transactions.begin() as connection:
            return await work(self.sessionmaker(bind=connection))

    async def tick(self) -> Report:
        now = clock.now()
        report = Report()
        report.nudges = await self._write(lambda s: plan_nudges(s, now=now))
        if self.planners and (self._planned is None or now - self._planned >= timedelta(hours=1)):
            for plan in self.planners:
                await self._write(lambda s, p=plan: p(s, now))
            self._planned = now
        claimed = await self._write(lambda s: store.claim(s, now=now, limit=self.batch))
        report.claimed = len(claimed)
        if claimed:
            await self._deliver(claimed, now, report)
        self.last_tick = now
        return report

    async def _deliver(self, claimed: list[store.Claimed], now: datetime, report: Report) -> None:
        notes: dict[int, Note | None] = {}
        later: list[tuple[int, str, datetime, str | None]] = []
        async with self.sessionmaker() as session:  # read-only: what each reminder says now
            still_open = await store.open_of(session, person_ids=[c.person_id for c in claimed])
            for item in claimed:
                tz = zone_of(item.province_code)
                drop = dropped(item, still_open.get(item.person_id, []), now)
                if item.blocked or (item.kind == rules.NUDGE.key and not item.nudges):
                    later.append((item.id, ReminderStatus.CANCELLED.value, item.due_at, None))
                elif drop is not None:
                    later.append((item.id, drop, item.due_at, None))
                elif rules.is_quiet(now, tz):
                    later.append(
                        (item.id, ReminderStatus.PENDING.value, rules.in_daylight(now, tz), None)
                    )
                    report.deferred += 1
                else:
                    notes[item.id] = await self._render(session, item, tz, now)
                    if notes[item.id] is None:
                        later.append((item.id, ReminderStatus.CANCELLED.value, item.due_at, None))
        report.cancelled += sum(1 for c in later if c[1] == ReminderStatus.CANCELLED.value)
        report.superseded += sum(1 for c in later if c[1] == ReminderStatus.SUPERSEDED.value)
        report.skipped += sum(1 for c in later if c[1] == ReminderStatus.SKIPPED.value)
        sent: list[tuple[int, int | None]] = []
        blocked: list[int] = []
        for item in claimed:
            note = notes.get(item.id)
            if note is None:
                continue
            result = await self.delivery.send(
                item.telegram_id, note.text, note.markup, kind="reminder"
            )
            if result.outcome is Outcome.SENT:
                sent.append((item.id, result.message_id))
                report.sent += 1
            elif result.outcome is Outcome.BLOCKED:
                blocked.append(item.person_id)
                later.append((item.id, ReminderStatus.CANCELLED.value, item.due_at, "403"))
                report.blocked += 1
            elif result.outcome is Outcome.RETRY and item.attempts < MAX_ATTEMPTS:
                wait = max(result.retry_after or 0.0, backoff(item.attempts))
                later.append(
                    (item.id, ReminderStatus.PENDING.value, now + timedelta(seconds=wait),
                     result.error)
                )  # fmt: skip
                report.deferred += 1
            else:
                later.append((item.id, ReminderStatus.FAILED.value, item.due_at, result.error))
                report.failed += 1
            if len(sent) >= self.flush_every:  # what was sent is recorded at least this often
                await self._record(sent, [], [])
                sent = []
        await self._record(sent, later, blocked)

    async def _render(
        self, session: AsyncSession, item: store.Claimed, tz: str, now: datetime
    ) -> Note | None:
        locale = item.locale if item.locale in ("id", "en") else "id"
        with self.i18n.context(), self.i18n.use_locale(locale):
            render = RENDERERS.get(item.kind)
            if render is None:
                kind = rules.KINDS.get(item.kind)
                if kind is None or (kind.lead is not None and event_at(item) is None):
                    return None  # nothing true to say: cancelled rather than a broken tick
                return Note(default_text(item, tz, locale, now))
            return await render(session, item, tz)

    async def _record(
        self,
        sent: list[tuple[int, int | None]],
        later: list[tuple[int, str, datetime, str | None]],
        blocked: list[int],
    ) -> None:
        async def work(session: AsyncSession) -> None:
            await store.mark_sent(session, sent)
            await store.replan(session, later)
            for person_id in set(blocked):
                await repo.mark_blocked(session, person_id=person_id, at=clock.now())
                await store.cancel_for_person(session, person_id=person_id)

        if sent or later or blocked:
            await self._write(work)


# --- nudges: a journey untouched for days ------------------------------------------------------

NUDGE_HORIZON = timedelta(days=30)  # runs untouched longer than this are left alone


async def plan_nudges(session: AsyncSession, *, now: datetime, limit: int = 200) -> int:
    """Schedule the next nudge of every journey run untouched long enough: the first two days
    after the last answer, then further apart, at most three; touching the run starts over
    (the keys carry the moment of the last touch). Returns how many were scheduled."""
    journey_flows = [key for key, flow in registry.FLOWS.items() if flow.journey]
    runs = await repo.stale_runs(
        session,
        flows=journey_flows,
        before=now - rules.NUDGE_AFTER[0],
        after=now - NUDGE_HORIZON,
        limit=limit,
    )
    planned = 0
    for run_id, person_id, updated_at, province_code in runs:
        stamp = f"nudge:{run_id}:{int(updated_at.timestamp())}:"
        # The latest nudge whose time has come: after downtime, the ones missed are not made
        # up for (and one still waiting is superseded by it).
        due = sum(1 for after in rules.NUDGE_AFTER if now >= updated_at + after)
        if due == 0 or f"{stamp}{due}" in await store.keys_like(session, prefix=stamp):
            continue
        await remind(
            session,
            person_id=person_id,
            kind=rules.NUDGE,
            key=f"{stamp}{due}",
            due_at=now + timedelta(seconds=1),
            tz=zone_of(province_code),
            payload={"run_id": run_id, "touched": updated_at.isoformat()},
        )
        planned += 1
    return planned


class RemindersCB(CallbackData, prefix="rm"):
    act: str  # off | on (nudges)


@renders(rules.NUDGE.key)
async def nudge_note(session: AsyncSession, claimed: store.Claimed, tz: str) -> Note | None:
    """Only if the run is still where it was left; with Continue and a way to stop nudges."""
    run = await repo.run_of(
        session, run_id=int(claimed.payload.get("run_id") or 0), person_id=claimed.person_id
    )
    touched = claimed.payload.get("touched")
    if (
        run is None
        or run.status != RunStatus.ACTIVE
        or touched is None
        or run.updated_at != datetime.fromisoformat(touched)
        or run.flow not in registry.FLOWS
    ):
        return None
    now = clock.now()
    if now - run.updated_at > NUDGE_HORIZON:  # long forgotten: nudges are left alone then
        return None
    flow = registry.get(run.flow)
    zone = ZoneInfo(tz)
    days = (now.astimezone(zone).date() - run.updated_at.astimezone(zone).date()).days
    text = t(rules.NUDGE.text, title=t(flow.title), days=days)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [kb._button("▶️ " + _("Continue"), kb.ResumeCB(act="continue", run=run.id))],
            [kb._button("🔕 " + _("No more reminders like this"), RemindersCB(act="off"))],
        ]
    )
    return Note(text, markup)
