"""`juragan chat`: talk to the real dispatcher in a terminal, with no token and no network."""

from __future__ import annotations

import asyncio
import html
import re
import sys
from typing import Any, TextIO

from aiogram.methods import TelegramMethod
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.app import OFFLINE_TOKEN, build_app
from bot.config import Settings
from bot.offline import OfflineChat, OfflineSession
from storage.models import Person, Role

HELP = (
    "Type as you would in Telegram. A number presses the button shown as [n]; "
    "'/contact' shares your phone number (or '/contact +62812...'); "
    "'/location' sends a place (Surabaya); "
    "'/sticker' sends a sticker; '/quit' leaves."
)
TAG = re.compile(r"<[^>]+>")
SURABAYA = (-7.2575, 112.7521)


def plain(text: str) -> str:
    """Telegram HTML as a terminal shows it: tags dropped, entities unescaped."""
    return html.unescape(TAG.sub("", text))


class Console:
    """Prints what the bot sends and numbers its buttons; reads a person's input."""

    def __init__(self, chat: OfflineChat, out: TextIO) -> None:
        self.chat, self.out = chat, out
        self.buttons: list[tuple[str, str, Any]] = []  # (kind, text, payload)
        self.fresh = True  # the next buttons start at [1]: a new reply to a new input
        chat.session.listeners.append(self.show)

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def show(self, method: TelegramMethod[Any], result: Any) -> None:
        if getattr(method, "chat_id", self.chat.user.id) != self.chat.user.id:
            return
        name = type(method).__name__
        if name == "AnswerCallbackQuery":
            if getattr(method, "text", None):
                self.print(f"  (!) {plain(method.text)}")  # type: ignore[attr-defined]
            return
        if name not in ("SendMessage", "EditMessageText", "SendDocument", "SendPhoto"):
            return
        text = getattr(method, "text", None) or getattr(method, "caption", None) or ""
        prefix = "bot (edited)" if name == "EditMessageText" else "bot"
        self.print(f"\n{prefix}: " + plain(text).replace("\n", "\n     "))
        markup = getattr(method, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            self._number(
                [
                    ("inline", b.text, (b.callback_data, result))
                    for row in markup.inline_keyboard
                    for b in row
                ]
            )
        elif isinstance(markup, ReplyKeyboardMarkup):
            self._number(
                [
                    (
                        "contact"
                        if b.request_contact
                        else "location"
                        if b.request_location
                        else "reply",
                        b.text,
                        (b.text, None),
                    )
                    for row in markup.keyboard
                    for b in row
                ]
            )

    def _number(self, buttons: list[tuple[str, str, Any]]) -> None:
        """Number buttons on from the last message of the same reply, so every keyboard the bot
        just sent stays pressable (a question above the menu, say)."""
        if self.fresh:
            self.buttons, self.fresh = [], False
        first = len(self.buttons) + 1
        self.buttons = self.buttons + buttons
        line = "  ".join(f"[{i}] {text}" for i, (_kind, text, _p) in enumerate(buttons, first))
        self.print("     " + line)

    async def handle(self, line: str) -> bool:
        """One line of input; False to stop."""
        line = line.rstrip("\n")
        if line.strip() in ("/quit", "/exit"):
            return False
        self.fresh = True
        if line.strip().isdigit() and 1 <= int(line.strip()) <= len(self.buttons):
            kind, text, (payload, message) = self.buttons[int(line.strip()) - 1]
            self.print(f"you: [{text}]")
            if kind == "inline":
                await self.chat.press_data(payload, message)
            elif kind == "contact":
                await self.chat.share_contact("+6281234567890")
            elif kind == "location":
                await self.chat.share_location(*SURABAYA)
            else:
                await self.chat.send(text)
            return True
        if line.startswith("/contact"):
            number = line.removeprefix("/contact").strip() or "+6281234567890"
            await self.chat.share_contact(number)
        elif line.strip() == "/location":
            await self.chat.share_location(*SURABAYA)
        elif line.strip() == "/sticker":
            await self.chat.sticker()
        else:
            await self.chat.send(line)
        return True


async def _set_role(app: Any, user_id: int, role: str | None) -> None:
    """`--as staff` etc.: give the console person a role (they must have consented first)."""
    if not role:
        return
    from sqlalchemy import update

    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Person).where(Person.telegram_id == user_id).values(role=Role(role).value)
        )


async def run_console(
    settings: Settings,
    *,
    user_id: int,
    role: str | None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    # One local person typing (or a piped script): flood control would only get in the way.
    settings = settings.model_copy(update={"flood_limit": 1_000_000})
    if role == "admin":
        settings = settings.model_copy(
            update={"admin_ids": frozenset({*settings.admin_ids, user_id})}
        )
    session = OfflineSession()
    app = build_app(settings, session=session, token=OFFLINE_TOKEN)
    chat = OfflineChat(
        app.bot, app.dp, session, user_id, first_name="Siti", language_code=settings.default_locale
    )
    console = Console(chat, stdout)
    interactive = stdin.isatty()
    console.print("Pulang Juragan, offline console. " + HELP)
    staff_role = role if role in ("staff", "coordinator") else None
    await _set_role(app, user_id, staff_role)
    try:
        if interactive:
            await console.handle("/start")
        while True:
            if interactive:
                stdout.write("\nyou> ")
                stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            if not interactive and line.strip():
                console.print(f"\nyou> {line.strip()}")
            if line.strip() and not await console.handle(line):
                break
            await app.sender.drain()  # an announcement sent here goes out (to the sample people)
            await _set_role(app, user_id, staff_role)
    finally:
        await app.close()
