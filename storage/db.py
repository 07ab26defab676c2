"""Engine and sessionmaker: SQLite in WAL mode with one writer, PostgreSQL with a pool."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import Executable

from storage import sqlite_inline


class Encoded(str):
    """A JSON value already encoded as text (bot.outbox.as_data, by pydantic): written to a
    JSON column as it is, instead of being decoded only to be encoded again."""


def _json(value: Any) -> str:
    """The engines' JSON serializer: json.dumps, as SQLAlchemy's default, but for `Encoded`."""
    return str(value) if isinstance(value, Encoded) else json.dumps(value)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine tuned for the backend.

    SQLite allows one writer at a time; a pool of one connection serialises the
    per-update transactions instead of letting them fight over the file lock
    (measured: concurrent writers through the default pool were ~45% slower), and
    lets that one connection run its statements inline (`storage.sqlite_inline`).
    """
    # Errors must not carry statement parameters (phone numbers, names) into the logs.
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("json_serializer", _json)
    if is_sqlite(url):
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 60)
        # Every transaction here ends in an explicit commit or rollback (context managers), so
        # the pool's extra rollback on each check-in is pure cost on the hot path.
        kwargs.setdefault("pool_reset_on_return", None)
        database = make_url(url).database or ":memory:"
        if kwargs["pool_size"] == 1 and kwargs["max_overflow"] == 0:
            kwargs.setdefault("async_creator", sqlite_inline.creator(database))
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    # 20 kept: Telegram posts at most WEBHOOK_MAX_CONNECTIONS (40) updates at once over all
    # instances, so two instances never open and close connections per update (measured with
    # bench/instances.py: 10 kept + 10 extra opened ~30 connections a second and cost ~15% of the
    # answers/s). Up to 10 more for a burst. PostgreSQL's max_connections must exceed 30 per
    # instance (the sender lock's connection is one of them).
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    # No ping before each checkout (a round trip per update: measured 598 -> 688 answers/s
    # without it); a connection the server closed fails its first statement instead, the pool
    # drops it, and bot.middlewares.UpdateContext tries that update once more. Connections are
    # renewed every half hour, before a proxy or firewall would silently cut an idle one.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Transactions:
    """Where each bot update's transaction comes from.

    On SQLite, one connection is opened once and held for the process's life: the writer.
    Checking a connection out of a pool per update cost as much as one statement (measured:
    130 µs against 63 µs for begin, one query and commit). Its statements run inline and an
    update's transaction never waits on I/O, so transactions cannot interleave; a lock keeps it
    so should one ever await. Everything else (migrations, tools, tests) uses the main engine.
    On PostgreSQL, each transaction takes a connection from the main engine's pool.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        self.engine = (
            create_engine(engine.url.render_as_string(hide_password=False))
            if self.sqlite
            else engine
        )
        self._held: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        if not self.sqlite:
            async with self.engine.connect() as connection, connection.begin():
                yield connection
            return
        async with self._lock:
            if self._held is None:
                self._held = await self.engine.connect()
            async with self._held.begin():
                yield self._held

    async def alone(self, statement: Executable, params: dict[str, Any]) -> None:
        """One statement as a transaction of its own: on PostgreSQL in autocommit (one round
        trip, not BEGIN, the statement and COMMIT), on SQLite on the writer."""
        if self.sqlite:
            async with self.begin() as connection:
                await connection.execute(statement, params)
            return
        async with self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(statement, params)

    async def close(self) -> None:
        if self._held is not None:
            await self._held.close()
            self._held = None
        if self.sqlite:
            await self.engine.dispose()
