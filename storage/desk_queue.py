"""The desk's review table: submissions with their person's name, filtered inside the reviewer's
scope, searched, oldest first, one page after another by keyset (the last row's time and id),
so page 50 costs what page 1 does."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Person, Submission
from storage.reviews import in_regions

_S = Submission.__table__
_P = Person.__table__


@dataclass(frozen=True)
class Row:
    id: int
    kind: str
    status: str
    created_at: datetime
    province_code: str | None
    regency_code: str | None
    corrected: bool
    answers: dict[str, Any]
    name: str | None


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(query: str) -> Any:
    """A whole NIK (16 digits) exactly; four digits: the end of a phone or NIK; else a name."""
    query = query.strip()
    if re.fullmatch(r"[0-9]{16}", query):
        return _P.c.nik == query
    if re.fullmatch(r"[0-9]{4}", query):
        return or_(_P.c.phone.like(f"%{query}"), _P.c.nik.like(f"%{query}"))
    return func.lower(_P.c.name).like(f"%{_like(query.lower())}%", escape="\\")


async def page(
    session: AsyncSession,
    *,
    regions: Sequence[str] | None,
    kind: str | None = None,
    status: str | None = None,
    region: str | None = None,
    search: str = "",
    after: int | None = None,
    limit: int = 50,
) -> list[Row]:
    """One page of the table, oldest first, after the submission `after` (inside the scope)."""
    conditions = [
        c
        for c in (
            in_regions(regions),
            in_regions([region]) if region else None,
            _S.c.kind == kind if kind else None,
            _S.c.status == status if status else None,
            search_condition(search) if search.strip() else None,
        )
        if c is not None
    ]
    connection = await repo._connection(session)
    if after is not None:
        last = (await connection.execute(select(_S.c.created_at).where(_S.c.id == after))).scalar()
        if last is not None:
            conditions.append(
                or_(_S.c.created_at > last, and_(_S.c.created_at == last, _S.c.id > after))
            )
    query = (
        select(
            _S.c.id, _S.c.kind, _S.c.status, _S.c.created_at, _S.c.province_code,
            _S.c.regency_code, _S.c.returned_fields.is_not(None), _S.c.answers, _P.c.name,
        )
        .select_from(_S.outerjoin(_P, _P.c.id == _S.c.person_id))
        .where(*conditions)
        .order_by(_S.c.created_at, _S.c.id)
        .limit(limit)
    )  # fmt: skip
    return [
        Row(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), dict(r[7] or {}), r[8])
        for r in await connection.execute(query)
    ]


async def next_waiting(
    session: AsyncSession, *, regions: Sequence[str] | None, after: int
) -> int | None:
    """The next waiting submission after this one in the queue's order, else the oldest."""
    found = await page(session, regions=regions, status="submitted", after=after, limit=1)
    if not found:
        found = await page(session, regions=regions, status="submitted", limit=1)
    return found[0].id if found and found[0].id != after else None
