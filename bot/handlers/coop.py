"""Cooperatives: find and join one, or found one with fellow returnees.

Every button here carries ids that can be forged: each press checks that the cooperative or
plan exists and that the presser may act on it (only the founder marks steps or sets the
meeting), and otherwise answers with a short note and changes nothing.
"""

from __future__ import annotations

import html
import logging
from datetime import UTC, date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, journeys, reminders
from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers.common import needs_profile, pressed_message, turn_for
from bot.outbox import Outbox
from bot.text import day, label, moment, rupiah, t, t_for
from flows import clock, regions
from flows import found_coop as fc
from flows import join_coop as jc
from flows import reminders as rules
from flows.i18n import N_
from flows.validators import mask_nik, time_of_day
from storage import coops, repo, submissions
from storage import reminders as reminder_rows
from storage.models import (
    Cooperative,
    FlowRun,
    Founding,
    FoundingStatus,
    Person,
    SubmissionKind,
    SubmissionStatus,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 8
LAST_PAGE = 10_000  # the highest page number a button carries (kb.Small)
BADGE_MERAH_PUTIH, BADGE_MIGRANT = "🇮🇩", "✈️"


class CoopCB(CallbackData, prefix="co"):
    """act: menu | find | found | res (a results page) | card | join | plan | ms (toggle a
    milestone) | meet | fj (join a plan as founder; k is its invitation code) | fno."""

    act: str
    id: kb.RowId = 0
    r: str = ""  # region code of a results page
    k: str = ""  # type filter, milestone key or invitation code
    p: kb.Small = (
        0  # page; for a milestone, 1 to mark it done and 0 to unmark (a double tap is one)
    )


NOT_FOUND = N_("I could not find that. It may have been removed. Please start again from the menu.")
NOT_YOURS = N_("Only the person who started this founding plan can change it.")


def _zone(person: Person) -> str:
    return regions.zone_of(person.province_code)


def _place(code: str | None) -> str:
    try:
        return regions.display_name(code) if code else "–"
    except KeyError:
        return code or "–"


def _kind_label(kind: str) -> str:
    options = {o.value: o for o in jc.FILTERS}
    return label(options[kind]) if kind in options else kind


async def _bot_username(turn: Turn) -> str:
    if turn.bot is not None:
        me = await turn.bot.me()
        if me.username:
            return me.username
    return "pulang_juragan_bot"


# --- The menu entry ---------------------------------------------------------------------------


@journeys.entry("coop")
async def open_(turn: Turn) -> None:
    """Find one to join, found one, or open one's own founding plans."""
    plans = await coops.foundings_of(turn.session, person_id=turn.person.id)
    buttons: list[tuple[str, CallbackData]] = [
        ("🔎 " + _("Find a cooperative to join"), CoopCB(act="find")),
        ("🌱 " + _("Found a new one with other returnees"), CoopCB(act="found")),
    ]
    for plan in plans[-3:]:
        buttons.append(
            ("📋 " + t("My founding plan: {name}", name=plan.name), CoopCB(act="plan", id=plan.id))
        )
    buttons.append(("🏠 " + _("Main menu"), kb.MenuCB(item="menu")))
    turn.say(
        _(
            "<b>Cooperatives (koperasi)</b>\n\n"
            "A cooperative is a business owned and run by its members. Members save together, "
            "can borrow, buy or sell together, and share the yearly surplus (SHU).\n\n"
            "You can look for one to join near you, or found a new one with at least 9 people."
        ),
        kb.buttons_column(buttons),
    )


# --- Searching --------------------------------------------------------------------------------


async def _start_search(turn: Turn) -> None:
    await driver.begin(turn, "coop_search", answers={"home": turn.person.regency_code})


@driver.on_finish("coop_search")
async def search_done(turn: Turn, run: FlowRun) -> None:
    scope, code = jc.search_place(run.answers or {})
    kind = str((run.answers or {}).get("kind") or jc.ANY)
    await show_results(turn, code, kind, 0)


async def show_results(
    turn: Turn, region: str, kind: str, page: int, *, pressed: object = None
) -> None:
    """Matching cooperatives as buttons, a page at a time (only that page is read); when
    none, what else to do."""
    is_regency = "." in region
    found = await coops.search(
        turn.session,
        regency_code=region if is_regency else None,
        province_code=None if is_regency else region,
        kind=None if kind == jc.ANY else kind,
        page=page,
        size=PAGE_SIZE,
    )
    place = html.escape(_place(region))
    kind_text = html.escape(_kind_label(kind))
    if not found.total:
        buttons: list[tuple[str, CallbackData]] = []
        if is_regency:
            text = t(
                "I found no cooperative of type “{kind}” in {place} in our directory yet.",
                kind=kind_text,
                place=place,
            )
            buttons.append(
                ("🗺 " + _("Search the whole province"), CoopCB(act="res", r=region[:2], k=kind))
            )
        else:
            text = t(
                "I found no cooperative of type “{kind}” in {place} in our directory yet.",
                kind=kind_text,
                place=place,
            )
        text += "\n\n" + _(
            "Our directory does not list every cooperative. You can ask at your village office "
            "or the cooperative office (Dinas Koperasi). Or found one with fellow returnees: "
            "9 people are enough."
        )
        buttons += [
            ("🔎 " + _("Another region"), CoopCB(act="find")),
            ("🌱 " + _("Found a new one with other returnees"), CoopCB(act="found")),
            ("🏠 " + _("Main menu"), kb.MenuCB(item="menu")),
        ]
        turn.say(text, kb.buttons_column(buttons))
        return
    pages, page = found.pages, found.number
    rows = [[kb._button(_coop_button(c), CoopCB(act="card", id=c.id))] for c in found.rows]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(kb._button("◀️", CoopCB(act="res", id=1, r=region, k=kind, p=page - 1)))
        nav.append(
            kb._button(f"{page + 1}/{pages}", CoopCB(act="res", id=1, r=region, k=kind, p=page))
        )
        if page < min(pages - 1, LAST_PAGE):
            nav.append(kb._button("▶️", CoopCB(act="res", id=1, r=region, k=kind, p=page + 1)))
        rows.append(nav)
    rows.append([kb._button("🔎 " + _("Search again"), CoopCB(act="find"))])
    text = t(
        "<b>Cooperatives in {place}</b> ({kind}): {count} found. Choose one to see the details.",
        place=place,
        kind=kind_text,
        count=found.total,
    )
    text += "\n" + t(
        "{mp} Koperasi Desa/Kelurahan Merah Putih · {migrant} for migrant workers",
        mp=BADGE_MERAH_PUTIH,
        migrant=BADGE_MIGRANT,
    )
    turn.put(text, InlineKeyboardMarkup(inline_keyboard=rows), pressed)  # type: ignore[arg-type]


def _coop_button(coop: Cooperative) -> str:
    badges = (BADGE_MERAH_PUTIH if coop.merah_putih else "") + (
        BADGE_MIGRANT if coop.migrant else ""
    )
    return (badges + " " if badges else "") + coop.name


def card_text(coop: Cooperative) -> str:
    """Everything a person needs to decide whether to ask to join."""
    badges = []
    if coop.merah_putih:
        badges.append(BADGE_MERAH_PUTIH + " " + _("Koperasi Desa/Kelurahan Merah Putih"))
    if coop.migrant:
        badges.append(BADGE_MIGRANT + " " + _("For migrant workers and their families"))
    lines = [f"<b>{html.escape(coop.name)}</b>"]
    lines += badges
    lines.append(t("Type: {kind}", kind=html.escape(_kind_label(coop.kind))))
    lines.append(
        t(
            "Where: {village}, {regency}",
            village=html.escape(coop.village),
            regency=html.escape(_place(coop.regency_code)),
        )
    )
    lines.append(t("What it does: {text}", text=html.escape(coop.description)))
    lines.append("")
    lines.append(
        t(
            "<b>Simpanan pokok:</b> {amount}, paid once when you join.",
            amount=rupiah(coop.simpanan_pokok),
        )
    )
    lines.append(
        t(
            "<b>Simpanan wajib:</b> {amount}, paid regularly (for example every month).",
            amount=rupiah(coop.simpanan_wajib),
        )
    )
    lines.append(_("Neither can be withdrawn while you are a member."))
    lines.append("")
    lines.append(t("<b>Requirements:</b> {text}", text=html.escape(coop.requirements)))
    lines.append(t("<b>How members benefit:</b> {text}", text=html.escape(coop.benefits)))
    if coop.sample:
        lines.append("")
        lines.append(
            "⚠️ "
            + _(
                "<b>Sample data:</b> this entry is an example, not a real cooperative. "
                "Do not pay anything because of it."
            )
        )
    return "\n".join(lines)


async def show_card(turn: Turn, coop: Cooperative) -> None:
    buttons: list[tuple[str, CallbackData]] = [
        ("📝 " + _("Ask to join"), CoopCB(act="join", id=coop.id)),
        ("🔎 " + _("Search again"), CoopCB(act="find")),
        ("🏠 " + _("Main menu"), kb.MenuCB(item="menu")),
    ]
    turn.say(card_text(coop), kb.buttons_column(buttons))


# --- Asking to join ---------------------------------------------------------------------------


def _already_sent(coop: Cooperative, sent_on: datetime, zone: str) -> str:
    return t(
        "You already asked to join {name} on {date}. The pengurus (board) of the cooperative "
        "will check it; you do not need to send it again.",
        name=html.escape(coop.name),
        date=day(sent_on.astimezone(ZoneInfo(zone)).date()),
    )


async def ask_to_join(turn: Turn, coop: Cooperative) -> None:
    existing = await coops.open_join_request(
        turn.session, person_id=turn.person.id, coop_id=coop.id
    )
    if existing is not None:
        turn.say(_already_sent(coop, existing.created_at, _zone(turn.person)), kb.main_menu())
        return
    intro = t("Asking to join <b>{name}</b>.", name=html.escape(coop.name))
    if turn.person.nik:
        intro += "\n" + t(
            "We will use the NIK saved in your profile: {nik}.", nik=mask_nik(turn.person.nik)
        )
    turn.say(intro)
    await driver.begin(
        turn,
        "join_request",
        answers={"cooperative_id": coop.id, "has_nik": bool(turn.person.nik)},
    )


@driver.on_finish("join_request")
async def join_done(turn: Turn, run: FlowRun) -> None:
    answers = dict(run.answers or {})
    if answers.get("commit") != jc.YES or answers.get("confirm") != jc.YES:
        turn.say(
            _(
                "That is fine: nothing was sent. When you are ready, open the cooperative again "
                "and press “Ask to join”."
            ),
            kb.main_menu(),
        )
        return
    coop = await coops.cooperative(turn.session, int(answers.get("cooperative_id") or 0))
    if coop is None:
        turn.say(t(NOT_FOUND), kb.main_menu())
        return
    existing = await coops.open_join_request(
        turn.session, person_id=turn.person.id, coop_id=coop.id
    )
    if existing is not None:
        turn.say(_already_sent(coop, existing.created_at, _zone(turn.person)), kb.main_menu())
        return
    nik = answers.get("nik") or turn.person.nik
    if not nik:  # the NIK was removed from the profile meanwhile: ask again from the card
        turn.say(t(NOT_FOUND), kb.main_menu())
        return
    if answers.get("nik") and answers["nik"] != turn.person.nik:
        await repo.update_person(turn.session, turn.person, nik=answers["nik"])
    await submissions.create(
        turn.session,
        person=turn.person,
        kind=SubmissionKind.JOIN_REQUEST,
        ref_id=coop.id,
        answers={
            "cooperative_id": coop.id,
            "cooperative_name": coop.name,
            "nik": nik,  # staff must check it; the staff pages mask it
        },
        run_id=run.id,
    )
    turn.say(
        t(
            "✅ Your request to join <b>{name}</b> has been sent (NIK {nik}).\n\n"
            "<b>What happens next:</b> the cooperative's pengurus (board) check your details "
            "and contact you. If they accept you, you pay the simpanan pokok and then the "
            "simpanan wajib. The decision is theirs; we cannot promise you will be accepted.\n\n"
            "You can follow it under “My progress”.",
            name=html.escape(coop.name),
            nik=mask_nik(nik),
        ),
        kb.main_menu(),
    )


# --- Founding a cooperative -------------------------------------------------------------------


@driver.on_finish("found_coop")
async def found_done(turn: Turn, run: FlowRun) -> None:
    answers = dict(run.answers or {})
    if answers.get("confirm") != fc.YES:
        turn.say(
            _("That is fine: no plan was started. You can start one any time from the menu."),
            kb.main_menu(),
        )
        return
    plan = await coops.create_founding(
        turn.session,
        founder=turn.person,
        kind=str(answers["kind"]),
        purpose=str(answers["purpose"]),
        name=str(answers["name"]),
    )
    turn.say(
        _(
            "🌱 Your founding plan is started. Send the invitation link below to fellow "
            "returnees: everyone who opens it can join as a founder."
        )
    )
    await show_plan(turn, plan)


async def plan_page(turn: Turn, plan: Founding) -> tuple[str, InlineKeyboardMarkup]:
    """The plan: founders, invitation link, meeting, the legal steps; buttons for the founder."""
    people = await coops.members(turn.session, founding_id=plan.id)
    names = ", ".join(html.escape(n) for n in coops.first_names(people))
    done = dict(plan.milestones or {})
    username = await _bot_username(turn)
    link = f"https://t.me/{username}?start=f-{plan.code}"
    zone = _zone(turn.person)
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
        + _(
            "Since UU Cipta Kerja a primary cooperative needs at least 9 founders (pages that "
            "still say 20 are out of date)."
        ),
        t("Invitation link: {link}", link=link),
        t(
            "Founding meeting: {when}",
            when=moment(plan.meeting_at, zone) if plan.meeting_at else _("not set yet"),
        ),
    ]
    steps = ["<b>" + _("Steps") + "</b>"]
    for number, milestone in enumerate(fc.MILESTONES, 1):
        if milestone.key in done:
            steps.append(
                t(
                    "✅ {n}. {step} (done on {date})",
                    n=number,
                    step=t(milestone.label),
                    date=_iso_day(done[milestone.key]),
                )
            )
        else:
            steps.append(f"⬜ {number}. {t(milestone.label)}")
        steps.append("<i>" + t(milestone.about) + "</i>")
    parts.append("\n".join(steps))
    if plan.status == FoundingStatus.SUBMITTED:
        parts.append(
            "📤 "
            + _(
                "The plan was sent to the Pulang Juragan team. They will contact the founder; "
                "this is not an approval."
            )
        )
    rows: list[list[InlineKeyboardButton]] = []
    if turn.person.id == plan.founder_id:
        toggles = [
            kb._button(
                ("✅ " if m.key in done else "⬜ ") + t(m.label),
                CoopCB(act="ms", id=plan.id, k=m.key, p=0 if m.key in done else 1),
            )
            for m in fc.MILESTONES
        ]
        rows += [toggles[i : i + 2] for i in range(0, len(toggles), 2)]
        rows.append([kb._button("📅 " + _("Set the meeting date"), CoopCB(act="meet", id=plan.id))])
        parts.append(_("Press a step when it is done; press it again to undo."))
    share = (
        "https://t.me/share/url?url="
        + quote(link, safe="")
        + "&text="
        + quote(t("Let us found a cooperative together: {name}", name=plan.name), safe="")
    )
    rows.append([InlineKeyboardButton(text="📤 " + _("Share the invitation"), url=share)])
    rows.append([kb._button("🏠 " + _("Main menu"), kb.MenuCB(item="menu"))])
    return "\n\n".join(parts), InlineKeyboardMarkup(inline_keyboard=rows)


def _iso_day(value: object) -> str:
    try:
        return day(date.fromisoformat(str(value)))
    except ValueError:
        return html.escape(str(value))


async def show_plan(turn: Turn, plan: Founding, *, edit: object = None) -> None:
    text, markup = await plan_page(turn, plan)
    if edit is not None:
        turn.outbox.add(
            EditMessageText(
                chat_id=turn.chat_id,
                message_id=edit.message_id,  # type: ignore[attr-defined]
                text=text,
                reply_markup=markup,
                disable_web_page_preview=True,
            )
        )
        return
    turn.outbox.add(
        SendMessage(
            chat_id=turn.chat_id, text=text, reply_markup=markup, disable_web_page_preview=True
        )
    )


async def _tell(turn: Turn, whom: Person | None, msgid: str, **params: object) -> None:
    """A message to someone else, in their language; to the presser, in theirs."""
    if whom is None:
        return
    if whom.id == turn.person.id:
        turn.say(t(msgid, **params))
        return
    turn.outbox.add(SendMessage(chat_id=whom.telegram_id, text=t_for(whom.locale, msgid, **params)))


async def maybe_submit(turn: Turn, plan: Founding) -> None:
    """With 9 founders and the founding meeting held, the plan goes to the team, once."""
    if plan.status != FoundingStatus.PLANNING:
        return
    count = await coops.member_count(turn.session, founding_id=plan.id)
    done = dict(plan.milestones or {})
    if not fc.ready_to_submit(count, done):
        return
    if not await coops.mark_submitted(turn.session, plan):
        return
    founder = await coops.person(turn.session, plan.founder_id)
    meeting = plan.meeting_at.isoformat() if plan.meeting_at else None
    await submissions.create(
        turn.session,
        person=founder,
        kind=SubmissionKind.FOUNDING,
        ref_id=plan.id,
        answers={
            "name": plan.name,
            "kind": plan.kind,
            "purpose": plan.purpose,
            "founders": count,
            "meeting_at": meeting,
            "milestones": done,
        },
        province_code=plan.province_code,
        regency_code=plan.regency_code,
    )
    await _tell(
        turn,
        founder,
        N_(
            "📤 Your founding plan “{name}” now has {n} founders and the founding meeting is "
            "held, so it was sent to the Pulang Juragan team. They will contact you about the "
            "next steps; this is not an approval."
        ),
        name=html.escape(plan.name),
        n=count,
    )


# --- Reminders of the founding meeting -------------------------------------------------------


def _meeting_prefix(plan: Founding) -> str:
    return f"meeting:{plan.id}:"


async def _remind_meeting(turn: Turn, plan: Founding, people: list[Person] | None = None) -> None:
    """Three days and one day before the meeting, for every founder (or only `people`), each
    in their own zone; none once the meeting is marked held or when no date is set."""
    if plan.meeting_at is None or fc.MEETING in (plan.milestones or {}):
        if people is None:
            await reminder_rows.cancel(turn.session, prefix=_meeting_prefix(plan))
        return
    if people is None:
        people = await coops.members(turn.session, founding_id=plan.id)
    at = plan.meeting_at.astimezone(UTC)
    payload = {"name": plan.name, "at": at.isoformat()}
    for person in people:
        tz = reminders.zone_of(person.province_code)
        for kind, suffix, days in ((rules.MEETING_3_DAYS, "3d", 3), (rules.MEETING_1_DAY, "1d", 1)):
            await reminders.remind(
                turn.session,
                person_id=person.id,
                kind=kind,
                key=f"{_meeting_prefix(plan)}{person.id}:{suffix}",
                due_at=rules.before(at, tz, days=days),
                tz=tz,
                payload=payload,
            )


@driver.on_finish("found_meeting")
async def meeting_done(turn: Turn, run: FlowRun) -> None:
    answers = dict(run.answers or {})
    plan = await coops.founding(turn.session, int(answers.get("founding_id") or 0))
    if plan is None or plan.founder_id != turn.person.id:
        turn.say(t(NOT_YOURS), kb.main_menu())
        return
    zone = _zone(turn.person)
    local = clock.at(str(answers["date"]), time_of_day(str(answers["time"])), zone)
    if local is None:
        turn.say(t(NOT_FOUND), kb.main_menu())
        return
    await coops.set_meeting(turn.session, plan, local)
    await _remind_meeting(turn, plan)
    turn.say(t("📅 Founding meeting: {when}", when=moment(local, zone)))
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
    founder = await coops.person(turn.session, plan.founder_id)
    count = await coops.member_count(turn.session, founding_id=plan.id)
    first = coops.first_names([founder])[0] if founder else "?"
    text = t(
        "<b>{founder} invites you to found a cooperative together.</b>\n\n"
        "Name: {name}\nType: {kind}\nPurpose: {purpose}\nFounders so far: {n} "
        "(at least {min} are needed)\n\n"
        "A founder takes part in the founding meeting, agrees the AD/ART (the cooperative's "
        "rules) and pays the simpanan pokok and wajib the meeting decides. Joining here is "
        "not yet a payment or a signature.",
        founder=html.escape(first),
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


async def join_plan(turn: Turn, code: str, pressed: object) -> None:
    plan = await coops.founding_by_code(turn.session, code)
    if plan is None or plan.status == FoundingStatus.CANCELLED:
        turn.say(t(NOT_FOUND), kb.main_menu())
        return
    if pressed is not None:
        turn.outbox.add(pressed.edit_reply_markup(reply_markup=None))  # type: ignore[attr-defined]
    added = await coops.add_member(turn.session, founding_id=plan.id, person_id=turn.person.id)
    if not added:
        turn.say(_("You are already a founder of this plan."))
        await show_plan(turn, plan)
        return
    await _remind_meeting(turn, plan, [turn.person])
    count = await coops.member_count(turn.session, founding_id=plan.id)
    founder = await coops.person(turn.session, plan.founder_id)
    joiner = coops.first_names([turn.person])[0]
    await _tell(
        turn,
        founder,
        N_("🤝 {person} joined your founding plan “{name}”. Founders now: {n} of at least {min}."),
        person=html.escape(joiner),
        name=html.escape(plan.name),
        n=count,
        min=fc.MIN_FOUNDERS,
    )
    turn.say(t("✅ You are now a founder of “{name}”.", name=html.escape(plan.name)))
    await show_plan(turn, plan)
    await maybe_submit(turn, plan)


# --- Buttons ----------------------------------------------------------------------------------


async def pressed(
    callback: CallbackQuery,
    callback_data: CoopCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """Every cooperative button; ids are checked before anything changes."""
    if needs_profile(callback, person, outbox):
        return
    turn = turn_for(callback, session=session, person=person, outbox=outbox)
    message = pressed_message(callback)
    act = callback_data.act
    if act == "find":
        outbox.add(callback.answer())
        await _start_search(turn)
    elif act == "found":
        outbox.add(callback.answer())
        await driver.begin(turn, "found_coop")
    elif act == "res":
        if not _valid_region(callback_data.r) or callback_data.k not in jc.FILTER_VALUES:
            outbox.add(callback.answer(t(NOT_FOUND)))
            return
        outbox.add(callback.answer())
        nav = message if callback_data.id == 1 else None  # a page of the same list: edit it
        await show_results(turn, callback_data.r, callback_data.k, callback_data.p, pressed=nav)
    elif act in ("card", "join"):
        coop = await coops.cooperative(session, callback_data.id)
        if coop is None:
            outbox.add(callback.answer(t(NOT_FOUND)))
            return
        outbox.add(callback.answer())
        await (show_card(turn, coop) if act == "card" else ask_to_join(turn, coop))
    elif act == "plan":
        plan = await coops.founding(session, callback_data.id)
        if plan is None or not await coops.is_member(
            session, founding_id=plan.id, person_id=person.id
        ):
            outbox.add(callback.answer(t(NOT_FOUND)))
            return
        outbox.add(callback.answer())
        await show_plan(turn, plan)
    elif act in ("ms", "meet"):
        plan = await coops.founding(session, callback_data.id)
        if plan is None or plan.founder_id != person.id:
            outbox.add(callback.answer(t(NOT_YOURS), show_alert=True))
            return
        if act == "meet":
            outbox.add(callback.answer())
            await driver.begin(turn, "found_meeting", answers={"founding_id": plan.id})
            return
        if callback_data.k not in fc.BY_KEY:
            outbox.add(callback.answer(t(NOT_FOUND)))
            return
        outbox.add(callback.answer())
        await toggle_milestone(turn, plan, callback_data.k, message, done=callback_data.p == 1)
    elif act == "fj":
        outbox.add(callback.answer())
        await join_plan(turn, callback_data.k, message)
    elif act == "fno":
        outbox.add(callback.answer())
        if message is not None:
            outbox.add(message.edit_reply_markup(reply_markup=None))
        turn.say(_("That is fine. What would you like to do?"), kb.main_menu())
    else:
        outbox.add(callback.answer(t(NOT_FOUND)))


def _valid_region(code: str) -> bool:
    region = regions.get(code) if code else None
    return region is not None


async def toggle_milestone(
    turn: Turn, plan: Founding, key: str, message: object, *, done: bool
) -> None:
    """Mark a milestone done (with today's date) or not done; the button says which, so a
    double tap, or a press on an older copy of the plan, does the same thing twice."""
    marked = dict(plan.milestones or {})
    if done == (key in marked):
        await show_plan(turn, plan, edit=message)
        return
    if done:
        marked[key] = clock.today(ZoneInfo(_zone(turn.person))).isoformat()
    else:
        del marked[key]
    await coops.set_milestones(turn.session, plan, marked)
    if key == fc.MEETING:  # held: no more reminders; unmarked: again, if still to come
        await _remind_meeting(turn, plan)
    await maybe_submit(turn, plan)
    await show_plan(turn, plan, edit=message)


# --- Progress ---------------------------------------------------------------------------------

REQUEST_STATUS = {
    SubmissionStatus.SUBMITTED: N_("sent on {date}, waiting for the cooperative's answer"),
    SubmissionStatus.APPROVED: N_("sent on {date}, accepted"),
    SubmissionStatus.REJECTED: N_("sent on {date}, not accepted"),
    SubmissionStatus.RETURNED: N_("sent on {date}, sent back to you for a correction"),
}


@journeys.progress("coop")
async def lines(turn: Turn) -> list[journeys.Line]:
    zone = ZoneInfo(_zone(turn.person))
    found: list[journeys.Line] = []
    requests = await submissions.of_person(
        turn.session, person_id=turn.person.id, kind=SubmissionKind.JOIN_REQUEST
    )
    for request in reversed(requests):
        name = str((request.answers or {}).get("cooperative_name") or "")
        status = REQUEST_STATUS.get(request.status, REQUEST_STATUS[SubmissionStatus.SUBMITTED])
        found.append(
            journeys.Line(
                journey="coop",
                title=t("Request to join {name}", name=name),
                status=t(status, date=day(request.created_at.astimezone(zone).date())),
                submission=request.id,
            )
        )
    for plan in await coops.foundings_of(turn.session, person_id=turn.person.id):
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
        if plan.status == FoundingStatus.SUBMITTED:
            status += ", " + _("sent to the team")
        found.append(
            journeys.Line(
                journey="coop",
                title=t("Founding plan: {name}", name=plan.name),
                status=status,
                next_step=t(upcoming.label) if upcoming else None,
                button=("📋 " + plan.name, CoopCB(act="plan", id=plan.id)),
            )
        )
    return found


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="coop")
    r.callback_query.register(pressed, CoopCB.filter())
    return r
