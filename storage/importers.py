"""Loading directories from CSV, streamed: read row by row, check, write in batches.

`juragan import cooperatives FILE.csv` and `juragan import trainings FILE.csv` use this. A bad
row is reported by its line number and column. The whole file is one transaction and the caller
commits only when no row was bad, so a file is never half loaded (all or nothing): writing stops
at the first bad row, checking goes on to report every problem. Nothing holds the whole file:
a row is parsed, checked and queued, and every `BATCH` rows are written with one INSERT and one
UPDATE (known entries), so 50,000 rows take seconds and a few MB, not every row as an object.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from flows import clock, regions, validators
from flows.errors import Invalid
from storage.models import Cooperative, CoopKind, Training, utcnow

BATCH = 1_000  # rows a statement
KEEP_ERRORS = 100  # problems kept to print; the rest are only counted

COOPERATIVE_COLUMNS = (
    "name", "kind", "merah_putih", "migrant", "regency_code", "village", "description",
    "simpanan_pokok", "simpanan_wajib", "requirements", "benefits", "sample",
)  # fmt: skip
# Optional columns: a file may leave them out (a known cooperative then keeps what it has); an
# empty cell means "not known". What a person should check before paying simpanan.
COOPERATIVE_OPTIONAL = ("legal_number", "nik_koperasi", "last_rat")
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


# "100000", "100.000", "Rp 100.000", "Rp. 1.500.000": what validators.money reads the same way,
# read here without its general parser (a third of a large import's time); anything else goes
# through validators.money.
_PLAIN_RUPIAH = re.compile(r"(?:Rp\.? ?)?([1-9]\d{0,2}(?:\.\d{3})+|[1-9]\d*)")


def _rupiah(raw: str) -> int:
    value = raw.strip()
    if value in ("0", ""):
        return 0
    plain = _PLAIN_RUPIAH.fullmatch(value)
    if plain and int(amount := plain[1].replace(".", "")) <= validators.MONEY_MAX:
        return int(amount)
    return validators.money(raw)


def _regency(raw: str) -> str:
    region = regions.get(raw.strip())
    if region is None or region.province_code is None:
        raise Invalid("not a regency or city code from the built-in list, e.g. 35.78")
    return region.code


def _text(max_len: int) -> Callable[[str], str]:
    """validators.text, with a fast way through for the common cell: printable ASCII that fits
    passes every rule of validators.text (it looks at each character in Python, the slowest part
    of an import); anything else is judged by validators.text itself."""

    def parse(raw: str) -> str:
        if raw.isascii() and raw.isprintable():
            value = " ".join(raw.split())
            if 2 <= len(value) <= max_len:
                return value
        return validators.text(raw, min_len=2, max_len=max_len)

    return parse


def _kind(raw: str) -> str:
    value = raw.strip().lower().replace(" ", "_")
    if value not in set(CoopKind):
        raise Invalid(f"must be one of {', '.join(CoopKind)}")
    return value


def _legal_number(raw: str) -> str | None:
    """The badan hukum number as AHU writes it ("AHU-0001234.AH.01.29.TAHUN 2025"); free text
    with at least one digit."""
    value = " ".join(raw.split())
    if not value:
        return None
    if len(value) > 80 or not value.isprintable() or not any(c.isdigit() for c in value):
        raise Invalid(
            "must be the legal entity number as written, with digits, at most 80 characters"
        )
    return value


def _nik_koperasi(raw: str) -> str | None:
    """The NIK Koperasi: digits (spaces or dots between them are dropped)."""
    value = raw.strip().replace(" ", "").replace(".", "")
    if not value:
        return None
    if not value.isdigit() or not 6 <= len(value) <= 30:
        raise Invalid("must be the NIK Koperasi: digits only, 6 to 30 of them")
    return value


def _last_rat(raw: str) -> date | None:
    """The day of the last RAT, YYYY-MM-DD, not in the future."""
    value = raw.strip()
    if not value:
        return None
    try:
        held = date.fromisoformat(value)
    except ValueError:
        raise Invalid("must be a date like 2026-03-28") from None
    if held > clock.today() or held.year < 1945:
        raise Invalid("must be a day that has passed, like 2026-03-28")
    return held


OPTIONAL_PARSERS = {
    "legal_number": _legal_number, "nik_koperasi": _nik_koperasi, "last_rat": _last_rat,
}  # fmt: skip

PARSERS = {
    "name": _text(120), "kind": _kind, "merah_putih": _flag, "migrant": _flag,
    "regency_code": _regency, "village": _text(80), "description": _text(500),
    "simpanan_pokok": _rupiah, "simpanan_wajib": _rupiah, "requirements": _text(500),
    "benefits": _text(500), "sample": _flag,
}  # fmt: skip


@dataclass
class Report:
    """What an import did: rows written (new, updated) and every problem (the first
    `KEEP_ERRORS` kept to print, all counted)."""

    added: int = 0
    updated: int = 0
    problems: int = 0
    errors: list[RowError] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # lines of sample sessions already over

    def append(self, error: RowError) -> None:
        self.problems += 1
        if len(self.errors) < KEEP_ERRORS:
            self.errors.append(error)

    @property
    def rows(self) -> int:
        return self.added + self.updated


def _checked_rows(
    lines: Iterable[str],
    columns: tuple[str, ...],
    parsers: dict[str, Callable[[str], Any]],
    errors: Report | list[RowError],
    optional: dict[str, Callable[[str], Any]] | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, parsed row) for every row whose every column parses, one at a time; each problem
    goes to `errors` with its line number as a spreadsheet shows it (the header is line 1).
    `optional` columns are parsed only when the header has them."""
    reader = csv.DictReader(_without_bom(lines))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        errors.append(RowError(1, ", ".join(missing), "missing column(s) in the header"))
        return
    given = {c: p for c, p in (optional or {}).items() if c in (reader.fieldnames or [])}
    parsers = {**parsers, **given}
    line = 1
    rows = iter(reader)
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            return
        except UnicodeDecodeError:
            problem = "not UTF-8 text from about here on (save the file as CSV UTF-8)"
            errors.append(RowError(line + 1, "row", problem))
            return
        except csv.Error as exc:
            errors.append(RowError(line + 1, "row", f"not a CSV row ({exc})"))
            return
        line += 1
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


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    """The lines, the first without a UTF-8 byte order mark (Excel writes one)."""
    first = True
    for line in lines:
        yield line.lstrip("\ufeff") if first else line
        first = False


async def _roomy(session: AsyncSession) -> None:
    """On SQLite, a page cache of 32 MB for this connection (the default is 2 MB): a load
    touches every index of the table at random, and with the default the same index pages are
    written out and read back again and again (a third of an import's time)."""
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        await connection.exec_driver_sql("PRAGMA cache_size = -32768")


class _Writer:
    """Rows queued and written `BATCH` at a time: new ones with one INSERT, known ones (same
    key as a stored row) with one UPDATE by id. The keys of what is stored are read once, as
    plain tuples; the rows themselves never become ORM objects."""

    def __init__(self, session: AsyncSession, model: Any, known: dict[Any, int]) -> None:
        self.session, self.model, self.known = session, model, known
        self.new: list[dict[str, Any]] = []
        self.changed: list[dict[str, Any]] = []
        self.added = self.updated = 0

    async def add(self, key: Any, row: dict[str, Any]) -> None:
        now = utcnow()
        stored = self.known.get(key)
        if stored is None:
            self.new.append({**row, "updated_at": now})
        else:
            self.changed.append({**row, "id": stored, "updated_at": now})
        if len(self.new) + len(self.changed) >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        table = self.model.__table__
        if self.new:
            await self.session.execute(insert(table), self.new)
            self.added += len(self.new)
        if self.changed:
            # Parameters named apart from the columns (SQLAlchemy reserves the columns' names).
            columns = {c: bindparam("v_" + c) for c in self.changed[0] if c != "id"}
            statement = update(table).where(table.c.id == bindparam("v_id")).values(columns)
            params = [{"v_" + k: v for k, v in row.items()} for row in self.changed]
            await self.session.execute(statement, params)
            self.updated += len(self.changed)
        self.new, self.changed = [], []


async def _known_cooperatives(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(select(Cooperative.id, Cooperative.name, Cooperative.regency_code))
    return {(name.casefold(), regency): id_ for id_, name, regency in rows}


def _cooperatives(
    lines: Iterable[str], errors: Report | list[RowError]
) -> Iterator[dict[str, Any]]:
    """Checked cooperative rows, one at a time; a second row for the same cooperative (same
    name in the same regency) is a problem."""
    seen: dict[tuple[str, str], int] = {}
    for line, row in _checked_rows(lines, COOPERATIVE_COLUMNS, PARSERS, errors, OPTIONAL_PARSERS):
        key = (row["name"].casefold(), row["regency_code"])
        if key in seen:
            errors.append(RowError(line, "name", f"same cooperative as line {seen[key]}"))
            continue
        seen[key] = line
        row["province_code"] = row["regency_code"].split(".")[0]
        yield row


def parse_cooperatives(text: str) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Rows ready to store, and every problem found (line numbers as a spreadsheet shows)."""
    errors: list[RowError] = []
    rows = list(_cooperatives(text.splitlines(keepends=True), errors))
    return rows, errors


async def import_cooperatives(session: AsyncSession, lines: Iterable[str]) -> Report:
    """Check and write the directory from CSV lines (a file opened with newline=""), streamed;
    the caller commits only if the report has no problems."""
    report = Report()
    await _roomy(session)
    writer = _Writer(session, Cooperative, await _known_cooperatives(session))
    for row in _cooperatives(lines, report):
        if not report.problems:  # after a bad row, only check: nothing will be committed
            await writer.add((row["name"].casefold(), row["regency_code"]), row)
    if not report.problems:
        await writer.flush()
    report.added, report.updated = writer.added, writer.updated
    return report


async def load_cooperatives(session: AsyncSession, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert new cooperatives and update known ones (same name in the same regency)."""
    writer = _Writer(session, Cooperative, await _known_cooperatives(session))
    for row in rows:
        await writer.add((row["name"].casefold(), row["regency_code"]), row)
    await writer.flush()
    return writer.added, writer.updated


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


AHEAD = timedelta(days=2 * 365)  # a session starts at most two years from now
LONGEST = timedelta(days=92)  # and lasts at most about three months
WINDOW = "must be between now and 2 years ahead"


def _times(row: dict[str, Any], now: datetime) -> tuple[datetime, datetime]:
    """Start and end (local time of the region's zone, WIB without a region) in UTC; a start
    more than two years ahead (a mistyped year: 2207, 9999) and an end more than three months
    after the start are refused. A start in the past is refused later, for new sessions only."""
    zone = ZoneInfo(regions.zone_of(row["regency_code"]))
    try:
        y, mo, d, h, mi = _local(row["start"])
        start = datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(UTC)
    except OverflowError:  # year 1: before what a UTC datetime can hold
        raise Invalid(f"{WINDOW}, like 2027-02-14 09:00") from None
    except ValueError:
        raise Invalid("must be a real date and time like 2027-02-14 09:00") from None
    if start > now + AHEAD:
        raise Invalid(f"{WINDOW} (a session more than 2 years away is likely a mistyped year)")
    clock_ = _CLOCK.fullmatch(row["end"])
    try:
        if clock_:  # only a time: the same day
            local = start.astimezone(zone)
            end = local.replace(hour=int(clock_[1]), minute=int(clock_[2])).astimezone(UTC)
        else:
            y, mo, d, h, mi = _local(row["end"])
            end = datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError, Invalid):
        raise Invalid("end: must be a time like 12:00 or 2027-02-14 12:00") from None
    if end <= start:
        raise Invalid("end: must be after the start")
    if end - start > LONGEST:
        raise Invalid("end: must be at most 3 months after the start")
    return start, end


def _trainings(
    lines: Iterable[str], errors: Report | list[RowError], now: datetime
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, row as Training columns) for every good session, one at a time."""
    seen: dict[tuple[str, datetime], int] = {}
    for line, row in _checked_rows(lines, TRAINING_COLUMNS, TRAINING_PARSERS, errors):
        try:
            starts_at, ends_at = _times(row, now)
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
        yield (
            line,
            {
                **{k: v for k, v in row.items() if k not in ("start", "end")},
                "starts_at": starts_at,
                "ends_at": ends_at,
                "province_code": (region.province_code or region.code) if region else None,
                "regency_code": code if region and region.province_code else None,
            },
        )


def parse_trainings(
    text: str, *, now: datetime | None = None
) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Sessions ready to store (Training columns), and every problem found, by line and column
    (all but one: whether a session in the past is new needs the database; see
    `import_trainings`)."""
    errors: list[RowError] = []
    found = _trainings(text.splitlines(keepends=True), errors, now or clock.now())
    return [row for _line, row in found], errors


async def _known_trainings(session: AsyncSession) -> dict[tuple[str, datetime], int]:
    rows = await session.execute(select(Training.id, Training.title, Training.starts_at))
    return {(title.casefold(), starts_at): id_ for id_, title, starts_at in rows}


async def import_trainings(
    session: AsyncSession, lines: Iterable[str], *, now: datetime | None = None
) -> Report:
    """Check and write sessions from CSV lines, streamed; a session with the same title and
    start is updated. A new session that starts in the past is refused (a mistyped year such
    as 2000); one already stored may be loaded again, so last month's file can be re-imported
    with its seats changed. A new *sample* session in the past (the demo's sample file, whose
    dates pass) is skipped and its line reported, not refused, so `make demo` keeps working.
    The caller commits only if the report has no problems."""
    now = now or clock.now()
    report = Report()
    await _roomy(session)
    known = await _known_trainings(session)
    writer = _Writer(session, Training, known)
    for line, row in _trainings(lines, report, now):
        key = (row["title"].casefold(), row["starts_at"])
        if row["starts_at"] <= now and key not in known:
            if row["sample"]:  # the demo's sample file outlives its dates: those are skipped
                report.skipped.append(line)
            else:
                report.append(RowError(line, "start", f"is in the past: a new session {WINDOW}"))
        elif not report.problems:  # after a bad row, only check: nothing will be committed
            await writer.add(key, row)
    if not report.problems:
        await writer.flush()
    report.added, report.updated = writer.added, writer.updated
    return report


async def import_file(session: AsyncSession, what: str, lines: Iterable[str]) -> Report:
    """`juragan import cooperatives|trainings FILE`: the one entry for both directories."""
    if what == "trainings":
        return await import_trainings(session, lines)
    return await import_cooperatives(session, lines)


async def refresh_statistics(engine: AsyncEngine, what: str) -> None:
    """After a load is committed: the planner's statistics of the table (and on PostgreSQL its
    visibility map, with which a page is counted and skipped from the index alone) brought up
    to date now, not whenever autovacuum comes by, so the first page presses after a large
    import already use the paging indexes (migration 0012). Outside any transaction."""
    table = Training.__tablename__ if what == "trainings" else Cooperative.__tablename__
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"VACUUM (ANALYZE) {table}"))
        else:
            await connection.execute(text(f"ANALYZE {table}"))
