"""Replies wait in an outbox and go out after the update's transaction commits.

The replies are also written, as data, with the update's id in that transaction
(`processed_updates.replies`, see bot.middlewares.UpdateContext), and forgotten once they were
sent, before the update is confirmed to Telegram (`StoredReplies`, called by bot.polling and
bot.web). A process that dies between the commit and the send leaves them there; Telegram,
never told the update was done, delivers it again, and the replies are sent then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Collection
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
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.types import InputFile
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.db import Transactions

log = logging.getLogger(__name__)
ATTEMPTS = 4  # a reply asked to wait (429) is tried at most this often
MAX_WAIT = 30  # s: a longer retry_after is not waited for inside an update
# Not stored, so never sent again: a button press's answer (the query it answers expires within
# seconds, and the press's spinner has long stopped by a redelivery).
NOT_REPLAYED = (AnswerCallbackQuery,)


class NotReplayable(Exception):
    """A call whose parameters cannot be stored as data."""


def _refuse(value: Any) -> Any:
    """pydantic's fallback for what JSON cannot hold: an InputFile (an export or a chart, a
    BuiltFile built only when it is uploaded, or a CSV's bytes) is not stored: a redelivered
    update's file is lost, as before; its caption or the message around it is not."""
    raise NotReplayable(type(value).__name__)


def as_data(methods: Collection[TelegramMethod[Any]]) -> list[list[Any]]:
    """The calls worth making again after a crash, as JSON-ready [name, parameters] pairs.

    Parameters are pydantic's dump of the method without those at their default, so a
    parameter left to the bot's default (parse_mode, link previews: aiogram's `Default`) stays
    so, and one set to None on purpose (no parse mode) stays None."""
    data: list[list[Any]] = []
    for method in methods:
        if isinstance(method, NOT_REPLAYED):
            continue
        try:
            params = method.model_dump(mode="json", exclude_defaults=True, fallback=_refuse)
        except (NotReplayable, PydanticSerializationError):
            continue
        data.append([type(method).__name__, params])
    return data


def from_data(data: list[list[Any]]) -> list[TelegramMethod[Any]]:
    """The calls `as_data` stored, made again (any this aiogram no longer knows: left out)."""
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


class Outbox:
    """Telegram calls a handler wants made, in order; sent only once the data is safe.

    `kept`: the calls are also stored with the update (bot.middlewares), and must be forgotten
    once sent (`StoredReplies`)."""

    def __init__(self) -> None:
        self.methods: list[TelegramMethod[Any]] = []
        self.kept = False

    def add(self, method: TelegramMethod[Any]) -> None:
        self.methods.append(method)

    def clear(self) -> None:
        self.methods.clear()
        self.kept = False

    async def flush(self, bot: Bot) -> None:
        methods, self.methods = self.methods, []
        for method in methods:
            await self._call(bot, method)

    @staticmethod
    async def _call(bot: Bot, method: TelegramMethod[Any]) -> None:
        """One call; a 429 (many people answered in the same second) waits as long as Telegram
        asks and tries again, a server or network error once more after a moment: a reply is
        what the person is waiting for."""
        name = type(method).__name__
        troubled = False  # a server or network error was tried again already
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await bot(method)
                return
            except TelegramRetryAfter as exc:
                if attempt == ATTEMPTS or exc.retry_after > MAX_WAIT:
                    log.warning("%s dropped: Telegram asked to wait %s s", name, exc.retry_after)
                    return
                await asyncio.sleep(exc.retry_after)
            except TelegramBadRequest as exc:
                # e.g. "message is not modified" after a double tap: harmless, keep going.
                log.info("%s not applied: %s", name, exc.message)
                return
            except (TelegramServerError, TelegramNetworkError) as exc:
                if troubled or attempt == ATTEMPTS:
                    log.warning("%s failed: %s", name, type(exc).__name__)
                    return
                troubled = True
                await asyncio.sleep(0.5)
            except TelegramAPIError as exc:
                log.warning("%s failed: %s", name, exc.message)
                return


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


class StoredReplies:
    """Forgets the replies stored with updates once they were sent: what the front doors do
    before they confirm an update to Telegram (bot.polling before the getUpdates that carries
    the next offset, bot.web before the 200).

    `clear` is one UPDATE for any number of updates; `clear_soon` joins the next such UPDATE, so
    the webhook's concurrent requests share one (a group commit: one per update when they come
    one at a time, one for all those waiting when they crowd)."""

    def __init__(self, transactions: Transactions) -> None:
        self.transactions = transactions
        self._waiting: set[int] = set()
        self._next: asyncio.Future[bool] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def clear(self, update_ids: Collection[int]) -> bool:
        """Forget these updates' replies; False (and a warning) when the database said no.

        A front door confirms the updates either way: confirmed, an update is never delivered
        again, so replies left behind are never sent; the hourly prune removes them with the
        update ids (two days)."""
        if not update_ids:
            return True
        try:
            async with self.transactions.begin() as connection:
                await repo.clear_replies(AsyncSession(bind=connection), update_ids=update_ids)
        except Exception as exc:
            log.warning("replies of %d sent updates not cleared (%s); they are confirmed anyway",
                        len(update_ids), type(exc).__name__)  # fmt: skip
            return False
        return True

    async def clear_soon(self, update_id: int) -> bool:
        """Forget one update's replies in the next batch; returns when that batch is done."""
        self._waiting.add(update_id)
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        batch = self._next
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        return await asyncio.shield(batch)

    async def _work(self) -> None:
        while self._waiting:
            ids, self._waiting = self._waiting, set()
            batch, self._next = self._next, None
            done = False
            try:
                done = await self.clear(ids)
            finally:  # cancelled too: nobody waits forever
                if batch is not None and not batch.done():
                    batch.set_result(done)
