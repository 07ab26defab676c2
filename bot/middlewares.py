"""Outer middlewares on every update, in this order: private chats only, flood control, then
the update's context (one transaction with the dedup record and the outbox, the person and
role, the language)."""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.methods import AnswerCallbackQuery, LeaveChat, SendMessage, TelegramMethod
from aiogram.types import (
    Chat,
    Message,
    MessageEntity,
    ReplyParameters,
    TelegramObject,
    Update,
    User,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import LOCALES
from bot.outbox import Outbox, ReplayedCopies, as_data, from_data
from flows import clock
from flows.i18n import N_
from storage import repo
from storage.db import Transactions
from storage.models import Role

log = logging.getLogger(__name__)
PROJECT = Path(__file__).resolve().parent.parent
OWN = ("bot", "flows", "storage")
FLOOD_DESTINY = "flood"  # the flood window's key in aiogram's FSM storage, beside any FSM state
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Redelivered(Exception):
    """The update id was committed by another copy of the update while this one ran."""


def telegram_locale(user: User | None, default: str) -> str:
    code = (user.language_code or "").lower() if user else ""
    if code.startswith("en"):
        return "en"
    if code.startswith(("id", "in")):
        return "id"
    return default


def stale_connection(exc: BaseException) -> bool:
    """A pooled connection turned out closed by the server; the pool has invalidated it (there
    is no ping before each update: measured, it cost 13% of PostgreSQL's answers/s)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def database_unreachable(exc: BaseException) -> bool:
    """The database could not be reached (not a bug in a handler): the update can be handled
    when Telegram delivers it again."""
    return stale_connection(exc) or isinstance(
        exc, OperationalError | InterfaceError | ConnectionError | TimeoutError
    )


def _where(exc: BaseException) -> str:
    """The project's own frame nearest the error (file:line function), for the error line."""
    where = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if PROJECT in path.parents and path.relative_to(PROJECT).parts[0] in OWN:
            where = f"{path.relative_to(PROJECT)}:{frame.lineno} {frame.name}"
    return where


PERSONAL_KINDS = ("message", "edited_message", "callback_query")
JOINED = ("member", "administrator", "restricted")
CHAT_DIRECTLY = N_("Please chat with me directly.")


def _chat(update: Update) -> Chat | None:
    """The chat of a message, an edit or a button press (None: a button on an inline message)."""
    if update.callback_query is not None:
        message = update.callback_query.message
        return message.chat if message is not None else None
    message = update.message or update.edited_message
    return message.chat if message is not None else None


def personal(update: Update) -> bool:
    """A person's own update: a message or a button press in their private chat with the bot.
    Everything else (groups, supergroups, channels, inline messages, membership changes, and
    kinds the bot never asked for) is not."""
    try:
        kind = update.event_type
    except Exception:  # a kind aiogram does not know yet
        return False
    chat = _chat(update) if kind in PERSONAL_KINDS else None
    return chat is not None and chat.type == "private"


class PrivateOnly(BaseMiddleware):
    """The bot serves people in their private chat with it, nowhere else: in a group a command
    to the bot or a mention of it gets one short line ("chat with me directly") and the bot
    leaves; a button on a message outside a private chat gets the line as a notice; a channel
    post gets nothing but the bot leaving; being added to a group or channel (my_chat_member)
    makes it leave. None of these is handled as a person's update: no transaction, no person,
    no flow, no dedup record, no flood count. Outermost but the log line, so no handler can
    forget it."""

    def __init__(self, i18n: I18n, *, default_locale: str) -> None:
        self.i18n, self.default_locale = i18n, default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        if personal(event):
            return await handler(event, data)
        bot: Bot = data["bot"]
        for method in await self._answer(event, bot):
            try:
                await bot(method)
            except TelegramAPIError as exc:  # already gone, or not allowed to speak there
                log.warning("%s outside a private chat failed: %s", type(method).__name__,
                            type(exc).__name__)  # fmt: skip
        return UNHANDLED

    def _line(self, user: User | None) -> str:
        with self.i18n.context(), self.i18n.use_locale(telegram_locale(user, self.default_locale)):
            return _(CHAT_DIRECTLY)

    async def _answer(self, update: Update, bot: Bot) -> list[TelegramMethod[Any]]:
        """What the bot says and does for an update from outside a private chat."""
        if update.callback_query is not None:
            query = update.callback_query
            answer = AnswerCallbackQuery(
                callback_query_id=query.id, text=self._line(query.from_user), show_alert=True
            )
            chat = _chat(update)
            return [answer] + (
                [LeaveChat(chat_id=chat.id)] if chat and chat.type != "private" else []
            )
        if update.my_chat_member is not None:
            change = update.my_chat_member
            if change.chat.type != "private" and change.new_chat_member.status in JOINED:
                return [LeaveChat(chat_id=change.chat.id)]
            return []  # a person blocking or unblocking the bot, or the bot already out
        if update.channel_post is not None or update.edited_channel_post is not None:
            post = update.channel_post or update.edited_channel_post
            assert post is not None
            return [LeaveChat(chat_id=post.chat.id)]
        message = update.message
        if message is not None and message.chat.type in ("group", "supergroup"):
            said: list[TelegramMethod[Any]] = []
            if await _addressed(message, bot):
                said.append(
                    SendMessage(
                        chat_id=message.chat.id,
                        text=self._line(message.from_user),
                        reply_parameters=ReplyParameters(
                            message_id=message.message_id, allow_sending_without_reply=True
                        ),
                    )
                )
            return [*said, LeaveChat(chat_id=message.chat.id)]
        return []  # an edit, an inline query, a reaction...: nothing at all


async def _addressed(message: Message, bot: Bot) -> bool:
    """A command to this bot (or to any bot, without a name) or a mention of it."""
    text = message.text or message.caption or ""
    entities: list[MessageEntity] = list(message.entities or message.caption_entities or [])
    me = await bot.me()
    name = (me.username or "").lower()
    for entity in entities:
        if entity.type == "text_mention" and entity.user is not None and entity.user.id == me.id:
            return True
        part = (
            entity.extract_from(text).lower() if entity.type in ("bot_command", "mention") else ""
        )
        if entity.type == "mention" and part == f"@{name}":
            return True
        if entity.type == "bot_command" and entity.offset == 0:
            _command, _at, target = part.partition("@")
            if not target or target == name:
                return True
    return False


class FloodControl(BaseMiddleware):
    """Someone sending many updates in a few seconds gets one polite 'slow down', not N replies.

    Each person's recent update times live in this process, or, given aiogram's FSM storage
    (Redis, REDIS_URL), there: then every instance counts the same updates, as a person's
    updates may reach any of them. A storage that cannot be reached lets updates through."""

    def __init__(
        self,
        i18n: I18n,
        *,
        limit: int,
        window: float,
        default_locale: str,
        storage: BaseStorage | None = None,
    ) -> None:
        self.i18n, self.limit, self.window = i18n, limit, window
        self.default_locale = default_locale
        self.storage = storage
        self.seen: dict[int, deque[float]] = {}
        self.warned: dict[int, float] = {}
        self._complained = -1e9

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        if self.storage is None:
            allowed, first = self._count_here(user.id, time.monotonic())
        else:
            allowed, first = await self._count_shared(data["bot"].id, user.id, time.time())
        if allowed:
            return await handler(event, data)
        await self._slow_down(event, data, user, first)
        data["outcome"] = "throttled"
        return UNHANDLED

    def _count_here(self, uid: int, now: float) -> tuple[bool, bool]:
        """(let it through, first warning in this window), counted in this process."""
        stamps = self.seen.setdefault(uid, deque())
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        if len(stamps) < self.limit:
            stamps.append(now)
            if len(self.seen) > 10_000:
                self._forget(now)
            return True, False
        first = now - self.warned.get(uid, -1e9) > self.window
        if first:
            self.warned[uid] = now
        return False, first

    async def _count_shared(self, bot_id: int, uid: int, now: float) -> tuple[bool, bool]:
        """The same, in the shared storage (wall-clock seconds: instances share no monotonic
        clock). Two instances reading at once may each miss the other's update: a flood limit
        of 8 may let 9 through, never fewer than 8."""
        assert self.storage is not None
        key = StorageKey(bot_id=bot_id, chat_id=uid, user_id=uid, destiny=FLOOD_DESTINY)
        try:
            state = await self.storage.get_data(key)
            stamps = [t for t in state.get("t", []) if now - t <= self.window]
            if len(stamps) < self.limit:
                await self.storage.set_data(key, {**state, "t": [*stamps, now]})
                return True, False
            first = now - float(state.get("w", -1e9)) > self.window
            if first:
                await self.storage.set_data(key, {"t": stamps, "w": now})
            return False, first
        except Exception as exc:  # Redis down: better a flood let through than a person shut out
            if time.monotonic() - self._complained > 60:
                self._complained = time.monotonic()
                log.warning(
                    "flood control storage unreachable (%s): not counting", type(exc).__name__
                )
            return True, False

    async def _slow_down(self, event: Any, data: dict[str, Any], user: User, first: bool) -> None:
        bot: Bot = data["bot"]
        with self.i18n.context(), self.i18n.use_locale(telegram_locale(user, self.default_locale)):
            text = _("You are sending messages very fast. Please wait a moment, then go on.")
        try:
            if isinstance(event, Update) and event.callback_query:
                await bot(
                    AnswerCallbackQuery(
                        callback_query_id=event.callback_query.id, text=text if first else None
                    )
                )
            elif first:
                await bot(SendMessage(chat_id=user.id, text=text))
        except Exception as exc:  # a failed warning must not break the loop
            log.warning("flood warning not sent: %s", exc)
        if first:
            log.info("flood control: dropping updates from a user for a moment")

    def _forget(self, now: float) -> None:
        for uid in [u for u, s in self.seen.items() if not s or now - s[-1] > self.window]:
            self.seen.pop(uid, None)
            self.warned.pop(uid, None)


class UpdateContext(BaseMiddleware):
    """Everything an update runs inside, in one middleware (each extra layer costs on every
    update): one connection and transaction, the dedup record, the person with their active
    run and role, and their language.

    The update id is recorded in the same transaction as the update's effects, with the replies
    the handler left in the outbox (bot.outbox.as_data; one INSERT at the end), so a redelivered
    update is not handled again. The replies are sent only after the commit, and forgotten (one
    UPDATE) once sent. An update delivered again while its replies are still stored was
    committed by a process that died before answering: the replies are sent now, and nothing
    else is done (outcome "replayed"); one whose replies were forgotten is a duplicate. A
    process killed after Telegram took the replies and before they were forgotten sends them
    twice: sending and committing can never be one act, and that one round trip is where a
    reply may repeat; anywhere else it is neither lost nor repeated.

    A question a replay sent again may reach a person who already has (and answers) the first
    one: bot.outbox.ReplayedCopies deletes the copy when its original is pressed. Handlers get
    `session`, `outbox`, `person` (None before consent), `active_run`, `role` and `locale`.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        transactions: Transactions,
        i18n: I18n,
        *,
        admin_ids: frozenset[int],
        default_locale: str,
        replay_after: float = 0.0,
    ) -> None:
        self.sessionmaker, self.i18n, self.default_locale = sessionmaker, i18n, default_locale
        # Webhook mode, where several instances may hold copies of one update: stored replies
        # younger than this may still be being sent by the instance that committed them, so a
        # copy meeting them asks Telegram to deliver it again later instead of replaying them.
        # Long polling (one process takes the updates) replays at once.
        self.replay_after = timedelta(seconds=replay_after)
        self.transactions = transactions
        self.admin_ids = admin_ids
        self.in_flight: set[int] = set()  # update ids this process is handling or answering
        self.copies = ReplayedCopies()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        data["outbox"] = Outbox()
        if event.update_id in self.in_flight:  # a second copy while the first is still here
            data["outcome"] = "duplicate"
            return UNHANDLED
        self.in_flight.add(event.update_id)
        try:
            return await self._run(handler, event, data)
        finally:
            self.in_flight.discard(event.update_id)

    async def _run(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:
        outbox: Outbox = data["outbox"]
        redundant = self.copies.redundant(event) if self.copies else []
        try:
            try:
                result = await self._handle(handler, event, data)
            except Exception as exc:
                if not stale_connection(exc):
                    raise
                # A pooled connection the server had closed (a restart, a failover): the pool
                # drops it and the others with it; nothing was committed, so try once more.
                log.warning(
                    "update %s: a database connection had been closed; trying once more",
                    event.update_id,
                )
                outbox.clear()
                result = await self._handle(handler, event, data)
        except Redelivered:  # another copy of it committed first (PostgreSQL, two instances)
            data["outcome"] = "duplicate"
            outbox.clear()
            result = UNHANDLED
        except Exception as exc:
            unreachable = database_unreachable(exc)
            data["outcome"] = "retry" if unreachable else "error"
            if unreachable:  # nothing to fix in the code: say what, without a traceback
                log.error(
                    "update %s (%s) not handled: the database is unreachable (%s)",
                    event.update_id, event.event_type, type(exc).__name__,
                )  # fmt: skip
            else:
                log.exception(
                    "update %s (%s) failed in %s: %s",
                    event.update_id, event.event_type, _where(exc), type(exc).__name__,
                )  # fmt: skip
            await self._after_failure(event, data, outbox, record=not unreachable)
            result = UNHANDLED
        outbox.methods[:0] = redundant  # before the press is answered (the copy is below it)
        methods = list(outbox.methods) if data.get("outcome") == "replayed" else None
        results = await outbox.flush(data["bot"])
        if methods is not None:
            self.copies.add(methods, results)
        if data.get("stored"):  # sent (or refused for good): nothing left to send again
            await self._forget(event.update_id)
        return result

    async def _handle(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:
        # One connection and transaction; the ORM session rides on it (and never commits).
        async with self.transactions.begin() as connection:
            session = self.sessionmaker(bind=connection)
            try:
                seen, stored, at = await repo.seen_update(session, update_id=event.update_id)
                if seen:
                    if stored and at is not None and clock.now() - at < self.replay_after:
                        data["outcome"] = "retry"  # another instance may be sending them now
                        log.info(
                            "update %s is being answered by another instance; asked again later",
                            event.update_id,
                        )
                        return UNHANDLED
                    self._redelivered(event, stored, data)
                    return UNHANDLED
                data["session"] = session
                await self._load_person(data)
                with self.i18n.context(), self.i18n.use_locale(data["locale"]):
                    result = await handler(event, data)
                replies = as_data(data["outbox"].methods)
                if not await repo.mark_processed(
                    session, update_id=event.update_id, replies=replies
                ):
                    raise Redelivered
                data["stored"] = replies is not None
                return result
            finally:
                if session.sync_session.in_transaction() or session.sync_session.identity_map:
                    await session.close()  # a session never used by the ORM holds nothing

    @staticmethod
    def _redelivered(event: Update, stored: list[Any] | None, data: dict[str, Any]) -> None:
        """An update already committed: its stored replies, if it has any, are sent now (the
        process that committed it died before it had sent them); else it is a duplicate."""
        data["outcome"] = "duplicate"
        if not stored:
            return
        methods = from_data(stored)
        for method in methods:
            data["outbox"].add(method)
        data["outcome"], data["stored"] = "replayed", True
        log.info(
            "update %s was committed but not answered: sending its %d stored replies",
            event.update_id, len(methods),
        )  # fmt: skip

    async def _forget(self, update_id: int) -> None:
        """Forget an update's replies once sent; should that fail they stay until the hourly
        prune removes the update id (two days), and are never sent again: a front door confirms
        the update all the same, so Telegram does not deliver it again."""
        try:
            await repo.forget_replies(self.transactions, update_id=update_id)
        except Exception as exc:
            log.warning(
                "update %s: its sent replies were not forgotten (%s)",
                update_id, type(exc).__name__,
            )  # fmt: skip

    async def _load_person(self, data: dict[str, Any]) -> None:
        """The person, their active run and role; the language from profile, Telegram, default."""
        user: User | None = data.get("event_from_user")
        person, run = None, None
        if user is not None:
            person, run = await repo.person_and_active_run(data["session"], telegram_id=user.id)
        data["person"], data["active_run"] = person, run
        if person is not None and person.blocked_at is not None:  # they are back: reachable
            await repo.update_person(data["session"], person, blocked_at=None)
        if user is not None and user.id in self.admin_ids:
            data["role"] = Role.ADMIN
        else:
            data["role"] = Role(person.role) if person else Role.RETURNEE
        locale = person.locale if person and person.locale in LOCALES else None
        data["locale"] = locale or telegram_locale(user, self.default_locale)
        data["i18n"] = self.i18n

    async def _after_failure(
        self, event: Update, data: dict[str, Any], outbox: Outbox, *, record: bool = True
    ) -> None:
        """Nothing of the update was kept: apologise, and record its id with the apology as its
        reply so a redelivery does not loop and still apologises should this process die before
        it has (unless the database was unreachable: then a redelivery is welcome)."""
        outbox.clear()
        user: User | None = data.get("event_from_user")
        if user is not None:
            locale = data.get("locale") or telegram_locale(user, self.default_locale)
            with self.i18n.context(), self.i18n.use_locale(locale):
                text = _(
                    "Sorry, something went wrong on our side. What you entered before is safe. "
                    "Please try again in a moment."
                )
            if event.callback_query:
                outbox.add(AnswerCallbackQuery(callback_query_id=event.callback_query.id))
            outbox.add(SendMessage(chat_id=user.id, text=text))
        if not record:
            return
        replies = as_data(outbox.methods)
        try:
            async with self.sessionmaker() as session, session.begin():
                recorded = await repo.mark_processed(
                    session, update_id=event.update_id, replies=replies
                )
        except Exception:
            log.exception("could not record failed update %s", event.update_id)
            return
        if not recorded:  # another copy of it was committed meanwhile: that one answers
            outbox.clear()
            data["outcome"] = "duplicate"
            return
        data["stored"] = replies is not None
