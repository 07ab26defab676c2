"""Training sessions, seats and waitlists.

Taking a seat locks the training's row first (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite has
one writer anyway), so two people pressing for the last seat at once cannot both get it: the
second waits, then counts the first one's seat. Freed seats go to the waitlist in order
(oldest first), each promotion returned so the caller (operations/trainings.py) can give the
promoted person their reminders and tell them.

Functions that change rows take `now` from the caller's clock (default: the wall clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import paging
from storage.models import (
    Person,
    RegistrationStatus,
    Submission,
    SubmissionKind,
    Training,
    TrainingRegistration,
    utcnow,
)
from storage.paging import Page

ACTIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
EDITABLE = frozenset(
    {
        "title",
        "organiser",
        "topic",
        "starts_at",
        "ends_at",
        "place",
        "link",
        "province_code",
        "regency_code",
        "seats",
        "needs_approval",
        "sample",
    }
)


@dataclass(frozen=True)
class Outcome:
    """What a sign-up did: `status` is registered, waitlisted, already (nothing new), closed,
    or rejected (a reviewer turned this person's registration down: it does not come back)."""

    status: str
    registration: TrainingRegistration | None = None
    position: int = 0  # place on the waitlist, from 1


def _region_filter(province_code: str | None, regency_code: str | None) -> Any:
    """Sessions for someone of this region: their regency, their whole province, or everyone.
    Each arm names both region columns, so each is one range of `ix_trainings_upcoming`."""
    everyone = and_(Training.province_code.is_(None), Training.regency_code.is_(None))
    if regency_code:
        province_code = province_code or regency_code.split(".")[0]
        return or_(
            everyone,
            and_(Training.province_code == province_code, Training.regency_code == regency_code),
            and_(Training.province_code == province_code, Training.regency_code.is_(None)),
        )
    if province_code:  # a whole province: every session in it
        return or_(everyone, Training.province_code == province_code)
    return everyone


async def upcoming(
    session: AsyncSession,
    *,
    province_code: str | None,
    regency_code: str | None,
    topic: str | None = None,
    now: datetime | None = None,
    page: int = 0,
    size: int = 5,
) -> Page[Training]:
    """One page of the sessions not cancelled and not yet started, for this region, soonest
    first: a count and `LIMIT/OFFSET`, read from an index in that order (storage/paging.py)."""
    query = select(Training).where(
        Training.cancelled.is_(False),
        Training.starts_at > (now or utcnow()),
        _region_filter(province_code, regency_code),
    )
    if topic:
        query = query.where(Training.topic == topic)
    query = query.order_by(Training.starts_at, Training.id)
    return await paging.page(session, query, number=page, size=size)


async def get(session: AsyncSession, training_id: int) -> Training | None:
    return await session.scalar(select(Training).where(Training.id == training_id))


async def registration(session: AsyncSession, registration_id: int) -> TrainingRegistration | None:
    return await session.scalar(
        select(TrainingRegistration).where(TrainingRegistration.id == registration_id)
    )


async def _lock(session: AsyncSession, training_id: int) -> Training | None:
    """The training row, locked until the transaction ends (no-op on SQLite)."""
    return await session.scalar(
        select(Training)
        .where(Training.id == training_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def taken(session: AsyncSession, training_ids: list[int]) -> dict[int, int]:
    """Seats taken (registered) per training."""
    if not training_ids:
        return {}
    rows = await session.execute(
        select(TrainingRegistration.training_id, func.count())
        .where(
            TrainingRegistration.training_id.in_(training_ids),
            TrainingRegistration.status == RegistrationStatus.REGISTERED,
        )
        .group_by(TrainingRegistration.training_id)
    )
    return {training_id: int(n) for training_id, n in rows.all()}


async def _registered(session: AsyncSession, training_id: int) -> int:
    return (await taken(session, [training_id])).get(training_id, 0)


async def position(session: AsyncSession, registration: TrainingRegistration) -> int:
    """Place on the waitlist (1 = next to be promoted); 0 if not waiting."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return 0
    ahead = await session.scalar(
        select(func.count())
        .select_from(TrainingRegistration)
        .where(
            TrainingRegistration.training_id == registration.training_id,
            TrainingRegistration.status == RegistrationStatus.WAITLISTED,
            or_(
                TrainingRegistration.created_at < registration.created_at,
                and_(
                    TrainingRegistration.created_at == registration.created_at,
                    TrainingRegistration.id < registration.id,
                ),
            ),
        )
    )
    return int(ahead or 0) + 1


async def registration_of(
    session: AsyncSession, *, training_id: int, person_id: int
) -> TrainingRegistration | None:
    return await session.scalar(
        select(TrainingRegistration).where(
            TrainingRegistration.training_id == training_id,
            TrainingRegistration.person_id == person_id,
        )
    )


async def register(
    session: AsyncSession, *, training_id: int, person_id: int, now: datetime | None = None
) -> Outcome:
    """Take a seat if one is left, else a waitlist place. Registering twice changes nothing;
    a cancelled registration comes back (at the end of the queue if it is full), a rejected
    one does not."""
    now = now or utcnow()
    training = await _lock(session, training_id)
    if training is None or training.cancelled or training.starts_at <= now:
        return Outcome("closed")
    existing = await registration_of(session, training_id=training_id, person_id=person_id)
    if existing is not None and existing.status in ACTIVE:
        return Outcome("already", existing, await position(session, existing))
    if existing is not None and existing.status == RegistrationStatus.REJECTED:
        return Outcome("rejected", existing)
    full = await _registered(session, training_id) >= training.seats
    status = RegistrationStatus.WAITLISTED if full else RegistrationStatus.REGISTERED
    if existing is None:
        existing = TrainingRegistration(
            training_id=training_id,
            person_id=person_id,
            status=status.value,
            created_at=now,
            updated_at=now,
        )
        session.add(existing)
    else:
        existing.status, existing.created_at, existing.updated_at = status.value, now, now
        existing.promoted_at = None
    await session.flush()
    return Outcome(status.value, existing, await position(session, existing))


async def promote(
    session: AsyncSession, training: Training, *, now: datetime | None = None
) -> list[TrainingRegistration]:
    """Give free seats to the waitlist, oldest first; the promoted registrations. Nobody is
    promoted once the session has begun: it is too late to come."""
    now = now or utcnow()
    free = training.seats - await _registered(session, training.id)
    if free <= 0 or training.cancelled or training.starts_at <= now:
        return []
    waiting = list(
        await session.scalars(
            select(TrainingRegistration)
            .where(
                TrainingRegistration.training_id == training.id,
                TrainingRegistration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(TrainingRegistration.created_at, TrainingRegistration.id)
            .limit(free)
        )
    )
    for registration in waiting:
        registration.status = RegistrationStatus.REGISTERED.value
        registration.promoted_at = registration.updated_at = now
    await session.flush()
    return waiting


async def cancel(
    session: AsyncSession, *, registration_id: int, person_id: int, now: datetime | None = None
) -> tuple[TrainingRegistration | None, list[TrainingRegistration]]:
    """Cancel one's own registration or waitlist place; a freed seat goes to the waitlist.

    Returns (the registration, or None if it is not this person's or already cancelled;
    the registrations promoted into the freed seat).
    """
    found = await session.scalar(
        select(TrainingRegistration).where(
            TrainingRegistration.id == registration_id,
            TrainingRegistration.person_id == person_id,
        )
    )
    if found is None:
        return None, []
    return await release(session, found, RegistrationStatus.CANCELLED, now=now)


async def release(
    session: AsyncSession,
    found: TrainingRegistration,
    status: RegistrationStatus,
    *,
    now: datetime | None = None,
) -> tuple[TrainingRegistration | None, list[TrainingRegistration]]:
    """End a registration or waitlist place (`status`: cancelled by the person, or rejected by
    a reviewer); a freed seat goes to the waitlist. (The registration, or None if it was no
    longer active; the registrations promoted into the freed seat.)"""
    now = now or utcnow()
    training = await _lock(session, found.training_id)
    await session.refresh(found)  # after the lock: what another transaction left
    if training is None or found.status not in ACTIVE:
        return None, []
    held_seat = found.status == RegistrationStatus.REGISTERED
    found.status, found.updated_at = status.value, now
    await session.flush()
    promoted = await promote(session, training, now=now) if held_seat else []
    return found, promoted


async def promote_waitlist(
    session: AsyncSession, training_id: int, *, now: datetime | None = None
) -> list[TrainingRegistration]:
    """Fill every free seat of a session from its waitlist, under the session's lock."""
    training = await _lock(session, training_id)
    return [] if training is None else await promote(session, training, now=now)


async def of_person(
    session: AsyncSession,
    *,
    person_id: int,
    now: datetime | None = None,
    statuses: tuple[str, ...] = ACTIVE,
) -> list[tuple[TrainingRegistration, Training]]:
    """A person's registrations and waitlist places (or other `statuses`) in sessions still
    to come, soonest first."""
    rows = await session.execute(
        select(TrainingRegistration, Training)
        .join(Training, Training.id == TrainingRegistration.training_id)
        .where(
            TrainingRegistration.person_id == person_id,
            TrainingRegistration.status.in_(statuses),
            Training.cancelled.is_(False),
            Training.ends_at > (now or utcnow()),
        )
        .order_by(Training.starts_at, Training.id)
    )
    return [(reg, training) for reg, training in rows.all()]


async def submissions_of(
    session: AsyncSession, registration_ids: list[int]
) -> dict[int, Submission]:
    """The latest submission (for the organiser's confirmation) of each registration that
    has one."""
    if not registration_ids:
        return {}
    rows = await session.scalars(
        select(Submission)
        .where(
            Submission.kind == SubmissionKind.TRAINING.value,
            Submission.ref_id.in_(registration_ids),
        )
        .order_by(Submission.created_at, Submission.id)
    )
    return {s.ref_id: s for s in rows if s.ref_id is not None}


async def same_session(
    session: AsyncSession, *, title: str, starts_at: datetime
) -> Training | None:
    return await session.scalar(
        select(Training).where(Training.title == title, Training.starts_at == starts_at)
    )


async def create(
    session: AsyncSession, *, created_by: int | None, now: datetime | None = None, **values: Any
) -> Training:
    now = now or utcnow()
    fields = {k: v for k, v in values.items() if k in EDITABLE}
    training = Training(**fields, created_by=created_by, created_at=now, updated_at=now)
    session.add(training)
    await session.flush()
    return training


async def update(
    session: AsyncSession, training_id: int, *, now: datetime | None = None, **values: Any
) -> tuple[Training | None, list[TrainingRegistration]]:
    """Change a session; more seats go to the waitlist at once. Fewer seats than registered
    people keeps their registrations (nobody loses a seat they were given)."""
    now = now or utcnow()
    training = await _lock(session, training_id)
    if training is None:
        return None, []
    for name, value in values.items():
        if name in EDITABLE:
            setattr(training, name, value)
    training.updated_at = now
    await session.flush()
    return training, await promote(session, training, now=now)


async def registered_count(session: AsyncSession, training_id: int) -> int:
    return await _registered(session, training_id)


async def cancel_training(
    session: AsyncSession, training_id: int, *, now: datetime | None = None
) -> tuple[Training | None, list[TrainingRegistration]]:
    """Cancel a session; the registrations and waitlist places that were active (to tell)."""
    training = await _lock(session, training_id)
    if training is None or training.cancelled:
        return None, []
    training.cancelled, training.updated_at = True, now or utcnow()
    active = list(
        await session.scalars(
            select(TrainingRegistration).where(
                TrainingRegistration.training_id == training_id,
                TrainingRegistration.status.in_(ACTIVE),
            )
        )
    )
    for registration in active:
        registration.status = RegistrationStatus.CANCELLED.value
        registration.updated_at = training.updated_at
    await session.flush()
    return training, active


async def people(session: AsyncSession, person_ids: list[int]) -> dict[int, Person]:
    if not person_ids:
        return {}
    found = await session.scalars(select(Person).where(Person.id.in_(person_ids)))
    return {p.id: p for p in found}


async def registered_people(
    session: AsyncSession, training_id: int, *, statuses: tuple[str, ...] = ("registered",)
) -> list[tuple[TrainingRegistration, Person]]:
    """Everyone holding a seat in a session (or a place of other `statuses`), with their
    person (for reminders, and to tell them of a change)."""
    rows = await session.execute(
        select(TrainingRegistration, Person)
        .join(Person, Person.id == TrainingRegistration.person_id)
        .where(
            TrainingRegistration.training_id == training_id,
            TrainingRegistration.status.in_(statuses),
        )
        .order_by(TrainingRegistration.id)
    )
    return [(reg, person) for reg, person in rows.all()]


# --- the desk: sessions inside a coordinator's regions, participants, attendance ---------------


def placed_within(codes: list[str] | None) -> Any:
    """Sessions placed inside these regions (None: every session; a nationwide session is
    inside no list of regions)."""
    if codes is None:
        return Training.id.is_not(None)
    arms = [
        Training.regency_code == code if "." in code else Training.province_code == code
        for code in codes
    ]
    return or_(*arms) if arms else Training.id.is_(None)


async def desk_list(
    session: AsyncSession,
    *,
    scope: list[str] | None,
    region: str | None,
    past: bool,
    now: datetime,
    page: int = 0,
    size: int = 50,
) -> Page[Training]:
    """Sessions inside `scope` (and inside `region` when one is chosen), cancelled ones too:
    upcoming soonest first, or past (begun) latest first."""
    query = select(Training).where(placed_within(scope))
    if region is not None:
        query = query.where(placed_within([region]))
    if past:
        query = query.where(Training.starts_at <= now).order_by(
            Training.starts_at.desc(), Training.id.desc()
        )
    else:
        query = query.where(Training.starts_at > now).order_by(Training.starts_at, Training.id)
    return await paging.page(session, query, number=page, size=size)


async def waiting(session: AsyncSession, training_ids: list[int]) -> dict[int, int]:
    """People on the waitlist per training."""
    if not training_ids:
        return {}
    rows = await session.execute(
        select(TrainingRegistration.training_id, func.count())
        .where(
            TrainingRegistration.training_id.in_(training_ids),
            TrainingRegistration.status == RegistrationStatus.WAITLISTED,
        )
        .group_by(TrainingRegistration.training_id)
    )
    return {training_id: int(n) for training_id, n in rows.all()}


async def participants(
    session: AsyncSession, training_id: int
) -> list[tuple[TrainingRegistration, Person]]:
    """Everyone with a seat (in the order they got it), then the waitlist in its order."""
    rows = await session.execute(
        select(TrainingRegistration, Person)
        .join(Person, Person.id == TrainingRegistration.person_id)
        .where(
            TrainingRegistration.training_id == training_id,
            TrainingRegistration.status.in_([s.value for s in ACTIVE]),
        )
        .order_by(
            (TrainingRegistration.status == RegistrationStatus.WAITLISTED.value),
            TrainingRegistration.created_at,
            TrainingRegistration.id,
        )
    )
    return [(reg, person) for reg, person in rows.all()]


async def set_attendance(
    session: AsyncSession, training_id: int, *, present: set[int], now: datetime
) -> tuple[list[int], list[int]]:
    """Mark the seat holders of a session present (their registration ids in `present`) or
    not; (ids newly marked present, ids no longer marked present). Others are left alone."""
    seats = list(
        await session.scalars(
            select(TrainingRegistration).where(
                TrainingRegistration.training_id == training_id,
                TrainingRegistration.status == RegistrationStatus.REGISTERED.value,
            )
        )
    )
    came, unmarked = [], []
    for registration in seats:
        if registration.id in present and registration.attended_at is None:
            registration.attended_at = now
            came.append(registration.id)
        elif registration.id not in present and registration.attended_at is not None:
            registration.attended_at = None
            unmarked.append(registration.id)
    await session.flush()
    return came, unmarked
