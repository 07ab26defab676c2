"""Answers to the current flow step: typed text, a shared contact, a button press."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, protection
from bot import keyboards as kb
from bot.handlers.common import pressed_message, turn_for
from bot.outbox import Outbox
from flows.engine import DONE, Input
from storage import repo
from storage.models import FlowRun, Person, Role, RunStatus

log = logging.getLogger(__name__)


class InFlow(Filter):
    """Passes for a non-command message from someone with an active run, handed on as `run`."""

    async def __call__(
        self, message: Message, active_run: FlowRun | None = None
    ) -> bool | dict[str, Any]:
        if active_run is None or (message.text or "").startswith("/"):
            return False  # commands go to their own handlers, even in the middle of a flow
        return {"run": active_run}


def _input(message: Message) -> Input:
    if message.contact is not None:
        # Only the person's own number: a forwarded contact card is someone else's.
        own = message.contact.user_id in (None, message.from_user.id if message.from_user else 0)
        return Input(phone=message.contact.phone_number) if own else Input()
    if message.location is not None:
        return Input(location=(message.location.latitude, message.location.longitude))
    return Input(text=message.text) if message.text is not None else Input()


async def answer(
    message: Message,
    run: Any,
    session: AsyncSession,
    person: Person,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """Typed text, a contact or a place for the current step; anything else is re-asked."""
    turn = turn_for(message, session=session, person=person, outbox=outbox, role=role)
    if message.photo or message.document:
        driver.show(
            turn,
            run,
            error=_(
                "For your safety, please do not send photos of your KTP or other documents here. "
                "Type your answer instead."
            ),
        )
        return
    if message.contact is not None and _input(message).phone is None:
        driver.show(turn, run, error=_("Please share your own number with the button below."))
        return
    if protection.mentions_broker(message.text):  # warned once, then the step goes on
        protection.show_scam(turn, protection.BROKER)
    await driver.handle(turn, run, _input(message))


async def press(
    callback: CallbackQuery,
    callback_data: kb.FlowCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    active_run: FlowRun | None = None,
    role: Role = Role.RETURNEE,
) -> None:
    """A button on a step; presses on older questions or forged data change nothing."""
    if person is None:
        outbox.add(callback.answer(_("Please send /start to begin."), show_alert=True))
        return
    run = active_run
    if run is None or run.flow != callback_data.flow:
        run = await repo.active_run(session, person_id=person.id, flow=callback_data.flow)
    if run is None or run.status != RunStatus.ACTIVE or run.step != callback_data.step:
        if run is None:
            log.info("flow button without an active run of its flow: ignored")
        outbox.add(callback.answer(_("That button is from an earlier question.")))
        return
    outbox.add(callback.answer())
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    pressed = pressed_message(callback)
    act = callback_data.act
    if act == "page":
        if pressed is not None and callback_data.v.isdigit():
            _text, markup = driver.render(run, page=int(callback_data.v))
            outbox.add(pressed.edit_reply_markup(reply_markup=markup))
    elif act == "back":
        await driver.go_back(turn, run, pressed=pressed)
    elif act == "cancel":
        await driver.cancel(turn, run, pressed=pressed)
    elif act in ("pick", "done"):
        choice = DONE if act == "done" else callback_data.v
        await driver.handle(turn, run, Input(choice=choice), pressed=pressed)


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="flow")
    r.message.register(answer, InFlow())
    r.callback_query.register(press, kb.FlowCB.filter())
    return r
