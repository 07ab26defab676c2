"""Routers, one per audience or concern. Order matters.

The flow router comes first because most updates are answers to a step; it never takes a
command (a message starting with "/"), so /start, /help or /batal in the middle of a flow
reach their own handlers. The fallback, which takes anything, is last.
"""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    announcements,
    coop,
    fallback,
    flow,
    kur,
    menu,
    privacy,
    progress,
    reminders,
    start,
    training,
)


def get_routers() -> list[Router]:
    return [
        flow.router(),
        start.router(),
        menu.router(),
        privacy.router(),
        progress.router(),
        reminders.router(),
        announcements.router(),
        coop.router(),
        kur.router(),
        training.router(),
        fallback.router(),
    ]
