"""Helpers for reading what the bot did and walking common paths."""

from __future__ import annotations

from typing import Any

from aiogram.methods import TelegramMethod
from sqlalchemy import func, select

from bot.app import App
from bot.offline import OfflineChat
from storage.models import Base


def texts(calls: list[TelegramMethod[Any]]) -> str:
    """All text the person saw in these calls (messages, edits, alerts), joined."""
    parts = []
    for call in calls:
        for attr in ("text", "caption"):
            value = getattr(call, attr, None)
            if isinstance(value, str):
                parts.append(value)
    return "\n".join(parts)


async def count(app: App, model: type[Base], *where: Any) -> int:
    async with app.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def one(app: App, model: type[Base], *where: Any) -> Any:
    async with app.sessionmaker() as session:
        return (await session.scalars(select(model).where(*where))).one()


async def agree(chat: OfflineChat, payload: str = "") -> None:
    await chat.send("/start" + (f" {payload}" if payload else ""))
    await chat.press("Setuju")


async def onboard(
    chat: OfflineChat, *, name: str = "Siti Aminah", lang: str = "id", payload: str = ""
) -> None:
    """Walk the whole onboarding with valid answers (home: Kota Surabaya, Jawa Timur)."""
    await agree(chat, payload)
    await chat.choose(lang)
    await chat.send(name)
    await chat.send("0812 3456 7890")
    await chat.send("Jawa Timur")
    await chat.send("Kota Surabaya")
    await chat.choose("TW")
    await chat.choose("5to10")
    await chat.choose("kur")


def restarted(app: App) -> App:
    """A second app on the same database, as after a restart or on another instance; the
    caller closes it. Talk to it with `OfflineChat(new.bot, new.dp, new.bot.session, uid)`."""
    from bot.app import OFFLINE_TOKEN, build_app
    from bot.offline import OfflineSession

    return build_app(app.settings, session=OfflineSession(), token=OFFLINE_TOKEN)
