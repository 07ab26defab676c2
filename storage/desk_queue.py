"""The desk's review table: submissions with their person's name, filtered inside the reviewer's
scope (kind, status, region, period, overdue), searched, sorted (waiting time either way, name,
region), one page after another by keyset: the page after a row starts past that row's sort
key (looked up by its id), so page 50 costs what page 1 does and no row is seen twice."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Person, Submission, last_four
from storage.reviews import in_regions

_S = Submission.__table__
_P = Person.__table__
WAITING = "submitted"

# sort -> the key's columns and whether each ascends; the id last makes every key unique.
_NAME = func.lower(func.coalesce(_P.c.name, literal("")))
_REGION = func.coalesce(_S.c.regency_code, _S.c.province_code, literal(""))
SORTS: dict[str, tuple[tuple[Any, bool], ...]] = {
    "oldest": ((_S.c.created_at, True), (_S.c.id, True)),
    "newest": ((_S.c.created_at, False), (_S.c.id, False)),
    "name": ((_NAME, True), (_S.c.id, True)),
    "region": ((_REGION, True), (_S.c.created_at, True), (_S.c.id, True)),
}


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


@dataclass(frozen=True)
class Query:
    """Which submissions, in which order (the queue's filters; `search` is never in a URL)."""

    regions: Sequence[str] | None  # the reviewer's scope (None: everywhere)
    kind: str | None = None
    status: str | None = WAITING
    region: str | None = None
    search: str = ""
    since: datetime | None = None  # submitted at or after
    until: datetime | None = None  # submitted before
    overdue_before: datetime | None = None  # only those waiting since before this
    sort: str = "oldest"


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(query: str) -> Any:
    """A whole NIK (16 digits) exactly; four digits: the end of a phone or NIK; else a name.

    Each is served by an index of people (migration 0028): the NIK's last four and the phone's
    (stored in E.164, so its last four characters are digits) by expression indexes on exactly
    `last_four(...)`; any part of the name by a trigram index on `lower(name)` on PostgreSQL
    (pg_trgm), which serves LIKE with its escapes as written (a sequential scan without it)."""
    query = query.strip()
    if re.fullmatch(r"[0-9]{16}", query):
        return _P.c.nik == query
    if re.fullmatch(r"[0-9]{4}", query):
        return or_(last_four(_P.c.phone) == query, last_four(_P.c.nik) == query)
    return func.lower(_P.c.name).like(f"%{_like(query.lower())}%", escape="\\")


def _conditions(q: Query) -> list[Any]:
    found = [
        in_regions(q.regions),
        in_regions([q.region]) if q.region else None,
        _S.c.kind == q.kind if q.kind else None,
        _S.c.status == q.status if q.status else None,
        search_condition(q.search) if q.search.strip() else None,
        _S.c.created_at >= q.since if q.since is not None else None,
        _S.c.created_at < q.until if q.until is not None else None,
        and_(_S.c.status == WAITING, _S.c.created_at < q.overdue_before)
        if q.overdue_before is not None
        else None,
    ]
    return [c for c in found if c is not None]


def _past(key: tuple[tuple[Any, bool], ...], values: Sequence[Any]) -> Any:
    """Rows after the one whose key is `values`, in the key's order (a lexicographic compare
    written out, since the directions may differ)."""
    alternatives = []
    for i, (column, ascending) in enumerate(key):
        equal = [key[j][0] == values[j] for j in range(i)]
        beyond = column > values[i] if ascending else column < values[i]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


_FROM = _S.outerjoin(_P, _P.c.id == _S.c.person_id)


async def page(session: AsyncSession, q: Query, *, after: int | None = None,
               limit: int = 50) -> list[Row]:  # fmt: skip
    """One page of the table in `q.sort`'s order, after the submission `after` if given."""
    key = SORTS[q.sort]
    conditions = _conditions(q)
    connection = await repo._connection(session)
    if after is not None:
        values = (
            await connection.execute(
                select(*(column for column, _ in key)).select_from(_FROM).where(_S.c.id == after)
            )
        ).first()
        if values is not None:
            conditions.append(_past(key, tuple(values)))
    query = (
        select(
            _S.c.id, _S.c.kind, _S.c.status, _S.c.created_at, _S.c.province_code,
            _S.c.regency_code, _S.c.returned_fields.is_not(None), _S.c.answers, _P.c.name,
        )
        .select_from(_FROM)
        .where(*conditions)
        .order_by(*(column if ascending else column.desc() for column, ascending in key))
        .limit(limit)
    )  # fmt: skip
    return [
        Row(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), dict(r[7] or {}), r[8])
        for r in await connection.execute(query)
    ]


async def next_after(session: AsyncSession, q: Query, *, after: int) -> int | None:
    """The submission after this one in the same filtered, sorted queue; at its end, the
    queue's first (another than this one); None when nothing else is in it."""
    found = await page(session, q, after=after, limit=1)
    if not found:
        found = await page(session, q, limit=1)
    return found[0].id if found and found[0].id != after else None
