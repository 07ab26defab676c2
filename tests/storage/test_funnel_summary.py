"""The funnels' summary tables (storage/funnel_summary.py): once the scheduler has counted them,
every funnel (journey × period × region filter) reads exactly what a live count reads, on both
backends; what happened after the count shows at once for today's cohorts and at the next
count for older ones; the period is cut into whole UTC days and live edges correctly."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows import clock, registry
from flows.engine import END
from storage import funnel as fn
from storage import funnel_summary as summary
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    FlowRun,
    FunnelRunDay,
    Loan,
    Person,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)

REGIONS = [("35", "35.78"), ("35", "35.73"), ("33", "33.74"), (None, None)]
FLOWS = {"join_request": SubmissionKind.JOIN_REQUEST, "found_coop": SubmissionKind.FOUNDING,
         "kur_readiness": SubmissionKind.KUR_READINESS}  # fmt: skip
STATUSES = [SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED, SubmissionStatus.REJECTED]
SCOPES = [None, ["35"], ["35.78"], ["33", "35.73"], []]


def _run(rng: random.Random, flow: str, person_id: int | None, started: datetime) -> FlowRun:
    steps = [s.key for s in registry.get(flow).steps]
    at = rng.randrange(len(steps) + 1)
    history = steps[:at]
    finished = at == len(steps) or rng.random() < 0.1
    answers = {"_fix": True} if rng.random() < 0.05 else {}
    if finished and rng.random() < 0.1:
        history = []  # a deleted person's finished run: its history wiped
    return FlowRun(
        person_id=person_id, flow=flow, step=END if finished else steps[min(at, len(steps) - 1)],
        history=history, answers=answers, status="completed" if finished else "active",
        started_at=started, updated_at=started,
    )  # fmt: skip


async def _seed(session: AsyncSession, now: datetime, rng: random.Random, n: int = 240) -> None:
    people = []
    for i in range(40):
        province, regency = REGIONS[i % len(REGIONS)]
        people.append(Person(telegram_id=8_800_000 + i, province_code=province,
                             regency_code=regency, created_at=now))  # fmt: skip
    session.add_all(people)
    await session.flush()
    for i in range(n):
        flow = rng.choice(list(FLOWS))
        owner = None if rng.random() < 0.1 else rng.choice(people).id
        # started anywhere in the last 200 days, some today, some right at a day's start
        started = now - timedelta(days=rng.uniform(0, 200))
        if i % 17 == 0:
            started = datetime.combine(started.date(), datetime.min.time(), tzinfo=UTC)
        if i % 23 == 0:
            started = now - timedelta(hours=rng.uniform(0, 2))
        run = _run(rng, flow, owner, started)
        session.add(run)
        await session.flush()
        if run.step == END and rng.random() < 0.8:
            created = started + timedelta(hours=1)
            sub = Submission(
                person_id=owner, kind=FLOWS[flow], status=rng.choice(STATUSES),
                run_id=None if flow == "found_coop" else run.id, created_at=created,
            )  # fmt: skip
            if flow == "kur_readiness":
                stage = rng.choice(["preparing", "survey", "akad", "cair"])
                loan = Loan(person_id=owner, stage=stage,
                            stage_dates={"akad": "2026-10-01"} if rng.random() < 0.2 else {})
                session.add(loan)
                await session.flush()
                sub.ref_id = loan.id
            session.add(sub)
    await session.flush()


def _periods(now: datetime) -> list[tuple[datetime | None, datetime]]:
    start_of_day = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    return [
        (now - timedelta(days=90), now),
        (now - timedelta(days=7), now),
        (None, now),
        (start_of_day - timedelta(days=30), start_of_day),  # aligned on both ends
        (now - timedelta(hours=5), now),  # inside today: all live
        (now - timedelta(days=150), now - timedelta(days=40)),  # ends in the past
    ]


async def _all(session: AsyncSession, now: datetime) -> dict:
    out = {}
    for journey in fn.JOURNEYS:
        for since, until in _periods(now):
            for scope in SCOPES:
                f = await fn.funnel(session, journey, since=since, until=until, regions=scope)
                out[journey, since, until, tuple(scope) if scope is not None else None] = [
                    (s.key, s.count) for s in f.stages
                ]
    return out


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def test_every_funnel_reads_from_the_summary_what_it_reads_live(db: AsyncSession) -> None:
    now = clock.now()
    await _seed(db, now, random.Random(1725))
    await db.commit()
    live = await _all(db, now)
    assert any(count for stages in live.values() for _, count in stages[1:])  # not all zeros

    assert await summary.refresh(db, now) == "full"
    await db.commit()
    assert await summary.cut(db) == now.date()
    assert await db.scalar(select(func.count()).select_from(FunnelRunDay)) > 0
    assert await _all(db, now) == live

    # Without its table rows the summary reads nothing: the funnel really reads the summary.
    await db.execute(update(FunnelRunDay).values(runs=FunnelRunDay.runs + 1000))
    assert await _all(db, now) != live
    await db.rollback()


async def test_today_shows_at_once_and_older_cohorts_at_the_next_count(db: AsyncSession) -> None:
    now = clock.now()
    await _seed(db, now, random.Random(99), n=120)
    await summary.refresh(db, now)
    await db.commit()
    period = {"since": now - timedelta(days=90), "until": now}
    before = await fn.funnel(db, fn.KUR, **period)

    db.add(_run(random.Random(5), "kur_readiness", None, now - timedelta(minutes=1)))
    await db.commit()
    assert (await fn.funnel(db, fn.KUR, **period)).started == before.started + 1

    old = FlowRun(flow="kur_readiness", step="status", history=[], status="active",
                  started_at=now - timedelta(days=10), updated_at=now)  # fmt: skip
    db.add(old)
    await db.commit()
    assert (await fn.funnel(db, fn.KUR, **period)).started == before.started + 1  # not yet
    assert await summary.refresh(db, now + timedelta(minutes=10)) == "recent"
    await db.commit()
    assert (await fn.funnel(db, fn.KUR, **period)).started == before.started + 2


async def test_a_recent_count_keeps_the_older_days_and_a_day_later_all_are_recounted(
    db: AsyncSession,
) -> None:
    now = clock.now()
    await _seed(db, now, random.Random(7), n=120)
    await summary.refresh(db, now)
    await db.commit()
    everything = {"since": None, "until": now}
    before = await fn.funnel(db, fn.JOIN, **everything)
    ancient = FlowRun(flow="join_request", step="confirm", history=[], status="active",
                      started_at=now - timedelta(days=300), updated_at=now)  # fmt: skip
    db.add(ancient)
    await db.commit()
    await summary.refresh(db, now + timedelta(hours=1))  # recent days only: 300 days ago stays
    await db.commit()
    assert (await fn.funnel(db, fn.JOIN, **everything)).started == before.started
    assert await summary.refresh(db, now + timedelta(days=1, hours=1)) == "full"
    await db.commit()
    later = {"since": None, "until": now + timedelta(days=1, hours=1)}
    assert (await fn.funnel(db, fn.JOIN, **later)).started == before.started + 1


@pytest.mark.parametrize(
    ("since", "until", "cut", "expected"),
    [
        # never counted: all live
        ("2026-11-01 05:00", "2026-11-25 03:00", None, None),
        # part-day head and tail live, whole days from the summary
        ("2026-11-01 05:00", "2026-11-25 03:00", "2026-11-25",
         ("2026-11-02", "2026-11-25", [("2026-11-01 05:00", "2026-11-02 00:00"),
                                       ("2026-11-25 00:00", "2026-11-25 03:00")])),
        # aligned: nothing live but what comes after the cut
        ("2026-11-01 00:00", "2026-11-25 00:00", "2026-11-20",
         ("2026-11-01", "2026-11-20", [("2026-11-20 00:00", "2026-11-25 00:00")])),
        # from the beginning
        (None, "2026-11-25 03:00", "2026-11-25",
         (None, "2026-11-25", [("2026-11-25 00:00", "2026-11-25 03:00")])),
        # inside one day: live
        ("2026-11-24 01:00", "2026-11-24 23:00", "2026-11-25", None),
    ],
)  # fmt: skip
def test_a_period_is_cut_into_whole_days_and_live_edges(since, until, cut, expected) -> None:
    def moment(text: str | None) -> datetime | None:
        return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)

    def day(text: str | None) -> date | None:
        return None if text is None else date.fromisoformat(text)

    got = summary.split(day(cut), moment(since), moment(until))
    if expected is None:
        assert got is None
        return
    first, end, live = expected
    assert got == summary.Split(
        day(first), day(end), tuple((moment(a), moment(b)) for a, b in live)
    )


async def test_the_scheduler_counts_on_the_leading_instance_only(database_url: str) -> None:
    from bot.scheduler import summarise

    class Follower:
        async def hold(self) -> bool:
            return False

    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        assert await summarise(sessionmaker, Follower()) is None
        async with sessionmaker() as session:
            assert await summary.cut(session) is None
        assert await summarise(sessionmaker) == "full"
        assert await summarise(sessionmaker) == "recent"
        async with sessionmaker() as session:
            assert await summary.cut(session) == clock.now().date()
    finally:
        await engine.dispose()
