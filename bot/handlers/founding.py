"""Founding a cooperative with fellow returnees: the plan page, invitations, the lead's
buttons (steps, meeting, hand over, cancel) and what the other founders are told.

The changes are operations (operations/coops.py): a handler parses the press, calls one,
delivers its notices and shows the plan. Every button carries ids that can be forged: the
operation checks that the plan exists, is open and that the presser leads it, and a refusal
is one short note that changes nothing.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, journeys, notices
from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers.common import needs_profile, pressed_message, turn_for
from bot.handlers.coop import (
    NOT_FOUND,
    PLAN_ACTS,
    CoopCB,
    _bot_username,
    _kind_label,
    _zone,
    request_lines,
)
from bot.handlers.review import FixCB
from bot.outbox import Outbox
from bot.protection import fact_text, programme_text
from bot.text import day, moment, t
from flows import clock, regions
from flows import found_coop as fc
from flows.content import help as facts
from flows.i18n import N_
from flows.validators import time_of_day
from operations import coops as ops
from operations.notices import Done
from storage import coops
from storage.models import FlowRun, Founding, FoundingStatus, Person, Submission


class PlanCB(CallbackData, prefix="cp"):
    """The lead's buttons on a plan. act: ho (whom to hand it to) | hto (confirm handing it to
    member m) | hok (hand it over) | cx (confirm cancelling) | cxok (cancel it)."""

    act: str
    id: kb.RowId
    m: kb.RowId = 0  # the founder it is handed to


REFUSED = {
    "not_found": NOT_FOUND,
    "gone": NOT_FOUND,
    "invalid": NOT_FOUND,
    "already": N_("You are already a founder of this plan."),
    "closed": N_("This founding plan was cancelled: nothing in it can be changed any more."),
    "not_yours": N_("Only the lead of this founding plan can change it."),
    "not_member": N_("That person is no longer a founder of this plan."),
    "same": N_("You already lead this plan."),
    "past": N_("That moment has passed. Please choose a later date and time."),
}


def refused(done: Done) -> str:
    return t(REFUSED.get(done.refused or "", NOT_FOUND))


def _first(person: Person | None) -> str:
    return html.escape(coops.first_names([person])[0]) if person is not None else "?"


def _plan_button(plan_id: int) -> InlineKeyboardMarkup:
    return kb.single("📋 " + _("Open the plan"), CoopCB(act="plan", id=plan_id))


# --- Starting a plan --------------------------------------------------------------------------


@driver.on_finish("found_coop")
async def found_done(turn: Turn, run: FlowRun) -> None:
    answers = dict(run.answers or {})
    if answers.get("confirm") != fc.YES:
        turn.say(
            _("That is fine: no plan was started. You can start one any time from the menu."),
            kb.main_menu(),
        )
        return
    done = await ops.found(
        turn.session,
        person_id=turn.person.id,
        kind=str(answers.get("kind")),
        purpose=str(answers.get("purpose")),
        name=str(answers.get("name")),
        run_id=run.id,
        now=clock.now(),
    )
    plan = await coops.founding(turn.session, done.changed[ops.FOUNDING][0]) if done.ok else None
    if plan is None:
        turn.say(refused(done), kb.main_menu())
        return
    turn.say(
        _(
            "🌱 Your founding plan is started. Send the invitation link below to fellow "
            "returnees: everyone who opens it can join as a founder."
        )
        + "\n\n"
        + programme_text("kp2mi_kemenkop")
    )
    await show_plan(turn, plan)


# --- The plan page ----------------------------------------------------------------------------


def _closed_on(plan: Founding, zone: str) -> str:
    when = plan.closed_at or plan.updated_at
    return day(when.astimezone(ZoneInfo(zone)).date())


def _reason(file: Submission | None) -> str:
    return html.escape(file.reason) if file is not None and file.reason else "–"


def status_note(plan: Founding, file: Submission | None, lead: Person | None, zone: str) -> str:
    """Where the plan stands with the team, or that it was cancelled; "" while planning."""
    status = plan.status
    if status == FoundingStatus.SUBMITTED:
        return "📤 " + _(
            "The plan was sent to the Pulang Juragan team. They will contact the founder; "
            "this is not an approval."
        )
    if status == FoundingStatus.APPROVED:
        return "✅ " + _(
            "The Pulang Juragan team approved the founding file. Go on with the next steps: "
            "the notary's deed, then the legal entity."
        )
    if status == FoundingStatus.REJECTED:
        return "✖️ " + t(
            "The team did not approve the founding file. They wrote: “{reason}”. You may "
            "still go on by yourselves with a notary.",
            reason=_reason(file),
        )
    if status == FoundingStatus.RETURNED:
        return "↩️ " + t(
            "The team sent the founding file back to {lead} for a correction. They wrote: "
            "“{reason}”.",
            lead=_first(lead),
            reason=_reason(file),
        )
    if status == FoundingStatus.CANCELLED:
        return "🗑 " + t(
            "This plan was cancelled on {date}. Nothing in it can be changed any more.",
            date=_closed_on(plan, zone),
        )
    return ""


async def plan_page(turn: Turn, plan: Founding) -> tuple[str, str, InlineKeyboardMarkup]:
    """The plan in two messages: who and when (founders and lead, invitation link, meeting,
    where it stands with the team), then the steps (each done or not, and what to do for the
    next one only) with the buttons: for the lead, the steps, the meeting, handing over,
    cancelling."""
    people = await coops.members(turn.session, founding_id=plan.id)
    lead = next((p for p in people if p.id == plan.founder_id), None)
    file = await coops.founding_file(turn.session, plan.id)
    names = ", ".join(html.escape(n) for n in coops.first_names(people))
    done = dict(plan.milestones or {})
    username = await _bot_username(turn)
    link = f"https://t.me/{username}?start=f-{plan.code}"
    zone = _zone(turn.person)
    is_open = plan.status != FoundingStatus.CANCELLED
    parts = [
        "📋 <b>" + html.escape(plan.name) + "</b>",
        t("Type: {kind}", kind=html.escape(_kind_label(plan.kind)))
        + "\n"
        + t("Purpose: {purpose}", purpose=html.escape(plan.purpose)),
        t(
            "<b>Founders: {n} of at least {min}</b>: {names}",
            n=len(people),
            min=fc.MIN_FOUNDERS,
            names=names,
        )
        + "\n"
        + t("Lead: {name}", name=_first(lead))
        + "\n"
        + _(
            "Since UU Cipta Kerja a primary cooperative needs at least 9 founders (pages that "
            "still say 20 are out of date)."
        ),
    ]
    if plan.kind == "simpan_pinjam":
        parts.append(fact_text(facts.coop().simpan_pinjam))
    if is_open:
        parts.append(t("Invitation link: {link}", link=link))
    parts.append(
        t(
            "Founding meeting: {when}",
            when=moment(plan.meeting_at, zone) if plan.meeting_at else _("not set yet"),
        )
    )
    note = status_note(plan, file, lead, zone)
    if note:
        parts.append(note)
    steps = steps_text(done, lead=is_open and turn.person.id == plan.founder_id)
    rows: list[list[InlineKeyboardButton]] = []
    if is_open and turn.person.id == plan.founder_id:
        rows += _lead_rows(plan, done, file, others=len(people) > 1)
    if is_open:
        share = (
            "https://t.me/share/url?url="
            + quote(link, safe="")
            + "&text="
            + quote(t("Let us found a cooperative together: {name}", name=plan.name), safe="")
        )
        rows.append([InlineKeyboardButton(text="📤 " + _("Share the invitation"), url=share)])
    rows.append([kb._button("🏠 " + _("Main menu"), kb.MenuCB(item="menu"))])
    return "\n\n".join(parts), steps, InlineKeyboardMarkup(inline_keyboard=rows)


def steps_text(done: dict[str, Any], *, lead: bool) -> str:
    """The steps, each done or not, and what to do for the next one only."""
    count = sum(1 for m in fc.MILESTONES if m.key in done)
    lines = ["<b>" + t("Steps: {n} of {m} done", n=count, m=len(fc.MILESTONES)) + "</b>"]
    for number, milestone in enumerate(fc.MILESTONES, 1):
        mark = "✅" if milestone.key in done else "⬜"
        lines.append(f"{mark} {number}. {t(milestone.label)}")
    parts = ["\n".join(lines)]
    following = fc.next_milestone(done)
    if following is not None:
        parts.append(t("<b>Next: {step}</b>", step=t(following.label)) + "\n" + t(following.about))
    if lead:
        parts.append(_("Press a step when it is done, again to undo."))
    return "\n\n".join(parts)


def _lead_rows(
    plan: Founding, done: dict[str, Any], file: Submission | None, *, others: bool
) -> list[list[InlineKeyboardButton]]:
    toggles = [
        kb._button(
            ("✅ " if m.key in done else "⬜ ") + t(m.label),
            CoopCB(act="ms", id=plan.id, k=m.key, p=0 if m.key in done else 1),
        )
        for m in fc.MILESTONES
    ]
    rows = [toggles[i : i + 2] for i in range(0, len(toggles), 2)]
    rows.append([kb._button("📅 " + _("Set the meeting date"), CoopCB(act="meet", id=plan.id))])
    if plan.status == FoundingStatus.RETURNED and file is not None:
        rows.append([kb._button("✏️ " + _("Correct it now"), FixCB(id=file.id))])
    lead_actions = []
    if others:
        lead_actions.append(
            kb._button("👥 " + _("Hand over the plan"), PlanCB(act="ho", id=plan.id))
        )
    lead_actions.append(kb._button("🗑 " + _("Cancel the plan"), PlanCB(act="cx", id=plan.id)))
    rows.append(lead_actions)
    return rows


async def show_plan(turn: Turn, plan: Founding, *, edit: Message | None = None) -> None:
    """The plan's two messages; `edit`: a step's button was pressed, so only the steps message
    (the one with the buttons) changes."""
    summary, steps, markup = await plan_page(turn, plan)
    if edit is not None:
        turn.outbox.add(
            EditMessageText(
                chat_id=turn.chat_id,
                message_id=edit.message_id,
                text=steps,
                reply_markup=markup,
                disable_web_page_preview=True,
            )
        )
        return
    turn.outbox.add(SendMessage(chat_id=turn.chat_id, text=summary, disable_web_page_preview=True))
    turn.outbox.add(
        SendMessage(
            chat_id=turn.chat_id, text=steps, reply_markup=markup, disable_web_page_preview=True
        )
    )


# --- The meeting date -------------------------------------------------------------------------


@driver.on_finish("found_meeting")
async def meeting_done(turn: Turn, run: FlowRun) -> None:
    answers = dict(run.answers or {})
    zone = _zone(turn.person)
    local = clock.at(str(answers.get("date")), time_of_day(str(answers.get("time"))), zone)
    if local is None:
        turn.say(t(NOT_FOUND), kb.main_menu())
        return
    done = await ops.set_meeting(
        turn.session,
        plan_id=int(answers.get("founding_id") or 0),
        by=turn.person.id,
        at=local,
        now=clock.now(),
    )
    if not done.ok:
        turn.say(refused(done), kb.main_menu())
        return
    await notices.deliver(turn.session, turn.outbox, done.notices)
    turn.say(t("📅 Founding meeting: {when}", when=moment(local, zone)))
    plan = await coops.founding(turn.session, done.changed[ops.FOUNDING][0])
    assert plan is not None
    await show_plan(turn, plan)


# --- Invitations ------------------------------------------------------------------------------


@journeys.invite("f")
async def invited(turn: Turn, code: str) -> None:
    """`/start f-<code>`: what the person is invited to, with Join / No thanks."""
    plan = await coops.founding_by_code(turn.session, code)
    if plan is None or plan.status == FoundingStatus.CANCELLED:
        turn.say(
            _(
                "I could not find that founding plan. The link may be incomplete, or the plan "
                "was closed. Please ask the person who sent it for a new link."
            ),
            kb.main_menu(),
        )
        return
    if await coops.is_member(turn.session, founding_id=plan.id, person_id=turn.person.id):
        turn.say(_("You are already a founder of this plan."))
        await show_plan(turn, plan)
        return
    lead = await coops.person(turn.session, plan.founder_id)
    count = await coops.member_count(turn.session, founding_id=plan.id)
    text = t(
        "<b>{founder} invites you to found a cooperative together.</b>\n\n"
        "Name: {name}\nType: {kind}\nPurpose: {purpose}\nFounders so far: {n} "
        "(at least {min} are needed)\n\n"
        "A founder takes part in the founding meeting, agrees the AD/ART (the cooperative's "
        "rules) and pays the simpanan pokok and wajib the meeting decides. Joining here is "
        "not yet a payment or a signature.",
        founder=_first(lead),
        name=html.escape(plan.name),
        kind=html.escape(_kind_label(plan.kind)),
        purpose=html.escape(plan.purpose),
        n=count,
        min=fc.MIN_FOUNDERS,
    )
    turn.say(
        text,
        kb.buttons_grid(
            [
                ("✅ " + _("Join as founder"), CoopCB(act="fj", k=plan.code)),
                (_("No thanks"), CoopCB(act="fno")),
            ]
        ),
    )


async def join_plan(turn: Turn, code: str, pressed: Message | None) -> None:
    done = await ops.add_founder(turn.session, code=code, person_id=turn.person.id, now=clock.now())
    plan = await coops.founding_by_code(turn.session, code)
    if plan is None or done.refused not in (None, "already"):
        turn.say(refused(done), kb.main_menu())
        return
    if pressed is not None:
        turn.outbox.add(pressed.edit_reply_markup(reply_markup=None))
    if done.ok:
        turn.say(t("✅ You are now a founder of “{name}”.", name=html.escape(plan.name)))
    else:
        turn.say(refused(done))
    await show_plan(turn, plan)
    await notices.deliver(turn.session, turn.outbox, done.notices)


# --- Buttons ----------------------------------------------------------------------------------


async def plan_pressed(
    callback: CallbackQuery,
    callback_data: CoopCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """Open a plan, mark a step, set the meeting, join a plan (or not)."""
    if needs_profile(callback, person, outbox):
        return
    assert person is not None
    turn = turn_for(callback, session=session, person=person, outbox=outbox)
    message = pressed_message(callback)
    act = callback_data.act
    if act in ("fj", "fno"):
        outbox.add(callback.answer())
        if act == "fj":
            await join_plan(turn, callback_data.k, message)
            return
        if message is not None:
            outbox.add(message.edit_reply_markup(reply_markup=None))
        turn.say(_("That is fine. What would you like to do?"), kb.main_menu())
        return
    plan = await coops.founding(session, callback_data.id)
    if plan is None or (
        act == "plan"
        and not await coops.is_member(session, founding_id=plan.id, person_id=person.id)
    ):
        outbox.add(callback.answer(t(NOT_FOUND)))
        return
    if act == "plan":
        outbox.add(callback.answer())
        await show_plan(turn, plan)
    elif act == "meet":
        why = _not_lead(plan, person)
        if why is not None:
            outbox.add(callback.answer(t(REFUSED[why]), show_alert=True))
            return
        outbox.add(callback.answer())
        await driver.begin(turn, "found_meeting", answers={"founding_id": plan.id})
    else:  # ms: the button says which way (p=1: done), so a double tap does it once
        done = await ops.mark_step(
            session,
            plan_id=plan.id,
            by=person.id,
            step=callback_data.k,
            done=callback_data.p == 1,
            now=clock.now(),
        )
        if not done.ok:
            outbox.add(callback.answer(refused(done), show_alert=True))
            return
        outbox.add(callback.answer())
        await show_plan(turn, plan, edit=message)
        await notices.deliver(session, outbox, done.notices)


def _not_lead(plan: Founding, person: Person) -> str | None:
    if plan.status == FoundingStatus.CANCELLED:
        return "closed"
    return None if plan.founder_id == person.id else "not_yours"


async def lead_pressed(
    callback: CallbackQuery,
    callback_data: PlanCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """Hand the plan over or cancel it: each asks first what will happen, then does it."""
    if needs_profile(callback, person, outbox):
        return
    assert person is not None
    turn = turn_for(callback, session=session, person=person, outbox=outbox)
    message = pressed_message(callback)
    plan = await coops.founding(session, callback_data.id)
    if plan is None or not await coops.is_member(session, founding_id=plan.id, person_id=person.id):
        outbox.add(callback.answer(t(NOT_FOUND)))
        return
    act = callback_data.act
    if act == "hok" and plan.founder_id == callback_data.m:  # a second tap: it is done
        outbox.add(callback.answer())
        await show_plan(turn, plan)
        return
    why = _not_lead(plan, person)
    if why is not None:
        outbox.add(callback.answer(t(REFUSED[why]), show_alert=True))
        return
    outbox.add(callback.answer())
    if act == "ho":
        await _choose_heir(turn, plan, message)
    elif act == "hto":
        await _confirm_hand_over(turn, plan, callback_data.m, message)
    elif act == "hok":
        await _hand_over(turn, plan, callback_data.m, message)
    elif act == "cx":
        await _confirm_cancel(turn, plan, message)
    elif act == "cxok":
        await _cancel(turn, plan, message)
    else:
        turn.say(t(NOT_FOUND))


async def _choose_heir(turn: Turn, plan: Founding, message: Message | None) -> None:
    others = [
        p for p in await coops.members(turn.session, founding_id=plan.id) if p.id != plan.founder_id
    ]
    buttons: list[tuple[str, CallbackData]] = [
        ("👤 " + _first(p), PlanCB(act="hto", id=plan.id, m=p.id)) for p in others
    ]
    buttons.append(("⬅️ " + _("Back to the plan"), CoopCB(act="plan", id=plan.id)))
    turn.put(
        t(
            "Who should lead “{name}” from now on? Choose one of the founders.",
            name=html.escape(plan.name),
        ),
        kb.buttons_column(buttons),
        message,
    )


async def _confirm_hand_over(
    turn: Turn, plan: Founding, heir_id: int, message: Message | None
) -> None:
    heir = await coops.person(turn.session, heir_id)
    if heir is None or not await coops.is_member(
        turn.session, founding_id=plan.id, person_id=heir_id
    ):
        turn.say(t(REFUSED["not_member"]))
        return
    name = _first(heir)
    turn.put(
        t(
            "Hand “{plan}” over to {name}?\n\n"
            "{name} will lead the plan: mark the legal steps, set the founding meeting, answer "
            "the team about the founding file, and hand it on or cancel it. You stay a founder, "
            "but you can no longer change the plan. {name} and the other founders are told.",
            plan=html.escape(plan.name),
            name=name,
        ),
        kb.buttons_column(
            [
                (
                    "✅ " + t("Yes, hand it over to {name}", name=name),
                    PlanCB(act="hok", id=plan.id, m=heir_id),
                ),
                (_("No, keep leading it"), CoopCB(act="plan", id=plan.id)),
            ]
        ),
        message,
    )


async def _hand_over(turn: Turn, plan: Founding, heir_id: int, message: Message | None) -> None:
    done = await ops.hand_over(
        turn.session, plan_id=plan.id, by=turn.person.id, to=heir_id, now=clock.now()
    )
    if not done.ok:
        turn.say(refused(done))
        return
    if message is not None:
        turn.outbox.add(message.edit_reply_markup(reply_markup=None))
    heir = await coops.person(turn.session, heir_id)
    turn.say(
        t(
            "✅ {name} now leads “{plan}” and was told. You stay a founder.",
            name=_first(heir),
            plan=html.escape(plan.name),
        )
    )
    await show_plan(turn, plan)
    await notices.deliver(turn.session, turn.outbox, done.notices)


async def _confirm_cancel(turn: Turn, plan: Founding, message: Message | None) -> None:
    others = await coops.member_count(turn.session, founding_id=plan.id) - 1
    lines = [
        _("The plan closes for everyone: its steps and meeting can no longer be changed."),
        _("The invitation link stops working."),
        t("The other founders are told: {n}.", n=others),
        _("Everyone's reminders of the founding meeting are cancelled."),
    ]
    if plan.status in (FoundingStatus.SUBMITTED, FoundingStatus.RETURNED):
        lines.append(_("The founding file waiting for the team is withdrawn."))
    turn.put(
        t("Cancel the founding plan “{name}”?", name=html.escape(plan.name))
        + "\n\n"
        + "\n".join("• " + line for line in lines)
        + "\n\n"
        + _("This cannot be undone. You can start a new plan later."),
        kb.buttons_column(
            [
                ("🗑 " + _("Yes, cancel the plan"), PlanCB(act="cxok", id=plan.id)),
                (_("No, keep the plan"), CoopCB(act="plan", id=plan.id)),
            ]
        ),
        message,
    )


async def _cancel(turn: Turn, plan: Founding, message: Message | None) -> None:
    done = await ops.cancel_plan(turn.session, plan_id=plan.id, by=turn.person.id, now=clock.now())
    if not done.ok:
        turn.say(refused(done))
        return
    if message is not None:
        turn.outbox.add(message.edit_reply_markup(reply_markup=None))
    turn.say(
        t(
            "🗑 The founding plan “{name}” is cancelled. The other founders were told: {n}.",
            name=html.escape(plan.name),
            n=len(done.notices),
        ),
        kb.main_menu(),
    )
    await notices.deliver(turn.session, turn.outbox, done.notices)


# --- Progress ---------------------------------------------------------------------------------

PLAN_STATUS = {
    FoundingStatus.SUBMITTED: N_("sent to the team"),
    FoundingStatus.APPROVED: N_("approved by the team"),
    FoundingStatus.REJECTED: N_("not approved by the team (“{reason}”)"),
    FoundingStatus.RETURNED: N_("sent back for a correction (“{reason}”)"),
}


@journeys.progress("coop")
async def lines(turn: Turn) -> list[journeys.Line]:
    return await request_lines(turn) + await plan_lines(turn)


async def plan_lines(turn: Turn) -> list[journeys.Line]:
    """Each plan the person is a founder of: founders and steps, where it stands with the
    team, what comes next; a cancelled plan says so."""
    zone = _zone(turn.person)
    found: list[journeys.Line] = []
    for plan in await coops.foundings_of(turn.session, person_id=turn.person.id, closed=True):
        title = t("Founding plan: {name}", name=plan.name)
        if plan.status == FoundingStatus.CANCELLED:
            if plan.name:  # a plan whose founder deleted their data has no name left
                status = t("cancelled on {date}", date=_closed_on(plan, zone))
                found.append(journeys.Line(journey="coop", title=title, status=status))
            continue
        count = await coops.member_count(turn.session, founding_id=plan.id)
        done = dict(plan.milestones or {})
        upcoming = fc.next_milestone(done)
        status = t(
            "{n} of {min} founders, {x} of {y} steps done",
            n=count,
            min=fc.MIN_FOUNDERS,
            x=sum(1 for k in fc.MILESTONE_KEYS if k in done),
            y=len(fc.MILESTONES),
        )
        file = await coops.founding_file(turn.session, plan.id)
        if plan.status in PLAN_STATUS:
            status += ", " + t(PLAN_STATUS[FoundingStatus(plan.status)], reason=_reason(file))
        next_step = t(upcoming.label) if upcoming else None
        button = ("📋 " + plan.name, CoopCB(act="plan", id=plan.id))
        if plan.status == FoundingStatus.RETURNED:
            if plan.founder_id == turn.person.id and file is not None:
                next_step = _("Correct what the team asked for.")  # the button: the note's
            else:
                lead = await coops.person(turn.session, plan.founder_id)
                next_step = t("{lead} corrects what the team asked for.", lead=_first(lead))
        elif plan.status == FoundingStatus.REJECTED:
            next_step = _("Go on by yourselves with a notary, or the lead cancels the plan.")
        found.append(
            journeys.Line(
                journey="coop",
                title=title,
                status=status,
                next_step=next_step,
                button=button,
                submission=file.id if file is not None else None,
            )
        )
    return found


# --- What the other founders are told ---------------------------------------------------------

JOINED = N_("🤝 {person} joined your founding plan “{name}”. Founders now: {n} of at least {min}.")
SUBMITTED_LEAD = N_(
    "📤 Your founding plan “{name}” now has {n} founders and the founding meeting is held, so "
    "it was sent to the Pulang Juragan team. They will contact you about the next steps; this "
    "is not an approval."
)
SUBMITTED_OTHERS = N_(
    "📤 The founding plan “{name}” now has {n} founders and the founding meeting is held, so "
    "it was sent to the Pulang Juragan team. They will contact {lead}, who leads the plan; "
    "this is not an approval."
)
HEIR = N_(
    "📋 You now lead the founding plan “{name}”: its founder deleted their data on Pulang "
    "Juragan. As the founder you can now mark the legal steps when they are done, set the date "
    "of the founding meeting and invite more founders with the link. The purpose they wrote was "
    "deleted with their data: agree it again at the founding meeting."
)
HANDED_TO_YOU = N_(
    "📋 {person} handed the founding plan “{name}” over to you: you now lead it. You can mark "
    "the legal steps when they are done, set the date of the founding meeting, answer the team "
    "about the founding file and invite more founders with the link."
)
NEW_LEAD = {
    "deleted": N_(
        "📋 The founder of “{name}” deleted their data on Pulang Juragan. {heir} now leads the "
        "plan; you remain a founder."
    ),
    "handed": N_("📋 {heir} now leads the founding plan “{name}”; you remain a founder."),
}
LEFT = N_(
    "👋 A co-founder left “{name}” (they deleted their data). Founders now: {n} of at least {min}."
)
CANCELLED = N_(
    "🗑 {lead} cancelled the founding plan “{name}”. Its invitation link no longer works and "
    "the reminders of its meeting are cancelled. You can start a new plan any time from the "
    "menu."
)
STEP_DONE = N_("✅ {lead} marked a step of “{name}” done: {step}.")
MEETING_SET = N_(
    "📅 The founding meeting of “{name}” is set: {when}. You get a reminder three days and "
    "one day before."
)
CORRECTED = N_(
    "📨 {lead} corrected the founding file of “{name}” and sent it to the Pulang Juragan team "
    "again. You will hear when they have looked at it."
)
DECIDED = {
    "approved": N_(
        "✅ The Pulang Juragan team approved the founding file of “{name}”. {lead} leads the "
        "next steps: the notary's deed, then the legal entity."
    ),
    "rejected": N_(
        "✖️ The Pulang Juragan team did not approve the founding file of “{name}”. They wrote: "
        "“{reason}”"
    ),
    "returned": N_(
        "↩️ The Pulang Juragan team sent the founding file of “{name}” back to {lead} for a "
        "correction. They wrote: “{reason}”"
    ),
}

Rendered = tuple[str, Any] | None


async def _plan(session: AsyncSession, args: dict[str, Any]) -> Founding | None:
    plan = await coops.founding(session, int(args.get("plan") or 0))
    return plan if plan is not None and plan.name else None


@notices.renders("coop.joined")
async def _joined(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    if plan is None or plan.status == FoundingStatus.CANCELLED:
        return None
    joiner = await coops.person(session, args.get("member"))
    return t(
        JOINED,
        person=_first(joiner),
        name=html.escape(plan.name),
        n=args.get("count"),
        min=fc.MIN_FOUNDERS,
    ), None


@notices.renders("coop.submitted")
async def _submitted(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    if plan is None:
        return None
    name, n = html.escape(plan.name), args.get("count")
    if plan.founder_id == person.id:
        return t(SUBMITTED_LEAD, name=name, n=n), None
    lead = await coops.person(session, plan.founder_id)
    return t(SUBMITTED_OTHERS, name=name, n=n, lead=_first(lead)), _plan_button(plan.id)


@notices.renders("coop.heir")
async def _heir(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    if plan is None:
        return None
    return t(HEIR, name=html.escape(plan.name)), _plan_button(plan.id)


@notices.renders("coop.handed_over")
async def _handed(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    if plan is None:
        return None
    by = await coops.person(session, args.get("by"))
    return t(HANDED_TO_YOU, person=_first(by), name=html.escape(plan.name)), _plan_button(plan.id)


@notices.renders("coop.new_lead")
async def _new_lead(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    if plan is None:
        return None
    heir = await coops.person(session, args.get("lead"))
    msgid = NEW_LEAD.get(str(args.get("why")), NEW_LEAD["handed"])
    return t(msgid, name=html.escape(plan.name), heir=_first(heir)), None


@notices.renders("coop.left")
async def _left(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    if plan is None:
        return None
    return t(LEFT, name=html.escape(plan.name), n=args.get("count"), min=fc.MIN_FOUNDERS), None


@notices.renders("coop.cancelled")
async def _cancelled(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    if plan is None:
        return None
    lead = await coops.person(session, plan.founder_id)
    return t(CANCELLED, lead=_first(lead), name=html.escape(plan.name)), kb.main_menu()


@notices.renders("coop.step_done")
async def _step_done(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    step = fc.BY_KEY.get(str(args.get("step")))
    if plan is None or step is None:
        return None
    lead = await coops.person(session, plan.founder_id)
    text = t(STEP_DONE, lead=_first(lead), name=html.escape(plan.name), step=t(step.label))
    return text, _plan_button(plan.id)


@notices.renders("coop.meeting_set")
async def _meeting_set(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    if plan is None:
        return None
    try:
        at = datetime.fromisoformat(str(args.get("at")))
    except ValueError:
        return None
    when = moment(at, regions.zone_of(person.province_code))
    return t(MEETING_SET, name=html.escape(plan.name), when=when), _plan_button(plan.id)


@notices.renders("coop.decided")
async def _decided(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    msgid = DECIDED.get(str(args.get("status")))
    if plan is None or msgid is None:
        return None
    lead = await coops.person(session, plan.founder_id)
    text = t(
        msgid,
        name=html.escape(plan.name),
        lead=_first(lead),
        reason=html.escape(str(args.get("reason") or "–")),
    )
    return text, _plan_button(plan.id)


@notices.renders("coop.corrected")
async def _corrected(session: AsyncSession, person: Person, args: dict[str, Any]) -> Rendered:
    plan = await _plan(session, args)
    if plan is None:
        return None
    lead = await coops.person(session, plan.founder_id)
    return t(CORRECTED, lead=_first(lead), name=html.escape(plan.name)), _plan_button(plan.id)


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="founding")
    r.callback_query.register(plan_pressed, CoopCB.filter(F.act.in_(PLAN_ACTS)))
    r.callback_query.register(lead_pressed, PlanCB.filter())
    return r
