"""The main menu, /help, /menu, /bahasa and /batal."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, journeys, protection, roles
from bot import keyboards as kb
from bot.handlers import progress, tickets
from bot.handlers.common import IsCommand, pressed_message, reply, turn_for
from bot.outbox import Outbox
from bot.text import READING_LIMIT, messages, t
from flows import registry
from storage import repo
from storage.models import FlowRun, Person, Role


def help_text() -> str:
    return _(
        "<b>How to use Pulang Juragan</b>\n\n"
        "Press the buttons, or type your answer when I ask a question.\n\n"
        "/start – begin, or continue where you were\n"
        "/menu – the main menu\n"
        "/progres – where you are in each journey\n"
        "/pengingat – your reminders\n"
        "/tanya – ask a staff member of your region\n"
        "/berhenti – no more announcements (/langganan starts them again)\n"
        "/profil – see and change your profile\n"
        "/bahasa – change the language\n"
        "/batal – stop what is going on now\n"
        "/datasaya – everything we keep about you\n"
        "/hapusdata – delete your data\n"
        "/help – this help"
    )


async def help_command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    active_run: FlowRun | None = None,
    role: Role = Role.RETURNEE,
) -> None:
    """Help (with the commands of the person's role, if any), plus a button back into
    whatever the person was doing."""
    markup = None
    parts = [help_text()]
    privileged = roles.commands_for(role) if person is not None else []
    if privileged:
        parts.append(
            "<b>"
            + _("For your role")
            + "</b>\n"
            + "\n".join(f"/{command} – {t(about)}" for command, about in privileged)
        )
    if person is not None:
        run = active_run
        if run is not None:
            n, m = driver.progress(run)
            markup = kb.single(
                "▶️ "
                + t(
                    "Continue: “{title}”, step {n} of {m}",
                    title=t(registry.get(run.flow).title),
                    n=n,
                    m=m,
                ),
                kb.ResumeCB(act="continue", run=run.id),
            )
    *before, last = messages(parts, READING_LIMIT)
    for text in before:
        outbox.add(message.answer(text))
    outbox.add(message.answer(last, reply_markup=markup))


async def menu_command(message: Message, person: Person | None, outbox: Outbox) -> None:
    if person is None:
        outbox.add(message.answer(_("Please send /start to begin.")))
        return
    outbox.add(message.answer(_("What would you like to do?"), reply_markup=kb.main_menu()))


async def language_command(message: Message, outbox: Outbox) -> None:
    outbox.add(message.answer(_("Choose your language:"), reply_markup=kb.languages()))


async def language_chosen(
    callback: CallbackQuery,
    callback_data: kb.LangCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """Save the language on the profile and answer in it from now on."""
    outbox.add(callback.answer())
    if callback_data.code not in ("id", "en"):
        return
    if person is None:
        outbox.add(reply(callback, _("Please send /start to begin.")))
        return
    await repo.update_person(session, person, locale=callback_data.code)
    I18n.get_current().current_locale = callback_data.code
    pressed = pressed_message(callback)
    if pressed is not None:
        outbox.add(
            pressed.edit_text(
                _("Language: English") if callback_data.code == "en" else "Bahasa: Bahasa Indonesia"
            )
        )
    outbox.add(reply(callback, _("What would you like to do?"), reply_markup=kb.main_menu()))


async def cancel_command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    active_run: FlowRun | None = None,
) -> None:
    """Stop whatever is going on; what was entered stays."""
    run = active_run
    if person is None or run is None:
        outbox.add(message.answer(_("There is nothing to stop right now.")))
        return
    await driver.cancel(turn_for(message, session=session, person=person, outbox=outbox), run)


async def menu_item(
    callback: CallbackQuery,
    callback_data: kb.MenuCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """One entry of the main menu."""
    outbox.add(callback.answer())
    message = callback.message
    if person is None or not isinstance(message, Message):
        outbox.add(reply(callback, _("Please send /start to begin.")))
        return
    item = callback_data.item
    if item == "help":
        outbox.add(message.answer(help_text()))
    elif item == "language":
        outbox.add(message.answer(_("Choose your language:"), reply_markup=kb.languages()))
    elif item == "edit_profile":
        await driver.begin(
            turn_for(callback, session=session, person=person, outbox=outbox), "profile_edit"
        )
    elif item == "scam":
        protection.show_scam(turn_for(callback, session=session, person=person, outbox=outbox))
    elif item == "official":
        protection.show_help(turn_for(callback, session=session, person=person, outbox=outbox))
    elif item == "ask" and person.onboarded_at is None:
        outbox.add(reply(callback, _("Please send /start to begin.")))
    elif item == "ask":
        await tickets.start_asking(
            turn_for(callback, session=session, person=person, outbox=outbox)
        )
    elif item == "progress":
        await progress.show(turn_for(callback, session=session, person=person, outbox=outbox))
    elif item in journeys.ENTRIES:
        await journeys.ENTRIES[item](
            turn_for(callback, session=session, person=person, outbox=outbox, role=role)
        )
    else:
        outbox.add(message.answer(_("What would you like to do?"), reply_markup=kb.main_menu()))


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="menu")
    r.message.filter(IsCommand())
    r.message.register(help_command, Command("help", "bantuan"))
    r.message.register(menu_command, Command("menu"))
    r.message.register(language_command, Command("bahasa", "language"))
    r.callback_query.register(language_chosen, kb.LangCB.filter())
    r.message.register(cancel_command, Command("batal", "cancel"))
    r.callback_query.register(menu_item, kb.MenuCB.filter())
    return r
