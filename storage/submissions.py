"""Submissions: finished journeys waiting for a person (staff) to look at them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Person, Submission, SubmissionKind, SubmissionStatus, utcnow

OPEN = (SubmissionStatus.SUBMITTED, SubmissionStatus.RETURNED)


async def create(
    session: AsyncSession,
    *,
    person: Person | None,
    kind: SubmissionKind,
    ref_id: int | None,
    answers: dict[str, Any],
    run_id: int | None = None,
    province_code: str | None = None,
    regency_code: str | None = None,
    new_subject: bool = False,
) -> Submission:
    """File a submission with a snapshot of the answers; the region defaults to the person's.

    One open submission per person, kind and subject: filing again (a double tap, a second
    finish) updates the snapshot of the open one instead of queueing a duplicate. A caller that
    has just created the subject (`new_subject`) skips that look-up: nothing can be open for it.
    """
    now = utcnow()
    existing = None
    if person is not None and not new_subject:
        existing = await session.scalar(
            select(Submission).where(
                Submission.person_id == person.id,
                Submission.kind == kind,
                Submission.ref_id == ref_id if ref_id is not None else Submission.ref_id.is_(None),
                Submission.status.in_(OPEN),
            )
        )
    if existing is not None:
        existing.answers = dict(answers)
        existing.status = SubmissionStatus.SUBMITTED
        existing.updated_at = now
        existing.run_id = run_id or existing.run_id
        await session.flush()
        return existing
    values: dict[str, Any] = {
        "person_id": person.id if person else None,
        "kind": kind.value,
        "ref_id": ref_id,
        "run_id": run_id,
        "province_code": province_code or (person.province_code if person else None),
        "regency_code": regency_code or (person.regency_code if person else None),
        "answers": dict(answers),
        "status": SubmissionStatus.SUBMITTED.value,
        "reason": None,
        "returned_fields": None,
        "created_at": now,
        "updated_at": now,
        "decided_at": None,
        "decided_by": None,
    }
    submission_id = await repo._insert(session, Submission.__table__, values)
    return repo._record(Submission, {"id": submission_id, **values})


async def of_person(
    session: AsyncSession, *, person_id: int, kind: SubmissionKind | None = None
) -> list[Submission]:
    """A person's submissions, newest first."""
    query = select(Submission).where(Submission.person_id == person_id)
    if kind is not None:
        query = query.where(Submission.kind == kind)
    return list(await session.scalars(query.order_by(Submission.created_at.desc())))


async def latest(
    session: AsyncSession, *, person_id: int, kind: SubmissionKind, ref_id: int | None = None
) -> Submission | None:
    query = select(Submission).where(Submission.person_id == person_id, Submission.kind == kind)
    if ref_id is not None:
        query = query.where(Submission.ref_id == ref_id)
    return await session.scalar(
        query.order_by(Submission.created_at.desc(), Submission.id.desc()).limit(1)
    )


async def withdraw(session: AsyncSession, *, kind: SubmissionKind, ref_ids: list[int]) -> int:
    """Take open submissions about these subjects out of the queue (the person cancelled)."""
    if not ref_ids:
        return 0
    connection = await repo._connection(session)
    result = await connection.execute(
        update(Submission)
        .where(
            Submission.kind == kind,
            Submission.ref_id.in_(ref_ids),
            Submission.status.in_([s.value for s in OPEN]),
        )
        .values(status=SubmissionStatus.WITHDRAWN.value, updated_at=utcnow())
    )
    return int(result.rowcount or 0)


async def withdraw_ids(session: AsyncSession, *, ids: list[int], now: datetime) -> int:
    """Take these submissions out of the queue, if they are still open."""
    if not ids:
        return 0
    connection = await repo._connection(session)
    result = await connection.execute(
        update(Submission)
        .where(Submission.id.in_(ids), Submission.status.in_([s.value for s in OPEN]))
        .values(status=SubmissionStatus.WITHDRAWN.value, updated_at=now)
    )
    return int(result.rowcount or 0)
