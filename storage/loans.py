"""Loans (KUR): one person's way from the readiness check to the bank's answer.

Stages only move forward (preparing → appointment → survey → akad → cair); a loan can be
rejected at any stage before the money is paid out. Each stage keeps the day it happened.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Loan, LoanStage, utcnow

ORDER = {
    LoanStage.PREPARING: 0,
    LoanStage.APPOINTMENT: 1,
    LoanStage.SURVEY: 2,
    LoanStage.AKAD: 3,
    LoanStage.CAIR: 4,
}
IN_PROGRESS = (LoanStage.PREPARING, LoanStage.APPOINTMENT, LoanStage.SURVEY, LoanStage.AKAD)
ENDED = (LoanStage.CAIR, LoanStage.REJECTED, LoanStage.WITHDRAWN)


def can_move(current: str, new: str) -> bool:
    """Forward only; rejected from any stage in progress; nothing after an end."""
    if current not in IN_PROGRESS:
        return False
    if new == LoanStage.REJECTED:
        return True
    if new not in ORDER:
        return False
    return ORDER[LoanStage(new)] > ORDER[LoanStage(current)]


def following(current: str) -> list[LoanStage]:
    """The stages a loan at `current` can still move to (what may happen next)."""
    if current not in IN_PROGRESS:
        return []
    ahead = [s for s, n in ORDER.items() if n > ORDER[LoanStage(current)]]
    return [s for s in ahead if s != LoanStage.APPOINTMENT] + [LoanStage.REJECTED]


async def create(
    session: AsyncSession, *, person_id: int, scheme: str | None, amount: int | None, day: date
) -> Loan:
    now = utcnow()
    loan = Loan(
        person_id=person_id,
        scheme=scheme,
        amount=amount,
        documents={},
        stage=LoanStage.PREPARING.value,
        stage_dates={LoanStage.PREPARING.value: day.isoformat()},
        created_at=now,
        updated_at=now,
    )
    session.add(loan)
    await session.flush()
    return loan


async def mine(session: AsyncSession, *, loan_id: int, person_id: int) -> Loan | None:
    """A loan, only if it belongs to this person (callback data can be forged)."""
    return await session.scalar(select(Loan).where(Loan.id == loan_id, Loan.person_id == person_id))


async def latest(session: AsyncSession, *, person_id: int) -> Loan | None:
    return await session.scalar(
        select(Loan)
        .where(Loan.person_id == person_id)
        .order_by(Loan.created_at.desc(), Loan.id.desc())
        .limit(1)
    )


async def in_progress(session: AsyncSession, *, person_id: int) -> Loan | None:
    """The newest loan still on its way (not paid out, rejected or withdrawn)."""
    return await session.scalar(
        select(Loan)
        .where(Loan.person_id == person_id, Loan.stage.in_([s.value for s in IN_PROGRESS]))
        .order_by(Loan.created_at.desc(), Loan.id.desc())
        .limit(1)
    )


async def update(session: AsyncSession, loan: Loan, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(loan, name, value)
    loan.updated_at = utcnow()
    await session.flush()


async def move(
    session: AsyncSession, loan: Loan, stage: LoanStage, *, day: date, reason: str | None = None
) -> bool:
    """Move a loan to a later stage and note the day; False (and no change) if it cannot."""
    if not can_move(loan.stage, stage):
        return False
    fields: dict[str, Any] = {
        "stage": stage.value,
        "stage_dates": {**(loan.stage_dates or {}), stage.value: day.isoformat()},
    }
    if stage == LoanStage.REJECTED:
        fields["rejection_reason"] = (reason or "")[:300] or None
    await update(session, loan, **fields)
    return True


async def set_document(
    session: AsyncSession, loan: Loan, key: str, *, ready: bool, day: date
) -> bool:
    """Tick (with the day) or untick one document; False if it already was so."""
    docs = dict(loan.documents or {})
    if ready == (key in docs):
        return False
    if ready:
        docs[key] = day.isoformat()
    else:
        docs.pop(key)
    await update(session, loan, documents=docs)
    return True


async def set_appointment(
    session: AsyncSession, loan: Loan, *, bank: str, branch: str, at: datetime, day: date
) -> None:
    """Store the bank visit; a loan still preparing moves to the appointment stage."""
    fields: dict[str, Any] = {"bank": bank, "branch": branch, "appointment_at": at}
    if can_move(loan.stage, LoanStage.APPOINTMENT):
        fields["stage"] = LoanStage.APPOINTMENT.value
        fields["stage_dates"] = {
            **(loan.stage_dates or {}),
            LoanStage.APPOINTMENT.value: day.isoformat(),
        }
    await update(session, loan, **fields)
