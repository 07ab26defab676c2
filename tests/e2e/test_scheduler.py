"""`juragan run` starts the scheduler: a due reminder goes out from the real process, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage import reminders as store
from storage import repo
from storage.db import create_engine, create_sessionmaker
from storage.models import Reminder, ReminderStatus, utcnow
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.process import start, stop

UID = 7201


async def test_the_running_bot_sends_a_due_reminder_once(database_url: str, tmp_path: Path) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        person = await repo.create_person(session, telegram_id=UID, locale="id")
        await repo.update_person(session, person, province_code="35")
        await store.schedule(
            session,
            person_id=person.id,
            kind="training_day_before",
            key="e2e:1",
            due_at=utcnow() - timedelta(minutes=1),
            payload={
                "title": "Jualan online",
                # the process reads the real clock: its event is tomorrow, really
                "at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                "where": "BLK",
            },
        )
    async with FakeBotAPI() as fake:
        # Quiet hours set away from the present, so the test means the same at any hour.
        hour = datetime.now(ZoneInfo("Asia/Jakarta")).hour
        quiet = f"{(hour + 3) % 24}-{(hour + 4) % 24}"
        proc = await start(
            fake, database_url, tmp_path, REMINDER_TICK_SECONDS="0.5", QUIET_HOURS=quiet
        )
        try:
            await fake.wait_for(
                lambda c: c.method == "sendMessage" and str(c.params.get("chat_id")) == str(UID),
                timeout=20,
            )
            await asyncio.sleep(1.5)  # a few more ticks: nothing more for this person
        finally:
            log = await stop(proc)
        sent = [c for c in fake.calls_to("sendMessage") if str(c.params.get("chat_id")) == str(UID)]
        assert len(sent) == 1 and "Jualan online" in sent[0].params["text"]
    async with sessions() as session:
        row = (await session.scalars(select(Reminder))).one()
    await engine.dispose()
    assert row.status == ReminderStatus.SENT and row.message_id is not None
    assert "reminders: 1 claimed, 1 sent" in log


def test_the_skipped_runs_of_a_long_broadcast_are_not_logged_as_warnings(caplog) -> None:
    import logging

    import bot.scheduler  # noqa: F401 - installs the filter

    log = logging.getLogger("apscheduler.scheduler")
    with caplog.at_level(logging.WARNING, logger="apscheduler.scheduler"):
        log.warning(
            'Execution of job "_send" skipped: maximum number of running instances reached (1)'
        )
        log.warning("Run time of job was missed by 0:00:05")
    assert [r.getMessage() for r in caplog.records] == ["Run time of job was missed by 0:00:05"]
