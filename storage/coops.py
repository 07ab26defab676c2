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

from storage import paging
from storage.models import (
    Cooperative,
    Founding,
    FoundingMember,
    FoundingStatus,
    Person,
    Submission,
    SubmissionKind,
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
    """The person's join request for this cooperative that is still waiting, if any."""
    return await session.scalar(
        select(Submission).where(
            Submission.person_id == person_id,
            Submission.kind == SubmissionKind.JOIN_REQUEST,
            Submission.ref_id == coop_id,
            Submission.status.in_(OPEN),
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
) -> Founding:
    """A new plan with its founder as the first founding member."""
    code = new_code()
    while await session.scalar(select(Founding.id).where(Founding.code == code)) is not None:
        code = new_code()
    now = utcnow()
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
        created_at=now,
        updated_at=now,
    )
    session.add(founding)
    await session.flush()
    await add_member(session, founding_id=founding.id, person_id=founder.id)
    return founding


async def founding(session: AsyncSession, founding_id: int) -> Founding | None:
    return await session.get(Founding, founding_id)


async def founding_by_code(session: AsyncSession, code: str) -> Founding | None:
    if not code or len(code) > 24:
        return None
    return await session.scalar(select(Founding).where(Founding.code == code))


async def foundings_of(session: AsyncSession, *, person_id: int) -> list[Founding]:
    """Plans the person founded or joined as a founder, oldest first (cancelled ones left out)."""
    query = (
        select(Founding)
        .join(FoundingMember, FoundingMember.founding_id == Founding.id)
        .where(
            FoundingMember.person_id == person_id,
            Founding.status != FoundingStatus.CANCELLED,
        )
        .order_by(Founding.created_at, Founding.id)
    )
    return list(await session.scalars(query))


async def is_member(session: AsyncSession, *, founding_id: int, person_id: int) -> bool:
    found = await session.scalar(
        select(FoundingMember.id).where(
            FoundingMember.founding_id == founding_id, FoundingMember.person_id == person_id
        )
    )
    return found is not None


async def add_member(session: AsyncSession, *, founding_id: int, person_id: int) -> bool:
    """Add a founder; False if they already were one (a double tap changes nothing)."""
    connection = await session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(FoundingMember)
        .values(founding_id=founding_id, person_id=person_id, joined_at=utcnow())
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


async def set_milestones(session: AsyncSession, plan: Founding, milestones: dict[str, Any]) -> None:
    plan.milestones = dict(milestones)  # a new dict, so the change is seen
    plan.updated_at = utcnow()
    await session.flush()


async def set_meeting(session: AsyncSession, plan: Founding, when: datetime) -> None:
    plan.meeting_at = when
    plan.updated_at = utcnow()
    await session.flush()


FOUNDING_FIELDS = frozenset({"name", "kind", "purpose"})  # what its founder wrote, and may correct


async def amend_founding(session: AsyncSession, founding_id: int, **fields: Any) -> bool:
    """Write a plan's own answers (a corrected name, type or purpose); False if it is gone."""
    unknown = set(fields) - FOUNDING_FIELDS
    if unknown:
        raise KeyError(", ".join(sorted(unknown)))
    plan = await session.get(Founding, founding_id)
    if plan is None:
        return False
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.updated_at = utcnow()
    await session.flush()
    return True


async def mark_submitted(session: AsyncSession, plan: Founding) -> bool:
    """PLANNING -> SUBMITTED, once: False if another update did it first."""
    now = utcnow()
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
