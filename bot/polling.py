"""Long polling (`juragan run`) that confirms an update to Telegram only once it is done.

aiogram's own polling asks for the next batch (which confirms the last one, through
getUpdates' `offset`) as soon as it has handed the batch to tasks, so a process killed while
those tasks run loses what people wrote. Here the offset never passes an update until it was
handled, its transaction committed and its replies sent: after a crash Telegram delivers again
whatever was not confirmed, and the update id recorded with each commit
(bot.middlewares.UpdateContext) makes a second delivery of a finished one a no-op, as in webhook
mode; the replies recorded with it, when the process died before sending them, are sent then. An update the database could not take (outcome "retry") is not confirmed either: it is
asked for again after a pause.

Updates are handled concurrently, but one person's (or chat's) one after another, in the order
Telegram sent them. Each goes through `Dispatcher.feed_update`, so the outer middlewares (the
log line, the metrics, flood control, the transaction) see it exactly as in webhook mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # s Telegram holds a getUpdates open when there is nothing to take
SHUTDOWN_GRACE = 30.0  # s the updates in flight get to finish on SIGTERM, as in webhook mode
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)
IN_FLIGHT, DONE, RETRY = "in flight", "done", "retry"


def sequence_key(update: Update) -> int | None:
    """Whose updates must keep their order: the person's (else the chat's); None for an update
    of no one (a poll's results), which may run beside anything."""
    try:
        event = update.event
    except Exception:  # an update kind aiogram does not know: nobody to keep in order
        return None
    user = getattr(event, "from_user", None)
    if user is not None:
        return int(user.id)
    chat = getattr(event, "chat", None)
    return int(chat.id) if chat is not None else None


class Poller:
    """getUpdates in a loop; `offset` is the highest contiguously finished update id + 1."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        *,
        timeout: int = POLL_TIMEOUT,
        grace: float = SHUTDOWN_GRACE,
        allowed_updates: list[str] | None = None,
        **workflow: Any,
    ) -> None:
        self.dp, self.bot, self.timeout, self.grace = dp, bot, timeout, grace
        self.allowed_updates = allowed_updates
        self.workflow = workflow  # what start_polling would hand handlers: dispatcher, bots, ...
        self.offset: int | None = None
        self.states: dict[int, str] = {}  # update id -> IN_FLIGHT / DONE / RETRY, not yet confirmed
        self.tasks: set[asyncio.Task[None]] = set()
        self.last: dict[int, asyncio.Task[None]] = {}  # a person's newest task, to queue behind
        self.stopping = asyncio.Event()
        self.backoff = Backoff(BACKOFF)
        self._retry_backoff = Backoff(BACKOFF)

    def stop(self) -> None:
        """Stop asking for updates; those in flight finish (see run)."""
        self.stopping.set()

    async def run(self) -> None:
        """Poll until stop(), then let the updates in flight finish and confirm them."""
        user = await self.bot.me()
        log.info("polling for updates as @%s (bot id %d)", user.username, self.bot.id)
        try:
            while not self.stopping.is_set():
                updates = await self._fetch()
                if updates is None:
                    continue
                fresh = [u for u in updates if self.states.get(u.update_id) in (None, RETRY)]
                if any(self.states.get(u.update_id) == RETRY for u in fresh):
                    await self._pause(self._retry_backoff)  # the database was unreachable
                for update in fresh:
                    self._dispatch(update)
                if not fresh:  # everything offered is in flight: wait for one to finish
                    await self._until_one_finishes()
        finally:
            await self._finish()
            log.info("polling stopped")

    async def _fetch(self) -> list[Update] | None:
        """One getUpdates (confirming what is finished), or None after a failure or a stop."""
        self._advance()
        request = GetUpdates(
            offset=self.offset,
            timeout=self.timeout,
            allowed_updates=self.allowed_updates,
        )
        kwargs: dict[str, Any] = {}
        if self.bot.session.timeout:  # wait longer than Telegram holds the poll open
            kwargs["request_timeout"] = int(self.bot.session.timeout + self.timeout)
        fetching = asyncio.ensure_future(self.bot(request, **kwargs))
        stopping = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not fetching.done():  # stopping: nothing of this poll was taken, nothing is lost
            fetching.cancel()
            with contextlib.suppress(BaseException):
                await fetching
            return None
        try:
            updates = fetching.result()
        except TelegramUnauthorizedError:
            raise  # a revoked token: retrying cannot help
        except Exception as exc:
            log.error(
                "could not fetch updates (%s); trying again in %.1f s",
                type(exc).__name__, self.backoff.next_delay,
            )  # fmt: skip
            await self._pause(self.backoff)
            return None
        if self.backoff.counter:
            log.info("fetching updates again after %d failures", self.backoff.counter)
            self.backoff.reset()
        return list(updates)

    async def _pause(self, backoff: Backoff) -> None:
        """Wait the backoff's next delay, or less if stopped meanwhile."""
        delay = next(backoff)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=delay)

    def _dispatch(self, update: Update) -> None:
        """Handle it in a task of its own, after the same person's earlier updates."""
        self.states[update.update_id] = IN_FLIGHT
        key = sequence_key(update)
        before = self.last.get(key) if key is not None else None
        task = asyncio.create_task(self._handle(update, before))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if key is not None:
            self.last[key] = task
            task.add_done_callback(lambda t, k=key: self._forget(k, t))

    def _forget(self, key: int, task: asyncio.Task[None]) -> None:
        if self.last.get(key) is task:
            del self.last[key]

    async def _handle(self, update: Update, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            with contextlib.suppress(BaseException):
                await asyncio.shield(before)
        report: dict[str, Any] = {}
        try:
            response = await self.dp.feed_update(self.bot, update, report=report, **self.workflow)
            if isinstance(response, TelegramMethod):
                await self.dp.silent_call_request(bot=self.bot, result=response)
        except Exception as exc:  # the middleware logs and apologises; this is past it
            log.error(
                "update %s failed outside its transaction: %s", update.update_id, type(exc).__name__
            )
        if report.get("outcome") == "retry":
            self.states[update.update_id] = RETRY  # not confirmed: fetched and handled again
            return
        self._retry_backoff.reset()
        self.states[update.update_id] = DONE

    def _advance(self) -> None:
        """Move the offset over the updates finished without a gap below them."""
        for update_id in sorted(self.states):
            if self.states[update_id] != DONE:
                break
            del self.states[update_id]
            self.offset = update_id + 1

    async def _until_one_finishes(self) -> None:
        waiting = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait(
                {*self.tasks, waiting}, timeout=1.0, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiting.cancel()

    async def _finish(self) -> None:
        """Let the updates in flight finish (up to the grace), then confirm what is done."""
        if self.tasks:
            log.info("finishing %d updates in flight", len(self.tasks))
            _done, late = await asyncio.wait(set(self.tasks), timeout=self.grace)
            for task in late:
                task.cancel()
        before = self.offset
        self._advance()
        if self.offset is not None and self.offset != before:
            with contextlib.suppress(Exception):  # a redelivery is harmless, a hang is not
                await asyncio.wait_for(
                    self.bot(GetUpdates(offset=self.offset, timeout=0, limit=1)), timeout=5
                )


async def poll(dp: Dispatcher, bot: Bot, *, handle_signals: bool = True) -> None:
    """What `juragan run` does after start-up: the dispatcher's startup hooks (the command
    menu), polling until SIGTERM or SIGINT, then its shutdown hooks."""
    workflow = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    workflow.pop("bot", None)
    poller = Poller(dp, bot, allowed_updates=dp.resolve_used_update_types(), **workflow)
    if handle_signals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, poller.stop)
    await dp.emit_startup(bot=bot, **workflow)
    try:
        await poller.run()
    finally:
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        await dp.emit_shutdown(bot=bot, **workflow)
