"""An in-process Bot API: the real dispatcher and bot, no network.

`OfflineSession` answers the bot's calls the way Telegram would and remembers what was
sent; `OfflineChat` plays a person (typing, pressing buttons, sharing a contact) by
feeding real `Update`s to the dispatcher. The console chat and the fast tests use both.
"""

from __future__ import annotations

import inspect
import itertools
import time
import typing
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    InlineKeyboardMarkup,
    Location,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Sticker,
    Update,
    User,
)


class Strictness(typing.Protocol):
    """Rules that refuse what Telegram refuses (tests/support/strict_api.py has them)."""

    def check(self, bot: Bot, method: TelegramMethod[Any]) -> str | None:
        """Telegram's description of why it refuses this call, or None to accept it."""

    def sent(self, method: TelegramMethod[Any], result: Any, bot: Bot) -> None:
        """Told what an accepted call returned (what a message holds, for later edits)."""


BOT_USER = User(id=1, is_bot=True, first_name="Pulang Juragan", username="pulang_juragan_bot")


class OfflineSession(BaseSession):
    """Answers every Bot API method in memory and records it. With `strict`, a call Telegram
    would refuse raises TelegramBadRequest with Telegram's description, as over the network."""

    def __init__(self, *, strict: Strictness | None = None) -> None:
        super().__init__()
        self.strict = strict
        self.calls: list[TelegramMethod[Any]] = []
        self.messages: dict[tuple[int, int], Message] = {}
        self.left: set[int] = set()  # chats the bot left
        self.listeners: list[Callable[[TelegramMethod[Any], Any], None | Awaitable[None]]] = []
        self._ids = itertools.count(1)

    async def close(self) -> None:
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        self.calls.append(method)
        if self.strict is not None:
            refusal = self.strict.check(bot, method)
            if refusal is not None:
                raise TelegramBadRequest(method=method, message=refusal)
        result = self._result(bot, method)
        if self.strict is not None:
            self.strict.sent(method, result, bot)
        for listener in self.listeners:
            heard = listener(method, result)
            if inspect.isawaitable(heard):  # e.g. the console saving a file it was sent
                await heard
        return result

    def _result(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        name = type(method).__name__
        if name == "GetMe":
            return BOT_USER
        chat_id = getattr(method, "chat_id", None)
        if name == "LeaveChat":  # the bot leaves a group or channel it was added to
            self.left.add(int(chat_id))
            return True
        if name in ("SendMessage", "SendPhoto", "SendDocument"):
            message = Message(
                message_id=next(self._ids),
                date=datetime.now(UTC),
                chat=Chat(id=int(chat_id), type="private"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
                caption=getattr(method, "caption", None),
                reply_markup=_inline(getattr(method, "reply_markup", None)),
            )
            self.messages[(int(chat_id), message.message_id)] = message
            return message.as_(bot)
        if name in ("EditMessageText", "EditMessageReplyMarkup"):
            key = (int(chat_id), int(method.message_id))  # type: ignore[attr-defined]
            old = self.messages.get(key)
            if old is None:
                return True
            changes: dict[str, Any] = {"reply_markup": _inline(method.reply_markup)}  # type: ignore[attr-defined]
            if name == "EditMessageText":
                changes["text"] = method.text  # type: ignore[attr-defined]
            self.messages[key] = old.model_copy(update=changes)
            return self.messages[key].as_(bot)
        returning = getattr(method, "__returning__", bool)
        if typing.get_origin(returning) is list:
            return []
        return True


def _inline(markup: Any) -> InlineKeyboardMarkup | None:
    return markup if isinstance(markup, InlineKeyboardMarkup) else None


class OfflineChat:
    """One person talking to the bot through the real dispatcher."""

    _update_ids = itertools.count(int(time.time() * 1000))

    def __init__(
        self,
        bot: Bot,
        dp: Dispatcher,
        session: OfflineSession,
        user_id: int,
        *,
        first_name: str = "Siti",
        language_code: str | None = "id",
    ) -> None:
        self.bot, self.dp, self.session = bot, dp, session
        self.user = User(
            id=user_id, is_bot=False, first_name=first_name, language_code=language_code
        )
        self.chat = Chat(id=user_id, type="private", first_name=first_name)
        self.reply_keyboard: ReplyKeyboardMarkup | None = None
        self.reply_is_newest = False  # the newest keyboard the person got is a reply keyboard
        self._callbacks: set[str] = set()
        self._message_ids = itertools.count(1)
        self._seen = 0
        session.listeners.append(self._track_reply_keyboard)

    def _track_reply_keyboard(self, method: TelegramMethod[Any], _result: Any) -> None:
        if getattr(method, "chat_id", None) != self.user.id:
            return
        markup = getattr(method, "reply_markup", None)
        if isinstance(markup, ReplyKeyboardMarkup):
            self.reply_keyboard, self.reply_is_newest = markup, True
        elif isinstance(markup, ReplyKeyboardRemove):
            self.reply_keyboard, self.reply_is_newest = None, False
        elif isinstance(markup, InlineKeyboardMarkup) and type(method).__name__ == "SendMessage":
            self.reply_is_newest = False

    def _message(self, **fields: Any) -> Message:
        return Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            **fields,
        )

    async def feed(self, **update: Any) -> list[TelegramMethod[Any]]:
        """Feed one update; return what the bot did in reply."""
        upd = Update(update_id=next(self._update_ids), **update)
        return await self.feed_update(upd)

    async def feed_update(self, update: Update) -> list[TelegramMethod[Any]]:
        await self.dp.feed_update(self.bot, update)
        return self.replies()

    def replies(self) -> list[TelegramMethod[Any]]:
        """Calls made in this chat (and answers to its button presses) since the last look."""
        mine = [
            c
            for c in self.session.calls
            if getattr(c, "chat_id", None) == self.user.id
            or getattr(c, "callback_query_id", None) in self._callbacks
        ]
        new, self._seen = mine[self._seen :], len(mine)
        return new

    async def send(self, text: str) -> list[TelegramMethod[Any]]:
        entities = None
        if text.startswith("/"):
            length = len(text.split()[0])
            entities = [MessageEntity(type="bot_command", offset=0, length=length)]
        return await self.feed(message=self._message(text=text, entities=entities))

    async def share_contact(self, phone: str, *, own: bool = True) -> list[TelegramMethod[Any]]:
        contact = Contact(
            phone_number=phone,
            first_name=self.user.first_name,
            user_id=self.user.id if own else self.user.id + 1,
        )
        return await self.feed(message=self._message(contact=contact))

    async def share_location(self, latitude: float, longitude: float) -> list[TelegramMethod[Any]]:
        location = Location(latitude=latitude, longitude=longitude)
        return await self.feed(message=self._message(location=location))

    async def sticker(self) -> list[TelegramMethod[Any]]:
        sticker = Sticker(
            file_id="CAACAgIAAxk",
            file_unique_id="AgAD",
            type="regular",
            width=512,
            height=512,
            is_animated=False,
            is_video=False,
        )
        return await self.feed(message=self._message(sticker=sticker))

    def last_keyboard_message(self) -> Message | None:
        """The newest message in this chat that still has inline buttons."""
        mine = [m for (chat, _), m in self.session.messages.items() if chat == self.user.id]
        for message in sorted(mine, key=lambda m: m.message_id, reverse=True):
            if message.reply_markup and message.reply_markup.inline_keyboard:
                return message
        return None

    async def press(
        self, text: str, *, message: Message | None = None, exact: bool = False
    ) -> list[TelegramMethod[Any]]:
        """Press the button whose text contains `text`: inline on the newest keyboard, or reply."""
        if self.reply_keyboard is not None and self.reply_is_newest and message is None:
            for krow in self.reply_keyboard.keyboard:
                for kbutton in krow:
                    if text in kbutton.text and not kbutton.request_contact:
                        return await self.send(kbutton.text)
        message = message or self.last_keyboard_message()
        if message is not None and message.reply_markup:
            for row in message.reply_markup.inline_keyboard:
                for button in row:
                    if (button.text == text) if exact else (text in button.text):
                        return await self.press_data(button.callback_data or "", message)
        if self.reply_keyboard is not None:
            for krow in self.reply_keyboard.keyboard:
                for kbutton in krow:
                    if text in kbutton.text:
                        if kbutton.request_contact:
                            raise AssertionError("use share_contact() for a contact button")
                        return await self.send(kbutton.text)
        raise AssertionError(f"no button {text!r} on the latest keyboard")

    async def choose(self, value: str) -> list[TelegramMethod[Any]]:
        """Press the option button whose callback data ends in this value (language-neutral)."""
        message = self.last_keyboard_message()
        if message is not None and message.reply_markup:
            for row in message.reply_markup.inline_keyboard:
                for button in row:
                    if (button.callback_data or "").endswith(f":{value}"):
                        return await self.press_data(button.callback_data or "", message)
        raise AssertionError(f"no option {value!r} on the latest keyboard")

    async def press_data(
        self, data: str, message: Message | None = None
    ) -> list[TelegramMethod[Any]]:
        """Send a callback with any data (also forged data) from the given message."""
        message = message or self.last_keyboard_message() or self._message(text="?")
        callback_id = str(next(self._update_ids))
        self._callbacks.add(callback_id)
        callback = CallbackQuery(
            id=callback_id, from_user=self.user, chat_instance="offline", data=data, message=message
        )
        return await self.feed(callback_query=callback)

    def buttons(self) -> list[str]:
        """Texts of the buttons a person sees now: the newest inline keyboard, then the reply one."""
        found: list[str] = []
        message = self.last_keyboard_message()
        if message is not None and message.reply_markup:
            found += [b.text for row in message.reply_markup.inline_keyboard for b in row]
        if self.reply_keyboard is not None:
            found += [b.text for row in self.reply_keyboard.keyboard for b in row]
        return found
