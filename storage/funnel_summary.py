"""The funnels' summary tables, kept by the scheduler, so `/statistik` over a national
programme's millions of flow runs reads a few thousand counted rows instead.

`refresh` counts, per journey flow, UTC day a run started and the person's regency: the runs at
each (current step, last step answered) (`funnel_run_days`), and the join requests' and KUR
readiness checks' submitted, approved and bank stages by their run's day
(`funnel_submission_days`). It writes the days before `cut` (today, UTC) and records it; the
funnel (storage.funnel) reads every whole day of its period before `cut` from here and the edges
(the part-day at its start, and everything from `cut` on) live, so today's work always shows.

Freshness: a refresh recounts the cohorts of the last `RECENT_DAYS` days (a 90-day `/statistik`
is inside them); every `FULL_EVERY` it recounts all days. So the counts of cohorts started in
the last 100 days are at most one refresh interval old, and older cohorts (those a "this year"
or "everything" funnel reads) at most a day old. Each refresh replaces its days in one
transaction: a funnel read meanwhile sees the old counts or the new, never a mix.

Never refreshed (a new installation, the test suite): the funnels read everything live.

What stays live, being small or not additive by day: founding files (a file counts when its
founder started a run in the period before it, which can't be split by day) and training
registrations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, case, cast, delete, distinct, false, func, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flows.engine import END
from storage import repo
from storage.funnel import (
    _L,
    _P,
    _R,
    _S,
    AKAD,
    CAIR,
    CORRECTION,
    JOIN,
    KUR,
    MAIN_FLOW,
    SUBMISSION,
    SURVEY,
    _approved,
    _last_answered,
    _loans_at,
)
from storage.models import (
    FunnelRunDay,
    FunnelRunProvinceDay,
    FunnelSubmissionDay,
    FunnelSummaryState,
)

RECENT_DAYS = 100
FULL_EVERY = timedelta(days=1)
SUMMARISED = (JOIN, KUR)  # journeys whose submissions are counted by day (FOUND's stay live)

_RD = FunnelRunDay.__table__
_PD = FunnelRunProvinceDay.__table__
_SD = FunnelSubmissionDay.__table__
_ST = FunnelSummaryState.__table__


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


@dataclass(frozen=True)
class Split:
    """A period cut in the whole UTC days read from the summary, [first, end) (first None:
    from the beginning), and the moments read live."""

    first: date | None
    end: date
    live: tuple[tuple[datetime | None, datetime], ...]


def split(cut: date | None, since: datetime | None, until: datetime) -> Split | None:
    """How [since, until) is read given the summary's `cut`; None: all of it live."""
    if cut is None:
        return None
    first = None if since is None else _utc_day(since - timedelta(microseconds=1)) + timedelta(1)
    end = min(_utc_day(until), cut)
    if first is not None and end <= first:
        return None
    live: list[tuple[datetime | None, datetime]] = []
    if since is not None and since < day_start(first):  # type: ignore[arg-type]
        live.append((since, day_start(first)))  # type: ignore[arg-type]
    if day_start(end) < until:
        live.append((day_start(end), until))
    return Split(first, end, tuple(live))


async def cut(session: AsyncSession) -> date | None:
    """The day before which the summary holds every cohort; None when never refreshed."""
    connection = await repo._connection(session)
    return await connection.scalar(select(_ST.c.cut).where(_ST.c.id == 1))


def _within(table: Any, regions: Sequence[str]) -> Any:
    if not regions:
        return false()
    regencies = [code for code in regions if "." in code]
    provinces = [code for code in regions if "." not in code]
    return or_(
        *([table.c.regency_code.in_(regencies)] if regencies else []),
        *([table.c.province_code.in_(provinces)] if provinces else []),
    )


def _days(table: Any, first: date | None, end: date) -> list[Any]:
    where = [table.c.day < end]
    if first is not None:
        where.append(table.c.day >= first)
    return where


async def run_rows(
    session: AsyncSession,
    flow_key: str,
    first: date | None,
    end: date,
    regions: Sequence[str] | None,
) -> list[tuple[str, str | None, int]]:
    """(current step, last step answered, runs) of the summarised days, as the live query's:
    from the provinces' counts for the country or provinces, else from the regencies'."""
    connection = await repo._connection(session)
    by_province = regions is None or all("." not in code for code in regions)
    table = _PD if by_province else _RD
    where = [table.c.flow == flow_key, *_days(table, first, end)]
    if regions is not None:
        where.append(_within(table, regions))
    rows = await connection.execute(
        select(table.c.step, table.c.last, func.sum(table.c.runs))
        .where(*where)
        .group_by(table.c.step, table.c.last)
    )
    return [(step, last, int(n)) for step, last, n in rows]


async def submission_counts(
    session: AsyncSession, journey: str, first: date | None, end: date,
    regions: Sequence[str] | None,
) -> dict[str, int]:  # fmt: skip
    connection = await repo._connection(session)
    where = [_SD.c.kind == SUBMISSION[journey].value, *_days(_SD, first, end)]
    if regions is not None:
        where.append(_within(_SD, regions))
    row = (
        await connection.execute(
            select(
                *(
                    func.coalesce(func.sum(_SD.c[name]), 0)
                    for name in ("submitted", "approved", SURVEY, AKAD, CAIR)
                )
            ).where(*where)
        )
    ).one()
    return dict(zip(("submitted", "approved", SURVEY, AKAD, CAIR), map(int, row), strict=True))


def _day(dialect: str, column: Any) -> Any:
    """The UTC calendar day of a stored moment (SQLite keeps UTC text; PostgreSQL timestamptz)."""
    if dialect == "sqlite":
        return func.date(column)
    return cast(func.timezone("UTC", column), Date)


async def refresh(session: AsyncSession, now: datetime, *, full: bool | None = None) -> str:
    """Recount the summary (the recent days, or all of them when `full`, or when a day has
    passed since the last full count, or never counted): one transaction, committed by the
    caller. Returns "full" or "recent"."""
    connection = await repo._connection(session)
    dialect = connection.dialect.name
    state = (await connection.execute(select(_ST).where(_ST.c.id == 1))).one_or_none()
    if full is None:
        full = state is None or now - state.full_at >= FULL_EVERY
    cut_day = _utc_day(now)
    first = None if full else cut_day - timedelta(days=RECENT_DAYS)
    start = None if first is None else day_start(first)
    flows = [MAIN_FLOW[j] for j in MAIN_FLOW]

    day = _day(dialect, _R.c.started_at)
    window = [_R.c.started_at < day_start(cut_day)]
    if start is not None:
        window.append(_R.c.started_at >= start)
    cohort = [*window, _R.c.answers[CORRECTION].as_string().is_(None)]
    frm = _R.outerjoin(_P, _P.c.id == _R.c.person_id)

    for table in (_RD, _PD, _SD):  # the days recounted (every day a recount can write)
        await connection.execute(
            delete(table).where(table.c.day >= first) if first is not None else delete(table)
        )

    runs = (
        select(
            _R.c.flow.label("flow"),
            day.label("day"),
            _P.c.province_code.label("province_code"),
            _P.c.regency_code.label("regency_code"),
            _R.c.step.label("step"),
            case((_R.c.step == END, _last_answered(dialect)), else_=None).label("last"),
        )
        .select_from(frm)
        .where(_R.c.flow.in_(flows), *cohort)
        .subquery()
    )
    keys = [runs.c.flow, runs.c.day, runs.c.province_code, runs.c.regency_code]
    await connection.execute(
        insert(_RD).from_select(
            ["flow", "day", "province_code", "regency_code", "step", "last", "runs"],
            select(*keys, runs.c.step, runs.c.last, func.count()).group_by(
                *keys, runs.c.step, runs.c.last
            ),
        )
    )
    counted = select(
        _RD.c.flow, _RD.c.day, _RD.c.province_code, _RD.c.step, _RD.c.last, func.sum(_RD.c.runs)
    )
    if first is not None:
        counted = counted.where(_RD.c.day >= first)
    await connection.execute(
        insert(_PD).from_select(
            ["flow", "day", "province_code", "step", "last", "runs"],
            counted.group_by(_RD.c.flow, _RD.c.day, _RD.c.province_code, _RD.c.step, _RD.c.last),
        )
    )
    for journey in SUMMARISED:
        kind = SUBMISSION[journey].value
        joined: Any = _S.join(_R, _R.c.id == _S.c.run_id).outerjoin(_P, _P.c.id == _R.c.person_id)
        loan: list[Any] = []
        if journey == KUR:
            joined = joined.outerjoin(_L, _L.c.id == _S.c.ref_id)
            loan = [_L.c.id.label("loan_id"), _L.c.stage, _L.c.stage_dates]
        inner = (
            select(
                day.label("day"),
                _P.c.province_code.label("province_code"),
                _P.c.regency_code.label("regency_code"),
                _S.c.id.label("id"),
                _S.c.status.label("status"),
                *loan,
            )
            .select_from(joined)
            .where(_S.c.kind == kind, _R.c.flow == MAIN_FLOW[journey], *cohort)
            .subquery()
        )
        counted = [func.count(distinct(inner.c.id)), _approved(inner)]
        if journey == KUR:  # the loans' stages, counted as the live funnel counts them
            counted += [
                _loans_at(inner.c.loan_id, inner.c.stage, inner.c.stage_dates, stage)
                for stage in (SURVEY, AKAD, CAIR)
            ]
        else:
            counted += [literal(0), literal(0), literal(0)]
        group = [inner.c.day, inner.c.province_code, inner.c.regency_code]
        await connection.execute(
            insert(_SD).from_select(
                [
                    "day",
                    "province_code",
                    "regency_code",
                    "submitted",
                    "approved",
                    SURVEY,
                    AKAD,
                    CAIR,
                    "kind",
                ],
                select(*group, *counted, literal(kind)).group_by(*group),
            )  # fmt: skip
        )
    values = {"cut": cut_day, "refreshed_at": now}
    if state is None:
        await connection.execute(insert(_ST).values(id=1, full_at=now, **values))
    else:
        if full:
            values["full_at"] = now
        await connection.execute(_ST.update().where(_ST.c.id == 1).values(**values))
    return "full" if full else "recent"
