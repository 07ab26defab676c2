"""Reminder benchmark with many pending rows: a report, never a timed test.

    python bench/reminders.py [--rows 1000000] [--db sqlite|postgresql|both] [--pg-url URL]

With `--rows` (1,000,000) pending reminders for `--people` (10,000) people, on each backend:

1. creation: rows/s of a bulk load (Core executemany, 10,000 rows a transaction) and of
   ``storage.reminders.schedule`` called one at a time, each in its own transaction, as a
   journey's update creates them (a sample of 10,000);
2. one tick: 500 rows made due, ``app.ticker.tick()`` of an app from ``build_app`` on an
   in-process Bot API whose sends cost nothing and with the delivery rate limit lifted; its
   wall time, and apart from it ``storage.reminders.claim`` (own transaction) and ``mark_sent``
   of 500 (own transaction), medians of 10. Target: claim + mark ≤ 50 ms;
3. memory: RSS of the bot process (a fresh process that only builds the app and ticks) idle,
   with nothing pending, against after the ticks with a tenth of `--rows` and with `--rows`
   pending. Target: ≤ 50 MB above idle, flat in the number pending.

Prints a table and writes ``bench/results/reminders.json``. Exit code 0 whatever the figures;
2 when a correctness check fails (a due reminder not sent and marked, or one sent that was not
due). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import updates as base  # noqa: E402  (bench/updates.py: machine line, fresh databases)
from aiogram import Bot  # noqa: E402
from aiogram.methods import TelegramMethod  # noqa: E402
from aiogram.types import Chat, Message  # noqa: E402
from sqlalchemy import event, func, insert, select, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.app import OFFLINE_TOKEN, build_app, run_fast, settle  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.offline import BOT_USER, OfflineSession  # noqa: E402
from flows import clock  # noqa: E402
from flows import reminders as rules  # noqa: E402
from storage import reminders as store  # noqa: E402
from storage.db import Transactions, create_engine, create_sessionmaker  # noqa: E402
from storage.models import Person, Reminder, ReminderStatus  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "reminders.json"
TARGET_CLAIM_MARK_MS = 50.0  # claim + mark 500 due ones
TARGET_RSS_MB = 50.0  # above the idle bot, whatever the number pending
BATCH = 500  # the Ticker's batch
CHUNK = 10_000  # bulk rows a transaction
SAMPLE = 10_000  # schedule() calls one at a time
WARMUP_TICKS, TICKS, CLAIMS = 2, 10, 10
# 10:00 in Jakarta (WIB), 11:00 WITA, 12:00 WIT: daytime everywhere, so nothing is deferred.
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
DUE_PAST = NOW - timedelta(minutes=1)
SPREAD = timedelta(days=30)
KIND = rules.TRAINING_DAY_BEFORE.key  # rendered by default_text: title, when (from at), where
MB = 1024 * 1024
log = logging.getLogger("bench")


# --------------------------------------------------------------------------- helpers


def proc_status() -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of this process, bytes."""
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def rss() -> int:
    gc.collect()
    return proc_status()["VmRSS"]


def median_ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000 if xs else float("nan")


def pct_ms(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


class NullSession(OfflineSession):
    """An in-process Bot API whose sends cost (almost) nothing and which keeps nothing:
    a send returns a `Message` built without validation, so a tick's time is the bot's own
    work. (The test session records every call, which would grow the heap with the sends.)"""

    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[int, int] = {}  # chat id -> messages sent
        self.chat = Chat.model_construct(id=0, type="private")

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        if type(method).__name__ == "SendMessage":
            chat_id = int(method.chat_id)  # type: ignore[attr-defined]
            self.sent[chat_id] = self.sent.get(chat_id, 0) + 1
            return Message.model_construct(
                message_id=next(self._ids), date=NOW, chat=self.chat, from_user=BOT_USER
            )
        return self._result(bot, method)


def reminder_rows(
    start: int, stop: int, people: list[int], rng: random.Random
) -> Iterator[dict[str, Any]]:
    """Rows `start`..`stop`: due at random moments over the next 30 days, unique keys."""
    span = SPREAD.total_seconds() - 120
    for i in range(start, stop):
        due = NOW + timedelta(seconds=60 + rng.random() * span)
        yield {
            "person_id": people[i % len(people)],
            "kind": KIND,
            "dedupe_key": f"bench:{i}",
            "due_at": due,
            "payload": {
                "title": f"Pelatihan usaha #{i % 97}",
                "at": (due + timedelta(days=1)).isoformat(),
                "where": "Balai Desa",
            },
            "status": ReminderStatus.PENDING.value,
            "attempts": 0,
            "created_at": NOW,
            "updated_at": NOW,
        }


# --------------------------------------------------------------------------- harness side


async def insert_people(url: str, count: int) -> list[int]:
    engine = create_engine(url)
    try:
        rows = [
            {
                "telegram_id": 7_000_000_000 + i,
                "name": f"Orang {i}",
                "locale": "id" if i % 4 else "en",
                "province_code": ("35", "51", "94", "31")[i % 4],  # WIB, WITA, WIT, WIB
                "role": "returnee",
                "nudges": True,
                "onboarded_at": NOW,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(count)
        ]
        for i in range(0, count, CHUNK):
            async with engine.begin() as conn:
                await conn.execute(insert(Person.__table__), rows[i : i + CHUNK])
        async with engine.connect() as conn:
            return list((await conn.scalars(select(Person.id).order_by(Person.id))).all())
    finally:
        await engine.dispose()


async def bulk_insert(
    url: str, start: int, stop: int, people: list[int], rng: random.Random
) -> list[float]:
    """Insert rows `start`..`stop` in transactions of CHUNK rows; seconds per transaction
    (the rows are built before each transaction's clock starts)."""
    engine = create_engine(url)
    table = Reminder.__table__
    times: list[float] = []
    try:
        for lo in range(start, stop, CHUNK):
            rows = list(reminder_rows(lo, min(stop, lo + CHUNK), people, rng))
            t0 = time.perf_counter()
            async with engine.begin() as conn:
                await conn.execute(insert(table), rows)
            times.append(time.perf_counter() - t0)
        if engine.dialect.name == "postgresql":
            # What autovacuum does after a load this size; planner statistics for the claim.
            async with engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE reminders")
    finally:
        await engine.dispose()
    return times


async def schedule_sample(
    url: str, start: int, count: int, people: list[int], rng: random.Random
) -> list[float]:
    """`storage.reminders.schedule` one at a time, each in its own transaction."""
    engine = create_engine(url)
    transactions = Transactions(engine)
    sessionmaker = create_sessionmaker(engine)
    times: list[float] = []
    try:
        for row in reminder_rows(start, start + count, people, rng):
            t0 = time.perf_counter()
            async with transactions.begin() as conn:
                await store.schedule(
                    sessionmaker(bind=conn),
                    person_id=row["person_id"],
                    kind=row["kind"],
                    key=row["dedupe_key"],
                    due_at=row["due_at"],
                    payload=row["payload"],
                )
            times.append(time.perf_counter() - t0)
    finally:
        await transactions.close()
        await engine.dispose()
    return times


async def pending_ids(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return list(
                (
                    await conn.scalars(
                        select(Reminder.id).where(Reminder.status == ReminderStatus.PENDING.value)
                    )
                ).all()
            )
    finally:
        await engine.dispose()


async def status_counts(url: str, due: list[int]) -> dict[str, int]:
    """Rows per status, and how many of the ids made due are sent with a message id."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(Reminder.status, func.count()).group_by(Reminder.status)
            )
            counts = {s: int(n) for s, n in rows}
            sent_due = 0
            for i in range(0, len(due), 5000):
                sent_due += int(
                    await conn.scalar(
                        select(func.count()).where(
                            Reminder.id.in_(due[i : i + 5000]),
                            Reminder.status == ReminderStatus.SENT.value,
                            Reminder.message_id.is_not(None),
                            Reminder.sent_at.is_not(None),
                        )
                    )
                    or 0
                )
            counts["sent_of_made_due"] = sent_due
            return counts
    finally:
        await engine.dispose()


def run_child(url: str, tmp: Path, name: str, batches: list[list[int]]) -> dict[str, Any]:
    """The bot side in a fresh process: nothing of the harness (rows built, ids) in its RSS."""
    spec = tmp / f"{name}.in.json"
    out = tmp / f"{name}.out.json"
    spec.write_text(json.dumps({"url": url, "batches": batches}))
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(spec), str(out)],
        check=True,
    )
    return json.loads(out.read_text())


# --------------------------------------------------------------------------- bot side


async def make_due(engine: AsyncEngine, ids: list[int]) -> None:
    async with engine.begin() as conn:
        result = await conn.execute(
            update(Reminder.__table__)
            .where(
                Reminder.id.in_(ids),
                Reminder.status == ReminderStatus.PENDING.value,
            )
            .values(due_at=DUE_PAST)
        )
        assert result.rowcount == len(ids), f"made {result.rowcount} of {len(ids)} due"


async def explain_claim(app: Any) -> list[str]:
    """The database's plan for the claim (one UPDATE of the picked rows), captured from one
    real claim; EXPLAIN without ANALYZE runs nothing."""
    captured: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE REMINDERS") and not captured:
            captured.append((statement, params))

    engine = app.ticker.transactions.engine
    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        async with app.ticker.transactions.begin() as conn:
            await store.claim(app.sessionmaker(bind=conn), now=NOW, limit=BATCH)
            prefix = "EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
            statement, params = captured[0]
            rows = await conn.exec_driver_sql(prefix + statement, params)
            plan = [" ".join(str(c) for c in row) for row in rows]  # nothing due: no claim
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)
    return plan


async def bot_side(url: str, batches: list[list[int]]) -> dict[str, Any]:
    clock.set_clock(lambda: NOW)
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    session = NullSession()
    app = build_app(settings, session=session, token=OFFLINE_TOKEN)
    app.ticker.delivery.limiter.interval = 0.0  # sends do not wait for the 25/s rate
    app.ticker.delivery.per_chat = 0.0  # nor for the second between two to one chat
    settle()  # as `juragan run` does after start-up
    out: dict[str, Any] = {"rss_built": rss(), "problems": []}
    problems: list[str] = out["problems"]
    try:
        report = await app.ticker.tick()  # connects, imports whatever a tick needs
        if report.claimed:
            problems.append(f"idle tick claimed {report.claimed}")
        out["rss_idle"] = rss()
        out["hwm_idle"] = proc_status()["VmHWM"]
        if not batches:
            return out
        out["plan"] = await explain_claim(app)

        # Each of the tick's transactions, named by the store function run in it (claim,
        # record = mark_sent/replan; anything else, e.g. planning nudges, is "other").
        spans: list[tuple[str, float]] = []
        seen: list[str] = []
        write = app.ticker._write
        originals = {name: getattr(store, name) for name in ("claim", "mark_sent", "replan")}

        def tagged(name: str, fn: Any) -> Any:
            async def call(*a: Any, **k: Any) -> Any:
                seen.append("claim" if name == "claim" else "record")
                return await fn(*a, **k)

            return call

        async def timed_write(work: Any) -> Any:
            n, t0 = len(seen), time.perf_counter()
            try:
                return await write(work)
            finally:
                spans.append((seen[n] if len(seen) > n else "other", time.perf_counter() - t0))

        app.ticker._write = timed_write  # type: ignore[method-assign]
        for name, fn in originals.items():
            setattr(store, name, tagged(name, fn))
        ticks: list[dict[str, float]] = []
        sends_before = sum(session.sent.values())
        queue = iter(batches)
        try:
            for i in range(WARMUP_TICKS + TICKS):
                ids = next(queue)
                await make_due(app.engine, ids)
                spans.clear()
                t0 = time.perf_counter()
                report = await app.ticker.tick()
                wall = time.perf_counter() - t0
                if (report.claimed, report.sent) != (len(ids), len(ids)) or report.errors:
                    problems.append(f"tick {i}: claimed {report.claimed}, sent {report.sent}")
                if i >= WARMUP_TICKS:
                    tick = {"wall": wall, "claim_txn": 0.0, "record_txns": 0.0, "other_txns": 0.0}
                    tick["record_count"] = sum(1 for label, _ in spans if label == "record")
                    for label, seconds in spans:
                        tick[f"{label}_txn" if label == "claim" else f"{label}_txns"] += seconds
                    ticks.append(tick)
        finally:
            app.ticker._write = write  # type: ignore[method-assign]
            for name, fn in originals.items():
                setattr(store, name, fn)
        out["rss_after_ticks"] = rss()
        sends = sum(session.sent.values()) - sends_before
        if sends != (WARMUP_TICKS + TICKS) * BATCH:
            problems.append(f"{sends} messages sent by {WARMUP_TICKS + TICKS} ticks of {BATCH}")

        # claim and mark_sent alone, each in its own transaction, with each statement timed
        # (the rest of a transaction's time is begin, commit and SQLAlchemy around them).
        statements: list[tuple[str, float]] = []

        def before(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            conn.info["bench_t0"] = time.perf_counter()

        def after(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            words = statement.split()
            what = " ".join(words[:2]) if words[0] == "UPDATE" else f"SELECT {words[1]}"
            statements.append((what, time.perf_counter() - conn.info.pop("bench_t0")))

        sync_engine = app.ticker.transactions.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", before)
        event.listen(sync_engine, "after_cursor_execute", after)
        claims: list[float] = []
        marks: list[float] = []
        parts: list[dict[str, float]] = []
        try:
            for i in range(CLAIMS):
                ids = next(queue)
                await make_due(app.engine, ids)
                statements.clear()
                t0 = time.perf_counter()
                async with app.ticker.transactions.begin() as conn:
                    claimed = await store.claim(app.sessionmaker(bind=conn), now=NOW, limit=BATCH)
                    c1 = time.perf_counter()
                t1 = time.perf_counter()
                in_claim = len(statements)
                async with app.ticker.transactions.begin() as conn:
                    await store.mark_sent(
                        app.sessionmaker(bind=conn), [(c.id, 10**6 + c.id) for c in claimed]
                    )
                    c2 = time.perf_counter()
                t2 = time.perf_counter()
                claims.append(t1 - t0)
                marks.append(t2 - t1)
                part: dict[str, float] = {}
                for j, (what, seconds) in enumerate(statements):
                    key = f"{'claim' if j < in_claim else 'mark'} {j}: {what}"
                    part[key] = seconds
                part["claim: Python, begin"] = (c1 - t0) - sum(x for _, x in statements[:in_claim])
                part["claim: commit"] = t1 - c1
                part["mark: Python, begin"] = (c2 - t1) - sum(x for _, x in statements[in_claim:])
                part["mark: commit"] = t2 - c2
                parts.append(part)
                if sorted(c.id for c in claimed) != sorted(ids):
                    problems.append(f"claim {i}: {len(claimed)} claimed, not the {len(ids)} due")
        finally:
            event.remove(sync_engine, "before_cursor_execute", before)
            event.remove(sync_engine, "after_cursor_execute", after)
        out["claim_parts_ms"] = {
            key: median_ms([p[key] for p in parts if key in p]) for key in parts[0]
        }
        out["rss_after"] = rss()
        out["hwm_after"] = proc_status()["VmHWM"]
        out["ticks"] = ticks
        out["claim_seconds"] = claims
        out["mark_seconds"] = marks
        return out
    finally:
        await app.close()
        clock.set_clock(None)


def child_main(spec_path: str, out_path: str) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    spec = json.loads(Path(spec_path).read_text())
    result = run_fast(bot_side(spec["url"], spec["batches"]))
    Path(out_path).write_text(json.dumps(result, default=str))
    return 0


# --------------------------------------------------------------------------- one backend


def small_size(rows: int) -> int:
    """The smaller stage: a tenth of `rows`, and at least twice what one bot run makes due."""
    return max(rows // 10, 2 * (WARMUP_TICKS + TICKS + CLAIMS) * BATCH)


def run_backend(url: str, tmp: Path, rows: int, people_count: int) -> dict[str, Any]:
    rng = random.Random(20261125)
    problems: list[str] = []
    print("  people ...", flush=True)
    people = asyncio.run(insert_people(url, people_count))
    print("  idle bot (nothing pending) ...", flush=True)
    idle = run_child(url, tmp, "idle", [])
    problems += idle["problems"]

    per_child = WARMUP_TICKS + TICKS + CLAIMS
    sample = min(SAMPLE, rows // 10)
    small = small_size(rows)
    bulk_times: list[float] = []
    made_due: list[int] = []
    stages: dict[str, Any] = {}
    next_row = 0
    pending = 0
    for size in (small, rows):
        last = size == rows
        # Top up so that exactly `size` are pending when the bot starts, the last `sample` of
        # the full size through schedule() one at a time.
        bulk = size - pending - (sample if last else 0)
        print(f"  bulk insert {bulk:,} (to {size:,} pending) ...", flush=True)
        bulk_times += asyncio.run(bulk_insert(url, next_row, next_row + bulk, people, rng))
        next_row += bulk
        if last:
            print(f"  schedule() one at a time x {sample:,} ...", flush=True)
            schedule_times = asyncio.run(schedule_sample(url, next_row, sample, people, rng))
            next_row += sample
        ids = asyncio.run(pending_ids(url))
        if len(ids) != size:
            problems.append(f"{len(ids)} pending before the ticks, expected {size}")
        chosen = rng.sample(ids, per_child * BATCH)
        del ids
        batches = [chosen[i * BATCH : (i + 1) * BATCH] for i in range(per_child)]
        print(f"  bot: {per_child} x {BATCH} due with {size:,} pending ...", flush=True)
        child = run_child(url, tmp, f"pending{size}", batches)
        problems += [f"{size:,} pending: {p}" for p in child["problems"]]
        made_due += chosen
        pending = size - len(chosen)
        stages[str(size)] = child

    counts = asyncio.run(status_counts(url, made_due))
    expected = {
        ReminderStatus.SENT.value: len(made_due),
        ReminderStatus.PENDING.value: next_row - len(made_due),
        "sent_of_made_due": len(made_due),
    }
    for key, want in expected.items():
        if counts.get(key, 0) != want:
            problems.append(f"DB: {counts.get(key, 0)} {key}, expected {want}")
    for key in (ReminderStatus.SENDING.value, ReminderStatus.CANCELLED.value, "failed"):
        if counts.get(key, 0):
            problems.append(f"DB: {counts[key]} {key}, expected 0")

    bulk_rows = next_row - sample
    first = bulk_times[: max(1, len(bulk_times) // 10)]
    tail = bulk_times[-max(1, len(bulk_times) // 10) :]
    return {
        "rows": rows,
        "people": people_count,
        "creation": {
            "bulk_rows": bulk_rows,
            "bulk_seconds": sum(bulk_times),
            "bulk_rows_per_s": bulk_rows / sum(bulk_times),
            "bulk_rows_per_s_first_tenth": len(first) * CHUNK / sum(first),
            "bulk_rows_per_s_last_tenth": len(tail) * CHUNK / sum(tail),
            "schedule_count": sample,
            "schedule_rows_per_s": sample / sum(schedule_times),
            "schedule_ms_p50": pct_ms(schedule_times, 0.5),
            "schedule_ms_p99": pct_ms(schedule_times, 0.99),
        },
        "idle": idle,
        "stages": stages,
        "db_counts": counts,
        "made_due": len(made_due),
        "problems": problems,
    }


def summarise(stage: dict[str, Any], idle: dict[str, Any]) -> dict[str, float]:
    ticks = stage["ticks"]
    claim = median_ms(stage["claim_seconds"])
    mark = median_ms(stage["mark_seconds"])
    return {
        "tick_ms": median_ms([t["wall"] for t in ticks]),
        "tick_ms_max": max(t["wall"] for t in ticks) * 1000,
        "tick_claim_txn_ms": median_ms([t["claim_txn"] for t in ticks]),
        "tick_record_txns_ms": median_ms([t["record_txns"] for t in ticks]),
        "tick_record_txns": statistics.median(t["record_count"] for t in ticks),
        "tick_other_txns_ms": median_ms([t["other_txns"] for t in ticks]),
        "claim_ms": claim,
        "mark_ms": mark,
        "claim_mark_ms": median_ms(
            [c + m for c, m in zip(stage["claim_seconds"], stage["mark_seconds"], strict=True)]
        ),
        "rss_idle_mb": idle["rss_idle"] / MB,
        "rss_above_idle_mb": (stage["rss_after"] - idle["rss_idle"]) / MB,
        "rss_after_ticks_above_idle_mb": (stage["rss_after_ticks"] - idle["rss_idle"]) / MB,
        "rss_start_above_idle_mb": (stage["rss_idle"] - idle["rss_idle"]) / MB,
        "peak_above_idle_mb": (stage["hwm_after"] - idle["rss_idle"]) / MB,
    }


# --------------------------------------------------------------------------- report


def print_report(meta: dict[str, Any], backends: dict[str, Any]) -> None:
    names = list(backends)
    line, row = base.print_header(
        meta,
        "Pulang Juragan: reminders with many pending",
        f"{meta['rows']:,} pending, {meta['people']:,} people",
        names,
        50,
        20,
    )

    bs = [backends[n] for n in names]
    big, small = str(meta["rows"]), str(small_size(meta["rows"]))
    rows_k, small_k = f"{int(big) // 1000:,}k", f"{int(small) // 1000:,}k"
    row(
        "1. bulk insert, Core 10,000/txn (rows/s)",
        [f"{b['creation']['bulk_rows_per_s']:,.0f}" for b in bs],
    )
    row(
        "1.   first / last tenth of the load (rows/s)",
        [
            f"{b['creation']['bulk_rows_per_s_first_tenth']:,.0f} / "
            f"{b['creation']['bulk_rows_per_s_last_tenth']:,.0f}"
            for b in bs
        ],
    )
    row(
        "1. schedule() one per txn (rows/s)",
        [f"{b['creation']['schedule_rows_per_s']:,.0f}" for b in bs],
    )
    row("1.   per call p50 / p99 (ms)",
        [f"{b['creation']['schedule_ms_p50']:.2f} / {b['creation']['schedule_ms_p99']:.2f}"
         for b in bs])  # fmt: skip
    for size, label in ((small, small_k), (big, rows_k)):
        s = [b["summary"][size] for b in bs]
        row(
            f"2. tick of 500, {label} pending (ms, median)",
            [f"{x['tick_ms']:.1f}" for x in s],
            "(sends cost nothing)",
        )
        row(
            "2.   of which txns: claim / record / other (ms)",
            [
                f"{x['tick_claim_txn_ms']:.1f} / {x['tick_record_txns_ms']:.1f} / "
                f"{x['tick_other_txns_ms']:.1f}"
                for x in s
            ],
        )
        row(
            f"2. claim / mark_sent 500, {label} pending (ms)",
            [f"{x['claim_ms']:.1f} / {x['mark_ms']:.1f}" for x in s],
        )
        ok = [x["claim_mark_ms"] <= TARGET_CLAIM_MARK_MS for x in s]
        row(f"2. claim + mark 500, {label} pending (ms)",
            [f"{x['claim_mark_ms']:.1f} ({base.mark(k)})" for x, k in zip(s, ok, strict=True)],
            f"≤ {TARGET_CLAIM_MARK_MS:.0f} ms")  # fmt: skip
    row(
        "3. RSS idle bot, nothing pending (MB)",
        [f"{b['summary'][big]['rss_idle_mb']:.1f}" for b in bs],
    )
    for size, label in ((small, small_k), (big, rows_k)):
        s = [b["summary"][size] for b in bs]
        ok = [x["rss_above_idle_mb"] <= TARGET_RSS_MB for x in s]
        row(f"3. RSS after ticks, {label} pending (MB above idle)",
            [f"{x['rss_above_idle_mb']:+.1f} ({base.mark(k)})" for x, k in zip(s, ok, strict=True)],
            f"≤ {TARGET_RSS_MB:.0f} MB")  # fmt: skip
        row("3.   peak (VmHWM) above idle (MB)", [f"{x['peak_above_idle_mb']:+.1f}" for x in s])
    row(f"3. growth {small_k} -> {rows_k} pending (MB)",
        [f"{b['summary'][big]['rss_above_idle_mb'] - b['summary'][small]['rss_above_idle_mb']:+.1f}"
         for b in bs], "flat")  # fmt: skip
    row("due ones sent and marked (DB)",
        [f"{b['db_counts'].get('sent_of_made_due', 0)} of {b['made_due']}" for b in bs],
        "= made due, none other")  # fmt: skip
    print(line)
    for n, b in zip(names, bs, strict=True):
        plan = b["stages"][big].get("plan") or []
        print(f"claim plan on {n}: " + " | ".join(p.strip() for p in plan))
        parts = b["stages"][big].get("claim_parts_ms") or {}
        print(f"claim + mark on {n}, {rows_k} pending, medians (ms): "
              + "; ".join(f"{k} {v:.1f}" for k, v in parts.items()))  # fmt: skip


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="pending (default 1,000,000)")
    p.add_argument("--people", type=int, default=10_000, help="their people (default 10,000)")
    p.add_argument(
        "--db",
        choices=["sqlite", "postgresql", "both"],
        default=None,
        help="default: sqlite, plus postgresql when --pg-url or JURAGAN_TEST_DATABASE_URL is set",
    )
    p.add_argument(
        "--pg-url",
        default=None,
        help=f"a PostgreSQL server URL; the run uses database '{base.BENCH_DB}' on that server "
        f"(default: $JURAGAN_TEST_DATABASE_URL or {base.DEFAULT_PG})",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
    p.add_argument("--child", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    least = 4 * (WARMUP_TICKS + TICKS + CLAIMS) * BATCH
    if args.child is None and args.rows < least:
        p.error(f"--rows must be at least {least:,}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(*args.child)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("aiogram", "sqlalchemy", "alembic", "bot", "storage", "flows"):
        logging.getLogger(name).setLevel(logging.WARNING)
    base.ensure_catalogs()

    pg_given = args.pg_url or os.environ.get("JURAGAN_TEST_DATABASE_URL")
    if args.db is None:
        dbs = ["sqlite"] + (["postgresql"] if pg_given else [])
    elif args.db == "both":
        dbs = ["sqlite", "postgresql"]
    else:
        dbs = [args.db]
    pg_url = pg_given or base.DEFAULT_PG

    meta = base.machine()
    meta.update(
        rows=args.rows,
        people=args.people,
        batch=BATCH,
        bulk_chunk=CHUNK,
        warmup_ticks=WARMUP_TICKS,
        ticks=TICKS,
        claims=CLAIMS,
        clock=NOW.isoformat(),
    )
    print(
        f"bench: {args.rows:,} pending reminders, {args.people:,} people on {', '.join(dbs)}; "
        f"{meta['nproc']} CPU {meta['cpu']}; Python {meta['python']}; {meta['date']}"
    )
    t_all = time.perf_counter()
    backends: dict[str, Any] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="juragan-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for db in dbs:
            if db == "sqlite":
                url = base.fresh_sqlite(tmp)
                shown = "sqlite (temp file, WAL)"
            else:
                url = base.fresh_postgresql(pg_url)
                shown = make_url(url).render_as_string(hide_password=True)
            print(f"{db}: {shown}", flush=True)
            t0 = time.perf_counter()
            result = run_backend(url, tmp, args.rows, args.people)
            result["seconds"] = time.perf_counter() - t0
            result["database"] = shown
            result["summary"] = {
                size: summarise(stage, result["idle"]) for size, stage in result["stages"].items()
            }
            backends[db] = result
            problems += [f"[{db}] {p}" for p in result["problems"]]

    meta["total_seconds"] = time.perf_counter() - t_all
    print_report(meta, backends)
    big = str(args.rows)
    verdict = {
        db: {
            "claim_mark": base.mark(b["summary"][big]["claim_mark_ms"] <= TARGET_CLAIM_MARK_MS),
            "rss": base.mark(
                max(s["rss_above_idle_mb"] for s in b["summary"].values()) <= TARGET_RSS_MB
            ),
        }
        for db, b in backends.items()
    }
    return base.write_report(
        args.out,
        meta,
        {"claim_mark_500_ms": TARGET_CLAIM_MARK_MS, "rss_above_idle_mb": TARGET_RSS_MB},
        backends,
        verdict,
        problems,
    )


if __name__ == "__main__":
    sys.exit(main())
