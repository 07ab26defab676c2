"""Replies wait in an outbox and go out after the update's transaction commits."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import TelegramMethod

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
