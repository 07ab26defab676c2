"""Training sessions: list, register, waitlist, cancel; coordinators add and edit."""

from __future__ import annotations

from aiogram import Router


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    return Router(name="training")
