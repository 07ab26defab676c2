"""The audit log: an append-only record of every staff, coordinator and admin action (who,
what, when, on what). It never holds the sensitive values themselves: details with a key that
names one (NIK, phone, a message's text, a name, a Telegram id) are refused, so a careless
caller fails in tests instead of leaking into the log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import AuditEntry, utcnow

_A = AuditEntry.__table__

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
