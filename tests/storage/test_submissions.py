"""Submissions: one open per person, kind and subject; erasure leaves anonymous counts only."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from storage import privacy, repo, submissions
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    Founding,
    FoundingMember,
    Loan,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Training,
    TrainingRegistration,
    utcnow,
)


async def test_filing_twice_keeps_one_open_submission_with_the_newest_answers(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        person = await repo.create_person(session, telegram_id=11, locale="id")
        await repo.update_person(session, person, province_code="35", regency_code="35.78")
        first = await submissions.create(
            session, person=person, kind=SubmissionKind.JOIN_REQUEST, ref_id=7, answers={"a": 1}
        )
        again = await submissions.create(
            session, person=person, kind=SubmissionKind.JOIN_REQUEST, ref_id=7, answers={"a": 2}
        )
        other = await submissions.create(
            session, person=person, kind=SubmissionKind.JOIN_REQUEST, ref_id=8, answers={}
        )
        assert again.id == first.id and other.id != first.id
    async with sessions() as session:
        rows = (await session.scalars(select(Submission).order_by(Submission.id))).all()
        assert [(r.ref_id, r.answers, r.status) for r in rows] == [
            (7, {"a": 2}, SubmissionStatus.SUBMITTED),
            (8, {}, SubmissionStatus.SUBMITTED),
        ]
        assert (rows[0].province_code, rows[0].regency_code) == ("35", "35.78")
        latest = await submissions.latest(
            session, person_id=rows[0].person_id, kind=SubmissionKind.JOIN_REQUEST, ref_id=7
        )
        assert latest is not None and latest.id == rows[0].id
    await engine.dispose()


async def test_a_decided_submission_is_not_reopened_by_filing_again(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        person = await repo.create_person(session, telegram_id=12, locale="id")
        first = await submissions.create(
            session, person=person, kind=SubmissionKind.KUR_READINESS, ref_id=None, answers={}
        )
        await session.execute(
            update(Submission)
            .where(Submission.id == first.id)
            .values(status=SubmissionStatus.REJECTED)
        )
        second = await submissions.create(
            session, person=person, kind=SubmissionKind.KUR_READINESS, ref_id=None, answers={}
        )
        assert second.id != first.id
        mine = await submissions.of_person(session, person_id=person.id)
        assert {s.id for s in mine} == {first.id, second.id}
    await engine.dispose()


async def test_erasing_a_person_leaves_only_anonymous_rows(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        person = await repo.create_person(session, telegram_id=13, locale="id")
        await repo.update_person(session, person, nik="3578014101900001")
        await submissions.create(
            session,
            person=person,
            kind=SubmissionKind.JOIN_REQUEST,
            ref_id=1,
            answers={"nik": "3578014101900001"},
        )
        session.add(Loan(person_id=person.id, amount=40_000_000, branch="Cabang Darmo"))
        founding = Founding(founder_id=person.id, code="abc", kind="jasa", purpose="p", name="n")
        session.add(founding)
        now = utcnow()
        training = Training(
            title="t", organiser="o", topic="business", starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=3, hours=2), seats=10,
        )  # fmt: skip
        session.add(training)
        await session.flush()
        session.add(FoundingMember(founding_id=founding.id, person_id=person.id))
        session.add(
            TrainingRegistration(training_id=training.id, person_id=person.id, status="registered")
        )
        await session.flush()
    async with sessions() as session, session.begin():
        loaded = await repo.person_by_telegram_id(session, telegram_id=13)
        assert loaded is not None
        await privacy.erase(session, person=loaded)
    async with sessions() as session:
        submission = (await session.scalars(select(Submission))).one()
        assert submission.person_id is None and submission.answers == {}
        loan = (await session.scalars(select(Loan))).one()
        assert (loan.person_id, loan.amount, loan.branch) == (None, None, None)
        assert (await session.scalars(select(Founding))).one().founder_id is None
        for model in (FoundingMember, TrainingRegistration):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
    await engine.dispose()
