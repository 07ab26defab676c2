"""The cooperative journeys as operations (operations/coops.py), on SQLite and PostgreSQL:
what each changes, whom it tells, and what it refuses."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from operations import coops as ops
from operations.decisions import CORRECTIONS, EFFECTS
from operations.notices import Done
from storage import coops, repo, reviews, submissions
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    Cooperative,
    Founding,
    FoundingStatus,
    Person,
    Reminder,
    ReminderStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
NIK = "3578014101900001"
MEETING = NOW + timedelta(days=20)

Sessions = async_sessionmaker[AsyncSession]
TELEGRAM_IDS = itertools.count(1000)


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def make_person(session: AsyncSession, tid: int, name: str, *, locale: str = "id") -> int:
    person = await repo.create_person(session, telegram_id=tid, locale=locale)
    await repo.update_person(
        session, person, name=name, province_code="35", regency_code="35.78", onboarded_at=NOW
    )
    return person.id


async def make_coop(session: AsyncSession) -> int:
    coop = Cooperative(
        name="Koperasi Sejahtera",
        kind="konsumen",
        province_code="35",
        regency_code="35.78",
        village="Genteng",
        description="Toko bersama",
        simpanan_pokok=100_000,
        simpanan_wajib=20_000,
        requirements="KTP",
        benefits="SHU",
    )
    session.add(coop)
    await session.flush()
    return coop.id


def told(done: Done, message: str) -> list[int]:
    return sorted(n.to for n in done.notices if n.message == message)


async def plan_with(sessions: Sessions, founders: int) -> tuple[int, list[int]]:
    """A plan led by the first of `founders` people, the others joined through its code."""
    async with sessions() as session, session.begin():
        people = [
            await make_person(session, next(TELEGRAM_IDS), f"Pendiri{i} Purna")
            for i in range(founders)
        ]
        done = await ops.found(
            session,
            person_id=people[0],
            kind="simpan_pinjam",
            purpose="Simpan pinjam untuk purna PMI",
            name="Koperasi Purna Jaya",
            now=NOW,
        )
        plan_id = done.changed[ops.FOUNDING][0]
        code = (await coops.founding(session, plan_id)).code
        for pid in people[1:]:
            assert (await ops.add_founder(session, code=code, person_id=pid, now=NOW)).ok
    return plan_id, people


async def plan(sessions: Sessions, plan_id: int) -> Founding:
    async with sessions() as session:
        found = await coops.founding(session, plan_id)
        assert found is not None
        return found


# --- joining a cooperative --------------------------------------------------------------------


async def test_join_files_once_per_run_and_once_while_open(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        siti = await make_person(session, 1, "Siti Aminah")
        coop = await make_coop(session)
        run = (await repo.start_run(session, person_id=siti, flow="join_request", step="x")).id
        first = await ops.join(session, person_id=siti, coop_id=coop, nik=NIK, run_id=run, now=NOW)
        again = await ops.join(session, person_id=siti, coop_id=coop, nik=NIK, run_id=run, now=NOW)
        other = await ops.join(session, person_id=siti, coop_id=coop, now=NOW)
        assert first.ok and again.changed == first.changed and first.notices == []
        assert other.refused == "already_sent"
        assert (await session.get(Person, siti)).nik == NIK  # saved to the profile
        missing = await ops.join(session, person_id=siti, coop_id=coop + 99, now=NOW)
        assert missing.refused == "not_found"
    async with sessions() as session:
        rows = (await session.scalars(select(Submission))).all()
        assert [(r.kind, r.ref_id, r.answers["nik"]) for r in rows] == [
            (SubmissionKind.JOIN_REQUEST, coop, NIK)
        ]


async def test_a_rejected_request_is_closed_and_may_be_asked_again(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        siti = await make_person(session, 1, "Siti Aminah")
        coop = await make_coop(session)
        first = await ops.join(session, person_id=siti, coop_id=coop, nik=NIK, now=NOW)
        request = await reviews.get(session, first.changed[ops.JOIN_REQUEST][0])
        assert await reviews.decide(
            session, request.id, status=SubmissionStatus.REJECTED, reviewer_id=siti, now=NOW
        )
        effect = await EFFECTS["join_request"](
            session, request, SubmissionStatus.REJECTED, "KTP kurang jelas", NOW
        )
        assert effect.ok and effect.notices == []  # the person hears it as review.decided
        assert await coops.open_join_request(session, person_id=siti, coop_id=coop) is None
        second = await ops.join(session, person_id=siti, coop_id=coop, now=NOW)
        assert second.ok and second.changed[ops.JOIN_REQUEST] != first.changed[ops.JOIN_REQUEST]


async def test_an_approved_request_closes_its_duplicates_and_is_not_asked_again(
    sessions: Sessions,
) -> None:
    async with sessions() as session, session.begin():
        siti = await make_person(session, 1, "Siti Aminah")
        coop = await make_coop(session)
        done = await ops.join(session, person_id=siti, coop_id=coop, nik=NIK, now=NOW)
        person = await session.get(Person, siti)
        # a duplicate two finishes at once could file on PostgreSQL (look-up, then insert)
        duplicate = await submissions.create(
            session,
            person=person,
            kind=SubmissionKind.JOIN_REQUEST,
            ref_id=coop,
            answers={},
            new_subject=True,
        )
        request = await reviews.get(session, done.changed[ops.JOIN_REQUEST][0])
        await reviews.decide(
            session, request.id, status=SubmissionStatus.APPROVED, reviewer_id=siti, now=NOW
        )
        await EFFECTS["join_request"](session, request, SubmissionStatus.APPROVED, None, NOW)
        assert (await reviews.get(session, duplicate.id)).status == SubmissionStatus.WITHDRAWN
        assert await coops.open_join_request(session, person_id=siti, coop_id=coop) is None
        again = await ops.join(session, person_id=siti, coop_id=coop, now=NOW)
        assert again.refused == "accepted"


async def test_a_returned_request_stays_open_for_its_correction(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        siti = await make_person(session, 1, "Siti Aminah")
        coop = await make_coop(session)
        done = await ops.join(session, person_id=siti, coop_id=coop, nik=NIK, now=NOW)
        request_id = done.changed[ops.JOIN_REQUEST][0]
        await reviews.decide(
            session,
            request_id,
            status=SubmissionStatus.RETURNED,
            reviewer_id=siti,
            now=NOW,
            fields=["nik"],
        )
        request = await reviews.get(session, request_id)
        await EFFECTS["join_request"](session, request, SubmissionStatus.RETURNED, "NIK?", NOW)
        assert (await ops.join(session, person_id=siti, coop_id=coop, now=NOW)).refused == (
            "returned"
        )


# --- founding a plan --------------------------------------------------------------------------


async def test_found_is_idempotent_per_run_and_checks_its_values(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        siti = await make_person(session, 1, "Siti Aminah")
        run = (await repo.start_run(session, person_id=siti, flow="found_coop", step="x")).id
        values = {"kind": "jasa", "purpose": "Jasa katering hajatan", "name": "Koperasi Boga"}
        first = await ops.found(session, person_id=siti, run_id=run, now=NOW, **values)
        again = await ops.found(session, person_id=siti, run_id=run, now=NOW, **values)
        assert first.ok and first.changed == again.changed
        bad = await ops.found(session, person_id=siti, now=NOW, **{**values, "kind": "bank"})
        assert bad.refused == "invalid"
    async with sessions() as session:
        rows = (await session.scalars(select(Founding))).all()
        assert [(p.name, p.founder_id, p.run_id, p.status) for p in rows] == [
            ("Koperasi Boga", siti, run, FoundingStatus.PLANNING)
        ]


async def test_a_cofounder_joins_and_the_lead_and_the_others_are_told(
    sessions: Sessions,
) -> None:
    plan_id, people = await plan_with(sessions, 2)
    async with sessions() as session, session.begin():
        await ops.set_meeting(session, plan_id=plan_id, by=people[0], at=MEETING, now=NOW)
        third = await make_person(session, 300, "Citra Dewi")
        code = (await coops.founding(session, plan_id)).code
        done = await ops.add_founder(session, code=code, person_id=third, now=NOW)
        assert told(done, "coop.joined") == sorted(people)
        assert done.notices[0].args == {"plan": plan_id, "member": third, "count": 3}
        again = await ops.add_founder(session, code=code, person_id=third, now=NOW)
        assert again.refused == "already" and again.notices == []
        keys = (
            await session.scalars(select(Reminder.dedupe_key).where(Reminder.person_id == third))
        ).all()
        assert sorted(keys) == [f"meeting:{plan_id}:{third}:1d", f"meeting:{plan_id}:{third}:3d"]
        wrong = await ops.add_founder(session, code="nope", person_id=third, now=NOW)
        assert wrong.refused == "not_found"


async def test_only_the_lead_marks_steps_and_the_others_hear_a_step_done(
    sessions: Sessions,
) -> None:
    plan_id, (lead, other) = await plan_with(sessions, 2)
    async with sessions() as session, session.begin():
        refused = await ops.mark_step(
            session, plan_id=plan_id, by=other, step="adart", done=True, now=NOW
        )
        assert refused.refused == "not_yours"
        done = await ops.mark_step(
            session, plan_id=plan_id, by=lead, step="adart", done=True, now=NOW
        )
        assert told(done, "coop.step_done") == [other]
        twice = await ops.mark_step(
            session, plan_id=plan_id, by=lead, step="adart", done=True, now=NOW
        )
        assert twice.ok and twice.notices == [] and twice.changed == {}
        undone = await ops.mark_step(
            session, plan_id=plan_id, by=lead, step="adart", done=False, now=NOW
        )
        assert undone.ok and undone.notices == []
        bogus = await ops.mark_step(
            session, plan_id=plan_id, by=lead, step="bogus", done=True, now=NOW
        )
        assert bogus.refused == "not_found"
    assert (await plan(sessions, plan_id)).milestones == {}


async def test_nine_founders_and_the_meeting_held_send_the_file_once(sessions: Sessions) -> None:
    plan_id, people = await plan_with(sessions, 9)
    async with sessions() as session, session.begin():
        done = await ops.mark_step(
            session, plan_id=plan_id, by=people[0], step="meeting", done=True, now=NOW
        )
        assert told(done, "coop.submitted") == sorted(people)
        assert told(done, "coop.step_done") == sorted(people[1:])
        again = await ops.mark_step(
            session, plan_id=plan_id, by=people[0], step="adart", done=True, now=NOW
        )
        assert told(again, "coop.submitted") == []
    async with sessions() as session:
        files = (await session.scalars(select(Submission))).all()
        assert [(f.kind, f.ref_id, f.person_id, f.answers["founders"]) for f in files] == [
            (SubmissionKind.FOUNDING, plan_id, people[0], 9)
        ]
    assert (await plan(sessions, plan_id)).status == FoundingStatus.SUBMITTED


async def test_the_meeting_reminds_every_founder_and_tells_the_others(sessions: Sessions) -> None:
    plan_id, (lead, other) = await plan_with(sessions, 2)
    async with sessions() as session, session.begin():
        past = await ops.set_meeting(
            session, plan_id=plan_id, by=lead, at=NOW - timedelta(hours=1), now=NOW
        )
        assert past.refused == "past"
        assert (
            await ops.set_meeting(session, plan_id=plan_id, by=other, at=MEETING, now=NOW)
        ).refused == "not_yours"
        done = await ops.set_meeting(session, plan_id=plan_id, by=lead, at=MEETING, now=NOW)
        assert told(done, "coop.meeting_set") == [other]
        assert done.notices[0].args["at"] == MEETING.isoformat()
        count = len((await session.scalars(select(Reminder))).all())
        assert count == 4  # three days and one day before, for each founder
    assert (await plan(sessions, plan_id)).meeting_at == MEETING


async def test_hand_over_moves_the_lead_and_the_file_and_tells_both(sessions: Sessions) -> None:
    plan_id, (lead, heir, third) = await plan_with(sessions, 3)
    async with sessions() as session, session.begin():
        lead_person = await session.get(Person, lead)
        await submissions.create(
            session, person=lead_person, kind=SubmissionKind.FOUNDING, ref_id=plan_id, answers={}
        )
        outsider = await make_person(session, 400, "Orang Luar")
        assert (
            await ops.hand_over(session, plan_id=plan_id, by=lead, to=outsider, now=NOW)
        ).refused == "not_member"
        assert (
            await ops.hand_over(session, plan_id=plan_id, by=heir, to=third, now=NOW)
        ).refused == "not_yours"
        assert (
            await ops.hand_over(session, plan_id=plan_id, by=lead, to=lead, now=NOW)
        ).refused == "same"
        done = await ops.hand_over(session, plan_id=plan_id, by=lead, to=heir, now=NOW)
        assert told(done, "coop.handed_over") == [heir]
        assert told(done, "coop.new_lead") == [third]
        assert [n.args for n in done.notices if n.message == "coop.new_lead"] == [
            {"plan": plan_id, "lead": heir, "why": "handed"}
        ]
        file = await coops.founding_file(session, plan_id)
        assert file is not None and file.person_id == heir
        # the old lead can no longer change it; the new one can
        assert (
            await ops.mark_step(session, plan_id=plan_id, by=lead, step="adart", done=True, now=NOW)
        ).refused == "not_yours"
        assert (await ops.set_meeting(session, plan_id=plan_id, by=heir, at=MEETING, now=NOW)).ok
    assert (await plan(sessions, plan_id)).founder_id == heir


async def test_cancel_closes_the_plan_cancels_reminders_and_tells_every_cofounder(
    sessions: Sessions,
) -> None:
    plan_id, (lead, *others) = await plan_with(sessions, 3)
    async with sessions() as session, session.begin():
        await ops.set_meeting(session, plan_id=plan_id, by=lead, at=MEETING, now=NOW)
        lead_person = await session.get(Person, lead)
        file = await submissions.create(
            session, person=lead_person, kind=SubmissionKind.FOUNDING, ref_id=plan_id, answers={}
        )
        assert (
            await ops.cancel_plan(session, plan_id=plan_id, by=others[0], now=NOW)
        ).refused == "not_yours"
        done = await ops.cancel_plan(session, plan_id=plan_id, by=lead, now=NOW)
        assert done.ok and told(done, "coop.cancelled") == sorted(others)
        assert (await ops.cancel_plan(session, plan_id=plan_id, by=lead, now=NOW)).refused == (
            "closed"
        )
        for attempt in (
            ops.mark_step(session, plan_id=plan_id, by=lead, step="adart", done=True, now=NOW),
            ops.set_meeting(session, plan_id=plan_id, by=lead, at=MEETING, now=NOW),
            ops.hand_over(session, plan_id=plan_id, by=lead, to=others[0], now=NOW),
        ):
            assert (await attempt).refused == "closed"
        code = (await coops.founding(session, plan_id)).code
        newcomer = await make_person(session, 500, "Dewi Lestari")
        assert (await ops.add_founder(session, code=code, person_id=newcomer, now=NOW)).refused
        assert (await reviews.get(session, file.id)).status == SubmissionStatus.WITHDRAWN
        statuses = (await session.scalars(select(Reminder.status))).all()
        assert statuses and set(statuses) == {ReminderStatus.CANCELLED}
    closed = await plan(sessions, plan_id)
    assert (closed.status, closed.closed_at) == (FoundingStatus.CANCELLED, NOW)
    async with sessions() as session:  # the founders stay, to see it was cancelled
        assert await coops.foundings_of(session, person_id=others[0]) == []
        shown = await coops.foundings_of(session, person_id=others[0], closed=True)
        assert [p.id for p in shown] == [plan_id]


# --- the team's decision on a founding file ---------------------------------------------------


async def decided(sessions: Sessions, status: SubmissionStatus, reason: str | None) -> Done:
    plan_id, people = await plan_with(sessions, 3)
    async with sessions() as session, session.begin():
        lead = await session.get(Person, people[0])
        file = await submissions.create(
            session, person=lead, kind=SubmissionKind.FOUNDING, ref_id=plan_id, answers={}
        )
        await reviews.decide(session, file.id, status=status, reviewer_id=people[0], now=NOW)
        return await EFFECTS["founding"](
            session, await reviews.get(session, file.id), status, reason, NOW
        )


async def test_a_decision_marks_the_plan_and_tells_only_the_cofounders(
    sessions: Sessions,
) -> None:
    for status, marked in (
        (SubmissionStatus.APPROVED, FoundingStatus.APPROVED),
        (SubmissionStatus.REJECTED, FoundingStatus.REJECTED),
        (SubmissionStatus.RETURNED, FoundingStatus.RETURNED),
    ):
        done = await decided(sessions, status, "Berita acara belum ada")
        plan_id = done.changed[ops.FOUNDING][0]
        shown = await plan(sessions, plan_id)
        assert shown.status == marked
        assert len(told(done, "coop.decided")) == 2  # the lead hears it as review.decided
        assert shown.founder_id not in told(done, "coop.decided")
        assert done.notices[0].args == {
            "plan": plan_id,
            "status": status.value,
            "reason": "Berita acara belum ada",
        }


async def test_a_cancelled_plan_stays_cancelled_whatever_is_decided(sessions: Sessions) -> None:
    plan_id, people = await plan_with(sessions, 2)
    async with sessions() as session, session.begin():
        lead = await session.get(Person, people[0])
        file = await submissions.create(
            session, person=lead, kind=SubmissionKind.FOUNDING, ref_id=plan_id, answers={}
        )
        await ops.cancel_plan(session, plan_id=plan_id, by=people[0], now=NOW)
        done = await EFFECTS["founding"](session, file, SubmissionStatus.APPROVED, None, NOW)
        assert done.notices == []
    assert (await plan(sessions, plan_id)).status == FoundingStatus.CANCELLED


async def test_a_correction_writes_back_to_the_plan_and_it_waits_again(
    sessions: Sessions,
) -> None:
    done = await decided(sessions, SubmissionStatus.RETURNED, "Nama kurang jelas")
    plan_id = done.changed[ops.FOUNDING][0]
    async with sessions() as session, session.begin():
        file = await coops.founding_file(session, plan_id)
        assert file is not None
        fixed = await CORRECTIONS["founding"](
            session, file, {"name": "Koperasi Purna Sejahtera", "nik": NIK, "kind": "bank"}, NOW
        )
        # The co-founders (told it came back) hear it went to the team again; the lead,
        # who sent it, does not.
        cofounders = {p.id for p in await coops.members(session, founding_id=plan_id)}
        cofounders.discard(file.person_id)
        assert set(told(fixed, "coop.corrected")) == cofounders and len(cofounders) == 2
        assert fixed.notices[0].args == {"plan": plan_id}
    corrected = await plan(sessions, plan_id)
    assert (corrected.name, corrected.kind, corrected.status) == (
        "Koperasi Purna Sejahtera",
        "simpan_pinjam",  # an unknown type is not written
        FoundingStatus.SUBMITTED,
    )
