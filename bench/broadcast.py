"""Broadcast benchmark: one announcement to many people, a SIGKILL mid-run: a report, never a
timed test.

    python bench/broadcast.py [--recipients 10000] [--db sqlite|postgresql|both] [--pg-url URL]
    python bench/broadcast.py --paid --recipients 30000   # Telegram's paid broadcasts

On each backend, a fresh migrated database holds `--recipients` (10,000) people a broadcast to
everyone reaches (opted in, not blocked), a few more who opted out or blocked the bot before
it (no delivery is written for them) and the coordinator who wrote it. The real bot runs as a
subprocess (`python -m bot run`) against the fake Bot API (tests.support.fake_bot_api) in
this process, which allows 30 sends/s (429 beyond) and answers every send after a 50 ms round
trip. 1% of the recipients have blocked the bot (the fake answers 403); 0.5% stop
announcements and 0.5% are marked blocked in the database right after the start (their
deliveries exist and must be skipped when their turn comes).

1. **rate**: successful sends / time between the first and the last, before the kill and after
   the restart separately (the restart gap left out). Target: **≥ 95% of DELIVERY_RATE**
   (25/s by default; the bot is given the same value); 429s received are counted too;
2. **correctness** (exit 2 when it fails): nobody opted in and unblocked lost (every one got
   it at least once and their delivery is `sent`), no send attempted to anyone who opted out
   or is blocked in the database, the fake-blocked deliveries `blocked`, every delivery final
   (none `pending` or `sending`), the broadcast `done` and its report sent;
3. **duplicates after a SIGKILL**: when half the recipients got it, the bot is killed with
   SIGKILL and a new one started, which finishes the broadcast. Duplicates = successful sends
   beyond the first per chat;
1b. **CPU per send** (the load-independent figure): the bot's CPU (``/proc/<pid>/stat``) and
   the fake's (this process) over each phase's sending stretch, per send, against a bare
   aiohttp round trip measured in the same run; the sends/s each could make on a free core;
4. **memory**: the bot's RSS (``/proc/<pid>/status``), sampled every 0.5 s, idle (started, no
   broadcast yet: its median over 5 s) against the peak while sending, for the first process
   and for the one after the restart. Target: **≤ 50 MB above the idle bot**.

**--paid**: the bot runs with PAID_BROADCAST=true (PAID_BROADCAST_RATE from the environment,
else the setting's default, 980/s); the fake holds sends with `allow_paid_broadcast` to 1000/s
(and the others to 30/s). The rate target is then **≥ 95% of the paid limit (950/s)**; the
table, the checks and the kill are the same. Writes ``bench/results/broadcast-paid.json``.

Prints a table and writes ``bench/results/broadcast.json``. Exit code 0 whatever the figures;
2 when a correctness check fails. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import math
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import aiohttp  # noqa: E402
import updates as base  # noqa: E402  (bench/updates.py: machine line, print_header)
from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import func, insert, select, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.app import run_fast  # noqa: E402
from bot.config import Settings  # noqa: E402
from storage import broadcasts as store  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Broadcast, Delivery, Person  # noqa: E402
from tests.support.fake_bot_api import FakeBotAPI  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "broadcast.json"
BENCH_DB = "bench_bc"  # the only PostgreSQL database this benchmark touches
DEFAULT_PG = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{BENCH_DB}"
TOKEN = "123456:TEST-token"
TELEGRAM_LIMIT = 30.0  # sends/s the fake allows (Telegram's ~30/s); 429 beyond
LATENCY = 0.05  # seconds each send's answer takes (a round trip to Telegram)
TARGET_RATE_SHARE = 0.95  # of DELIVERY_RATE (--paid: of PAID_LIMIT)
PAID_LIMIT = 1000.0  # paid sends/s the fake allows (Telegram's paid broadcasts)
PAID = False  # --paid
TARGET_RSS_MB = 50.0  # peak while sending, above the idle bot
IDLE_SECONDS = 5.0
SAMPLE_EVERY = 0.5
FIRST_UID = 7_000_000_000  # recipients' Telegram ids: FIRST_UID + i
AUTHOR_UID = 6_900_000_001
MB = 1024 * 1024
TEXT = (
    "<b>Pelatihan gratis: mengelola keuangan usaha</b>\n"
    "Sabtu depan pukul 09.00 di Balai Desa. Bawa KTP dan buku catatan. "
    "Tempat terbatas, daftar lewat menu Pelatihan."
)
log = logging.getLogger("bench")


def configured_rate() -> float:
    """DELIVERY_RATE from the environment, else the bot's default (25/s); with --paid,
    PAID_BROADCAST_RATE (default 980/s)."""
    name = "paid_broadcast_rate" if PAID else "delivery_rate"
    given = os.environ.get(name.upper())
    return float(given) if given else float(Settings.model_fields[name].default)


def target_rate(rate: float) -> float:
    """The rate the sends must reach: 95% of the bot's rate, or of Telegram's paid limit."""
    return TARGET_RATE_SHARE * (PAID_LIMIT if PAID else rate)


# --------------------------------------------------------------------------- people


@dataclass
class Cast:
    """Who is who, by Telegram id."""

    recipients: list[int]  # a delivery is written for each (opted in, unblocked at the start)
    fake_blocked: set[int]  # recipients the fake answers 403 (they blocked the bot)
    opted_out_after: set[int]  # recipients who stop announcements right after the start
    blocked_after: set[int]  # recipients marked blocked in the database right after the start
    opted_out_before: list[int]  # never recipients
    blocked_before: list[int]  # never recipients

    @property
    def deliverable(self) -> set[int]:
        return set(self.recipients) - self.fake_blocked - self.opted_out_after - self.blocked_after

    @property
    def never(self) -> set[int]:
        """Nobody may send these anything."""
        return (
            set(self.opted_out_before)
            | set(self.blocked_before)
            | self.opted_out_after
            | self.blocked_after
        )


def cast_of(n: int, seed: int = 7) -> Cast:
    rng = random.Random(seed)
    recipients = [FIRST_UID + i for i in range(n)]
    fake_blocked = set(rng.sample(recipients, max(1, n // 100)))
    late = [u for u in recipients[int(n * 0.6) :] if u not in fake_blocked]  # claimed late
    changed = rng.sample(late, 2 * max(1, n // 200))
    half = len(changed) // 2
    extra = max(1, n // 50)
    return Cast(
        recipients=recipients,
        fake_blocked=fake_blocked,
        opted_out_after=set(changed[:half]),
        blocked_after=set(changed[half:]),
        opted_out_before=[FIRST_UID + n + i for i in range(extra)],
        blocked_before=[FIRST_UID + n + extra + i for i in range(extra)],
    )


async def insert_people(url: str, cast: Cast, now: datetime) -> int:
    """Everyone with Core bulk inserts; the author's person id."""
    provinces = ("35", "51", "94", "31")  # WIB, WITA, WIT, WIB

    def row(uid: int, i: int, **values: Any) -> dict[str, Any]:
        province = provinces[i % 4]
        return {
            "telegram_id": uid,
            "name": f"Orang {i}",
            "locale": "id" if i % 4 else "en",
            "province_code": province,
            "regency_code": f"{province}.01",
            "role": "returnee",
            "nudges": True,
            "announcements": True,
            "blocked_at": None,
            "onboarded_at": now,
            "created_at": now,
            "updated_at": now,
            **values,
        }

    rows = [row(uid, i) for i, uid in enumerate(cast.recipients)]
    rows += [row(uid, i, announcements=False) for i, uid in enumerate(cast.opted_out_before)]
    rows += [row(uid, i, blocked_at=now) for i, uid in enumerate(cast.blocked_before)]
    engine = create_engine(url)
    try:
        for i in range(0, len(rows), 5000):
            async with engine.begin() as conn:
                await conn.execute(insert(Person.__table__), rows[i : i + 5000])
        async with engine.begin() as conn:
            author = row(AUTHOR_UID, 0, role="coordinator", announcements=False, locale="en")
            result = await conn.execute(insert(Person.__table__).returning(Person.id), [author])
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def progress_message(fake: FakeBotAPI) -> int:
    """The coordinator's status message, as the compose handler leaves it: its message id."""
    bot = Bot(token=TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    try:
        sent = await bot.send_message(AUTHOR_UID, "📣 Announcement: starting")
        return sent.message_id
    finally:
        await bot.session.close()


async def start_broadcast(url: str, cast: Cast, author_id: int, message_id: int) -> int:
    """A draft to everyone, started (its deliveries written, status `sending`), its progress
    message set; then, in the same transaction, some recipients stop announcements and some
    are marked blocked (their deliveries exist and must be skipped)."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    people = Person.__table__
    try:
        async with sessionmaker() as session, session.begin():
            bid = await store.create_draft(
                session, author_id=author_id, text=TEXT, segment={"kind": "all"}
            )
            count = await store.start(session, bid, now=datetime.now(UTC), cap_per_week=None)
            assert count == len(cast.recipients), f"{count} recipients, {len(cast.recipients)}"
            await store.set_progress_message(
                session, bid, chat_id=AUTHOR_UID, message_id=message_id
            )
            conn = await session.connection()
            await conn.execute(
                update(people)
                .where(people.c.telegram_id.in_(sorted(cast.opted_out_after)))
                .values(announcements=False)
            )
            await conn.execute(
                update(people)
                .where(people.c.telegram_id.in_(sorted(cast.blocked_after)))
                .values(blocked_at=datetime.now(UTC))
            )
            return bid
    finally:
        await engine.dispose()


async def broadcast_state(engine: AsyncEngine, bid: int) -> tuple[str, str | None]:
    async with engine.connect() as conn:
        query = select(Broadcast.status, Broadcast.stage).where(Broadcast.id == bid)
        row = (await conn.execute(query)).one()
        return str(row[0]), row[1]


async def database_outcome(url: str, bid: int) -> dict[str, Any]:
    """The broadcast row, the deliveries by status, and each delivery's chat, status, error;
    who is marked blocked."""
    engine = create_engine(url)
    d, p = Delivery.__table__, Person.__table__
    try:
        async with engine.connect() as conn:
            b = (
                await conn.execute(
                    select(Broadcast.status, Broadcast.stage, Broadcast.recipients).where(
                        Broadcast.id == bid
                    )
                )
            ).one()
            by_status = {
                s: int(n)
                for s, n in await conn.execute(
                    select(d.c.status, func.count())
                    .where(d.c.broadcast_id == bid)
                    .group_by(d.c.status)
                )
            }
            rows = [
                (int(chat), status, error)
                for chat, status, error in await conn.execute(
                    select(d.c.chat_id, d.c.status, d.c.error).where(d.c.broadcast_id == bid)
                )
            ]
            blocked = {
                int(u)
                for (u,) in await conn.execute(
                    select(p.c.telegram_id).where(p.c.blocked_at.is_not(None))
                )
            }
        return {
            "status": str(b[0]),
            "stage": b[1],
            "recipients": int(b[2]),
            "by_status": by_status,
            "rows": rows,
            "blocked": blocked,
        }
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------- the bot process


def read_log(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def rss_of(pid: int) -> tuple[int, int] | None:
    """VmRSS and VmHWM of a process, bytes (None once it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    out = {"VmRSS": 0, "VmHWM": 0}
    for line in lines:
        key, _, value = line.partition(":")
        if key in out:
            out[key] = int(value.split()[0]) * 1024
    return out["VmRSS"], out["VmHWM"]


CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float | None:
    """User + system CPU seconds a process has used (``/proc/<pid>/stat``), None once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK  # utime, stime


BARE_REQUESTS = 3000  # round trips the bare baseline makes (after 300 to warm up)


async def bare_round_trips(requests: int = BARE_REQUESTS, concurrency: int = 50) -> float:
    """CPU ms this process spends on one bare aiohttp round trip to itself (client and
    server both here: a form POST, a small JSON answer): the unit the bot's and the fake's
    CPU per send are compared with, so the ratio means the same on any machine."""
    body = {"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": 1}}}

    async def answer(request: web.Request) -> web.Response:
        await request.post()
        return web.json_response(body)

    app = web.Application()
    app.router.add_post("/x", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/x"
    form = {"chat_id": "7000000001", "text": TEXT, "parse_mode": "HTML"}
    try:
        async with aiohttp.ClientSession() as client:

            async def run(n: int) -> None:
                left = iter(range(n))

                async def worker() -> None:
                    for _ in left:
                        async with client.post(url, data=form) as resp:
                            await resp.text()

                await asyncio.gather(*(worker() for _ in range(concurrency)))

            await run(300)
            t0 = time.process_time()
            await run(requests)
            return (time.process_time() - t0) * 1000 / requests
    finally:
        await runner.cleanup()


async def start_bot(
    fake: FakeBotAPI, url: str, rate: float, log_path: Path
) -> asyncio.subprocess.Process:
    """`python -m bot run` against the fake (as tests/support/process.py does, its output to a
    file); returns once it has started: its last start-up call (the default command menu) or
    a long poll answered. (The fake records a getUpdates when it returns, after the long poll's
    10 s, so waiting for one would wait 10 s for nothing.)"""
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": url,
        "BROADCAST_POLL_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }
    if PAID:
        env.update(PAID_BROADCAST="true", PAID_BROADCAST_RATE=str(rate))
    else:
        env["DELIVERY_RATE"] = str(rate)
    since = len(fake.calls)
    with log_path.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=ROOT, stdout=out, stderr=out
        )  # fmt: skip
    ready = asyncio.create_task(
        fake.wait_for(
            lambda c: (
                c.method == "getUpdates" or (c.method == "setMyCommands" and "scope" in c.params)
            ),
            timeout=60,
            since=since,
        )
    )
    died = asyncio.create_task(proc.wait())
    await asyncio.wait({ready, died}, return_when=asyncio.FIRST_COMPLETED)
    if died.done():
        ready.cancel()
        raise RuntimeError(f"the bot exited early:\n{read_log(log_path)[-3000:]}")
    died.cancel()
    await ready
    return proc


async def stop_bot(proc: asyncio.subprocess.Process) -> None:
    """As an operator would (SIGINT); SIGKILL if it does not stop within 20 s."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(proc.wait(), timeout=20)
    except TimeoutError:
        proc.kill()
        await proc.wait()


@dataclass
class Watch:
    """What the harness follows while the bot sends: RSS samples and the fake's sends."""

    fake: FakeBotAPI
    cast: Cast
    seen: int = 0  # calls of the fake looked at
    ok: int = 0  # successful sends to recipients so far
    tried: int = 0  # sends to recipients so far, whatever the answer (403, 429 too)
    samples: list[dict[str, float]] = field(default_factory=list)
    cpu: list[dict[str, Any]] = field(default_factory=list)  # see `cpu_sample`

    def scan(self) -> None:
        calls = self.fake.calls
        for call in calls[self.seen :]:
            if call.method == "sendMessage" and int(call.params.get("chat_id", 0)) != AUTHOR_UID:
                self.tried += 1
                self.ok += call.error_code is None
        self.seen = len(calls)
        # The fake keeps every call: frozen, they are out of the collector's way. Else a full
        # collection over them (23 ms at 10,000 calls) stalls the fake, the requests that came
        # meanwhile are counted in a bunch, and at 980/s a stall over 20 ms is a 429.
        gc.freeze()

    def cpu_sample(self, pid: int, phase: str) -> None:
        """The bot's CPU seconds, this process's (the fake's: it runs here) and how many
        requests the fake had answered (sends, edits, polls), after a `scan`."""
        bot = cpu_of(pid)
        if bot is not None:
            self.cpu.append(
                {
                    "phase": phase,
                    "t": time.monotonic(),
                    "bot": bot,
                    "fake": time.process_time(),
                    "requests": len(self.fake.calls),
                    "tried": self.tried,
                }
            )

    def sample(self, pid: int, phase: str, t0: float) -> None:
        got = rss_of(pid)
        if got is not None:
            self.samples.append(
                {"t": time.monotonic() - t0, "phase": phase, "rss": got[0], "hwm": got[1]}
            )


async def run_backend(url: str, tmp: Path, db: str, n: int, rate: float) -> dict[str, Any]:
    cast = cast_of(n)
    now = datetime.now(UTC)
    t_load = time.perf_counter()
    author_id = await insert_people(url, cast, now)
    load_seconds = time.perf_counter() - t_load
    problems: list[str] = []
    notes: list[str] = []
    log_path = tmp / f"bot-{db}.log"
    log_path.unlink(missing_ok=True)

    bare_before = await bare_round_trips()
    async with FakeBotAPI(latency=LATENCY) as fake:
        fake.rate_limit(TELEGRAM_LIMIT)
        for uid in cast.fake_blocked:
            fake.block(uid)
        watch = Watch(fake, cast)
        t0 = time.monotonic()
        deadline = t0 + 2 * n / rate + 240

        # 1. the first bot, idle, then the broadcast started under it
        proc = await start_bot(fake, url, rate, log_path)
        first_pid = proc.pid
        t_idle = time.monotonic()
        while time.monotonic() - t_idle < IDLE_SECONDS:
            watch.sample(proc.pid, "idle", t0)
            await asyncio.sleep(SAMPLE_EVERY)
        message_id = await progress_message(fake)
        bid = await start_broadcast(url, cast, author_id, message_id)
        t_started = time.monotonic()
        kill_at = len(cast.deliverable) // 2
        killed_at: float | None = None
        while time.monotonic() < deadline:
            watch.sample(proc.pid, "first", t0)
            watch.scan()
            watch.cpu_sample(proc.pid, "first")
            if proc.returncode is not None:
                problems.append(f"the first bot exited by itself (code {proc.returncode})")
                break
            if watch.ok >= kill_at:
                proc.send_signal(signal.SIGKILL)
                killed_at = time.monotonic()
                await proc.wait()
                break
            await asyncio.sleep(SAMPLE_EVERY)
        else:
            problems.append(f"{watch.ok} sent before the time ran out; never killed")
        sent_at_kill = watch.ok

        # 2. a new bot finishes the broadcast
        restarted_at = time.monotonic()
        proc = await start_bot(fake, url, rate, log_path)
        ready_at = time.monotonic()
        state: tuple[str, str | None] = ("?", "?")
        finished = False
        last_check = 0.0
        reader = create_engine(url)
        while time.monotonic() < deadline:
            watch.sample(proc.pid, "second", t0)
            watch.scan()
            watch.cpu_sample(proc.pid, "second")
            if proc.returncode is not None:
                problems.append(f"the second bot exited by itself (code {proc.returncode})")
                break
            if time.monotonic() - last_check >= 2.0:
                last_check = time.monotonic()
                state = await broadcast_state(reader, bid)
                if state == ("done", None):  # finished and its report sent
                    finished = True
                    break
            await asyncio.sleep(SAMPLE_EVERY)
        if not finished:
            problems.append(f"the broadcast did not finish in time (status, stage = {state})")
        done_at = time.monotonic()
        await reader.dispose()
        await stop_bot(proc)
        calls = list(fake.calls)

    bare = [bare_before, await bare_round_trips()]
    outcome = await database_outcome(url, bid)
    bot_log = read_log(log_path)
    errors = [line for line in bot_log.splitlines() if " ERROR " in line or "Traceback" in line]
    if errors:
        notes.append(f"{len(errors)} ERROR/Traceback lines in the bot's log: {errors[:3]}")

    # --- what the fake received
    ok_by_chat: Counter[int] = Counter()
    tried: Counter[int] = Counter()
    ok_times: list[float] = []
    rate_calls: list[float] = []  # every request that counts against Telegram's limit
    too_many = Counter[str]()
    too_many_at: list[dict[str, Any]] = []
    forbidden = 0
    edits = edits_refused = reports = documents = 0
    for call in calls:
        chat = int(call.params.get("chat_id", 0) or 0)
        if call.at < t_started:
            continue  # the harness's own progress message
        if call.method.lower().startswith(("send", "edit")) and call.error_code != 429:
            rate_calls.append(call.at)
        if call.error_code == 429:
            too_many[call.method] += 1
            # When, and how the requests of the second before it were spaced (a burst: ~0 ms).
            last = rate_calls[-30:]
            too_many_at.append(
                {
                    "t": call.at - t_started,
                    "gaps_before_ms": [
                        round((b - a) * 1000, 1)
                        for a, b in zip(last, [*last[1:], call.at], strict=True)
                    ],
                }
            )
        if call.method == "editMessageText":
            edits += 1
            edits_refused += call.error_code is not None and call.error_code != 429
        elif chat == AUTHOR_UID:
            reports += call.method == "sendMessage" and call.error_code is None
            documents += call.method == "sendDocument" and call.error_code is None
        elif call.method in ("sendMessage", "sendPhoto", "sendDocument"):
            tried[chat] += 1
            if call.error_code is None:
                ok_by_chat[chat] += 1
                ok_times.append(call.at)
            elif call.error_code == 403:
                forbidden += 1

    def segment(lo: float, hi: float) -> dict[str, Any]:
        times = sorted(t for t in ok_times if lo <= t < hi)
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        within = sorted(t for t in rate_calls if times and times[0] <= t <= times[-1])
        # Where the rate went unused: the gaps between requests longer than the limiter's
        # interval (1/rate), as the fake saw them; "long" ones are over twice the interval.
        interval = 1.0 / rate
        gaps = [b - a for a, b in zip(within, within[1:], strict=False)]
        idle = [g - interval for g in gaps if g > interval * 1.5]
        long = [g for g in gaps if g > interval * 2]
        return {
            "sent": len(times),
            "seconds": span,
            "rate": (len(times) - 1) / span if span > 0 else float("nan"),
            "requests_per_s": (len(within) - 1) / span if span > 0 else float("nan"),
            "share_of_configured": ((len(times) - 1) / span / rate) if span > 0 else float("nan"),
            "unused_seconds": sum(idle),
            "long_gaps": len(long),
            "long_gap_ms_median": statistics.median(long) * 1000 if long else 0.0,
            "long_gap_ms_max": max(long) * 1000 if long else 0.0,
            # Where sending stood still over 20 ms: (seconds since the start, ms), at most 50.
            "stalls": [
                (round(a - t_started, 3), round((b - a) * 1000, 1))
                for a, b in zip(within, within[1:], strict=False)
                if b - a > 0.02
            ][:50],
        }

    kill_t = killed_at if killed_at is not None else restarted_at
    before = segment(t_started, kill_t)
    after = segment(restarted_at, done_at + 1)
    first_after = min((t for t in ok_times if t >= restarted_at), default=float("nan"))

    # --- correctness
    deliverable, never = cast.deliverable, cast.never
    lost = sorted(u for u in deliverable if ok_by_chat[u] == 0)
    wrongly = sorted(u for u in never if tried[u])
    duplicates = sum(max(0, k - 1) for k in ok_by_chat.values())
    duplicate_chats = sum(1 for k in ok_by_chat.values() if k > 1)
    strangers = sorted(set(tried) - set(cast.recipients))
    status_of = {chat: (status, error) for chat, status, error in outcome["rows"]}
    expected: dict[int, tuple[str, str | None]] = {}
    for u in cast.recipients:
        if u in cast.fake_blocked:
            expected[u] = ("blocked", "blocked")
        elif u in cast.opted_out_after:
            expected[u] = ("skipped", store.OPTED_OUT)
        elif u in cast.blocked_after:
            expected[u] = ("skipped", store.WAS_BLOCKED)
        else:
            expected[u] = ("sent", None)
    wrong_rows = sorted(u for u, want in expected.items() if status_of.get(u) != want)
    phantom = sorted(
        u for u, (status, _) in status_of.items() if status == "sent" and ok_by_chat[u] == 0
    )
    not_marked_blocked = sorted(u for u in cast.fake_blocked if u not in outcome["blocked"])
    open_rows = outcome["by_status"].get("pending", 0) + outcome["by_status"].get("sending", 0)
    if lost:
        problems.append(f"{len(lost)} opted-in, unblocked people never got it, e.g. {lost[:5]}")
    if wrongly:
        problems.append(
            f"{len(wrongly)} people who opted out or are blocked in the database were sent to, "
            f"e.g. {wrongly[:5]}"
        )
    if strangers:
        problems.append(f"{len(strangers)} sends to people who are no recipients: {strangers[:5]}")
    if len(outcome["rows"]) != len(cast.recipients) or set(status_of) != set(cast.recipients):
        problems.append(f"{len(outcome['rows'])} deliveries for {len(cast.recipients)} recipients")
    if wrong_rows:
        shown = [(u, status_of.get(u), expected[u]) for u in wrong_rows[:5]]
        problems.append(f"{len(wrong_rows)} deliveries end wrong (chat, got, want): {shown}")
    if phantom:
        problems.append(
            f"{len(phantom)} deliveries `sent` that the Bot API never got: {phantom[:5]}"
        )
    if not_marked_blocked:
        problems.append(f"{len(not_marked_blocked)} who answered 403 not marked blocked")
    if open_rows:
        problems.append(f"{open_rows} deliveries still pending or sending")
    if (outcome["status"], outcome["stage"]) != ("done", None):
        problems.append(f"broadcast ends {outcome['status']} / stage {outcome['stage']}")
    if reports != 1:
        problems.append(f"{reports} reports sent to the coordinator (want 1)")

    # --- memory
    def mb(xs: list[float]) -> float:
        return max(xs) / MB if xs else float("nan")

    idle_rss = [s["rss"] for s in watch.samples if s["phase"] == "idle"]
    idle = statistics.median(idle_rss) / MB if idle_rss else float("nan")
    first = [s["rss"] for s in watch.samples if s["phase"] == "first"]
    second = [s["rss"] for s in watch.samples if s["phase"] == "second"]
    memory = {
        "idle_mb": idle,
        "idle_samples_mb": [x / MB for x in idle_rss],
        "peak_first_mb": mb(first),
        "peak_second_mb": mb(second),
        "peak_first_above_idle_mb": mb(first) - idle,
        "peak_second_above_idle_mb": mb(second) - idle,
        "hwm_first_mb": mb([s["hwm"] for s in watch.samples if s["phase"] == "first"]),
        "hwm_second_mb": mb([s["hwm"] for s in watch.samples if s["phase"] == "second"]),
        "end_second_mb": second[-1] / MB if second else float("nan"),
        # The new bot has no idle phase (it sends at once): its RSS when it had started.
        "start_second_mb": second[0] / MB if second else float("nan"),
        "peak_second_above_own_start_mb": mb(second) - (second[0] / MB if second else 0.0),
    }
    if abs(memory["start_second_mb"] - idle) > 5:
        notes.append(
            f"the new bot started at {memory['start_second_mb']:.1f} MB against "
            f"{idle:.1f} MB for the first: did the code change between the two starts?"
        )
    warnings = Counter(
        re.sub(r"\d+(\.\d+)?", "N", line.split(" WARNING ", 1)[1])[:160]
        for line in bot_log.splitlines()
        if " WARNING " in line
    )
    return {
        "cpu": cpu_figures(watch.cpu, bare, rate),
        "recipients": len(cast.recipients),
        "deliverable": len(deliverable),
        "fake_blocked": len(cast.fake_blocked),
        "opted_out_after_start": len(cast.opted_out_after),
        "blocked_after_start": len(cast.blocked_after),
        "opted_out_before": len(cast.opted_out_before),
        "blocked_before": len(cast.blocked_before),
        "load_seconds": load_seconds,
        "first_pid": first_pid,
        "sent_at_kill": sent_at_kill,
        "rate": {"configured": rate, "before_kill": before, "after_restart": after},
        "overall_seconds": (max(ok_times) - min(ok_times)) if ok_times else float("nan"),
        "long_gaps": before["long_gaps"] + after["long_gaps"],
        "long_gap_ms_max": max(before["long_gap_ms_max"], after["long_gap_ms_max"]),
        "restart_gap_s": first_after - kill_t,
        "restart_to_ready_s": ready_at - restarted_at,
        "too_many_requests": dict(too_many),
        "too_many_requests_at": too_many_at,
        "forbidden_403": forbidden,
        "progress_edits": edits,
        "progress_edits_refused": edits_refused,
        "reports": reports,
        "failure_files": documents,
        "lost": len(lost),
        "sent_to_opted_out_or_blocked": len(wrongly),
        "tried_fake_blocked": sum(tried[u] for u in cast.fake_blocked),
        "duplicates": duplicates,
        "duplicate_chats": duplicate_chats,
        "max_sends_to_one_chat": max(ok_by_chat.values(), default=0),
        "deliveries_wrong": len(wrong_rows),
        "deliveries_open": open_rows,
        "sent_rows_never_sent": len(phantom),
        "database": {k: v for k, v in outcome.items() if k not in ("rows", "blocked")},
        "memory": memory,
        "bot_log_warnings": sum(warnings.values()),
        "bot_log_warning_kinds": dict(warnings.most_common(10)),
        "bot_log_errors": errors[:20],
        "rss_samples": watch.samples,
        "problems": problems,
        "notes": notes,
    }


def cpu_figures(samples: list[dict[str, Any]], bare: list[float], rate: float) -> dict[str, Any]:
    """CPU per send of the bot and of the fake, whatever else the machine runs: over each
    phase's sending stretch (from the first sample after sends began to the last at which they
    still went), CPU seconds used / sends made (to recipients, any answer). Milliseconds per
    send are also seconds per 1,000 sends. The projection: sends/s each side could make on a
    core of its own (1000 / its ms a send), the lower of the two, at most the bot's rate."""
    unit = statistics.mean(bare)
    out: dict[str, Any] = {"bare_ms_per_round_trip": unit, "bare_samples_ms": bare}
    for phase in ("first", "second"):
        xs = [c for c in samples if c["phase"] == phase]
        moved = [i for i in range(1, len(xs)) if xs[i]["tried"] > xs[i - 1]["tried"]]
        if len(moved) < 2:
            out[phase] = None
            continue
        a, b = xs[moved[0]], xs[moved[-1]]
        sends, wall = b["tried"] - a["tried"], b["t"] - a["t"]
        bot_ms = (b["bot"] - a["bot"]) * 1000 / sends
        fake_ms = (b["fake"] - a["fake"]) * 1000 / sends
        bot_rate = 1000 / bot_ms if bot_ms > 0 else math.inf
        fake_rate = 1000 / fake_ms if fake_ms > 0 else math.inf
        out[phase] = {
            "sends": sends,
            "seconds": wall,
            "sends_per_s": sends / wall if wall > 0 else math.nan,
            "other_requests": b["requests"] - a["requests"] - sends,
            "bot_ms_per_send": bot_ms,
            "fake_ms_per_send": fake_ms,
            "bot_in_bare_round_trips": bot_ms / unit,
            "fake_in_bare_round_trips": fake_ms / unit,
            "bot_cores": (b["bot"] - a["bot"]) / wall if wall > 0 else math.nan,
            "fake_cores": (b["fake"] - a["fake"]) / wall if wall > 0 else math.nan,
            "projected_bot_per_s": bot_rate,
            "projected_fake_per_s": fake_rate,
            "projected_per_s": min(bot_rate, fake_rate, rate),
        }
    return out


# --------------------------------------------------------------------------- databases


def fresh_sqlite(tmp: Path) -> str:
    path = tmp / "bench_bc.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


# --------------------------------------------------------------------------- report


def print_report(meta: dict[str, Any], backends: dict[str, Any]) -> None:
    names = list(backends)
    rate = meta["delivery_rate"]
    line, row = base.print_header(
        meta,
        "Pulang Juragan: one broadcast, a SIGKILL mid-run",
        f"{meta['recipients']:,} recipients, Bot API {TELEGRAM_LIMIT:.0f}/s with 429s, "
        f"{LATENCY * 1000:.0f} ms a send, "
        + (
            f"paid {PAID_LIMIT:.0f}/s, PAID_BROADCAST_RATE {rate:g}/s"
            if PAID
            else f"DELIVERY_RATE {rate:g}/s"
        ),
        names,
        48,
        26,
    )
    bs = [backends[n] for n in names]
    want = target_rate(rate)
    limit = PAID_LIMIT if PAID else rate

    def rate_cell(seg: dict[str, Any]) -> str:
        return (
            f"{seg['rate']:.2f} ({seg['share_of_configured']:.1%} {base.mark(seg['rate'] >= want)})"
        )

    row("recipients / opted in and unblocked by the end",
        [f"{b['recipients']:,} / {b['deliverable']:,}" for b in bs])  # fmt: skip
    row("1. sent/s before the kill", [rate_cell(b["rate"]["before_kill"]) for b in bs],
        f"≥ {want:.2f}/s (95% of {limit:g})")  # fmt: skip
    row("1. sent/s after the restart", [rate_cell(b["rate"]["after_restart"]) for b in bs],
        f"≥ {want:.2f}/s")  # fmt: skip
    row("1.   requests/s before / after (sends, edits)",
        [f"{b['rate']['before_kill']['requests_per_s']:.2f} / "
         f"{b['rate']['after_restart']['requests_per_s']:.2f}" for b in bs],
        f"≤ {PAID_LIMIT if PAID else TELEGRAM_LIMIT:.0f}/s")  # fmt: skip
    row("1.   rate unused before / after (s)",
        [f"{b['rate']['before_kill']['unused_seconds']:.1f} / "
         f"{b['rate']['after_restart']['unused_seconds']:.1f}" for b in bs])  # fmt: skip
    row("1.   gaps over 2/rate: count, longest (ms)",
        [f"{b['long_gaps']}, {b['long_gap_ms_max']:.0f}" for b in bs])  # fmt: skip
    row("1.   429s received", [str(sum(b["too_many_requests"].values())) for b in bs])
    row("1.   kill -> first send of the new bot (s)", [f"{b['restart_gap_s']:.1f}" for b in bs])
    row("1.   first to last send, all (s)", [f"{b['overall_seconds']:.0f}" for b in bs])
    row("1. bare aiohttp round trip, both ends (CPU ms)",
        [f"{b['cpu']['bare_ms_per_round_trip']:.3f}" for b in bs], "the unit")  # fmt: skip
    for key, label in (("first", "before the kill"), ("second", "after the restart")):
        cells = [b["cpu"][key] for b in bs]
        row(f"1. CPU ms/send bot / fake, {label}",
            [f"{c['bot_ms_per_send']:.3f} / {c['fake_ms_per_send']:.3f}" if c else "-"
             for c in cells], f"≤ {1000 / want:.2f} each")  # fmt: skip
        row("1.   the same in bare round trips",
            [f"{c['bot_in_bare_round_trips']:.1f} / {c['fake_in_bare_round_trips']:.1f}"
             if c else "-" for c in cells])  # fmt: skip
        row("1.   cores used bot / fake meanwhile",
            [f"{c['bot_cores']:.2f} / {c['fake_cores']:.2f}" if c else "-"
             for c in cells])  # fmt: skip
        row("1.   projected sends/s, a free core each",
            [f"{c['projected_per_s']:.0f} (bot {c['projected_bot_per_s']:.0f}, fake "
             f"{c['projected_fake_per_s']:.0f}) {base.mark(c['projected_per_s'] >= want)}"
             if c else "-" for c in cells], f"≥ {want:.0f}/s")  # fmt: skip
    row("2. lost (opted in, unblocked, got nothing)",
        [f"{b['lost']} ({base.mark(b['lost'] == 0)})" for b in bs], "0")  # fmt: skip
    row("2. sends to opted out / blocked in DB",
        [f"{b['sent_to_opted_out_or_blocked']} "
         f"({base.mark(b['sent_to_opted_out_or_blocked'] == 0)})" for b in bs],
        "0")  # fmt: skip
    row("2.   sends to who blocked the bot (403s)",
        [f"{b['tried_fake_blocked']} for {b['fake_blocked']}" for b in bs])  # fmt: skip
    row("2. deliveries wrong / not final (DB)",
        [f"{b['deliveries_wrong']} / {b['deliveries_open']}" for b in bs], "0 / 0")  # fmt: skip
    row("2. broadcast status, report sent",
        [f"{b['database']['status']}, {b['reports']}" for b in bs], "done, 1")  # fmt: skip
    row("3. duplicates after the SIGKILL (chats)",
        [f"{b['duplicates']} ({b['duplicate_chats']})" for b in bs],
        "as few as were in flight")  # fmt: skip
    row("4. RSS idle bot (MB)", [f"{b['memory']['idle_mb']:.1f}" for b in bs])
    for key, label in (("first", "first bot"), ("second", "after restart")):
        row(f"4. peak RSS sending, {label} (MB above idle)",
            [f"{b['memory'][f'peak_{key}_above_idle_mb']:+.1f} "
             f"({base.mark(b['memory'][f'peak_{key}_above_idle_mb'] <= TARGET_RSS_MB)})"
             for b in bs], f"≤ {TARGET_RSS_MB:.0f} MB")  # fmt: skip
    row("4.   after restart, above its own start (MB)",
        [f"{b['memory']['peak_second_above_own_start_mb']:+.1f}" for b in bs])  # fmt: skip
    print(line)
    for n, b in zip(names, bs, strict=True):
        print(f"{n}: deliveries {b['database']['by_status']}; progress edits "
              f"{b['progress_edits']} ({b['progress_edits_refused']} refused); "
              f"bot log warnings {b['bot_log_warnings']}")  # fmt: skip
        for kind, count in b["bot_log_warning_kinds"].items():
            print(f"{n}: bot log: {count} x {kind}")
        for note in b["notes"]:
            print(f"{n}: note: {note}")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--recipients", type=int, default=10_000, help="people it reaches (default 10,000)"
    )
    p.add_argument(
        "--db",
        choices=["sqlite", "postgresql", "both"],
        default=None,
        help="default: sqlite, plus postgresql when --pg-url or JURAGAN_TEST_DATABASE_URL is set",
    )
    p.add_argument(
        "--pg-url",
        default=None,
        help="a PostgreSQL server URL; the run uses database --pg-db on that server "
        f"(default: $JURAGAN_TEST_DATABASE_URL or {DEFAULT_PG})",
    )
    p.add_argument(
        "--pg-db",
        default=BENCH_DB,
        help=f"the PostgreSQL database the run empties and uses (default '{BENCH_DB}')",
    )
    p.add_argument("--out", type=Path, default=None, help=f"JSON output (default {RESULTS})")
    p.add_argument(
        "--paid", action="store_true", help="PAID_BROADCAST=true: the paid limit, 1000/s"
    )
    args = p.parse_args(argv)
    if args.out is None:
        args.out = RESULTS.with_name("broadcast-paid.json") if args.paid else RESULTS
    if args.recipients < 200:
        p.error("--recipients must be at least 200")
    return args


def main(argv: list[str] | None = None) -> int:
    global PAID
    args = parse_args(argv)
    PAID = args.paid
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("aiogram", "sqlalchemy", "alembic", "bot", "storage", "flows", "aiohttp"):
        logging.getLogger(name).setLevel(logging.WARNING)

    pg_given = args.pg_url or os.environ.get("JURAGAN_TEST_DATABASE_URL")
    if args.db is None:
        dbs = ["sqlite"] + (["postgresql"] if pg_given else [])
    elif args.db == "both":
        dbs = ["sqlite", "postgresql"]
    else:
        dbs = [args.db]
    pg_url = pg_given or DEFAULT_PG
    rate = configured_rate()

    meta = base.machine()
    meta.update(
        recipients=args.recipients,
        delivery_rate=rate,
        paid=PAID,
        paid_limit=PAID_LIMIT if PAID else None,
        telegram_limit=TELEGRAM_LIMIT,
        latency_s=LATENCY,
        idle_seconds=IDLE_SECONDS,
        sample_every_s=SAMPLE_EVERY,
    )
    print(
        f"bench: a broadcast to {args.recipients:,} at {rate:g}/s on {', '.join(dbs)} "
        f"(about {args.recipients / rate / 60:.0f} min each); {meta['nproc']} CPU {meta['cpu']}; "
        f"Python {meta['python']}; {meta['date']}"
    )
    t_all = time.perf_counter()
    backends: dict[str, Any] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="juragan-bench-bc-") as tmp_name:
        tmp = Path(tmp_name)
        for db in dbs:
            if db == "sqlite":
                url = fresh_sqlite(tmp)
                shown = "sqlite (temp file, WAL)"
            else:
                url = base.fresh_postgresql(pg_url, args.pg_db)
                shown = make_url(url).render_as_string(hide_password=True)
            print(f"{db}: {shown}", flush=True)
            t0 = time.perf_counter()
            result = run_fast(run_backend(url, tmp, db, args.recipients, rate))
            result["seconds"] = time.perf_counter() - t0
            result["database_url"] = shown
            backends[db] = result
            problems += [f"[{db}] {p}" for p in result["problems"]]

    meta["total_seconds"] = time.perf_counter() - t_all
    print_report(meta, backends)
    want = target_rate(rate)
    verdict = {
        db: {
            "rate_before_kill": base.mark(b["rate"]["before_kill"]["rate"] >= want),
            "rate_after_restart": base.mark(b["rate"]["after_restart"]["rate"] >= want),
            "rss": base.mark(
                max(
                    b["memory"]["peak_first_above_idle_mb"],
                    b["memory"]["peak_second_above_idle_mb"],
                )
                <= TARGET_RSS_MB
            ),
        }
        for db, b in backends.items()
    }
    return base.write_report(
        args.out,
        meta,
        {
            "rate_share_of_configured": TARGET_RATE_SHARE,
            "rss_above_idle_mb": TARGET_RSS_MB,
            "lost": 0,
            "sent_to_opted_out_or_blocked": 0,
        },
        backends,
        verdict,
        problems,
    )


if __name__ == "__main__":
    sys.exit(main())
