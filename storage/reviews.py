"""The review queue: waiting submissions, oldest first, and decisions where the first wins.

A decision is one guarded UPDATE (… WHERE status = 'submitted' RETURNING): of two reviewers
acting on one submission at once, exactly one changes it; the other gets None and is told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Person, Submission, SubmissionKind, SubmissionStatus

_S = Submission.__table__
_P = Person.__table__
WAITING = SubmissionStatus.SUBMITTED.value
KINDS = tuple(k.value for k in SubmissionKind)


def in_regions(regions: Sequence[str] | None) -> Any:
    """Submissions whose region is inside a scope (None: everywhere, no condition)."""
    if regions is None:
        return None
    conditions = []
    for code in regions:
        if "." in code:
            conditions.append(_S.c.regency_code == code)
        else:
            conditions.append(_S.c.province_code == code)
    return or_(*conditions) if conditions else _S.c.id.is_(None)


def _where(*conditions: Any) -> list[Any]:
    return [c for c in conditions if c is not None]


@dataclass(frozen=True)
class KindCount:
    kind: str
    waiting: int
    overdue: int


async def counts(
    session: AsyncSession,
    *,
    regions: Sequence[str] | None,
    overdue_before: datetime,
    region: str | None = None,
) -> list[KindCount]:
    """Per kind: how many wait, and how many of those since before `overdue_before`."""
    overdue = func.sum(
        func.cast(_S.c.created_at < overdue_before, type_=_S.c.id.type)  # true -> 1
    )
    query = (
        select(_S.c.kind, func.count(), overdue)
        .where(
            *_where(
                _S.c.status == WAITING,
                in_regions(regions),
                in_regions([region]) if region else None,
            )
        )
        .group_by(_S.c.kind)
    )
    connection = await repo._connection(session)
    found = {kind: (int(n), int(o or 0)) for kind, n, o in await connection.execute(query)}
    return [KindCount(k, *found.get(k, (0, 0))) for k in KINDS]


@dataclass(frozen=True)
class Waiting:
    id: int
    kind: str
    created_at: datetime
    updated_at: datetime
    province_code: str | None
    regency_code: str | None
    corrected: bool  # came back after a return for correction


async def waiting(
    session: AsyncSession,
    *,
    kind: str,
    regions: Sequence[str] | None,
    region: str | None = None,
    limit: int = 8,
    offset: int = 0,
) -> list[Waiting]:
    """Waiting submissions of a kind, oldest first (inside the scope, and one region)."""
    query = (
        select(
            _S.c.id,
            _S.c.kind,
            _S.c.created_at,
            _S.c.updated_at,
            _S.c.province_code,
            _S.c.regency_code,
            _S.c.returned_fields.is_not(None),
        )
        .where(
            *_where(
                _S.c.status == WAITING,
                _S.c.kind == kind,
                in_regions(regions),
                in_regions([region]) if region else None,
            )
        )
        .order_by(_S.c.created_at, _S.c.id)
        .limit(limit)
        .offset(offset)
    )
    connection = await repo._connection(session)
    return [Waiting(*row) for row in await connection.execute(query)]


async def regions_waiting(session: AsyncSession, *, regions: Sequence[str] | None) -> list[str]:
    """The provinces with something waiting (inside the scope), for the region filter."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_S.c.province_code)
        .where(
            *_where(_S.c.status == WAITING, in_regions(regions), _S.c.province_code.is_not(None))
        )
        .group_by(_S.c.province_code)
        .order_by(_S.c.province_code)
    )
    return [row[0] for row in rows]


async def get(session: AsyncSession, submission_id: int) -> Submission | None:
    connection = await repo._connection(session)
    row = (await connection.execute(select(_S).where(_S.c.id == submission_id))).first()
    return None if row is None else repo._record(Submission, dict(row._mapping))


async def decide(
    session: AsyncSession,
    submission_id: int,
    *,
    status: SubmissionStatus,
    reviewer_id: int,
    now: datetime,
    reason: str | None = None,
    fields: list[str] | None = None,
) -> bool:
    """Approve, reject or return a waiting submission; False when it no longer waits (another
    reviewer was first, or the person withdrew it)."""
    connection = await repo._connection(session)
    values: dict[str, Any] = {
        "status": status.value,
        "decided_at": now,
        "decided_by": reviewer_id,
        "updated_at": now,
        "reason": reason,
    }
    if status == SubmissionStatus.RETURNED:
        values["returned_fields"] = list(fields or [])
    changed = (
        await connection.execute(
            update(_S)
            .where(_S.c.id == submission_id, _S.c.status == WAITING)
            .values(**values)
            .returning(_S.c.id)
        )
    ).first()
    return changed is not None


async def resubmit(
    session: AsyncSession,
    submission_id: int,
    *,
    person_id: int,
    answers: dict[str, Any],
    now: datetime,
) -> bool:
    """A returned submission, corrected by its person, waits again (with its new answers);
    `returned_fields` stays, so the queue marks it as corrected."""
    connection = await repo._connection(session)
    changed = (
        await connection.execute(
            update(_S)
            .where(
                _S.c.id == submission_id,
                _S.c.person_id == person_id,
                _S.c.status == SubmissionStatus.RETURNED.value,
            )
            .values(
                status=WAITING, answers=answers, updated_at=now, decided_at=None, decided_by=None
            )
            .returning(_S.c.id)
        )
    ).first()
    return changed is not None


@dataclass(frozen=True)
class Digest:
    new: int  # filed in the last day
    waiting: int
    overdue: int
    decided: int  # decided in the last day


async def digest(
    session: AsyncSession,
    *,
    regions: Sequence[str] | None,
    since: datetime,
    overdue_before: datetime,
) -> Digest:
    """The daily numbers for a reviewer, inside their scope, in one query."""
    scope = in_regions(regions)
    flag = lambda cond: func.sum(func.cast(cond, type_=_S.c.id.type))  # noqa: E731
    query = select(
        flag(_S.c.created_at >= since),
        flag(_S.c.status == WAITING),
        flag(and_(_S.c.status == WAITING, _S.c.created_at < overdue_before)),
        flag(and_(_S.c.decided_at.is_not(None), _S.c.decided_at >= since)),
    ).where(*_where(scope, _S.c.status != SubmissionStatus.WITHDRAWN.value))
    connection = await repo._connection(session)
    row = (await connection.execute(query)).one()
    return Digest(*(int(v or 0) for v in row))


async def reviewers(session: AsyncSession, *, admin_ids: Sequence[int]) -> list[Person]:
    """People who review: staff, admins by role, and admins by ADMIN_IDS who have a row."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_P).where(
            or_(_P.c.role.in_(["staff", "admin"]), _P.c.telegram_id.in_(list(admin_ids) or [0]))
        )
    )
    return [repo._record(Person, dict(row._mapping)) for row in rows]
