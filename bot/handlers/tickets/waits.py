"""What the bot waits for: after "Ask a staff member" the person's next message is their
question; after "Reply" on /tiket the staff member's next message is the reply. Either holds
for `WAIT`, and Cancel stops it. Its router comes before the flow router, so the waited message
is taken even mid-flow.
"""

from __future__ import annotations

from typing import Any

from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.handlers.common import pressed_message, reply, turn_for
from bot.handlers.tickets import person as asking
from bot.handlers.tickets import staff as answering
from bot.outbox import Outbox
from flows import clock
from storage import repo
from storage import tickets as store
from storage.models import Person, Role, TicketWait


class Waiting(Filter):
    """A message while the bot waits for this person's question or reply: hands on `wait`."""

    async def __call__(
        self, message: Message, session: AsyncSession | None = None, person: Person | None = None
    ) -> bool | dict[str, Any]:
        if person is None or session is None:
            return False
        now = clock.now()
        state = repo.desk_state(person)  # read with the person: no query of its own
        if state is None:
            wait = await store.wait_of(session, person_id=person.id, now=now)
        else:
            wait = state.wait if state.wait is not None and state.wait.until > now else None
        return {"wait": wait} if wait is not None else False


async def waited(
    message: Message,
    wait: TicketWait,
    session: AsyncSession,
    person: Person,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """The question after "Ask", or the reply after "Reply". A command keeps its meaning and
    the waiting stops (/batal: only the waiting)."""
    turn = turn_for(message, session=session, person=person, outbox=outbox, role=role)
    if message.text and message.text.startswith("/"):
        await store.clear_wait(session, person_id=person.id)
        command = (
            message.text[1:].split(maxsplit=1)[0].split("@")[0].lower() if message.text[1:] else ""
        )
        if command in ("batal", "cancel"):
            turn.say(_("Stopped. Nothing was sent."))
            return
        raise SkipHandler
    if wait.kind == "reply":
        await answering.send_reply(turn, message, wait)
        return
    if await asking.send_question(turn, message):
        await store.clear_wait(session, person_id=person.id)


async def stop_pressed(
    callback: CallbackQuery, session: AsyncSession, person: Person | None, outbox: Outbox
) -> None:
    """Cancel under "Type your question" (or a staff member's "Type your reply"): nothing is
    sent."""
    outbox.add(callback.answer())
    if person is None:
        return
    await store.clear_wait(session, person_id=person.id)
    message = pressed_message(callback)
    if message is not None:
        outbox.add(message.edit_reply_markup(reply_markup=None))
    outbox.add(reply(callback, _("Stopped. Nothing was sent."), reply_markup=kb.main_menu()))
