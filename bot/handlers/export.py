"""/ekspor: staff, coordinators and admins export submissions as CSV or Excel.

A filter card (type, status, period, region, format and, for those allowed, full numbers)
whose whole state rides in its buttons' callback data, so nothing is stored until the export
itself. Every command and every press checks the role on the server; every field of a press
is checked again (a forged type, status or period, a region outside the exporter's scope, or
full numbers asked by someone without the right is refused and changes nothing). Each export
is audited with its filters, the number of rows, the format and whether numbers were full,
never a value. The file is written after the commit, page by page from the database into a
temporary file, and uploaded from it (`bot.exports.exported`, `ExportUpload`): no row limit,
memory the same for any size.
"""

from __future__ import annotations

import html
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendDocument
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import exports as files
from bot import keyboards as kb
from bot import roles
from bot.driver import Turn
from bot.handlers.common import IsCommand, pressed_message, turn_for
from bot.outbox import Outbox
from bot.text import current_locale, day, number, t
from flows import clock, regions
from flows.i18n import N_
from storage import audit
from storage import exports as store
from storage.models import Person, Role, SubmissionKind, SubmissionStatus

log = logging.getLogger(__name__)

# Short codes keep the callback data far below Telegram's 64 bytes.
KINDS = {
    "j": SubmissionKind.JOIN_REQUEST.value,
    "f": SubmissionKind.FOUNDING.value,
    "k": SubmissionKind.KUR_READINESS.value,
    "t": SubmissionKind.TRAINING.value,
}
STATUSES = {
    "s": SubmissionStatus.SUBMITTED.value,
    "a": SubmissionStatus.APPROVED.value,
    "r": SubmissionStatus.REJECTED.value,
    "b": SubmissionStatus.RETURNED.value,
    "w": SubmissionStatus.WITHDRAWN.value,
}
WEEK, DAYS30, THIS_MONTH, LAST_MONTH, EVERYTHING = "7", "30", "tm", "lm", "all"
PERIODS = {
    WEEK: N_("Last 7 days"),
    DAYS30: N_("Last 30 days"),
    THIS_MONTH: N_("This month"),
    LAST_MONTH: N_("Last month"),
    EVERYTHING: N_("Everything"),
}
PROVINCES_PAGE, REGENCIES_PAGE = 12, 8


class ExportCB(CallbackData, prefix="ex"):
    """The filter card and its lists; the card's whole state travels in every button.

    act: card | kind | status | period | region | go. k: kind code ("" all), s: status code
    ("" all), d: period code, r: region inside the scope ("" all of it), x: Excel (else CSV),
    f: full numbers, v: the province whose regencies are listed, p: a page of a list."""

    act: str
    k: str = ""
    s: str = ""
    d: str = DAYS30
    r: str = ""
    x: bool = True
    f: bool = False
    v: str = ""
    p: kb.Small = 0


@dataclass(frozen=True)
class Choice:
    """A checked filter state: every value known, the region inside the scope."""

    kind: str  # a KINDS code or ""
    status: str  # a STATUSES code or ""
    period: str
    region: str
    xlsx: bool
    full: bool

    def cb(self, act: str = "card", **changes: object) -> ExportCB:
        values: dict[str, object] = {
            "k": self.kind,
            "s": self.status,
            "d": self.period,
            "r": self.region,
            "x": self.xlsx,
            "f": self.full,
        }
        values.update(changes)
        return ExportCB(act=act, **values)  # type: ignore[arg-type]


DEFAULT = Choice(kind="", status="", period=DAYS30, region="", xlsx=True, full=False)


def checked(data: ExportCB, scope: list[str] | None) -> Choice | None:
    """The press's state when every field is one the card could have made; None otherwise."""
    if data.k and data.k not in KINDS:
        return None
    if data.s and data.s not in STATUSES:
        return None
    if data.d not in PERIODS:
        return None
    if data.r and (regions.get(data.r) is None or not roles.in_scope(data.r, scope)):
        return None
    if data.v and (
        regions.get(data.v) is None or "." in data.v or not regions.reaches(data.v, scope)
    ):
        return None
    return Choice(data.k, data.s, data.d, data.r, data.x, data.f)


def period_range(code: str, now: datetime, tz: str) -> tuple[datetime | None, datetime | None]:
    """[since, until) in UTC for a period counted in whole days of the exporter's zone."""
    if code == EVERYTHING:
        return None, None
    today = now.astimezone(ZoneInfo(tz)).date()
    if code == WEEK:
        start, end = today - timedelta(days=6), today + timedelta(days=1)
    elif code == DAYS30:
        start, end = today - timedelta(days=29), today + timedelta(days=1)
    elif code == THIS_MONTH:
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:  # LAST_MONTH
        end = today.replace(day=1)
        start = (end - timedelta(days=1)).replace(day=1)
    return _midnight(start, tz), _midnight(end, tz)


def _midnight(value: date, tz: str) -> datetime:
    return datetime.combine(value, time(), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _tz(person: Person) -> str:
    return regions.zone_of(person.province_code)


def filters_of(choice: Choice, scope: list[str] | None, tz: str) -> store.Filters:
    since, until = period_range(choice.period, clock.now(), tz)
    return store.Filters(
        kinds=(KINDS[choice.kind],) if choice.kind else (),
        statuses=(STATUSES[choice.status],) if choice.status else (),
        since=since,
        until=until,
        scope=tuple(scope) if scope is not None else None,
        region=choice.region or None,
    )


# --- the card ------------------------------------------------------------------------------


def _kind_label(code: str) -> str:
    return t(files.KIND_LABELS[KINDS[code]]) if code else _("All types")


def _status_label(code: str) -> str:
    return t(files.STATUS_LABELS[STATUSES[code]]) if code else _("All statuses")


def _period_label(choice: Choice, tz: str) -> str:
    label = t(PERIODS[choice.period])
    since, until = period_range(choice.period, clock.now(), tz)
    if since is None or until is None:
        return label
    zone = ZoneInfo(tz)
    first, last = since.astimezone(zone).date(), (until.astimezone(zone) - timedelta(days=1)).date()
    return f"{label} ({day(first)} – {day(last)})"


def _region_label(choice: Choice, scope: list[str] | None) -> str:
    if choice.region:
        return html.escape(regions.display_name(choice.region))
    if scope is None:
        return _("Everywhere")
    if not scope:
        return _("Nowhere yet: your role has no regions. Please ask an admin.")
    names = ", ".join(html.escape(regions.display_name(c)) for c in scope if regions.get(c))
    return _("Everything inside your regions: {regions}").format(regions=names)


def _format_label(choice: Choice) -> str:
    """The file the card will make: one kind, one sheet or CSV; all kinds, one for each."""
    if choice.kind:
        return _("Excel (.xlsx)") if choice.xlsx else "CSV"
    if choice.xlsx:
        return _("Excel (.xlsx), one sheet for each type")
    return _("CSV, one file for each type, in a zip")


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return kb._button(text, data)


async def card(
    turn: Turn, choice: Choice, scope: list[str] | None
) -> tuple[str, InlineKeyboardMarkup]:
    """The filter card: what will be exported, how many match now, and the buttons."""
    tz = _tz(turn.person)
    may_full = roles.can(turn.role, "export.full")
    matching = await store.count(turn.session, filters_of(choice, scope, tz))
    lines = [
        "📤 <b>" + _("Export submissions") + "</b>",
        "",
        _("Type: {value}").format(value=_kind_label(choice.kind)),
        _("Status: {value}").format(value=_status_label(choice.status)),
        _("Period: {value}").format(value=_period_label(choice, tz)),
        _("Region: {value}").format(value=_region_label(choice, scope)),
        _("Format: {value}").format(value=_format_label(choice)),
        _("Phone and NIK: {value}").format(
            value=_("in full")
            if choice.full
            else _("masked, like 3578********0001; loan amounts left out")
        ),
    ]
    if choice.full:
        lines.append(
            "⚠️ "
            + _(
                "Full numbers are personal data. Keep the file safe, share it with no one "
                "and delete it when you are done."
            )
        )
    lines += ["", _("Submissions matching now: {n}").format(n=number(matching))]
    rows = [
        [
            _button("🗂 " + _("Type"), choice.cb("kind")),
            _button("📌 " + _("Status"), choice.cb("status")),
        ],
        [
            _button("🗓 " + _("Period"), choice.cb("period")),
            _button("📍 " + _("Region"), choice.cb("region")),
        ],
        [
            _button(("☑️ " if choice.xlsx else "") + "Excel", choice.cb(x=True)),
            _button(("☑️ " if not choice.xlsx else "") + "CSV", choice.cb(x=False)),
        ],
    ]
    if may_full:
        rows.append(
            [
                _button("🔒 " + _("Mask the numbers"), choice.cb(f=False))
                if choice.full
                else _button("🔓 " + _("Show full numbers"), choice.cb(f=True))
            ]
        )
    rows.append([_button("📤 " + _("Export"), choice.cb("go"))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """/ekspor (/export): the filter card, with the last 30 days of everything in reach."""
    if not roles.gate(outbox, "export", person, role, message=message):
        return
    turn = turn_for(message, session=session, person=person, outbox=outbox, role=role)
    text, markup = await card(turn, DEFAULT, roles.scope(person, role))
    turn.say(text, markup)


# --- the lists -----------------------------------------------------------------------------


def _back(choice: Choice) -> tuple[str, ExportCB]:
    return "⬅️ " + _("Back"), choice.cb()


def _kinds(choice: Choice) -> tuple[str, InlineKeyboardMarkup]:
    items = [(("• " if not choice.kind else "") + _("All types"), choice.cb(k=""))]
    items += [
        (("• " if choice.kind == code else "") + _kind_label(code), choice.cb(k=code))
        for code in KINDS
    ]
    return _("Which type of submission?"), kb.buttons_column([*items, _back(choice)])


def _statuses(choice: Choice) -> tuple[str, InlineKeyboardMarkup]:
    items = [(("• " if not choice.status else "") + _("All statuses"), choice.cb(s=""))]
    items += [
        (("• " if choice.status == code else "") + _status_label(code), choice.cb(s=code))
        for code in STATUSES
    ]
    return _("Which status?"), kb.buttons_column([*items, _back(choice)])


def _periods(choice: Choice) -> tuple[str, InlineKeyboardMarkup]:
    items = [
        (("• " if choice.period == code else "") + t(label), choice.cb(d=code))
        for code, label in PERIODS.items()
    ]
    return (
        _("Which period? Submissions are counted by the day they were sent, in your time zone."),
        kb.buttons_column([*items, _back(choice)]),
    )


def _regions(
    choice: Choice, scope: list[str] | None, province: str, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Provinces reaching into the scope; then, for one, all of it (if inside) or a regency."""
    whole = _("Everywhere") if scope is None else _("Everything inside my regions")
    if province:
        items: list[tuple[str, CallbackData]] = []
        if roles.in_scope(province, scope):
            name = regions.display_name(province)
            mark = "• " if choice.region == province else "📍 "
            items.append((mark + _("All of {name}").format(name=name), choice.cb(r=province)))
        inside = [r for r in regions.regencies(province) if roles.in_scope(r.code, scope)]
        start = page * REGENCIES_PAGE
        items += [
            (("• " if choice.region == r.code else "") + r.name, choice.cb(r=r.code))
            for r in inside[start : start + REGENCIES_PAGE]
        ]
        if start + REGENCIES_PAGE < len(inside):
            items.append(("➡️ " + _("More"), choice.cb("region", v=province, p=page + 1)))
        items.append(("⬅️ " + _("Back"), choice.cb("region")))
        title = _("Which part of {name}?").format(name=html.escape(regions.display_name(province)))
        return title, kb.buttons_column(items)
    provinces = [p for p in regions.provinces() if regions.reaches(p.code, scope)]
    start = page * PROVINCES_PAGE
    shown = provinces[start : start + PROVINCES_PAGE]
    markup = kb.buttons_column([(("• " if not choice.region else "🗺 ") + whole, choice.cb(r=""))])
    grid = kb.buttons_grid([(p.name, choice.cb("region", v=p.code)) for p in shown], width=2)
    markup.inline_keyboard += grid.inline_keyboard
    if start + PROVINCES_PAGE < len(provinces):
        markup.inline_keyboard.append([_button("➡️ " + _("More"), choice.cb("region", p=page + 1))])
    markup.inline_keyboard.append([_button(*_back(choice))])
    return _("Which region?"), markup


# --- the presses ---------------------------------------------------------------------------


async def pressed(
    callback: CallbackQuery,
    callback_data: ExportCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    i18n: I18n,
    sessionmaker: async_sessionmaker[AsyncSession],
    role: Role = Role.RETURNEE,
) -> None:
    """Every button of the card and its lists: the role first, then every field."""
    if person is None or not roles.can(role, "export"):
        roles.refuse(outbox, "export", role, callback=callback)
        return
    scope = roles.scope(person, role)
    choice = checked(callback_data, scope)
    if choice is None:
        log.warning("refused an export button with data outside the exporter's reach")
        outbox.add(callback.answer(_("That choice is not available to you."), show_alert=True))
        return
    if choice.full and not roles.can(role, "export.full"):
        roles.refuse(outbox, "export.full", role, callback=callback)
        return
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    message = pressed_message(callback)
    act = callback_data.act
    if act == "go":
        await _export(turn, callback, choice, scope, i18n, sessionmaker)
        return
    if act == "card":
        text, markup = await card(turn, choice, scope)
    elif act == "kind":
        text, markup = _kinds(choice)
    elif act == "status":
        text, markup = _statuses(choice)
    elif act == "period":
        text, markup = _periods(choice)
    elif act == "region":
        text, markup = _regions(choice, scope, callback_data.v, callback_data.p)
    else:
        log.warning("unknown export button %r", act[:20])
        outbox.add(callback.answer(_("This button no longer works. Send /ekspor to start again.")))
        return
    outbox.add(callback.answer())
    turn.put(text, markup, message)


def _caption(
    choice: Choice, scope: list[str] | None, tz: str, counted: store.Counted, fmt: str
) -> str:
    lines = [
        "📤 " + _("Submissions in this file: {n}").format(n=number(counted.total)),
        _("Type: {value}").format(value=_kind_label(choice.kind)),
        _("Status: {value}").format(value=_status_label(choice.status)),
        _("Period: {value}").format(value=_period_label(choice, tz)),
        _("Region: {value}").format(
            value=html.escape(regions.display_name(choice.region))
            if choice.region
            else (_("Everywhere") if scope is None else _("Everything inside your regions"))
        ),
        _("Phone and NIK: {value}").format(value=_("in full") if choice.full else _("masked")),
        _("Times are in {zone}.").format(zone=files.ZONE_LABELS.get(tz, tz)),
    ]
    present = [k for k in files.snapshots.KINDS if k in counted.by_kind]
    present += sorted(set(counted.by_kind) - set(present))
    if len(present) > 1:
        counts = ", ".join(
            f"{files.title(kind, t)} ({number(counted.by_kind[kind])})" for kind in present
        )
        each = (
            _("One sheet for each type: {counts}")
            if choice.xlsx
            else _("One CSV file for each type, in a zip: {counts}")
        )
        lines.append(each.format(counts=html.escape(counts)))
    elif fmt == files.ZIP and choice.kind:
        lines.append(_("A CSV this long comes zipped, so it can be sent."))
    return "\n".join(lines)[:1024]


class Chosen(Protocol):
    """What an export's audit row reads of a choice (the bot's Choice, or the desk's form)."""

    full: bool
    period: str
    kind: str
    status: str
    region: str


def audit_details(
    choice: Chosen,
    filters: store.Filters,
    scope: list[str] | None,
    fmt: str,
    counted: store.Counted,
) -> dict[str, object]:
    """What was exported, never a value from it: filters, format, full or not, how many."""
    details: dict[str, object] = {
        "rows": counted.total,
        "format": fmt,
        "full": choice.full,
        "period": choice.period,
        "kind": KINDS.get(choice.kind, "all"),
        "status": STATUSES.get(choice.status, "all"),
        "region": choice.region or "all",
    }
    if filters.since is not None and filters.until is not None:
        details["since"] = filters.since.isoformat()
        details["until"] = filters.until.isoformat()
    if scope is not None:
        details["scope"] = list(scope)
    return details


async def _export(
    turn: Turn,
    callback: CallbackQuery,
    choice: Choice,
    scope: list[str] | None,
    i18n: I18n,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Count, audit, and send the file (written after the commit) or say nothing matches."""
    tz = _tz(turn.person)
    filters = filters_of(choice, scope, tz)
    counted = await store.counted(turn.session, filters)
    fmt = files.file_format(xlsx=choice.xlsx, kind=choice.kind or None, rows=counted.total)
    await audit.audit(
        turn.session,
        actor_id=turn.person.id,
        action="export.full" if choice.full else "export",  # full numbers stand out
        subject="submissions",
        details=audit_details(choice, filters, scope, "xlsx" if choice.xlsx else "csv", counted),
    )
    if not counted.total:
        turn.outbox.add(callback.answer())
        turn.say(
            _(
                "Nothing matches these filters, so there is no file. "
                "Try a longer period or all types and statuses."
            )
        )
        return
    turn.outbox.add(callback.answer(_("Preparing your file…")))
    locale = current_locale()
    stamp = clock.now().astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M")
    if choice.kind and not choice.xlsx:  # one kind's CSV (zipped or not)
        stem = files.file_stem(KINDS[choice.kind], t)
    else:
        stem = _("submissions")  # the file's name, in the exporter's language

    def build() -> AbstractAsyncContextManager[files.Built]:
        return files.exported(
            sessionmaker, filters, fmt=fmt, full=choice.full, locale=locale, tz=tz,
            i18n=i18n, counted=counted,
        )  # fmt: skip

    turn.outbox.add(
        SendDocument(
            chat_id=turn.chat_id,
            document=files.ExportUpload(build, f"{stem}-{stamp}.{fmt}"),
            caption=_caption(choice, scope, tz, counted, fmt),
        )
    )


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="export")
    r.message.filter(IsCommand())
    r.message.register(command, Command("ekspor", "export"))
    r.callback_query.register(pressed, ExportCB.filter())
    return r
