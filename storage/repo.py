"""Repositories: keyword-only queries on an explicit session. They flush, never commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Consent, FlowRun, Person, ProcessedUpdate, RunStatus, utcnow

PROFILE_FIELDS = frozenset(
    {"name", "phone", "province_code", "regency_code", "country", "years_abroad", "goal", "locale"}
)


async def mark_processed(session: AsyncSession, *, update_id: int) -> bool:
    """Record an update id; False if it was already there (a redelivery)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(ProcessedUpdate).values(update_id=update_id, processed_at=utcnow())
    result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["update_id"]))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def person_by_telegram_id(session: AsyncSession, *, telegram_id: int) -> Person | None:
    return await session.scalar(select(Person).where(Person.telegram_id == telegram_id))


async def create_person(
    session: AsyncSession, *, telegram_id: int, locale: str, start_payload: str | None = None
) -> Person:
    person = Person(telegram_id=telegram_id, locale=locale, start_payload=start_payload)
    session.add(person)
    await session.flush()
    return person


async def give_consent(
    session: AsyncSession, *, person: Person, purpose: str, text_version: str
) -> Consent:
    consent = Consent(person_id=person.id, purpose=purpose, text_version=text_version)
    session.add(consent)
    await session.flush()
    return consent


async def consents_of(session: AsyncSession, *, person_id: int) -> list[Consent]:
    rows = await session.scalars(
        select(Consent).where(Consent.person_id == person_id).order_by(Consent.given_at)
    )
    return list(rows)


def set_profile_field(person: Person, *, field: str, value: Any) -> None:
    """Write one answered profile field; only known fields, so a flow cannot touch others."""
    if field not in PROFILE_FIELDS:
        raise KeyError(field)
    setattr(person, field, value)


async def active_run(session: AsyncSession, *, person_id: int) -> FlowRun | None:
    """The active run the person touched last: where typed answers go."""
    return await session.scalar(
        select(FlowRun)
        .where(FlowRun.person_id == person_id, FlowRun.status == RunStatus.ACTIVE)
        .order_by(FlowRun.updated_at.desc(), FlowRun.id.desc())
        .limit(1)
    )


async def run_of(session: AsyncSession, *, run_id: int, person_id: int) -> FlowRun | None:
    """A run, only if it belongs to this person (callback data can be forged)."""
    return await session.scalar(
        select(FlowRun).where(FlowRun.id == run_id, FlowRun.person_id == person_id)
    )


async def runs_of(session: AsyncSession, *, person_id: int) -> list[FlowRun]:
    rows = await session.scalars(
        select(FlowRun).where(FlowRun.person_id == person_id).order_by(FlowRun.started_at)
    )
    return list(rows)


async def start_run(session: AsyncSession, *, person_id: int, flow: str, step: str) -> FlowRun:
    """Begin a flow; any other active run of the same flow is cancelled first."""
    now = utcnow()
    await session.execute(
        update(FlowRun)
        .where(
            FlowRun.person_id == person_id,
            FlowRun.flow == flow,
            FlowRun.status == RunStatus.ACTIVE,
        )
        .values(status=RunStatus.CANCELLED, finished_at=now, updated_at=now)
    )
    run = FlowRun(
        person_id=person_id,
        flow=flow,
        step=step,
        answers={},
        history=[],
        started_at=now,
        updated_at=now,
    )
    session.add(run)
    await session.flush()
    return run


def save_run(
    run: FlowRun, *, step: str, answers: dict[str, Any], history: list[str], status: str
) -> None:
    now: datetime = utcnow()
    run.step, run.answers, run.history, run.status = step, answers, history, status
    run.updated_at = now
    if status != RunStatus.ACTIVE:
        run.finished_at = now


async def delete_person(session: AsyncSession, *, person: Person) -> None:
    """Erase a person: profile and consents go; their runs stay without owner or answers."""
    await session.execute(
        update(FlowRun)
        .where(FlowRun.person_id == person.id)
        .values(person_id=None, answers={}, history=[])
    )
    await session.execute(delete(Consent).where(Consent.person_id == person.id))
    await session.execute(delete(Person).where(Person.id == person.id))
    await session.flush()
