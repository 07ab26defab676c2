"""Cooperatives: find one and ask to join it (the founding plans are in founding.py).

Every button here carries ids that can be forged: each press checks that the cooperative
exists, and otherwise answers with a short note and changes nothing. Asking to join is
`operations.coops.join`; a reviewer's decision reaches the request through
`operations.coops.join_request_decided`, and /progres says where each request stands.
"""

from __future__ import annotations

import html
import logging
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, journeys, notices, protection
from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers.common import needs_profile, pressed_message, turn_for
from bot.handlers.review import FixCB
from bot.outbox import Outbox
from bot.text import day, label, rupiah, t
from flows import clock, regions
from flows import join_coop as jc
from flows.content import help as facts
from flows.i18n import N_
from flows.validators import mask_nik
from operations import coops as ops
from storage import coops, submissions
from storage.models import (
    Cooperative,
    FlowRun,
    Person,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 8
LAST_PAGE = 10_000  # the highest page number a button carries (kb.Small)
BADGE_MERAH_PUTIH, BADGE_MIGRANT = "🇮🇩", "✈️"


class CoopCB(CallbackData, prefix="co"):
    """act: menu | find | found | res (a results page) | card | join (here); plan | ms (toggle
    a milestone) | meet | fj (join a plan as founder; k is its invitation code) | fno (in
    founding.py)."""

    act: str
    id: kb.RowId = 0
    r: str = ""  # region code of a results page
    k: str = ""  # type filter, milestone key or invitation code
    p: kb.Small = (
        0  # page; for a milestone, 1 to mark it done and 0 to unmark (a double tap is one)
    )


NOT_FOUND = N_("I could not find that. It may have been removed. Please start again from the menu.")
PLAN_ACTS = ("plan", "ms", "meet", "fj", "fno")  # the founding plans' (bot/handlers/founding.py)


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
    lines.append("")
    lines.append(legal_status(coop))
    if coop.kind == "simpan_pinjam":
        lines.append("")
        lines.append(protection.fact_text(facts.coop().simpan_pinjam))
    if coop.merah_putih:  # who may join one: people of that village
        lines.append("")
        lines.append(protection.programme_text("merah_putih"))
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


def legal_status(coop: Cooperative) -> str:
    """What the directory knows of the cooperative's legal status, to check before paying."""
    unknown = _("not in our directory")
    number = html.escape(coop.legal_number) if coop.legal_number else unknown
    nik = html.escape(coop.nik_koperasi) if coop.nik_koperasi else unknown
    rat = day(coop.last_rat) if coop.last_rat else unknown
    return "\n".join(
        [
            "⚖️ <b>" + _("Legal status") + "</b>",
            t("Badan hukum (legal entity) number: {value}", value=number),
            t("NIK Koperasi: {value}", value=nik),
            t("Last RAT (annual members' meeting): {value}", value=rat),
            _("Check these with the pengurus or the Dinas Koperasi before you pay any simpanan."),
        ]
    )


async def show_card(turn: Turn, coop: Cooperative) -> None:
    buttons: list[tuple[str, CallbackData]] = [
        ("📝 " + _("Ask to join"), CoopCB(act="join", id=coop.id)),
        ("🔎 " + _("Search again"), CoopCB(act="find")),
        ("🏠 " + _("Main menu"), kb.MenuCB(item="menu")),
    ]
    turn.say(card_text(coop), kb.buttons_column(buttons))


# --- Asking to join ---------------------------------------------------------------------------


async def _not_again(turn: Turn, coop: Cooperative) -> str | None:
    """Why the person need not ask to join again (a request open or accepted), or None."""
    zone = ZoneInfo(_zone(turn.person))
    request = await coops.open_join_request(turn.session, person_id=turn.person.id, coop_id=coop.id)
    if request is not None and request.status == SubmissionStatus.RETURNED:
        return t(
            "Your request to join {name} was sent back to you for a correction. Press "
            "“Correct it now” under the message about it, or open /progres.",
            name=html.escape(coop.name),
        )
    if request is not None:
        return t(
            "You already asked to join {name} on {date}. The pengurus (board) of the "
            "cooperative will check it; you do not need to send it again.",
            name=html.escape(coop.name),
            date=day(request.created_at.astimezone(zone).date()),
        )
    accepted = await coops.accepted_join_request(
        turn.session, person_id=turn.person.id, coop_id=coop.id
    )
    if accepted is not None:
        return t(
            "Your request to join {name} was accepted on {date}: you do not need to ask again. "
            "What to do next is on /progres.",
            name=html.escape(coop.name),
            date=day((accepted.decided_at or accepted.created_at).astimezone(zone).date()),
        )
    return None


async def ask_to_join(turn: Turn, coop: Cooperative) -> None:
    refused = await _not_again(turn, coop)
    if refused is not None:
        turn.say(refused, kb.main_menu())
        return
    intro = t("Asking to join <b>{name}</b>.", name=html.escape(coop.name))
    if turn.person.nik:
        intro += "\n" + t(
            "We will use the NIK saved in your profile: {nik}.", nik=mask_nik(turn.person.nik)
        )
    turn.say(intro)
    protection.show_scam(turn, protection.JOIN)
    await driver.begin(
        turn,
        "join_request",
        answers={"cooperative_id": coop.id, "has_nik": bool(turn.person.nik)},
    )


@driver.on_finish("join_request")
async def join_done(turn: Turn, run: FlowRun) -> None:
    """The request is filed (operations.coops.join), or why not."""
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
    done = await ops.join(
        turn.session,
        person_id=turn.person.id,
        coop_id=coop.id if coop else 0,
        nik=answers.get("nik"),
        run_id=run.id,
        now=clock.now(),
    )
    if coop is None or not done.ok:
        refused = await _not_again(turn, coop) if coop is not None else None
        turn.say(refused or t(NOT_FOUND), kb.main_menu())
        return
    await notices.deliver(turn.session, turn.outbox, done.notices)
    turn.say(
        t(
            "✅ Your request to join <b>{name}</b> has been sent (NIK {nik}).\n\n"
            "<b>What happens next:</b> the cooperative's pengurus (board) check your details "
            "and contact you. If they accept you, you pay the simpanan pokok and then the "
            "simpanan wajib. The decision is theirs; we cannot promise you will be accepted.\n\n"
            "You can follow it under “My progress”.",
            name=html.escape(coop.name),
            nik=mask_nik(str(answers.get("nik") or turn.person.nik or "")),
        ),
        kb.main_menu(),
    )


# --- Progress ---------------------------------------------------------------------------------

REQUEST_STATUS = {
    SubmissionStatus.SUBMITTED: N_("sent on {date}, waiting for the cooperative's answer"),
    SubmissionStatus.APPROVED: N_("sent on {date}, accepted"),
    SubmissionStatus.REJECTED: N_("sent on {date}, not accepted"),
    SubmissionStatus.RETURNED: N_("sent on {date}, sent back to you for a correction"),
    SubmissionStatus.WITHDRAWN: N_("sent on {date}, withdrawn"),
}


async def request_lines(turn: Turn) -> list[journeys.Line]:
    """The person's join requests: where each stands, the reviewer's reason when
    there is one, and what to do next."""
    zone = ZoneInfo(_zone(turn.person))
    found: list[journeys.Line] = []
    requests = await submissions.of_person(
        turn.session, person_id=turn.person.id, kind=SubmissionKind.JOIN_REQUEST
    )
    for request in reversed(requests):  # oldest first
        name = str((request.answers or {}).get("cooperative_name") or "")
        status = t(
            REQUEST_STATUS.get(request.status, REQUEST_STATUS[SubmissionStatus.SUBMITTED]),
            date=day(request.created_at.astimezone(zone).date()),
        )
        next_step, button = await _request_next(turn, request)
        if request.status == SubmissionStatus.RETURNED:
            button = None  # the reason, the fields and "Correct it now" are the decision's note
        found.append(
            journeys.Line(
                journey="coop",
                title=t("Request to join {name}", name=name),
                status=status,
                next_step=next_step,
                button=button,
                submission=request.id,  # /progres adds the reviewer's reason below it
            )
        )
    return found


async def _request_next(
    turn: Turn, request: Submission
) -> tuple[str | None, tuple[str, CallbackData] | None]:
    coop = await coops.cooperative(turn.session, request.ref_id or 0)
    if request.status == SubmissionStatus.RETURNED:
        return _("Correct what the reviewer asked for."), (
            "✏️ " + _("Correct it now"),
            FixCB(id=request.id),
        )
    if request.status == SubmissionStatus.APPROVED and coop is not None:
        return (
            t(
                "Pay the simpanan pokok ({amount}) to the pengurus, then the simpanan wajib.",
                amount=rupiah(coop.simpanan_pokok),
            ),
            None,
        )
    if request.status == SubmissionStatus.REJECTED and coop is not None:
        if await coops.open_join_request(
            turn.session, person_id=turn.person.id, coop_id=coop.id
        ) or await coops.accepted_join_request(
            turn.session, person_id=turn.person.id, coop_id=coop.id
        ):
            return None, None  # asked again since: that request says what comes next
        return _("You may ask again once you have what was missing, or look for another one."), (
            "🔁 " + _("Ask again"),
            CoopCB(act="card", id=coop.id),
        )
    return None, None


# --- Buttons ----------------------------------------------------------------------------------


async def pressed(
    callback: CallbackQuery,
    callback_data: CoopCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """The directory's buttons (the plans' are in bot/handlers/founding.py); ids are checked
    before anything changes."""
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
    else:
        outbox.add(callback.answer(t(NOT_FOUND)))


def _valid_region(code: str) -> bool:
    region = regions.get(code) if code else None
    return region is not None


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="coop")
    r.callback_query.register(pressed, CoopCB.filter(~F.act.in_(PLAN_ACTS)))
    return r
