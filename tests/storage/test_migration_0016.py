"""Migration 0016: registrations staff rejected before it now read as rejected, with no reminder
left pending; a downgrade reads them as cancelled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from alembic import command
from sqlalchemy import insert, select

from storage.db import create_engine, create_sessionmaker
from storage.migrate import alembic_config
from storage.models import Person, Reminder, Submission, Training, TrainingRegistration

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


async def _seed(url: str) -> None:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session, session.begin():
        people = [Person(telegram_id=7300 + i, role="returnee") for i in range(3)]
        training = Training(
            title="Jualan online", organiser="Disnaker", topic="digital", seats=3,
            starts_at=NOW + timedelta(days=30), ends_at=NOW + timedelta(days=30, hours=3),
        )  # fmt: skip
        session.add_all([*people, training])
        await session.flush()
        # Core inserts naming only the columns 0015 has (the model has grown since)
        reg_ids = [
            (
                await session.execute(
                    insert(TrainingRegistration.__table__)
                    .values(training_id=training.id, person_id=p.id, status="registered")
                    .returning(TrainingRegistration.__table__.c.id)
                )
            ).scalar_one()
            for p in people
        ]
        regs = [SimpleNamespace(id=i, person_id=p.id) for i, p in zip(reg_ids, people, strict=True)]
        # the first rejected, the second approved, the third rejected and then filed again
        for reg, status, at in (
            (regs[0], "rejected", NOW),
            (regs[1], "approved", NOW),
            (regs[2], "rejected", NOW),
            (regs[2], "submitted", NOW + timedelta(hours=1)),
        ):
            session.add(
                Submission(person_id=reg.person_id, kind="training_registration", ref_id=reg.id,
                           status=status, answers={}, created_at=at, updated_at=at)
            )  # fmt: skip
        for reg in regs:
            session.add(
                Reminder(person_id=reg.person_id, kind="training_day_before",
                         dedupe_key=f"training:{reg.id}:day", due_at=NOW + timedelta(days=29),
                         payload={}, status="pending", attempts=0)
            )  # fmt: skip
    await engine.dispose()


async def _read(url: str) -> tuple[list[str], list[str]]:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        regs = await session.scalars(
            select(TrainingRegistration.status).order_by(TrainingRegistration.id)
        )
        reminders = await session.scalars(select(Reminder.status).order_by(Reminder.id))
        found = list(regs), list(reminders)
    await engine.dispose()
    return found


def test_rejected_registrations_are_brought_in_line(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm16.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "0015")
    asyncio.run(_seed(url))
    command.upgrade(cfg, "0016")
    regs, reminders = asyncio.run(_read(url))
    assert regs == ["rejected", "registered", "registered"]
    assert reminders == ["cancelled", "pending", "pending"]
    command.downgrade(cfg, "0015")
    assert asyncio.run(_read(url))[0] == ["cancelled", "registered", "registered"]
