"""Loading directories from CSV: every row validated first, then all rows or none.

`juragan import cooperatives FILE.csv` and `juragan import trainings FILE.csv` use this. A bad
row is reported by its line number and column, and nothing is written while any row is bad, so
a file is never half loaded.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import regions, validators
from flows.errors import Invalid
from storage.models import Cooperative, CoopKind, Training, utcnow

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


def _checked_rows(
    text: str,
    columns: tuple[str, ...],
    parsers: dict[str, Callable[[str], Any]],
    errors: list[RowError],
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, parsed row) for every row whose every column parses; each problem goes to `errors`
    with its line number as a spreadsheet shows it (the header is line 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        errors.append(RowError(1, ", ".join(missing), "missing column(s) in the header"))
        return
    for line, raw in enumerate(reader, start=2):
        if None in raw or None in raw.values():
            errors.append(RowError(line, "row", f"must have {len(reader.fieldnames or [])} fields"))
            continue
        row: dict[str, Any] = {}
        for column, parse in parsers.items():
            try:
                row[column] = parse(raw.get(column) or "")
            except Invalid as exc:
                errors.append(RowError(line, column, exc.msgid.format(**exc.params)))
        if len(row) == len(parsers):
            yield line, row


async def _upsert(
    session: AsyncSession,
    model: type[Cooperative] | type[Training],
    rows: list[dict[str, Any]],
    key: Callable[[Any], tuple[Any, ...]],
) -> tuple[int, int]:
    """Insert rows that are new and update the ones already stored (the same `key`)."""
    existing = {key(obj): obj for obj in (await session.scalars(select(model))).all()}
    added = updated = 0
    for row in rows:
        known = existing.get(key(SimpleNamespace(**row)))
        now = utcnow()
        if known is None:
            session.add(model(**row, updated_at=now))
            added += 1
        else:
            for column, value in row.items():
                setattr(known, column, value)
            known.updated_at = now
            updated += 1
    await session.flush()
    return added, updated


def parse_cooperatives(text: str) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Rows ready to store, and every problem found (line numbers as a spreadsheet shows)."""
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in _checked_rows(text, COOPERATIVE_COLUMNS, PARSERS, errors):
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
    return await _upsert(session, Cooperative, rows, lambda c: (c.name.casefold(), c.regency_code))


# Training sessions -------------------------------------------------------------------------

TRAINING_COLUMNS = (
    "title", "organiser", "topic", "start", "end", "place", "link", "regency_code", "seats",
    "needs_approval", "sample",
)  # fmt: skip
_WHEN = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2})[:.](\d{2})")
_CLOCK = re.compile(r"(\d{1,2})[:.](\d{2})")


def _topic(raw: str) -> str:
    from flows.training import TOPIC_KEYS

    value = raw.strip().lower()
    if value not in TOPIC_KEYS:
        raise Invalid(f"must be one of {', '.join(sorted(TOPIC_KEYS))}")
    return value


def _region(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if regions.get(value) is None:
        raise Invalid("not a regency, city or province code from the built-in list, e.g. 35.78")
    return value


def _local(raw: str) -> tuple[int, int, int, int, int]:
    match = _WHEN.fullmatch(raw.strip())
    if not match:
        raise Invalid("must be a date and time like 2027-02-14 09:00")
    return tuple(int(g) for g in match.groups())  # type: ignore[return-value]


def _seats(raw: str) -> int:
    return validators.integer(raw, min_value=1, max_value=10_000)


def _optional(parse: Any) -> Any:
    return lambda raw: parse(raw) if raw.strip() else None


def _link(raw: str) -> str:
    from flows.training import url

    return url(raw)


TRAINING_PARSERS = {
    "title": _text(150), "organiser": _text(150), "topic": _topic,
    "start": lambda raw: raw.strip(), "end": lambda raw: raw.strip(),
    "place": _optional(_text(200)), "link": _optional(_link), "regency_code": _region,
    "seats": _seats, "needs_approval": _flag, "sample": _flag,
}  # fmt: skip


def _times(row: dict[str, Any]) -> tuple[datetime, datetime]:
    """Start and end (local time of the region's zone, WIB without a region) in UTC."""
    zone = ZoneInfo(regions.zone_of(row["regency_code"]))
    try:
        y, mo, d, h, mi = _local(row["start"])
        start = datetime(y, mo, d, h, mi, tzinfo=zone)
    except ValueError:
        raise Invalid("must be a real date and time like 2027-02-14 09:00") from None
    clock = _CLOCK.fullmatch(row["end"])
    try:
        if clock:  # only a time: the same day
            end = start.replace(hour=int(clock[1]), minute=int(clock[2]))
        else:
            y, mo, d, h, mi = _local(row["end"])
            end = datetime(y, mo, d, h, mi, tzinfo=zone)
    except (ValueError, Invalid):
        raise Invalid("end: must be a time like 12:00 or 2027-02-14 12:00") from None
    if end <= start:
        raise Invalid("end: must be after the start")
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_trainings(text: str) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Sessions ready to store (Training columns), and every problem found, by line and column."""
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, datetime], int] = {}
    for line, row in _checked_rows(text, TRAINING_COLUMNS, TRAINING_PARSERS, errors):
        try:
            starts_at, ends_at = _times(row)
        except Invalid as exc:
            column = "end" if exc.msgid.startswith("end: ") else "start"
            errors.append(RowError(line, column, exc.msgid.removeprefix("end: ")))
            continue
        if not row["place"] and not row["link"]:
            errors.append(RowError(line, "place", "give a place, a link, or both"))
            continue
        key = (row["title"].casefold(), starts_at)
        if key in seen:
            errors.append(RowError(line, "title", f"same session as line {seen[key]}"))
            continue
        seen[key] = line
        code = row.pop("regency_code")
        region = regions.get(code) if code else None
        rows.append(
            {
                **{k: v for k, v in row.items() if k not in ("start", "end")},
                "starts_at": starts_at,
                "ends_at": ends_at,
                "province_code": (region.province_code or region.code) if region else None,
                "regency_code": code if region and region.province_code else None,
            }
        )
    return rows, errors


async def load_trainings(session: AsyncSession, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert new sessions and update known ones (same title and start)."""
    return await _upsert(session, Training, rows, lambda t: (t.title.casefold(), t.starts_at))
