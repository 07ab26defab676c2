"""Tanya petugas (the help desk), the staff's side: /tiket on a phone.

Staff and coordinators: /tiket lists the open tickets inside their regions, a button opens one
(the person's name, region and journeys, never the NIK), and Take, Reply (the next message is
the reply: bot/handlers/tickets/waits.py) or Close act on it, each checked against the role and
the ticket's region. Notices go out as outbox rows (bot/notice_sender.py), like the desk's.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendVoice
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot import roles
from bot.driver import Turn
from bot.handlers import review
from bot.handlers.common import pressed_message, turn_for
from bot.handlers.tickets.common import REFUSED, WAIT
from bot.keyboards import AskCB, RowId
from bot.mydata import RUN_STATUS
from bot.notices import renders
from bot.outbox import Outbox
from bot.text import moment, t
from flows import clock, regions, registry
from flows.i18n import N_
from operations import desk as outbox_rows
from operations import tickets as ops
from operations.notices import Done
from storage import repo, submissions
from storage import tickets as store
from storage.models import Person, Role, RunStatus, Ticket, TicketStatus, TicketWait

log = logging.getLogger(__name__)
ACTION = "tickets"
LIST_MAX = 10  # tickets listed in one /tiket page
SHOWN_MESSAGES = 6  # the last messages of a ticket shown on a phone
QUOTE_MAX = 300
STATUS = {
    "new": N_("new"),
    "open": N_("being answered"),
    "waiting": N_("waiting for the person"),
    "closed": N_("closed"),
}
TABS = {"new": N_("New"), "mine": N_("Mine"), "waiting": N_("Waiting for the person")}


class TicketCB(CallbackData, prefix="tk"):
    """A staff button on /tiket: a tab, open, take, reply, close, play a voice note."""

    act: str  # tab | open | take | reply | close | voice
    id: RowId = 0
    tab: str = "new"


@renders("tickets.new")
async def _new_notice(session: AsyncSession, person: Person, args: dict[str, Any]) -> Any:
    ticket = await store.get(session, int(args["ticket"]))
    if ticket is None or ticket.status == TicketStatus.CLOSED:
        return None
    where = regions.display_name(ticket.regency_code or ticket.province_code or "") or "—"
    if args.get("again"):
        text = t("💬 New message on question #{n} ({where}).", n=ticket.id, where=where)
    else:
        text = t("🙋 New question #{n} from {where}.", n=ticket.id, where=where)
    text += "\n" + _("All questions: /tiket")
    return text, kb.single(t("Open #{n}", n=ticket.id), TicketCB(act="open", id=ticket.id))


async def journey_lines(session: AsyncSession, person_id: int) -> list[str]:
    """Where the person stands on each journey, for the staff who answer them (no numbers)."""
    lines = []
    newest: dict[str, Any] = {}
    for run in await repo.runs_of(session, person_id=person_id):
        flow = registry.FLOWS.get(run.flow)
        if flow is not None and flow.journey is not None:
            newest[run.flow] = run
    for run in newest.values():
        status = RUN_STATUS.get(RunStatus(run.status), run.status)
        lines.append(t("{what}: {status}", what=t(registry.get(run.flow).title), status=t(status)))
    for sub in await submissions.of_person(session, person_id=person_id):
        kind = t(review.KIND_ONE[sub.kind]) if sub.kind in review.KIND_ONE else sub.kind
        lines.append(t("{what}: {status}", what=kind, status=review.status_label(sub.status)))
    return lines


def _where(ticket: Ticket) -> str:
    code = ticket.regency_code or ticket.province_code
    return regions.display_name(code) if code else "—"


async def _list(turn: Turn, tab: str, pressed: Message | None = None) -> None:
    scope = roles.scope(turn.person, turn.role)
    counts = await store.counts(turn.session, viewer_id=turn.person.id, scope=scope)
    rows = await store.inbox(
        turn.session, tab=tab, viewer_id=turn.person.id, scope=scope, limit=LIST_MAX
    )
    now = clock.now()
    text = "<b>" + _("Questions from returnees") + "</b>: " + t(TABS[tab])
    if not rows:
        text += "\n" + _("Nothing here right now.")
    buttons: list[tuple[str, CallbackData]] = []
    for row in rows:
        late = " ⚠" if ops.is_overdue(row.ticket, now) else ""
        buttons.append(
            (
                f"#{row.ticket.id} {row.name or t('(deleted)')} · {_where(row.ticket)}{late}",
                TicketCB(act="open", id=row.ticket.id),
            )
        )
    tabs = [
        (f"{t(label)} ({counts.get(key, 0)})", TicketCB(act="tab", tab=key))
        for key, label in TABS.items()
        if key != tab
    ]
    turn.put(text, kb.buttons_column(buttons + tabs), pressed)


async def command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """/tiket: the open questions inside the viewer's regions, new ones first."""
    if not roles.gate(outbox, ACTION, person, role, message=message):
        return
    assert person is not None
    await _list(turn_for(message, session=session, person=person, outbox=outbox, role=role), "new")


async def _card(turn: Turn, ticket: Ticket, pressed: Message | None) -> None:
    """One ticket on a phone: who, where, their journeys, the last messages, the actions."""
    person = await turn.session.get(Person, ticket.person_id) if ticket.person_id else None
    zone = ops.zone(ticket)
    head = t("Question #{n}", n=ticket.id) + " · " + t(STATUS[ticket.status])
    if ops.is_overdue(ticket, clock.now()):
        head += " · ⚠ " + _("over a working day")
    lines = [
        "<b>" + head + "</b>",
        t("From: {name}", name=html.escape(person.name or "") if person else t("(deleted)")),
        t("Region: {where}", where=_where(ticket)),
    ]
    if person is not None:
        lines += ["• " + line for line in await journey_lines(turn.session, person.id)]
    messages = await store.messages(turn.session, ticket.id)
    buttons: list[tuple[str, CallbackData]] = []
    for message in messages[-SHOWN_MESSAGES:]:
        who = {"person": _("Person"), "reply": _("Reply"), "note": _("Note")}[message.kind]
        said = html.escape((message.text or "")[:QUOTE_MAX])
        if message.voice_file_id:
            said = (said + " " if said else "") + "🎤 " + _("voice note")
            buttons.append(
                (f"🎤 {moment(message.created_at, zone)}", TicketCB(act="voice", id=message.id))
            )
        lines.append(f"\n<i>{who}, {moment(message.created_at, zone)}</i>\n{said or '—'}")
    if ticket.status != TicketStatus.CLOSED:
        if ticket.assignee_id != turn.person.id:
            buttons.append(("✋ " + _("Take it"), TicketCB(act="take", id=ticket.id)))
        buttons.append(("✏️ " + _("Reply"), TicketCB(act="reply", id=ticket.id)))
        buttons.append(("✅ " + _("Close"), TicketCB(act="close", id=ticket.id)))
    buttons.append(("⬅️ " + _("All questions"), TicketCB(act="tab", tab="new")))
    turn.put("\n".join(lines), kb.buttons_column(buttons), pressed)


async def _ticket_for(
    session: AsyncSession,
    outbox: Outbox,
    callback: CallbackQuery,
    ticket_id: int,
    person: Person | None,
    role: Role,
) -> Ticket | None:
    """The ticket, if the presser may act on it (role, and its region inside their scope)."""
    if not roles.check(outbox, ACTION, role, person=person, callback=callback):
        return None
    ticket = await store.get(session, ticket_id)
    if ticket is None:
        outbox.add(callback.answer(t(REFUSED["not_found"]), show_alert=True))
        return None
    if not roles.check(
        outbox, ACTION, role, person=person, region=ticket.queue_region, callback=callback
    ):
        return None
    return ticket


async def pressed(
    callback: CallbackQuery,
    callback_data: TicketCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """A /tiket button, checked against the role and the ticket's region first."""
    if person is None:
        roles.refuse(outbox, ACTION, role, callback=callback)
        return
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    act, message = callback_data.act, pressed_message(callback)
    if act == "tab":
        if not roles.check(outbox, ACTION, role, person=person, callback=callback):
            return
        if callback_data.tab not in TABS:
            outbox.add(
                callback.answer(_("This button no longer works. Send /menu to see the menu."))
            )
            return
        outbox.add(callback.answer())
        await _list(turn, callback_data.tab, message)
        return
    if act == "voice":
        await _play(turn, callback, callback_data.id)
        return
    ticket = await _ticket_for(session, outbox, callback, callback_data.id, person, role)
    if ticket is None:
        return
    now = clock.now()
    if act == "open":
        outbox.add(callback.answer())
    elif act == "take":
        if not _said(turn, callback, await ops.assign(session, ticket_id=ticket.id,
                                                      staff_id=person.id, now=now)):  # fmt: skip
            return
        outbox.add(callback.answer(_("It is yours now.")))
    elif act == "reply":
        if ticket.status == TicketStatus.CLOSED:
            outbox.add(callback.answer(t(REFUSED["closed"]), show_alert=True))
            return
        await store.set_wait(
            session, person_id=person.id, kind="reply", ticket_id=ticket.id, until=now + WAIT
        )
        outbox.add(callback.answer())
        turn.say(
            t("Type your reply to question #{n}. It is sent to the person as you write it.",
              n=ticket.id),
            kb.single("✖️ " + _("Cancel"), AskCB(act="stop")),
        )  # fmt: skip
        return
    elif act == "close":
        done = await ops.close(session, ticket_id=ticket.id, staff_id=person.id, now=now)
        if not _said(turn, callback, done):
            return
        await outbox_rows.queue_notices(session, done.notices, now=now)
        outbox.add(callback.answer(_("Closed. The person is asked to rate the answer.")))
    else:
        outbox.add(callback.answer(_("This button no longer works. Send /menu to see the menu.")))
        return
    fresh = await store.locked(session, ticket.id)
    assert fresh is not None
    await _card(turn, fresh, message)


def _said(turn: Turn, callback: CallbackQuery, done: Done) -> bool:
    if done.ok:
        return True
    turn.outbox.add(callback.answer(t(REFUSED.get(done.refused or "", REFUSED["closed"])),
                                    show_alert=True))  # fmt: skip
    return False


async def _play(turn: Turn, callback: CallbackQuery, message_id: int) -> None:
    """Send a ticket's voice note to the staff member who pressed, if they may see it."""
    message = await store.message(turn.session, message_id)
    ticket_id = message.ticket_id if message is not None else 0
    ticket = await _ticket_for(turn.session, turn.outbox, callback, ticket_id, turn.person,
                               turn.role)  # fmt: skip
    if ticket is None or message is None:
        return
    if not message.voice_file_id:
        turn.outbox.add(callback.answer(_("This voice note has been deleted."), show_alert=True))
        return
    turn.outbox.add(callback.answer())
    # Protected: the copy in the staff member's chat cannot be forwarded or saved from there.
    turn.outbox.add(
        SendVoice(chat_id=turn.chat_id, voice=message.voice_file_id, protect_content=True)
    )


async def send_reply(turn: Turn, message: Message, wait: TicketWait) -> None:
    """The message after "Reply": sent to the person, if the replier still may."""
    session, person = turn.session, turn.person
    ticket = await store.get(session, wait.ticket_id or 0)
    if ticket is None or not roles.may(person, turn.role, ACTION, ticket.queue_region):
        await store.clear_wait(session, person_id=person.id)
        log.warning("refused tickets reply for role %s", turn.role)
        turn.say(_("Sorry, you cannot do that."))
        return
    if message.text is None:
        turn.say(_("Please type your reply as text."))
        return
    done = await ops.reply(
        session, ticket_id=ticket.id, staff_id=person.id, text=message.text, now=clock.now()
    )
    if not done.ok:
        turn.say(t(REFUSED.get(done.refused or "", REFUSED["empty"])))
        if done.refused == "closed":
            await store.clear_wait(session, person_id=person.id)
        return
    await store.clear_wait(session, person_id=person.id)
    await outbox_rows.queue_notices(session, done.notices, now=clock.now())
    turn.say(
        t("✅ Sent to the person (question #{n}).", n=ticket.id),
        kb.single(t("Open #{n}", n=ticket.id), TicketCB(act="open", id=ticket.id)),
    )
