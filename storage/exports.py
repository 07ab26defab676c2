"""Submissions for a staff export: one query with the filters of /ekspor, joined with the person.

The rows carry the person's name, phone and NIK as stored (None for someone who deleted their
data: their submissions stay as anonymous rows); the bot masks them unless a reviewer who may
asks for full values.

An export of any size is read in chunks (`chunks`): keyset pages of CHUNK rows in the file's
order (creation time, then id) for one kind at a time, each page its own short read, so
memory holds one page whatever the export's size, no transaction stays open while the file is
written (on SQLite the one connection is free between pages), and a page is found through
the index on (kind, created_at, id) (migration 0023) instead of sorting the kind again.
`counted` fixes what the export holds first: the kinds with their counts, and the newest id
then, so a submission filed while the file is written is not half in it. `submissions` (all
rows in one list, up to a limit) stays for small reads and the tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import repo
from storage.models import Person, Submission

_S = Submission.__table__
_P = Person.__table__

MAX_ROWS = 50_000  # `submissions` only: the streamed export (`chunks`) has no limit
CHUNK = 2_000  # rows read at once by `chunks`: about 2 MB of rows in memory


@dataclass(frozen=True)
class Filters:
    """What to export. Empty `kinds`/`statuses`: all of them. `since`/`until`: the creation
    time in [since, until), UTC, either open. `scope`: the exporter's regions (None: everywhere;
    an empty list: nowhere). `region`: one province or regency chosen inside the scope."""

    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    scope: tuple[str, ...] | None = None
    region: str | None = None


@dataclass(frozen=True)
class Row:
    """One submission with its person, as stored (nothing masked yet)."""

    id: int
    kind: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    province_code: str | None
    regency_code: str | None
    answers: dict[str, Any]
    reason: str | None
    returned_fields: list[Any] | None
    name: str | None
    phone: str | None
    nik: str | None


@dataclass(frozen=True)
class Export:
    rows: list[Row]
    truncated: bool  # more matched than the limit: only the oldest `limit` are in `rows`
    limit: int


def _in_region(code: str) -> ColumnElement[bool]:
    """Submissions in this province ("35") or regency ("35.78")."""
    if "." in code:
        return _S.c.regency_code == code
    return or_(
        _S.c.province_code == code, _S.c.regency_code.startswith(code + ".", autoescape=True)
    )


def within(codes: Sequence[str]) -> ColumnElement[bool]:
    """Submissions in any of these regions; an empty list: none (a role with no region)."""
    if not codes:
        return false()
    return or_(*(_in_region(code) for code in codes))


def _where(filters: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.kinds:
        where.append(_S.c.kind.in_(list(filters.kinds)))
    if filters.statuses:
        where.append(_S.c.status.in_(list(filters.statuses)))
    if filters.since is not None:
        where.append(_S.c.created_at >= filters.since)
    if filters.until is not None:
        where.append(_S.c.created_at < filters.until)
    if filters.scope is not None:
        where.append(within(filters.scope))
    if filters.region:
        where.append(_in_region(filters.region))
    return where


async def count(session: AsyncSession, filters: Filters) -> int:
    """How many submissions match (for the filter card, before exporting)."""
    connection = await repo._connection(session)
    query = select(func.count()).select_from(_S).where(*_where(filters))
    return int((await connection.execute(query)).scalar_one())


@dataclass(frozen=True)
class Counted:
    """What an export holds, fixed before it is written: how many submissions of each kind
    match (only kinds with any), and the newest submission id then (None: none at all)."""

    by_kind: dict[str, int] = field(default_factory=dict)
    upto_id: int | None = None

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


async def counted(session: AsyncSession, filters: Filters) -> Counted:
    """The matching submissions counted by kind, with the newest id (one grouped query)."""
    connection = await repo._connection(session)
    query = (
        select(_S.c.kind, func.count(), func.max(_S.c.id))
        .select_from(_S)
        .where(*_where(filters))
        .group_by(_S.c.kind)
    )
    by_kind: dict[str, int] = {}
    upto: int | None = None
    for kind, n, newest in await connection.execute(query):
        by_kind[str(kind)] = int(n)
        upto = max(int(newest), upto or 0)
    return Counted(by_kind=by_kind, upto_id=upto)


async def chunks(
    sessionmaker: async_sessionmaker[AsyncSession],
    filters: Filters,
    *,
    kind: str,
    upto_id: int | None,
    chunk: int = CHUNK,
) -> AsyncIterator[list[Row]]:
    """The matching submissions of one kind with their person, oldest first, `chunk` at a
    time; each page its own short read (keyset: after the last row's creation time and id).
    Only ids up to `upto_id` (see `counted`; None: nothing)."""
    if upto_id is None:
        return
    after: tuple[datetime, int] | None = None
    while True:
        query = _rows_query(filters).where(_S.c.kind == kind, _S.c.id <= upto_id)
        if after is not None:
            created, last = after
            query = query.where(
                _S.c.created_at >= created,
                or_(_S.c.created_at > created, and_(_S.c.created_at == created, _S.c.id > last)),
            )
        async with sessionmaker() as session:
            connection = await repo._connection(session)
            rows = [_row(values) for values in await connection.execute(query.limit(chunk))]
        if not rows:
            return
        yield rows
        if len(rows) < chunk:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _rows_query(filters: Filters) -> Any:
    return (
        select(
            _S.c.id,
            _S.c.kind,
            _S.c.status,
            _S.c.created_at,
            _S.c.decided_at,
            _S.c.province_code,
            _S.c.regency_code,
            _S.c.answers,
            _S.c.reason,
            _S.c.returned_fields,
            _P.c.name,
            _P.c.phone,
            _P.c.nik,
        )
        .select_from(_S.outerjoin(_P, _P.c.id == _S.c.person_id))
        .where(*_where(filters))
        .order_by(_S.c.created_at, _S.c.id)
    )


async def submissions(session: AsyncSession, filters: Filters, *, limit: int = MAX_ROWS) -> Export:
    """The matching submissions with their person, oldest first, at most `limit` of them, in
    one list (small reads; an export of any size reads `chunks`)."""
    query = _rows_query(filters).limit(limit + 1)
    connection = await repo._connection(session)
    result = await connection.execute(query)
    rows = [_row(values) for values in result]
    truncated = len(rows) > limit
    return Export(rows=rows[:limit], truncated=truncated, limit=limit)


def _row(values: Any) -> Row:
    (sid, kind, status, created, decided, province, regency, answers, reason, fields) = values[:10]
    name, phone, nik = values[10:]
    # The column type makes them aware UTC datetimes; a raw JSON column may come back None.
    return Row(
        id=int(sid),
        kind=kind,
        status=status,
        created_at=created,
        decided_at=decided,
        province_code=province,
        regency_code=regency,
        answers=dict(answers or {}),
        reason=reason,
        returned_fields=list(fields) if fields else None,
        name=name,
        phone=phone,
        nik=nik,
    )
