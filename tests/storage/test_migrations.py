"""The Alembic migrations and the models describe the same schema."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import create_engine
from storage.migrate import alembic_config
from storage.models import Base


async def _diff(url: str) -> list:
    engine = create_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    await engine.dispose()
    return diff


async def test_models_and_migrations_do_not_differ(database_url: str) -> None:
    assert await _diff(database_url) == []


def test_downgrade_to_nothing_and_back_up(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cycle.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
    assert asyncio.run(_diff(url)) == []


async def test_the_audit_log_refuses_update_and_delete_in_the_database(database_url: str) -> None:
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from storage import audit
    from storage.db import create_engine, create_sessionmaker

    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await audit.audit(session, actor_id=1, action="role.grant", subject="person:1")
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT action FROM audit_log"))).all()
        assert [r[0] for r in rows] == ["role.grant"]
    finally:
        await engine.dispose()


def test_a_database_migrated_past_the_0013_placeholder_gets_stored_replies(tmp_path) -> None:
    """0013 was a no-op placeholder before stored replies filled it: a database that went past
    it then has no `processed_updates.replies`, and 0020 adds it."""
    import sqlite3

    from storage.migrate import upgrade

    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0019")
    with sqlite3.connect(path) as db:  # what the placeholder left: the table without it
        db.execute("ALTER TABLE processed_updates DROP COLUMN replies")
        assert "replies" not in {r[1] for r in db.execute("PRAGMA table_info(processed_updates)")}
    upgrade(url, "head")
    with sqlite3.connect(path) as db:
        assert "replies" in {r[1] for r in db.execute("PRAGMA table_info(processed_updates)")}
