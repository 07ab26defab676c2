"""Logging that never carries personal data: one place decides what may be verbose and how lines
look (text for a terminal, one JSON object a line for a log collector: LOG_FORMAT=json)."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
import warnings
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


# Exceptions whose messages are safe and useful to keep: the network, Telegram's own
# descriptions, Redis, SQLite. Any other message (a KeyError, a ValueError) may quote what a
# person typed, so a traceback keeps its frames and the type only. PostgreSQL's messages quote
# values too (DETAIL: Key (telegram_id)=(...), Failing row contains (...), and asyncpg's
# "invalid input for query argument $1: <value>"), so a database error says its SQLSTATE, the
# constraint, table and column it names, and the statement (never its parameters).
SAFE_MESSAGES = ("aiohttp.", "aiogram.exceptions", "redis.", "sqlite3")
WITHHELD = "(its message is not logged: it may hold personal data)"
# SQLSTATE classes whose primary message (never the DETAIL) is about the server, not a row:
# connection, authorisation, unknown database, resources, operator, deadlock/serialisation.
SAFE_SQLSTATE_CLASSES = ("08", "28", "3D", "53", "57", "40")
# Blanked out of everything written, whatever wrote it: the token in a Bot API URL, anything
# shaped like a bot token, a password in a URL, and (in messages we did not write) long digit
# runs, which are what Telegram ids, phone numbers and NIKs look like.
TOKEN_IN_URL = re.compile(r"/bot[^/\s]+/")
TOKEN = re.compile(r"\b[0-9]{3,}:[A-Za-z0-9_-]{20,}")
PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")
LONG_NUMBER = re.compile(r"[0-9]{6,}")
OUR_LOGGERS = ("bot", "juragan", "storage", "flows")
_secrets: list[str] = []


def redact(text: str, *, numbers: bool = False) -> str:
    """`text` with the secrets blanked out (and long digit runs, with `numbers`)."""
    for secret in _secrets:
        text = text.replace(secret, "***")
    text = TOKEN_IN_URL.sub("/bot***/", text)
    text = TOKEN.sub("***", text)
    text = PASSWORD_IN_URL.sub(r"\1***@", text)
    return LONG_NUMBER.sub("<n>", text) if numbers else text


def _database(exc: BaseException) -> str | None:
    """A database error told without its message: SQLSTATE and the names it carries."""
    sources = [exc, exc.__cause__]
    state = next(
        (getattr(e, "sqlstate", None) for e in sources if getattr(e, "sqlstate", None)), None
    )
    if state is None:
        return None
    said = [f"SQLSTATE {state}"]
    if state[:2] in SAFE_SQLSTATE_CLASSES:  # their primary message names no row's values
        message = next(
            (e.message for e in sources if isinstance(getattr(e, "message", None), str)), None
        )  # type: ignore[union-attr]
        if message:
            said.append(redact(message, numbers=True))
    for field in ("table_name", "column_name", "constraint_name"):
        value = next((getattr(e, field, None) for e in sources if getattr(e, field, None)), None)
        if value:
            said.append(f"{field.removesuffix('_name')} {value}")
    return ", ".join(said)


def describe(exc: BaseException) -> str:
    """The last line of a traceback for `exc`: its type, and what it says only where that
    cannot be personal data."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
    module = type(exc).__module__ or ""
    orig = getattr(exc, "orig", None)
    if module.startswith("sqlalchemy.") and isinstance(orig, BaseException):
        statement = " ".join(str(getattr(exc, "statement", "") or "").split())[:300]
        sql = f" [SQL: {redact(statement, numbers=True)}]" if statement else ""
        return f"{name}: ({describe(orig)}){sql}"
    said = _database(exc)
    if said is not None:
        return f"{name}: {said}"
    if module.startswith(("asyncpg", "sqlalchemy.dialects")):
        return f"{name} {WITHHELD}"
    if isinstance(exc, OSError | TimeoutError) or module.startswith(
        SAFE_MESSAGES + ("sqlalchemy.",)
    ):
        return f"{name}: {redact(str(exc), numbers=True)}"
    return f"{name} {WITHHELD}"


def safe_traceback(exc: BaseException | None, tb: TracebackType | None = None) -> str:
    """The traceback as Python prints it (every frame and its source line), the chain too, but
    an exception's message only where it cannot carry personal data."""
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = "".join(traceback.format_tb(tb if not parts and tb else exc.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{describe(exc)}")
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\n\nwhich happened while handling or because of:\n".join(parts)


def _safe_args(record: logging.LogRecord) -> Any:
    """The record's arguments with every exception replaced by describe(): a library that
    logs "%s: %s" % (type, exception) would otherwise write the exception's message."""
    args = record.args
    if isinstance(args, tuple):
        return tuple(describe(a) if isinstance(a, BaseException) else a for a in args)
    if isinstance(args, dict):
        return {k: describe(v) if isinstance(v, BaseException) else v for k, v in args.items()}
    return args


class SafeTracebacks(logging.Formatter):
    """A formatter whose tracebacks are safe_traceback()s, whatever another handler cached."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return safe_traceback(ei[1], ei[2])

    def format(self, record: logging.LogRecord) -> str:
        cached, record.exc_text = record.exc_text, None  # another formatter's, maybe unsafe
        args, record.args = record.args, _safe_args(record)
        try:
            return redact(self.formatted(record))
        finally:
            record.exc_text, record.args = cached, args

    def formatted(self, record: logging.LogRecord) -> str:
        return super().format(record)

    @staticmethod
    def message(record: logging.LogRecord) -> str:
        """The record's message; from a library's logger with long numbers blanked out (ours
        write update ids, never a person's), from asyncio only its first line (the second is
        a task's repr, exception message and all)."""
        text = record.getMessage()
        if record.name == "asyncio":
            text = text.split("\n", 1)[0]
        if not record.name.startswith(OUR_LOGGERS):
            text = redact(text, numbers=True)
        return text

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = self.message(record)
        return super().formatMessage(record)


class JsonFormatter(SafeTracebacks):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the known fields,
    and the traceback as one string when there is one."""

    def formatted(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.message(record),
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
    # aiogram warns about an update kind it does not know with the whole update in the text
    # (names, phone numbers, what was typed). Observe's line says "unknown" instead.
    warnings.filterwarnings(
        "ignore", message="Detected unknown update type", category=RuntimeWarning
    )


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A warning as a log line that says its kind and where, never its text (a library may put
    anything in it)."""
    where = "/".join(filename.replace("\\", "/").split("/")[-3:])
    logging.getLogger("py.warnings").warning(
        "%s at %s:%s (its text is not logged: it may hold personal data)",
        category.__name__, where, lineno,
    )  # fmt: skip


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("juragan").critical("stopped by %s", kind.__name__, exc_info=(kind, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def _log_unraisable(unraisable: Any) -> None:
    """An exception Python can only ignore (in __del__, a finaliser): logged, never printed
    with its message; the object is named by its type only (its repr may hold anything)."""
    if unraisable.exc_value is None:
        return
    logging.getLogger("juragan").error(
        "an exception was ignored in a %s",
        type(unraisable.object).__name__,
        exc_info=(unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback),
    )


def setup(level: str, fmt: str = "text", secrets: list[str] | tuple[str, ...] = ()) -> None:
    """Every line through one handler on stderr, in one format; warnings and uncaught
    exceptions too (Python would print their text); `secrets` blanked out wherever they are."""
    _secrets[:] = sorted({s for s in secrets if s}, key=len, reverse=True)
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
    # A line that cannot be written must not make logging print the record's own traceback,
    # message and all, to stderr.
    logging.raiseExceptions = False
    warnings.showwarning = _show_warning
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    sys.unraisablehook = _log_unraisable
