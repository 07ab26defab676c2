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
from aiogram.methods import EditMessageText, SendDocument, SendMessage, SendPhoto
from aiogram.methods.base import Response

log = logging.getLogger(__name__)

# aiogram reads every answer as `Response[<the method's result type>]`, a class pydantic builds
# and caches only while something else holds it (a WeakValueDictionary): once the last answer
# is collected the class goes, and the next answer builds it again (~13 ms of CPU; measured in
# a 5,000-send broadcast: 56 rebuilds, 0.14 ms a send). Held here for the methods this module
# sends, so each is built once per process.
_RESPONSE_TYPES = tuple(
    Response[m.__returning__]  # type: ignore[name-defined]
    for m in (SendMessage, SendPhoto, SendDocument, EditMessageText)
)

BACKOFF_FIRST = 30.0  # seconds before the first retry; doubles each time
BACKOFF_MAX = 3600.0
MAX_ATTEMPTS = 6


Prepared = SendMessage | SendPhoto | SendDocument  # what `Delivery.message` prepares


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


LATE_WAKE_UP = 0.005  # seconds; see RateLimiter.wait


class RateLimiter:
    """At most `rate` sends a second, bot-wide in this process (a slot every 1/rate s)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        # Lateness made up for (see `wait`): only where a few milliseconds are an interval or
        # more (over 200/s); at the free rate's 40 ms they are not, and a late slot counts
        # from now. Within any second at most rate × (1 + LATE_WAKE_UP) + 1 slots go.
        self.late = LATE_WAKE_UP if self.interval < LATE_WAKE_UP else 0.0
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
        next until its pause has passed.

        The next slot counts from when this one was due, not from when the sleep ended: the
        event loop wakes a sleeper up to a millisecond late (epoll's timeout is in whole
        milliseconds), which at 1,000/s would lose a quarter of the slots (measured: 709 of
        980/s). A wake-up later than `late` (a stall) is not made up for: after it at most
        `late / interval` + 1 slots go at once."""
        async with self._lock:
            while True:
                now = time.monotonic()
                due = max(self.next_slot, self.paused_until)
                if due <= now:
                    break
                await asyncio.sleep(due - now)
            self.next_slot = max(due, now - self.late) + self.interval


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

    def message(
        self,
        text: str,
        markup: Any = None,
        *,
        photo: str | None = None,
        document: str | None = None,
        paid: bool = False,
    ) -> Prepared:
        """A text message, or a photo or document (by Telegram file id) with `text` as caption,
        as the Bot API method to send, to nobody yet: `send_prepared` sends it to each chat
        (an announcement is built once per language, not once per reader). `paid`: with
        `allow_paid_broadcast`, at the paid rate (when this delivery has one)."""
        extra: dict[str, Any] = {}
        if paid and self.paid is not None:
            extra["allow_paid_broadcast"] = True
        if photo is not None:
            return SendPhoto(chat_id=0, photo=photo, caption=text, reply_markup=markup, **extra)
        if document is not None:
            return SendDocument(
                chat_id=0, document=document, caption=text, reply_markup=markup, **extra
            )
        return SendMessage(chat_id=0, text=text, reply_markup=markup, **extra)

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
        method = self.message(text, markup, photo=photo, document=document, paid=paid)
        return await self.send_prepared(chat_id, method, kind=kind)

    async def send_prepared(self, chat_id: int, method: Prepared, *, kind: str) -> Result:
        """`method` (from `message`) to one chat, through the bot's own session like any call;
        the outcome counted under `kind`."""
        paid = self.paid if method.allow_paid_broadcast and self.paid is not None else None
        result = await self._send(
            method.model_copy(update={"chat_id": chat_id}), limiter=paid or self.limiter
        )
        self.counts[kind, result.outcome.value] += 1
        return result

    async def _send(self, method: Prepared, *, limiter: RateLimiter) -> Result:
        chat_id = int(method.chat_id)
        await self._chat_turn(chat_id)
        await limiter.wait()
        self._last_to[chat_id] = time.monotonic()  # the second counts from the send itself
        try:
            message = await self.bot(method)
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
