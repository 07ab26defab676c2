"""Routers, one per audience or concern. Order matters.

The consent gate comes first: it passes only someone who agreed to an older version of the
consent notice, who is asked again before anything else. The broadcast router comes next only for a coordinator whose draft announcement waits for
typed input (its filter passes nobody else). The flow router comes next because most updates are
answers to a step; it never takes a command (a message starting with "/"), so /start, /help
or /batal in the middle of a flow reach their own handlers. The intents router (free text
outside a flow: "Did you mean ...?") follows, before the routers that take only commands and
buttons. The fallback, which takes anything, is last.
"""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    announcements,
    audit,
    broadcast,
    coop,
    desk,
    export,
    fallback,
    flow,
    founding,
    intents,
    kur,
    menu,
    privacy,
    progress,
    reminders,
    review,
    start,
    stats,
    tickets,
    training,
)
from bot.handlers import roles as roles_admin


def get_routers() -> list[Router]:
    return [
        start.gate(),  # someone who agreed to an older consent notice is asked again first
        tickets.waiting(),  # a pressed "Ask" or "Reply" takes the next message, even mid-flow
        broadcast.router(),
        flow.router(),
        tickets.router(),  # free text outside a flow goes to an open ticket first
        intents.router(),
        start.router(),
        menu.router(),
        privacy.router(),
        progress.router(),
        reminders.router(),
        announcements.router(),
        coop.router(),
        founding.router(),
        kur.router(),
        training.router(),
        review.router(),
        audit.router(),
        roles_admin.router(),
        export.router(),
        stats.router(),
        desk.router(),
        fallback.router(),
    ]
