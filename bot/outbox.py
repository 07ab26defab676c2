"""Replies wait in an outbox and go out after the update's transaction commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import TelegramMethod
from aiogram.types import InputFile

log = logging.getLogger(__name__)


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
            try:
                await bot(method)
            except TelegramBadRequest as exc:
                # e.g. "message is not modified" after a double tap: harmless, keep going.
                log.info("%s not applied: %s", type(method).__name__, exc.message)
            except TelegramAPIError as exc:
                log.warning("%s failed: %s", type(method).__name__, exc.message)


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
