"""Tanya petugas (the help desk) in the bot, for both sides.

- `person`: the returnee asks (typed or a voice note), follows up, rates the answer.
- `staff`: staff and coordinators on a phone, /tiket.
- `waits`: the message the bot asked for (a question after "Ask", a reply after "Reply").
- `common`: what both sides share.

`waiting()` comes before the flow router (a pressed "Ask" or "Reply" takes the next message
even mid-flow); `router()` after it (free text outside a flow goes to an open ticket before
the intents matcher reads it).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from bot.handlers.common import IsCommand
from bot.handlers.tickets import person, staff, waits
from bot.handlers.tickets.common import REFUSED, WAIT
from bot.handlers.tickets.person import ask_button, start_asking
from bot.handlers.tickets.staff import TicketCB, journey_lines
from bot.keyboards import AskCB

__all__ = [
    "REFUSED",
    "WAIT",
    "TicketCB",
    "ask_button",
    "journey_lines",
    "router",
    "start_asking",
    "waiting",
]


def waiting() -> Router:
    """Before the flow router: the message the bot asked for (a question, a staff reply)."""
    r = Router(name="tickets.waiting")
    r.message.register(waits.waited, waits.Waiting())
    return r


def router() -> Router:
    """After the flow router: follow-ups to an open ticket, the buttons, /tanya and /tiket."""
    r = Router(name="tickets")
    r.message.register(person.ask_command, IsCommand(), Command("tanya", "ask"))
    r.message.register(staff.command, IsCommand(), Command("tiket", "tickets"))
    r.message.register(person.follow_up, person.FollowUp())
    r.callback_query.register(person.ask_pressed, AskCB.filter(F.act == "ask"))
    r.callback_query.register(waits.stop_pressed, AskCB.filter(F.act == "stop"))
    r.callback_query.register(person.rate_pressed, AskCB.filter(F.act == "rate"))
    r.callback_query.register(staff.pressed, TicketCB.filter())
    return r
