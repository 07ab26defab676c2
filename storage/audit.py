"""The audit log: an append-only record of every staff, coordinator and admin action (who,
what, when, on what). It never holds the sensitive values themselves: details with a key that
names one (NIK, phone, a message's text, a name, a Telegram id) are refused, so a careless
caller fails in tests instead of leaking into the log. The database itself refuses UPDATE and
DELETE on the table (triggers, migration 0009)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import AuditEntry, Person, utcnow

_A = AuditEntry.__table__
_P = Person.__table__

SENSITIVE_DETAILS = frozenset(
    {"nik", "phone", "text", "name", "telegram_id", "chat_id", "answers", "reason_text"}
)


async def audit(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Append an audit entry; refuses details with a sensitive key (NIK, phone, text, …)."""
    details = dict(details or {})
    bad = SENSITIVE_DETAILS & {str(k).lower() for k in details}
    if bad:
        raise ValueError(f"sensitive values do not belong in the audit log: {sorted(bad)}")
    values = {
        "actor_id": actor_id,
        "action": action[:40],
        "subject": subject[:80],
        "details": details,
        "at": utcnow(),
    }
    return await repo._insert(session, _A, values)


async def audit_of(session: AsyncSession, *, subject: str) -> list[AuditEntry]:
    """The audit entries about one subject, oldest first."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_A).where(_A.c.subject == subject).order_by(_A.c.at, _A.c.id)
    )
    return [repo._record(AuditEntry, dict(row._mapping)) for row in rows]


async def entries(
    session: AsyncSession,
    *,
    limit: int = 20,
    offset: int = 0,
    action_prefix: str | None = None,
    actor_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntry]:
    """Entries newest first, optionally of one kind of action ("broadcast.", "role."), one
    actor, or a period [since, until)."""
    query = select(_A)
    if action_prefix:
        query = query.where(_A.c.action.startswith(action_prefix, autoescape=True))
    if actor_id is not None:
        query = query.where(_A.c.actor_id == actor_id)
    if since is not None:
        query = query.where(_A.c.at >= since)
    if until is not None:
        query = query.where(_A.c.at < until)
    connection = await repo._connection(session)
    rows = await connection.execute(
        query.order_by(_A.c.at.desc(), _A.c.id.desc()).limit(limit).offset(offset)
    )
    return [repo._record(AuditEntry, dict(row._mapping)) for row in rows]


# --- for the viewer (/audit) and its CSV export ------------------------------------------------


def _of_actions(query: Any, actions: Sequence[str]) -> Any:
    """Only entries whose action is one of `actions` or below one ("broadcast" takes
    "broadcast.send"; "export" does not take "exports"); none given: every entry."""
    if not actions:
        return query
    conditions = []
    for action in actions:
        conditions.append(_A.c.action == action)
        conditions.append(_A.c.action.startswith(action + ".", autoescape=True))
    return query.where(or_(*conditions))


async def count(session: AsyncSession, *, actions: Sequence[str] = ()) -> int:
    """How many entries there are of these actions (see `newest`)."""
    connection = await repo._connection(session)
    query = _of_actions(select(func.count()).select_from(_A), actions)
    return int((await connection.execute(query)).scalar_one())


async def newest(
    session: AsyncSession, *, actions: Sequence[str] = (), limit: int = 20, offset: int = 0
) -> list[AuditEntry]:
    """Entries newest first, of these actions and the actions below them (none: all)."""
    query = _of_actions(select(_A), actions)
    connection = await repo._connection(session)
    rows = await connection.execute(
        query.order_by(_A.c.at.desc(), _A.c.id.desc()).limit(limit).offset(offset)
    )
    return [repo._record(AuditEntry, dict(row._mapping)) for row in rows]


async def actor_names(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, str | None]:
    """The names of the people who acted, by id, for an admin's eyes only; a person who has
    since deleted their data is missing."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    connection = await repo._connection(session)
    rows = await connection.execute(select(_P.c.id, _P.c.name).where(_P.c.id.in_(ids)))
    return {row.id: row.name for row in rows}


async def page(
    session: AsyncSession,
    *,
    actions: Sequence[str] = (),
    actor_id: int | None = None,
    system: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """Entries newest first (by time, then id), of these actions and those below them, by one
    actor (`system`: by nobody, the command line or the scheduler), in [since, until); a page
    by keyset: only those older than the entry `before`."""
    query = _of_actions(select(_A), actions)
    if system:
        query = query.where(_A.c.actor_id.is_(None))
    elif actor_id is not None:
        query = query.where(_A.c.actor_id == actor_id)
    if since is not None:
        query = query.where(_A.c.at >= since)
    if until is not None:
        query = query.where(_A.c.at < until)
    if before is not None:
        mark = select(_A.c.at).where(_A.c.id == before).scalar_subquery()
        query = query.where(or_(_A.c.at < mark, (_A.c.at == mark) & (_A.c.id < before)))
    connection = await repo._connection(session)
    rows = await connection.execute(query.order_by(_A.c.at.desc(), _A.c.id.desc()).limit(limit))
    return [repo._record(AuditEntry, dict(row._mapping)) for row in rows]


async def actors(session: AsyncSession) -> list[tuple[int, str | None]]:
    """Everyone who has acted (by person id, with their name for an admin's eyes), by name."""
    connection = await repo._connection(session)
    ids = select(_A.c.actor_id).where(_A.c.actor_id.is_not(None)).distinct().subquery()
    rows = await connection.execute(
        select(_P.c.id, _P.c.name).where(_P.c.id.in_(select(ids.c.actor_id)))
    )
    found = [(row.id, row.name) for row in rows]
    found.sort(key=lambda r: ((r[1] or "").casefold(), r[0]))
    return found
