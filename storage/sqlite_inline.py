"""SQLite for SQLAlchemy's async engine without a thread hop per statement.

aiosqlite runs every call (cursor, execute, fetch, close, commit) in a worker thread
and wakes the event loop for each result: about 25 hops per bot update, which cost
more than the statements themselves (an index lookup in a local file takes
microseconds). This module gives SQLAlchemy's aiosqlite dialect (through its
documented `async_creator` hook) a connection with the same awaitable interface
that runs the standard `sqlite3` calls inline.

It is safe only with ONE connection per database in the process: a statement
that had to wait for another connection's lock would block the event loop. The
engine in `storage.db` therefore uses a pool of exactly one connection, which
also serialises writers as SQLite needs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any


class InlineCursor:
    """The awaitable cursor interface SQLAlchemy's adapter expects, over a sqlite3 cursor."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, seq)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Immediate:
    """Stands in for aiosqlite's job queue: SQLAlchemy puts (future, function) on it."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection

    def put_nowait(self, job: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = job
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineConnection:
    """The awaitable connection interface of aiosqlite, running sqlite3 calls inline."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection = conn  # SQLAlchemy checks it to know the connection is open
        self._tx = _Immediate(self)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        """Like aiosqlite's: SQLAlchemy enters it with `async with` (`__aenter__`)."""
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None

    def stop(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None


def creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: opens the file with the stdlib driver."""

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(path, check_same_thread=False)
        return InlineConnection(conn)

    return connect
