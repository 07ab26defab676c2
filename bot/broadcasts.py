"""Sending broadcasts: the one sender, its live progress message and its final report.

One pass (`Sender.work`) starts the scheduled broadcasts whose time has come, sends one batch
of every sending broadcast, edits each coordinator's progress message at most every few
seconds, ends the broadcasts with nothing left and sends their reports. `drain` repeats passes
while there is work; APScheduler calls it every couple of seconds (bot.scheduler).

Only the instance holding the sender lock (bot.leader) sends, so the bot-wide rate holds with
any number of instances. `concurrency` workers send a batch; each takes its next delivery only
once the outcome of its last is committed (outcomes that come together share a transaction:
`OutcomeWriter`), so a process killed mid-broadcast re-sends at most `concurrency` messages,
those sent and not yet written; the next sender takes the rows the dead one left `sending`
back as pending (`storage.broadcasts.recover`). The next batch is claimed while the last round
of sends of one is on its way; a pause or cancel meanwhile gives it back untried.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import html
import io
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.methods import EditMessageText, SendDocument, SendMessage
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiogram.utils.i18n import I18n
from babel.dates import format_timedelta
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards as kb
from bot import roles
from bot.delivery import MAX_ATTEMPTS, Delivery, Outcome, Prepared, backoff
from bot.leader import Leader
from bot.text import BABEL_LOCALES, number, t
from flows import clock
from flows import segments as specs
from flows.i18n import N_
from storage import broadcasts as store
from storage import coops, trainings
from storage.db import Transactions
from storage.models import Broadcast, BroadcastStatus, DeliveryStatus, Person

log = logging.getLogger(__name__)

# Added under every announcement, in the reader's language.
STOP_FOOTER = N_("You get announcements because you agreed to. To stop them, send /berhenti.")
CAPTION_LIMIT = 1024  # Telegram's limit for a photo's or document's caption
TEXT_LIMIT = 4096
FOOTER_ROOM = 120  # kept free for the footer in any language (checked by a test)


class BroadcastCB(CallbackData, prefix="bc"):
    """The compose and control buttons. act: see bot.handlers.broadcast."""

    act: str
    id: kb.RowId = 0
    v: str = ""
    p: kb.Small = 0  # a page of a pick list


def body(broadcast: Broadcast, locale: str, i18n: I18n) -> str:
    """What a recipient reads: the coordinator's text and, in their language, how to stop."""
    chosen = locale if locale in i18n.available_locales else i18n.default_locale
    with i18n.context(), i18n.use_locale(chosen):
        footer = t(STOP_FOOTER)
    return f"{broadcast.text}\n\n<i>{html.escape(footer)}</i>"


def link_markup(broadcast: Broadcast) -> InlineKeyboardMarkup | None:
    if not broadcast.button_text or not broadcast.button_url:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=broadcast.button_text, url=broadcast.button_url)]
        ]
    )


async def segment_label(session: AsyncSession, segment: dict[str, Any]) -> str:
    """The segment in the current language, with the cooperative's or session's name."""
    spec = specs.Segment.from_dict(segment)
    name = None
    if spec.cooperative_id is not None:
        coop = await coops.cooperative(session, spec.cooperative_id)
        name = coop.name if coop is not None else None
    elif spec.founding_id is not None:
        plan = await coops.founding(session, spec.founding_id)
        name = plan.name if plan is not None else None
    elif spec.training_id is not None:
        training = await trainings.get(session, spec.training_id)
        name = training.title if training is not None else None
    msgid, params = specs.describe(spec, name=name)
    shown = {
        k: t(v) if isinstance(v, specs.Msgid) else html.escape(str(v)) for k, v in params.items()
    }
    return t(msgid, **shown)


# --- the coordinator's status message -------------------------------------------------------


def _bar(done: int, total: int, width: int = 10) -> str:
    filled = 0 if total <= 0 else min(width, round(width * done / total))
    return "▰" * filled + "▱" * (width - filled)


def _remaining(counts: dict[str, int]) -> int:
    return counts[DeliveryStatus.PENDING.value] + counts[DeliveryStatus.SENDING.value]


def status_view(
    broadcast: Broadcast, counts: dict[str, int], *, rate: float, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The live progress message: counts, a bar, the time left, and what can be done now."""
    sent, failed = counts[DeliveryStatus.SENT.value], counts[DeliveryStatus.FAILED.value]
    blocked, left = counts[DeliveryStatus.BLOCKED.value], _remaining(counts)
    total = sent + failed + blocked + left
    done = total - left
    status = BroadcastStatus(broadcast.status)
    titles = {
        BroadcastStatus.SENDING: N_("📣 Announcement #{id}: sending"),
        BroadcastStatus.PAUSED: N_("⏸ Announcement #{id}: paused"),
        BroadcastStatus.DONE: N_("✅ Announcement #{id}: done"),
        BroadcastStatus.CANCELLED: N_("✖️ Announcement #{id}: cancelled"),
        BroadcastStatus.SCHEDULED: N_("🕒 Announcement #{id}: scheduled"),
        BroadcastStatus.DRAFT: N_("📝 Announcement #{id}: draft"),
    }
    percent = 100 if total == 0 else int(100 * done / total)
    lines = [
        t(titles[status], id=broadcast.id),
        f"{_bar(done, total)} {percent}%",
        t(
            N_("Sent {sent} · failed {failed} · blocked {blocked} · remaining {left}"),
            sent=number(sent, locale),
            failed=number(failed, locale),
            blocked=number(blocked, locale),
            left=number(left, locale),
        ),
    ]
    if status is BroadcastStatus.SENDING and left:
        seconds = max(1.0, left / rate)
        span = format_timedelta(
            timedelta(seconds=seconds), locale=BABEL_LOCALES.get(locale, "id_ID")
        )
        lines.append(t(N_("About {time} left."), time=span))
    buttons: list[InlineKeyboardButton] = []
    if status is BroadcastStatus.SENDING:
        buttons.append(_btn("⏸ " + t(N_("Pause")), BroadcastCB(act="pause", id=broadcast.id)))
    if status is BroadcastStatus.PAUSED:
        buttons.append(_btn("▶️ " + t(N_("Resume")), BroadcastCB(act="resume", id=broadcast.id)))
    if status in (BroadcastStatus.SENDING, BroadcastStatus.PAUSED, BroadcastStatus.SCHEDULED):
        buttons.append(_btn("✖️ " + t(N_("Cancel")), BroadcastCB(act="stop", id=broadcast.id)))
    markup = InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None
    return "\n".join(lines), markup


def _btn(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def report_text(broadcast: Broadcast, counts: dict[str, int], segment: str, locale: str) -> str:
    """The final report: who it was for, what happened, the block rate."""
    sent, failed = counts[DeliveryStatus.SENT.value], counts[DeliveryStatus.FAILED.value]
    blocked, skipped = counts[DeliveryStatus.BLOCKED.value], counts[DeliveryStatus.SKIPPED.value]
    tried = sent + failed + blocked
    rate = 0.0 if tried == 0 else 100.0 * blocked / tried
    cancelled = broadcast.status == BroadcastStatus.CANCELLED.value
    lines = [
        t(
            N_("✖️ Report on announcement #{id} (cancelled)")
            if cancelled
            else N_("✅ Report on announcement #{id}"),
            id=broadcast.id,
        ),
        t(N_("For: {segment}"), segment=segment),
        t(N_("Received it: {sent}"), sent=number(sent, locale)),
        t(N_("Could not be delivered: {failed}"), failed=number(failed, locale)),
        t(
            N_("Had blocked the bot: {blocked} ({rate}% of those we tried)"),
            blocked=number(blocked, locale),
            rate=number(round(rate, 1), locale),
        ),
        t(
            N_("Not sent: {skipped} (weekly limit reached, announcements stopped, or cancelled)"),
            skipped=number(skipped, locale),
        ),
    ]
    if failed or blocked:
        lines.append(t(N_("The list of failed deliveries is in the file below.")))
    if rate >= 5.0:
        lines.append(
            t(
                N_(
                    "Many people blocked the bot. Send fewer announcements, and only to the "
                    "people each one is for."
                )
            )
        )
    return "\n".join(lines)


def failures_csv(rows: list[store.Failure]) -> bytes:
    """One line per failed or blocked delivery; the person's number in this system, never
    their Telegram id or name."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["delivery_id", "person_id", "status", "attempts", "error"])
    for row in rows:
        writer.writerow([row.delivery_id, row.person_id or "", row.status, row.attempts, row.error])
    return out.getvalue().encode("utf-8")


# --- the sender ------------------------------------------------------------------------------


FLUSH_EVERY = 0.02  # seconds: outcomes that come meanwhile are written together


class OutcomeWriter:
    """Writes the outcomes of sends as they come, many in one transaction (a group commit):
    each `sent`, `blocked`, `retry` or `failed` returns once its outcome is committed, so the
    caller's slot stays taken until then, exactly as when each was written alone. While one
    transaction runs (and for at most `FLUSH_EVERY` after the last began) the outcomes that
    come wait for the next; at 1,000 sends a second that is about twenty a transaction, not one.
    A failed write fails the sends it held (the rows stay `sending`, taken back later)."""

    def __init__(self, write: Callable[[Callable[[AsyncSession], Awaitable[Any]]], Any]) -> None:
        self._write = write
        self._next = store.Outcomes()
        self._count = 0  # outcomes in `_next`
        self._written: asyncio.Future[None] | None = None  # done when `_next` is committed
        self._task: asyncio.Task[None] | None = None
        self._began = -FLUSH_EVERY  # monotonic time the last transaction began

    async def sent(self, delivery_id: int, message_id: int | None) -> None:
        self._next.sent.append((delivery_id, message_id))
        await self._added()

    async def blocked(self, delivery_id: int) -> None:
        self._next.blocked.append(delivery_id)
        await self._added()

    async def retry(self, delivery_id: int, at: Any, error: str) -> None:
        self._next.retry.append((delivery_id, at, error))
        await self._added()

    async def failed(self, delivery_id: int, error: str) -> None:
        self._next.failed.append((delivery_id, error))
        await self._added()

    async def _added(self) -> None:
        self._count += 1
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
        written = self._written
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        # Shielded: a waiter cancelled (its sender stopped) does not cancel the others' write.
        await asyncio.shield(written)

    async def _run(self) -> None:
        while self._count:
            wait = self._began + FLUSH_EVERY - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            batch, written = self._next, self._written
            self._next, self._count, self._written = store.Outcomes(), 0, None
            self._began = time.monotonic()
            assert written is not None
            try:
                await self._write(lambda s, b=batch: store.mark(s, b, now=clock.now()))
            except asyncio.CancelledError:
                written.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - handed to every send it held
                written.set_exception(exc)
            else:
                written.set_result(None)

    async def close(self) -> None:
        """Stop writing: what was not committed yet stays `sending` (taken back later)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._written is not None and not self._written.done():
            self._written.cancel()


@dataclass
class Pass:
    """What one pass did (for logs and tests)."""

    started: int = 0
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0
    finished: int = 0
    reported: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.started or self.claimed or self.finished or self.reported)


class Sender:
    """Sends every broadcast, one batch per pass; safe to kill at any moment."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        transactions: Transactions,
        delivery: Delivery,
        i18n: I18n,
        leader: Leader,
        rate: float,
        cap_per_week: int | None,
        concurrency: int = 8,
        progress_every: float = 3.0,
        admin_ids: frozenset[int] = frozenset(),
        paid: bool = False,
    ) -> None:
        self.sessionmaker, self.transactions, self.i18n = sessionmaker, transactions, i18n
        self.admin_ids = admin_ids
        self.delivery, self.leader = delivery, leader
        self.rate, self.cap = rate, cap_per_week or None
        self.paid = paid  # announcements go with allow_paid_broadcast at `rate` (up to 1000/s)
        self.concurrency, self.progress_every = concurrency, progress_every
        self.batch = max(concurrency * 4, int(rate * 4))  # about four seconds of sending
        self._shown: dict[int, float] = {}  # broadcast -> monotonic time of the last edit
        self._editing: asyncio.Task[None] | None = None  # the last progress edit on its way
        self._ahead: dict[int, list[store.Claimed]] = {}  # broadcast -> its next batch, claimed
        self.claim_ahead = True  # claim the next batch while the last sends of one go out
        self._recovered_at = 0  # leader.took_over when `recover` last ran
        self.in_flight = 0
        self.stopping = False  # set by `stop`: no new send, no new pass
        self._idle = asyncio.Event()  # set while no `drain` runs
        self._idle.set()

    async def _write(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async with self.transactions.begin() as connection:
            return await work(self.sessionmaker(bind=connection))

    async def _read(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async with self.sessionmaker() as session:
            return await work(session)

    async def drain(self, *, max_passes: int | None = None) -> Pass:
        """Passes until there is nothing to do (or `max_passes`); the sum of what they did."""
        total, passes = Pass(), 0
        self._idle.clear()
        try:
            while (max_passes is None or passes < max_passes) and not self.stopping:
                # The last pass allowed claims nothing ahead: none would send it.
                self.claim_ahead = max_passes is None or passes + 1 < max_passes
                one = await self.work()
                passes += 1
                for name in total.__dataclass_fields__:
                    setattr(total, name, getattr(total, name) + getattr(one, name))
                if not one.busy:
                    break
            await self._edited()
        finally:
            self.claim_ahead = True
            self._idle.set()
        return total

    async def stop(self, timeout: float = 10.0) -> None:
        """On shutdown: send nothing new, let the sends in flight end and be written (so a
        restart sends nobody twice), then return; at most `timeout` seconds."""
        self.stopping = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def work(self) -> Pass:
        done = Pass()
        if not await self.leader.hold():
            return done
        if self.leader.took_over != self._recovered_at:
            self._ahead.clear()  # their rows are among those `recover` takes back
            recovered = await self._write(store.recover)
            self._recovered_at = self.leader.took_over
            if recovered:
                log.info("took back %d deliveries a stopped sender left in flight", recovered)
        now = clock.now()
        for broadcast_id in await self._read(lambda s: store.due(s, now=now)):
            allowed, within = await self._read(lambda s, b=broadcast_id: self._authority(s, b))
            if not allowed:
                await self._write(lambda s, b=broadcast_id: self._withdraw(s, b))
                continue
            count = await self._write(
                lambda s, b=broadcast_id, w=within: store.start(
                    s, b, now=now, cap_per_week=self.cap, within_regions=w
                )
            )
            if count is not None:
                done.started += 1
                await self._write(
                    lambda s, b=broadcast_id, n=count: store.audit(
                        s,
                        actor_id=None,
                        action="broadcast.started",
                        subject=f"broadcast:{b}",
                        details={"recipients": n, "scheduled": True},
                    )
                )
        active = await self._read(store.active)
        stale = [d.id for b in set(self._ahead) - set(active) for d in self._ahead.pop(b)]
        if stale:  # claimed ahead, then paused or cancelled: back, or skipped
            await self._write(lambda s: store.release(s, stale))
        for broadcast_id in active:
            await self._send_batch(broadcast_id, done)
        for broadcast_id in await self._read(store.to_report):
            await self._report(broadcast_id)
            done.reported += 1
        return done

    async def _authority(
        self, session: AsyncSession, broadcast_id: int
    ) -> tuple[bool, list[str] | None]:
        """Whether the author of a scheduled announcement may still send it when its time comes,
        and inside which regions now (None: everywhere): a role revoked or narrowed after it
        was scheduled counts, as it does for every press."""
        broadcast = await store.get(session, broadcast_id)
        author = None
        if broadcast is not None and broadcast.author_id is not None:
            author = await session.get(Person, broadcast.author_id)
        if author is None:
            return False, None
        role = roles.ADMIN if author.telegram_id in self.admin_ids else author.role
        return roles.can(role, "broadcast"), roles.scope(author, role)

    async def _withdraw(self, session: AsyncSession, broadcast_id: int) -> None:
        if await store.set_status(session, broadcast_id, BroadcastStatus.CANCELLED):
            await store.audit(
                session,
                actor_id=None,
                action="broadcast.cancelled",
                subject=f"broadcast:{broadcast_id}",
                details={"why": "author may no longer send"},
            )
            log.info(
                "scheduled announcement %d cancelled: its author may no longer send", broadcast_id
            )

    async def _claim(self, broadcast_id: int) -> list[store.Claimed]:
        now = clock.now()
        return await self._write(lambda s: store.claim(s, broadcast_id, now=now, limit=self.batch))

    async def _send_batch(self, broadcast_id: int, done: Pass) -> None:
        claimed = self._ahead.pop(broadcast_id, None) or await self._claim(broadcast_id)
        broadcast = await self._read(lambda s: store.get(s, broadcast_id))
        if broadcast is None:
            return
        if claimed:
            done.claimed += len(claimed)
            ahead = await self._deliver(broadcast, claimed, done)
            if ahead:
                self._ahead[broadcast_id] = ahead
            await self._show(broadcast_id, wait=False)
        elif await self._write(lambda s: store.finish(s, broadcast_id, now=clock.now())):
            done.finished += 1
        else:
            await self._show(broadcast_id)  # paused meanwhile, or waiting for retries

    async def _deliver(
        self, broadcast: Broadcast, claimed: list[store.Claimed], done: Pass
    ) -> list[store.Claimed] | None:
        """Send a claimed batch; the next batch, claimed while the last sends of this one were
        on their way (else the rate would go unused for that time and the claim's), or None."""
        skipped = store.Outcomes()
        to_send = []
        for item in claimed:
            if item.blocked:
                skipped.skipped.append((item.id, store.WAS_BLOCKED))
            elif not item.announcements:
                skipped.skipped.append((item.id, store.OPTED_OUT))
            else:
                to_send.append(item)
        if skipped.skipped:
            done.skipped += len(skipped.skipped)
            await self._write(lambda s: store.mark(s, skipped, now=clock.now()))
        if not to_send:
            return None
        markup = link_markup(broadcast)
        prepared: dict[str, Prepared] = {}  # locale -> the announcement, built once each
        outcomes = OutcomeWriter(self._write)
        failure: list[BaseException] = []
        ahead: list[asyncio.Task[list[store.Claimed]]] = []

        def batch() -> Iterator[store.Claimed]:
            last = max(0, len(to_send) - self.concurrency)
            yield from to_send[:last]
            # The last round of sends is left: the next batch is claimed meanwhile (the rows
            # of this one are `sending` under their lease, so it cannot take them).
            if self.claim_ahead and not (failure or self.stopping) and self.leader.still_holds():
                ahead.append(asyncio.create_task(self._claim(broadcast.id)))
            yield from to_send[last:]

        waiting = batch()

        def message_for(locale: str) -> Prepared:
            if locale not in prepared:
                prepared[locale] = self.delivery.message(
                    body(broadcast, locale, self.i18n),
                    markup,
                    photo=broadcast.photo_file_id,
                    document=broadcast.document_file_id,
                    paid=self.paid,
                )
            return prepared[locale]

        async def worker() -> None:
            # One of `concurrency`: a delivery is taken only once the previous one's outcome is
            # written, so sent-but-unwritten (what a kill repeats) never exceeds `concurrency`.
            for item in waiting:
                if failure or self.stopping:
                    return  # shutting down: the rest stay `sending`, the next start takes them
                if not self.leader.still_holds():
                    return  # the lock is gone: the next sender takes these rows back
                try:
                    await send_and_write(item)
                except Exception as exc:
                    failure.append(exc)  # the others finish what they have in hand, then stop
                    return

        async def send_and_write(item: store.Claimed) -> None:
            method = message_for(item.locale or self.i18n.default_locale)
            self.in_flight += 1
            try:
                result = await self.delivery.send_prepared(item.chat_id, method, kind="broadcast")
            finally:
                self.in_flight -= 1
            if result.outcome is Outcome.SENT:
                done.sent += 1
                await outcomes.sent(item.id, result.message_id)
            elif result.outcome is Outcome.BLOCKED:
                done.blocked += 1
                await outcomes.blocked(item.id)
            elif result.outcome is Outcome.RETRY and (
                result.error == "429" or item.attempts < MAX_ATTEMPTS
            ):  # Telegram's "slow down" is never the message's fault
                wait = result.retry_after if result.error == "429" else backoff(item.attempts)
                done.retried += 1
                await outcomes.retry(
                    item.id,
                    clock.now() + timedelta(seconds=wait or 1.0),
                    result.error or "retry",
                )
            else:
                done.failed += 1
                await outcomes.failed(item.id, result.error or "failed")

        workers = [
            asyncio.create_task(worker()) for _ in range(min(self.concurrency, len(to_send)))
        ]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for task in ahead:
                task.cancel()  # rows it claimed stay `sending`, taken back by the next sender
            raise
        finally:
            for task in workers:
                task.cancel()
            await outcomes.close()
        if failure:
            for task in ahead:
                task.cancel()
            raise failure[0]
        return await ahead[0] if ahead else None

    async def _author_locale(self, broadcast: Broadcast) -> str:
        if broadcast.author_id is None:
            return self.i18n.default_locale
        person = await self._read(lambda s: coops.person(s, broadcast.author_id))
        locale = person.locale if person is not None else None
        return locale if locale in self.i18n.available_locales else self.i18n.default_locale

    async def _show(self, broadcast_id: int, *, force: bool = False, wait: bool = True) -> None:
        """Edit the progress message, at most every `progress_every` seconds unless forced.
        The counts are read now; `wait=False` lets the edit's round trip go on while the next
        batch is sent (between two batches it was ~50 ms without a send: 1% of the paid rate)."""
        moment = time.monotonic()
        if not force and moment - self._shown.get(broadcast_id, 0.0) < self.progress_every:
            return
        self._shown[broadcast_id] = moment
        broadcast = await self._read(lambda s: store.get(s, broadcast_id))
        if broadcast is None or broadcast.progress_message_id is None:
            return
        counts = await self._read(lambda s: store.progress(s, broadcast_id))
        locale = await self._author_locale(broadcast)
        with self.i18n.context(), self.i18n.use_locale(locale):
            text, markup = status_view(broadcast, counts, rate=self.rate, locale=locale)
        edit = EditMessageText(
            chat_id=broadcast.progress_chat_id,
            message_id=broadcast.progress_message_id,
            text=text,
            reply_markup=markup,
        )
        before = self._editing

        async def send() -> None:
            if before is not None:
                await before  # the edits go in order
            await self.delivery.call(edit)

        self._editing = asyncio.create_task(send())
        if wait:
            await self._edited()

    async def _edited(self) -> None:
        """Wait for the progress edits on their way (see `_show`)."""
        while self._editing is not None:
            editing = self._editing
            try:
                await editing
            finally:
                if self._editing is editing:
                    self._editing = None

    async def _report(self, broadcast_id: int) -> None:
        """The final edit of the progress message, the report and the failures file; then
        the broadcast is marked reported (a crash before that sends the report again)."""
        broadcast = await self._read(lambda s: store.get(s, broadcast_id))
        if broadcast is None:
            return
        counts = await self._read(lambda s: store.progress(s, broadcast_id))
        rows = await self._read(lambda s: store.failures(s, broadcast_id))
        locale = await self._author_locale(broadcast)
        await self._show(broadcast_id, force=True)
        if broadcast.progress_chat_id is not None:
            with self.i18n.context(), self.i18n.use_locale(locale):
                label = await self._read(lambda s: segment_label(s, broadcast.segment))
                text = report_text(broadcast, counts, label, locale)
            await self.delivery.call(SendMessage(chat_id=broadcast.progress_chat_id, text=text))
            if rows:
                await self.delivery.call(
                    SendDocument(
                        chat_id=broadcast.progress_chat_id,
                        document=BufferedInputFile(
                            failures_csv(rows), filename=f"announcement-{broadcast_id}-failed.csv"
                        ),
                    )
                )
        sent, blocked = counts[DeliveryStatus.SENT.value], counts[DeliveryStatus.BLOCKED.value]

        async def close(session: AsyncSession) -> None:
            await store.reported(session, broadcast_id)
            await store.audit(
                session,
                actor_id=None,
                action=f"broadcast.{broadcast.status}",
                subject=f"broadcast:{broadcast_id}",
                details={
                    "sent": sent,
                    "failed": counts[DeliveryStatus.FAILED.value],
                    "blocked": blocked,
                    "skipped": counts[DeliveryStatus.SKIPPED.value],
                },
            )

        await self._write(close)
        self._shown.pop(broadcast_id, None)
        log.info(
            "broadcast %d %s: %d sent, %d blocked", broadcast_id, broadcast.status, sent, blocked
        )
