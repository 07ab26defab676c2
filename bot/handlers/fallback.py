"""Catch-all, registered last: anything no other handler took."""

from __future__ import annotations

import logging
import re

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot import protection
from bot.handlers import intents
from bot.handlers.start import consent_texts
from bot.outbox import Outbox
from storage.models import Person

log = logging.getLogger(__name__)

# What people type when they mean the consent buttons ("setuju", "ya", "ok", "tidak setuju",
# "I agree"...): answered with the question and its buttons again, never taken as consent.
_CONSENT_WORDS = re.compile(
    r"(setuju|sepakat|agree|^(ya|iya|yes|ok|oke|okay|baik|siap|tidak|nggak|gak|no)$)"
)


def means_consent(text: str | None) -> bool:
    """Whether typed text looks like an answer to the consent question (not consent itself)."""
    if not text:
        return False
    words = re.sub(r"[^\w\s]", " ", text.casefold()).split()
    return len(words) <= 4 and bool(_CONSENT_WORDS.search(" ".join(words)))


async def anything_else(message: Message, person: Person | None, outbox: Outbox) -> None:
    """Outside any flow: point to /start; typed text from someone onboarded is matched to
    what they most likely want (bot/handlers/intents.py); anything else gets the menu."""
    if person is None:
        if means_consent(message.text):
            # Typed instead of pressed: nothing is kept until a button is pressed.
            question = consent_texts()[-1]
            outbox.add(
                message.answer(
                    _("Please answer with one of the two buttons below.") + "\n\n" + question,
                    reply_markup=kb.consent(),
                )
            )
            return
        outbox.add(message.answer(_("Hello! Send /start to begin.")))
        return
    text = message.text
    if text and not text.startswith("/") and person.onboarded_at is not None:
        await intents.reply(message, person, outbox)
        return
    if protection.mentions_broker(message.text):
        outbox.add(message.answer(protection.scam_text(protection.BROKER)))
    outbox.add(
        message.answer(
            _("I did not catch that. Please choose from the menu:"), reply_markup=kb.main_menu()
        )
    )


async def unknown_button(callback: CallbackQuery, outbox: Outbox) -> None:
    """A button we do not know (forged, or from an old version): say so, change nothing."""
    log.info("unknown callback data ignored")
    outbox.add(callback.answer(_("This button no longer works. Send /menu to see the menu.")))


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="fallback")
    r.message.register(anything_else)
    r.callback_query.register(unknown_button)
    return r
