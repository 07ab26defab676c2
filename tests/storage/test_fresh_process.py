"""A fresh process whose first query finds an existing person (a restart) reads it whole."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from storage import repo
from storage.db import create_engine, create_sessionmaker

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import asyncio, sys
from storage import repo
from storage.db import create_engine, create_sessionmaker

async def main():
    engine = create_engine(sys.argv[1])
    async with create_sessionmaker(engine)() as session:
        person, run = await repo.person_and_active_run(session, telegram_id=4242)
        print(person.role, person.name, run.step)
    await engine.dispose()

asyncio.run(main())
"""


async def _known_person(database_url: str) -> None:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        person = await repo.create_person(session, telegram_id=4242, locale="id")
        await repo.update_person(session, person, name="Siti")
        await repo.start_run(session, person_id=person.id, flow="onboarding", step="phone")
    await engine.dispose()


def test_the_first_query_after_a_restart_reads_an_existing_person(database_url) -> None:
    asyncio.run(_known_person(database_url))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["returnee", "Siti", "phone"]
