"""The training operations on SQLite and PostgreSQL: seats, the waitlist, reminders that follow
each seat, sessions changed or cancelled, and what a reviewer's decision does to a registration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from operations import trainings as ops
from operations.decisions import EFFECTS
from operations.trainings import Standing
from storage import reviews, trainings
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    Person,
    RegistrationStatus,
    Reminder,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Training,
    TrainingRegistration,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
START = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # 09:00 WIB


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def people(sessions, n: int, *, first: int = 7000) -> list[int]:
    async with sessions() as session, session.begin():
        rows = [
            Person(
                telegram_id=first + i,
                role="returnee",
                locale="id",
                province_code="35",
                regency_code="35.78",
            )
            for i in range(n)
        ]
        session.add_all(rows)
        await session.flush()
        return [p.id for p in rows]


async def session_(sessions, **fields: Any) -> int:
    values = {
        "title": "Jualan online",
        "organiser": "Disnaker Surabaya",
        "topic": "digital",
        "starts_at": START,
        "ends_at": START + timedelta(hours=3),
        "place": "BLK Surabaya",
        "province_code": "35",
        "regency_code": "35.78",
        "seats": 1,
        **fields,
    }
    async with sessions() as session, session.begin():
        training = Training(**values)
        session.add(training)
        await session.flush()
        return training.id


async def register(sessions, training_id: int, *person_ids: int) -> list[ops.Registered]:
    done = []
    for pid in person_ids:
        async with sessions() as session, session.begin():
            done.append(
                await ops.register(session, training_id=training_id, person_id=pid, now=NOW)
            )
    return done


async def reg_of(sessions, training_id: int, person_id: int) -> TrainingRegistration:
    async with sessions() as session:
        found = await trainings.registration_of(
            session, training_id=training_id, person_id=person_id
        )
        assert found is not None
        return found


async def open_reminders(sessions, registration_id: int) -> dict[str, datetime]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Reminder).where(
                Reminder.dedupe_key.startswith(ops.reminder_prefix(registration_id)),
                Reminder.status.in_(["pending", "sending"]),
            )
        )
        return {r.dedupe_key.rsplit(":", 1)[1]: r.due_at for r in rows}


async def decide(sessions, registration_id: int, status: SubmissionStatus, reason=None):
    """What a reviewer's decision does (operations.decisions' decide will call the same)."""
    async with sessions() as session, session.begin():
        submission = await session.scalar(
            select(Submission).where(
                Submission.kind == SubmissionKind.TRAINING.value,
                Submission.ref_id == registration_id,
            )
        )
        assert submission is not None
        assert await reviews.decide(
            session, submission.id, status=status, reviewer_id=1, now=NOW, reason=reason
        )
        return await EFFECTS[submission.kind](session, submission, status, reason, NOW)


async def standing_of(sessions, training_id: int, person_id: int) -> Standing:
    async with sessions() as session:
        reg = await trainings.registration_of(session, training_id=training_id, person_id=person_id)
        training = await trainings.get(session, training_id)
        assert reg is not None and training is not None
        latest = await trainings.submissions_of(session, [reg.id])
        return ops.standing(reg, training, latest.get(reg.id))


# --- register, cancel, promote -----------------------------------------------------------------


async def test_a_seat_then_the_waitlist_and_a_second_press_changes_nothing(sessions) -> None:
    tid = await session_(sessions)
    a, b = await people(sessions, 2)
    first, second = await register(sessions, tid, a, b)
    assert first.ok and first.status == "registered" and not first.already
    assert second.status == "waitlisted" and second.position == 1
    assert set(await open_reminders(sessions, first.registration_id)) == {"day", "soon"}
    assert await open_reminders(sessions, second.registration_id) == {}
    [again] = await register(sessions, tid, a)
    assert again.ok and again.already and again.changed == {} and again.notices == []
    async with sessions() as session:
        assert len((await session.scalars(select(TrainingRegistration))).all()) == 2
        assert len((await session.scalars(select(Reminder))).all()) == 2


async def test_a_cancelled_or_begun_session_refuses(sessions) -> None:
    gone = await session_(sessions, cancelled=True)
    begun = await session_(sessions, title="Sudah mulai", starts_at=NOW - timedelta(hours=1))
    [a] = await people(sessions, 1)
    for tid in (gone, begun):
        [done] = await register(sessions, tid, a)
        assert not done.ok and done.refused == "closed"


async def test_cancel_frees_the_seat_for_the_first_waiting_who_is_told(sessions) -> None:
    tid = await session_(sessions, needs_approval=True)
    a, b, c = await people(sessions, 3)
    seat, first_waiting, _second = await register(sessions, tid, a, b, c)
    async with sessions() as session, session.begin():
        done = await ops.cancel(session, registration_id=seat.registration_id, person_id=a, now=NOW)
    promoted = await reg_of(sessions, tid, b)
    assert done.ok and done.changed["promoted"] == [first_waiting.registration_id]
    assert [(n.to, n.message, n.args) for n in done.notices] == [
        (b, "training.promoted", {"registration": promoted.id})
    ]
    assert promoted.status == RegistrationStatus.REGISTERED and promoted.promoted_at
    assert await open_reminders(sessions, seat.registration_id) == {}
    assert set(await open_reminders(sessions, promoted.id)) == {"day", "soon"}
    assert await standing_of(sessions, tid, b) == Standing.AWAITING  # filed for confirmation
    assert (await reg_of(sessions, tid, c)).status == RegistrationStatus.WAITLISTED
    async with sessions() as session, session.begin():
        again = await ops.cancel(
            session, registration_id=seat.registration_id, person_id=a, now=NOW
        )
    assert not again.ok and again.notices == []


async def test_someone_elses_place_cannot_be_cancelled(sessions) -> None:
    tid = await session_(sessions)
    a, b = await people(sessions, 2)
    [seat] = await register(sessions, tid, a)
    async with sessions() as session, session.begin():
        done = await ops.cancel(session, registration_id=seat.registration_id, person_id=b, now=NOW)
    assert done.refused == "already_cancelled"
    assert (await reg_of(sessions, tid, a)).status == RegistrationStatus.REGISTERED


async def test_promote_fills_every_free_seat_oldest_first_and_only_once(sessions) -> None:
    tid = await session_(sessions)
    ids = await people(sessions, 4)
    await register(sessions, tid, *ids)
    async with sessions() as session, session.begin():
        (await trainings.get(session, tid)).seats = 3  # type: ignore[union-attr]
    async with sessions() as session, session.begin():
        done = await ops.promote(session, tid, now=NOW)
    assert [n.to for n in done.notices] == ids[1:3]
    assert {n.message for n in done.notices} == {"training.promoted"}
    async with sessions() as session, session.begin():
        again = await ops.promote(session, tid, now=NOW)
    assert again.ok and again.notices == [] and again.changed == {}
    assert (await reg_of(sessions, tid, ids[3])).status == RegistrationStatus.WAITLISTED


# --- coordinators: change or cancel a session ----------------------------------------------------


def values(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Jualan online",
        "organiser": "Disnaker Surabaya",
        "topic": "digital",
        "starts_at": START,
        "ends_at": START + timedelta(hours=3),
        "place": "BLK Surabaya",
        "link": None,
        "province_code": "35",
        "regency_code": "35.78",
        "seats": 1,
        "needs_approval": False,
        **changes,
    }


async def test_a_new_time_moves_the_reminders_and_everyone_in_it_is_told(sessions) -> None:
    tid = await session_(sessions)
    a, b, c = await people(sessions, 3)
    seat, _waiting, _last = await register(sessions, tid, a, b, c)
    before = await open_reminders(sessions, seat.registration_id)
    later = START + timedelta(days=2)
    async with sessions() as session, session.begin():
        done = await ops.edit_session(
            session,
            training_id=tid,
            values=values(starts_at=later, ends_at=later + timedelta(hours=3), seats=2),
            scope=["35"],
            now=NOW,
        )
    after = await open_reminders(sessions, seat.registration_id)
    assert after["day"] == before["day"] + timedelta(days=2)
    told = {(n.to, n.message) for n in done.notices}
    # the seat holder and the one still waiting hear of the change; the promoted one, of the seat
    assert told == {(a, "training.changed"), (c, "training.changed"), (b, "training.promoted")}
    assert all(n.args["what"] == ["time"] for n in done.notices if n.message == "training.changed")
    promoted = await reg_of(sessions, tid, b)
    assert (await open_reminders(sessions, promoted.id))["day"] == after["day"]


async def test_an_edit_that_changes_nothing_for_the_people_tells_nobody(sessions) -> None:
    tid = await session_(sessions)
    [a] = await people(sessions, 1)
    await register(sessions, tid, a)
    async with sessions() as session, session.begin():
        done = await ops.edit_session(
            session, training_id=tid, values=values(organiser="Disnaker Kota"), scope=None, now=NOW
        )
    assert done.ok and done.notices == []


async def test_an_edit_outside_the_coordinators_regions_is_refused(sessions) -> None:
    tid = await session_(sessions)
    async with sessions() as session, session.begin():
        moved = await ops.edit_session(
            session,
            training_id=tid,
            values=values(province_code="51", regency_code="51.71"),
            scope=["35"],
            now=NOW,
        )
        theirs = await ops.edit_session(
            session, training_id=tid, values=values(seats=5), scope=["33"], now=NOW
        )
        cancelled = await ops.cancel_session(session, training_id=tid, scope=["33"], now=NOW)
    assert moved.refused == theirs.refused == cancelled.refused == "outside"
    async with sessions() as session:
        training = await trainings.get(session, tid)
        assert training is not None and training.seats == 1 and not training.cancelled


async def test_cancelling_a_session_ends_every_place_and_tells_each_person(sessions) -> None:
    tid = await session_(sessions, needs_approval=True)
    a, b = await people(sessions, 2)
    seat, waiting = await register(sessions, tid, a, b)
    async with sessions() as session, session.begin():
        done = await ops.cancel_session(session, training_id=tid, scope=["35.78"], now=NOW)
    assert sorted((n.to, n.message) for n in done.notices) == [
        (a, "training.cancelled"),
        (b, "training.cancelled"),
    ]
    assert await open_reminders(sessions, seat.registration_id) == {}
    async with sessions() as session:
        sub = await session.scalar(select(Submission))
        assert sub is not None and sub.status == SubmissionStatus.WITHDRAWN
    assert (await reg_of(sessions, tid, b)).status == RegistrationStatus.CANCELLED
    async with sessions() as session, session.begin():
        again = await ops.cancel_session(session, training_id=tid, scope=None, now=NOW)
    assert again.refused == "already_cancelled" and again.notices == []
    assert waiting.ok


async def test_a_duplicate_title_and_time_is_refused(sessions) -> None:
    tid = await session_(sessions)
    async with sessions() as session, session.begin():
        done = await ops.create_session(
            session, values=values(), created_by=None, scope=None, now=NOW
        )
    assert done.refused == "same_session" and done.changed["training"] == [tid]


# --- a reviewer's decision --------------------------------------------------------------------


async def test_a_rejection_frees_the_seat_cancels_its_reminders_and_promotes(sessions) -> None:
    tid = await session_(sessions, needs_approval=True)
    a, b, c = await people(sessions, 3)
    seat, first_waiting, _ = await register(sessions, tid, a, b, c)
    done = await decide(sessions, seat.registration_id, SubmissionStatus.REJECTED, "Kuota desa")
    rejected = await reg_of(sessions, tid, a)
    assert rejected.status == RegistrationStatus.REJECTED
    assert await standing_of(sessions, tid, a) == Standing.REJECTED
    assert await open_reminders(sessions, seat.registration_id) == {}
    # only others are told here: the decided person's message is the decision's own
    assert [(n.to, n.message) for n in done.notices] == [(b, "training.promoted")]
    assert done.changed["promoted"] == [first_waiting.registration_id]
    assert await standing_of(sessions, tid, b) == Standing.AWAITING
    assert set(await open_reminders(sessions, first_waiting.registration_id)) == {"day", "soon"}
    # staff said no: pressing Register again does not bring it back
    [again] = await register(sessions, tid, a)
    assert not again.ok and again.refused == "rejected"
    assert (await reg_of(sessions, tid, a)).status == RegistrationStatus.REJECTED


async def test_an_approval_confirms_the_seat(sessions) -> None:
    tid = await session_(sessions, needs_approval=True)
    [a] = await people(sessions, 1)
    [seat] = await register(sessions, tid, a)
    assert await standing_of(sessions, tid, a) == Standing.AWAITING
    done = await decide(sessions, seat.registration_id, SubmissionStatus.APPROVED)
    assert done.ok and done.notices == []
    assert await standing_of(sessions, tid, a) == Standing.CONFIRMED
    assert set(await open_reminders(sessions, seat.registration_id)) == {"day", "soon"}


async def test_a_return_keeps_the_seat_and_its_reminders(sessions) -> None:
    tid = await session_(sessions, needs_approval=True)
    a, b = await people(sessions, 2)
    seat, _ = await register(sessions, tid, a, b)
    done = await decide(sessions, seat.registration_id, SubmissionStatus.RETURNED, "Nama?")
    assert done.notices == []
    assert await standing_of(sessions, tid, a) == Standing.RETURNED
    assert (await reg_of(sessions, tid, b)).status == RegistrationStatus.WAITLISTED
    assert set(await open_reminders(sessions, seat.registration_id)) == {"day", "soon"}


async def test_a_rejection_once_the_session_has_begun_promotes_nobody(sessions) -> None:
    tid = await session_(sessions, needs_approval=True)
    a, b = await people(sessions, 2)
    seat, _ = await register(sessions, tid, a, b)
    async with sessions() as session, session.begin():
        submission = await session.scalar(select(Submission))
        assert submission is not None
        begun = START + timedelta(minutes=5)
        await reviews.decide(
            session, submission.id, status=SubmissionStatus.REJECTED, reviewer_id=1, now=begun
        )
        done = await EFFECTS[submission.kind](
            session, submission, SubmissionStatus.REJECTED, "Terlambat", begun
        )
    assert done.notices == []
    assert (await reg_of(sessions, tid, a)).status == RegistrationStatus.REJECTED
    assert (await reg_of(sessions, tid, b)).status == RegistrationStatus.WAITLISTED


# --- attendance -----------------------------------------------------------------------------------


async def test_attendance_marks_seat_holders_on_the_day_audited(sessions) -> None:
    from datetime import date

    from storage.models import AuditEntry

    tid = await session_(sessions, seats=2)
    a, b, c = await people(sessions, 3)
    await register(sessions, tid, a, b, c)  # c waits
    ra, rb, rc = [(await reg_of(sessions, tid, p)).id for p in (a, b, c)]
    async with sessions() as session, session.begin():
        early = await ops.mark_attendance(
            session, training_id=tid, present={ra}, actor_id=a, scope=["35"],
            today=date(2027, 1, 9), now=NOW,
        )  # fmt: skip
        outside = await ops.mark_attendance(
            session, training_id=tid, present={ra}, actor_id=a, scope=["51"],
            today=date(2027, 1, 10), now=NOW,
        )  # fmt: skip
        done = await ops.mark_attendance(
            session, training_id=tid, present={ra, rc}, actor_id=a, scope=["35"],
            today=date(2027, 1, 10), now=NOW,
        )  # fmt: skip
    assert early.refused == "too_early" and outside.refused == "outside"
    assert done.ok and done.changed["attended"] == [ra]
    async with sessions() as session:
        marked = {r.id: r.attended_at for r in await session.scalars(select(TrainingRegistration))}
        [entry] = (await session.scalars(select(AuditEntry))).all()
    assert marked[ra] == NOW and marked[rb] is None and marked[rc] is None  # not the waitlist
    assert entry.action == "training.attendance" and entry.details["present"] == [ra]


async def test_attendance_of_a_cancelled_session_is_refused(sessions) -> None:
    from datetime import date

    tid = await session_(sessions, cancelled=True)
    async with sessions() as session, session.begin():
        done = await ops.mark_attendance(
            session, training_id=tid, present=set(), actor_id=None, scope=None,
            today=date(2027, 1, 10), now=NOW,
        )  # fmt: skip
    assert done.refused == "gone"
