"""bot/logs.py: what an exception, a warning or a library's line may say, in both formats."""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import aiohttp
import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import SendMessage
from sqlalchemy.exc import StatementError

from bot import logs

TYPED = "Siti Aminah NIK 3578014101900001 HP 081234567890"
LEAKS = ("Siti", "3578014101900001", "81234567890", "777000123", "CANARY", "s3cret-pass")


def clean(text: str) -> bool:
    return [leak for leak in LEAKS if leak in text] == []


@pytest.fixture(params=["text", "json"])
def written(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[[], str]]:
    """A function that calls logs.setup() as `juragan run` does (at its first call, inside the
    test, where stderr is captured) and returns what was written to stderr since. Restores
    logging, warnings and the excepthooks afterwards."""
    import threading

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, warnings.showwarning, sys.excepthook)
    saved_thread, saved_raise = threading.excepthook, logging.raiseExceptions
    saved_unraisable = sys.unraisablehook
    started: list[bool] = []

    def read() -> str:
        if not started:
            started.append(True)
            capsys.readouterr()
            logs.setup("DEBUG", request.param, ["123456:CANARY", "s3cret-pass"])
            return ""
        return capsys.readouterr().err

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        yield read
    root.handlers[:], _, warnings.showwarning, sys.excepthook = saved
    root.setLevel(saved[1])
    threading.excepthook, logging.raiseExceptions = saved_thread, saved_raise
    sys.unraisablehook = saved_unraisable
    logs._secrets.clear()


def test_a_warning_is_a_log_line_without_its_text(written: Callable[[], str]) -> None:
    written()
    warnings.warn(f"Update: {TYPED}", RuntimeWarning, stacklevel=1)
    err = written()
    assert "RuntimeWarning at" in err and "test_logs.py" in err and clean(err), err


def test_a_library_logging_an_exception_as_an_argument_says_only_what_is_safe(
    written: Callable[[], str],
) -> None:
    written()
    logging.getLogger("aiogram.event").error(
        "Cause exception while process update id=%d by bot id=%d\n%s: %s",
        5, 123456, "ValueError", ValueError(TYPED),
    )  # fmt: skip
    logging.getLogger("asyncio").error(
        "Task exception was never retrieved\nfuture: <Task exception=ValueError(%r)>", TYPED
    )
    err = written()
    assert "update id=5" in err and "ValueError" in err and clean(err), err
    assert "Task exception was never retrieved" in err


def test_secrets_and_tokens_in_urls_are_blanked_out(written: Callable[[], str]) -> None:
    written()
    log = logging.getLogger("bot.somewhere")
    log.warning("connecting to postgresql://juragan:s3cret-pass@db/juragan")
    log.warning("GET http://127.0.0.1/bot987654:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe")
    try:
        raise aiohttp.InvalidURL("http:///bot123456:CANARY/getMe")
    except aiohttp.InvalidURL:
        log.exception("start failed")
    err = written()
    assert "bot***" in err and "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in err and clean(err), err


def test_an_uncaught_exception_is_logged_without_its_message(written: Callable[[], str]) -> None:
    written()
    try:
        raise KeyError(TYPED)
    except KeyError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    try:
        raise KeyError(TYPED)
    except KeyError as exc:
        unraisable = SimpleNamespace(
            exc_type=type(exc), exc_value=exc, exc_traceback=exc.__traceback__, object=TYPED
        )
        sys.unraisablehook(unraisable)  # type: ignore[arg-type]
    err = written()
    assert "ignored in a str" in err
    assert "stopped by KeyError" in err and "test_logs.py" in err and clean(err), err


@pytest.mark.parametrize(
    "exc",
    [
        StatementError("(builtins.ValueError) " + TYPED, "SELECT 1", {}, ValueError(TYPED)),
        TelegramBadRequest(SendMessage(chat_id=777000123, text=TYPED), f"chat {777000123}"),
        OSError("[Errno 111] Connect call failed, chat 777000123"),
        ValueError(TYPED),
    ],
)
def test_describe_never_says_a_canary(exc: BaseException) -> None:
    said = logs.describe(exc)
    assert type(exc).__name__ in said and clean(said), said


async def test_database_errors_are_told_without_the_values_they_quote(database_url: str) -> None:
    """PostgreSQL's DETAIL (Key (telegram_id)=(...)) and asyncpg's "invalid input for query
    argument $1: <value>" quote what was written; describe() and the traceback keep neither."""
    from sqlalchemy.exc import DBAPIError

    from storage import repo
    from storage.db import create_engine, create_sessionmaker

    engine = create_engine(database_url)
    caught: list[BaseException] = []
    try:
        for telegram_ids in ([777000123, 777000123], [777000123777000123777]):
            try:
                async with create_sessionmaker(engine)() as session, session.begin():
                    for telegram_id in telegram_ids:
                        await repo.create_person(session, telegram_id=telegram_id, locale="id")
            except (DBAPIError, OverflowError) as exc:
                caught.append(exc)
    finally:
        await engine.dispose()
    assert len(caught) == 2
    for exc in caught:
        written = logs.safe_traceback(exc)
        assert clean(written) and clean(logs.describe(exc)), written
    if database_url.startswith("postgresql"):
        assert "SQLSTATE 23505" in logs.describe(caught[0]) and "people" in logs.describe(caught[0])
        assert "SQLSTATE 22000" in logs.safe_traceback(caught[1])
