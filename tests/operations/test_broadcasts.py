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


# --- draft, and pause / resume / cancel ----------------------------------------------------------


async def test_a_draft_for_several_regions_inside_the_scope_bounds_its_reach(sessions) -> None:
    from flows.segments import Segment
    from operations.broadcasts import draft as make_draft

    author, _other, _draft = await setup(sessions)
    async with sessions() as session, session.begin():
        outside = await make_draft(
            session, author_id=author, text="Hai", segment=Segment(kind="all"),
            chosen=["35.78", "51.71"], scope=["35"],
        )  # fmt: skip
        made = await make_draft(
            session, author_id=author, text="Hai", segment=Segment(kind="all"),
            chosen=["35.78", "35.15"], scope=["35"],
        )  # fmt: skip
    assert outside.refused == "outside" and made.ok
    async with sessions() as session, session.begin():
        stored = await broadcasts.get(session, made.broadcast_id)
        assert stored.regions == ["35.15", "35.78"]
        done = await send_broadcast(
            session, broadcast_id=made.broadcast_id, author_id=author, now=NOW, scope=["35"]
        )
    assert done.recipients == 3  # the Surabaya readers only


async def test_no_region_chosen_means_the_whole_scope_or_everywhere(sessions) -> None:
    from flows.segments import Segment
    from operations.broadcasts import draft as make_draft

    author, _other, _draft = await setup(sessions)
    async with sessions() as session, session.begin():
        scoped = await make_draft(session, author_id=author, text="Hai",
                                  segment=Segment(kind="all"), chosen=[], scope=["35"])  # fmt: skip
        free = await make_draft(session, author_id=author, text="Hai",
                                segment=Segment(kind="all"), chosen=[], scope=None)  # fmt: skip
        assert (await broadcasts.get(session, scoped.broadcast_id)).regions == ["35"]
        assert (await broadcasts.get(session, free.broadcast_id)).regions is None


async def test_control_is_the_authors_or_an_admins_once_each_and_audited(sessions) -> None:
    from operations.broadcasts import control

    author, other, draft = await setup(sessions)
    async with sessions() as session, session.begin():
        await broadcasts.start(session, draft, now=NOW)
    async with sessions() as session, session.begin():
        assert (
            await control(session, broadcast_id=draft, act="pause", actor_id=other)
        ).refused == "not_yours"
        assert (await control(session, broadcast_id=draft, act="pause", actor_id=author)).ok
        assert (
            await control(session, broadcast_id=draft, act="pause", actor_id=author)
        ).refused == "already"
        assert (await control(session, broadcast_id=draft, act="resume", actor_id=other,
                              any_author=True)).ok  # fmt: skip
        assert (await control(session, broadcast_id=draft, act="cancel", actor_id=author)).ok
        assert (
            await control(session, broadcast_id=999999, act="cancel", actor_id=author)
        ).refused == "gone"
    async with sessions() as session:
        actions = [
            a for a in await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
        ]
        pending = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
        )
    assert actions == ["broadcast.pause", "broadcast.resume", "broadcast.cancel"]
    assert pending == 0  # the cancel skipped every delivery not yet claimed


def test_a_drafts_regions_follow_a_narrowed_scope_and_keep_a_choice_inside_it() -> None:
    from operations.broadcasts import regions_now

    assert regions_now(["35.78"], ["35"]) == ["35.78"]  # a choice inside the scope stays
    assert regions_now(["35"], ["35.78"]) == ["35.78"]  # narrowed: today's scope
    assert regions_now(None, ["35"]) == ["35"]
    assert regions_now(["51.71"], None) == ["51.71"]
