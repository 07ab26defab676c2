"""The one place that sends to people outside a conversation: reminders and broadcasts.

It keeps under Telegram's limits (a bot-wide rate, default 25 messages/s, below the ~30/s
Telegram allows; announcements, when paid broadcasts are on, at their own higher rate with
`allow_paid_broadcast`, up to Telegram's 1000/s), and says what happened to each message in a way the caller can store: sent
(with the message id), blocked (403: never try again), retry later (429 with its retry_after,
5xx, network trouble: with a backoff) or failed (a request Telegram will never accept).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

log = logging.getLogger(__name__)

BACKOFF_FIRST = 30.0  # seconds before the first retry; doubles each time
BACKOFF_MAX = 3600.0
MAX_ATTEMPTS = 6


class Outcome(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    message_id: int | None = None
    retry_after: float | None = None  # seconds
    error: str | None = None


def backoff(attempts: int) -> float:
    """Seconds to wait before attempt `attempts + 1`: 30 s, 1 min, 2 min, ... at most an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


class RateLimiter:
    """At most `rate` sends a second, bot-wide in this process (a slot every 1/rate s)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_slot = 0.0
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends until it has passed."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def wait(self) -> None:
        """Take the next slot. Waiters queue on the lock and sleep in turn, so no slot is handed
        out before it comes: after a stall of the event loop the sends that were waiting go out
        one interval apart, not all at once, and a 429 that comes meanwhile holds whoever is
        next until its pause has passed."""
        async with self._lock:
            while True:
                now = time.monotonic()
                start = max(now, self.next_slot, self.paused_until)
                if start <= now:
                    break
                await asyncio.sleep(start - now)
            self.next_slot = now + self.interval


PER_CHAT_INTERVAL = 1.0  # Telegram: at most about one message a second to one chat
_CHAT_MEMORY = 4096  # how many recent chats the per-chat spacing remembers at most


class Delivery:
    """Sends one message at a time under the rate limit and classifies what happened.

    One per process, shared by the reminder tick and the broadcast sender, so their sum keeps
    under the bot-wide rate. Several coroutines may send at once (a slow round trip to Telegram
    must not slow the rate down); the limiter hands out the slots."""

    def __init__(self, bot: Bot, *, rate: float = 25.0, paid_rate: float | None = None) -> None:
        self.bot = bot
        self.limiter = RateLimiter(rate)
        # Paid broadcasts (PAID_BROADCAST): their own rate, outside the free one.
        self.paid = RateLimiter(paid_rate) if paid_rate else None
        self.per_chat = PER_CHAT_INTERVAL  # seconds between two messages to one chat
        self._last_to: dict[int, float] = {}  # chat -> monotonic time of the last send
        self.counts: Counter[tuple[str, str]] = Counter()  # (kind, outcome) -> messages

    async def _chat_turn(self, chat_id: int) -> None:
        """Wait until a second has passed since the last message to this chat went out."""
        while True:
            now = time.monotonic()
            last = self._last_to.get(chat_id)
            if last is None or now - last >= self.per_chat:
                break
            await asyncio.sleep(self.per_chat - (now - last))
        self._last_to[chat_id] = now  # held meanwhile: a second send to this chat waits
        if len(self._last_to) > _CHAT_MEMORY:  # forget chats not written to for a second
            self._last_to = {c: t for c, t in self._last_to.items() if now - t < self.per_chat}

    async def send(
        self,
        chat_id: int,
        text: str,
        markup: Any = None,
        *,
        photo: str | None = None,
        document: str | None = None,
        kind: str = "message",
        paid: bool = False,
    ) -> Result:
        """A text message, or a photo or document (by Telegram file id) with `text` as caption;
        its outcome is counted under `kind` (reminder, broadcast) for the metrics. `paid`: sent
        with `allow_paid_broadcast` at the paid rate (when this delivery has one)."""
        limiter = self.paid if paid and self.paid is not None else self.limiter
        result = await self._send(
            chat_id, text, markup, photo=photo, document=document, limiter=limiter
        )
        self.counts[kind, result.outcome.value] += 1
        return result

    async def _send(
        self,
        chat_id: int,
        text: str,
        markup: Any,
        *,
        photo: str | None,
        document: str | None,
        limiter: RateLimiter,
    ) -> Result:
        await self._chat_turn(chat_id)
        await limiter.wait()
        self._last_to[chat_id] = time.monotonic()  # the second counts from the send itself
        extra: dict[str, Any] = {}
        if limiter is self.paid:
            extra["allow_paid_broadcast"] = True
        try:
            if photo is not None:
                message = await self.bot.send_photo(
                    chat_id=chat_id, photo=photo, caption=text, reply_markup=markup, **extra
                )
            elif document is not None:
                message = await self.bot.send_document(
                    chat_id=chat_id, document=document, caption=text, reply_markup=markup, **extra
                )
            else:
                message = await self.bot.send_message(
                    chat_id=chat_id, text=text, reply_markup=markup, **extra
                )
        except TelegramRetryAfter as exc:
            limiter.pause(exc.retry_after)
            log.warning("Telegram asked to slow down for %s s", exc.retry_after)
            return Result(Outcome.RETRY, retry_after=float(exc.retry_after), error="429")
        except TelegramForbiddenError:
            return Result(Outcome.BLOCKED, error="403")
        except TelegramUnauthorizedError:
            raise  # the token is wrong: nothing to send with, stop the caller
        except TelegramBadRequest as exc:
            return Result(Outcome.FAILED, error=f"400 {exc.message}"[:200])
        except (TimeoutError, TelegramServerError, TelegramNetworkError, OSError) as exc:
            return Result(Outcome.RETRY, error=type(exc).__name__)
        return Result(Outcome.SENT, message_id=message.message_id)

    async def call(self, method: Any) -> Any:
        """Any other Bot API call (a progress edit, a report) within the bot-wide rate; None
        when Telegram refused it (logged, never raised: these are for the coordinator's eyes)."""
        await self.limiter.wait()
        try:
            return await self.bot(method)
        except TelegramRetryAfter as exc:
            self.limiter.pause(exc.retry_after)
        except TelegramBadRequest as exc:
            log.info("%s not applied: %s", type(method).__name__, exc.message)
        except (TelegramForbiddenError, TelegramServerError, TelegramNetworkError, OSError) as exc:
            log.warning("%s failed: %s", type(method).__name__, type(exc).__name__)
        return None
