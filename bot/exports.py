"""The staff export's files: XLSX (one sheet per kind) and CSV (one file per kind, zipped
when the export holds several kinds), built from `storage.exports` rows.

Pure builders (rows in, bytes out), so they can run in a thread. Each kind of submission has
its own columns: the common ones (id, status, times, region, the person), then what that
kind's snapshot holds (`flows.snapshots`), each by name, so a join request never shows a KUR
answer under one of its columns and a new answer in a snapshot never reaches a file by
accident. Every value reads as a person reads it, in the exporter's language: "Registered",
not `registered`; "Running less than 6 months", not `running_less`; the legal steps done by
name. In XLSX ids, counts and amounts are numbers (amounts shown as rupiah) and times are real
dates in the exporter's zone (named in the header), so they sort and sum; CSV has no types, so
there times are written as Babel formats them ("24 Nov 2026 09.00") and amounts as rupiah
("Rp25.000.000"). The phone number and NIK are masked (`+62 812-****-7890`,
`3578********0001`) and amounts left out unless the export is `full` (staff and admins who ask
for it; the handler checks the right). The NIK is a column of join requests only: it is asked
only there.

Memory stays bounded whatever the export's size (300,000 submissions measured in
bench/exports.py): `exported` reads the database a page at a time (`storage.exports.chunks`,
one kind after another) and writes each page row by row into a temporary file (the workbook
is openpyxl's write-only one, each CSV goes straight into its file or its entry of the zip);
the bot uploads that file in pieces (`ExportUpload`) and the desk streams it
(`stream_export`, an async iterator of bytes). `to_csv`, `to_csv_zip` and `to_xlsx` build
the same files from rows already in memory (small sets, tests).

Text stays text when a spreadsheet opens the file: a NIK (16 digits) must not become the number
3578014101900000, a phone number starting with "+" must not become a number or a formula, and
nothing a person typed may run as a formula. XLSX has types, so there it is exact: the NIK and
phone columns are string cells with the text number format "@", and any other text is a string
cell (never a formula). CSV has no types; every spreadsheet guesses from the characters. Of the
known ways to make it keep a value as text, we chose a leading apostrophe:

- In the Phone and NIK columns *every* value starts with "'" (masked or full), so the column is
  uniform. In any other text column a value gets the "'" only when a spreadsheet would not
  keep it as it is: it starts with = + - @ or a tab, CR or LF (after spaces: some importers
  trim them first), it looks like a number, a date or a percentage ("2026", "17/08", "1e5"),
  or it starts with an apostrophe itself. So a program reading the file has the exact value
  by dropping one leading "'" from any text cell that has one.
- The apostrophe is never a formula and never a number in Excel, LibreOffice or Google Sheets,
  whatever their import options; at worst it is shown. That failure is visible and harmless.
- Rejected: `="3578..."` is itself a formula (shown as such wherever formulas are not
  evaluated on import, an option in LibreOffice, and garbage to every other tool); a zero-width
  prefix is invisible, so a copied NIK silently stops matching anywhere it is pasted; a tab
  prefix keeps text in Excel but fails open wherever leading whitespace is trimmed
  (LibreOffice's "Trim spaces", importers that strip cells): the number is rounded again, or a
  formula after the tab runs (which is why a leading tab is itself on the formula list).

For spreadsheets the XLSX export is the better file; the CSV is for programs and quick looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import re
import tempfile
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.types import InputFile
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import BuiltFile  # noqa: F401 - a file built when the outbox sends it
from bot.text import ZONE_LABELS, day, rupiah, short_moment, shown
from flows import regions, snapshots
from flows.i18n import N_
from flows.validators import mask_nik, mask_phone
from storage import exports as store
from storage.exports import Row
from storage.models import SubmissionKind, SubmissionStatus

WIB = regions.WIB
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

KIND_LABELS = {
    SubmissionKind.JOIN_REQUEST.value: N_("Request to join a cooperative"),
    SubmissionKind.FOUNDING.value: N_("Founding a cooperative"),
    SubmissionKind.KUR_READINESS.value: N_("KUR readiness check"),
    SubmissionKind.TRAINING.value: N_("Training registration"),
}
STATUS_LABELS = {
    SubmissionStatus.SUBMITTED.value: N_("Waiting for review"),
    SubmissionStatus.APPROVED.value: N_("Approved"),
    SubmissionStatus.REJECTED.value: N_("Not approved"),
    SubmissionStatus.RETURNED.value: N_("Returned for correction"),
    SubmissionStatus.WITHDRAWN.value: N_("Withdrawn"),
}

TEXT, INT, MONEY, MOMENT, DAY, SECRET = "text", "int", "money", "moment", "day", "secret"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# A cell a spreadsheet would read as a number, a date, a time or a percentage, not as text.
_NUMBER_LIKE = re.compile(
    r"\s*[\d\s.,:/%()+-]*\d[\d\s.,:/%()+-]*"  # 3578014101900001, 17/08/2026, 10:00, 50%
    r"|\s*\d+(?:[.,]\d+)?[eE][+-]?\d+\s*"  # 1e5, 2,5E3: scientific notation
)
TEXT_MARK = "'"  # a CSV cell starting with it is text: read it without this first character
_MOMENT_FORMATS = {"id": "dd/mm/yyyy hh:mm", "en": "yyyy-mm-dd hh:mm"}
_DAY_FORMATS = {"id": "dd/mm/yyyy", "en": "yyyy-mm-dd"}
_MONEY_FORMAT = '"Rp"#,##0'
_SHEET_TITLE = N_("Submissions")  # the sheet of rows of no known kind
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

Translate = Callable[..., str]


@dataclass(frozen=True)
class Context:
    full: bool
    tz: ZoneInfo
    zone: str  # the zone's name, e.g. "Asia/Jakarta"
    locale: str
    tr: Translate


@dataclass(frozen=True)
class Column:
    header: str  # a msgid; "{zone}" is filled with the zone's name
    type: str  # TEXT | INT | MONEY | MOMENT | DAY | SECRET (our own text: masked or E.164)
    width: int
    value: Callable[[Row, Context], Any]


# --- the common columns ------------------------------------------------------------------------


def _labelled(labels: dict[str, str], get: Callable[[Row], str | None]):  # noqa: ANN202
    def label(row: Row, ctx: Context) -> str | None:
        value = get(row)
        if value is None:
            return None
        return ctx.tr(labels[value]) if value in labels else value

    return label


def _region_name(code: str | None) -> str | None:
    region = regions.get(code) if code else None
    return region.name if region is not None else code


def _phone(row: Row, ctx: Context) -> str | None:
    if not row.phone:
        return None
    return row.phone if ctx.full else mask_phone(row.phone)


def _returned(row: Row, ctx: Context) -> str | None:
    if not row.returned_fields:
        return None
    names = []
    for key in row.returned_fields:
        label = snapshots.field_label(row.kind, str(key))
        names.append(ctx.tr(label) if label else str(key))
    return ", ".join(names)


HEAD: tuple[Column, ...] = (
    Column(N_("Submission ID"), INT, 10, lambda r, c: r.id),
    Column(N_("Status"), TEXT, 20, _labelled(STATUS_LABELS, lambda r: r.status)),
    Column(N_("Submitted ({zone})"), MOMENT, 18, lambda r, c: r.created_at),
    Column(N_("Decided ({zone})"), MOMENT, 18, lambda r, c: r.decided_at),
    Column(N_("Province"), TEXT, 18, lambda r, c: _region_name(r.province_code)),
    Column(N_("Regency or city"), TEXT, 22, lambda r, c: _region_name(r.regency_code)),
    Column(N_("Name"), TEXT, 22, lambda r, c: r.name),
    Column(N_("Phone"), SECRET, 18, _phone),
)
TAIL: tuple[Column, ...] = (
    Column(N_("Reason given"), TEXT, 30, lambda r, c: r.reason),
    Column(N_("Fields to correct"), TEXT, 18, _returned),
)

# --- what each kind's snapshot holds ------------------------------------------------------------

_TYPES = {
    snapshots.MOMENT: (MOMENT, 18),
    snapshots.DATE: (DAY, 14),
    snapshots.MONEY: (MONEY, 16),
    snapshots.COUNT: (INT, 10),
    snapshots.ID: (INT, 12),
    snapshots.NIK: (SECRET, 18),
}
_WIDTHS = {"purpose": 34, "milestones": 30, "title": 30, "cooperative_name": 28, "name": 28}


def _field_value(item: snapshots.Field) -> Callable[[Row, Context], Any]:
    def get(row: Row, ctx: Context) -> Any:
        raw = row.answers.get(item.key)
        if item.type == snapshots.NIK and not (isinstance(raw, str) and raw):
            raw = row.nik  # a join request filed before the NIK was kept in its snapshot
        found = snapshots.read(item, raw)
        if found is None:
            return None
        if found.type == snapshots.NIK:
            return found.value if ctx.full else mask_nik(found.value)
        if found.type == snapshots.MONEY:  # personal financial data: only in a full export
            return found.value if ctx.full else None
        if found.type in (snapshots.MOMENT, snapshots.DATE, snapshots.COUNT, snapshots.ID):
            return found.value
        return shown(found, tz=ctx.zone, locale=ctx.locale, tr=ctx.tr)

    return get


def _field_column(item: snapshots.Field) -> Column:
    kind, width = _TYPES.get(item.type, (TEXT, 22))
    return Column(item.column, kind, _WIDTHS.get(item.key, width), _field_value(item))


def columns(kind: str | None) -> list[Column]:
    """The common columns with the kind's own between them (None: the common ones only)."""
    own = [_field_column(f) for f in snapshots.fields(kind)] if kind else []
    return [*HEAD, *own, *TAIL]


def kinds_in(rows: Sequence[Row], kinds: Iterable[str] | None = None) -> list[str]:
    """The kinds these rows hold (only the chosen ones, if any), known kinds first in their
    usual order, then any other in the order met."""
    chosen = set(kinds or ()) or None
    present = {r.kind for r in rows if chosen is None or r.kind in chosen}
    return [k for k in snapshots.KINDS if k in present] + sorted(present - set(snapshots.KINDS))


def _of_kind(rows: Sequence[Row], kind: str) -> Iterator[Row]:
    return (r for r in rows if r.kind == kind)


def title(kind: str | None, tr: Translate) -> str:
    """A kind's name for a sheet or a file: "Join requests", "Pendaftaran pelatihan"."""
    if kind is None:
        return tr(_SHEET_TITLE)
    return tr(snapshots.TITLES[kind]) if kind in snapshots.TITLES else kind


def file_stem(kind: str | None, tr: Translate) -> str:
    """A file name's start from a kind's title: "join-requests", "pendaftaran-pelatihan"."""
    slug = re.sub(r"[^\w]+", "-", title(kind, tr).lower(), flags=re.UNICODE).strip("-")
    return slug or "submissions"


# --- translating outside a handler -------------------------------------------------------------

_fallback: I18n | None = None


def translator(locale: str, i18n: I18n | None = None) -> Translate:
    """gettext for an explicit locale: works in a worker thread and outside a dispatcher."""
    global _fallback
    found = i18n or I18n.get_current(no_error=True)
    if found is None:
        if _fallback is None:
            _fallback = I18n(path=LOCALES_DIR, default_locale="id", domain="messages")
        found = _fallback

    def tr(msgid: str, **params: Any) -> str:
        text = found.gettext(msgid, locale=locale)
        return text.format(**params) if params else text

    return tr


def _context(full: bool, locale: str, tz: str, i18n: I18n | None) -> Context:
    return Context(full=full, tz=ZoneInfo(tz), zone=tz, locale=locale, tr=translator(locale, i18n))


def headers(cols: Sequence[Column], ctx: Context) -> list[str]:
    zone = ZONE_LABELS.get(ctx.zone, ctx.zone)
    return [ctx.tr(c.header, zone=zone) if "{zone}" in c.header else ctx.tr(c.header) for c in cols]


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    """A naive datetime in the zone: spreadsheets have no time zones (the header names it)."""
    return value.astimezone(tz).replace(tzinfo=None, microsecond=0)


def _clean(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)


# --- CSV ---------------------------------------------------------------------------------------


def _csv_cell(col: Column, value: Any, ctx: Context) -> str:
    if value is None:
        return ""
    if col.type == MOMENT and isinstance(value, datetime):
        return short_moment(value, ctx.zone, ctx.locale)
    if col.type == DAY and isinstance(value, date):
        return day(value, ctx.locale)
    if col.type == MONEY and isinstance(value, int):
        return rupiah(value, ctx.locale)
    text = _clean(str(value))
    if col.type == SECRET or (col.type == TEXT and _not_kept_as_text(text)):
        return TEXT_MARK + text  # kept as text: never a formula, never a rounded number
    return text


def _not_kept_as_text(text: str) -> bool:
    """Would a spreadsheet opening the CSV turn this into a formula or a number?"""
    return (
        text.lstrip(" ").startswith(_FORMULA_START)
        or text.startswith(TEXT_MARK)  # a typed apostrophe would be eaten as the mark
        or _NUMBER_LIKE.fullmatch(text) is not None
    )


class CsvSink:
    """One kind's CSV written into `out` row by row: UTF-8 with a BOM (so Excel reads
    Indonesian text right), comma separated, a header row. `write` takes any number of rows
    at a time and keeps none; `close` leaves `out` open (the caller closes it)."""

    def __init__(self, out: IO[bytes], kind: str | None, ctx: Context) -> None:
        self.ctx, self.cols, self.rows = ctx, columns(kind), 0
        self._text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text)
        self._writer.writerow(headers(self.cols, ctx))

    def write(self, rows: Iterable[Row]) -> None:
        ctx, cols = self.ctx, self.cols
        for row in rows:
            self._writer.writerow([_csv_cell(c, c.value(row, ctx), ctx) for c in cols])
            self.rows += 1

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


def _write_csv(out: IO[bytes], rows: Iterable[Row], kind: str | None, ctx: Context) -> None:
    sink = CsvSink(out, kind, ctx)
    sink.write(rows)
    sink.close()


def to_csv(
    rows: Iterable[Row],
    *,
    kind: str,
    full: bool,
    locale: str,
    tz: str = WIB,
    i18n: I18n | None = None,
) -> bytes:
    """One kind's rows (others are left out) with that kind's columns; times as Babel writes
    them in `tz` ("24 Nov 2026 09.00"), amounts in rupiah. In memory: for a file of any size,
    `exported`."""
    ctx = _context(full, locale, tz, i18n)
    out = io.BytesIO()
    _write_csv(out, (r for r in rows if r.kind == kind), kind, ctx)
    return out.getvalue()


def _entry_name(kind: str, ctx: Context) -> str:
    return f"{file_stem(kind, ctx.tr)}.csv"


def to_csv_zip(
    rows: Sequence[Row],
    *,
    full: bool,
    locale: str,
    tz: str = WIB,
    kinds: Iterable[str] | None = None,
    i18n: I18n | None = None,
) -> bytes:
    """A zip of one CSV per kind the rows hold (see `to_csv`), named by the kind's title in
    the exporter's language ("pendaftaran-pelatihan.csv")."""
    ctx = _context(full, locale, tz, i18n)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as book:
        for kind in kinds_in(rows, kinds):
            with book.open(_entry_name(kind, ctx), "w") as entry:
                _write_csv(entry, _of_kind(rows, kind), kind, ctx)
    return out.getvalue()


# --- XLSX --------------------------------------------------------------------------------------


class XlsxSink:
    """An Excel workbook written row by row (openpyxl's write-only mode: each sheet's rows go
    to a temporary file as they come, strings inline, nothing kept per row): `sheet(kind)`
    starts the next sheet, `write` adds rows to it, `save` ends the last and writes the file.
    One sheet per kind, each with that kind's columns: a bold header row frozen above an
    autofilter, ids and counts as numbers, amounts as rupiah numbers, times as Excel dates in
    the exporter's zone, text as text (never a formula), sized columns."""

    def __init__(self, ctx: Context) -> None:
        # openpyxl (and the numpy it pulls in) is imported on the first Excel export, not at
        # start: measured, that is ~140 ms of every start-up and memory most instances never use.
        from openpyxl import Workbook

        self.ctx = ctx
        self.book = Workbook(write_only=True)
        self.rows = 0  # in the current sheet
        self._used: set[str] = set()
        self._sheet: Any = None
        self._cols: list[Column] = []
        self._moment = _MOMENT_FORMATS.get(ctx.locale, _MOMENT_FORMATS["en"])
        self._day = _DAY_FORMATS.get(ctx.locale, _DAY_FORMATS["en"])

    def sheet(self, kind: str | None) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        self._end_sheet()
        ctx = self.ctx
        cols = self._cols = columns(kind)
        sheet = self._sheet = self.book.create_sheet(_sheet_title(kind, ctx, self._used))
        self.rows = 0
        sheet.freeze_panes = "A2"
        names = headers(cols, ctx)
        for i, (col, name) in enumerate(zip(cols, names, strict=True), start=1):
            width = max(col.width, min(len(name), 40) + 3)
            sheet.column_dimensions[get_column_letter(i)].width = width
        bold = Font(bold=True)
        wrap = Alignment(vertical="top", wrap_text=True)
        header = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=_clean(name))
            cell.font, cell.alignment = bold, wrap
            header.append(cell)
        sheet.append(header)

    def _end_sheet(self) -> None:
        """The autofilter over the rows written: openpyxl writes it after the rows."""
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.filters import AutoFilter

        if self._sheet is not None:
            last = get_column_letter(len(self._cols))
            self._sheet.auto_filter = AutoFilter(ref=f"A1:{last}{self.rows + 1}")

    def write(self, rows: Iterable[Row]) -> None:
        from openpyxl.cell import WriteOnlyCell

        sheet, ctx, cols = self._sheet, self.ctx, self._cols
        for row in rows:
            cells: list[Any] = []
            for col in cols:
                value = col.value(row, ctx)
                if value is None:
                    cells.append(None)
                elif col.type == MOMENT and isinstance(value, datetime):
                    cell = WriteOnlyCell(sheet, value=_local(value, ctx.tz))
                    cell.number_format = self._moment
                    cells.append(cell)
                elif col.type == DAY and isinstance(value, date):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = self._day
                    cells.append(cell)
                elif col.type in (INT, MONEY) and isinstance(value, int):
                    if col.type == MONEY:
                        cell = WriteOnlyCell(sheet, value=value)
                        cell.number_format = _MONEY_FORMAT
                        cells.append(cell)
                    else:
                        cells.append(value)
                else:
                    text = _clean(str(value))
                    if col.type == SECRET:  # a NIK or phone: a string cell formatted as text
                        cell = WriteOnlyCell(sheet, value=text)
                        cell.data_type, cell.number_format = "s", "@"
                        cells.append(cell)
                    elif text.startswith("="):  # text stays text: never a formula someone typed
                        cell = WriteOnlyCell(sheet, value=text)
                        cell.data_type = "s"
                        cells.append(cell)
                    else:
                        cells.append(text)
            sheet.append(cells)
            self.rows += 1

    def save(self, out: IO[bytes] | str | Path) -> None:
        self._end_sheet()
        self.book.save(out)


def to_xlsx(
    rows: Sequence[Row],
    *,
    full: bool,
    locale: str,
    tz: str = WIB,
    kinds: Iterable[str] | None = None,
    i18n: I18n | None = None,
) -> bytes:
    """One sheet per kind the rows hold (only the chosen kinds, if given); see `XlsxSink`.
    In memory: for a file of any size, `exported`."""
    ctx = _context(full, locale, tz, i18n)
    sink = XlsxSink(ctx)
    chosen: list[str | None] = [*kinds_in(rows, kinds)]
    if not chosen:  # nothing to show: one sheet with the headers, so the file still opens
        chosen = [next(iter(kinds), None) if kinds else None]
    for kind in chosen:
        sink.sheet(kind)
        sink.write(_of_kind(rows, kind))
    out = io.BytesIO()
    sink.save(out)
    return out.getvalue()


def _sheet_title(kind: str | None, ctx: Context, used: set[str]) -> str:
    name = _SHEET_FORBIDDEN.sub(" ", _clean(title(kind, ctx.tr))).strip()[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name.lower())
    return name


# --- a file of any size, streamed --------------------------------------------------------------

XLSX, CSV, ZIP = "xlsx", "csv", "zip"
ZIP_CSV_ABOVE = 50_000  # rows: a bigger one-kind CSV is sent zipped (Telegram takes 50 MB)
READ_SIZE = 64 * 1024  # bytes handed out at a time by `stream_export`


@dataclass(frozen=True)
class Built:
    """A finished export file on disk (removed when `exported` ends): its path, its format
    (XLSX, CSV or ZIP, the file name's extension), how many rows of each kind it holds."""

    path: Path
    format: str
    by_kind: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.by_kind.values())


def _chosen_kinds(counted: store.Counted, kinds: Iterable[str] | None) -> list[str]:
    """The kinds to write, known kinds first in their usual order (as `kinds_in`)."""
    chosen = set(kinds or ()) or None
    present = {k for k in counted.by_kind if chosen is None or k in chosen}
    return [k for k in snapshots.KINDS if k in present] + sorted(present - set(snapshots.KINDS))


Pages = Callable[[str], AsyncIterator[Sequence[Row]]]


async def write_file(
    path: Path,
    pages: Pages,
    kinds: Sequence[str],
    fmt: str,
    ctx: Context,
    *,
    empty: str | None = None,
) -> dict[str, int]:
    """Write the export to `path`, one kind after another, each kind's rows page by page as
    `pages(kind)` reads them; every page is written in a worker thread (the event loop keeps
    serving updates) and dropped before the next is read. Rows written, by kind. An XLSX
    with no kind to show gets one sheet with the headers (of `empty`), so the file opens."""
    written: dict[str, int] = {}
    if fmt == XLSX:
        sink = await asyncio.to_thread(XlsxSink, ctx)
        for kind in kinds:
            await asyncio.to_thread(sink.sheet, kind)
            async for page in pages(kind):
                await asyncio.to_thread(sink.write, page)
            written[kind] = sink.rows
        if not kinds:
            await asyncio.to_thread(sink.sheet, empty)
        await asyncio.to_thread(sink.save, path)
        return written
    with contextlib.ExitStack() as stack:
        book = (
            None
            if fmt == CSV
            else stack.enter_context(zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED))
        )
        for kind in kinds:
            if book is None:
                out: IO[bytes] = stack.enter_context(open(path, "wb"))  # noqa: ASYNC230, SIM115
            else:
                out = stack.enter_context(book.open(_entry_name(kind, ctx), "w"))
            sink_csv = CsvSink(out, kind, ctx)
            async for page in pages(kind):
                await asyncio.to_thread(sink_csv.write, page)
            sink_csv.close()
            out.close()
            written[kind] = sink_csv.rows
    return written


def file_format(*, xlsx: bool, kind: str | None, rows: int) -> str:
    """XLSX; a CSV of one kind (zipped when it holds more than ZIP_CSV_ABOVE rows, so it
    stays far below Telegram's 50 MB); a zip of one CSV per kind."""
    if xlsx:
        return XLSX
    return CSV if kind and rows <= ZIP_CSV_ABOVE else ZIP


@asynccontextmanager
async def exported(
    sessionmaker: async_sessionmaker[AsyncSession],
    filters: store.Filters,
    *,
    fmt: str,
    full: bool,
    locale: str,
    tz: str = WIB,
    i18n: I18n | None = None,
    counted: store.Counted | None = None,
    chunk: int | None = None,
) -> AsyncIterator[Built]:
    """The export of the submissions matching `filters` written to a temporary file, read
    from the database page by page (`storage.exports.chunks`) and written row by row, so
    memory stays the same for 100 rows or 300,000; the file is removed when the block ends.

    `fmt`: XLSX (a sheet per kind), CSV (the one kind `filters.kinds` names) or ZIP (a CSV per
    kind). `counted` (`storage.exports.counted`, taken when the export was asked for: the
    caption says the same number) fixes the kinds and the newest id; counted here if None."""
    if counted is None:
        async with sessionmaker() as session:
            counted = await store.counted(session, filters)
    kinds = _chosen_kinds(counted, filters.kinds or None)
    if fmt == CSV:  # one kind's file, even when none of it matches
        kinds = list(filters.kinds[:1]) or kinds[:1]
    ctx = await asyncio.to_thread(_context, full, locale, tz, i18n)
    upto, chunk = counted.upto_id, chunk or store.CHUNK

    def pages(kind: str) -> AsyncIterator[Sequence[Row]]:
        return store.chunks(sessionmaker, filters, kind=kind, upto_id=upto, chunk=chunk)

    with tempfile.TemporaryDirectory(prefix="juragan-export-") as folder:
        path = Path(folder) / f"export.{fmt}"
        empty = filters.kinds[0] if filters.kinds else None
        written = await write_file(path, pages, kinds, fmt, ctx, empty=empty)
        yield Built(path=path, format=fmt, by_kind=written)


async def stream_export(
    sessionmaker: async_sessionmaker[AsyncSession],
    filters: store.Filters,
    **options: Any,
) -> AsyncIterator[bytes]:
    """The export (see `exported`, same options) as bytes, READ_SIZE at a time, for a web
    response (the desk: `aiohttp.web.StreamResponse`, writing each piece as it comes). The
    file is written in full first (an XLSX or a zip cannot be sent before its end is written),
    to a temporary file, never to memory; it is removed when the iterator ends or is closed."""
    async with exported(sessionmaker, filters, **options) as built:
        with open(built.path, "rb") as source:  # noqa: ASYNC230 - reads go to threads
            while piece := await asyncio.to_thread(source.read, READ_SIZE):
                yield piece


class ExportUpload(InputFile):
    """The bot's /ekspor document: written when it is uploaded (after the update's commit),
    to a temporary file that is read out in pieces and removed afterwards (`exported`)."""

    def __init__(
        self, build: Callable[[], AbstractAsyncContextManager[Built]], filename: str
    ) -> None:
        super().__init__(filename=filename)
        self._build = build

    async def read(self, bot: Bot) -> AsyncGenerator[bytes, None]:
        async with self._build() as built:
            with open(built.path, "rb") as source:  # noqa: ASYNC230 - reads go to threads
                while piece := await asyncio.to_thread(source.read, self.chunk_size):
                    yield piece

    async def content(self) -> bytes:
        """The whole file (written again: for tests)."""
        async with self._build() as built:
            return await asyncio.to_thread(built.path.read_bytes)
