"""Small pieces the handlers share."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
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


class IsCommand(Filter):
    """A cheap router-level check, so plain answers skip every command handler's parsing."""

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and message.text.startswith("/")
