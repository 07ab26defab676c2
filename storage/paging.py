"""A page of a list, read in SQL: the rows of one page and a count, never the whole list.

A list people page through with ◀️ / ▶️ (cooperatives found, upcoming training sessions) reads
one COUNT and one `LIMIT size OFFSET page * size` query, both served by an index that matches
the list's filter and order (migration 0012), so a press costs the same with 50 rows or 50,000
and holds SQLite's one writer for milliseconds. OFFSET rather than a keyset: a button's 64 bytes
of callback data hold a page number but not a cooperative's name, the buttons show "3/6250",
and a page number typed into forged data is only clamped. The order must be total (it ends
with the id), so the same page shows the same rows however often it is pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """`rows` of page `number` (from 0) of `total` rows, `size` a page."""

    rows: list[T]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The place of the page's first row in the whole list, from 1."""
        return self.number * self.size + 1


async def page(session: AsyncSession, query: Select[Any], *, number: int, size: int) -> Page[Any]:
    """Page `number` of `query` (which must be ordered); a number past the end is the last
    page, one below 0 the first."""
    total = int(
        await session.scalar(
            query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
        )
        or 0
    )
    last = max(0, -(-total // size) - 1)
    number = min(max(number, 0), last)
    found = await rows(session, query, limit=size, offset=number * size) if total else []
    return Page(rows=found, total=total, number=number, size=size)


async def rows(session: AsyncSession, query: Select[Any], *, limit: int, offset: int) -> list[Any]:
    """The rows of `query` (a select of one model) from `offset`: the ids first, then the rows
    of those ids. The walk past `offset` rows reads only the index (an index-only scan on
    PostgreSQL: no table row fetched for the rows skipped), and only a page of rows is read."""
    model = query.column_descriptions[0]["entity"]
    ids = query.with_only_columns(model.id).limit(limit).offset(offset).scalar_subquery()
    order = query._order_by_clauses  # the same order, for the page's own rows
    return list(await session.scalars(select(model).where(model.id.in_(ids)).order_by(*order)))
