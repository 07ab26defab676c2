"""/statistik (/stats): for staff, coordinators and admins, how far people get in each journey.

The view is one message: the funnel as a short text, with buttons for the journey, the period
(7, 30 or 90 days, this year, everything) and the region (everything inside the viewer's scope,
or one province or regency of it); a press edits that message in place. The chart (a PNG) comes
with the command and with the Chart button, as a photo.

The whole choice rides in typed callback data and is checked on every press: the role first
(read from the database for this very update), then every value; a journey, period or region
that is not offered (a forged or stale press, a region outside the viewer's scope) is refused
and logged, and nothing is counted.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import SendPhoto
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot import roles
from bot.driver import Turn
from bot.handlers.common import pressed_message, turn_for
from bot.outbox import BuiltFile, Outbox
from bot.stats import JOURNEY_TITLES, funnel_png, funnel_text, period_label, region_label
from bot.text import MESSAGE_LIMIT, current_locale, t
from flows import clock, regions
from flows.i18n import N_
from storage import funnel as store
from storage.funnel import Funnel
from storage.models import Person, Role

log = logging.getLogger(__name__)

ACTION = "stats"
SHOW, PICK_REGION, CHART = "show", "reg", "png"
ACTS = (SHOW, PICK_REGION, CHART)
PERIODS = {
    "7": N_("7 days"),
    "30": N_("30 days"),
    "90": N_("90 days"),
    "year": N_("This year"),
    "all": N_("Everything"),
}
DEFAULT_JOURNEY, DEFAULT_PERIOD = store.KUR, "30"
REGION_PAGE = 10
JOURNEY_ICONS = {store.JOIN: "🤝", store.FOUND: "🌱", store.KUR: "💰", store.TRAINING: "🎓"}


class StatsCB(CallbackData, prefix="st"):
    """What the viewer is looking at: journey, period, region ("" = everything inside their
    scope), and what the button does (show it, pick a region from page `pg`, send the chart)."""

    act: str = SHOW
    j: str = DEFAULT_JOURNEY
    p: str = DEFAULT_PERIOD
    r: str = ""
    pg: kb.Small = 0


def region_choices(scope: list[str] | None) -> list[str]:
    """The single regions a viewer can narrow to: every province for an unscoped viewer; the
    regions of a scope with more than one (a scope of one is already "everything")."""
    if scope is None:
        return [p.code for p in regions.provinces()]
    known = [code for code in scope if regions.get(code) is not None]
    return known if len(known) > 1 else []


def valid(data: StatsCB, scope: list[str] | None) -> bool:
    """Only what the buttons offer: a known journey and period, and a region inside the scope."""
    if data.act not in ACTS or data.j not in store.JOURNEYS or data.p not in PERIODS:
        return False
    if not data.r:
        return True
    return regions.get(data.r) is not None and roles.in_scope(data.r, scope)


def period(key: str, zone: str) -> tuple[datetime | None, datetime]:
    """[since, until) of a period key, now; "this year" starts on 1 January in the viewer's
    zone."""
    now = clock.now()
    if key == "all":
        return None, now
    if key == "year":
        tz = ZoneInfo(zone)
        return datetime(now.astimezone(tz).year, 1, 1, tzinfo=tz), now
    return now - timedelta(days=int(key)), now


async def compute(session: AsyncSession, data: StatsCB, person: Person, role: Role) -> Funnel:
    scope = roles.scope(person, role)
    zone = regions.zone_of(person.province_code)
    since, until = period(data.p, zone)
    chosen = [data.r] if data.r else scope
    return await store.funnel(session, data.j, since=since, until=until, regions=chosen, zone=zone)


def _mark(text: str, on: bool) -> str:
    return ("✅ " if on else "") + text


def view_markup(data: StatsCB, scope: list[str] | None) -> InlineKeyboardMarkup:
    def state(**changes: object) -> StatsCB:
        return StatsCB(**{**data.model_dump(), "pg": 0, "act": SHOW, **changes})

    journeys = [
        kb._button(_mark(JOURNEY_ICONS[j] + " " + t(JOURNEY_TITLES[j]), j == data.j), state(j=j))
        for j in store.JOURNEYS
    ]
    periods = [kb._button(_mark(t(label), p == data.p), state(p=p)) for p, label in PERIODS.items()]
    rows = [journeys[0:2], journeys[2:4], periods[0:3], periods[3:5]]
    if region_choices(scope):
        here = region_label([data.r] if data.r else scope, current_locale())
        rows.append(
            [kb._button("📍 " + t(N_("Region: {place}"), place=here), state(act=PICK_REGION))]
        )
    rows.append([kb._button("🖼 " + _("Send as a chart"), state(act=CHART))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def regions_markup(data: StatsCB, scope: list[str] | None) -> InlineKeyboardMarkup:
    choices = region_choices(scope)
    start = data.pg * REGION_PAGE
    page = choices[start : start + REGION_PAGE]

    def state(**changes: object) -> StatsCB:
        return StatsCB(**{**data.model_dump(), "pg": 0, "act": SHOW, **changes})

    everything = _("All regions") if scope is None else _("All my regions")
    rows = [[kb._button(_mark("🌏 " + everything, not data.r), state(r=""))]]
    buttons = [
        kb._button(_mark(regions.display_name(code), code == data.r), state(r=code))
        for code in page
    ]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if start + REGION_PAGE < len(choices):
        rows.append([kb._button("➡️ " + _("More"), state(act=PICK_REGION, pg=data.pg + 1))])
    rows.append([kb._button("⬅️ " + _("Back"), state())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _chart(turn: Turn, funnel: Funnel) -> None:
    """Send the chart as a photo, drawn in a thread when the outbox sends it (after the commit:
    matplotlib is CPU-bound and must not hold the update's transaction)."""
    locale = current_locale()
    i18n = I18n.get_current()

    def draw() -> bytes:
        with i18n.context(), i18n.use_locale(locale):
            return funnel_png(funnel, locale)

    caption = " · ".join(
        (
            t(JOURNEY_TITLES[funnel.journey]),
            period_label(funnel, locale),
            region_label(funnel.regions, locale),
        )
    )
    turn.outbox.add(
        SendPhoto(
            chat_id=turn.chat_id,
            photo=BuiltFile(draw, filename=f"statistik-{funnel.journey}.png"),
            caption=html.escape(caption[:1000]),
        )
    )


async def command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """/statistik: the funnel of the KUR journey over the last 30 days, everywhere the viewer
    may look, as text with buttons, then as a chart."""
    if not roles.gate(outbox, ACTION, person, role, message=message):
        return
    turn = turn_for(message, session=session, person=person, outbox=outbox, role=role)
    data = StatsCB()
    funnel = await compute(session, data, person, role)
    scope = roles.scope(person, role)
    turn.say(funnel_text(funnel, current_locale()), view_markup(data, scope), limit=MESSAGE_LIMIT)
    await _chart(turn, funnel)


async def pressed(
    callback: CallbackQuery,
    callback_data: StatsCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """Every button: the role again, then the values, then show, pick a region, or chart."""
    if not roles.check(outbox, ACTION, role, callback=callback):
        return
    if person is None:
        outbox.add(callback.answer(_("Please send /start to begin."), show_alert=True))
        return
    scope = roles.scope(person, role)
    data = callback_data
    if not valid(data, scope):
        log.warning("refused a statistics button outside what was offered")
        outbox.add(callback.answer(_("That choice is not available to you."), show_alert=True))
        return
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    message = pressed_message(callback)
    outbox.add(callback.answer())
    if data.act == PICK_REGION:
        turn.put(_("Which region?"), regions_markup(data, scope), message)
        return
    funnel = await compute(session, data, person, role)
    if data.act == CHART:
        await _chart(turn, funnel)
        return
    turn.put(
        funnel_text(funnel, current_locale()),
        view_markup(data, scope),
        message,
        limit=MESSAGE_LIMIT,
    )


def router() -> Router:
    r = Router(name="stats")
    r.message.register(command, Command("statistik", "stats"))
    r.callback_query.register(pressed, StatsCB.filter())
    return r
