"""Loading directories from CSV: every row validated first, then all rows or none.

`juragan import cooperatives FILE.csv` uses this. A bad row is reported by its line number
and column, and nothing is written while any row is bad, so a file is never half loaded.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import regions, validators
from flows.errors import Invalid
from storage.models import Cooperative, CoopKind, utcnow

COOPERATIVE_COLUMNS = (
    "name", "kind", "merah_putih", "migrant", "regency_code", "village", "description",
    "simpanan_pokok", "simpanan_wajib", "requirements", "benefits", "sample",
)  # fmt: skip
TRUE, FALSE = {"yes", "ya", "true", "1", "y"}, {"no", "tidak", "false", "0", "n", ""}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise Invalid("must be yes or no")


def _rupiah(raw: str) -> int:
    return 0 if raw.strip() in ("0", "") else validators.money(raw)


def _regency(raw: str) -> str:
    region = regions.get(raw.strip())
    if region is None or region.province_code is None:
        raise Invalid("not a regency or city code from the built-in list, e.g. 35.78")
    return region.code


def _text(max_len: int) -> Any:
    return lambda raw: validators.text(raw, min_len=2, max_len=max_len)


def _kind(raw: str) -> str:
    value = raw.strip().lower().replace(" ", "_")
    if value not in set(CoopKind):
        raise Invalid(f"must be one of {', '.join(CoopKind)}")
    return value


PARSERS = {
    "name": _text(120), "kind": _kind, "merah_putih": _flag, "migrant": _flag,
    "regency_code": _regency, "village": _text(80), "description": _text(500),
    "simpanan_pokok": _rupiah, "simpanan_wajib": _rupiah, "requirements": _text(500),
    "benefits": _text(500), "sample": _flag,
}  # fmt: skip


def parse_cooperatives(text: str) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Rows ready to store, and every problem found (line numbers as a spreadsheet shows)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COOPERATIVE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RowError(1, ", ".join(missing), "missing column(s) in the header")]
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for line, raw in enumerate(reader, start=2):
        if None in raw or None in raw.values():
            errors.append(RowError(line, "row", f"must have {len(reader.fieldnames or [])} fields"))
            continue
        row: dict[str, Any] = {}
        for column, parse in PARSERS.items():
            try:
                row[column] = parse(raw.get(column) or "")
            except Invalid as exc:
                errors.append(RowError(line, column, exc.msgid.format(**exc.params)))
        if len(row) < len(PARSERS):
            continue
        key = (row["name"].casefold(), row["regency_code"])
        if key in seen:
            errors.append(RowError(line, "name", f"same cooperative as line {seen[key]}"))
            continue
        seen[key] = line
        row["province_code"] = row["regency_code"].split(".")[0]
        rows.append(row)
    return rows, errors


async def load_cooperatives(session: AsyncSession, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert new cooperatives and update known ones (same name in the same regency)."""
    existing = {
        (c.name.casefold(), c.regency_code): c
        for c in (await session.scalars(select(Cooperative))).all()
    }
    added = updated = 0
    for row in rows:
        known = existing.get((row["name"].casefold(), row["regency_code"]))
        if known is None:
            session.add(Cooperative(**row))
            added += 1
        else:
            for column, value in row.items():
                setattr(known, column, value)
            known.updated_at = utcnow()
            updated += 1
    await session.flush()
    return added, updated
