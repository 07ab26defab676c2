"""Where each intent of flows/content/intents.toml leads: one registry, intent -> the button
that offers it (its label msgid) and the page the press opens (the same as the menu entry or
command named in `leads_to`).

Nothing here runs without a press: bot/handlers/intents.py offers these as buttons, and only a
press of one calls its `open`. The data-rights pages are the commands' own first pages:
/hapusdata's asks its own confirmation before deleting anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import Message
from pydantic import Field

from bot import driver, journeys, protection
from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers import facts_pages, privacy, progress, reminders, training
from bot.keyboards import AskCB
from bot.text import rupiah, t
from flows import kur as kur_flows
from flows import validators
from flows.i18n import N_
from flows.training import ALL, TOPIC_LABELS

Amount = Annotated[int, Field(ge=0, le=validators.MONEY_MAX)]


class IntentCB(CallbackData, prefix="i"):
    """A "Did you mean ...?" button: the intent, a training topic (v), an amount in rupiah."""

    name: str
    v: str = ""
    amt: Amount = 0


@dataclass(frozen=True)
class Press:
    turn: Turn
    data: IntentCB
    pressed: Message | None


Opener = Callable[[Press], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    emoji: str
    label: str  # msgid of the button
    leads_to: str  # the menu entry, command or page it opens (for readers and tests)
    open: Opener


def help_desk() -> tuple[str, CallbackData] | None:
    """The "Ask a staff member" button (Tanya petugas, bot/handlers/tickets/): offered when a
    message was not understood, and by the 'person' intent."""
    return "🙋 " + t(N_("Ask a staff member")), AskCB(act="ask")


async def _entry(press: Press, journey: str) -> None:
    await journeys.ENTRIES[journey](press.turn)


async def _simulator(press: Press) -> None:
    amount = press.data.amt
    answers = {"loan_amount": amount} if amount else None
    await driver.begin(press.turn, kur_flows.SIMULATOR.key, answers=answers)


async def _coop_search(press: Press) -> None:
    turn = press.turn
    await driver.begin(turn, "coop_search", answers={"home": turn.person.regency_code})


async def _found(press: Press) -> None:
    await driver.begin(press.turn, "found_coop")


async def _training(press: Press) -> None:
    topic = press.data.v if press.data.v in TOPIC_LABELS else ALL
    text, markup = await training.list_page(press.turn, role=press.turn.role, topic=topic)
    press.turn.say(text, markup)


async def _progress(press: Press) -> None:
    await progress.show(press.turn)


async def _reminders(press: Press) -> None:
    press.turn.say(*await reminders.page(press.turn))


async def _command_page(press: Press, command: str) -> None:
    """/datasaya's or /hapusdata's own first page (the latter asks before deleting)."""
    turn = press.turn
    if press.pressed is None:
        turn.say(t("Please send /{command}.", command=command))
        return
    page = privacy.my_data if command == "datasaya" else privacy.erase_ask
    await page(press.pressed, turn.session, turn.person, turn.outbox)


async def _person(press: Press) -> None:
    """Staff of the person's region through the bot (Tanya petugas), then the official
    contacts for someone who would rather call."""
    desk = help_desk()
    if desk is not None:
        press.turn.say(t(N_("Ask your question here:")), kb.single(*desk))
    else:
        press.turn.say(t(facts_pages.PERSON))
    protection.show_help(press.turn)


async def _scam(press: Press) -> None:
    protection.show_scam(press.turn)


async def _official(press: Press) -> None:
    protection.show_help(press.turn)


def _fact(key: str) -> Opener:
    async def open_(press: Press) -> None:
        facts_pages.show(press.turn, key)

    return open_


def _journey(key: str) -> Opener:
    async def open_(press: Press) -> None:
        await _entry(press, key)

    return open_


def _command(command: str) -> Opener:
    async def open_(press: Press) -> None:
        await _command_page(press, command)

    return open_


ROUTES: dict[str, Route] = {
    "kur": Route("🏦", N_("KUR loan"), "menu: kur (the readiness check)", _journey("kur")),
    "kur_sim": Route("🧮", N_("Instalment simulator"), "flow kur_simulator", _simulator),
    "coop": Route("🤝", N_("Cooperative"), "menu: coop", _journey("coop")),
    "coop_join": Route("🔎", N_("Join a cooperative"), "flow coop_search", _coop_search),
    "coop_found": Route("🌱", N_("Found a cooperative"), "flow found_coop", _found),
    "training": Route("🎓", N_("Training"), "menu: training (with the topic)", _training),
    "fact_kur": Route("ℹ️", N_("What is KUR?"), "page fact_kur", _fact("fact_kur")),
    "fact_nib": Route("🪪", N_("What is an NIB?"), "page fact_nib", _fact("fact_nib")),
    "fact_savings": Route(
        "💵", N_("Cooperative savings"), "page fact_savings", _fact("fact_savings")
    ),
    "fact_scam": Route("⚠️", N_("Watch out for scams"), "the scam page (help.toml)", _scam),
    "fact_contacts": Route(
        "☎️", N_("Official contacts"), "the official help page (help.toml)", _official
    ),
    "progress": Route("📊", N_("My progress"), "/progres", _progress),
    "reminders": Route("🔔", N_("My reminders"), "/pengingat", _reminders),
    "my_data": Route("📄", N_("My data"), "/datasaya", _command("datasaya")),
    "erase": Route("🗑", N_("Delete my data"), "/hapusdata (asks again)", _command("hapusdata")),
    "person": Route(
        "🙋", N_("Talk to a person"), "Tanya petugas, then the official help page", _person
    ),
}


def button_text(name: str, *, amount: int | None = None, topic: str | None = None) -> str:
    """The button offering intent `name`, with the amount or topic the message named."""
    route = ROUTES[name]
    text = route.emoji + " " + t(route.label)
    if name == "training" and topic in TOPIC_LABELS:
        text += ": " + t(TOPIC_LABELS[topic])
    elif name in ("kur", "kur_sim") and amount:
        text += " (" + rupiah(amount) + ")"
    return text
