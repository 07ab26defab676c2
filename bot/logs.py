"""Logging that never carries personal data: one place decides what may be verbose."""

from __future__ import annotations

import logging

# Loggers that write statement parameters (names, phone numbers) at DEBUG: capped at WARNING.
PARAMETER_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool")


def guard_personal_data() -> None:
    for name in PARAMETER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    guard_personal_data()
