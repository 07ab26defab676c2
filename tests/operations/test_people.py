"""Deleting a person (operations/people.py): what it does to the plans and seats they share with
others, and whom it tells, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from operations import coops as ops
from operations.people import delete_person
from storage import coops, repo, trainings
from storage.db import create_engine, create_sessionmaker
from storage.models import Founding, FoundingStatus, Person, RegistrationStatus, Reminder, Training

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
MEETING = NOW + timedelta(days=20)

Sessions = async_sessionmaker[AsyncSession]


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def make_person(session: AsyncSession, tid: int, name: str) -> int:
    person = await repo.create_person(session, telegram_id=tid, locale="id")
    await repo.update_person(
        session, person, name=name, province_code="35", regency_code="35.78", onboarded_at=NOW
    )
    return person.id


async def plan_with(sessions: Sessions, founders: int) -> tuple[int, list[int]]:
    async with sessions() as session, session.begin():
        people = [await make_person(session, 200 + i, f"Pendiri{i} Purna") for i in range(founders)]
        done = await ops.found(
            session,
            person_id=people[0],
            kind="jasa",
            purpose="Jasa katering untuk hajatan",
            name="Koperasi Boga",
            now=NOW,
        )
        plan_id = done.changed[ops.FOUNDING][0]
        code = (await coops.founding(session, plan_id)).code
        for pid in people[1:]:
            await ops.add_founder(session, code=code, person_id=pid, now=NOW)
    return plan_id, people


async def test_a_lead_deleting_hands_the_plan_to_the_next_founder_who_can_work_it(
    sessions: Sessions,
) -> None:
    plan_id, (lead, heir, third) = await plan_with(sessions, 3)
    async with sessions() as session, session.begin():
        done = await delete_person(session, person_id=lead, now=NOW)
        assert done.ok and done.changed["founding"] == [plan_id]
        assert [(n.to, n.message, n.args) for n in done.notices] == [
            (heir, "coop.heir", {"plan": plan_id}),
            (third, "coop.new_lead", {"plan": plan_id, "lead": heir, "why": "deleted"}),
        ]
    async with sessions() as session, session.begin():  # the heir leads: steps and meeting
        step = await ops.mark_step(
            session, plan_id=plan_id, by=heir, step="adart", done=True, now=NOW
        )
        assert step.ok and [n.to for n in step.notices] == [third]
        assert (await ops.set_meeting(session, plan_id=plan_id, by=heir, at=MEETING, now=NOW)).ok
    async with sessions() as session:
        plan = await coops.founding(session, plan_id)
        assert plan is not None
        assert (plan.founder_id, plan.status, plan.meeting_at) == (
            heir,
            FoundingStatus.PLANNING,
            MEETING,
        )
        assert "adart" in plan.milestones


async def test_a_lone_lead_deleting_closes_the_plan(sessions: Sessions) -> None:
    plan_id, (lead,) = await plan_with(sessions, 1)
    async with sessions() as session, session.begin():
        done = await delete_person(session, person_id=lead, now=NOW)
        assert done.changed["founding"] == [plan_id] and done.notices == []
    async with sessions() as session:
        plan = await session.get(Founding, plan_id)
        assert (plan.status, plan.founder_id, plan.closed_at) == (
            FoundingStatus.CANCELLED,
            None,
            NOW,
        )


async def test_a_cofounder_deleting_tells_the_lead_how_many_remain(sessions: Sessions) -> None:
    plan_id, (lead, leaving, _stays) = await plan_with(sessions, 3)
    async with sessions() as session, session.begin():
        done = await delete_person(session, person_id=leaving, now=NOW)
        assert [(n.to, n.message, n.args) for n in done.notices] == [
            (lead, "coop.left", {"plan": plan_id, "count": 2})
        ]
    async with sessions() as session:
        assert (await session.get(Founding, plan_id)).founder_id == lead


async def test_a_freed_seat_promotes_the_waitlist_and_says_so(sessions: Sessions) -> None:
    start = NOW + timedelta(days=30)
    async with sessions() as session, session.begin():
        siti = await make_person(session, 1, "Siti Aminah")
        wati = await make_person(session, 2, "Wati Lestari")
        training = Training(
            title="Jualan online",
            organiser="Disnaker",
            topic="digital",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            place="BLK",
            province_code="35",
            regency_code="35.78",
            seats=1,
        )
        session.add(training)
        await session.flush()
        await trainings.register(session, training_id=training.id, person_id=siti)
        waiting = await trainings.register(session, training_id=training.id, person_id=wati)
        assert waiting.registration is not None
        waiting_id = waiting.registration.id
    async with sessions() as session, session.begin():
        done = await delete_person(session, person_id=siti, now=NOW)
        assert [(n.to, n.message, n.args) for n in done.notices] == [
            (wati, "training.promoted", {"registration": waiting_id})
        ]
    async with sessions() as session:
        registration = await trainings.registration_of(
            session, training_id=training.id, person_id=wati
        )
        assert registration is not None and registration.status == RegistrationStatus.REGISTERED
        # the seat's reminders came with it, as after any promotion
        keys = await session.scalars(select(Reminder.dedupe_key).where(Reminder.person_id == wati))
        assert any(k.startswith(f"training:{waiting_id}:") for k in keys)


async def test_deleting_twice_finds_nobody_the_second_time(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        siti = await make_person(session, 1, "Siti Aminah")
    async with sessions() as session, session.begin():
        assert (await delete_person(session, person_id=siti, now=NOW)).ok
    async with sessions() as session, session.begin():
        again = await delete_person(session, person_id=siti, now=NOW)
        assert again.refused == "gone" and again.notices == []
        assert (await session.scalars(select(Person))).all() == []
