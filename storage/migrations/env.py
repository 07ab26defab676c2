"""Alembic environment: runs migrations on the async engine."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write our UTC datetime type as a plain timezone-aware DateTime in migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        # Each file its own transaction: a file that builds an index CONCURRENTLY commits what
        # came before it (storage/online_ddl.py), and only its own work.
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Instances started together on one PostgreSQL migrate one after the other: the first upgrades,
# the others wait here and then find the schema current (without it they fail on a duplicate).
# A session lock, not a transaction's: a migration that builds an index CONCURRENTLY commits in
# the middle (storage/online_ddl.py), and the lock must outlive that. A process that dies
# holding it loses it with its connection.
MIGRATION_LOCK = 0x4A55_524D  # "JURM"
LOCK_RETRY = 0.2  # s between tries while another instance migrates


async def _take_lock(driver: Any) -> None:
    """The migration lock, tried every LOCK_RETRY seconds until this session holds it."""
    while True:
        if await driver.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK):
            return
        await asyncio.sleep(LOCK_RETRY)


async def _main() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        # Taken and given back outside any transaction (asyncpg's own connection, before
        # SQLAlchemy begins one), and waited for by trying again, never by a statement that
        # blocks: CREATE INDEX CONCURRENTLY in the first instance waits for every statement
        # running in the database, so a second instance blocked in pg_advisory_lock would wait
        # for the first while the first waited for it (PostgreSQL calls it a deadlock).
        driver = (await conn.get_raw_connection()).driver_connection if postgres else None
        if driver is not None:
            await _take_lock(driver)
        try:
            await conn.run_sync(_run)
            await conn.commit()
        finally:
            if driver is not None:
                await conn.rollback()
                await driver.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_main())
