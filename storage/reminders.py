"""Reminder rows: scheduled with a dedupe key, claimed by ticks in batches, marked once.

A tick claims due rows by setting them to `sending` with a lease (PostgreSQL: `FOR UPDATE SKIP
LOCKED`, so two instances take different rows; SQLite has one writer). A row whose lease runs
out (the process died between claim and send) is claimed again, so nothing is lost; a row is
marked `sent` only while still `sending`, so a reminder moved meanwhile is not lost either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Person, Reminder, ReminderStatus, utcnow

_T = Reminder.__table__
LEASE = timedelta(minutes=5)
OPEN = (ReminderStatus.PENDING.value, ReminderStatus.SENDING.value)


@dataclass(frozen=True)
class Claimed:
    """A claimed reminder with what sending it needs to know about its person."""

    id: int
    person_id: int
    kind: str
    dedupe_key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int
    telegram_id: int
    locale: str | None
    province_code: str | None
    nudges: bool
    blocked: bool


async def schedule(
    session: AsyncSession,
    *,
    person_id: int,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Create the reminder, or move it (a new date): one row per key, pending again unless it
    was already sent for this very moment."""
    now = utcnow()
    connection = await repo._connection(session)
    dialect_insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(_T).values(
        person_id=person_id,
        kind=kind,
        dedupe_key=key,
        due_at=due_at,
        payload=payload or {},
        status=ReminderStatus.PENDING.value,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    same_and_sent = and_(
        _T.c.status == ReminderStatus.SENT.value, _T.c.due_at == stmt.excluded.due_at
    )
    keep = lambda column, new: _case(same_and_sent, column, new)  # noqa: E731
    stmt = stmt.on_conflict_do_update(
        index_elements=["dedupe_key"],
        set_={
            "due_at": stmt.excluded.due_at,
            "payload": stmt.excluded.payload,
            "status": keep(_T.c.status, ReminderStatus.PENDING.value),
            "attempts": keep(_T.c.attempts, 0),
            "lease_until": keep(_T.c.lease_until, None),
            "updated_at": now,
        },
    )
    await connection.execute(stmt)


def _case(condition: Any, old: Any, new: Any) -> Any:
    from sqlalchemy import case, literal

    return case((condition, old), else_=literal(new, type_=old.type) if new is not None else None)


async def cancel(
    session: AsyncSession, *, keys: Sequence[str] = (), prefix: str | None = None
) -> int:
    """Cancel pending reminders by key or key prefix ("training:12:"); the number cancelled."""
    if not keys and prefix is None:
        return 0
    which = (
        _T.c.dedupe_key.in_(list(keys))
        if keys
        else _T.c.dedupe_key.startswith(prefix, autoescape=True)
    )
    connection = await repo._connection(session)
    result = await connection.execute(
        update(_T)
        .where(which, _T.c.status.in_(OPEN))
        .values(status=ReminderStatus.CANCELLED.value, updated_at=utcnow())
    )
    return int(result.rowcount or 0)


async def cancel_for_person(
    session: AsyncSession, *, person_id: int, kind: str | None = None
) -> int:
    connection = await repo._connection(session)
    where = [_T.c.person_id == person_id, _T.c.status.in_(OPEN)]
    if kind is not None:
        where.append(_T.c.kind == kind)
    result = await connection.execute(
        update(_T).where(*where).values(status=ReminderStatus.CANCELLED.value, updated_at=utcnow())
    )
    return int(result.rowcount or 0)


_P = Person.__table__


async def claim(
    session: AsyncSession, *, now: datetime, limit: int = 500, lease: timedelta = LEASE
) -> list[Claimed]:
    """Take up to `limit` due reminders (and any whose lease ran out) for this tick: one UPDATE
    of the picked rows returning them, then their people in one query."""
    connection = await repo._connection(session)
    due = or_(
        and_(_T.c.status == ReminderStatus.PENDING.value, _T.c.due_at <= now),
        and_(_T.c.status == ReminderStatus.SENDING.value, _T.c.lease_until < now),
    )
    taken = await repo.claim_rows(
        session,
        _T,
        where=due,
        order_by=_T.c.due_at,
        limit=limit,
        now=now,
        lease=lease,
        values={"updated_at": now},
        returning=(
            _T.c.id,
            _T.c.person_id,
            _T.c.kind,
            _T.c.dedupe_key,
            _T.c.due_at,
            _T.c.payload,
            _T.c.attempts,
        ),  # fmt: skip
    )
    if not taken:
        return []
    people = {
        row.id: row
        for row in await connection.execute(
            select(
                _P.c.id, _P.c.telegram_id, _P.c.locale, _P.c.province_code, _P.c.nudges,
                _P.c.blocked_at,
            ).where(_P.c.id.in_({r.person_id for r in taken}))
        )
    }  # fmt: skip
    claimed = []
    for r in sorted(taken, key=lambda r: (r.due_at, r.id)):
        p = people[r.person_id]
        claimed.append(
            Claimed(
                id=r.id,
                person_id=r.person_id,
                kind=r.kind,
                dedupe_key=r.dedupe_key,
                due_at=r.due_at,
                payload=dict(r.payload or {}),
                attempts=r.attempts,
                telegram_id=p.telegram_id,
                locale=p.locale,
                province_code=p.province_code,
                nudges=bool(p.nudges),
                blocked=p.blocked_at is not None,
            )  # fmt: skip
        )
    return claimed


_MARK_SENT = (
    update(_T)
    .where(_T.c.id == bindparam("rid"), _T.c.status == ReminderStatus.SENDING.value)
    .values(
        status=ReminderStatus.SENT.value,
        message_id=bindparam("mid"),
        sent_at=bindparam("now", type_=_T.c.sent_at.type),
        lease_until=None,
        updated_at=bindparam("now", type_=_T.c.updated_at.type),
    )
)
_REPLAN = (
    update(_T)
    .where(_T.c.id == bindparam("rid"), _T.c.status == ReminderStatus.SENDING.value)
    .values(
        status=bindparam("status"),
        due_at=bindparam("due", type_=_T.c.due_at.type),
        last_error=bindparam("error"),
        lease_until=None,
        updated_at=bindparam("now", type_=_T.c.updated_at.type),
    )
)


_MARK_SENT_PG = text(
    "UPDATE reminders SET status = 'sent', message_id = v.mid, sent_at = :now, "
    "lease_until = NULL, updated_at = :now "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:mids AS bigint[])) AS v(rid, mid) "
    "WHERE reminders.id = v.rid AND reminders.status = 'sending'"
).bindparams(bindparam("now", type_=_T.c.sent_at.type))


async def mark_sent(session: AsyncSession, sent: Sequence[tuple[int, int | None]]) -> None:
    """(id, Telegram message id) of reminders sent: one statement for the batch on PostgreSQL
    (joined with the arrays of ids), one prepared statement run per row in-process on SQLite."""
    if not sent:
        return
    now = utcnow()
    connection = await repo._connection(session)
    if connection.dialect.name == "postgresql":
        ids, mids = [r for r, _ in sent], [m for _, m in sent]
        await connection.execute(_MARK_SENT_PG, {"ids": ids, "mids": mids, "now": now})
        return
    await connection.execute(_MARK_SENT, [{"rid": r, "mid": m, "now": now} for r, m in sent])


async def replan(
    session: AsyncSession, changes: Sequence[tuple[int, str, datetime, str | None]]
) -> None:
    """(id, new status, due_at, error) for reminders not sent now: back to pending later (night,
    a retry), cancelled (no longer relevant, nudges off, blocked) or failed for good."""
    if not changes:
        return
    now = utcnow()
    connection = await repo._connection(session)
    await connection.execute(
        _REPLAN,
        [
            {"rid": r, "status": s, "due": d, "error": (e or None) and e[:200], "now": now}
            for r, s, d, e in changes
        ],
    )


async def open_of(
    session: AsyncSession, *, person_ids: Sequence[int]
) -> dict[int, list[tuple[str, str, datetime]]]:
    """The reminders still to be sent (pending, or claimed and not yet sent) of these people,
    as (kind, key, due_at) by person: what a late reminder is checked against."""
    if not person_ids:
        return {}
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_T.c.person_id, _T.c.kind, _T.c.dedupe_key, _T.c.due_at).where(
            _T.c.person_id.in_(set(person_ids)), _T.c.status.in_(OPEN)
        )
    )
    found: dict[int, list[tuple[str, str, datetime]]] = {}
    for person_id, kind, key, due_at in rows:
        found.setdefault(person_id, []).append((kind, key, due_at))
    return found


async def last_sent(session: AsyncSession, *, person_id: int, kind: str) -> datetime | None:
    """When this person was last sent a reminder of this kind (the previous digest)."""
    connection = await repo._connection(session)
    return (
        await connection.execute(
            select(_T.c.sent_at)
            .where(
                _T.c.person_id == person_id,
                _T.c.kind == kind,
                _T.c.status == ReminderStatus.SENT.value,
            )
            .order_by(_T.c.sent_at.desc())
            .limit(1)
        )
    ).scalar()


async def upcoming(session: AsyncSession, *, person_id: int, limit: int = 20) -> list[Reminder]:
    """A person's pending reminders, soonest first."""
    rows = await session.scalars(
        select(Reminder)
        .where(Reminder.person_id == person_id, Reminder.status.in_(OPEN))
        .order_by(Reminder.due_at)
        .limit(limit)
    )
    return list(rows)


async def keys_like(session: AsyncSession, *, prefix: str) -> list[str]:
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_T.c.dedupe_key).where(_T.c.dedupe_key.startswith(prefix, autoescape=True))
    )
    return [row[0] for row in rows]
