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
