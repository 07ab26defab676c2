"""Cooperatives: find and join one, or found one with fellow returnees."""

from __future__ import annotations

from aiogram import Router


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    return Router(name="coop")
