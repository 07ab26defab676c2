"""Training: register, cancel, promote the waitlist, add, change or cancel a session, and what
a reviewer's decision on a registration does to it.

A seat (a registration `registered`) has two reminders, the day before and two hours before;
a waitlist place has none. The operations keep them so: created with the seat, moved with
the session's time, cancelled with the seat. Whoever gets a seat without pressing for it
(promoted from the waitlist) is told ("training.promoted"), and so is everyone whose session is
cancelled ("training.cancelled") or moved ("training.changed").

A session that needs the organiser's confirmation files a submission for each seat, for staff
to review. The registration and its submission agree (`standing` reads them together):

    registration   submission (latest)   the person reads
    registered     submitted             registered, waiting for the organiser's confirmation
    registered     returned              registered, the seat held while they correct it
    registered     approved              registered and confirmed
    rejected       rejected              not approved, with the reviewer's reason
    cancelled      withdrawn (or none)   cancelled

A rejection ends the registration as `rejected` (not `cancelled`, which is the person's own
act): the seat goes to the waitlist, its reminders are cancelled, and the person cannot
register for that session again (staff said no; a new press would only queue the same
request). A return keeps the seat and its reminders while the person corrects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from flows import regions
from flows import reminders as rules
from operations.decisions import on_decided
from operations.notices import Done
from operations.reminders import remind
from storage import audit, submissions, trainings
from storage import reminders as reminder_rows
from storage.models import (
    Person,
    RegistrationStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Training,
    TrainingRegistration,
)

ACTIVE = tuple(s.value for s in trainings.ACTIVE)
# What a change to a session means to the people in it (a change of "time" or "place").
MOVED_BY = {"starts_at": "time", "ends_at": "time", "place": "place", "link": "place"}
PLACE = ("province_code", "regency_code")


class Standing(StrEnum):
    """Where a person's registration stands, as every screen shows it."""

    REGISTERED = "registered"  # a seat; nobody needs to confirm it
    AWAITING = "awaiting"  # a seat, waiting for the organiser's confirmation
    RETURNED = "returned"  # a seat held while the person corrects what was returned
    CONFIRMED = "confirmed"  # a seat the organiser confirmed
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"  # not approved; the reason is the submission's
    CANCELLED = "cancelled"  # by the person
    SESSION_CANCELLED = "session_cancelled"


def standing(
    registration: TrainingRegistration, training: Training, submission: Submission | None
) -> Standing:
    """The registration read with its latest submission (see the table above)."""
    if training.cancelled:
        return Standing.SESSION_CANCELLED
    status = registration.status
    if status == RegistrationStatus.WAITLISTED:
        return Standing.WAITLISTED
    if status == RegistrationStatus.REJECTED:
        return Standing.REJECTED
    if status != RegistrationStatus.REGISTERED:
        return Standing.CANCELLED
    decided = submission.status if submission is not None else None
    return {
        SubmissionStatus.SUBMITTED: Standing.AWAITING,
        SubmissionStatus.RETURNED: Standing.RETURNED,
        SubmissionStatus.APPROVED: Standing.CONFIRMED,
    }.get(decided, Standing.REGISTERED)  # type: ignore[call-overload]


@dataclass
class Registered(Done):
    """What a press of Register did: a seat or a waitlist place (`status`), already held
    (`already`: nothing changed), or refused ("closed", "rejected")."""

    registration_id: int | None = None
    status: str = ""  # registered | waitlisted
    position: int = 0  # place on the waitlist, from 1
    already: bool = False


# --- a seat's reminders and submission -------------------------------------------------------


def reminder_prefix(registration_id: int) -> str:
    """The dedupe keys of one registration's reminders ("training:12:day", "training:12:soon")."""
    return f"training:{registration_id}:"


async def _remind_seat(
    session: AsyncSession,
    registration: TrainingRegistration,
    training: Training,
    person: Person,
    now: datetime,
) -> None:
    """Reminders for a seat (created, or moved to the session's current time); none for a
    waitlist place, a cancelled or rejected registration, or a cancelled session."""
    prefix = reminder_prefix(registration.id)
    if registration.status != RegistrationStatus.REGISTERED or training.cancelled:
        await reminder_rows.cancel(session, prefix=prefix)
        return
    tz = regions.zone_of(person.province_code)
    payload = {
        "title": training.title,
        "at": training.starts_at.astimezone(UTC).isoformat(),
        "where": training.place or training.link or "",
    }
    for kind, suffix, due in (
        (rules.TRAINING_DAY_BEFORE, "day", rules.before(training.starts_at, tz, days=1)),
        (rules.TRAINING_SOON, "soon", rules.before(training.starts_at, tz, hours=2)),
    ):
        await remind(
            session,
            person_id=person.id,
            kind=kind,
            key=prefix + suffix,
            due_at=due,
            tz=tz,
            now=now,
            payload=payload,
        )


async def _file(
    session: AsyncSession, person: Person, registration: TrainingRegistration, training: Training
) -> None:
    """The seat goes to the review queue for the organiser's confirmation."""
    await submissions.create(
        session,
        person=person,
        kind=SubmissionKind.TRAINING,
        ref_id=registration.id,
        answers={
            "training_id": training.id,
            "title": training.title,
            "starts_at": training.starts_at.isoformat(),
            "status": registration.status,
        },
    )


async def _seat(
    session: AsyncSession,
    registration: TrainingRegistration,
    training: Training,
    person: Person,
    now: datetime,
) -> None:
    await _remind_seat(session, registration, training, person, now)
    if training.needs_approval:
        await _file(session, person, registration, training)


async def seated(
    session: AsyncSession, promoted: list[TrainingRegistration], *, now: datetime
) -> Done:
    """What follows a promotion from the waitlist, made here or by another part of the
    domain (a deletion that freed a seat): the seat's reminders, its submission when the
    organiser confirms, and the promoted person told ("training.promoted")."""
    done = Done()
    people = await trainings.people(session, [r.person_id for r in promoted])
    for registration in promoted:
        person = people.get(registration.person_id)
        training = await trainings.get(session, registration.training_id)
        if person is None or training is None:
            continue
        await _seat(session, registration, training, person, now)
        done.tell(person.id, "training.promoted", registration=registration.id)
        done.changed.setdefault("promoted", []).append(registration.id)
    return done


# --- a person's own registration --------------------------------------------------------------


async def register(
    session: AsyncSession, *, training_id: int, person_id: int, now: datetime
) -> Registered:
    """Take a seat if one is left, else a waitlist place; a second press changes nothing."""
    outcome = await trainings.register(
        session, training_id=training_id, person_id=person_id, now=now
    )
    if outcome.status in ("closed", "rejected") or outcome.registration is None:
        return Registered(
            ok=False, refused="rejected" if outcome.status == "rejected" else "closed"
        )
    registration = outcome.registration
    done = Registered(
        registration_id=registration.id,
        status=registration.status,
        position=outcome.position,
        already=outcome.status == "already",
    )
    if done.already:
        return done
    done.changed["registration"] = [registration.id]
    if registration.status == RegistrationStatus.REGISTERED:
        training = await trainings.get(session, training_id)
        person = await session.get(Person, person_id)
        assert training is not None and person is not None
        await _seat(session, registration, training, person, now)
    return done


async def cancel(
    session: AsyncSession, *, registration_id: int, person_id: int, now: datetime
) -> Done:
    """The person gives up their seat or waitlist place: its reminders and its request to the
    organiser go, and a freed seat goes to the first on the waitlist (who is told)."""
    registration, promoted = await trainings.cancel(
        session, registration_id=registration_id, person_id=person_id, now=now
    )
    if registration is None:
        return Done.refuse("already_cancelled")  # or not theirs: the same answer, nothing told
    await reminder_rows.cancel(session, prefix=reminder_prefix(registration.id))
    await submissions.withdraw(session, kind=SubmissionKind.TRAINING, ref_ids=[registration.id])
    done = Done(changed={"registration": [registration.id]})
    return done.merge(await seated(session, promoted, now=now))


async def promote(session: AsyncSession, training_id: int, *, now: datetime) -> Done:
    """Fill every free seat of a session from its waitlist, oldest first; each promoted person
    gets their reminders and is told. Nothing to do (no seat free, nobody waiting, the session
    cancelled or begun): an empty Done."""
    promoted = await trainings.promote_waitlist(session, training_id, now=now)
    return await seated(session, promoted, now=now)


# --- coordinators: sessions -------------------------------------------------------------------


def _inside(values: dict[str, Any] | Training, scope: list[str] | None) -> bool:
    get = values.get if isinstance(values, dict) else lambda k: getattr(values, k, None)
    place = get("regency_code") or get("province_code")
    return regions.inside(place, scope)


async def _same(session: AsyncSession, values: dict[str, Any], training_id: int | None) -> Done:
    same = await trainings.same_session(
        session, title=values["title"], starts_at=values["starts_at"]
    )
    if same is not None and same.id != training_id:
        refused = Done.refuse("same_session")
        refused.changed["training"] = [same.id]
        return refused
    return Done()


async def create_session(
    session: AsyncSession,
    *,
    values: dict[str, Any],
    created_by: int | None,
    scope: list[str] | None,
    now: datetime,
) -> Done:
    """A new session (`values`: storage.trainings.EDITABLE), inside the coordinator's regions
    (`scope`, None: anywhere); refused "outside" or "same_session" (that title at that time
    exists: `changed["training"]` is it)."""
    if not _inside(values, scope):
        return Done.refuse("outside")
    same = await _same(session, values, None)
    if not same.ok:
        return same
    training = await trainings.create(
        session, created_by=created_by, sample=False, now=now, **values
    )
    return Done(changed={"training": [training.id]})


async def edit_session(
    session: AsyncSession,
    *,
    training_id: int,
    values: dict[str, Any],
    scope: list[str] | None,
    now: datetime,
) -> Done:
    """Change a session. More seats promote the waitlist at once (each told); a new time moves
    every seat's reminders; a new time or place is told to everyone registered or waiting
    ("training.changed"). Fewer seats than people registered keeps their seats. Refused
    "gone", "outside" (the session or its new place outside `scope`), "same_session"."""
    before = await trainings.get(session, training_id)
    if before is None or before.cancelled:
        return Done.refuse("gone")
    after = {k: getattr(before, k) for k in ("title", "starts_at", *PLACE)} | values
    if not _inside(before, scope) or not _inside(after, scope):
        return Done.refuse("outside")
    same = await _same(session, after, training_id)
    if not same.ok:
        return same
    was = {name: getattr(before, name) for name in MOVED_BY}
    training, promoted = await trainings.update(session, training_id, now=now, **values)
    assert training is not None
    done = Done(changed={"training": [training.id]})
    what = sorted({MOVED_BY[k] for k, v in was.items() if getattr(training, k) != v})
    everyone = await trainings.registered_people(session, training.id, statuses=ACTIVE)
    promoted_ids = {r.id for r in promoted}
    for registration, person in everyone:
        if registration.id in promoted_ids:
            continue  # told below, with the session as it is now
        if "time" in what:
            await _remind_seat(session, registration, training, person, now)
        if what:
            done.tell(person.id, "training.changed", training=training.id, what=what)
    return done.merge(await seated(session, promoted, now=now))


async def cancel_session(
    session: AsyncSession, *, training_id: int, scope: list[str] | None, now: datetime
) -> Done:
    """Cancel a session: every seat and waitlist place ends, their reminders and requests to
    the organiser go, and each of those people is told ("training.cancelled"). Refused
    "already_cancelled" (or no such session) or "outside"."""
    found = await trainings.get(session, training_id)
    if found is not None and not _inside(found, scope):
        return Done.refuse("outside")
    training, active = await trainings.cancel_training(session, training_id, now=now)
    if training is None:
        return Done.refuse("already_cancelled")
    for registration in active:
        await reminder_rows.cancel(session, prefix=reminder_prefix(registration.id))
    await submissions.withdraw(
        session, kind=SubmissionKind.TRAINING, ref_ids=[r.id for r in active]
    )
    done = Done(changed={"training": [training.id], "registration": [r.id for r in active]})
    for person_id in dict.fromkeys(r.person_id for r in active):
        done.tell(person_id, "training.cancelled", training=training.id)
    return done


# --- a reviewer's decision on a registration ---------------------------------------------------


@on_decided(SubmissionKind.TRAINING)
async def decided(
    session: AsyncSession,
    submission: Submission,
    status: SubmissionStatus,
    reason: str | None,
    now: datetime,
) -> Done:
    """Approved: the seat is confirmed (its standing reads the submission). Rejected: the
    registration ends as `rejected`, its reminders go and the freed seat goes to the
    waitlist (each promoted person told). Returned: the seat stays held while the person
    corrects. The decided person's own message is the decision's ("review.decided")."""
    registration = (
        await trainings.registration(session, submission.ref_id)
        if submission.ref_id is not None
        else None
    )
    if registration is None:
        return Done()
    done = Done(changed={"registration": [registration.id]})
    if status != SubmissionStatus.REJECTED:
        return done
    ended, promoted = await trainings.release(
        session, registration, RegistrationStatus.REJECTED, now=now
    )
    if ended is None:
        return done
    await reminder_rows.cancel(session, prefix=reminder_prefix(ended.id))
    return done.merge(await seated(session, promoted, now=now))


# --- coordinators: attendance on the day --------------------------------------------------------


async def mark_attendance(
    session: AsyncSession,
    *,
    training_id: int,
    present: set[int],
    actor_id: int,
    scope: list[str] | None,
    today: date,
    now: datetime,
) -> Done:
    """Who came: the seat holders whose registration ids are in `present` are marked present,
    the others not (audited, "training.attendance"). Marked from the session's day on (its
    day in its own zone, `today` in that zone): refused "gone" (no such session, or
    cancelled), "outside" (not inside `scope`), "too_early" (the day has not come)."""
    training = await trainings.get(session, training_id)
    if training is None or training.cancelled:
        return Done.refuse("gone")
    if not _inside(training, scope):
        return Done.refuse("outside")
    if training.starts_at.astimezone(ZoneInfo(session_zone(training))).date() > today:
        return Done.refuse("too_early")
    came, unmarked = await trainings.set_attendance(session, training_id, present=present, now=now)
    if came or unmarked:
        await audit.audit(
            session,
            actor_id=actor_id,
            action="training.attendance",
            subject=f"training:{training_id}",
            details={"present": came, "not_present": unmarked},
        )
    return Done(changed={"training": [training_id], "attended": came, "unmarked": unmarked})


def session_zone(training: Training) -> str:
    """The time zone of a session's place (WIB for a nationwide one)."""
    return regions.zone_of(training.province_code)
