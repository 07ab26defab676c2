"""Replies wait in an outbox and go out after the update's transaction commits.

They are also written, as data (`as_data`), with the update's id in that transaction, and
forgotten once sent (bot.middlewares.UpdateContext): a process killed between the commit and
the sending leaves them there, and the update, never confirmed to Telegram, comes again and
gets them sent (`from_data`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from typing import Any

import aiogram.methods
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, DeleteMessage, SendMessage, TelegramMethod
from aiogram.types import InlineKeyboardMarkup, InputFile, Message
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from storage.db import Encoded

log = logging.getLogger(__name__)
ATTEMPTS = 4  # a reply asked to wait (429) is tried at most this often
MAX_WAIT = 30  # s: a longer retry_after is not waited for inside an update
# Not stored, so never sent again: a button press's answer (the query it answers expires within
# seconds, and the spinner has long stopped by a redelivery).
NOT_REPLAYED = (AnswerCallbackQuery,)


class Outbox:
    """Telegram calls a handler wants made, in order; sent only once the data is safe."""

    def __init__(self) -> None:
        self.methods: list[TelegramMethod[Any]] = []

    def add(self, method: TelegramMethod[Any]) -> None:
        self.methods.append(method)

    def clear(self) -> None:
        self.methods.clear()

    async def flush(self, bot: Bot) -> list[Any]:
        """Make the calls in order; what each returned (None: not applied)."""
        methods, self.methods = self.methods, []
        return [await self._call(bot, method) for method in methods]

    @staticmethod
    async def _call(bot: Bot, method: TelegramMethod[Any]) -> Any:
        """One call; a 429 (many people answered in the same second) waits as long as Telegram
        asks and tries again, a server or network error once more after a moment: a reply is
        what the person is waiting for."""
        name = type(method).__name__
        troubled = False  # a server or network error was tried again already
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await bot(method)
            except TelegramRetryAfter as exc:
                if attempt == ATTEMPTS or exc.retry_after > MAX_WAIT:
                    log.warning("%s dropped: Telegram asked to wait %s s", name, exc.retry_after)
                    return None
                await asyncio.sleep(exc.retry_after)
            except TelegramBadRequest as exc:
                # e.g. "message is not modified" after a double tap: harmless, keep going.
                log.info("%s not applied: %s", name, exc.message)
                return None
            except (TelegramServerError, TelegramNetworkError) as exc:
                if troubled or attempt == ATTEMPTS:
                    log.warning("%s failed: %s", name, type(exc).__name__)
                    return None
                troubled = True
                await asyncio.sleep(0.5)
            except TelegramAPIError as exc:
                log.warning("%s failed: %s", name, exc.message)
                return None
        return None


class NotReplayable(Exception):
    """A call with a parameter JSON cannot hold (a file to upload)."""


def as_data(methods: Iterable[TelegramMethod[Any]]) -> Encoded | None:
    """The calls worth making again after a crash, as the JSON text of a list of [name,
    parameters] pairs, or None when there are none.

    Left out: a button press's answer (NOT_REPLAYED) and a call uploading a file (an export, a
    chart: its bytes are built only when sent); the text around a file is kept. Parameters are
    those not at their default, so one left to the bot's default (parse mode, link previews:
    aiogram's `Default`) stays so, and one set to None on purpose (no parse mode) stays None.
    Encoded by pydantic straight to JSON text, which the database takes as it is (measured on a
    question with a keyboard and its edit: 71 µs, against 108 µs through dicts and json.dumps
    and 209 µs by hand): it runs for every update that answers."""
    parts: list[str] = []
    for method in methods:
        if isinstance(method, NOT_REPLAYED):
            continue
        try:
            params = method.model_dump_json(exclude_defaults=True, fallback=_refuse)
        except (NotReplayable, PydanticSerializationError):
            continue
        parts.append(f'["{type(method).__name__}",{params}]')
    return Encoded(f"[{','.join(parts)}]") if parts else None


def from_data(data: Sequence[Sequence[Any]]) -> list[TelegramMethod[Any]]:
    """The calls `as_data` stored, ready to make again (one this aiogram no longer takes: left
    out, with a warning that names the method only)."""
    methods: list[TelegramMethod[Any]] = []
    for name, params in data:
        kind = getattr(aiogram.methods, str(name), None)
        if not (isinstance(kind, type) and issubclass(kind, TelegramMethod)):
            log.warning("a stored %s is not a Bot API call this aiogram knows: not sent", name)
            continue
        try:
            methods.append(kind.model_validate(params))
        except ValidationError as exc:
            log.warning("a stored %s is no longer valid (%d errors): not sent", name,
                        exc.error_count())  # fmt: skip
    return methods


def _refuse(value: Any) -> Any:
    raise NotReplayable(type(value).__name__)


Keys = tuple[tuple[tuple[str, str | None], ...], ...]
COPY_LIFE = 15 * 60.0  # s a question sent again by a replay is watched for its original


class ReplayedCopies:
    """Questions a replay sent again, remembered (in this process, for COPY_LIFE) by chat.

    A replay cannot know whether the first sending reached the person: Telegram may have taken
    it the moment before the process died. When the person then presses a button on another
    message with the very same buttons (the original), they had it: the copy, further down and
    asking what they have just answered, would be a question that leads nowhere, so it is
    deleted before the press is answered. A press on the copy itself keeps it (the original is
    then the older one, above it, and says "That button is from an earlier question")."""

    def __init__(self) -> None:
        self._by_chat: dict[int, list[tuple[float, int, Keys]]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_chat)

    def add(self, methods: Sequence[TelegramMethod[Any]], results: Sequence[Any]) -> None:
        """Remember the questions among these replayed calls (with what they returned)."""
        now = time.monotonic()
        for method, result in zip(methods, results, strict=False):
            markup = getattr(method, "reply_markup", None)
            if not (isinstance(method, SendMessage) and isinstance(result, Message)):
                continue
            if isinstance(markup, InlineKeyboardMarkup) and markup.inline_keyboard:
                entry = (now, result.message_id, _keys(markup))
                self._by_chat.setdefault(result.chat.id, []).append(entry)
        for chat_id in [c for c, kept in self._by_chat.items() if now - kept[0][0] > COPY_LIFE]:
            kept = [e for e in self._by_chat[chat_id] if now - e[0] <= COPY_LIFE]
            if kept:
                self._by_chat[chat_id] = kept
            else:
                del self._by_chat[chat_id]

    def redundant(self, update: Any) -> list[TelegramMethod[Any]]:
        """Deletions of the copies this update shows to be redundant (a press on their
        original); a press on a copy stops watching it."""
        query = update.callback_query
        message = query.message if query is not None else None
        if message is None or (kept := self._by_chat.get(message.chat.id)) is None:
            return []
        markup = getattr(message, "reply_markup", None)
        pressed = _keys(markup) if isinstance(markup, InlineKeyboardMarkup) else None
        now, deletions, left = time.monotonic(), [], []
        for entry in kept:
            at, message_id, keys = entry
            if message_id == message.message_id or now - at > COPY_LIFE:
                continue
            if keys == pressed:
                deletions.append(DeleteMessage(chat_id=message.chat.id, message_id=message_id))
            else:
                left.append(entry)
        if left:
            self._by_chat[message.chat.id] = left
        else:
            del self._by_chat[message.chat.id]
        return deletions


def _keys(markup: InlineKeyboardMarkup) -> Keys:
    return tuple(tuple((b.text, b.callback_data) for b in row) for row in markup.inline_keyboard)


class BuiltFile(InputFile):
    """A file (a document, a photo) built when it is uploaded, in a worker thread.

    The outbox sends after the update's transaction commits, so slow work (10,000 rows of
    XLSX take seconds, a chart a few hundred ms) never holds the transaction open: on SQLite
    that is the one writer every other update waits for. The build runs outside the update's
    i18n context: it must set its own language. Built once; `content()` gives the bytes (tests read them).
    """

    def __init__(self, build: Callable[[], bytes], filename: str) -> None:
        super().__init__(filename=filename)
        self._build: Callable[[], bytes] | None = build
        self._data: bytes | None = None

    async def content(self) -> bytes:
        if self._data is None:
            assert self._build is not None
            self._data = await asyncio.to_thread(self._build)
            self._build = None  # the rows are no longer needed
        return self._data

    async def read(self, bot: Bot) -> AsyncGenerator[bytes, None]:
        data = await self.content()
        for start in range(0, len(data), self.chunk_size):
            yield data[start : start + self.chunk_size]
