"""/audit: the audit log for admins, newest first, ten entries a page, filtered by kind, and
its CSV export (itself audited).

Every command and button checks the role on the server; the page and the filter ride in a
typed callback and are checked too, so a forged or stale button changes nothing. The log never
holds sensitive values (storage.audit refuses them), so the details are shown as they are; the
actor's first name is looked up for the admin's eyes and never goes into the CSV.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
from datetime import UTC
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendDocument
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot import roles
from bot.handlers.common import pressed_message, turn_for
from bot.outbox import Outbox
from bot.text import MESSAGE_LIMIT, moment, number, t
from flows import clock, regions
from flows.i18n import N_
from storage import audit as store
from storage.models import AuditEntry, Person, Role

log = logging.getLogger(__name__)

PAGE_SIZE = 10
EXPORT_LIMIT = 10_000
DETAIL_VALUE_MAX = 40  # characters of one detail's value on a line
DETAILS_MAX = 120  # characters of all details on a line
NAME_MAX = 20  # characters of an actor's first name
TEXT_MAX = 4000  # a Telegram message holds 4,096

# kind -> its button label (a msgid) and the actions it takes (and those below them).
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "all": (N_("All kinds"), ()),
    "bc": (N_("Announcements"), ("broadcast",)),
    "role": (N_("Roles"), ("role",)),
    "rev": (N_("Reviews"), ("review",)),
    "exp": (N_("Exports"), ("export", "audit.export")),
}

# action -> what an admin reads; any other action is shown by its key.
LABELS: dict[str, str] = {
    "broadcast.send": N_("Announcement sent now"),
    "broadcast.schedule": N_("Announcement scheduled"),
    "broadcast.started": N_("Scheduled announcement started"),
    "broadcast.pause": N_("Announcement paused"),
    "broadcast.resume": N_("Announcement resumed"),
    "broadcast.cancel": N_("Announcement cancelled"),
    "broadcast.done": N_("Announcement finished"),
    "broadcast.cancelled": N_("Cancelled announcement closed"),
    "role.set": N_("Role set"),
    "role.grant": N_("Role granted"),
    "role.revoke": N_("Role revoked"),
    "role.invite": N_("Role invitation created"),
    "role.invite_revoke": N_("Role invitation withdrawn"),
    "role.invite_used": N_("Role invitation used"),
    "review.approve": N_("Sign-up approved"),
    "review.reject": N_("Sign-up rejected"),
    "review.return": N_("Sign-up sent back for correction"),
    "review.reveal": N_("Full NIK shown"),
    "export": N_("List exported"),
    "export.full": N_("List exported with full numbers"),
    "audit.export": N_("Audit log exported"),
}


class AuditCB(CallbackData, prefix="au"):
    """The viewer's buttons. act: "v" shows page `p` (0: newest) of kind `k`; "csv" exports
    kind `k`."""

    act: str
    k: str = "all"
    p: kb.Small = 0


# --- the page --------------------------------------------------------------------------------


def label(action: str) -> str:
    """A known action in the reader's language; anything else as its key."""
    return t(LABELS[action]) if action in LABELS else action


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def details_line(details: dict[str, Any] | None) -> str:
    """The details as short key=value pairs (they hold no sensitive value: see storage.audit)."""
    if not isinstance(details, dict):
        return (
            "" if details is None else _short(json.dumps(details, ensure_ascii=False), DETAILS_MAX)
        )
    parts = []
    for key, value in details.items():
        if not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        parts.append(f"{key}={_short(value, DETAIL_VALUE_MAX)}")
    return _short(", ".join(parts), DETAILS_MAX)


def _who(actor_id: int | None, names: dict[int, str | None]) -> str:
    if actor_id is None:
        return _("system")
    name = (names.get(actor_id) or "").split()
    return f"{html.escape(_short(name[0], NAME_MAX))} (#{actor_id})" if name else f"#{actor_id}"


def line(entry: AuditEntry, names: dict[int, str | None], tz: str, *, details: bool = True) -> str:
    """One entry: when (in the viewer's zone), who, what, on what, and the details."""
    parts = [
        moment(entry.at, tz),
        _who(entry.actor_id, names),
        "<b>" + html.escape(label(entry.action)) + "</b>",
        html.escape(entry.subject),
    ]
    shown = details_line(entry.details) if details else ""
    if shown:
        parts.append(html.escape(shown, quote=False))
    return "• " + " · ".join(parts)


async def page_view(
    session: AsyncSession, viewer: Person, kind: str, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Page `page` (0: the newest; past the end: the last) of kind `kind`, and its buttons."""
    actions = KINDS[kind][1]
    total = await store.count(session, actions=actions)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages - 1)
    found = await store.newest(session, actions=actions, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
    names = await store.actor_names(session, (e.actor_id for e in found if e.actor_id is not None))
    tz = regions.zone_of(viewer.province_code)
    head = "📜 " + _("Audit log: {kind}, page {page} of {pages} ({n} entries)").format(
        kind=t(KINDS[kind][0]), page=number(page + 1), pages=number(pages), n=number(total)
    )
    body = [line(e, names, tz) for e in found] or [_("Nothing here yet.")]
    text = "\n\n".join([head, "\n".join(body)])
    if len(text) > TEXT_MAX:  # details full of characters HTML escapes: leave them to the CSV
        text = "\n\n".join([head, "\n".join(line(e, names, tz, details=False) for e in found)])
    return text, _buttons(kind, page, pages)


def _buttons(kind: str, page: int, pages: int) -> InlineKeyboardMarkup:
    kinds = [
        (("✅ " if k == kind else "") + t(msgid), AuditCB(act="v", k=k))
        for k, (msgid, _a) in KINDS.items()
    ]
    markup = kb.buttons_grid(kinds, width=3)
    nav = []
    if page > 0:
        nav.append(kb._button("◀️ " + _("Newer"), AuditCB(act="v", k=kind, p=page - 1)))
    if page < pages - 1:
        nav.append(kb._button(_("Older") + " ▶️", AuditCB(act="v", k=kind, p=page + 1)))
    if nav:
        markup.inline_keyboard.append(nav)
    markup.inline_keyboard.append([kb._button("📄 " + _("Export CSV"), AuditCB(act="csv", k=kind))])
    return markup


# --- the export ------------------------------------------------------------------------------


def to_csv(entries: list[AuditEntry]) -> bytes:
    """One row per entry: id, when (ISO, UTC), the actor's person id, action, subject, and the
    details as JSON. No names: the person id is enough to look someone up."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "actor_id", "action", "subject", "details"])
    for e in entries:
        writer.writerow(
            [
                e.id,
                e.at.astimezone(UTC).isoformat(),
                "" if e.actor_id is None else e.actor_id,
                e.action,
                e.subject,
                json.dumps(e.details or {}, ensure_ascii=False, sort_keys=True),
            ]
        )
    return out.getvalue().encode("utf-8")


async def export(
    session: AsyncSession, viewer: Person, kind: str, chat_id: int
) -> tuple[SendDocument, int]:
    """The CSV of kind `kind` (its newest EXPORT_LIMIT entries), audited with the filter and
    the number of rows."""
    found = await store.newest(session, actions=KINDS[kind][1], limit=EXPORT_LIMIT)
    await store.audit(
        session,
        actor_id=viewer.id,
        action="audit.export",
        subject="audit_log",
        details={"filter": kind, "rows": len(found)},
    )
    stamp = clock.now().astimezone(UTC).strftime("%Y%m%d-%H%M")
    caption = _("Audit log: {kind}, {n} entries, newest first (at most {limit}).").format(
        kind=t(KINDS[kind][0]), n=number(len(found)), limit=number(EXPORT_LIMIT)
    )
    document = BufferedInputFile(to_csv(found), filename=f"audit-{kind}-{stamp}.csv")
    return SendDocument(chat_id=chat_id, document=document, caption=caption), len(found)


# --- /audit and the buttons ------------------------------------------------------------------


async def command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """/audit: the newest entries of every kind."""
    if not roles.gate(outbox, "audit", person, role, message=message):
        return
    turn = turn_for(message, session=session, person=person, outbox=outbox, role=role)
    text, markup = await page_view(session, person, "all", 0)
    turn.say(text, markup, limit=MESSAGE_LIMIT)


async def pressed(
    callback: CallbackQuery,
    callback_data: AuditCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """A filter, page or export button: the role first, then that the data is one we make."""
    if not roles.check(outbox, "audit", role, callback=callback):
        return
    if person is None:
        outbox.add(callback.answer(_("Please send /start to begin."), show_alert=True))
        return
    data = callback_data
    if data.k not in KINDS or data.act not in ("v", "csv"):
        log.warning("refused an audit button that we never make")
        outbox.add(callback.answer(_("This button no longer works. Send /audit to see the log.")))
        return
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    if data.act == "csv":
        document, _rows = await export(session, person, data.k, turn.chat_id)
        outbox.add(callback.answer(_("Here is the CSV.")))
        outbox.add(document)
        return
    outbox.add(callback.answer())
    text, markup = await page_view(session, person, data.k, data.p)
    turn.put(text, markup, pressed_message(callback), limit=MESSAGE_LIMIT)


def router() -> Router:
    r = Router(name="audit")
    r.message.register(command, Command("audit"))
    r.callback_query.register(pressed, AuditCB.filter())
    return r
