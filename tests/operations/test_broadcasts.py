"""send_broadcast on SQLite and PostgreSQL: only the author's own draft, once, inside the regions
the author may reach, now or at a time to come."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from operations.broadcasts import send_broadcast
from storage import broadcasts
from storage.db import create_engine, create_sessionmaker
from storage.models import AuditEntry, Delivery, Person

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def setup(sessions) -> tuple[int, int, int]:
    """(author, someone else, a draft for everyone) with readers in Surabaya and Denpasar."""
    async with sessions() as session, session.begin():
        people = [
            Person(telegram_id=7100 + i, role=role, announcements=True, province_code=p,
                   regency_code=r)
            for i, (role, p, r) in enumerate(
                [("coordinator", "35", "35.78"), ("coordinator", "35", "35.78"),
                 ("returnee", "35", "35.78"), ("returnee", "51", "51.71")]
            )
        ]  # fmt: skip
        session.add_all(people)
        await session.flush()
        draft = await broadcasts.create_draft(
            session, author_id=people[0].id, text="Halo", segment={"kind": "all"}
        )
        return people[0].id, people[1].id, draft


async def deliveries(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def test_the_author_starts_it_once_inside_their_regions(sessions) -> None:
    author, _other, draft = await setup(sessions)
    async with sessions() as session, session.begin():
        done = await send_broadcast(
            session, broadcast_id=draft, author_id=author, now=NOW, scope=["35"]
        )
    assert done.ok and done.recipients == 3  # Surabaya's three, not Denpasar's reader
    assert await deliveries(sessions) == 3
    async with sessions() as session, session.begin():
        again = await send_broadcast(
            session, broadcast_id=draft, author_id=author, now=NOW, scope=["35"]
        )
    assert again.refused == "not_draft" and await deliveries(sessions) == 3
    async with sessions() as session:
        audited = await session.scalars(select(AuditEntry.action))
        assert list(audited) == ["broadcast.send"]


async def test_someone_elses_draft_is_refused_unless_an_admin_acts(sessions) -> None:
    author, other, draft = await setup(sessions)
    async with sessions() as session, session.begin():
        refused = await send_broadcast(
            session, broadcast_id=draft, author_id=other, now=NOW, scope=None
        )
        gone = await send_broadcast(
            session, broadcast_id=draft + 99, author_id=author, now=NOW, scope=None
        )
    assert refused.refused == "not_yours" and gone.refused == "gone"
    assert await deliveries(sessions) == 0
    async with sessions() as session, session.begin():
        done = await send_broadcast(
            session, broadcast_id=draft, author_id=other, now=NOW, scope=None, any_author=True
        )
    assert done.ok and done.recipients == 4


async def test_scheduling_writes_no_delivery_yet_and_refuses_the_past(sessions) -> None:
    author, _other, draft = await setup(sessions)
    async with sessions() as session, session.begin():
        past = await send_broadcast(
            session,
            broadcast_id=draft,
            author_id=author,
            now=NOW,
            scope=None,
            at=NOW - timedelta(minutes=1),
        )
        done = await send_broadcast(
            session,
            broadcast_id=draft,
            author_id=author,
            now=NOW,
            scope=None,
            at=NOW + timedelta(days=1),
        )
    assert past.refused == "past" and done.ok and done.at == NOW + timedelta(days=1)
    assert await deliveries(sessions) == 0
    async with sessions() as session:
        found = await broadcasts.get(session, draft)
        assert found is not None and found.status == "scheduled"
        assert await broadcasts.due(session, now=NOW + timedelta(days=1)) == [draft]
