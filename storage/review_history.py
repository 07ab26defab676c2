"""A submission's history rows (`submission_events`): each decision with its reason and who
made it, each correction with the fields before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Submission, SubmissionEvent

_E = SubmissionEvent.__table__
_S = Submission.__table__


async def add(session: AsyncSession, *, submission_id: int, action: str, actor_id: int | None,
              at: datetime, reason: str | None = None,
              changes: dict[str, Any] | None = None) -> None:  # fmt: skip
    await repo._insert(
        session,
        _E,
        {"submission_id": submission_id, "action": action, "actor_id": actor_id,
         "reason": reason, "changes": changes, "at": at},
    )  # fmt: skip


async def of(session: AsyncSession, submission_id: int) -> list[SubmissionEvent]:
    """A submission's history, oldest first."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_E).where(_E.c.submission_id == submission_id).order_by(_E.c.at, _E.c.id)
    )
    return [repo._record(SubmissionEvent, dict(r._mapping)) for r in rows]


async def forget(session: AsyncSession, *, person_id: int) -> None:
    """Clear the reasons and corrected values of a person's submissions (their data deleted)."""
    connection = await repo._connection(session)
    mine = select(_S.c.id).where(_S.c.person_id == person_id)
    await connection.execute(
        update(_E).where(_E.c.submission_id.in_(mine)).values(reason=None, changes=None)
    )
