"""/pengingat: the person's upcoming reminders, and nudges turned off or on."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers.common import IsCommand, pressed_message, turn_for
from bot.outbox import Outbox
from bot.reminders import RemindersCB, zone_of
from bot.text import moment, t
from flows import reminders as rules
from flows.i18n import N_
from storage import reminders as store
from storage import repo
from storage.models import Person

WHAT = {
    rules.TRAINING_DAY_BEFORE.key: N_("Training tomorrow"),
    rules.TRAINING_SOON.key: N_("Training in two hours"),
    rules.MEETING_3_DAYS.key: N_("Founding meeting in three days"),
    rules.MEETING_1_DAY.key: N_("Founding meeting tomorrow"),
    rules.BANK_DAY_BEFORE.key: N_("Bank visit tomorrow"),
    rules.DOCUMENTS_OPEN.key: N_("KUR documents still to get ready"),
    rules.NUDGE.key: N_("A nudge to go on where you stopped"),
}


async def page(turn: Turn) -> tuple[str, InlineKeyboardMarkup]:
    person = turn.person
    tz = zone_of(person.province_code)
    upcoming = await store.upcoming(turn.session, person_id=person.id)
    parts = ["🔔 <b>" + _("Your reminders") + "</b>"]
    if upcoming:
        parts.append(
            "\n".join(f"• {moment(r.due_at, tz)}: {t(WHAT.get(r.kind, r.kind))}" for r in upcoming)
        )
    else:
        parts.append(_("No reminders are waiting. They come when you set a date in a journey."))
    parts.append(
        _("Nothing is sent at night: a reminder due between 21.00 and 07.00 comes at 07.00.")
    )
    if person.nudges:
        parts.append(
            _(
                "Nudges are on: if you leave a journey halfway, I remind you after a few days "
                "(at most three times)."
            )
        )
        toggle = ("🔕 " + _("Turn nudges off"), RemindersCB(act="off"))
    else:
        parts.append(_("Nudges are off. Reminders of your dates still come."))
        toggle = ("🔔 " + _("Turn nudges on"), RemindersCB(act="on"))
    markup = kb.buttons_column([toggle, ("🏠 " + _("Main menu"), kb.MenuCB(item="menu"))])
    return "\n\n".join(parts), markup


async def reminders_command(
    message: Message, session: AsyncSession, person: Person | None, outbox: Outbox
) -> None:
    if person is None:
        outbox.add(message.answer(_("Please send /start to begin.")))
        return
    turn = turn_for(message, session=session, person=person, outbox=outbox)
    turn.say(*await page(turn))


async def toggled(
    callback: CallbackQuery,
    callback_data: RemindersCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """Nudges off (pending ones cancelled at once) or on; a double tap is the same."""
    if person is None or callback_data.act not in ("off", "on"):
        outbox.add(callback.answer(_("Please send /start to begin.")))
        return
    wanted = callback_data.act == "on"
    if person.nudges != wanted:
        await repo.update_person(session, person, nudges=wanted)
        if not wanted:
            await store.cancel_for_person(session, person_id=person.id, kind=rules.NUDGE.key)
    outbox.add(
        callback.answer(
            _("Nudges are on.")
            if wanted
            else _("Nudges are off. You can turn them on in /pengingat.")
        )
    )
    turn = turn_for(callback, session=session, person=person, outbox=outbox)
    text, markup = await page(turn)
    turn.put(text, markup, pressed_message(callback))


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="reminders")
    r.message.register(reminders_command, IsCommand(), Command("pengingat", "reminders"))
    r.callback_query.register(toggled, RemindersCB.filter())
    return r
