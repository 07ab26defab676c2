"""/meja: a one-time link that signs a staff member, coordinator or admin in to the staff desk
in their browser (single use, 10 minutes, bound to them); /keluar: end every desk session.

When DESK_URL is https, the chat's menu button of someone with a role opens the desk as a
Telegram Mini App (desk/miniapp.py checks its init data): set by /meja and when a role is
given, put back to Telegram's default when it is taken away."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.methods import SetChatMenuButton
from aiogram.types import (
    LinkPreviewOptions,
    MenuButtonDefault,
    MenuButtonWebApp,
    Message,
    WebAppInfo,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import roles
from bot.config import Settings
from bot.outbox import Outbox
from flows import clock
from operations import desk
from storage.models import Person, Role

SIGN_IN_PATH = "masuk/"  # under DESK_URL: the page that spends the link
MINI_APP_PATH = "app"  # under DESK_URL: the page a Mini App opens (desk/miniapp.py)


def link(settings: Settings, token: str) -> str:
    return settings.desk_url + SIGN_IN_PATH + token


def menu_button(
    settings: Settings, chat_id: int, role: Role | str | None, label: str = ""
) -> SetChatMenuButton | None:
    """The call that makes this chat's menu button open the desk as a Mini App (a role that may
    use the desk) or Telegram's default again (any other); None when DESK_URL is not https
    (Telegram opens Mini Apps over https only)."""
    if not settings.desk_secure:
        return None
    if roles.can(role, "desk"):
        button: MenuButtonWebApp | MenuButtonDefault = MenuButtonWebApp(
            text=label or _("Staff desk"),
            web_app=WebAppInfo(url=settings.desk_url + MINI_APP_PATH),
        )
    else:
        button = MenuButtonDefault()
    return SetChatMenuButton(chat_id=chat_id, menu_button=button)


async def meja(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    settings: Settings,
    role: Role = Role.RETURNEE,
) -> None:
    """A sign-in link for someone with a role; a polite refusal for everyone else."""
    if not roles.gate(outbox, "desk", person, role, message=message):
        if (reset := menu_button(settings, message.chat.id, role)) is not None:
            outbox.add(reset)  # a role taken away elsewhere: the desk's button goes too
        return
    assert person is not None
    if not settings.desk_url:
        outbox.add(message.answer(_("The staff desk is not set up on this server yet.")))
        return
    token = await desk.issue_link(session, person_id=person.id, now=clock.now())
    text = "\n".join(
        [
            "🖥 " + _("Your sign-in link to the staff desk:"),
            html.escape(link(settings, token)),
            "",
            _(
                "Open it in your browser within 10 minutes; it works once and only for you. "
                "Do not forward it. Send /keluar to sign out everywhere."
            ),
        ]
    )
    outbox.add(message.answer(text, link_preview_options=LinkPreviewOptions(is_disabled=True)))
    if (button := menu_button(settings, message.chat.id, role)) is not None:
        outbox.add(button)


async def keluar(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """End every desk session of this person (anyone may ask; nothing open: said so)."""
    ended = await desk.sign_out(session, person_id=person.id, now=clock.now()) if person else 0
    if ended:
        outbox.add(message.answer(_("You are signed out of the staff desk everywhere.")))
    else:
        outbox.add(message.answer(_("You were not signed in to the staff desk.")))


def router() -> Router:
    r = Router(name="desk")
    r.message.register(meja, Command("meja", "desk"))
    r.message.register(keluar, Command("keluar"))
    return r
