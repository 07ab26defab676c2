"""operations.roles: one place that gives, narrows and removes roles and makes invitations:
audited, desk sessions ended at once, the person told, an empty region list refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flows import clock
from operations import roles
from operations.notices import Notice
from storage import desk, repo
from storage.db import create_engine, create_sessionmaker
from storage.models import AuditEntry, DeskSession, Person


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def _people(sessions, *roles_: str) -> list[int]:
    async with sessions() as session, session.begin():
        ids = []
        for i, role in enumerate(roles_):
            person = await repo.create_person(session, telegram_id=600 + i, locale="id")
            await repo.set_role(session, person_id=person.id, role=role, regions=None)
            ids.append(person.id)
        return ids


async def test_narrowing_ends_the_desk_sessions_audits_and_tells(sessions) -> None:
    admin, reviewer = await _people(sessions, "admin", "staff")
    now = clock.now()
    async with sessions() as session, session.begin():
        await desk.add_session(session, person_id=reviewer, token="t" * 40, role="staff",
                               scope=None, csrf="c", now=now)  # fmt: skip
        done = await roles.grant(session, actor_id=admin, person_id=reviewer, role="staff",
                                 regions=["35.78"], now=now, via="test")  # fmt: skip
    assert done.ok and done.notices == [Notice(reviewer, "role.granted", {
        "role": "staff", "regions": ["35.78"], "before": "staff"})]  # fmt: skip
    async with sessions() as session:
        person = await session.get(Person, reviewer)
        still = await session.scalar(select(func.count()).select_from(DeskSession)
                                     .where(DeskSession.ended_at.is_(None)))  # fmt: skip
        [entry] = (await session.scalars(select(AuditEntry))).all()
    assert person.scope_regions == ["35.78"] and still == 0
    assert entry.action == "role.grant" and entry.details["via"] == "test"


async def test_refusals_change_nothing(sessions) -> None:
    admin, reviewer, other_admin = await _people(sessions, "admin", "staff", "returnee")
    now = clock.now()
    async with sessions() as session, session.begin():
        empty = await roles.grant(session, actor_id=admin, person_id=reviewer,
                                  role="coordinator", regions=[], now=now, via="t")  # fmt: skip
        same = await roles.grant(session, actor_id=admin, person_id=reviewer, role="staff",
                                 regions=None, now=now, via="t")  # fmt: skip
        alone = await roles.revoke(session, actor_id=admin, person_id=admin, now=now, via="t")
        settings = await roles.revoke(session, actor_id=admin, person_id=other_admin, now=now,
                                      via="t", settings_admins=frozenset({602}))  # fmt: skip
        nobody = await roles.invite(session, actor_id=admin, role="staff", regions=[], now=now)
        count = await session.scalar(select(func.count()).select_from(AuditEntry))
    assert [empty.refused, same.refused, alone.refused, settings.refused] == [
        "no_regions", "unchanged", "last_admin", "settings_admin"]  # fmt: skip
    assert nobody is None and count == 0


async def test_an_admin_may_demote_another_admin_and_is_not_told_of_their_own_change(
    sessions,
) -> None:
    one, two = await _people(sessions, "admin", "admin")
    now = clock.now()
    async with sessions() as session, session.begin():
        other = await roles.revoke(session, actor_id=one, person_id=two, now=now, via="t")
        mine = await roles.grant(session, actor_id=one, person_id=one, role="admin",
                                 regions=["35"], now=now, via="t")  # fmt: skip
    assert other.ok and other.notices[0].message == "role.ended"
    assert mine.refused == "unchanged"  # an admin's regions are none whatever is asked
