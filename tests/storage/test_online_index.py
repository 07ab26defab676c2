"""An index migration on PostgreSQL never stops the bot's writes (storage/online_ddl.py), and
an index a killed build left INVALID is built again by the next upgrade.

A plain CREATE INDEX takes a SHARE lock: it waits behind any transaction writing to the table,
and every write that comes after waits behind it, so one slow update freezes every answer that
writes to `people` until it ends. CREATE INDEX CONCURRENTLY waits for that transaction too, but
lets the writes after it through. The test holds an update open, starts migration 0020 beside
it, and times another person's update meanwhile: it must not wait for the open one.
"""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage.db import create_engine
from storage.migrate import downgrade, upgrade

HELD = 2.0  # s the first update stays open
INDEXES = (
    "ix_people_province",
    "ix_people_regency",
    "ix_flow_runs_flow_started",
    "ix_submissions_run",
)
PATIENCE = 0.8  # s the second update may take (it waits ~HELD behind a plain CREATE INDEX)


async def _valid_indexes(url: str) -> dict[str, bool]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT c.relname, i.indisvalid FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'ix_%'"
            )
        )
        found = {str(name): bool(valid) for name, valid in rows}
    await engine.dispose()
    return found


async def test_migration_0020_builds_its_indexes_without_stopping_writes(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer by design; the index is built in place")
    name = f"juragan_online_{secrets.token_hex(4)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await asyncio.to_thread(upgrade, url, "0019")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO people (id, telegram_id, role, nudges, announcements, "
                    "created_at, updated_at) SELECT g, 1000 + g, 'returnee', true, false, now(), "
                    "now() FROM generate_series(1, 2000) AS g"
                )
            )
        async with engine.connect() as slow, engine.connect() as other:
            # Behind a plain CREATE INDEX this update would wait until `slow` ends, which is
            # after it: give up instead of hanging, and fail below.
            await other.execute(text(f"SET lock_timeout = '{int(HELD * 1000)}ms'"))
            await other.commit()
            await slow.execute(text("UPDATE people SET country = 'Taiwan' WHERE id = 1"))
            migrating = asyncio.create_task(asyncio.to_thread(upgrade, url, "0020"))
            await asyncio.sleep(0.5)  # the migration is waiting for the open update now
            started = time.monotonic()
            try:
                await other.execute(text("UPDATE people SET country = 'Malaysia' WHERE id = 2"))
                await other.commit()
            except DBAPIError:  # lock_timeout: it waited for the migration
                await other.rollback()
            took = time.monotonic() - started
            await asyncio.sleep(max(0.0, HELD - 0.5 - took))
            built_early = migrating.done()
            await slow.commit()
            await asyncio.wait_for(migrating, timeout=60)
        assert took < PATIENCE, f"an update waited {took:.2f} s for the index migration"
        assert not built_early, "the index was built while an update was open"
        found = await _valid_indexes(url)
        for index in INDEXES:
            assert found.get(index) is True, (index, found)

        # A concurrent build that died leaves an INVALID index; the next upgrade replaces it.
        await asyncio.to_thread(downgrade, url, "0019")
        assert not set(INDEXES) & set(await _valid_indexes(url))
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("CREATE INDEX ix_people_province ON people (country)"))
            await connection.execute(
                text(
                    "UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
                    "'ix_people_province'::regclass"
                )
            )
        assert (await _valid_indexes(url))["ix_people_province"] is False
        await asyncio.to_thread(upgrade, url, "0020")
        assert (await _valid_indexes(url))["ix_people_province"] is True
        async with engine.connect() as connection:
            made = await connection.scalar(
                text("SELECT pg_get_indexdef('ix_people_province'::regclass)")
            )
        assert "province_code" in str(made)
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
