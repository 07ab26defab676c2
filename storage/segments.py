"""A segment spec (flows.segments) as SQL: who a broadcast reaches.

Every query returns each person once (the spec's conditions are EXISTS subqueries, never
joins) and only people who accepted announcements and have not blocked the bot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows import segments
from flows.content import kur as facts
from flows.segments import Segment
from storage import repo
from storage.models import (
    FlowRun,
    FoundingMember,
    Loan,
    LoanStage,
    Person,
    RegistrationStatus,
    RunStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    TrainingRegistration,
)

_P = Person.__table__
_R = FlowRun.__table__
_L = Loan.__table__
_S = Submission.__table__
_FM = FoundingMember.__table__
_TR = TrainingRegistration.__table__

# A join request still about the cooperative (not rejected, not withdrawn).
JOIN_STATUSES = (
    SubmissionStatus.SUBMITTED.value,
    SubmissionStatus.APPROVED.value,
    SubmissionStatus.RETURNED.value,
)
TRAINING_STATUSES = (RegistrationStatus.REGISTERED.value, RegistrationStatus.WAITLISTED.value)
# Documents are gathered before the bank's survey.
DOCUMENT_STAGES = (LoanStage.PREPARING.value, LoanStage.APPOINTMENT.value)


def _keys(docs: Sequence[facts.Document]) -> set[str]:
    return {d.key for d in docs}


# The rule of flows.content.kur.documents_for, split so SQL can apply it per loan.
_ALWAYS = _keys(facts.documents_for(None, None))
_ABOVE_NPWP = _keys(facts.documents_for(facts.NPWP_ABOVE + 1, None)) - _ALWAYS
_KECIL = _keys(facts.documents_for(None, facts.KECIL.key)) - _ALWAYS


def in_region(code: str) -> ColumnElement[bool]:
    """People whose home is in this province ("35") or regency ("35.78")."""
    if "." in code:
        return _P.c.regency_code == code
    return _P.c.province_code == code


def within(codes: Sequence[str]) -> ColumnElement[bool]:
    """People living in any of these provinces or regencies (a coordinator's scope)."""
    if not codes:
        return false()  # a coordinator with no region reaches nobody
    return or_(*(in_region(code) for code in codes))


def _missing(key: str) -> ColumnElement[bool]:
    return _L.c.documents[key].as_string().is_(None)


def _documents_incomplete() -> ColumnElement[bool]:
    missing = [_missing(k) for k in sorted(_ALWAYS)]
    if _ABOVE_NPWP:
        missing.append(
            and_(_L.c.amount > facts.NPWP_ABOVE, or_(*(_missing(k) for k in sorted(_ABOVE_NPWP))))
        )
    if _KECIL:
        missing.append(
            and_(_L.c.scheme == facts.KECIL.key, or_(*(_missing(k) for k in sorted(_KECIL))))
        )
    return exists().where(_L.c.person_id == _P.c.id, _L.c.stage.in_(DOCUMENT_STAGES), or_(*missing))


def matches(spec: Segment) -> ColumnElement[bool]:
    """The spec's own condition on `people` (without the announcements and block rules)."""
    kind = spec.kind
    if kind == segments.ALL:
        return _P.c.id.is_not(None)
    if kind == segments.REGION:
        assert spec.region is not None
        return in_region(spec.region)
    if kind == segments.JOURNEY_STEP:
        if spec.flow == segments.KUR_DOCUMENTS_INCOMPLETE:
            return _documents_incomplete()
        return exists().where(
            _R.c.person_id == _P.c.id,
            _R.c.status == RunStatus.ACTIVE.value,
            _R.c.flow == spec.flow,
            _R.c.step == spec.step,
        )
    if kind == segments.INTEREST:
        return _P.c.goal == spec.goal
    if kind == segments.COOPERATIVE:
        if spec.cooperative_id is not None:
            return exists().where(
                _S.c.person_id == _P.c.id,
                _S.c.kind == SubmissionKind.JOIN_REQUEST.value,
                _S.c.ref_id == spec.cooperative_id,
                _S.c.status.in_(JOIN_STATUSES),
            )
        return exists().where(_FM.c.person_id == _P.c.id, _FM.c.founding_id == spec.founding_id)
    if kind == segments.TRAINING:
        return exists().where(
            _TR.c.person_id == _P.c.id,
            _TR.c.training_id == spec.training_id,
            _TR.c.status.in_(TRAINING_STATUSES),
        )
    raise ValueError(f"unknown segment kind {kind!r}")  # pragma: no cover - Segment checks


def _spec(spec: Segment | Mapping[str, Any]) -> Segment:
    return spec if isinstance(spec, Segment) else Segment.from_dict(spec)


def recipients_query(
    spec: Segment | Mapping[str, Any], *, within_regions: Sequence[str] | None = None
) -> Select[Any]:
    """SELECT person_id, telegram_id of the people this spec reaches: matching it, opted in to
    announcements, not blocked, and (when `within_regions` is given: a coordinator's scope)
    living in one of those provinces or regencies. An empty scope reaches nobody."""
    where = [matches(_spec(spec)), _P.c.announcements.is_(True), _P.c.blocked_at.is_(None)]
    if within_regions is not None:
        where.append(within(within_regions))
    return select(_P.c.id.label("person_id"), _P.c.telegram_id.label("telegram_id")).where(*where)


async def count(
    session: AsyncSession,
    spec: Segment | Mapping[str, Any],
    within_regions: Sequence[str] | None = None,
) -> int:
    """How many people the spec reaches now (before the weekly cap)."""
    query = recipients_query(spec, within_regions=within_regions).subquery()
    connection = await repo._connection(session)
    return int((await connection.execute(select(func.count()).select_from(query))).scalar_one())


async def targets(
    session: AsyncSession,
    kind: str,
    *,
    within_regions: Sequence[str] | None = None,
    limit: int = 8,
    offset: int = 0,
) -> list[tuple[int, str, int]]:
    """What a cooperative, founding or training segment can name, for a coordinator's pick
    list: (id, name, how many people it reaches now), most people first. Only targets with at
    least one reachable person; given `within_regions` (a coordinator's scope), only targets
    placed inside it (never a nationwide one) and counting only the people living there."""
    from storage.models import Cooperative, Founding, Training

    reach = [_P.c.announcements.is_(True), _P.c.blocked_at.is_(None)]
    if kind == "cooperative":
        table, link, name = Cooperative.__table__, _S, Cooperative.__table__.c.name
        joined = and_(
            _S.c.ref_id == table.c.id,
            _S.c.kind == SubmissionKind.JOIN_REQUEST.value,
            _S.c.status.in_(JOIN_STATUSES),
        )
    elif kind == "founding":
        table, link, name = Founding.__table__, _FM, Founding.__table__.c.name
        joined = _FM.c.founding_id == table.c.id
    elif kind == "training":
        table, link, name = Training.__table__, _TR, Training.__table__.c.title
        joined = and_(_TR.c.training_id == table.c.id, _TR.c.status.in_(TRAINING_STATUSES))
    else:
        raise ValueError(f"no pick list for {kind!r}")
    if within_regions is not None:
        reach += [within(within_regions), _placed_within(table, within_regions)]
    people = func.count(func.distinct(_P.c.id))
    query = (
        select(table.c.id, name, people)
        .select_from(table)
        .join(link, joined)
        .join(_P, _P.c.id == link.c.person_id)
        .where(*reach)
        .group_by(table.c.id, name)
        .order_by(people.desc(), name, table.c.id)
        .limit(limit)
        .offset(offset)
    )
    connection = await repo._connection(session)
    return [(int(i), str(n), int(c)) for i, n, c in await connection.execute(query)]


def _placed_within(table: Any, codes: Sequence[str]) -> ColumnElement[bool]:
    """A cooperative, founding plan or training placed inside these regions (a nationwide
    one, without a province, is inside none)."""
    conditions = [
        table.c.regency_code == code if "." in code else table.c.province_code == code
        for code in codes
    ]
    return or_(*conditions) if conditions else false()


async def target_place(session: AsyncSession, spec: Segment) -> tuple[bool, str | None]:
    """(exists, where it is: regency, else province, None nationwide) of the cooperative,
    founding plan or training a segment names; (True, None) for a segment naming none."""
    from storage.models import Cooperative, Founding, Training

    for ref, model in (
        (spec.cooperative_id, Cooperative),
        (spec.founding_id, Founding),
        (spec.training_id, Training),
    ):
        if ref is not None:
            table = model.__table__
            connection = await repo._connection(session)
            row = (
                await connection.execute(
                    select(table.c.province_code, table.c.regency_code).where(table.c.id == ref)
                )
            ).first()
            if row is None:
                return False, None
            return True, row.regency_code or row.province_code
    return True, None
