"""Cooperatives: the directory, founding plans and their founders. Flushes, never commits."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import paging, submissions
from storage.models import (
    Cooperative,
    Founding,
    FoundingMember,
    FoundingStatus,
    Person,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    utcnow,
)
from storage.paging import Page
from storage.submissions import OPEN

MERAH_PUTIH, MIGRANT = "merah_putih", "migrant"


# The order results are shown in: Merah Putih and for migrant workers first, then Merah Putih,
# then for migrant workers, then the rest; by name (and id) within each.
GROUPS = ((True, True), (True, False), (False, True), (False, False))


def _filters(regency_code: str | None, province_code: str | None, kind: str | None) -> list[Any]:
    where: list[Any] = []
    if regency_code:
        where.append(Cooperative.regency_code == regency_code)
    elif province_code:
        where.append(Cooperative.province_code == province_code)
    if kind == MERAH_PUTIH:
        where.append(Cooperative.merah_putih.is_(True))
    elif kind == MIGRANT:
        where.append(Cooperative.migrant.is_(True))
    elif kind:
        where.append(Cooperative.kind == kind)
    return where


def _group(merah_putih: bool, migrant: bool) -> list[Any]:
    return [
        Cooperative.merah_putih == (true() if merah_putih else false()),
        Cooperative.migrant == (true() if migrant else false()),
    ]


async def _group_counts(session: AsyncSession, where: list[Any]) -> dict[tuple[bool, bool], int]:
    """How many of each (merah_putih, migrant) group match, in one statement: the three small
    groups counted on their own index ranges and everything at once, the big last group being
    the rest (cheaper than a GROUP BY, which reads the flags of every row)."""
    counts = [
        select(func.count()).select_from(Cooperative).where(*where, *_group(*g)).scalar_subquery()
        for g in GROUPS[:-1]
    ]
    everything = select(func.count()).select_from(Cooperative).where(*where).scalar_subquery()
    found = (await session.execute(select(*counts, everything))).one()
    small = dict(zip(GROUPS[:-1], (int(n) for n in found[:-1]), strict=True))
    return {**small, GROUPS[-1]: int(found[-1]) - sum(small.values())}


async def search(
    session: AsyncSession,
    *,
    regency_code: str | None = None,
    province_code: str | None = None,
    kind: str | None = None,
    page: int = 0,
    size: int = 8,
) -> Page[Cooperative]:
    """One page of the cooperatives in a regency (or a whole province) of one type, or a group
    (Merah Putih, for migrant workers), or any (kind None); Merah Putih and migrant ones first.

    Read in SQL, never the whole list: a count per (merah_putih, migrant) group, then the
    page's rows from the one or two groups it spans, each `ORDER BY name, id LIMIT/OFFSET` on an
    index in that order (migration 0012), so a press costs milliseconds with 50,000 found."""
    where = _filters(regency_code, province_code, kind)
    counts = await _group_counts(session, where)
    total = sum(counts.values())
    number = min(max(page, 0), max(0, -(-total // size) - 1))
    skip, want, rows = number * size, size, []
    for merah_putih, migrant in GROUPS:
        in_group = counts.get((merah_putih, migrant), 0)
        if skip >= in_group:
            skip -= in_group
            continue
        query = (
            select(Cooperative)
            .where(*where, *_group(merah_putih, migrant))
            .order_by(Cooperative.name, Cooperative.id)
        )
        found = await paging.rows(session, query, limit=min(want, in_group - skip), offset=skip)
        rows += found
        want, skip = want - len(found), 0
        if want <= 0:
            break
    return Page(rows=rows, total=total, number=number, size=size)


async def cooperative(session: AsyncSession, coop_id: int) -> Cooperative | None:
    return await session.get(Cooperative, coop_id)


async def open_join_request(
    session: AsyncSession, *, person_id: int, coop_id: int
) -> Submission | None:
    """The person's join request for this cooperative that is still open (waiting, or sent back
    for a correction), if any. A decision closes it: after a rejection they may ask again."""
    return await session.scalar(
        select(Submission).where(
            Submission.person_id == person_id,
            Submission.kind == SubmissionKind.JOIN_REQUEST,
            Submission.ref_id == coop_id,
            Submission.status.in_(OPEN),
        )
    )


async def accepted_join_request(
    session: AsyncSession, *, person_id: int, coop_id: int
) -> Submission | None:
    """The person's approved join request for this cooperative, if any (newest)."""
    return await session.scalar(
        select(Submission)
        .where(
            Submission.person_id == person_id,
            Submission.kind == SubmissionKind.JOIN_REQUEST,
            Submission.ref_id == coop_id,
            Submission.status == SubmissionStatus.APPROVED,
        )
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(1)
    )


async def join_request_of_run(
    session: AsyncSession, *, person_id: int, run_id: int
) -> Submission | None:
    """The join request this person filed from this flow run, if they did."""
    return await session.scalar(
        select(Submission).where(
            Submission.person_id == person_id,
            Submission.kind == SubmissionKind.JOIN_REQUEST,
            Submission.run_id == run_id,
        )
    )


# --- Founding plans ---------------------------------------------------------------------------


def new_code() -> str:
    """An invitation code of 12 characters from [A-Za-z0-9_-]."""
    return secrets.token_urlsafe(9)


async def create_founding(
    session: AsyncSession,
    *,
    founder: Person,
    kind: str,
    purpose: str,
    name: str,
    run_id: int | None = None,
    now: datetime | None = None,
) -> Founding:
    """A new plan with its founder as the first founding member (and its lead)."""
    code = new_code()
    while await session.scalar(select(Founding.id).where(Founding.code == code)) is not None:
        code = new_code()
    now = now or utcnow()
    founding = Founding(
        founder_id=founder.id,
        code=code,
        kind=kind,
        purpose=purpose,
        name=name,
        province_code=founder.province_code,
        regency_code=founder.regency_code,
        milestones={},
        status=FoundingStatus.PLANNING.value,
        run_id=run_id,
        created_at=now,
        updated_at=now,
    )
    session.add(founding)
    await session.flush()
    await add_member(session, founding_id=founding.id, person_id=founder.id, now=now)
    return founding


async def founding(
    session: AsyncSession, founding_id: int, *, lock: bool = False
) -> Founding | None:
    """A plan by id; `lock`: its row is held until the transaction ends (PostgreSQL; SQLite
    has one writer), so two changes of the same plan at once are taken one after the other
    and the second sees what the first did."""
    if not lock:
        return await session.get(Founding, founding_id)
    return await session.scalar(
        select(Founding)
        .where(Founding.id == founding_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def founding_of_run(session: AsyncSession, run_id: int) -> Founding | None:
    """The plan a flow run started, if it started one."""
    return await session.scalar(select(Founding).where(Founding.run_id == run_id))


async def founding_file(session: AsyncSession, founding_id: int) -> Submission | None:
    """The plan's newest founding file (what the team decided on, with its reason)."""
    return await session.scalar(
        select(Submission)
        .where(Submission.kind == SubmissionKind.FOUNDING.value, Submission.ref_id == founding_id)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(1)
    )


async def founding_by_code(session: AsyncSession, code: str) -> Founding | None:
    if not code or len(code) > 24:
        return None
    return await session.scalar(select(Founding).where(Founding.code == code))


async def foundings_of(
    session: AsyncSession, *, person_id: int, closed: bool = False
) -> list[Founding]:
    """Plans the person founded or joined as a founder, oldest first; cancelled ones only with
    `closed` (the progress page says they were cancelled)."""
    query = (
        select(Founding)
        .join(FoundingMember, FoundingMember.founding_id == Founding.id)
        .where(FoundingMember.person_id == person_id)
        .order_by(Founding.created_at, Founding.id)
    )
    if not closed:
        query = query.where(Founding.status != FoundingStatus.CANCELLED)
    return list(await session.scalars(query))


async def is_member(session: AsyncSession, *, founding_id: int, person_id: int) -> bool:
    found = await session.scalar(
        select(FoundingMember.id).where(
            FoundingMember.founding_id == founding_id, FoundingMember.person_id == person_id
        )
    )
    return found is not None


async def add_member(
    session: AsyncSession, *, founding_id: int, person_id: int, now: datetime | None = None
) -> bool:
    """Add a founder; False if they already were one (a double tap changes nothing)."""
    connection = await session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(FoundingMember)
        .values(founding_id=founding_id, person_id=person_id, joined_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["founding_id", "person_id"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)


async def members(session: AsyncSession, *, founding_id: int) -> list[Person]:
    """The founders, in the order they joined."""
    query = (
        select(Person)
        .join(FoundingMember, FoundingMember.person_id == Person.id)
        .where(FoundingMember.founding_id == founding_id)
        .order_by(FoundingMember.joined_at, FoundingMember.id)
    )
    return list(await session.scalars(query))


async def member_count(session: AsyncSession, *, founding_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(FoundingMember)
            .where(FoundingMember.founding_id == founding_id)
        )
        or 0
    )


async def person(session: AsyncSession, person_id: int | None) -> Person | None:
    return await session.get(Person, person_id) if person_id is not None else None


async def set_milestones(
    session: AsyncSession,
    plan: Founding,
    milestones: dict[str, Any],
    now: datetime | None = None,
) -> None:
    plan.milestones = dict(milestones)  # a new dict, so the change is seen
    plan.updated_at = now or utcnow()
    await session.flush()


async def set_meeting(
    session: AsyncSession, plan: Founding, when: datetime, now: datetime | None = None
) -> None:
    plan.meeting_at = when
    plan.updated_at = now or utcnow()
    await session.flush()


async def set_lead(session: AsyncSession, plan: Founding, person_id: int, now: datetime) -> None:
    """Another founder leads the plan; its founding file, if one is open, goes with it (so
    the team's decision and any correction reach the new lead)."""
    plan.founder_id = person_id
    plan.updated_at = now
    await session.execute(
        update(Submission)
        .where(
            Submission.kind == SubmissionKind.FOUNDING.value,
            Submission.ref_id == plan.id,
            Submission.status.in_([s.value for s in OPEN]),
        )
        .values(person_id=person_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.flush()


async def close(session: AsyncSession, plan: Founding, now: datetime) -> bool:
    """Cancel a plan for good (its founders stay, to see it was cancelled); False if it was
    already. Its waiting founding file is withdrawn from the team's queue."""
    if plan.status == FoundingStatus.CANCELLED:
        return False
    plan.status = FoundingStatus.CANCELLED.value
    plan.closed_at = plan.updated_at = now
    await session.flush()
    await submissions.withdraw(session, kind=SubmissionKind.FOUNDING, ref_ids=[plan.id])
    return True


async def mark_decided(
    session: AsyncSession, plan: Founding, status: FoundingStatus, now: datetime
) -> bool:
    """The team's decision on the plan's founding file, on the plan; False (nothing changed)
    when the plan is closed."""
    if plan.status == FoundingStatus.CANCELLED:
        return False
    plan.status = status.value
    plan.updated_at = now
    await session.flush()
    return True


async def mark_submitted(
    session: AsyncSession, plan: Founding, now: datetime | None = None
) -> bool:
    """PLANNING -> SUBMITTED, once: False if another update did it first."""
    now = now or utcnow()
    result = await session.execute(
        update(Founding)
        .where(Founding.id == plan.id, Founding.status == FoundingStatus.PLANNING)
        .values(status=FoundingStatus.SUBMITTED, submitted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        return False
    await session.refresh(plan)
    return True


def first_names(people: Sequence[Person]) -> list[str]:
    return [(p.name or "").split()[0] if (p.name or "").split() else "?" for p in people]
