"""Free text outside a flow step (issue 18): "Did you mean ...?" with the likely intents as
buttons, and the page a press opens. Nothing starts without a press.

Typed answers inside a flow never come here (the flow router, before this one, takes them);
commands go to their own handlers. This router comes right after the flow router: no router
between it and the fallback takes plain text (they take commands and buttons only), so a free
text skips a dozen routers' filters on its way (bench/intents.py).
"""

from __future__ import annotations

import html
import logging
from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import intent_routes as routes
from bot import keyboards as kb
from bot import protection
from bot.handlers.common import needs_profile, pressed_message, turn_for
from bot.intent_routes import IntentCB
from bot.outbox import Outbox
from flows import intents
from storage.models import Person, Role

log = logging.getLogger(__name__)
READ_AT_MOST = 300  # characters of a message the matcher reads; what matters comes first


class FreeText(Filter):
    """Plain text (not a command) from someone whose profile is done; hands on `person`."""

    async def __call__(
        self, message: Message, person: Person | None = None
    ) -> bool | dict[str, Any]:
        text = message.text
        if not text or text.startswith("/") or person is None or person.onboarded_at is None:
            return False
        return {"person": person}


def _offer(understood: intents.Understood) -> list[tuple[str, CallbackData]]:
    names = list(understood.offered())
    if understood.amount and "kur" in names and "kur_sim" not in names:
        names.insert(names.index("kur") + 1, "kur_sim")  # the amount, carried to the simulator
    buttons: list[tuple[str, CallbackData]] = []
    for name in names[: intents.MAX_OFFERED]:
        amount = understood.amount if name in ("kur", "kur_sim") else None
        topic = understood.topic if name == "training" else None
        text = routes.button_text(name, amount=amount, topic=topic)
        buttons.append((text, IntentCB(name=name, v=topic or "", amt=amount or 0)))
    return buttons


def _menu_button() -> tuple[str, CallbackData]:
    return "🏠 " + _("Menu"), kb.MenuCB(item="menu")


async def reply(message: Message, person: Person, outbox: Outbox) -> None:
    """Offer what the text most likely means, or say warmly that it was not understood. A
    message that mentions a calo or an agent gets the scam warning first."""
    if protection.mentions_broker(message.text):
        outbox.add(message.answer(protection.scam_text(protection.BROKER)))
    understood = intents.understand((message.text or "")[:READ_AT_MOST])
    offered = _offer(understood)
    if offered:
        question = (
            _("Did you mean: {what}?").format(what=offered[0][0])
            if len(offered) == 1
            else _("Did you mean one of these?")
        )
        outbox.add(
            message.answer(
                question + "\n" + _("Press a button; nothing starts until you do."),
                reply_markup=kb.buttons_column([*offered, _menu_button()]),
            )
        )
        return
    social = understood.social
    if social == "greeting":
        text = _("Hello, {name}! What would you like to do?").format(
            name=html.escape(person.name or "")
        )
    elif social == "thanks":
        text = _("You are welcome! Anything else? Choose from the menu:")
    elif social == "menu":
        text = _("What would you like to do?")
    else:
        text = _(
            "Sorry, I did not understand that. I understand short messages like "
            "\u201cborrow Rp25 million\u201d, \u201cjoin a cooperative\u201d or "
            "\u201csewing training\u201d. Or choose from the menu:"
        )
    markup = kb.main_menu()
    desk = routes.help_desk()
    if desk is not None and social is None:
        markup = kb.buttons_column([desk, _menu_button()])
    outbox.add(message.answer(text, reply_markup=markup))


async def pressed(
    callback: CallbackQuery,
    callback_data: IntentCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """A "Did you mean" button: open its page for the presser; an unknown one changes nothing."""
    route = routes.ROUTES.get(callback_data.name)
    if route is None:
        log.info("unknown intent button ignored")
        outbox.add(callback.answer(_("This button no longer works. Send /menu to see the menu.")))
        return
    if needs_profile(callback, person, outbox):
        return
    assert person is not None
    outbox.add(callback.answer())
    message = pressed_message(callback)
    if message is not None:
        outbox.add(message.edit_reply_markup(reply_markup=None))  # the question is answered
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    await route.open(routes.Press(turn, callback_data, message))


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="intents")
    r.message.register(reply, FreeText())
    r.callback_query.register(pressed, IntentCB.filter())
    return r
