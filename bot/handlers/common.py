"""Small pieces the handlers share."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.driver import Turn
from bot.outbox import Outbox
from storage.models import Person, Role


def turn_for(
    event: Message | CallbackQuery,
    *,
    session: AsyncSession,
    person: Person,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> Turn:
    """What the driver and journeys need; `role` is the middleware's (ADMIN_IDS included)."""
    chat_id = event.chat.id if isinstance(event, Message) else event.from_user.id
    return Turn(
        session=session, person=person, outbox=outbox, chat_id=chat_id, bot=event.bot, role=role
    )


def pressed_message(callback: CallbackQuery) -> Message | None:
    """The message a button was on, if Telegram still gives it to us."""
    return callback.message if isinstance(callback.message, Message) else None


def reply(callback: CallbackQuery, text: str, **kwargs: Any) -> SendMessage:
    """A new message under the pressed one; in the presser's own chat when Telegram gives no
    message (a button on an inline message carries only `inline_message_id`)."""
    chat_id = callback.message.chat.id if callback.message is not None else callback.from_user.id
    return SendMessage(chat_id=chat_id, text=text, **kwargs)


class IsCommand(Filter):
    """A cheap router-level check, so plain answers skip every command handler's parsing."""

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and message.text.startswith("/")


def needs_profile(callback: CallbackQuery, person: Person | None, outbox: Outbox) -> bool:
    """A journey button pressed before the profile is done: tell them to /start; True then."""
    if person is not None and person.onboarded_at is not None:
        return False
    outbox.add(callback.answer(_("Please send /start to begin."), show_alert=True))
    return True
