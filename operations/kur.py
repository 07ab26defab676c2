"""The KUR journey's part in a review: what a decision on a readiness check does to the loan.

A readiness check is the returnee's own look at whether they are ready to ask a bank; staff
review it to help, and the bank decides the loan. So a decision moves the loan only where the
bank is not involved yet:

- approved: the loan goes on as it is (preparing documents, then a bank visit); /progres says
  the team checked it.
- returned: the loan waits as it is; the correction may change the amount, and with it the
  scheme (below), as a new check of the same loan does.
- rejected: a loan still being prepared ends (withdrawn, with the day), and its reminders
  (open documents, a bank visit) are cancelled: "tick your documents" would contradict the
  team's "not yet". /progres shows the reason and offers a new check, which starts a new loan.
  A loan that has reached the bank (a visit planned, a survey, ...) is left to the bank: the
  reason is shown beside it, nothing else changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from flows import regions
from flows.content import kur as kur_facts
from operations.decisions import on_corrected, on_decided
from operations.notices import Done
from storage import loans
from storage import reminders as reminder_rows
from storage.models import Loan, Person, Submission, SubmissionKind, SubmissionStatus

KIND = SubmissionKind.KUR_READINESS.value


def docs_key(loan_id: int) -> str:
    """The reminder about documents still open a few days after the check."""
    return f"docs:{loan_id}"


def bank_key(loan_id: int) -> str:
    """The reminder the day before the bank visit."""
    return f"bank:{loan_id}:day"


async def _loan(session: AsyncSession, submission: Submission) -> tuple[Loan, Person] | None:
    if submission.ref_id is None or submission.person_id is None:
        return None
    loan = await loans.mine(session, loan_id=submission.ref_id, person_id=submission.person_id)
    person = await session.get(Person, submission.person_id)
    return None if loan is None or person is None else (loan, person)


@on_decided(KIND)
async def readiness_decided(
    session: AsyncSession,
    submission: Submission,
    status: SubmissionStatus,
    reason: str | None,
    now: datetime,
) -> Done:
    """Rejected: the loan still being prepared ends and its reminders stop (see above)."""
    if status != SubmissionStatus.REJECTED:
        return Done()
    found = await _loan(session, submission)
    if found is None:
        return Done()
    loan, person = found
    day = now.astimezone(ZoneInfo(regions.zone_of(person.province_code))).date()
    if not await loans.withdraw(session, loan, day=day):
        return Done()
    await reminder_rows.cancel(session, keys=[docs_key(loan.id), bank_key(loan.id)])
    return Done(changed={"loan": [loan.id]})


@on_corrected(KIND)
async def readiness_corrected(
    session: AsyncSession, submission: Submission, answers: dict[str, Any], now: datetime
) -> Done:
    """A corrected amount is the loan's amount, and picks its scheme again."""
    if "amount" not in answers:
        return Done()
    found = await _loan(session, submission)
    if found is None or found[0].stage not in loans.IN_PROGRESS:
        return Done()
    loan = found[0]
    answers = submission.answers or {}
    amount = int(answers.get("amount") or 0)
    had_kur = answers.get("had_kur") == "before"
    fits = kur_facts.scheme_for(amount, had_kur=had_kur) if amount > 0 else None
    await loans.update(session, loan, amount=amount, scheme=fits.key if fits else None)
    return Done(changed={"loan": [loan.id]})
