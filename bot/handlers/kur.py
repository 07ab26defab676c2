"""KUR loan steps: readiness, recommendation, simulator, documents, bank, outcome."""

from __future__ import annotations

from aiogram import Router


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    return Router(name="kur")
