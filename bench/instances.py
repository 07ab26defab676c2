"""Webhook throughput on PostgreSQL, one and two instances: a report, never a timed test.

    python bench/instances.py [--people 600] [--concurrency 40] [--pg-url URL]

Real processes of `juragan webhook` (``python -m bot webhook``, the production mode) on one
PostgreSQL database, answering the fake Bot API (tests.support.fake_bot_api, in this process).
This process plays Telegram's side of the webhook: it POSTs each update with the secret token
(aiohttp) and takes the 200 as the sign the update was handled, committed and its replies sent.
Run with one instance, then with two on the same database (a fresh schema each time), the
updates spread round-robin over both as a load balancer would (a person's consecutive updates
may go to different instances):

1. **closed loop**: `--people` people each walk the onboarding (10 updates), at most
   `--concurrency` updates in flight (40: Telegram's default ``max_connections``; it never
   opens more to one bot), each person's updates strictly in order, every button pressed read
   from what the bot sent that person on the fake. Answers/s = updates / wall time; latency =
   POST to its 200, p50 / p99;
2. **steady load**: one update POSTed every 1/`--rate` s (200/s) for `--seconds` (10), not
   waiting for earlier ones, spread over `--latency-people` people walked first to staggered
   points of the onboarding. Latency POST to 200; target **p99 ≤ 50 ms** (bench/updates.py's);
3. **correctness** (exit 2): every POST answered 200; every person onboarded in the database
   exactly once with the profile answered; a sample of `--dup-sample` (100) /start updates
   POSTed twice at once, to each instance (or twice to the one), each person answered exactly
   as often as a person whose /start was POSTed once (the duplicate skipped by its update id);
   a POST without, and one with a wrong, secret token answered 401 and not handled; no ERROR
   in the instances' logs; each stops cleanly on SIGTERM;
4. **memory**: each instance's RSS (``/proc/<pid>/status``) idle (ready, before any update:
   median over 3 s) and its peak while loaded (sampled every 0.25 s). Target: **≤ 50 MB above
   idle**.

The machine has few cores: the instances, PostgreSQL and this driver (HTTP client and the fake
Bot API) share them; the CPU each used is printed, and two instances over one is a figure
without a target (on 2 cores, expect about 1).

Prints a table and writes ``bench/results/instances.json``. Exit code 0 whatever the figures;
2 when a correctness check fails. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import aiohttp  # noqa: E402
import updates as base  # noqa: E402  (bench/updates.py: machine line, script, checks, report)
from aiogram.types import InlineKeyboardMarkup  # noqa: E402
from broadcast import read_log, rss_of  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.app import run_fast  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402
from storage.models import Person, ProcessedUpdate  # noqa: E402
from tests.support.fake_bot_api import FakeBotAPI  # noqa: E402
from tests.support.process import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "instances.json"
BENCH_DB = "bench_in"  # the only PostgreSQL database this benchmark touches
DEFAULT_PG = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{BENCH_DB}"
TOKEN = "123456:TEST-token"
SECRET = "bench-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_URL = "https://bot.example.test/tg/hook"  # registered with the fake; never reached
HOOK_PATH = "/tg/hook"
TARGET_P99_MS = 50.0  # steady load, as bench/updates.py's step 3
TARGET_RSS_MB = 50.0  # loaded above idle
IDLE_SECONDS = 3.0
SAMPLE_EVERY = 0.25
READY_TIMEOUT = 90.0
WARM_PEOPLE = 50
MB = 1024 * 1024
# Telegram ids of each group, per run (the schema is fresh for each run anyway).
WARM_UID, LOOP_UID, STEADY_UID = 5_200_000_000, 5_210_000_000, 5_220_000_000
DUP_UID, ONCE_UID, SECRET_UID = 5_230_000_000, 5_231_000_000, 5_239_000_000
CLK_TCK = os.sysconf("SC_CLK_TCK")
log = logging.getLogger("bench")


# --------------------------------------------------------------------------- processes


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (nan once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def postgres_cpu() -> float:
    """CPU seconds so far of the PostgreSQL server on this machine: every process named
    `postgres` alive (the postmaster and its backends), plus what the postmaster's children
    that ended used (its cutime + cstime: the pool closes and opens backends all the time).
    The difference of two readings is exact for backends that started, ended, or both in
    between. 0 when the server runs elsewhere."""
    total = 0.0
    procs: dict[int, tuple[int, list[str]]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, rest = stat.read_text().rpartition(")")
        except OSError:
            continue
        if head.split("(", 1)[-1] == "postgres":
            fields = rest.split()
            procs[int(stat.parent.name)] = (int(fields[1]), fields)
    for _pid, (ppid, fields) in procs.items():
        total += int(fields[11]) + int(fields[12])
        if ppid not in procs:  # the postmaster: its ended children
            total += int(fields[13]) + int(fields[14])
    return total / CLK_TCK


async def pg_sessions(engine: Any) -> int:
    """Sessions (connections) PostgreSQL has opened to the benchmark's database so far."""
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT sessions FROM pg_stat_database WHERE datname = :d"), {"d": BENCH_DB}
        )
    return int(found or 0)


@dataclass
class Instance:
    """One `juragan webhook` process."""

    name: str
    port: int
    log_path: Path
    proc: asyncio.subprocess.Process | None = None
    started: float = 0.0
    ready_s: float = float("nan")
    health: dict[str, Any] = field(default_factory=dict)
    idle: list[int] = field(default_factory=list)  # RSS samples, bytes
    loaded: list[int] = field(default_factory=list)
    posts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hook(self) -> str:
        return self.base + HOOK_PATH

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


async def start_instance(inst: Instance, fake: FakeBotAPI, url: str) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BOT_TOKEN")},
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": url,
        "WEBHOOK_URL": WEBHOOK_URL,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": str(inst.port),
        "FLOOD_LIMIT": "100000",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
    }
    with inst.log_path.open("ab") as out:
        inst.started = time.monotonic()
        inst.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "webhook", env=env, cwd=ROOT, stdout=out, stderr=out
        )  # fmt: skip


async def wait_ready(inst: Instance, client: aiohttp.ClientSession) -> None:
    """Poll GET /healthz until it answers 200 (the database reachable, the scheduler ticking)."""
    assert inst.proc is not None
    deadline = inst.started + READY_TIMEOUT
    while time.monotonic() < deadline:
        if inst.proc.returncode is not None:
            raise RuntimeError(
                f"{inst.name} exited early (code {inst.proc.returncode}):\n"
                f"{read_log(inst.log_path)[-3000:]}"
            )
        try:
            async with client.get(inst.base + "/healthz") as response:
                body = await response.read()
                if response.status == 200:
                    inst.ready_s = time.monotonic() - inst.started
                    inst.health = json.loads(body or b"{}")
                    return
        except (aiohttp.ClientError, OSError, ValueError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(
        f"{inst.name}: /healthz not 200 within {READY_TIMEOUT:.0f} s:\n"
        f"{read_log(inst.log_path)[-3000:]}"
    )


async def stop_instance(inst: Instance) -> int | None:
    """SIGTERM, as an orchestrator stops it; SIGKILL after 45 s (it allows 30 s in flight)."""
    proc = inst.proc
    if proc is None:
        return None
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout=45)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None
    return proc.returncode


class Sampler:
    """RSS of each instance every SAMPLE_EVERY s into `list_name` while running."""

    def __init__(self, instances: list[Instance], list_name: str) -> None:
        self.instances, self.list_name = instances, list_name
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            for inst in self.instances:
                got = rss_of(inst.pid)
                if got is not None:
                    getattr(inst, self.list_name).append(got[0])
            await asyncio.sleep(SAMPLE_EVERY)

    def __enter__(self) -> Sampler:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


class CPU:
    """CPU used over a phase, in cores' worth: each instance, this driver (the fake and the
    client), the PostgreSQL server's processes (its backends started meanwhile counted whole,
    those ended meanwhile lost) and everything else on the machine (other sessions' work)."""

    def __init__(self, instances: list[Instance]) -> None:
        self.instances = instances

    def __enter__(self) -> CPU:
        self.wall = time.perf_counter()
        self.own = time.process_time()
        self.machine = base.machine_busy_seconds()
        self.each = [cpu_seconds(i.pid) for i in self.instances]
        self.pg = postgres_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.wall
        each = [cpu_seconds(i.pid) - c for i, c in zip(self.instances, self.each, strict=True)]
        own = time.process_time() - self.own
        machine = base.machine_busy_seconds() - self.machine
        pg = postgres_cpu() - self.pg
        self.report = {
            "wall_seconds": wall,
            "instances_cores": [c / wall for c in each],
            "driver_cores": own / wall,
            "postgresql_cores": pg / wall,
            "other_cores": max(0.0, machine - sum(each) - own - pg) / wall,
            "machine_cores": machine / wall,
        }


# --------------------------------------------------------------------------- people


@dataclass
class Walker:
    """One person walking the onboarding: `done` updates answered so far."""

    uid: int
    done: int = 0


class Keyboards:
    """The newest inline keyboard the bot sent or edited into each chat, read from the fake's
    calls (as bench/updates.py's Keyboards reads its in-process session)."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self.seen = len(fake.calls)
        self.last: dict[int, tuple[int, dict[str, Any]]] = {}

    def scan(self) -> None:
        calls = self.fake.calls
        for call in calls[self.seen :]:
            if call.method not in ("sendMessage", "editMessageText") or call.error_code:
                continue
            message = call.result
            if isinstance(message, dict) and (message.get("reply_markup") or {}).get(
                "inline_keyboard"
            ):
                chat = int(message["chat"]["id"])
                self.last[chat] = (int(message["message_id"]), message["reply_markup"])
        self.seen = len(calls)


class Script:
    """Builds each person's next onboarding update the way Telegram would: typed texts and
    presses of the button the bot just showed, through the fake (which numbers them)."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self.keyboards = Keyboards(fake)

    def steps_left(self, w: Walker) -> int:
        return len(base.SCRIPT) - w.done

    def next_update(self, w: Walker) -> dict[str, Any]:
        kind, payload = base.SCRIPT[w.done]
        if kind == "text":
            return self.fake.send_text(w.uid, payload)
        self.keyboards.scan()
        shown = self.keyboards.last.get(w.uid)
        name = base.STEP_NAMES[w.done]
        if shown is None:
            raise AssertionError(f"user {w.uid}: no keyboard to press at step {name}")
        message_id, markup = shown
        data = base.find_button(InlineKeyboardMarkup.model_validate(markup), kind, payload)
        if data is None:
            raise AssertionError(
                f"user {w.uid}: the bot's newest keyboard has no {kind} {payload!r} button "
                f"at step {name} (the flow went somewhere else)"
            )
        return self.fake.press(w.uid, message_id, data=data)


class Poster:
    """POSTs updates as Telegram does (JSON body, the secret token header), round-robin over
    the instances; keeps every answer's status and the time from POST to answer."""

    def __init__(self, client: aiohttp.ClientSession, instances: list[Instance]) -> None:
        self.client, self.instances = client, instances
        self._turn = itertools.count()
        self.statuses: Counter[int] = Counter()

    async def post_to(
        self, inst: Instance, update: dict[str, Any], secret: str | None = SECRET
    ) -> tuple[int, float]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        body = json.dumps(update)
        if secret == SECRET:
            inst.posts += 1
        t0 = time.perf_counter()
        try:
            async with self.client.post(inst.hook, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError):
            status = 0
        elapsed = time.perf_counter() - t0
        if secret == SECRET:  # the secret checks' 401s are counted apart
            self.statuses[status] += 1
        return status, elapsed

    async def post(self, update: dict[str, Any]) -> tuple[int, float]:
        inst = self.instances[next(self._turn) % len(self.instances)]
        return await self.post_to(inst, update)


async def closed_loop(
    walkers: list[Walker],
    steps: Callable[[Walker], int],
    make: Callable[[Walker], dict[str, Any]],
    post: Callable[[dict[str, Any]], Awaitable[tuple[int, float]]],
    concurrency: int,
    samples: list[tuple[int, float]] | None = None,
) -> tuple[int, float, Counter[int]]:
    """bench/updates.py's closed loop over HTTP: at most `concurrency` in flight, each person's
    updates in order. Returns (updates, wall seconds, statuses); appends (script index, POST
    to answer) to `samples`. A person whose update is not answered 200 stops there."""
    sem = asyncio.Semaphore(concurrency)
    fed = 0
    statuses: Counter[int] = Counter()

    async def person(w: Walker) -> None:
        nonlocal fed
        for _ in range(steps(w)):
            update = make(w)
            async with sem:
                status, elapsed = await post(update)
            statuses[status] += 1
            fed += 1
            if status != 200:
                return
            if samples is not None:
                samples.append((w.done, elapsed))
            w.done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(person(w) for w in walkers))
    return fed, time.perf_counter() - t0, statuses


async def steady(
    script: Script,
    poster: Poster,
    *,
    rate: float,
    seconds: float,
    people: int,
    concurrency: int,
) -> dict[str, Any]:
    """bench/updates.py's steady load over HTTP: one update POSTed every 1/rate s whether or
    not earlier ones were answered; people first walked (untimed) to staggered points of the
    onboarding; each person's next update only after their previous one was answered."""
    walkers = [Walker(STEADY_UID + i) for i in range(people)]
    stage = {w.uid: i % len(base.SCRIPT) for i, w in enumerate(walkers)}
    _, _, staged = await closed_loop(
        walkers, lambda w: stage[w.uid] - w.done, script.next_update, poster.post, concurrency
    )
    ready = deque(w for w in walkers if w.done < len(base.SCRIPT))
    samples: list[float] = []
    lags: list[float] = []
    by_step: dict[str, list[float]] = {name: [] for name in base.STEP_NAMES}
    statuses: Counter[int] = Counter()

    async def one(w: Walker, scheduled: float) -> None:
        update = script.next_update(w)
        t0 = time.perf_counter()
        status, elapsed = await poster.post(update)
        statuses[status] += 1
        if status != 200:
            return
        samples.append(elapsed)
        lags.append(t0 - scheduled)
        by_step[base.STEP_NAMES[w.done]].append(elapsed)
        w.done += 1
        if w.done < len(base.SCRIPT):
            ready.append(w)

    started_for, starved = await base.open_loop(ready, one, rate=rate, seconds=seconds)
    return {
        "target_rate": rate,
        "seconds": started_for,
        "achieved_start_rate": (len(samples) + sum(n for s, n in statuses.items() if s != 200))
        / started_for,
        "people": people,
        "latency_ms": base.summary_ms(samples),
        "start_lag_ms": base.summary_ms(lags),
        "starved_ticks": starved,
        "by_step_ms": {k: base.summary_ms(v) for k, v in by_step.items() if v},
        "statuses": dict(statuses),
        "staging_statuses": dict(staged),
        "_walkers": walkers,
    }


# --------------------------------------------------------------------------- checks


def replies_by_chat(fake: FakeBotAPI, since: int) -> Counter[int]:
    """Messages the bot sent or edited, per chat, in calls[since:]."""
    out: Counter[int] = Counter()
    for call in fake.calls[since:]:
        if call.method in ("sendMessage", "editMessageText") and call.error_code is None:
            out[int(call.params.get("chat_id") or 0)] += 1
    return out


async def duplicates(
    fake: FakeBotAPI, poster: Poster, instances: list[Instance], n: int
) -> dict[str, Any]:
    """`n` people's /start POSTed twice at the same moment, to each instance in turn (the one
    twice when alone); `n` others' /start POSTed once. Each of the first must be answered as
    often as each of the second."""
    since = len(fake.calls)
    twice = [fake.send_text(DUP_UID + i, "/start") for i in range(n)]
    once = [fake.send_text(ONCE_UID + i, "/start") for i in range(n)]
    a, b = instances[0], instances[-1]
    posts = [poster.post_to(a, u) for u in twice] + [poster.post_to(b, u) for u in twice]
    posts += [poster.post_to(instances[i % len(instances)], u) for i, u in enumerate(once)]
    statuses = Counter(status for status, _ in await asyncio.gather(*posts))
    ids = [int(u["update_id"]) for u in twice]
    replies = replies_by_chat(fake, since)
    once_counts = Counter(replies[ONCE_UID + i] for i in range(n))
    expected = once_counts.most_common(1)[0][0] if once_counts else 0
    dup_counts = Counter(replies[DUP_UID + i] for i in range(n))
    wrong = [DUP_UID + i for i in range(n) if replies[DUP_UID + i] != expected]
    return {
        "sample": n,
        "update_ids": ids,
        "to": [a.name, b.name],
        "statuses": dict(statuses),
        "replies_per_single_post": expected,
        "single_post_reply_counts": {str(k): v for k, v in once_counts.items()},
        "duplicate_reply_counts": {str(k): v for k, v in dup_counts.items()},
        "answered_wrong": len(wrong),
        "answered_wrong_examples": wrong[:5],
        "ok": not wrong and len(once_counts) == 1 and expected > 0 and set(statuses) == {200},
    }


async def secret_checks(fake: FakeBotAPI, poster: Poster, inst: Instance) -> dict[str, Any]:
    """A /start without the secret token header, and one with a wrong one: both 401, and the
    bot answers neither."""
    since = len(fake.calls)
    missing = fake.send_text(SECRET_UID, "/start")
    wrong = fake.send_text(SECRET_UID + 1, "/start")
    no_header, _ = await poster.post_to(inst, missing, secret=None)
    bad_header, _ = await poster.post_to(inst, wrong, secret="not-the-secret")
    replies = replies_by_chat(fake, since)
    answered = replies[SECRET_UID] + replies[SECRET_UID + 1]
    return {
        "missing_status": no_header,
        "wrong_status": bad_header,
        "answered": answered,
        "ok": no_header == 401 and bad_header == 401 and answered == 0,
    }


async def database_people(url: str, first: int, n: int) -> dict[str, Any]:
    """Among telegram ids first..first+n-1: people rows, distinct ids, onboarded, onboarded
    with the full profile answered (bench/updates.py's PROFILE)."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        found = await base.onboarded_and_steps(
            SimpleNamespace(sessionmaker=create_sessionmaker(engine)),  # type: ignore[arg-type]
            range(first, first + n),
        )
        async with engine.connect() as conn:
            distinct = await conn.scalar(
                select(func.count(func.distinct(Person.telegram_id))).where(
                    Person.telegram_id.between(first, first + n - 1)
                )
            )
    finally:
        await engine.dispose()
    people, onboarded, complete, _ = found
    return {
        "people": people,
        "distinct": int(distinct or 0),
        "onboarded": onboarded,
        "complete": complete,
    }


async def processed(url: str, ids: list[int]) -> int:
    """How many of these update ids the database holds as processed."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                select(func.count())
                .select_from(ProcessedUpdate)
                .where(ProcessedUpdate.update_id.in_(ids))
            )
    finally:
        await engine.dispose()
    return int(found or 0)


def parse_metrics(text_: str) -> dict[str, float]:
    """The `juragan_updates` counters by outcome, summed over types (whatever is there)."""
    out: Counter[str] = Counter()
    for line in text_.splitlines():
        m = re.match(r"juragan_updates_total\{(?P<labels>[^}]*)\}\s+(?P<v>[0-9.e+]+)", line)
        if m:
            outcome = re.search(r'outcome="([^"]*)"', m["labels"])
            out[outcome[1] if outcome else "?"] += float(m["v"])
    return dict(out)


# --------------------------------------------------------------------------- one run


async def run_config(
    url: str,
    tmp: Path,
    count: int,
    *,
    people: int,
    concurrency: int,
    rate: float,
    seconds: float,
    latency_people: int,
    dup_sample: int,
) -> dict[str, Any]:
    problems: list[str] = []
    notes: list[str] = []
    instances = [
        Instance(name=f"instance {i + 1}", port=free_port(), log_path=tmp / f"{count}-{i + 1}.log")
        for i in range(count)
    ]
    for inst in instances:
        inst.log_path.unlink(missing_ok=True)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with (
        FakeBotAPI() as fake,
        aiohttp.ClientSession(connector=connector, timeout=timeout) as client,
    ):
        # One connection of its own, kept: reads how many the instances open.
        stats = create_engine(url, pool_size=1, max_overflow=0)
        try:
            # 1. start (all at once, as an orchestrator would), ready on /healthz
            for inst in instances:
                await start_instance(inst, fake, url)
            await asyncio.gather(*(wait_ready(inst, client) for inst in instances))
            hooks = fake.calls_to("setWebhook")
            registered = [
                c for c in hooks
                if c.params.get("url") == WEBHOOK_URL and c.params.get("secret_token") == SECRET
            ]  # fmt: skip
            if len(registered) != count:
                problems.append(
                    f"{len(registered)} setWebhook calls with the URL and secret, want {count}: "
                    f"{[c.params for c in hooks]}"
                )
            # 2. idle memory
            with Sampler(instances, "idle"):
                await asyncio.sleep(IDLE_SECONDS)
            poster = Poster(client, instances)
            script = Script(fake)

            with Sampler(instances, "loaded"):
                # warm-up (untimed): imports, statement caches, the pools' connections
                warm = [Walker(WARM_UID + i) for i in range(WARM_PEOPLE)]
                await closed_loop(
                    warm, script.steps_left, script.next_update, poster.post, concurrency
                )
                # 3. closed loop
                walkers = [Walker(LOOP_UID + i) for i in range(people)]
                samples: list[tuple[int, float]] = []
                sessions = await pg_sessions(stats)
                with CPU(instances) as cpu:
                    fed, wall, statuses = await closed_loop(
                        walkers,
                        script.steps_left,
                        script.next_update,
                        poster.post,
                        concurrency,
                        samples,
                    )
                sessions = await pg_sessions(stats) - sessions
                latencies = [s for _, s in samples]
                by_step: dict[str, list[float]] = {n: [] for n in base.STEP_NAMES}
                for index, seconds_ in samples:
                    by_step[base.STEP_NAMES[index]].append(seconds_)
                throughput = {
                    "people": people,
                    "updates": fed,
                    "seconds": wall,
                    "rate": fed / wall,
                    "statuses": dict(statuses),
                    "latency_ms": base.summary_ms(latencies),
                    "by_step_ms": {k: base.summary_ms(v) for k, v in by_step.items() if v},
                    "cpu": cpu.report,
                    "pg_sessions_opened": sessions,
                    "pg_sessions_per_s": sessions / wall,
                }
                if set(statuses) != {200}:
                    problems.append(f"closed loop: answers {dict(statuses)}, want only 200")
                # 4. steady load
                sessions = await pg_sessions(stats)
                with CPU(instances) as steady_cpu:
                    lat = await steady(
                        script,
                        poster,
                        rate=rate,
                        seconds=seconds,
                        people=latency_people,
                        concurrency=concurrency,
                    )
                lat["cpu"] = steady_cpu.report
                lat["pg_sessions_opened"] = await pg_sessions(stats) - sessions
                steady_walkers = lat.pop("_walkers")
                if set(lat["statuses"]) - {200} or set(lat["staging_statuses"]) - {200}:
                    problems.append(
                        f"steady load: answers {lat['statuses']} "
                        f"(staging {lat['staging_statuses']}), want only 200"
                    )
            # 5. correctness
            dup = await duplicates(fake, poster, instances, dup_sample)
            if not dup["ok"]:
                problems.append(
                    f"duplicates: {dup['answered_wrong']} of {dup_sample} people whose /start "
                    f"was POSTed twice were not answered {dup['replies_per_single_post']} "
                    f"time(s), as once; answers {dup['statuses']}; single posts answered "
                    f"{dup['single_post_reply_counts']} time(s)"
                )
            secret = await secret_checks(fake, poster, instances[0])
            if not secret["ok"]:
                problems.append(
                    f"secret token: missing -> {secret['missing_status']}, wrong -> "
                    f"{secret['wrong_status']} (want 401 each), {secret['answered']} answered"
                )
            metrics: dict[str, Any] = {}
            for inst in instances:
                async with client.get(inst.base + "/metrics") as response:
                    body = await response.text()
                    metrics[inst.name] = {
                        "status": response.status,
                        "lines": len(body.splitlines()),
                        "updates_by_outcome": parse_metrics(body),
                    }
                    if response.status != 200:
                        problems.append(f"{inst.name}: GET /metrics answered {response.status}")
        finally:
            codes = await asyncio.gather(*(stop_instance(inst) for inst in instances))
            await stats.dispose()
    for inst, code in zip(instances, codes, strict=True):
        if code != 0:
            problems.append(f"{inst.name}: exit code {code} after SIGTERM (want 0)")

    found = await database_people(url, LOOP_UID, people)
    if not (found["people"] == found["distinct"] == found["onboarded"] == people):
        problems.append(
            f"closed loop: {found['people']} people rows ({found['distinct']} distinct ids), "
            f"{found['onboarded']} onboarded in the DB, want {people} each"
        )
    if found["complete"] != people:
        problems.append(f"closed loop: {found['complete']} of {people} with the full profile")
    wrong = [w.uid for w in walkers if w.done != len(base.SCRIPT)]
    if wrong:
        problems.append(f"closed loop: {len(wrong)} people did not finish, e.g. {wrong[0]}")
    steady_found = await database_people(url, STEADY_UID, latency_people)
    if steady_found["people"] != steady_found["distinct"]:
        problems.append(f"steady load: people rows twice: {steady_found}")
    want_onboarded = sum(1 for w in steady_walkers if w.done == len(base.SCRIPT))
    if steady_found["onboarded"] != want_onboarded:
        problems.append(
            f"steady load: {steady_found['onboarded']} onboarded in the DB, "
            f"{want_onboarded} walked to the end"
        )
    dup_found = await processed(url, dup["update_ids"])
    if dup_found != dup_sample:
        problems.append(f"duplicates: {dup_found} of {dup_sample} update ids recorded processed")
    seen_twice = sum(m["updates_by_outcome"].get("duplicate", 0) for m in metrics.values())

    errors: dict[str, list[str]] = {}
    for inst in instances:
        lines = read_log(inst.log_path).splitlines()
        bad = [line for line in lines if " ERROR " in line or "Traceback" in line]
        if bad:
            errors[inst.name] = bad[:20]
            problems.append(f"{inst.name}: {len(bad)} ERROR/Traceback lines in its log: {bad[:2]}")
        warnings = [line for line in lines if " WARNING " in line]
        if warnings:
            kinds = Counter(re.sub(r"\d+(\.\d+)?", "N", w.split(" WARNING ", 1)[1])[:160]
                            for w in warnings)  # fmt: skip
            notes.append(
                f"{inst.name}: {len(warnings)} WARNING lines: {dict(kinds.most_common(3))}"
            )

    memory = {}
    for inst in instances:
        idle = statistics.median(inst.idle) / MB if inst.idle else float("nan")
        peak = max(inst.loaded) / MB if inst.loaded else float("nan")
        memory[inst.name] = {
            "idle_mb": idle,
            "peak_loaded_mb": peak,
            "above_idle_mb": peak - idle,
            "end_loaded_mb": inst.loaded[-1] / MB if inst.loaded else float("nan"),
            "samples": len(inst.loaded),
        }
    return {
        "instances": count,
        "ready_s": [inst.ready_s for inst in instances],
        "health": [inst.health for inst in instances],
        "posts_per_instance": {inst.name: inst.posts for inst in instances},
        "throughput": {**throughput, "database": found},
        "latency": {**lat, "database": steady_found},
        "duplicates": {**dup, "processed_in_db": dup_found, "metrics_duplicates": seen_twice},
        "secret": secret,
        "memory": memory,
        "metrics": metrics,
        "statuses": dict(poster.statuses),
        "log_errors": errors,
        "problems": problems,
        "notes": notes,
    }


# --------------------------------------------------------------------------- database


# --------------------------------------------------------------------------- report


def print_report(meta: dict[str, Any], runs: dict[str, Any]) -> None:
    names = list(runs)
    line, row = base.print_header(
        meta,
        "Pulang Juragan: juragan webhook on PostgreSQL, one and two instances",
        f"people {meta['people']}, in flight ≤ {meta['concurrency']}, steady "
        f"{meta['steady_rate']:g}/s for {meta['steady_seconds']:g} s",
        names,
        46,
        24,
    )
    rs = [runs[n] for n in names]
    print(
        f"{meta['nproc']} cores shared by the instances, PostgreSQL and this driver (the HTTP "
        "client and the fake Bot API): see the CPU rows"
    )
    print(line)
    row("start -> /healthz 200 (s)", [", ".join(f"{s:.1f}" for s in r["ready_s"]) for r in rs])
    row(
        "1. onboarding over HTTP (answers/s)",
        [f"{r['throughput']['rate']:,.0f}" for r in rs],
        "(no target)",
    )
    if len(rs) > 1:
        ratio = rs[-1]["throughput"]["rate"] / rs[0]["throughput"]["rate"]
        row("   two instances / one", ["", f"{ratio:.2f}"], f"(no target; {meta['nproc']} cores)")
    row(
        "   updates / wall seconds",
        [f"{r['throughput']['updates']} / {r['throughput']['seconds']:.1f}" for r in rs],
    )
    row(
        "   latency POST -> 200 p50 / p99 (ms)",
        [
            f"{r['throughput']['latency_ms']['p50']:.1f} / {r['throughput']['latency_ms']['p99']:.1f}"
            for r in rs
        ],
        "(closed loop)",
    )
    row(
        "   CPU: instances (cores)",
        [" + ".join(f"{c:.2f}" for c in r["throughput"]["cpu"]["instances_cores"]) for r in rs],
    )
    row(
        "   CPU: driver / PostgreSQL / other (cores)",
        [
            f"{r['throughput']['cpu']['driver_cores']:.2f} / "
            f"{r['throughput']['cpu']['postgresql_cores']:.2f} / "
            f"{r['throughput']['cpu']['other_cores']:.2f}"
            for r in rs
        ],
        f"of {meta['nproc']}",
    )
    row(
        "   PostgreSQL connections opened (per s)",
        [
            f"{r['throughput']['pg_sessions_opened']:,} ({r['throughput']['pg_sessions_per_s']:.0f})"
            for r in rs
        ],
    )
    row(
        "   onboarded / full profile (DB), once each",
        [
            f"{r['throughput']['database']['onboarded']} / {r['throughput']['database']['complete']}"
            f" of {meta['people']}"
            for r in rs
        ],
        "= people",
    )
    row(
        "2. steady load: started answers/s",
        [
            f"{r['latency']['achieved_start_rate']:.0f} of {r['latency']['target_rate']:.0f}"
            for r in rs
        ],
        f"{meta['steady_seconds']:g} s, {meta['latency_people']} people",
    )
    for key in ("p50", "p95", "p99", "max"):
        cells = []
        for r in rs:
            value = r["latency"]["latency_ms"][key]
            cells.append(
                f"{value:.1f} {base.mark(value <= TARGET_P99_MS)}"
                if key == "p99"
                else f"{value:.1f}"
            )
        row(
            f"   latency POST -> 200 {key} (ms)",
            cells,
            f"≤ {TARGET_P99_MS:.0f} ms" if key == "p99" else "",
        )
    row(
        "   generator start lag p99 (ms)",
        [f"{r['latency']['start_lag_ms']['p99']:.1f}" for r in rs],
    )
    if any(r["latency"]["starved_ticks"] for r in rs):
        row(
            "   ticks with nobody ready (skipped)", [str(r["latency"]["starved_ticks"]) for r in rs]
        )
    row(
        "3. /start POSTed twice: answered as once",
        [
            f"{r['duplicates']['sample'] - r['duplicates']['answered_wrong']} of "
            f"{r['duplicates']['sample']} ({base.mark(r['duplicates']['ok'])})"
            for r in rs
        ],
        "all (dedup by update_id)",
    )
    row(
        "   seen as duplicates (/metrics)",
        [f"{r['duplicates']['metrics_duplicates']:.0f}" for r in rs],
        f"= {meta['dup_sample']}",
    )
    row(
        "3. no / wrong secret token -> status",
        [
            f"{r['secret']['missing_status']} / {r['secret']['wrong_status']} "
            f"({base.mark(r['secret']['ok'])})"
            for r in rs
        ],
        "401 / 401",
    )
    row("3. answers other than 200", [str(sum(n for s, n in r["statuses"].items() if s != 200))
                                      for r in rs], "0")  # fmt: skip
    row(
        "4. RSS idle, each instance (MB)",
        [" / ".join(f"{m['idle_mb']:.1f}" for m in r["memory"].values()) for r in rs],
    )
    row(
        "4. RSS peak loaded, each (MB)",
        [" / ".join(f"{m['peak_loaded_mb']:.1f}" for m in r["memory"].values()) for r in rs],
    )
    cells = []
    for r in rs:
        worst = max(m["above_idle_mb"] for m in r["memory"].values())
        above = " / ".join(f"{m['above_idle_mb']:+.1f}" for m in r["memory"].values())
        cells.append(f"{above} ({base.mark(worst <= TARGET_RSS_MB)})")
    row("4. loaded above idle, each (MB)", cells, f"≤ {TARGET_RSS_MB:.0f} MB")
    print(line)
    print("closed loop, latency POST -> 200 p50 / p99 (ms) by step:")
    for name in base.STEP_NAMES:
        cells = []
        for r in rs:
            s = r["throughput"]["by_step_ms"].get(name)
            cells.append(f"{s['p50']:.1f} / {s['p99']:.1f}" if s else "-")
        row(f"   {name}", cells)
    print(line)
    for n, r in zip(names, rs, strict=True):
        print(f"{n}: POSTs per instance {r['posts_per_instance']}; answers {r['statuses']}")
        for inst, m in r["metrics"].items():
            if m["updates_by_outcome"]:
                print(f"{n}: {inst} /metrics juragan_updates by outcome {m['updates_by_outcome']}")
        for note in r["notes"]:
            print(f"{n}: note: {note}")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--people", type=int, default=600, help="people onboarding (default 600)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=40,
        help="updates in flight (default 40, Telegram's default max_connections)",
    )
    p.add_argument("--rate", type=float, default=200.0, help="steady-load answers/s (default 200)")
    p.add_argument("--seconds", type=float, default=10.0, help="steady-load duration (default 10)")
    p.add_argument(
        "--latency-people", type=int, default=450, help="people in the steady load (default 450)"
    )
    p.add_argument(
        "--dup-sample", type=int, default=100, help="/start updates POSTed twice (default 100)"
    )
    p.add_argument(
        "--instances",
        default="1,2",
        help="instance counts to run, in order (default 1,2)",
    )
    p.add_argument(
        "--pg-url",
        default=None,
        help=f"a PostgreSQL server URL; the run uses database '{BENCH_DB}' on that server "
        f"(default: $JURAGAN_TEST_DATABASE_URL or {DEFAULT_PG})",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
    args = p.parse_args(argv)
    try:
        args.counts = [int(x) for x in args.instances.split(",") if x.strip()]
    except ValueError:
        p.error("--instances: comma-separated numbers, e.g. 1,2")
    if not args.counts or min(args.counts) < 1:
        p.error("--instances: at least one count, each ≥ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("aiogram", "sqlalchemy", "alembic", "bot", "storage", "flows", "aiohttp"):
        logging.getLogger(name).setLevel(logging.WARNING)
    pg_url = args.pg_url or os.environ.get("JURAGAN_TEST_DATABASE_URL") or DEFAULT_PG

    meta = base.machine()
    meta.update(
        people=args.people,
        concurrency=args.concurrency,
        steady_rate=args.rate,
        steady_seconds=args.seconds,
        latency_people=args.latency_people,
        dup_sample=args.dup_sample,
        updates_per_person=len(base.SCRIPT),
        warm_people=WARM_PEOPLE,
        webhook_url=WEBHOOK_URL,
    )
    print(
        f"bench: juragan webhook, {', '.join(map(str, args.counts))} instance(s), "
        f"{args.people} people x {len(base.SCRIPT)} updates on PostgreSQL; "
        f"{meta['nproc']} CPU {meta['cpu']}; Python {meta['python']}; {meta['date']}",
        flush=True,
    )
    t_all = time.perf_counter()
    runs: dict[str, Any] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="juragan-bench-in-") as tmp_name:
        for count in args.counts:
            url = base.fresh_postgresql(pg_url, BENCH_DB)
            shown = make_url(url).render_as_string(hide_password=True)
            name = f"{count} instance" + ("s" if count > 1 else "")
            print(f"{name} on {shown} ...", flush=True)
            t0 = time.perf_counter()
            result = run_fast(
                run_config(
                    url,
                    Path(tmp_name),
                    count,
                    people=args.people,
                    concurrency=args.concurrency,
                    rate=args.rate,
                    seconds=args.seconds,
                    latency_people=args.latency_people,
                    dup_sample=args.dup_sample,
                )
            )
            result["seconds"] = time.perf_counter() - t0
            result["database"] = shown
            runs[name] = result
            problems += [f"[{name}] {p}" for p in result["problems"]]

    meta["total_seconds"] = time.perf_counter() - t_all
    print_report(meta, runs)
    verdict = {
        name: {
            "p99": base.mark(r["latency"]["latency_ms"]["p99"] <= TARGET_P99_MS),
            "rss": base.mark(
                max(m["above_idle_mb"] for m in r["memory"].values()) <= TARGET_RSS_MB
            ),
        }
        for name, r in runs.items()
    }
    return base.write_report(
        args.out,
        meta,
        {"p99_ms_at_steady_rate": TARGET_P99_MS, "rss_above_idle_mb": TARGET_RSS_MB},
        runs,
        verdict,
        problems,
    )


if __name__ == "__main__":
    sys.exit(main())
