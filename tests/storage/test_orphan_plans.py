"""Migration 0015: plans a deletion before issue 13 left without a lead (founder NULL, still
open, so nobody could mark a step or set the meeting) get the next founder as lead, or close
when nobody is left; the new lead can then work the plan."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url

from operations import coops as ops
from storage import coops
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade
from storage.models import FoundingStatus, SubmissionStatus

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
T = "2026-11-01 03:00:00+00:00"


@pytest_asyncio.fixture
async def fresh_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the same backend, migrated by the test itself."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"juragan_orphans_{secrets.token_hex(4)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


OLD_ROWS = f"""
INSERT INTO people (id, telegram_id, locale, role, nudges, announcements, created_at, updated_at)
VALUES (2, 902, 'id', 'returnee', true, false, '{T}', '{T}'),
       (3, 903, 'id', 'returnee', true, false, '{T}', '{T}');
INSERT INTO foundings (id, founder_id, code, kind, purpose, name, milestones, status,
                       created_at, updated_at)
VALUES (1, NULL, 'aaaaaaaaaaaa', 'jasa', 'Tulisan pendiri lama', 'Koperasi Boga', '{{}}',
        'submitted', '{T}', '{T}'),
       (2, NULL, 'bbbbbbbbbbbb', 'jasa', 'Tulisan pendiri lama', 'Koperasi Sepi', '{{}}',
        'planning', '{T}', '{T}'),
       (3, 2, 'cccccccccccc', 'jasa', 'Tujuan Ani', 'Koperasi Ani', '{{}}',
        'planning', '{T}', '{T}');
INSERT INTO founding_members (founding_id, person_id, joined_at)
VALUES (1, 3, '2026-11-02 03:00:00+00:00'), (1, 2, '2026-11-03 03:00:00+00:00'),
       (3, 2, '{T}');
INSERT INTO submissions (id, person_id, kind, ref_id, answers, status, created_at, updated_at)
VALUES (1, NULL, 'founding', 1, '{{"name": "Koperasi Boga", "purpose": "Tulisan"}}',
        'submitted', '{T}', '{T}'),
       (2, NULL, 'founding', 2, '{{"name": "Koperasi Sepi", "purpose": "Tulisan"}}',
        'submitted', '{T}', '{T}');
"""


async def test_orphaned_plans_get_the_next_founder_as_lead_or_close(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade, fresh_url, "0014")
    engine = create_engine(fresh_url)
    async with engine.begin() as conn:
        for statement in OLD_ROWS.split(";"):
            if statement.strip():
                await conn.execute(text(statement))
    await engine.dispose()
    await asyncio.to_thread(upgrade, fresh_url, "head")

    engine = create_engine(fresh_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session:
            led, empty, fine = [await coops.founding(session, i) for i in (1, 2, 3)]
            # the first founder still in it (Budi, id 3, joined first) leads; the purpose the
            # deleted founder wrote goes, the name stays; its open file is Budi's now
            assert (led.founder_id, led.status, led.purpose, led.name) == (
                3,
                FoundingStatus.SUBMITTED,
                "–",
                "Koperasi Boga",
            )
            file = await coops.founding_file(session, 1)
            assert (file.person_id, file.status) == (3, SubmissionStatus.SUBMITTED)
            assert file.answers == {"name": "Koperasi Boga"}
            # nobody left: closed, its words gone, its file withdrawn
            assert (empty.founder_id, empty.status, empty.name, empty.purpose) == (
                None,
                FoundingStatus.CANCELLED,
                "",
                "",
            )
            assert empty.closed_at is not None
            gone = await coops.founding_file(session, 2)
            assert (gone.status, gone.answers) == (SubmissionStatus.WITHDRAWN, {})
            # every founder is still there (copying the table on SQLite would have lost them)
            members = await session.execute(text("SELECT count(*) FROM founding_members"))
            assert members.scalar() == 3
            # a plan with its lead is untouched
            assert (fine.founder_id, fine.purpose, fine.closed_at) == (2, "Tujuan Ani", None)
        async with sessions() as session, session.begin():  # the new lead works the plan
            step = await ops.mark_step(session, plan_id=1, by=3, step="notary", done=True, now=NOW)
            meeting = await ops.set_meeting(
                session, plan_id=1, by=3, at=NOW + timedelta(days=9), now=NOW
            )
            assert step.ok and meeting.ok and [n.to for n in step.notices] == [2]
    finally:
        await engine.dispose()
