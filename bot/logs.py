"""Logging that never carries personal data: one place decides what may be verbose and how lines
look (text for a terminal, one JSON object a line for a log collector: LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# Loggers that write statement parameters (names, phone numbers) at DEBUG: capped at WARNING.
PARAMETER_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool")
# aiogram's own line per update ("Update id=... is handled") repeats ours (bot.metrics.Observe).
QUIETED = ("aiogram.event",)
# Fields a record may carry beyond its message (bot.metrics.Observe sets them); nothing else
# from `extra` is written, so a careless extra cannot leak a name or a number into the logs.
FIELDS = ("update_id", "update_type", "outcome", "ms")


class JsonFormatter(logging.Formatter):
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
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name("juragan")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "juragan"]:
        root.removeHandler(old)  # setup() twice in one process writes each line once
    root.addHandler(handler)
    root.setLevel(level)
    guard_personal_data()
