"""The funnel of a journey: how many started in a period, how far they got, how many were
submitted and approved (and for KUR, how many reached the bank's survey, akad and cair).

A cohort is what was *started* in [since, until) (since None: from the beginning): flow runs
of the journey's main flow, or for training, registrations. Everything after "started" is
counted for that cohort only, so a funnel never mixes people who began in different periods.

Regions are the person's home (province "35" or regency "35.78" codes, as in a role's scope),
as the profile says now. A run whose person deleted their data has no person, so no region:
it counts only when no region filter applies (an unscoped viewer looking at every region).

How far a run got (flows/engine.py, bot/driver.py): a run's `history` is the path of steps
answered, in order (Back pops the last one; flows only ever move forward), and `step` is the
question being asked, or END once the flow finished (completed; a cancelled run keeps the
step it stopped at). So the furthest step a run reached is its current step, or for a finished
run the last step in its history. A run *reached* step S when its furthest step is S or a
later one: the funnel never rises, and a step skipped on a branch (the NPWP question for
amounts up to Rp50 juta, the NIK when it is saved already) counts every run that went past
it. A run that ended early (a join request answered "Not yet" at the first question) reached
only the steps it answered. A finished run whose history was wiped (its person deleted their
data) counts as having reached every step: the only thing left is that it finished.

Submissions: a join request and a KUR readiness check name their run (`run_id`); a founding
file names none, so it counts when its founder started a found_coop run in the cohort before
the file was made. A reviewer's correction (a run that asks again only the fields sent back)
is not a journey started and is left out. Loans (KUR) are those of the cohort's readiness checks (the submission's
`ref_id`); a loan reached the survey when its stage dates hold survey, akad or cair (stages
only move forward, but the survey may be skipped when recording the akad), and so on.

Training has no flow for returnees: its cohort is registrations made in the period (waitlist
places too); then who got a seat (registered now, or promoted from the waitlist), submitted
(only sessions whose organiser confirms each registration file one) and approved.

Every count is a handful of grouped queries; nothing loops over runs in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import FromClause

from flows import registry
from flows.engine import END
from storage import repo
from storage.models import (
    FlowRun,
    Loan,
    LoanStage,
    Person,
    RegistrationStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    TrainingRegistration,
)
from storage.segments import within

JOIN, FOUND, KUR, TRAINING = "join", "found", "kur", "training"
JOURNEYS = (JOIN, FOUND, KUR, TRAINING)
# The flow whose steps make a journey's funnel, and the submission it ends in.
MAIN_FLOW = {JOIN: "join_request", FOUND: "found_coop", KUR: "kur_readiness"}
SUBMISSION = {
    JOIN: SubmissionKind.JOIN_REQUEST,
    FOUND: SubmissionKind.FOUNDING,
    KUR: SubmissionKind.KUR_READINESS,
    TRAINING: SubmissionKind.TRAINING,
}

STARTED, SUBMITTED, APPROVED, SEAT = "started", "submitted", "approved", "seat"
SURVEY, AKAD, CAIR = LoanStage.SURVEY.value, LoanStage.AKAD.value, LoanStage.CAIR.value
STEP = "step:"  # a step stage's key: "step:" + the flow step's key
# A run whose answers hold this key is a reviewer's correction of a submission (bot.driver.FIX):
# it asks again only the fields sent back, so it is not a journey started.
CORRECTION = "_fix"
# A loan reached a stage when it has that stage's date or a later one's.
BANK_STAGES = {SURVEY: (SURVEY, AKAD, CAIR), AKAD: (AKAD, CAIR), CAIR: (CAIR,)}

_R = FlowRun.__table__
_P = Person.__table__
_S = Submission.__table__
_L = Loan.__table__
_TR = TrainingRegistration.__table__


@dataclass(frozen=True)
class Stage:
    """One bar of the funnel. `base` is the stage its drop-off is measured from (None for
    "started"): the stage before it, except the bank's survey, which follows the submitted
    readiness check whether or not the team approved it."""

    key: str
    count: int
    base: str | None = None

    @property
    def step(self) -> str | None:
        """The flow step's key for a step stage, else None."""
        return self.key[len(STEP) :] if self.key.startswith(STEP) else None


@dataclass(frozen=True)
class Funnel:
    journey: str
    since: datetime | None
    until: datetime
    regions: list[str] | None  # None: every region (and runs without one)
    stages: tuple[Stage, ...]
    zone: str = "Asia/Jakarta"  # the viewer's zone, for showing the period's dates
    by_key: dict[str, Stage] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {s.key: s for s in self.stages})

    @property
    def started(self) -> int:
        return self.by_key[STARTED].count

    def count(self, key: str) -> int:
        return self.by_key[key].count

    def drop(self, stage: Stage) -> int | None:
        """How many fewer than its base stage (negative: more); None for the first stage."""
        if stage.base is None:
            return None
        return self.by_key[stage.base].count - stage.count


def _in_period(column: Any, since: datetime | None, until: datetime) -> list[ColumnElement[bool]]:
    where = [column < until]
    if since is not None:
        where.append(column >= since)
    return where


def _runs(
    flow: str, since: datetime | None, until: datetime, regions: Sequence[str] | None, runs=_R
) -> tuple[FromClause, list[ColumnElement[bool]]]:
    """The cohort of runs: FROM and WHERE (joined to people only when a region filter applies,
    so runs without a person stay in an unfiltered count)."""
    where = [
        runs.c.flow == flow,
        *_in_period(runs.c.started_at, since, until),
        runs.c.answers[CORRECTION].as_string().is_(None),
    ]
    if regions is None:
        return runs, where
    return runs.join(_P, _P.c.id == runs.c.person_id), [*where, within(list(regions))]


def _last_answered(dialect: str) -> ColumnElement[Any]:
    """The last element of a run's history (the last step answered); NULL when empty."""
    if dialect == "sqlite":
        return func.json_extract(_R.c.history, "$[#-1]")
    return _R.c.history[-1].as_string()


async def _reached_rows(
    session: AsyncSession,
    flow_key: str,
    since: datetime | None,
    until: datetime,
    regions: Sequence[str] | None,
) -> list[tuple[str, str | None, int]]:
    """(current step, last step answered of a finished run, runs) of the cohort, live."""
    connection = await repo._connection(session)
    frm, where = _runs(flow_key, since, until, regions)
    finished = _R.c.step == END
    inner = (
        select(
            _R.c.step.label("step"),
            case((finished, _last_answered(connection.dialect.name)), else_=None).label("last"),
        )
        .select_from(frm)
        .where(*where)
        .subquery()
    )
    # Grouped on the subquery's plain columns: PostgreSQL refuses a GROUP BY expression whose
    # bound parameters differ from the SELECT's.
    rows = await connection.execute(
        select(inner.c.step, inner.c.last, func.count()).group_by(inner.c.step, inner.c.last)
    )
    return [(step, last, int(n)) for step, last, n in rows]


def _furthest(flow_key: str, rows: Sequence[tuple[str, str | None, int]]) -> tuple[int, list[int]]:
    """(runs started, runs that reached each step of the flow, in the flow's order)."""
    steps = [s.key for s in registry.get(flow_key).steps]
    index = {key: i for i, key in enumerate(steps)}
    started = 0
    furthest = [0] * len(steps)  # runs whose furthest step is this one
    for step, last, n in rows:
        started += n
        if step == END:
            at = index.get(last, -1) if last is not None else len(steps) - 1
        else:
            at = index.get(step, -1)  # a step no longer in the flow: started, nothing more
        if at >= 0:
            furthest[at] += n
    reached, total = [0] * len(steps), 0
    for i in range(len(steps) - 1, -1, -1):
        total += furthest[i]
        reached[i] = total
    return started, reached


def _approved(table: Any = _S) -> ColumnElement[Any]:
    return func.count(distinct(case((table.c.status == SubmissionStatus.APPROVED, table.c.id))))


def _loans_at(loan_id: Any, loan_stage: Any, stage_dates: Any, stage: str) -> ColumnElement[Any]:
    """How many loans reached `stage`: at it or a later one, or with its or a later one's date
    (the loans table's columns, or a subquery's)."""
    got = or_(
        loan_stage.in_(BANK_STAGES[stage]),
        *(stage_dates[s].as_string().is_not(None) for s in BANK_STAGES[stage]),
    )
    return func.count(distinct(case((got, loan_id))))


async def _submissions(
    session: AsyncSession,
    journey: str,
    since: datetime | None,
    until: datetime,
    regions: Sequence[str] | None,
) -> dict[str, int]:
    """submitted, approved (and for KUR the loans' bank stages) of the cohort's runs."""
    connection = await repo._connection(session)
    flow_key = MAIN_FLOW[journey]
    kind = SUBMISSION[journey].value
    columns: list[Any] = [func.count(distinct(_S.c.id)), _approved()]
    frm: Any = _S
    where: list[ColumnElement[bool]] = [_S.c.kind == kind]
    if journey == FOUND:
        runs = _R.alias("r")
        run_from, run_where = _runs(flow_key, since, until, regions, runs)
        where.append(
            exists(
                select(runs.c.id)
                .select_from(run_from)
                .where(
                    *run_where,
                    runs.c.person_id == _S.c.person_id,
                    runs.c.started_at <= _S.c.created_at,
                )
            )
        )
    else:
        run_from, run_where = _runs(flow_key, since, until, regions)
        where.append(_S.c.run_id.in_(select(_R.c.id).select_from(run_from).where(*run_where)))
    if journey == KUR:
        frm = _S.outerjoin(_L, _L.c.id == _S.c.ref_id)
        for stage in (SURVEY, AKAD, CAIR):
            columns.append(_loans_at(_L.c.id, _L.c.stage, _L.c.stage_dates, stage))
    row = (await connection.execute(select(*columns).select_from(frm).where(*where))).one()
    counts = {SUBMITTED: int(row[0]), APPROVED: int(row[1])}
    if journey == KUR:
        counts.update({SURVEY: int(row[2]), AKAD: int(row[3]), CAIR: int(row[4])})
    return counts


async def _training(
    session: AsyncSession, since: datetime | None, until: datetime, regions: Sequence[str] | None
) -> tuple[Stage, ...]:
    connection = await repo._connection(session)
    seat = or_(_TR.c.status == RegistrationStatus.REGISTERED, _TR.c.promoted_at.is_not(None))
    frm: Any = _TR.outerjoin(
        _S, and_(_S.c.kind == SubmissionKind.TRAINING.value, _S.c.ref_id == _TR.c.id)
    )
    where = _in_period(_TR.c.created_at, since, until)
    if regions is not None:
        frm = frm.join(_P, _P.c.id == _TR.c.person_id)
        where.append(within(list(regions)))
    query = select(
        func.count(distinct(_TR.c.id)),
        func.count(distinct(case((seat, _TR.c.id)))),
        func.count(distinct(_S.c.id)),
        _approved(),
    )
    started, seats, submitted, approved = (
        await connection.execute(query.select_from(frm).where(*where))
    ).one()
    return (
        Stage(STARTED, int(started)),
        Stage(SEAT, int(seats), STARTED),
        Stage(SUBMITTED, int(submitted), SEAT),
        Stage(APPROVED, int(approved), SUBMITTED),
    )


async def _run_rows(
    session: AsyncSession,
    flow_key: str,
    since: datetime | None,
    until: datetime,
    regions: Sequence[str] | None,
    cut: date | None,
) -> list[tuple[str, str | None, int]]:
    """The cohort's runs by (step, last answered): whole UTC days from the summary tables when
    the scheduler keeps them (storage.funnel_summary; `cut` its day), the rest live."""
    from storage import funnel_summary as summary

    parts = summary.split(cut, since, until)
    if parts is None:
        return await _reached_rows(session, flow_key, since, until, regions)
    rows = await summary.run_rows(session, flow_key, parts.first, parts.end, regions)
    for start, end in parts.live:
        rows += await _reached_rows(session, flow_key, start, end, regions)
    return rows


async def _counts(
    session: AsyncSession,
    journey: str,
    since: datetime | None,
    until: datetime,
    regions: Sequence[str] | None,
    cut: date | None,
) -> dict[str, int]:
    """The cohort's submissions (and loans), as `_run_rows` reads its runs (founding files are
    always counted live: whether one counts depends on the whole period)."""
    from storage import funnel_summary as summary

    parts = None
    if journey in summary.SUMMARISED:
        parts = summary.split(cut, since, until)
    if parts is None:
        return await _submissions(session, journey, since, until, regions)
    counts = await summary.submission_counts(session, journey, parts.first, parts.end, regions)
    for start, end in parts.live:
        for key, n in (await _submissions(session, journey, start, end, regions)).items():
            counts[key] += n
    return counts


async def funnel(
    session: AsyncSession,
    journey: str,
    *,
    since: datetime | None,
    until: datetime,
    regions: Sequence[str] | None = None,
    zone: str = "Asia/Jakarta",
) -> Funnel:
    """The funnel of `journey` (JOIN, FOUND, KUR or TRAINING) for what was started in
    [since, until), among people living in `regions` (None: everywhere, and runs whose person
    is gone; an empty list: nobody)."""
    if journey not in JOURNEYS:
        raise ValueError(f"unknown journey {journey!r}")
    scope = list(regions) if regions is not None else None
    if journey == TRAINING:
        stages = await _training(session, since, until, scope)
    else:
        from storage import funnel_summary as summary

        flow_key = MAIN_FLOW[journey]
        cut = await summary.cut(session)
        started, reached = _furthest(
            flow_key, await _run_rows(session, flow_key, since, until, scope, cut)
        )
        counts = await _counts(session, journey, since, until, scope, cut)
        built = [Stage(STARTED, started)]
        for step, n in zip(registry.get(flow_key).steps, reached, strict=True):
            built.append(Stage(STEP + step.key, n, built[-1].key))
        built.append(Stage(SUBMITTED, counts[SUBMITTED], built[-1].key))
        built.append(Stage(APPROVED, counts[APPROVED], SUBMITTED))
        if journey == KUR:
            built.append(Stage(SURVEY, counts[SURVEY], SUBMITTED))
            built.append(Stage(AKAD, counts[AKAD], SURVEY))
            built.append(Stage(CAIR, counts[CAIR], AKAD))
        stages = tuple(built)
    return Funnel(journey, since, until, scope, stages, zone)
