"""What the three journeys (cooperative, KUR, training) offer the rest of the bot.

Each journey's handler module registers its menu entry and what it adds to the person's
progress page; the menu and /progres know the journeys only through this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram.filters.callback_data import CallbackData

from bot.driver import Turn

JOURNEYS = ("coop", "kur", "training")


@dataclass(frozen=True)
class Line:
    """One entry on the progress page, already translated.

    `status` says where things stand ("Join request sent on 3 Dec, waiting for review"),
    `next_step` what the person does next, `button` a way to do it (text, callback data).
    `submission`: the id of the submission the line is about, if any; a returned or rejected
    one gets the reviewer's reason below it (and "Correct it now"), and is not listed again.
    """

    journey: str
    title: str
    status: str
    next_step: str | None = None
    button: tuple[str, CallbackData] | None = None
    submission: int | None = None


Entry = Callable[[Turn], Awaitable[None]]
Progress = Callable[[Turn], Awaitable[list[Line]]]
ENTRIES: dict[str, Entry] = {}
PROGRESS: dict[str, Progress] = {}


def entry(journey: str) -> Callable[[Entry], Entry]:
    """Register what the main menu button of a journey opens."""

    def register(fn: Entry) -> Entry:
        ENTRIES[journey] = fn
        return fn

    return register


def progress(journey: str) -> Callable[[Progress], Progress]:
    """Register the lines a journey adds to the progress page (beyond unfinished steps)."""

    def register(fn: Progress) -> Progress:
        PROGRESS[journey] = fn
        return fn

    return register


Invite = Callable[[Turn, str], Awaitable[None]]
INVITES: dict[str, Invite] = {}


def invite(prefix: str) -> Callable[[Invite], Invite]:
    """Register what a deep link `https://t.me/<bot>?start=<prefix>-<code>` opens.

    The link works for anyone: someone new gives consent and fills in the profile first,
    and is then shown what the link invited them to.
    """

    def register(fn: Invite) -> Invite:
        INVITES[prefix] = fn
        return fn

    return register


def invitation(payload: str | None) -> tuple[Invite, str] | None:
    """The handler and code of a /start payload that is an invitation, if it is one."""
    prefix, _, code = (payload or "").partition("-")
    handler = INVITES.get(prefix)
    return (handler, code) if handler is not None and code else None
