"""What a decision on a KUR readiness check does to the loan (operations/kur.py): a rejection
ends a loan still being prepared and stops its reminders; one at the bank is left to the bank;
an approval or a return leaves it; a corrected amount is the loan's amount and scheme."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flows import clock
from operations import decisions
from operations.kur import bank_key, docs_key
from storage import loans, repo, submissions
from storage import reminders as reminder_rows
from storage.db import create_engine, create_sessionmaker
from storage.models import Loan, LoanStage, Reminder, ReminderStatus, SubmissionKind

ANSWERS = {"status": "running6", "business": "Warung", "amount": 40_000_000, "slik": "ok"}


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def _checked(sessions, *, stage: LoanStage = LoanStage.PREPARING) -> dict[str, int]:
    """A person's loan (at `stage`) with its two reminders, its readiness check, a reviewer."""
    async with sessions() as session, session.begin():
        person = await repo.create_person(session, telegram_id=601, locale="id")
        await repo.update_person(session, person, province_code="35", regency_code="35.78")
        reviewer = await repo.create_person(session, telegram_id=602, locale="id")
        loan = await loans.create(
            session, person_id=person.id, scheme="mikro", amount=40_000_000, day=clock.today()
        )
        if stage != LoanStage.PREPARING:
            await loans.update(session, loan, stage=stage.value)
        for key in (docs_key(loan.id), bank_key(loan.id)):
            await reminder_rows.schedule(
                session,
                person_id=person.id,
                kind="kur",
                key=key,
                due_at=clock.now() + timedelta(days=3),
            )
        sub = await submissions.create(
            session,
            person=person,
            kind=SubmissionKind.KUR_READINESS,
            ref_id=loan.id,
            answers=dict(ANSWERS),
        )
        return {"person": person.id, "reviewer": reviewer.id, "loan": loan.id, "sub": sub.id}


async def _decide(sessions, ids: dict[str, int], status: str, **kw: Any):
    async with sessions() as session, session.begin():
        return await decisions.decide(
            session,
            submission_id=ids["sub"],
            reviewer_id=ids["reviewer"],
            status=status,
            reason=kw.get("reason", "Usaha belum berjalan."),
            fields=kw.get("fields"),
            now=clock.now(),
        )


async def _loan_and_reminders(sessions, ids: dict[str, int]) -> tuple[Loan, set[str]]:
    async with sessions() as session:
        loan = await session.get(Loan, ids["loan"])
        statuses = set(await session.scalars(select(Reminder.status)))
    return loan, statuses


async def test_a_rejected_check_ends_the_loan_being_prepared_and_its_reminders(sessions) -> None:
    ids = await _checked(sessions)
    done = await _decide(sessions, ids, "rejected")
    assert done.changed == {"submission": [ids["sub"]], "loan": [ids["loan"]]}
    assert [n.message for n in done.notices] == ["review.decided"]
    loan, reminders = await _loan_and_reminders(sessions, ids)
    assert loan.stage == LoanStage.WITHDRAWN
    assert loan.stage_dates[LoanStage.WITHDRAWN.value] == clock.today().isoformat()
    assert loan.rejection_reason is None  # the bank's "no", not the team's
    assert reminders == {ReminderStatus.CANCELLED.value}


async def test_a_rejected_check_leaves_a_loan_at_the_bank_to_the_bank(sessions) -> None:
    ids = await _checked(sessions, stage=LoanStage.APPOINTMENT)
    done = await _decide(sessions, ids, "rejected")
    assert "loan" not in done.changed
    loan, reminders = await _loan_and_reminders(sessions, ids)
    assert loan.stage == LoanStage.APPOINTMENT
    assert reminders == {ReminderStatus.PENDING.value}


async def test_an_approved_or_returned_check_leaves_the_loan_as_it_is(sessions) -> None:
    ids = await _checked(sessions)
    await _decide(sessions, ids, "approved", reason=None)
    loan, reminders = await _loan_and_reminders(sessions, ids)
    assert (loan.stage, reminders) == (LoanStage.PREPARING, {ReminderStatus.PENDING.value})


async def test_a_corrected_amount_is_the_loans_amount_and_scheme(sessions) -> None:
    ids = await _checked(sessions)
    await _decide(sessions, ids, "returned", fields=["amount"], reason="Terlalu besar.")
    loan, reminders = await _loan_and_reminders(sessions, ids)
    assert loan.stage == LoanStage.PREPARING and reminders == {ReminderStatus.PENDING.value}
    async with sessions() as session, session.begin():
        done = await decisions.correct(
            session,
            submission_id=ids["sub"],
            person_id=ids["person"],
            answers={"amount": 8_000_000, "business": "ignored: not returned"},
            now=clock.now(),
        )
    assert done.changed == {"submission": [ids["sub"]], "loan": [ids["loan"]]}
    loan, _reminders = await _loan_and_reminders(sessions, ids)
    assert (loan.amount, loan.scheme) == (8_000_000, "super_mikro")
