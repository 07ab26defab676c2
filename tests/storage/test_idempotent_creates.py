"""The repository side of double taps: creates that happen once per person, on both backends."""

from __future__ import annotations

from sqlalchemy import func, select

from storage import repo
from storage.db import create_engine, create_sessionmaker
from storage.models import FlowRun, Person, RunStatus


async def test_a_person_is_created_once_per_telegram_id(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        first = await repo.create_person_if_new(session, telegram_id=42, locale="id")
        again = await repo.create_person_if_new(session, telegram_id=42, locale="en")
    assert first is not None and again is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1
    await engine.dispose()


async def test_a_flow_has_one_active_run_however_often_it_is_started(database_url: str) -> None:
    """Each start stops the run before it (many, so PostgreSQL's prepared statements run in
    a generic plan too)."""
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        person = await repo.create_person(session, telegram_id=43, locale="id")
        for _ in range(8):
            run = await repo.start_run(session, person_id=person.id, flow="kur_readiness", step="a")
    async with sessions() as session:
        active = await session.scalars(select(FlowRun).where(FlowRun.status == RunStatus.ACTIVE))
        assert [r.id for r in active] == [run.id]
    await engine.dispose()
