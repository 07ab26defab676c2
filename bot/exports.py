"""The staff export's files: CSV and XLSX of submissions, built from `storage.exports` rows.

Pure builders (rows in, bytes out), so they can run in a thread. Every column is typed: ids
and counts are numbers, times are real dates in the exporter's zone (named in the header),
labels are in the exporter's language. The phone number and NIK are masked
(`+62 812-****-7890`, `3578********0001`) and the loan amount left out unless the export is
`full` (staff and admins who ask for it; the handler checks the right).

Only the answers that matter are flattened into columns, each by name: a new answer in a
snapshot never reaches a file by accident.

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

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n

from bot.outbox import BuiltFile  # noqa: F401 - exports are built when the outbox sends them
from bot.text import ZONE_LABELS
from flows import found_coop, join_coop, regions
from flows import kur as kur_flow
from flows.engine import Option
from flows.i18n import N_
from flows.validators import mask_nik, mask_phone
from storage.exports import Row
from storage.models import RegistrationStatus, SubmissionKind, SubmissionStatus

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
SEAT_LABELS = {
    RegistrationStatus.REGISTERED.value: N_("Registered"),
    RegistrationStatus.WAITLISTED.value: N_("On the waitlist"),
}

TEXT, INT, MONEY, MOMENT, SECRET = "text", "int", "money", "moment", "secret"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# A cell a spreadsheet would read as a number, a date, a time or a percentage, not as text.
_NUMBER_LIKE = re.compile(
    r"\s*[\d\s.,:/%()+-]*\d[\d\s.,:/%()+-]*"  # 3578014101900001, 17/08/2026, 10:00, 50%
    r"|\s*\d+(?:[.,]\d+)?[eE][+-]?\d+\s*"  # 1e5, 2,5E3: scientific notation
)
TEXT_MARK = "'"  # a CSV cell starting with it is text: read it without this first character
_MOMENT_FORMATS = {"id": "dd/mm/yyyy hh:mm", "en": "yyyy-mm-dd hh:mm"}
_SHEET_TITLE = N_("Submissions")

JOIN, FOUND, KUR, TRAIN = (
    SubmissionKind.JOIN_REQUEST.value,
    SubmissionKind.FOUNDING.value,
    SubmissionKind.KUR_READINESS.value,
    SubmissionKind.TRAINING.value,
)

Translate = Callable[..., str]


@dataclass(frozen=True)
class Context:
    full: bool
    tz: ZoneInfo
    tr: Translate


@dataclass(frozen=True)
class Column:
    header: str  # a msgid; "{zone}" is filled with the zone's name
    type: str  # TEXT | INT | MONEY | MOMENT | SECRET (our own text: masked or E.164)
    width: int
    value: Callable[[Row, Context], Any]
    kinds: frozenset[str] | None = None  # the submission kinds it is about; None: all


# --- reading a snapshot ------------------------------------------------------------------------


def _answer(key: str) -> Callable[[Row, Context], Any]:
    def get(row: Row, ctx: Context) -> Any:
        value = row.answers.get(key)
        return value if isinstance(value, str | int) and not isinstance(value, bool) else None

    return get


def _whole(key: str) -> Callable[[Row, Context], int | None]:
    def get(row: Row, ctx: Context) -> int | None:
        value = row.answers.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return get


def _option(key: str, options: Sequence[Option]) -> Callable[[Row, Context], str | None]:
    by_value = {o.value: o for o in options}

    def get(row: Row, ctx: Context) -> str | None:
        value = row.answers.get(key)
        if not isinstance(value, str):
            return None
        option = by_value.get(value)
        if option is None:
            return value
        return option.label if option.literal else ctx.tr(option.label)

    return get


def _moment_answer(key: str) -> Callable[[Row, Context], datetime | None]:
    def get(row: Row, ctx: Context) -> datetime | None:
        value = row.answers.get(key)
        if not isinstance(value, str):
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None

    return get


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


def _nik(row: Row, ctx: Context) -> str | None:
    value = row.answers.get("nik")
    nik = value if isinstance(value, str) and value else row.nik
    if not nik:
        return None
    return nik if ctx.full else mask_nik(nik)


def _amount(row: Row, ctx: Context) -> int | None:
    """Personal financial data: only in a full export."""
    return _whole("amount")(row, ctx) if ctx.full else None


def _cooperative(row: Row, ctx: Context) -> str | None:
    key = "cooperative_name" if row.kind == JOIN else "name"
    value = row.answers.get(key)
    return value if isinstance(value, str) else None


def _steps_done(row: Row, ctx: Context) -> str | None:
    done = row.answers.get("milestones")
    if not isinstance(done, dict) or not done:
        return None
    keys = [m.key for m in found_coop.MILESTONES if m.key in done]
    return "; ".join(ctx.tr(found_coop.BY_KEY[k].label) for k in keys) or None


# Field names a reviewer can send back, as people read them (others are shown as they are).
FIELD_LABELS = {
    "nik": N_("NIK"),
    "business": N_("Business"),
    "amount": N_("Capital needed"),
    "name": N_("Name"),
    "purpose": N_("Purpose"),
}


def _returned(row: Row, ctx: Context) -> str | None:
    if not row.returned_fields:
        return None
    return ", ".join(
        ctx.tr(FIELD_LABELS[f]) if f in FIELD_LABELS else str(f) for f in row.returned_fields
    )


def _seat(row: Row) -> str | None:
    value = row.answers.get("status")
    return value if isinstance(value, str) else None


COLUMNS: tuple[Column, ...] = (
    Column(N_("Submission ID"), INT, 10, lambda r, c: r.id),
    Column(N_("Type"), TEXT, 26, _labelled(KIND_LABELS, lambda r: r.kind)),
    Column(N_("Status"), TEXT, 20, _labelled(STATUS_LABELS, lambda r: r.status)),
    Column(N_("Submitted ({zone})"), MOMENT, 18, lambda r, c: r.created_at),
    Column(N_("Decided ({zone})"), MOMENT, 18, lambda r, c: r.decided_at),
    Column(N_("Province"), TEXT, 18, lambda r, c: _region_name(r.province_code)),
    Column(N_("Regency or city"), TEXT, 22, lambda r, c: _region_name(r.regency_code)),
    Column(N_("Name"), TEXT, 22, lambda r, c: r.name),
    Column(N_("Phone"), SECRET, 18, _phone),
    Column(N_("NIK"), SECRET, 18, _nik),
    Column(N_("Reason given"), TEXT, 30, lambda r, c: r.reason),
    Column(N_("Fields to correct"), TEXT, 18, _returned),
    # What the journeys asked, by kind.
    Column(N_("Cooperative"), TEXT, 28, _cooperative, frozenset({JOIN, FOUND})),
    Column(N_("Cooperative ID"), INT, 12, _whole("cooperative_id"), frozenset({JOIN})),
    Column(N_("Cooperative type"), TEXT, 22, _option("kind", join_coop.KINDS), frozenset({FOUND})),
    Column(N_("Purpose"), TEXT, 34, _answer("purpose"), frozenset({FOUND})),
    Column(N_("Founders"), INT, 10, _whole("founders"), frozenset({FOUND})),
    Column(
        N_("Founding meeting ({zone})"),
        MOMENT,
        18,
        _moment_answer("meeting_at"),
        frozenset({FOUND}),
    ),
    Column(N_("Steps done"), TEXT, 30, _steps_done, frozenset({FOUND})),
    Column(N_("Business"), TEXT, 28, _answer("business"), frozenset({KUR})),
    Column(N_("Business now"), TEXT, 22, _option("status", kur_flow.STATUS), frozenset({KUR})),
    Column(N_("21 or older, or married"), TEXT, 16, _option("age", kur_flow.AGE), frozenset({KUR})),
    Column(N_("e-KTP"), TEXT, 8, _option("ektp", kur_flow.YES_NO), frozenset({KUR})),
    Column(N_("KK"), TEXT, 8, _option("kk", kur_flow.YES_NO), frozenset({KUR})),
    Column(N_("NIB or SKU"), TEXT, 16, _option("permit", kur_flow.PERMITS), frozenset({KUR})),
    Column(N_("Capital needed (Rp)"), MONEY, 16, _amount, frozenset({KUR})),
    Column(N_("NPWP"), TEXT, 8, _option("npwp", kur_flow.YES_NO), frozenset({KUR})),
    Column(N_("Other loans"), TEXT, 22, _option("credit", kur_flow.CREDIT), frozenset({KUR})),
    Column(N_("SLIK checked"), TEXT, 18, _option("slik", kur_flow.SLIK), frozenset({KUR})),
    Column(N_("Training"), TEXT, 30, _answer("title"), frozenset({TRAIN})),
    Column(
        N_("Training starts ({zone})"), MOMENT, 18, _moment_answer("starts_at"), frozenset({TRAIN})
    ),
    Column(
        N_("Seat or waitlist"),
        TEXT,
        18,
        _labelled(SEAT_LABELS, _seat),
        frozenset({TRAIN}),
    ),
)


def columns_for(kinds: Iterable[str] | None = None) -> list[Column]:
    """The common columns, then those of the chosen kinds (all kinds: every column)."""
    chosen = frozenset(kinds or ()) or None
    return [c for c in COLUMNS if c.kinds is None or chosen is None or c.kinds & chosen]


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
    return Context(full=full, tz=ZoneInfo(tz), tr=translator(locale, i18n))


def headers(cols: Sequence[Column], ctx: Context, tz: str) -> list[str]:
    zone = ZONE_LABELS.get(tz, tz)
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
        return _local(value, ctx.tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
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


def to_csv(
    rows: Sequence[Row],
    *,
    full: bool,
    locale: str,
    tz: str = WIB,
    kinds: Iterable[str] | None = None,
    i18n: I18n | None = None,
) -> bytes:
    """UTF-8 with a BOM (so Excel reads Indonesian text right), comma separated, a header row;
    times as "2026-11-25 10:00" in `tz`."""
    ctx = _context(full, locale, tz, i18n)
    cols = columns_for(kinds)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers(cols, ctx, tz))
    for row in rows:
        writer.writerow([_csv_cell(c, c.value(row, ctx), ctx) for c in cols])
    return out.getvalue().encode("utf-8-sig")


# --- XLSX --------------------------------------------------------------------------------------


def to_xlsx(
    rows: Sequence[Row],
    *,
    full: bool,
    locale: str,
    tz: str = WIB,
    kinds: Iterable[str] | None = None,
    i18n: I18n | None = None,
) -> bytes:
    """One sheet: a bold header row frozen above an autofilter, ids and counts as numbers,
    times as Excel dates in `tz`, text as text (never a formula), sized columns."""
    # openpyxl (and the numpy it pulls in) is imported on the first Excel export, not at start:
    # measured, that is ~140 ms of every start-up and memory most instances never use.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.filters import AutoFilter

    ctx = _context(full, locale, tz, i18n)
    cols = columns_for(kinds)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_clean(ctx.tr(_SHEET_TITLE))[:31] or "Sheet1")
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(cols))
    sheet.auto_filter = AutoFilter(ref=f"A1:{last}{len(rows) + 1}")
    names = headers(cols, ctx, tz)
    for i, (col, name) in enumerate(zip(cols, names, strict=True), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(col.width, min(len(name), 40) + 3)

    bold = Font(bold=True)
    wrap = Alignment(vertical="top", wrap_text=True)
    header = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=_clean(name))
        cell.font, cell.alignment = bold, wrap
        header.append(cell)
    sheet.append(header)

    moment_format = _MOMENT_FORMATS.get(locale, _MOMENT_FORMATS["en"])
    for row in rows:
        cells: list[Any] = []
        for col in cols:
            value = col.value(row, ctx)
            if value is None:
                cells.append(None)
            elif col.type == MOMENT and isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=_local(value, ctx.tz))
                cell.number_format = moment_format
                cells.append(cell)
            elif col.type in (INT, MONEY) and isinstance(value, int):
                if col.type == MONEY:
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = "#,##0"
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

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- sending -----------------------------------------------------------------------------------
