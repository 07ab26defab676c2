"""Announcements from coordinators: asked once after the profile, an explicit consent of its own
(UU 27/2022), stopped any time with /berhenti and started again with /langganan."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers.common import IsCommand, pressed_message
from bot.outbox import Outbox
from storage import repo
from storage.models import Person

TEXT_VERSION = "2026-11"


class AnnouncementsCB(CallbackData, prefix="an"):
    ok: bool


def question() -> str:
    return _(
        "One more question. May coordinators send you announcements: new training, "
        "cooperative meetings and programs for returnees near you? Only a few a week. "
        "You can stop them any time with /berhenti."
    )


def ask(turn: Turn) -> None:
    turn.say(
        question(),
        kb.buttons_grid(
            [
                ("✅ " + _("Yes, send them"), AnnouncementsCB(ok=True)),
                (_("No, thank you"), AnnouncementsCB(ok=False)),
            ]
        ),
    )


async def ask_once(turn: Turn) -> None:
    """Ask, unless the person answered before (yes or no)."""
    if not await repo.asked_announcements(turn.session, person_id=turn.person.id):
        ask(turn)


async def answered(
    callback: CallbackQuery,
    callback_data: AnnouncementsCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """Yes: consent recorded. No: recorded too, so we never ask again. A double tap is one."""
    if person is None:
        outbox.add(callback.answer(_("Please send /start to begin."), show_alert=True))
        return
    pressed = pressed_message(callback)
    if pressed is not None:
        outbox.add(pressed.edit_reply_markup(reply_markup=None))
    await repo.lock_person(session, person)  # a second press waits, then finds it answered
    if callback_data.ok:
        await repo.set_announcements(session, person, on=True, text_version=TEXT_VERSION)
        text = _("Thank you! You will get announcements. To stop them: /berhenti.")
    else:
        if not person.announcements and not await repo.asked_announcements(
            session, person_id=person.id
        ):
            await repo.decline_announcements(session, person=person, text_version=TEXT_VERSION)
        await repo.set_announcements(session, person, on=False, text_version=TEXT_VERSION)
        text = _("All right, no announcements. If you change your mind: /langganan.")
    outbox.add(callback.answer(text))


async def stop(
    message: Message, session: AsyncSession, person: Person | None, outbox: Outbox
) -> None:
    if person is None:
        outbox.add(message.answer(_("Please send /start to begin.")))
        return
    await repo.set_announcements(session, person, on=False, text_version=TEXT_VERSION)
    outbox.add(
        message.answer(
            _(
                "Done: you will get no more announcements. Reminders of your own dates still "
                "come. To get announcements again: /langganan."
            )
        )
    )


async def subscribe(
    message: Message, session: AsyncSession, person: Person | None, outbox: Outbox
) -> None:
    if person is None:
        outbox.add(message.answer(_("Please send /start to begin.")))
        return
    await repo.set_announcements(session, person, on=True, text_version=TEXT_VERSION)
    outbox.add(
        message.answer(_("Done: you will get announcements again. To stop them: /berhenti."))
    )


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="announcements")
    r.message.register(stop, IsCommand(), Command("berhenti", "stop"))
    r.message.register(subscribe, IsCommand(), Command("langganan", "subscribe"))
    r.callback_query.register(answered, AnnouncementsCB.filter())
    return r
