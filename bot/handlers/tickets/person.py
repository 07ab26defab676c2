"""Tanya petugas (the help desk), the returnee's side.

A returnee presses "Ask a staff member" (the menu, /tanya, "I did not understand", the
progress page) and types a question or sends a voice note: it becomes a ticket for the staff
of their region (operations/tickets.py). Until it is closed, whatever they type outside a flow
goes to the same ticket (`FollowUp`). Answers come as messages naming the ticket's number; a
closed ticket asks for a 👍 or 👎.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers.common import needs_profile, pressed_message, turn_for
from bot.handlers.tickets.common import REFUSED, WAIT
from bot.keyboards import AskCB
from bot.notices import renders
from bot.outbox import Outbox
from bot.text import t
from flows import clock
from operations import desk as outbox_rows
from operations import tickets as ops
from storage import repo
from storage import tickets as store
from storage.models import Person

log = logging.getLogger(__name__)
THUMBS = {"up": 5, "down": 1}


def ask_button() -> tuple[str, CallbackData]:
    return "🙋 " + _("Ask a staff member"), AskCB(act="ask")


def _menu_button() -> tuple[str, CallbackData]:
    return "🏠 " + _("Menu"), kb.MenuCB(item="menu")


async def start_asking(turn: Turn) -> None:
    """What the Ask button, /tanya and the menu entry open: the next message is the question."""
    now = clock.now()
    await store.set_wait(
        turn.session, person_id=turn.person.id, kind="ask", ticket_id=None, until=now + WAIT
    )
    found = await store.open_of(turn.session, person_id=turn.person.id)
    if found is not None:
        text = t(
            "Your question #{n} is still open. Type what you want to add, or send a voice "
            "note: it goes to the same question.",
            n=found.id,
        )
    else:
        text = _(
            "Type your question in your own words, or send a voice note. A staff member of "
            "your region will answer here, usually within one working day."
        )
    turn.say(text, kb.single("✖️ " + _("Cancel"), AskCB(act="stop")))


async def ask_command(
    message: Message, session: AsyncSession, person: Person | None, outbox: Outbox
) -> None:
    """/tanya: ask a staff member."""
    if person is None or person.onboarded_at is None:
        outbox.add(message.answer(_("Please send /start to begin.")))
        return
    await start_asking(turn_for(message, session=session, person=person, outbox=outbox))


async def ask_pressed(
    callback: CallbackQuery, session: AsyncSession, person: Person | None, outbox: Outbox
) -> None:
    """The Ask button (menu, "I did not understand", progress, a closed ticket)."""
    if needs_profile(callback, person, outbox):
        return
    assert person is not None
    outbox.add(callback.answer())
    await start_asking(turn_for(callback, session=session, person=person, outbox=outbox))


async def rate_pressed(
    callback: CallbackQuery,
    callback_data: AskCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """👍 or 👎 under a closed ticket: only its own person's press counts."""
    if person is None:
        outbox.add(callback.answer(_("Please send /start to begin."), show_alert=True))
        return
    done = await ops.rate(
        session,
        ticket_id=callback_data.id,
        person_id=person.id,
        rating=callback_data.v,
        now=clock.now(),
    )
    if not done.ok:
        log.info("rating refused: %s", done.refused)
        outbox.add(callback.answer(_("This button no longer works. Send /menu to see the menu.")))
        return
    outbox.add(callback.answer(_("Thank you for your answer!")))
    message = pressed_message(callback)
    if message is not None:
        outbox.add(message.edit_reply_markup(reply_markup=None))


def _voice(message: Message) -> tuple[str, int] | None:
    if message.voice is not None:
        return message.voice.file_id, int(message.voice.duration or 0)
    return None


async def send_question(turn: Turn, message: Message) -> bool:
    """The message as a question (or its next part); False when it was not one (told why)."""
    voice = _voice(message)
    text = message.text if voice is None else message.caption
    if voice is None and message.text is None:
        turn.say(
            _(
                "I can pass on typed text or a voice note only, not stickers, photos or files. "
                "Please type your question, or record a voice note."
            )
        )
        return False
    done = await ops.ask(
        turn.session,
        person=turn.person,
        text=text,
        voice=voice[0] if voice else None,
        voice_seconds=voice[1] if voice else None,
        now=clock.now(),
    )
    if not done.ok:
        turn.say(t(REFUSED.get(done.refused or "", REFUSED["empty"]), n=ops.QUESTION_MAX))
        return False
    await outbox_rows.queue_notices(turn.session, done.notices, now=clock.now())
    [number] = done.changed[ops.TICKET]
    if ops.OPENED in done.changed:
        said = t(
            "✅ Sent to the office as question #{n}. The answer will come here. To add "
            "something, just type it.",
            n=number,
        )
    else:
        said = t("✅ Added to your question #{n}.", n=number)
    turn.say(said, kb.buttons_column([_menu_button()]))
    return True


class FollowUp(Filter):
    """Text or a voice note outside a flow from someone with an open ticket (hands on
    `ticket_id`); a voice note without one too (`ticket_id` None)."""

    async def __call__(
        self, message: Message, session: AsyncSession | None = None, person: Person | None = None
    ) -> bool | dict[str, Any]:
        if person is None or session is None or person.onboarded_at is None:
            return False
        if message.text is not None and message.text.startswith("/"):
            return False
        state = repo.desk_state(person)  # read with the person: no query of its own
        if state is None:
            found = await store.open_of(session, person_id=person.id)
            ticket_id = found.id if found is not None else None
        else:
            ticket_id = state.open_ticket_id
        if ticket_id is not None or message.voice is not None:
            return {"ticket_id": ticket_id}
        return False


async def follow_up(
    message: Message,
    ticket_id: int | None,
    session: AsyncSession,
    person: Person,
    outbox: Outbox,
) -> None:
    """The next message of an open ticket; a voice note with none: how to send it to staff."""
    turn = turn_for(message, session=session, person=person, outbox=outbox)
    if ticket_id is None:
        turn.say(
            _(
                "I cannot listen to voice notes myself, but the staff can. Press the button, "
                "then send your voice note again."
            ),
            kb.buttons_column([ask_button(), _menu_button()]),
        )
        return
    await send_question(turn, message)


# --- notices ------------------------------------------------------------------------------------


@renders("tickets.reply")
async def _reply_notice(session: AsyncSession, person: Person, args: dict[str, Any]) -> Any:
    message = await store.message(session, int(args["said"]))
    if message is None or not message.text:
        return None  # deleted since
    text = (
        t("💬 An answer to your question #{n}:", n=int(args["ticket"]))
        + "\n\n"
        + html.escape(message.text)
        + "\n\n"
        + _("To write back, just type your message here.")
    )
    return text, None


@renders("tickets.closed")
async def _closed_notice(session: AsyncSession, person: Person, args: dict[str, Any]) -> Any:
    n = int(args["ticket"])
    text = t("✅ Your question #{n} is closed. Was the answer helpful?", n=n)
    markup = kb.buttons_grid(
        [
            ("👍", AskCB(act="rate", id=n, v=THUMBS["up"])),
            ("👎", AskCB(act="rate", id=n, v=THUMBS["down"])),
        ]
    )
    return text, markup
