"""National scale (issue 17): PostgreSQL seeded with a national programme's rows, then the
queries that serve people and staff measured at that size.

    make bench-scale                                   # the full size: 1,000,000 people
    .venv/bin/python bench/scale.py --scale 0.01       # 10,000 people, to try it quickly
    .venv/bin/python bench/scale.py --measure-only     # measure what a previous run seeded

Never against the suite's database: it creates a database `scale` on the server of `--pg-url`
(default: the local PostgreSQL), migrates it with the project's own migrations and writes the
rows through the project's engine (storage.db.create_engine) with COPY, in batches, tables in
foreign-key order. A seeded database is reused when it holds the size asked for (`--reseed`
to start again): seeding the full size takes minutes, not hours, and measuring again is cheap.

At the full size it writes (the issue's figures): 1,000,000 people across every regency,
weighted by where PMI come from (Jawa Timur, Jawa Barat, Jawa Tengah and NTB first);
5,000,000 flow runs; 300,000 submissions in every status; 50,000 loans; 20,000 training
sessions with 400,000 registrations; 1,000,000 pending reminders; 2,000,000 past deliveries of
200 broadcasts. `--scale` multiplies every count.

Then it measures each query several times (the project's own functions, not copies of their
SQL), prints a table beside the issue's targets with a bare baseline from the same run
(`SELECT 1` round trips: machines differ by 2x or more, the ratio does not), and writes
bench/results/scale.json. It is a report, never a test: it exits 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from flows import registry, segments  # noqa: E402
from flows.engine import END  # noqa: E402
from storage import broadcasts as broadcast_queries  # noqa: E402
from storage import funnel as funnel_queries  # noqa: E402
from storage import (
    funnel_summary,  # noqa: E402
    reviews,  # noqa: E402
)
from storage import reminders as reminder_queries  # noqa: E402
from storage import segments as segment_queries  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402
from storage.migrate import downgrade, upgrade  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DATABASE = "scale"
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # a fixed "now": the same rows every run
BATCH = 50_000

# The full size (issue 17); --scale multiplies each.
SIZES = {
    "people": 1_000_000,
    "flow_runs": 5_000_000,
    "submissions": 300_000,
    "loans": 50_000,
    "trainings": 20_000,
    "registrations": 400_000,
    "reminders": 1_000_000,
    "broadcasts": 200,
    "deliveries": 2_000_000,
}

# Where PMI come from (BP2MI placement data by province of origin, rounded shares): the four
# first, then the rest of the usual origins; every other province gets a small share, so all
# 514 regencies have people.
ORIGIN_WEIGHT = {
    "35": 24.0,  # Jawa Timur
    "32": 20.0,  # Jawa Barat
    "33": 19.0,  # Jawa Tengah
    "52": 11.0,  # Nusa Tenggara Barat
    "18": 5.0,  # Lampung
    "12": 3.0,  # Sumatera Utara
    "51": 2.0,  # Bali
    "36": 2.0,  # Banten
    "53": 2.0,  # Nusa Tenggara Timur
    "64": 1.0,  # Kalimantan Timur
}
OTHER_PROVINCE_WEIGHT = 0.4

COUNTRIES = ("Taiwan", "Hong Kong", "Malaysia", "Arab Saudi", "Singapura", "Korea Selatan")
YEARS = ("under_1", "1_3", "3_5", "over_5")
GOALS = ("coop", "kur", "training")
FIRST = ("Siti", "Sri", "Dewi", "Nur", "Ani", "Rina", "Budi", "Agus", "Eko", "Wahyu", "Yuli")
LAST = ("Aminah", "Rahayu", "Lestari", "Wati", "Santoso", "Saputra", "Hidayat", "Susanti")
SUBMISSION_KINDS = ("join_request", "founding", "kur_readiness", "training_registration")
SUBMISSION_STATUSES = ("submitted", "approved", "rejected", "returned", "withdrawn")
LOAN_STAGES = ("preparing", "appointment", "survey", "akad", "cair", "rejected", "withdrawn")
TOPICS = ("business", "finance", "digital", "cooking", "crafts", "farming")
# What people's runs are of: flow key -> share of all runs (the onboarding is one per person).
RUN_MIX = {
    "kur_readiness": 0.30,
    "join_request": 0.15,
    "coop_search": 0.20,
    "found_coop": 0.05,
    "kur_simulator": 0.15,
    "kur_bank": 0.05,
    "profile_edit": 0.10,
}


@dataclass(frozen=True)
class Regions:
    regencies: list[tuple[str, str]]  # (regency code, province code)
    weights: list[float]

    @classmethod
    def load(cls) -> Regions:
        with (ROOT / "flows" / "content" / "regions.csv").open(encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r["kind"] == "regency"]
        by_province: dict[str, int] = {}
        for row in rows:
            by_province[row["province_code"]] = by_province.get(row["province_code"], 0) + 1
        regencies, weights = [], []
        for row in rows:
            province = row["province_code"]
            share = ORIGIN_WEIGHT.get(province, OTHER_PROVINCE_WEIGHT)
            regencies.append((row["code"], province))
            weights.append(share / by_province[province])
        return cls(regencies, weights)


@dataclass
class Figure:
    name: str
    target_ms: float | None
    runs: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    rows: int | None = None
    note: str = ""


# ---------------------------------------------------------------- the database


async def prepare_database(pg_url: str) -> str:
    """The URL of database `scale` on the same server, created when missing."""
    url = make_url(pg_url)
    admin = create_engine(url.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        exists = await connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": DATABASE}
        )
        if not exists:
            await connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    await admin.dispose()
    return url.set(database=DATABASE).render_as_string(hide_password=False)


async def reset_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))


@asynccontextmanager
async def raw(engine: AsyncEngine) -> AsyncIterator[Any]:
    """asyncpg's own connection under the project's engine, for COPY."""
    async with engine.connect() as connection:
        dbapi = await connection.get_raw_connection()
        yield dbapi.driver_connection
        await connection.commit()


async def copy(
    engine: AsyncEngine, table: str, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]
) -> int:
    """COPY rows into table in batches of BATCH; returns how many."""
    written = 0
    async with raw(engine) as connection:
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                await connection.copy_records_to_table(table, records=batch, columns=columns)
                written += len(batch)
                batch = []
        if batch:
            await connection.copy_records_to_table(table, records=batch, columns=columns)
            written += len(batch)
    return written


async def count_rows(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


# ---------------------------------------------------------------- the rows


def people_rows(n: int, rng: random.Random, regions: Regions) -> Iterator[tuple[Any, ...]]:
    picks = rng.choices(regions.regencies, weights=regions.weights, k=n)
    for i, (regency, province) in enumerate(picks, start=1):
        created = NOW - timedelta(days=rng.uniform(0, 3 * 365))
        yield (
            i,
            10_000_000 + i,  # telegram_id
            f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            f"08{rng.randrange(10**9, 10**10)}",
            province,
            regency,
            rng.choice(COUNTRIES),
            rng.choice(YEARS),
            rng.choice(GOALS),
            "id",
            "returnee",
            None,
            None,
            f"{province}{rng.randrange(10**13, 10**14)}" if rng.random() < 0.3 else None,
            True,
            rng.random() < 0.6,
            None,
            created + timedelta(minutes=5),
            created,
            created,
        )


PEOPLE_COLUMNS = (
    "id", "telegram_id", "name", "phone", "province_code", "regency_code", "country",
    "years_abroad", "goal", "locale", "role", "scope_regions", "start_payload", "nik", "nudges",
    "announcements", "blocked_at", "onboarded_at", "created_at", "updated_at",
)  # fmt: skip


def run_rows(n_people: int, n_runs: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """One finished onboarding per person, then the rest of the mix; at most one active run
    per person and flow (as the bot keeps it), the rest completed or cancelled."""
    steps = {key: [s.key for s in registry.get(key).steps] for key in ("onboarding", *RUN_MIX)}
    run_id = 0
    for person in range(1, n_people + 1):
        run_id += 1
        started = NOW - timedelta(days=rng.uniform(0, 3 * 365))
        answers = {"name": "x", "goal": rng.choice(GOALS)}
        history = steps["onboarding"]
        yield _run(run_id, person, "onboarding", END, answers, history, "completed", started)
    flows, weights = list(RUN_MIX), list(RUN_MIX.values())
    active: set[tuple[int, str]] = set()
    for _ in range(max(0, n_runs - n_people)):
        run_id += 1
        flow = rng.choices(flows, weights=weights)[0]
        person = rng.randrange(1, n_people + 1)
        keys = steps[flow]
        started = NOW - timedelta(days=rng.uniform(0, 2 * 365))
        roll = rng.random()
        if roll < 0.5:
            status, at, history = "completed", END, keys
        elif roll < 0.8 and (person, flow) not in active:
            active.add((person, flow))
            depth = rng.randrange(0, len(keys))
            status, at, history = "active", keys[depth], keys[:depth]
        else:
            depth = rng.randrange(0, len(keys))
            status, at, history = "cancelled", keys[depth], keys[:depth]
        yield _run(run_id, person, flow, at, {"k": 1}, history, status, started)


def _run(
    run_id: int,
    person: int,
    flow: str,
    step: str,
    answers: dict[str, Any],
    history: list[str],
    status: str,
    started: datetime,
) -> tuple[Any, ...]:
    finished = started + timedelta(hours=1) if status != "active" else None
    return (
        run_id, person, flow, step, json.dumps(answers), json.dumps(history), status, started,
        started + timedelta(minutes=30), finished,
    )  # fmt: skip


RUN_COLUMNS = (
    "id", "person_id", "flow", "step", "answers", "history", "status", "started_at",
    "updated_at", "finished_at",
)  # fmt: skip


def submission_rows(
    n: int, n_people: int, n_runs: int, n_loans: int, rng: random.Random, regions: Regions
) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        kind = rng.choice(SUBMISSION_KINDS)
        status = rng.choices(SUBMISSION_STATUSES, weights=(35, 40, 10, 10, 5))[0]
        regency, province = rng.choices(regions.regencies, weights=regions.weights)[0]
        created = NOW - timedelta(days=rng.uniform(0, 365))
        decided = status in ("approved", "rejected")
        yield (
            i,
            rng.randrange(1, n_people + 1),
            kind,
            rng.randrange(1, n_loans + 1) if kind == "kur_readiness" else rng.randrange(1, 1000),
            rng.randrange(1, n_runs + 1),
            province,
            regency,
            json.dumps({"name": "x"}),
            status,
            "Data belum lengkap" if status in ("rejected", "returned") else None,
            json.dumps(["nik"]) if status == "returned" or rng.random() < 0.05 else None,
            created,
            created + timedelta(hours=2),
            created + timedelta(days=2) if decided else None,
            1 if decided else None,
        )


SUBMISSION_COLUMNS = (
    "id", "person_id", "kind", "ref_id", "run_id", "province_code", "regency_code", "answers",
    "status", "reason", "returned_fields", "created_at", "updated_at", "decided_at", "decided_by",
)  # fmt: skip


def loan_rows(n: int, n_people: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        stage = rng.choices(LOAN_STAGES, weights=(40, 15, 10, 10, 15, 5, 5))[0]
        created = NOW - timedelta(days=rng.uniform(0, 365))
        yield (
            i, rng.randrange(1, n_people + 1), rng.choice(("super_mikro", "mikro", "kecil")),
            rng.randrange(5, 200) * 1_000_000, rng.choice((12, 24, 36)), json.dumps({}),
            "BRI", None, None, stage, json.dumps({stage: created.date().isoformat()}), None,
            created, created,
        )  # fmt: skip


LOAN_COLUMNS = (
    "id", "person_id", "scheme", "amount", "tenor_months", "documents", "bank", "branch",
    "appointment_at", "stage", "stage_dates", "rejection_reason", "created_at", "updated_at",
)  # fmt: skip


def training_rows(n: int, rng: random.Random, regions: Regions) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        starts = NOW + timedelta(days=rng.uniform(-180, 180))
        online = rng.random() < 0.1
        regency, province = rng.choices(regions.regencies, weights=regions.weights)[0]
        yield (
            i, f"Pelatihan {i}", "Dinas Koperasi", rng.choice(TOPICS), starts,
            starts + timedelta(hours=3), None if online else "Balai desa",
            "https://example.org/kelas" if online else None,
            None if online else province, None if online else regency, rng.choice((20, 30, 50)),
            rng.random() < 0.3, rng.random() < 0.03, False, None, starts - timedelta(days=30),
            starts - timedelta(days=30),
        )  # fmt: skip


TRAINING_COLUMNS = (
    "id", "title", "organiser", "topic", "starts_at", "ends_at", "place", "link",
    "province_code", "regency_code", "seats", "needs_approval", "cancelled", "sample",
    "created_by", "created_at", "updated_at",
)  # fmt: skip


def registration_rows(
    n: int, n_people: int, n_trainings: int, rng: random.Random
) -> Iterator[tuple[Any, ...]]:
    seen: set[tuple[int, int]] = set()
    i = 0
    while i < n:
        pair = (rng.randrange(1, n_trainings + 1), rng.randrange(1, n_people + 1))
        if pair in seen:
            continue
        seen.add(pair)
        i += 1
        status = rng.choices(
            ("registered", "waitlisted", "cancelled", "rejected"), weights=(70, 10, 15, 5)
        )[0]
        created = NOW - timedelta(days=rng.uniform(0, 365))
        yield (i, *pair, status, created, created, None)


REGISTRATION_COLUMNS = (
    "id", "training_id", "person_id", "status", "created_at", "updated_at", "promoted_at",
)  # fmt: skip


def reminder_rows(n: int, n_people: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Pending reminders due from tomorrow to two months on: a million people idle for weeks."""
    for i in range(1, n + 1):
        due = NOW + timedelta(days=rng.uniform(1, 60))
        yield (
            i, rng.randrange(1, n_people + 1), "nudge", f"nudge:{i}", due, json.dumps({}),
            "pending", 0, None, None, None, None, NOW, NOW,
        )  # fmt: skip


REMINDER_COLUMNS = (
    "id", "person_id", "kind", "dedupe_key", "due_at", "payload", "status", "attempts",
    "lease_until", "last_error", "message_id", "sent_at", "created_at", "updated_at",
)  # fmt: skip


def broadcast_rows(n: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        sent = NOW - timedelta(days=2 * i)
        yield (
            i, None, "Pengumuman", json.dumps({"kind": "all"}), "done", sent, sent, sent,
            sent + timedelta(hours=1), 0,
        )  # fmt: skip


BROADCAST_COLUMNS = (
    "id", "author_id", "text", "segment", "status", "created_at", "started_at", "scheduled_at",
    "finished_at", "recipients",
)  # fmt: skip


def delivery_rows(
    n: int, n_people: int, n_broadcasts: int, rng: random.Random
) -> Iterator[tuple[Any, ...]]:
    """Each broadcast to a run of consecutive people (so (broadcast, person) stays unique)."""
    per = max(1, n // max(1, n_broadcasts))
    i = 0
    for broadcast in range(1, n_broadcasts + 1):
        first = rng.randrange(1, max(2, n_people - per))
        sent = NOW - timedelta(days=2 * broadcast)
        for person in range(first, min(first + per, n_people + 1)):
            i += 1
            if i > n:
                return
            yield (i, broadcast, person, 10_000_000 + person, "sent", 1, None, i, None, sent, sent)


DELIVERY_COLUMNS = (
    "id", "broadcast_id", "person_id", "chat_id", "status", "attempts", "lease_until",
    "message_id", "error", "sent_at", "created_at",
)  # fmt: skip


async def seed(engine: AsyncEngine, sizes: dict[str, int], rng: random.Random) -> dict[str, float]:
    """Every table, in foreign-key order; returns seconds per table."""
    regions = Regions.load()
    n = sizes
    plan: list[tuple[str, Sequence[str], Callable[[], Iterator[tuple[Any, ...]]]]] = [
        ("people", PEOPLE_COLUMNS, lambda: people_rows(n["people"], rng, regions)),
        ("flow_runs", RUN_COLUMNS, lambda: run_rows(n["people"], n["flow_runs"], rng)),
        ("loans", LOAN_COLUMNS, lambda: loan_rows(n["loans"], n["people"], rng)),
        (
            "submissions",
            SUBMISSION_COLUMNS,
            lambda: submission_rows(
                n["submissions"], n["people"], n["flow_runs"], n["loans"], rng, regions
            ),
        ),
        ("trainings", TRAINING_COLUMNS, lambda: training_rows(n["trainings"], rng, regions)),
        (
            "training_registrations",
            REGISTRATION_COLUMNS,
            lambda: registration_rows(n["registrations"], n["people"], n["trainings"], rng),
        ),
        ("reminders", REMINDER_COLUMNS, lambda: reminder_rows(n["reminders"], n["people"], rng)),
        ("broadcasts", BROADCAST_COLUMNS, lambda: broadcast_rows(n["broadcasts"])),
        (
            "deliveries",
            DELIVERY_COLUMNS,
            lambda: delivery_rows(n["deliveries"], n["people"], n["broadcasts"], rng),
        ),
    ]
    took: dict[str, float] = {}
    for table, columns, rows in plan:
        started = time.perf_counter()
        written = await copy(engine, table, columns, rows())
        took[table] = time.perf_counter() - started
        print(f"  {table:<24} {written:>10,} rows  {took[table]:6.1f} s", flush=True)
    async with engine.begin() as connection:
        # Ids were given explicitly: move each sequence past them, as the bot's inserts expect.
        for table, _, _ in plan:
            await connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        started = time.perf_counter()
        await connection.execute(text("VACUUM ANALYZE"))
        took["vacuum analyze"] = time.perf_counter() - started
    return took


# ---------------------------------------------------------------- the measurements


async def timed(
    engine: AsyncEngine,
    name: str,
    target_ms: float | None,
    call: Callable[[Any], Awaitable[Any]],
    *,
    runs: int = 7,
    note: str = "",
) -> Figure:
    """p50/p95/max of `runs` calls (after one warm-up), each in its own session and rolled
    back, as an update's transaction would be."""
    maker = create_sessionmaker(engine)
    times: list[float] = []
    rows: int | None = None
    for i in range(runs + 1):
        async with maker() as session:
            started = time.perf_counter()
            result = await call(session)
            took = (time.perf_counter() - started) * 1000
            await session.rollback()
        if i:
            times.append(took)
        if isinstance(result, int):
            rows = result
        elif isinstance(result, Sequence):
            rows = len(result)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return Figure(name, target_ms, runs, statistics.median(times), p95, times[-1], rows, note)


async def busiest_regency(engine: AsyncEngine) -> tuple[str, str]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT regency_code, province_code FROM people GROUP BY 1, 2 "
                    "ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).one()
    return str(row[0]), str(row[1])


async def forget_summary(engine: AsyncEngine) -> None:
    """The funnels read live again (the summary tables as a new installation has them)."""
    async with engine.begin() as connection:
        for table in ("funnel_summary_state", "funnel_run_days", "funnel_submission_days"):
            await connection.execute(text(f"DELETE FROM {table}"))


async def count_summary(engine: AsyncEngine) -> list[Figure]:
    """The scheduler's job (bot.scheduler.summarise): all days, then the recent ones."""
    figures = []
    for mode, full in (("all days", True), (f"last {funnel_summary.RECENT_DAYS} days", False)):
        started = time.perf_counter()
        async with create_sessionmaker(engine)() as session, session.begin():
            await funnel_summary.refresh(session, NOW, full=full)
        took = (time.perf_counter() - started) * 1000
        figures.append(
            Figure(f"funnel summary counted: {mode} (the scheduler's job)", None, 1, took, took,
                   took, note="every 10 min (recent), once a day (all); not on a person's path")
        )  # fmt: skip
    return figures


async def funnels(
    engine: AsyncEngine, since: datetime, regency: str, *, live: bool
) -> list[Figure]:
    """The four journeys' funnels over 90 days, country and one regency: read live (no summary
    counted), or from the summary tables with live edges."""
    if live:
        await forget_summary(engine)
    how = "live" if live else "summary"
    figures: list[Figure] = []
    for journey, label in (
        ("kur", "KUR"),
        ("join", "join"),
        ("found", "found"),
        ("training", "training"),
    ):
        key = getattr(funnel_queries, journey.upper())

        async def country(session: Any, key: str = key) -> Any:
            return await funnel_queries.funnel(session, key, since=since, until=NOW)

        async def one_regency(session: Any, key: str = key) -> Any:
            return await funnel_queries.funnel(
                session, key, since=since, until=NOW, regions=[regency]
            )

        name = f"/statistik {label} funnel, %s, 90 days ({how})"
        figures.append(await timed(engine, name % "country", 1000, country, runs=3))
        figures.append(await timed(engine, name % "one regency", 200, one_regency, runs=5))

    return figures


async def measure(engine: AsyncEngine, sizes: dict[str, int]) -> list[Figure]:
    regency, province = await busiest_regency(engine)
    since = NOW - timedelta(days=90)
    figures: list[Figure] = []

    async def select_1(session: Any) -> int:
        return int((await session.execute(text("SELECT 1"))).scalar_one())

    figures.append(await timed(engine, "baseline: SELECT 1 round trip", None, select_1, runs=50))
    figures += await funnels(engine, since, regency, live=True)
    figures += await count_summary(engine)
    figures += await funnels(engine, since, regency, live=False)
    for spec, label in (
        (segments.Segment(kind=segments.REGION, region=province), "province"),
        (
            segments.Segment(kind=segments.JOURNEY_STEP, flow="kur_readiness", step="amount"),
            "journey step",
        ),
        (segments.Segment(kind=segments.INTEREST, goal="kur"), "interest"),
    ):

        async def count(session: Any, spec: segments.Segment = spec) -> int:
            return await segment_queries.count(session, spec)

        figures.append(await timed(engine, f"/siaran segment count: {label}", 300, count, runs=5))

    async def queue(session: Any) -> Any:
        return await reviews.waiting(session, kind="kur_readiness", regions=None, limit=8)

    async def queue_regency(session: Any) -> Any:
        return await reviews.waiting(session, kind="kur_readiness", regions=[regency], limit=8)

    async def queue_counts(session: Any) -> Any:
        return await reviews.counts(
            session, regions=[province], overdue_before=NOW - timedelta(days=3)
        )

    figures.append(await timed(engine, "review queue, first page, national", 100, queue))
    figures.append(await timed(engine, "review queue, first page, one regency", 100, queue_regency))
    figures.append(await timed(engine, "review queue counts, one province", 100, queue_counts))

    async def tick(session: Any) -> Any:
        return await reminder_queries.claim(session, now=NOW)

    figures.append(
        await timed(engine, "reminder tick, nothing due (1M pending)", 50, tick, runs=10)
    )
    figures.append(await broadcast_start(engine))
    return figures


async def migration_blocking(url: str, engine: AsyncEngine) -> Figure:
    """Migration 0020's indexes built again on the seeded tables (down to 0019, then up) while
    a writer updates people and flow runs as answers do, one after another: the longest an
    update waited is how long the migration blocked the bot (target: none over 1 s)."""
    await asyncio.to_thread(upgrade, url, "head")  # a database seeded by an older version
    await asyncio.to_thread(downgrade, url, "0019")
    rng = random.Random(7)
    waits: list[float] = []
    stop = asyncio.Event()

    async def writer() -> None:
        async with engine.connect() as connection:
            while not stop.is_set():
                person = rng.randrange(1, 1000)
                started = time.perf_counter()
                await connection.execute(
                    text("UPDATE people SET updated_at = now() WHERE id = :id"), {"id": person}
                )
                await connection.execute(
                    text("UPDATE flow_runs SET updated_at = now() WHERE id = :id"), {"id": person}
                )
                await connection.commit()
                waits.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.01)

    task = asyncio.create_task(writer())
    started = time.perf_counter()
    await asyncio.to_thread(upgrade, url, "head")
    took = time.perf_counter() - started
    stop.set()
    await task
    waits.sort()
    p95 = waits[min(len(waits) - 1, round(0.95 * (len(waits) - 1)))]
    return Figure(
        "an update during migration 0020 (the longest)",
        1000,
        len(waits),
        statistics.median(waits),
        waits[-1],  # the target is on the longest wait: report it as "p95" too
        waits[-1],
        note=f"index build took {took:.1f} s; p95 of the updates {p95:.1f} ms",
    )


async def broadcast_start(engine: AsyncEngine) -> Figure:
    """Starting an announcement to everyone opted in (storage.broadcasts.start: the delivery
    rows written in one INSERT … SELECT, the weekly cap checked against the past deliveries)
    while a writer updates people and flow runs as answers do; rolled back afterwards. The
    target is 30 s for 500,000 recipients, so the figure's target is scaled to the recipients
    this database has (the time grows linearly with the rows written)."""
    rng = random.Random(11)
    waits: list[float] = []
    stop = asyncio.Event()

    async def writer() -> None:
        async with engine.connect() as connection:
            while not stop.is_set():
                person = rng.randrange(1, 1000)
                started = time.perf_counter()
                await connection.execute(
                    text("UPDATE people SET updated_at = now() WHERE id = :id"), {"id": person}
                )
                await connection.commit()
                waits.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.01)

    task = asyncio.create_task(writer())
    async with create_sessionmaker(engine)() as session:
        draft = await broadcast_queries.create_draft(
            session, author_id=None, text="Bench", segment=segments.Segment(kind=segments.ALL)
        )
        started = time.perf_counter()
        recipients = await broadcast_queries.start(session, draft, now=NOW, cap_per_week=2) or 0
        took = (time.perf_counter() - started) * 1000
        await session.rollback()
    stop.set()
    await task
    target = 30_000 * max(recipients, 1) / 500_000
    return Figure(
        "broadcast start: delivery rows written (all opted in)",
        target,
        1,
        took,
        took,
        took,
        rows=recipients,
        note=f"{took / max(recipients, 1) * 500:.0f} ms per 500 rows, so "
        f"{took / max(recipients, 1) * 500_000 / 1000:.1f} s for 500,000; "
        f"longest update meanwhile {max(waits, default=0):.0f} ms",
    )


async def sizes_report(engine: AsyncEngine) -> list[tuple[str, int, int, int]]:
    """(table, rows estimate, table bytes, index bytes) for every table, biggest first."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT c.relname, c.reltuples::bigint, pg_table_size(c.oid), "
                "pg_indexes_size(c.oid) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "ORDER BY pg_total_relation_size(c.oid) DESC"
            )
        )
        return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]


def table(figures: list[Figure], baseline_ms: float) -> str:
    lines = [
        f"{'query':<52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>8} "
        f"{'x baseline':>11}  verdict"
    ]
    for f in figures:
        target = f"{f.target_ms:.0f}" if f.target_ms is not None else "-"
        verdict = "" if f.target_ms is None else ("ok" if f.p95_ms <= f.target_ms else "OVER")
        ratio = f.p95_ms / baseline_ms if baseline_ms else 0.0
        lines.append(
            f"{f.name:<52} {f.p50_ms:8.1f} {f.p95_ms:8.1f} {f.max_ms:8.1f} {target:>8} "
            f"{ratio:11.0f}  {verdict}"
        )
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("JURAGAN_SCALE_PG_URL", DEFAULT_PG))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count")
    parser.add_argument("--reseed", action="store_true", help="seed again even if seeded")
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--migration",
        action="store_true",
        help="also drop and build migration 0020's indexes again while updates run",
    )
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 2:
        parser.error("--scale must be in (0, 2]")
    sizes = {k: max(1, round(v * args.scale)) for k, v in SIZES.items()}
    url = await prepare_database(args.pg_url)
    engine = create_engine(url)
    seeded: dict[str, float] = {}
    try:
        have = 0
        try:
            have = await count_rows(engine, "people")
        except Exception:  # no schema yet
            have = 0
        if args.measure_only:
            if not have:
                print("bench/scale.py: nothing seeded yet; run without --measure-only first")
                return 2
            sizes["people"] = have
        elif args.reseed or have != sizes["people"]:
            print(f"Seeding database {DATABASE!r} ({sizes['people']:,} people)...", flush=True)
            await reset_schema(engine)
            await asyncio.to_thread(upgrade, url)
            seeded = await seed(engine, sizes, random.Random(args.seed))
        else:
            print(f"Database {DATABASE!r} already holds {have:,} people: measuring it.")
        await asyncio.to_thread(upgrade, url)  # seeded by an older version: its schema brought up
        figures = await measure(engine, sizes)
        if args.migration:
            figures.append(await migration_blocking(url, engine))
        tables = await sizes_report(engine)
    finally:
        await engine.dispose()
    baseline = figures[0].p50_ms
    print()
    print(table(figures, baseline))
    print()
    print(f"{'table':<28} {'rows':>12} {'table MB':>10} {'index MB':>10}")
    for name, n, data, index in tables:
        print(f"{name:<28} {n:>12,} {data / 2**20:>10.1f} {index / 2**20:>10.1f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "scale.json"
    out.write_text(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "sizes": sizes,
                "seed_seconds": seeded,
                "figures": [asdict(f) for f in figures],
                "tables": tables,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
