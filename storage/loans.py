"""Loans (KUR): one person's way from the readiness check to the bank's answer.

Stages only move forward (preparing → appointment → survey → akad → cair); a loan can be
rejected at any stage before the money is paid out. Each stage keeps the day it happened.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Update

from storage import repo
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


_L = Loan.__table__
_BY_PERSON = select(_L).where(_L.c.person_id == bindparam("person_id"))
_NEWEST = (_L.c.created_at.desc(), _L.c.id.desc())
_LATEST = _BY_PERSON.order_by(*_NEWEST).limit(1)
_IN_PROGRESS = (
    _BY_PERSON.where(_L.c.stage.in_([s.value for s in IN_PROGRESS])).order_by(*_NEWEST).limit(1)
)
_MINE = select(_L).where(_L.c.id == bindparam("loan_id"), _L.c.person_id == bindparam("person_id"))


async def _one(session: AsyncSession, statement: Any, params: dict[str, Any]) -> Loan | None:
    """Read with a prepared Core statement (this runs on every KUR button); the loan comes back
    untracked, so it is changed only through `update` below."""
    connection = await repo._connection(session)
    row = (await connection.execute(statement, params)).first()
    return None if row is None else repo._record(Loan, dict(row._mapping))


async def create(
    session: AsyncSession, *, person_id: int, scheme: str | None, amount: int | None, day: date
) -> Loan:
    now = utcnow()
    values: dict[str, Any] = {
        "person_id": person_id,
        "scheme": scheme,
        "amount": amount,
        "tenor_months": None,
        "documents": {},
        "bank": None,
        "branch": None,
        "appointment_at": None,
        "stage": LoanStage.PREPARING.value,
        "stage_dates": {LoanStage.PREPARING.value: day.isoformat()},
        "rejection_reason": None,
        "created_at": now,
        "updated_at": now,
    }
    loan_id = await repo._insert(session, _L, values)
    return repo._record(Loan, {"id": loan_id, **values})


async def mine(session: AsyncSession, *, loan_id: int, person_id: int) -> Loan | None:
    """A loan, only if it belongs to this person (callback data can be forged)."""
    return await _one(session, _MINE, {"loan_id": loan_id, "person_id": person_id})


async def latest(session: AsyncSession, *, person_id: int) -> Loan | None:
    return await _one(session, _LATEST, {"person_id": person_id})


async def in_progress(session: AsyncSession, *, person_id: int) -> Loan | None:
    """The newest loan still on its way (not paid out, rejected or withdrawn)."""
    return await _one(session, _IN_PROGRESS, {"person_id": person_id})


@lru_cache(maxsize=64)
def _update(names: tuple[str, ...]) -> Update:
    values = {name: bindparam(name, type_=_L.c[name].type) for name in names}
    return sa_update(_L).where(_L.c.id == bindparam("loan_id")).values(values)


async def update(session: AsyncSession, loan: Loan, **fields: Any) -> None:
    """Write some fields with one UPDATE; the loaded object follows."""
    fields["updated_at"] = utcnow()
    connection = await repo._connection(session)
    await connection.execute(_update(tuple(sorted(fields))), {"loan_id": loan.id, **fields})
    for name, value in fields.items():
        set_committed_value(loan, name, value)


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


async def withdraw(session: AsyncSession, loan: Loan, *, day: date) -> bool:
    """End a loan that has not reached the bank yet (still preparing) and note the day; False
    (and no change) once a bank visit is planned or the loan has ended: the bank decides then."""
    if loan.stage != LoanStage.PREPARING:
        return False
    stage = LoanStage.WITHDRAWN.value
    await update(
        session, loan, stage=stage, stage_dates={**(loan.stage_dates or {}), stage: day.isoformat()}
    )
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
