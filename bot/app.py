"""Composition root: settings -> engine, sessionmaker, i18n, bot, dispatcher."""

from __future__ import annotations

import asyncio
import gc
import logging
import math
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, BotCommandScopeDefault, ChatMemberUpdated
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.broadcasts import Sender
from bot.config import LOCALES, Settings
from bot.delivery import Delivery
from bot.digest import DigestSettings, plan_digests
from bot.fsm import build_storage
from bot.handlers import get_routers
from bot.leader import Leader
from bot.logs import guard_personal_data
from bot.metrics import Metrics, Observe
from bot.middlewares import FloodControl, PrivateOnly, UpdateContext
from bot.notice_sender import NoticeSender
from bot.reminders import Ticker
from bot.retention import Pruner, Retention
from bot.scheduler import Heartbeat, build_scheduler
from flows import reminders as reminder_rules
from flows.i18n import N_
from storage.db import Transactions, create_engine, create_sessionmaker

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
OFFLINE_TOKEN = "1:offline"
# Webhook mode: how long stored replies may still be being sent by the instance that committed
# them (its sends wait out a 429 for at most MAX_WAIT, ATTEMPTS times: bot/outbox.py); a copy of
# the update meeting younger ones is answered 503, and Telegram delivers it again later.
REPLAY_AFTER = 150.0
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    i18n: I18n
    bot: Bot
    dp: Dispatcher
    ticker: Ticker
    sender: Sender
    leader: Leader
    metrics: Metrics
    heartbeat: Heartbeat
    notices: NoticeSender | None = None  # the desk's notices, written as rows

    async def close(self) -> None:
        logging.getLogger().removeHandler(self.metrics.error_counter)
        await self.sender.stop()  # its last sends written before another instance may lead
        await self.leader.release()
        await self.bot.session.close()
        await self.dp["transactions"].close()
        await self.dp.fsm.storage.close()
        await self.engine.dispose()


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where it exists (measured ~3% more answers/s), else plain asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def settle() -> None:
    """Keep the objects made at start-up out of every later garbage collection.

    Measured with bench/updates.py: full collections went from 1.3 s to 0.24 s per 10,000
    updates, the longest pause from ~250 ms to ~70 ms.
    """
    gc.collect()
    gc.freeze()


def build_i18n(default_locale: str) -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain="messages")


def build_dispatcher(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    i18n: I18n,
    metrics: Metrics | None = None,
) -> Dispatcher:
    # disable_fsm: a conversation's state is its flow run row, not aiogram's FSM storage; the
    # storage (Redis when REDIS_URL is set) holds what instances share, the flood windows.
    storage = build_storage(settings.redis_url)
    dp = Dispatcher(
        settings=settings,
        sessionmaker=sessionmaker,
        translator=i18n,
        storage=storage,
        disable_fsm=True,
    )
    dp.update.outer_middleware(Observe(metrics))
    dp.update.outer_middleware(PrivateOnly(i18n, default_locale=settings.default_locale))
    dp.update.outer_middleware(
        FloodControl(
            i18n,
            limit=settings.flood_limit,
            window=settings.flood_window,
            default_locale=settings.default_locale,
            storage=storage,
        )
    )
    dp["transactions"] = transactions = Transactions(sessionmaker.kw["bind"])
    dp.update.outer_middleware(
        UpdateContext(
            sessionmaker,
            transactions,
            i18n,
            admin_ids=settings.admin_ids,
            default_locale=settings.default_locale,
            replay_after=REPLAY_AFTER if settings.webhook_url else 0.0,
        )
    )
    dp.include_routers(*get_routers())
    # Telegram sends my_chat_member (the bot added to a group or channel) only when asked, and
    # allowed_updates (webhook and polling alike) lists the kinds that have a handler: this one,
    # so the update comes and PrivateOnly leaves the group before any handler runs.
    dp.my_chat_member.register(_answered_by_private_only)
    dp.startup.register(set_commands)
    return dp


async def _answered_by_private_only(event: ChatMemberUpdated) -> None:
    """Never reached: PrivateOnly answers every my_chat_member update itself."""


def build_app(
    settings: Settings, *, session: BaseSession | None = None, token: str | None = None
) -> App:
    """Everything wired together. `session` replaces the HTTP session (console, tests)."""
    guard_personal_data()
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    i18n = build_i18n(settings.default_locale)
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    bot = Bot(
        token=token or settings.require_token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    metrics = Metrics()
    logging.getLogger().addHandler(metrics.error_counter)
    dp = build_dispatcher(settings, sessionmaker, i18n, metrics)
    reminder_rules.set_quiet_hours(*settings.quiet_window)
    paid = settings.paid_broadcast
    # One rate for everything sent; announcements their own when paid broadcasts are on.
    delivery = Delivery(
        bot,
        rate=settings.delivery_rate,
        paid_rate=settings.paid_broadcast_rate if paid else None,
    )
    metrics.deliveries = delivery.counts
    ticker = Ticker(
        sessionmaker=sessionmaker,
        transactions=dp["transactions"],
        bot=bot,
        i18n=i18n,
        delivery=delivery,
    )
    config = DigestSettings(
        admin_ids=settings.admin_ids,
        hour=settings.digest_hour,
        overdue_days=settings.review_overdue_days,
    )
    ticker.planners.append(lambda s, now: plan_digests(s, now=now, config=config))
    leader = Leader(engine)
    sender = Sender(
        sessionmaker=sessionmaker,
        transactions=dp["transactions"],
        delivery=delivery,
        i18n=i18n,
        leader=leader,
        rate=settings.broadcast_rate,
        cap_per_week=settings.announcement_weekly_cap,
        admin_ids=settings.admin_ids,
        paid=paid,
        # Enough sends in flight for the rate over a ~250 ms round trip; a kill re-sends at
        # most these (8 at the free rate; about a quarter second's worth when paid).
        concurrency=max(8, math.ceil(settings.broadcast_rate * 0.25)) if paid else 8,
    )
    notice_sender = NoticeSender(
        sessionmaker=sessionmaker,
        transactions=dp["transactions"],
        delivery=delivery,
        i18n=i18n,
        leader=leader,
    )
    return App(
        settings, engine, sessionmaker, i18n, bot, dp, ticker, sender, leader, metrics,
        Heartbeat(), notice_sender,
    )  # fmt: skip


def pruner_of(app: App) -> Pruner:
    """The retention job's worker, from the RETAIN_* settings."""
    settings = app.settings
    return Pruner(
        transactions=app.dp["transactions"],
        sessionmaker=app.sessionmaker,
        retention=Retention(
            update_ids=timedelta(days=settings.retain_update_ids_days),
            deliveries=timedelta(days=settings.retain_deliveries_days),
            audit=timedelta(days=settings.retain_audit_days),
            batch=settings.prune_batch,
        ),
    )


def start_scheduler(app: App) -> AsyncIOScheduler:
    """Start the periodic jobs (reminders, broadcasts) with the bot; `juragan run` does this."""
    scheduler = build_scheduler(
        app.ticker,
        every=app.settings.reminder_tick_seconds,
        sender=app.sender,
        leader=app.leader,
        poll=app.settings.broadcast_poll_seconds,
        heartbeat=app.heartbeat,
        notices=app.notices,
        pruner=pruner_of(app),
    )
    scheduler.start()
    return scheduler


async def stop(app: App, scheduler: AsyncIOScheduler | None) -> None:
    """Stop what start_scheduler started, then everything: the sender first (its sends in
    flight written), because the scheduler's shutdown cancels the jobs still running."""
    await app.sender.stop()
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    await app.close()


def commands(i18n: I18n, locale: str) -> list[BotCommand]:
    """The command menu in one language."""
    names = [
        ("start", N_("Begin, or continue where you were")),
        ("menu", N_("Main menu")),
        ("progres", N_("Where you are in each journey")),
        ("pengingat", N_("Your reminders")),
        ("tanya", N_("Ask a staff member of your region")),
        ("berhenti", N_("No more announcements")),
        ("profil", N_("See and change your profile")),
        ("bahasa", N_("Change the language")),
        ("batal", N_("Stop what is going on now")),
        ("datasaya", N_("Everything we keep about you")),
        ("hapusdata", N_("Delete your data")),
        ("help", N_("Help")),
    ]
    return [BotCommand(command=c, description=i18n.gettext(d, locale=locale)) for c, d in names]


async def set_commands(bot: Bot, translator: I18n, settings: Settings) -> None:
    """setMyCommands for every language, and the default for everyone else; getMe once, so
    handlers read the bot's username (invitation links) from aiogram's cache, never the network."""
    await bot.me()
    for locale in LOCALES:
        await bot.set_my_commands(commands(translator, locale), language_code=locale)
    await bot.set_my_commands(
        commands(translator, settings.default_locale), scope=BotCommandScopeDefault()
    )
