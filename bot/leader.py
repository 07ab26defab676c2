"""Which instance sends: one at a time, so the bot-wide rate holds with any number of them.

On PostgreSQL the sender holds a session advisory lock on a connection of its own. If the
process dies, PostgreSQL ends that session and frees the lock, and the next instance to try
takes over. On SQLite there is one process by design (one writer), so it always leads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

LOCK_KEY = 0x4A55_5247  # "JURG": the one outbound sender of this database
CHECK_EVERY = 5.0  # seconds between checks that the lock's connection is still alive


class Leader:
    """`await leader.hold()`: True while this process is the sender."""

    def __init__(self, engine: AsyncEngine, *, key: int = LOCK_KEY) -> None:
        self.engine, self.key = engine, key
        self.postgres = engine.dialect.name == "postgresql"
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # the lock connection's asyncpg connection
        self._checked = 0.0
        self.took_over = 0  # how many times this process became the sender
        # The reminder tick and the broadcast sender both call hold(); one connection runs one
        # statement at a time, and a check failing for that would drop a lock that is fine.
        self._lock = asyncio.Lock()

    @property
    def leading(self) -> bool:
        return not self.postgres or self._connection is not None

    def still_holds(self) -> bool:
        """No round trip: False once the lock's connection is known closed (PostgreSQL ended
        the session, so the lock is free and another instance may have taken over)."""
        if not self.postgres:
            return True
        driver = self._driver
        return self._connection is not None and driver is not None and not driver.is_closed()

    async def hold(self) -> bool:
        """Keep the lock, or try to take it; never waits for another instance."""
        async with self._lock:
            return await self._hold()

    async def _hold(self) -> bool:
        if not self.postgres:
            if not self.took_over:
                self.took_over = 1
            return True
        now = time.monotonic()
        if self._connection is not None:
            if now - self._checked < CHECK_EVERY:
                return True
            try:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()  # never left idle in a transaction
                self._checked = now
                return True
            except Exception:
                log.warning("lost the sender lock's connection; trying again")
                await self._drop()
        try:
            connection = await self.engine.connect()
        except Exception:
            log.warning("no database connection for the sender lock; trying again")
            return False
        try:
            got = (
                await connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            ).scalar_one()
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._connection, self._checked = connection, now
        self._driver = (await connection.get_raw_connection()).driver_connection
        self.took_over += 1
        log.info("this instance is now the one sending reminders and broadcasts")
        return True

    async def _drop(self) -> None:
        connection, self._connection, self._driver = self._connection, None, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:
                log.debug("closing the lost lock connection failed", exc_info=True)

    async def release(self) -> None:
        """Let another instance send (on shutdown)."""
        async with self._lock:
            await self._release()

    async def _release(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": self.key}
                )
                await self._connection.commit()
            except Exception:  # the connection is gone, and the lock with it
                log.info("the sender lock's connection was already closed")
            finally:
                await self._drop()
