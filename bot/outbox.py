"""Replies wait in an outbox and go out after the update's transaction commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import InputFile

log = logging.getLogger(__name__)
ATTEMPTS = 4  # a reply asked to wait (429) is tried at most this often
MAX_WAIT = 30  # s: a longer retry_after is not waited for inside an update


class Outbox:
    """Telegram calls a handler wants made, in order; sent only once the data is safe."""

    def __init__(self) -> None:
        self.methods: list[TelegramMethod[Any]] = []

    def add(self, method: TelegramMethod[Any]) -> None:
        self.methods.append(method)

    def clear(self) -> None:
        self.methods.clear()

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
