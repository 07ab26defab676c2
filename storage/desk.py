"""The staff desk's rows: one-time sign-in links, sessions, and the outbox of notices.

Tokens are kept only as SHA-256 hashes: a copy of the database opens no session. Spending a
link and ending a session are guarded UPDATEs, so a link opens at most one session even when
two browsers post it at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import DeskLoginToken, DeskSession, OutboxNotice

_L = DeskLoginToken.__table__
_D = DeskSession.__table__
_O = OutboxNotice.__table__
LEASE = timedelta(minutes=2)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- sign-in links ---------------------------------------------------------------------------


async def add_link(
    session: AsyncSession, *, person_id: int, token: str, now: datetime, ttl: timedelta
) -> None:
    connection = await repo._connection(session)
    await connection.execute(
        insert(_L).values(
            token_hash=digest(token), person_id=person_id, created_at=now, expires_at=now + ttl
        )
    )


async def spend_link(session: AsyncSession, *, token: str, now: datetime) -> int | None:
    """The person a fresh, unused link is for, spending it; None when unknown, used or expired."""
    connection = await repo._connection(session)
    row = (
        await connection.execute(
            update(_L)
            .where(_L.c.token_hash == digest(token), _L.c.used_at.is_(None), _L.c.expires_at > now)
            .values(used_at=now)
            .returning(_L.c.person_id)
        )
    ).first()
    return None if row is None else int(row[0])


async def spend_proof(
    session: AsyncSession, *, proof: str, person_id: int, now: datetime, ttl: timedelta
) -> bool:
    """Keep a one-time proof (a Mini App's init data) as a link spent at once; False when the
    same proof was spent before (a replay)."""
    connection = await repo._connection(session)
    hashed = digest(proof)
    if (await connection.execute(select(_L.c.id).where(_L.c.token_hash == hashed))).first():
        return False
    await connection.execute(
        insert(_L).values(token_hash=hashed, person_id=person_id, created_at=now,
                          expires_at=now + ttl, used_at=now)
    )  # fmt: skip
    return True


# --- sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Open:
    id: int
    person_id: int
    role: str
    scope_regions: list[str] | None
    csrf: str
    created_at: datetime
    last_seen_at: datetime


async def add_session(
    session: AsyncSession,
    *,
    person_id: int,
    token: str,
    role: str,
    scope: list[str] | None,
    csrf: str,
    now: datetime,
) -> None:
    connection = await repo._connection(session)
    await connection.execute(
        insert(_D).values(
            token_hash=digest(token),
            person_id=person_id,
            role=role,
            scope_regions=scope,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )


async def session_of(session: AsyncSession, *, token: str) -> Open | None:
    """The session a cookie's token opens, if it has not ended."""
    connection = await repo._connection(session)
    row = (
        await connection.execute(
            select(
                _D.c.id, _D.c.person_id, _D.c.role, _D.c.scope_regions, _D.c.csrf,
                _D.c.created_at, _D.c.last_seen_at,
            ).where(_D.c.token_hash == digest(token), _D.c.ended_at.is_(None))
        )
    ).first()  # fmt: skip
    if row is None:
        return None
    return Open(*row)


async def ended_with(
    session: AsyncSession, *, token: str
) -> tuple[int, str, list[str] | None] | None:
    """(person id, role, regions) an ended session was opened with, to say why it ended."""
    connection = await repo._connection(session)
    row = (
        await connection.execute(
            select(_D.c.person_id, _D.c.role, _D.c.scope_regions).where(
                _D.c.token_hash == digest(token), _D.c.ended_at.is_not(None)
            )
        )
    ).first()
    return None if row is None else (int(row[0]), row[1], row[2])


async def touch(session: AsyncSession, session_id: int, *, now: datetime) -> None:
    connection = await repo._connection(session)
    await connection.execute(update(_D).where(_D.c.id == session_id).values(last_seen_at=now))


async def end(session: AsyncSession, *, now: datetime, session_id: int | None = None,
              person_id: int | None = None) -> int:  # fmt: skip
    """End one session, or every open session of a person; how many ended."""
    connection = await repo._connection(session)
    which = _D.c.id == session_id if session_id is not None else _D.c.person_id == person_id
    result = await connection.execute(
        update(_D).where(which, _D.c.ended_at.is_(None)).values(ended_at=now)
    )
    return int(result.rowcount or 0)


# --- the outbox of notices -------------------------------------------------------------------


async def add_notices(session: AsyncSession, rows: list[dict[str, Any]], *, now: datetime) -> None:
    """Queue notices ({person_id, message, args}) to be sent by the bot, due now."""
    if not rows:
        return
    connection = await repo._connection(session)
    await connection.execute(
        insert(_O),
        [{**r, "status": "pending", "attempts": 0, "due_at": now, "created_at": now} for r in rows],
    )


@dataclass(frozen=True)
class ClaimedNotice:
    id: int
    person_id: int
    message: str
    args: dict[str, Any]
    attempts: int


async def claim_notices(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta = LEASE
) -> list[ClaimedNotice]:
    """Take due notices (and those whose sender's lease ran out), oldest first."""
    due = or_(
        and_(_O.c.status == "pending", _O.c.due_at <= now),
        and_(_O.c.status == "sending", _O.c.lease_until < now),
    )
    rows = await repo.claim_rows(
        session,
        _O,
        where=due,
        order_by=_O.c.id,
        limit=limit,
        now=now,
        lease=lease,
        returning=(_O.c.id, _O.c.person_id, _O.c.message, _O.c.args, _O.c.attempts),
    )
    return sorted(
        (ClaimedNotice(r.id, r.person_id, r.message, dict(r.args or {}), r.attempts) for r in rows),
        key=lambda c: c.id,
    )


async def settle_notice(
    session: AsyncSession,
    notice_id: int,
    *,
    status: str,
    now: datetime,
    due_at: datetime | None = None,
    error: str | None = None,
) -> None:
    """Record what became of a claimed notice: sent, blocked, skipped, failed, or pending again
    (a retry at `due_at`)."""
    connection = await repo._connection(session)
    values: dict[str, Any] = {"status": status, "lease_until": None, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    if due_at is not None:
        values["due_at"] = due_at
    await connection.execute(update(_O).where(_O.c.id == notice_id).values(**values))
