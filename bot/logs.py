"""Logging that never carries personal data: one place decides what may be verbose and how lines
look (text for a terminal, one JSON object a line for a log collector: LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

# Loggers that write statement parameters (names, phone numbers) at DEBUG: capped at WARNING.
PARAMETER_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool")
# aiogram's own line per update ("Update id=... is handled") repeats ours (bot.metrics.Observe).
QUIETED = ("aiogram.event",)
# Fields a record may carry beyond its message (bot.metrics.Observe sets them); nothing else
# from `extra` is written, so a careless extra cannot leak a name or a number into the logs.
FIELDS = ("update_id", "update_type", "outcome", "ms")


# Exceptions whose messages are safe and useful to keep: the network, the database (SQLAlchemy
# hides statement parameters), Telegram's own descriptions. Any other message (a KeyError, a
# ValueError) may quote what a person typed, so a traceback keeps its frames and the type only.
SAFE_MESSAGES = ("sqlalchemy.", "asyncpg.", "aiohttp.", "aiogram.exceptions", "redis.")
WITHHELD = "(its message is not logged: it may hold personal data)"


def _message_is_safe(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return isinstance(exc, OSError | TimeoutError) or module.startswith(SAFE_MESSAGES)


def safe_traceback(exc: BaseException | None, tb: TracebackType | None = None) -> str:
    """The traceback as Python prints it (every frame and its source line), the chain too, but
    an exception's message only where it cannot carry personal data."""
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
        last = f"{name}: {exc}" if _message_is_safe(exc) else f"{name} {WITHHELD}"
        frames = "".join(traceback.format_tb(tb if not parts and tb else exc.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{last}")
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n\nwhich happened while handling or because of:\n".join(parts)


class SafeTracebacks(logging.Formatter):
    """A formatter whose tracebacks are safe_traceback()s, whatever another handler cached."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return safe_traceback(ei[1], ei[2])

    def format(self, record: logging.LogRecord) -> str:
        cached, record.exc_text = record.exc_text, None  # another formatter's, maybe unsafe
        try:
            return super().format(record)
        finally:
            record.exc_text = cached


class JsonFormatter(SafeTracebacks):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the known fields,
    and the traceback as one string when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def guard_personal_data() -> None:
    for name in PARAMETER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in QUIETED:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(SafeTracebacks("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name("juragan")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "juragan"]:
        root.removeHandler(old)  # setup() twice in one process writes each line once
    root.addHandler(handler)
    root.setLevel(level)
    guard_personal_data()
