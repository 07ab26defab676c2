"""Repositories against a real database: flush only, the caller's transaction decides."""

from __future__ import annotations

from sqlalchemy import select

from storage import repo
from storage.db import create_engine, create_sessionmaker
from storage.models import FlowRun, ProcessedUpdate


async def test_an_update_id_is_recorded_once(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        assert await repo.mark_processed(session, update_id=77) is True
        assert await repo.mark_processed(session, update_id=77) is False
    async with sessions() as session:
        assert len((await session.scalars(select(ProcessedUpdate))).all()) == 1
    await engine.dispose()


async def test_nothing_is_kept_when_the_transaction_rolls_back(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        async with session.begin():
            await repo.mark_processed(session, update_id=78)
            await repo.create_person(session, telegram_id=1, locale="id")
            await session.rollback()
    async with sessions() as session:
        assert await repo.person_by_telegram_id(session, telegram_id=1) is None
        assert await session.get(ProcessedUpdate, 78) is None
    await engine.dispose()


async def test_starting_a_flow_again_cancels_the_older_run(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        person = await repo.create_person(session, telegram_id=2, locale="id")
        first = await repo.start_run(session, person_id=person.id, flow="onboarding", step="name")
        second = await repo.start_run(session, person_id=person.id, flow="onboarding", step="name")
        active = await repo.active_run(session, person_id=person.id)
        assert active is not None and active.id == second.id
    async with sessions() as session:
        assert (await session.get(FlowRun, first.id)).status == "cancelled"
    await engine.dispose()


async def test_a_run_is_found_only_for_its_owner(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        owner = await repo.create_person(session, telegram_id=3, locale="id")
        other = await repo.create_person(session, telegram_id=4, locale="id")
        run = await repo.start_run(session, person_id=owner.id, flow="onboarding", step="name")
        assert await repo.run_of(session, run_id=run.id, person_id=other.id) is None
        assert await repo.run_of(session, run_id=run.id, person_id=owner.id) is not None
    await engine.dispose()


async def test_many_concurrent_transactions_all_commit(database_url: str) -> None:
    """SQLite runs them one at a time on its single connection; PostgreSQL in its pool."""
    import asyncio

    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)

    async def one(i: int) -> None:
        async with sessions() as session, session.begin():
            await repo.mark_processed(session, update_id=10_000 + i)
            await repo.create_person(session, telegram_id=10_000 + i, locale="id")

    await asyncio.gather(*(one(i) for i in range(60)))
    async with sessions() as session:
        assert len((await session.scalars(select(ProcessedUpdate))).all()) == 60
    await engine.dispose()


async def test_person_and_active_run_come_back_in_one_query(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        person = await repo.create_person(session, telegram_id=9, locale="en")
        await repo.start_run(session, person_id=person.id, flow="onboarding", step="language")
        newer = await repo.start_run(
            session, person_id=person.id, flow="profile_edit", step="field"
        )
    async with sessions() as session, session.begin():
        found, run = await repo.person_and_active_run(session, telegram_id=9)
        assert found is not None and (found.id, found.locale) == (person.id, "en")
        assert run is not None and run.id == newer.id
        await repo.update_person(session, found, name="Dewi")
        await repo.save_run(
            session, run, step="name", answers={"field": "name"}, history=["field"], status="active"
        )
    async with sessions() as session:
        found, run = await repo.person_and_active_run(session, telegram_id=9)
        assert found.name == "Dewi" and run.step == "name" and run.answers == {"field": "name"}
        assert await repo.person_and_active_run(session, telegram_id=10) == (None, None)
    await engine.dispose()


async def test_sqlite_files_run_in_wal_mode(tmp_path) -> None:
    from sqlalchemy import text

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await engine.dispose()


async def test_old_update_ids_are_pruned_recent_ones_kept(database_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    now = datetime(2027, 1, 10, tzinfo=UTC)
    async with sessions() as session, session.begin():
        session.add(ProcessedUpdate(update_id=1, processed_at=now - timedelta(days=3)))
        session.add(ProcessedUpdate(update_id=2, processed_at=now - timedelta(hours=1)))
    async with sessions() as session, session.begin():
        assert await repo.prune_processed(session, before=now - timedelta(days=2)) == 1
    async with sessions() as session:
        assert [u.update_id for u in (await session.scalars(select(ProcessedUpdate))).all()] == [2]
    await engine.dispose()
