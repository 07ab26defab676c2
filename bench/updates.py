"""Update throughput and latency benchmark: a report, never a timed test.

    python bench/updates.py [--people 1000] [--db sqlite|postgresql|both] [--pg-url URL]

Measures, in one run on one machine:

1. a bare aiogram echo bot (one ``@router.message()`` handler) fed text updates through the
   same in-process Bot API (``BenchSession``, on ``bot.offline.OfflineSession``): the ceiling
   aiogram itself allows here;
2. onboarding answers per second through the full stack (``build_app``: every middleware,
   a real migrated database, the same in-process Bot API): N people each walk the onboarding,
   fed concurrently like a polling bot with ``handle_as_tasks=True`` (at most
   ``--concurrency`` updates in flight, each person's updates strictly in order);
3. latency at a steady open-loop 200 answers/s spread over 1,000 people;
4. the KUR readiness journey: the N people onboarded in 2 press the main menu's KUR button and
   answer the whole readiness check (a loan and a submission written at the end), fed like 2;
   answers/s against 2's, and the per-update latency.

Prints a table and writes ``bench/results/updates.json``. Exit code 0 whatever the figures
(it is a report); 2 when a correctness check fails (work was lost or an update errored);
a traceback (exit 1) when the bot answers off script (no button to press where one is due).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher, Router  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod  # noqa: E402
from aiogram.types import InlineKeyboardMarkup, Message, Update  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import bot.app as app_module  # noqa: E402
from bot.app import OFFLINE_TOKEN, App, build_app, run_fast, settle  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.keyboards import ConsentCB, FlowCB, MenuCB  # noqa: E402
from bot.offline import BOT_USER, OfflineSession  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    FlowRun,
    Loan,
    Person,
    ProcessedUpdate,
    RunStatus,
    Submission,
    SubmissionKind,
)

RESULTS = ROOT / "bench" / "results" / "updates.json"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BENCH_DB = "bench"  # never the `test` database the test suite truncates

TARGET_RATE = 1000.0  # answers/s through the full stack (set for SQLite)
TARGET_P99_MS = 50.0  # at a steady 200 answers/s
NAIVE_RATE = 480.0  # a naive aiogram + SQLAlchemy form, measured on the reference machine
TARGET_JOURNEY_RATIO = 0.8  # KUR journey answers/s at least 80% of onboarding answers/s

# (kind, payload) for the ten updates of one onboarding. Texts are sent as typed; presses
# carry the callback data of the button the bot just sent.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("text", "/start"),
    ("consent", ""),
    ("pick", "language:id"),
    ("text", "Siti Aminah"),
    ("text", "0812 3456 7890"),
    ("text", "Jawa Timur"),
    ("text", "Kota Surabaya"),
    ("pick", "country:TW"),
    ("pick", "years:5to10"),
    ("pick", "goal:kur"),
)
STEP_NAMES = (
    "/start",
    "consent",
    "language",
    "name",
    "phone",
    "province",
    "regency",
    "country",
    "years",
    "goal",
)
# The run's step after a person has had `done` updates handled (2..9); 10 means onboarded.
STEP_AFTER = {2: "language", 3: "name", 4: "phone", 5: "province", 6: "regency",
              7: "country", 8: "years", 9: "goal"}  # fmt: skip
ECHO_TEXTS = (
    "/start",
    "Setuju",
    "Bahasa Indonesia",
    "Siti Aminah",
    "0812 3456 7890",
    "Jawa Timur",
    "Kota Surabaya",
    "Taiwan",
    "5 sampai 10 tahun",
    "Pinjaman KUR",
)

# (kind, payload) for the KUR readiness journey of an onboarded person: the main menu's KUR
# button (an intro, then the readiness check's first question), then every step of the check
# with valid answers. The amount, Rp25 juta, is at most Rp50 juta: no NPWP step, and the
# scheme that fits is KUR Mikro (never had a KUR, so Super Mikro would fit up to its ceiling). The last press (confirm) runs the finisher, which writes a
# loan and a submission.
JOURNEY_FLOW = "kur_readiness"
JOURNEY: tuple[tuple[str, str], ...] = (
    ("menu", "kur"),
    ("pick", "status:running6"),
    ("text", "Jualan gorengan"),
    ("pick", "age:adult"),
    ("pick", "ektp:yes"),
    ("pick", "kk:yes"),
    ("pick", "permit:nib"),
    ("text", "25 juta"),
    ("pick", "had_kur:never"),
    ("pick", "credit:none"),
    ("pick", "slik:ok"),
    ("pick", "confirm:yes"),
)
JOURNEY_NAMES = (
    "menu: kur",
    "status",
    "business",
    "age",
    "ektp",
    "kk",
    "permit",
    "amount",
    "had_kur",
    "credit",
    "slik",
    "confirm",
)
JOURNEY_AMOUNT = 25_000_000
JOURNEY_SCHEME = "mikro"

BOT_DICT = BOT_USER.model_dump(exclude_none=True)
log = logging.getLogger("bench")


# --------------------------------------------------------------------------- helpers


class ErrorCounter(logging.Handler):
    """Counts ERROR records (a failed update is logged by the Transaction middleware)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


ERRORS = ErrorCounter()


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all processes, steal included), or nan."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return math.nan
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Meter:
    """Wall time, CPU time (this thread, and all threads: aiosqlite runs a worker thread)
    and garbage-collector pauses over one measured phase."""

    def __enter__(self) -> Meter:
        gc.collect()
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)
        self.wall = time.perf_counter()
        self.cpu_main = time.thread_time()
        self.cpu_all = time.process_time()
        self.busy = machine_busy_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu_main = time.thread_time() - self.cpu_main
        self.cpu_all = time.process_time() - self.cpu_all
        self.busy = machine_busy_seconds() - self.busy
        gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._gc_start)

    def report(self, updates: int) -> dict[str, Any]:
        per = max(1, updates)
        return {
            "cpu_main_ms_per_update": self.cpu_main * 1000 / per,
            "cpu_all_ms_per_update": self.cpu_all * 1000 / per,
            "cpu_utilisation": self.cpu_all / self.wall if self.wall else math.nan,
            # Cores' worth of CPU other processes (a database server, other jobs) used meanwhile.
            "other_processes_cores": max(0.0, self.busy - self.cpu_all) / self.wall
            if self.wall
            else math.nan,
            "gc": {
                f"gen{g}": {
                    "count": len(v),
                    "total_ms": sum(v) * 1000,
                    "max_ms": max(v, default=0.0) * 1000,
                }
                for g, v in self.pauses.items()
            },
        }


def pct(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    xs = sorted(s * 1000 for s in seconds)
    return {
        "count": len(xs),
        "p50": pct(xs, 0.50),
        "p95": pct(xs, 0.95),
        "p99": pct(xs, 0.99),
        "max": xs[-1] if xs else math.nan,
        "mean": sum(xs) / len(xs) if xs else math.nan,
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    versions = {}
    for dist in ("aiogram", "sqlalchemy", "aiosqlite", "asyncpg", "pydantic"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:
            versions[dist] = "?"
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except Exception:
        commit = ""
    try:
        porcelain = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.splitlines()
        dirty = sorted(line[3:] for line in porcelain if not line[3:].startswith("bench/"))
    except Exception:
        dirty = []
    return {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "loadavg_at_start": list(os.getloadavg()),
        "other_load_at_start_cores": _busy_now(),
        "uncommitted_outside_bench": dirty,
        "nproc": usable,
        "cpu": cpu,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": versions,
        "commit": commit,
    }


def _busy_now(seconds: float = 1.0) -> float:
    """Cores' worth of CPU the machine is using right now (sampled over `seconds`)."""
    before = machine_busy_seconds()
    time.sleep(seconds)
    return max(0.0, machine_busy_seconds() - before) / seconds


def ensure_catalogs() -> None:
    """Use compiled catalogs; if any .mo is missing or stale, compile into a temp dir
    (never into locales/) and point the app there."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    locales = app_module.LOCALES_DIR
    pos = list(locales.glob("*/LC_MESSAGES/messages.po"))
    stale = [
        p
        for p in pos
        if not p.with_suffix(".mo").exists()
        or p.with_suffix(".mo").stat().st_mtime < p.stat().st_mtime
    ]
    if not stale:
        return
    out = Path(tempfile.mkdtemp(prefix="juragan-bench-locales-"))
    for po in pos:
        target = out / po.parent.parent.name / "LC_MESSAGES" / "messages.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f)
        with target.open("wb") as f:
            write_mo(f, catalog)
    app_module.LOCALES_DIR = out
    print(f"(catalogs were stale: compiled into {out} for this run)")


# --------------------------------------------------------------------------- updates


_update_ids = itertools.count(1)


def _user(uid: int) -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": "Siti", "language_code": "id"}


def _chat(uid: int) -> dict[str, Any]:
    return {"id": uid, "type": "private", "first_name": "Siti"}


def raw_text(uid: int, message_id: int, text_: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": _chat(uid),
        "from": _user(uid),
        "text": text_,
    }
    if text_.startswith("/"):
        message["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(text_.split()[0])}
        ]
    return {"update_id": next(_update_ids), "message": message}


def raw_press(uid: int, data: str, message_id: int, shown_text: str | None) -> dict[str, Any]:
    """A button press on the bot's message `message_id` (text only: handlers read nothing else
    of it; Telegram would also send the keyboard, which aiogram would then parse too)."""
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": _chat(uid),
        "from": BOT_DICT,
    }
    if shown_text is not None:
        message["text"] = shown_text
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": _user(uid),
            "chat_instance": f"bench-{uid}",
            "data": data,
            "message": message,
        },
    }


class BenchSession(OfflineSession):
    """The in-process Bot API of `bot.offline`, with a fixed, small cost per call.

    Telegram's answer to a send or an edit is the message, which aiogram parses with
    pydantic; here it is validated the same way from the method's own fields (so the bot
    pays what it would pay for a real response, and no more). Unlike the test session it
    keeps nothing: recording every call and message for tens of thousands of updates makes
    the heap, and each full GC pass, grow with the run, a cost Telegram does not put on a
    real bot. Calls are counted; listeners still see every call and its result. Anything
    else is answered by `OfflineSession` itself.
    """

    MESSAGES = frozenset({"SendMessage", "SendPhoto", "SendDocument"})
    EDITS = frozenset({"EditMessageText", "EditMessageReplyMarkup"})

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        self.count += 1
        result = self._answer(bot, method)
        for listener in self.listeners:
            listener(method, result)
        return result

    def _answer(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        name = type(method).__name__
        if (name not in self.MESSAGES and name not in self.EDITS) or getattr(
            method, "chat_id", None
        ) is None:
            return self._result(bot, method)
        markup = getattr(method, "reply_markup", None)
        raw = {
            "message_id": next(self._ids) if name in self.MESSAGES else method.message_id,  # type: ignore[attr-defined]
            "date": int(time.time()),
            "chat": {"id": int(method.chat_id), "type": "private"},  # type: ignore[attr-defined]
            "from": BOT_DICT,
            "text": getattr(method, "text", None),
            "caption": getattr(method, "caption", None),
            "reply_markup": markup if isinstance(markup, InlineKeyboardMarkup) else None,
        }
        return Message.model_validate(raw, context={"bot": bot})


class Keyboards:
    """Listens to the OfflineSession: the newest inline keyboard the bot sent each chat."""

    def __init__(self, session: BenchSession) -> None:
        self.last: dict[int, tuple[int, str | None, InlineKeyboardMarkup]] = {}
        session.listeners.append(self._on_call)

    def _on_call(self, method: TelegramMethod[Any], result: Any) -> None:
        if type(method) in (SendMessage, EditMessageText) and isinstance(
            method.reply_markup, InlineKeyboardMarkup
        ):  # a pressed question is edited into the next one
            self.last[int(method.chat_id)] = (result.message_id, method.text, method.reply_markup)


@dataclass
class Walker:
    """One person walking the onboarding: `done` updates handled so far."""

    uid: int
    texts: dict[int, Update] = field(default_factory=dict)  # pre-built, by script index
    done: int = 0
    msg_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))


def find_button(
    markup: InlineKeyboardMarkup, kind: str, payload: str, flow: str | None = None
) -> str | None:
    """The callback data of the button to press, read from the keyboard the bot sent and
    recognised through the typed CallbackData classes (whatever other fields they carry).
    `flow`, when given, must be the flow a FlowCB button names."""
    want: tuple[type[Any], dict[str, Any]]
    if kind == "consent":
        want = (ConsentCB, {"ok": True})
    elif kind == "menu":
        want = (MenuCB, {"item": payload})
    else:
        step, value = payload.split(":")
        want = (FlowCB, {"step": step, "act": "pick", "v": value})
        if flow is not None:
            want[1]["flow"] = flow
    cls, fields = want
    prefix = cls.__prefix__ + cls.__separator__
    for row in markup.inline_keyboard:
        for button in row:
            data = button.callback_data or ""
            if not data.startswith(prefix):
                continue
            cb = cls.unpack(data)
            if all(getattr(cb, k) == v for k, v in fields.items()):
                return data
    return None


class Onboarding:
    """Builds each person's next update of a script (the onboarding unless told otherwise);
    text updates are pre-built before timing."""

    def __init__(
        self,
        app: App,
        session: BenchSession,
        *,
        script: tuple[tuple[str, str], ...] = SCRIPT,
        names: tuple[str, ...] = STEP_NAMES,
        flow: str | None = None,
        keyboards: Keyboards | None = None,
    ) -> None:
        self.app, self.bot = app, app.bot
        self.script, self.names, self.flow = script, names, flow
        self.keyboards = keyboards or Keyboards(session)
        self.build_seconds = 0.0  # time spent building updates inside the timed part

    def people(self, first_uid: int, n: int) -> list[Walker]:
        return [self._prebuilt(Walker(uid=first_uid + i)) for i in range(n)]

    def follow(self, before: list[Walker]) -> list[Walker]:
        """The same people, starting this script where their last one left them (their
        message ids go on)."""
        return [self._prebuilt(Walker(uid=w.uid, msg_ids=w.msg_ids)) for w in before]

    def _prebuilt(self, w: Walker) -> Walker:
        for index, (kind, payload) in enumerate(self.script):
            if kind == "text":
                raw = raw_text(w.uid, next(w.msg_ids), payload)
                w.texts[index] = Update.model_validate(raw, context={"bot": self.bot})
        return w

    def steps_left(self, w: Walker) -> int:
        return len(self.script) - w.done

    def next_update(self, w: Walker) -> Update:
        index = w.done
        kind, payload = self.script[index]
        if kind == "text":
            return w.texts.pop(index)
        t0 = time.perf_counter()
        shown = self.keyboards.last.get(w.uid)
        if shown is None:
            raise AssertionError(f"user {w.uid}: no keyboard to press at step {self.names[index]}")
        message_id, shown_text, markup = shown
        data = find_button(markup, kind, payload, self.flow)
        if data is None:
            raise AssertionError(
                f"user {w.uid}: the bot's newest keyboard has no {kind} {payload!r} button "
                f"at step {self.names[index]} (the flow went somewhere else)"
            )
        update = Update.model_validate(
            raw_press(w.uid, data, message_id, shown_text), context={"bot": self.bot}
        )
        self.build_seconds += time.perf_counter() - t0
        return update


async def drive_closed_loop(
    walkers: list[Walker],
    steps: Callable[[Walker], int],
    make: Callable[[Walker], Update],
    feed: Callable[[Update], Awaitable[Any]],
    concurrency: int,
    samples: list[tuple[int, float]] | None = None,
) -> tuple[int, float]:
    """Everyone progresses in parallel, at most `concurrency` updates in flight, each
    person's own updates strictly in order. Returns (updates, wall seconds). With `samples`,
    appends (script index, seconds in `feed`) for every update."""
    sem = asyncio.Semaphore(concurrency)
    fed = 0

    async def person(w: Walker) -> None:
        nonlocal fed
        for _ in range(steps(w)):
            update = make(w)
            async with sem:
                if samples is None:
                    await feed(update)
                else:
                    t0 = time.perf_counter()
                    await feed(update)
                    samples.append((w.done, time.perf_counter() - t0))
            w.done += 1
            fed += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(person(w) for w in walkers))
    return fed, time.perf_counter() - t0


# --------------------------------------------------------------------------- 1. echo


async def bench_echo(people: int, concurrency: int) -> dict[str, Any]:
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dp = Dispatcher()
    dp.include_router(router)
    session = BenchSession()
    bot = Bot(
        token=OFFLINE_TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )

    def prebuilt(first_uid: int, n: int) -> list[Walker]:
        walkers = []
        for i in range(n):
            w = Walker(uid=first_uid + i)
            for index, text_ in enumerate(ECHO_TEXTS):
                raw = raw_text(w.uid, next(w.msg_ids), text_)
                w.texts[index] = Update.model_validate(raw, context={"bot": bot})
            walkers.append(w)
        return walkers

    async def feed(update: Update) -> Any:
        return await dp.feed_update(bot, update)

    def make(w: Walker) -> Update:
        return w.texts.pop(w.done)

    per_person = len(ECHO_TEXTS)
    warm = prebuilt(1_000_000, min(50, people))
    await drive_closed_loop(warm, lambda w: per_person, make, feed, concurrency)
    walkers = prebuilt(2_000_000, people)
    before = session.count
    with Meter() as meter:
        fed, wall = await drive_closed_loop(walkers, lambda w: per_person, make, feed, concurrency)
    replies = session.count - before
    await bot.session.close()
    if replies != fed:
        raise AssertionError(f"echo: {fed} updates fed but {replies} replies sent")
    return {"updates": fed, "seconds": wall, "rate": fed / wall, **meter.report(fed)}


# --------------------------------------------------------------------------- 2 and 3


# What every onboarded person's profile must hold after the scripted answers.
PROFILE = {
    "name": "Siti Aminah",
    "phone": "+6281234567890",
    "province_code": "35",
    "regency_code": "35.78",
    "country": "TW",
    "years_abroad": "5to10",
    "goal": "kur",
    "locale": "id",
}


async def onboarded_and_steps(app: App, uids: range) -> tuple[int, int, int, dict[int, str]]:
    """(people, onboarded people, onboarded with the full expected profile, active run step by
    telegram id) among these ids."""
    async with app.sessionmaker() as s:
        where = Person.telegram_id.between(uids.start, uids.stop - 1)
        people = await s.scalar(select(func.count()).select_from(Person).where(where))
        onboarded = await s.scalar(
            select(func.count()).select_from(Person).where(where, Person.onboarded_at.is_not(None))
        )
        complete = await s.scalar(
            select(func.count())
            .select_from(Person)
            .where(
                where,
                Person.onboarded_at.is_not(None),
                *(getattr(Person, k) == v for k, v in PROFILE.items()),
            )
        )
        rows = await s.execute(
            select(Person.telegram_id, FlowRun.step)
            .join(FlowRun, FlowRun.person_id == Person.id)
            .where(where, FlowRun.status == RunStatus.ACTIVE)
        )
        steps = {int(tid): step for tid, step in rows}
    return int(people or 0), int(onboarded or 0), int(complete or 0), steps


def check_walkers(
    label: str, walkers: list[Walker], found: tuple[int, int, int, dict[int, str]]
) -> list[str]:
    """Every person must be exactly where their handled updates put them."""
    people, onboarded, complete, steps = found
    problems = []
    want_people = sum(1 for w in walkers if w.done >= 2)
    want_onboarded = sum(1 for w in walkers if w.done >= 10)
    if people != want_people:
        problems.append(f"{label}: {people} people in the DB, expected {want_people}")
    if onboarded != want_onboarded:
        problems.append(f"{label}: {onboarded} onboarded in the DB, expected {want_onboarded}")
    if complete != want_onboarded:
        problems.append(
            f"{label}: {complete} onboarded people have the full profile, expected {want_onboarded}"
        )
    wrong = [w.uid for w in walkers if 2 <= w.done <= 9 and steps.get(w.uid) != STEP_AFTER[w.done]]
    if wrong:
        problems.append(f"{label}: {len(wrong)} people at the wrong step, e.g. user {wrong[0]}")
    return problems


async def journey_state(app: App, uids: range) -> dict[str, Any]:
    """Per telegram id among these: completed `kur_readiness` runs, loans (and those with the
    answered amount and the scheme that fits it), KUR readiness submissions (and those that
    point at the person's loan and the completed run); and the runs of the flow left
    unfinished."""
    where = Person.telegram_id.between(uids.start, uids.stop - 1)
    tid = Person.telegram_id

    async def per_person(s: Any, query: Any) -> dict[int, int]:
        return {int(t): int(n) for t, n in await s.execute(query.group_by(tid))}

    async with app.sessionmaker() as s:
        runs = await per_person(
            s,
            select(tid, func.count(FlowRun.id))
            .join(FlowRun, FlowRun.person_id == Person.id)
            .where(where, FlowRun.flow == JOURNEY_FLOW, FlowRun.status == RunStatus.COMPLETED),
        )
        unfinished = await s.scalar(
            select(func.count(FlowRun.id))
            .join(Person, FlowRun.person_id == Person.id)
            .where(where, FlowRun.flow == JOURNEY_FLOW, FlowRun.status != RunStatus.COMPLETED)
        )
        loans = await per_person(
            s, select(tid, func.count(Loan.id)).join(Loan, Loan.person_id == Person.id).where(where)
        )
        right_loans = await per_person(
            s,
            select(tid, func.count(Loan.id))
            .join(Loan, Loan.person_id == Person.id)
            .where(where, Loan.amount == JOURNEY_AMOUNT, Loan.scheme == JOURNEY_SCHEME),
        )
        kind = Submission.kind == SubmissionKind.KUR_READINESS
        submissions = await per_person(
            s,
            select(tid, func.count(Submission.id))
            .join(Submission, Submission.person_id == Person.id)
            .where(where, kind),
        )
        linked = await per_person(
            s,
            select(tid, func.count(Submission.id))
            .join(Submission, Submission.person_id == Person.id)
            .join(Loan, (Loan.id == Submission.ref_id) & (Loan.person_id == Person.id))
            .join(FlowRun, (FlowRun.id == Submission.run_id) & (FlowRun.person_id == Person.id))
            .where(where, kind, FlowRun.flow == JOURNEY_FLOW),
        )
    return {
        "runs": runs,
        "unfinished_runs": int(unfinished or 0),
        "loans": loans,
        "right_loans": right_loans,
        "submissions": submissions,
        "linked_submissions": linked,
    }


def check_journey(walkers: list[Walker], found: dict[str, Any]) -> tuple[list[str], int]:
    """Every person who finished the journey has exactly one completed readiness run, one loan
    (Rp25 juta, KUR Mikro) and one KUR readiness submission pointing at both. Returns
    (problems, people with all of it)."""
    problems = []
    labels = {
        "runs": "completed kur_readiness run",
        "loans": "loan",
        "right_loans": f"loan of {JOURNEY_AMOUNT:,} ({JOURNEY_SCHEME})",
        "submissions": "KUR_READINESS submission",
        "linked_submissions": "KUR_READINESS submission pointing at their loan and run",
    }
    unfinished = [w.uid for w in walkers if w.done != len(JOURNEY)]
    if unfinished:
        problems.append(
            f"journey: {len(unfinished)} people did not finish, e.g. user {unfinished[0]}"
        )
    ok = {w.uid for w in walkers}
    for key, label in labels.items():
        wrong = [w.uid for w in walkers if found[key].get(w.uid, 0) != 1]
        ok -= set(wrong)
        if wrong:
            problems.append(
                f"journey: {len(wrong)} people without exactly one {label} in the DB, "
                f"e.g. user {wrong[0]} has {found[key].get(wrong[0], 0)}"
            )
    if found["unfinished_runs"]:
        problems.append(f"journey: {found['unfinished_runs']} kur_readiness runs left unfinished")
    return problems, len(ok)


async def bench_journey(
    app: App,
    journey: Onboarding,
    feed: Callable[[Update], Awaitable[Any]],
    onboarded: list[Walker],
    concurrency: int,
    profile: str | None,
) -> tuple[dict[str, Any], list[Walker]]:
    """4. The onboarded people each walk the KUR readiness journey, closed loop like 2."""
    walkers = journey.follow(onboarded)
    journey.build_seconds = 0.0
    samples: list[tuple[int, float]] = []
    with Meter() as meter:
        profiler = _start_profiler(profile)
        fed, wall = await drive_closed_loop(
            walkers, journey.steps_left, journey.next_update, feed, concurrency, samples
        )
        _stop_profiler(profiler, profile)
    by_step: dict[str, list[float]] = {name: [] for name in JOURNEY_NAMES}
    for index, seconds in samples:
        by_step[JOURNEY_NAMES[index]].append(seconds)
    result = {
        "people": len(walkers),
        "updates": fed,
        "updates_per_person": len(JOURNEY),
        "seconds": wall,
        "rate": fed / wall,
        "update_build_seconds": journey.build_seconds,
        "amount": JOURNEY_AMOUNT,
        "latency_ms": summary_ms([x for _, x in samples]),
        "by_step_ms": {k: summary_ms(v) for k, v in by_step.items() if v},
        **meter.report(fed),
    }
    return result, walkers


async def bench_stack(
    url: str,
    *,
    people: int,
    concurrency: int,
    rate: float,
    seconds: float,
    latency_people: int,
    profile: str | None = None,
    profile_phase: str = "onboarding",
) -> dict[str, Any]:
    settings = Settings(database_url=url, flood_limit=10**6, _env_file=None)  # type: ignore[call-arg]
    session = BenchSession()
    app = build_app(settings, session=session, token=OFFLINE_TOKEN)
    settle()  # as `juragan run` does after start-up
    flow = Onboarding(app, session)
    journey = Onboarding(
        app,
        session,
        script=JOURNEY,
        names=JOURNEY_NAMES,
        flow=JOURNEY_FLOW,
        keyboards=flow.keyboards,
    )
    problems: list[str] = []
    errors_before = ERRORS.count

    async def feed(update: Update) -> Any:
        return await app.dp.feed_update(app.bot, update)

    def all_steps(w: Walker) -> int:
        return len(SCRIPT) - w.done

    try:
        # Warm-up (untimed): imports, statement caches, pool connections.
        warm = flow.people(10_000_000, min(50, people))
        await drive_closed_loop(warm, all_steps, flow.next_update, feed, concurrency)
        warm_journey = journey.follow(warm)
        await drive_closed_loop(
            warm_journey, journey.steps_left, journey.next_update, feed, concurrency
        )

        # 2. throughput
        walkers = flow.people(20_000_000, people)
        flow.build_seconds = 0.0
        samples: list[tuple[int, float]] = []
        onboarding_profile = profile if profile_phase == "onboarding" else None
        with Meter() as meter:
            profiler = _start_profiler(onboarding_profile)
            fed, wall = await drive_closed_loop(
                walkers, all_steps, flow.next_update, feed, concurrency, samples
            )
            _stop_profiler(profiler, onboarding_profile)
        build = flow.build_seconds
        errors = ERRORS.count - errors_before
        if errors:
            problems.append(f"throughput: {errors} updates failed (see the errors above)")
        found = await onboarded_and_steps(app, range(20_000_000, 20_000_000 + people))
        problems += check_walkers("throughput", walkers, found)
        throughput = {
            "people": people,
            "updates": fed,
            "seconds": wall,
            "rate": fed / wall,
            "update_build_seconds": build,
            "onboarded": found[1],
            "complete_profiles": found[2],
            "errors": errors,
            "latency_ms": summary_ms([x for _, x in samples]),
            **meter.report(fed),
        }
        del samples

        # 4. the KUR readiness journey of the people just onboarded
        journey_profile = profile if profile_phase == "journey" else None
        errors_before_journey = ERRORS.count
        kur, kur_walkers = await bench_journey(
            app, journey, feed, walkers, concurrency, journey_profile
        )
        kur["errors"] = ERRORS.count - errors_before_journey
        if kur["errors"]:
            problems.append(f"journey: {kur['errors']} updates failed (see the errors above)")
        found_kur = await journey_state(app, range(20_000_000, 20_000_000 + people))
        kur_problems, kur["complete"] = check_journey(kur_walkers, found_kur)
        problems += kur_problems
        kur["ratio_to_onboarding"] = kur["rate"] / throughput["rate"]

        # 3. latency at a steady open-loop rate
        lat = await latency(app, flow, feed, rate=rate, seconds=seconds, people=latency_people)
        found = await onboarded_and_steps(app, range(30_000_000, 30_000_000 + latency_people))
        problems += check_walkers("latency", lat.pop("_walkers"), found)
        errors = ERRORS.count - errors_before - throughput["errors"] - kur["errors"]
        if errors:
            problems.append(f"latency: {errors} updates failed (see the errors above)")
        lat["errors"] = errors
        # Every update's replies were stored with its id, sent, then forgotten: none is left.
        async with app.sessionmaker() as session:
            left = await session.scalar(
                select(func.count())
                .select_from(ProcessedUpdate)
                .where(ProcessedUpdate.replies.is_not(None))
            )
        if left:
            problems.append(f"{left} updates' replies stored and never forgotten")
    finally:
        await app.close()
    return {"throughput": throughput, "journey": kur, "latency": lat, "problems": problems}


async def open_loop(
    ready: deque[Any],
    one: Callable[[Any, float], Awaitable[None]],
    *,
    rate: float,
    seconds: float,
) -> tuple[float, int]:
    """Start `one(person, scheduled_at)` every 1/rate s for `seconds`, whether or not earlier
    ones finished, taking the next person from `ready` (`one` puts them back when they have
    more to do). Returns (seconds spent starting, ticks with nobody ready); waits for all."""
    interval = 1.0 / rate
    tasks: set[asyncio.Task[None]] = set()
    starved = 0
    start = time.perf_counter()
    end = start + seconds
    next_at = start
    while next_at < end:
        now = time.perf_counter()
        while next_at <= now and next_at < end:
            if ready:
                task = asyncio.create_task(one(ready.popleft(), next_at))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            else:
                starved += 1
            next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    started_for = time.perf_counter() - start
    if tasks:
        await asyncio.gather(*list(tasks))
    return started_for, starved


async def latency(
    app: App,
    flow: Onboarding,
    feed: Callable[[Update], Awaitable[Any]],
    *,
    rate: float,
    seconds: float,
    people: int,
) -> dict[str, Any]:
    """Open loop: one update starts every 1/rate s whether or not earlier ones finished.

    People are first walked (untimed) to staggered points of the onboarding, so the timed
    mix covers every step rather than only the first few; each person's next update starts
    only after their previous one returned.
    """
    walkers = flow.people(30_000_000, people)
    stage = {w.uid: i % len(SCRIPT) for i, w in enumerate(walkers)}
    await drive_closed_loop(
        walkers, lambda w: stage[w.uid], flow.next_update, feed, concurrency=100
    )
    ready = deque(w for w in walkers if w.done < len(SCRIPT))
    samples: list[float] = []
    lags: list[float] = []
    by_step: dict[str, list[float]] = {name: [] for name in STEP_NAMES}

    async def one(w: Walker, scheduled: float) -> None:
        update = flow.next_update(w)
        t0 = time.perf_counter()
        await feed(update)
        elapsed = time.perf_counter() - t0
        samples.append(elapsed)
        lags.append(t0 - scheduled)
        by_step[STEP_NAMES[w.done]].append(elapsed)
        w.done += 1
        if w.done < len(SCRIPT):
            ready.append(w)

    with Meter() as meter:
        started_for, starved = await open_loop(ready, one, rate=rate, seconds=seconds)
    result: dict[str, Any] = {
        "target_rate": rate,
        "seconds": started_for,
        "achieved_start_rate": len(samples) / started_for,
        "people": people,
        "latency_ms": summary_ms(samples),
        "start_lag_ms": summary_ms(lags),
        "starved_ticks": starved,
        "by_step_ms": {k: summary_ms(v) for k, v in by_step.items() if v},
        "step_mix": dict(Counter({k: len(v) for k, v in by_step.items()})),
        **meter.report(len(samples)),
        "_walkers": walkers,
    }
    return result


# --------------------------------------------------------------------------- profiling


def _start_profiler(kind: str | None) -> Any:
    if kind is None:
        return None
    if kind == "pyinstrument":
        from pyinstrument import Profiler

        p = Profiler(async_mode="disabled", interval=0.0005)
        p.start()
        return p
    import cProfile

    p = cProfile.Profile()
    p.enable()
    return p


def _stop_profiler(profiler: Any, kind: str | None) -> None:
    if profiler is None:
        return
    out = RESULTS.parent
    out.mkdir(parents=True, exist_ok=True)
    if kind == "pyinstrument":
        profiler.stop()
        (out / "profile.html").write_text(profiler.output_html())
        (out / "profile.txt").write_text(profiler.output_text(unicode=True, show_all=False))
        print(f"profile written to {out / 'profile.txt'} and profile.html")
        return
    import pstats

    profiler.disable()
    profiler.dump_stats(str(out / "profile.pstats"))
    with (out / "profile.txt").open("w") as f:
        stats = pstats.Stats(profiler, stream=f).sort_stats("cumulative")
        stats.print_stats(80)
        stats.sort_stats("tottime").print_stats(60)
    print(f"profile written to {out / 'profile.pstats'} and profile.txt")


# --------------------------------------------------------------------------- databases


def fresh_sqlite(tmp: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    return url


def bench_pg_url(given: str, database: str = BENCH_DB) -> str:
    return make_url(given).set(database=database).render_as_string(hide_password=False)


def fresh_postgresql(given: str, database: str = BENCH_DB) -> str:
    """Database `database` on the given server (never the one the URL names, which may not
    exist): created if missing, through the server's `postgres` database; its schema emptied,
    migrated. Every benchmark has a database of its own."""
    bench_url = bench_pg_url(given, database)

    async def prepare() -> None:
        admin = create_engine(
            bench_pg_url(given, "postgres"),
            isolation_level="AUTOCOMMIT",
            pool_size=1,
            max_overflow=0,
        )
        try:
            async with admin.connect() as conn:
                exists = await conn.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database}
                )
                if not exists:
                    await conn.execute(text(f'CREATE DATABASE "{database}"'))
        finally:
            await admin.dispose()
        engine = create_engine(bench_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    upgrade(bench_url)
    return bench_url


# --------------------------------------------------------------------------- report


def mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def write_report(
    out: Path,
    meta: dict[str, Any],
    targets: dict[str, Any],
    backends: dict[str, Any],
    verdict: dict[str, Any],
    problems: list[str],
    *,
    failed: str = "CORRECTNESS CHECK FAILED",
) -> int:
    """Write the JSON every benchmark writes, say where, and list the correctness problems:
    the exit status (2 when a check failed, else 0)."""
    report = {
        "meta": meta,
        "targets": targets,
        "backends": backends,
        "verdict": verdict,
        "correct": not problems,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"JSON: {out}   ({meta['total_seconds']:.0f} s in all)")
    if problems:
        print(f"\n!!! {failed} !!!", file=sys.stderr)
        for p in problems:
            print("  - " + p, file=sys.stderr)
        return 2
    return 0


def print_header(
    meta: dict[str, Any], title: str, run: str, names: list[str], w0: int, w: int
) -> tuple[str, Callable[..., None]]:
    """The machine lines and the table head every benchmark prints; returns the rule line and
    a `row(label, cells, target)` printer for the table."""
    line = "-" * (w0 + w * max(1, len(names)) + 24)
    print()
    print(title)
    print(
        f"{meta['date']}  |  {meta['nproc']} CPU: {meta['cpu']}  |  "
        f"{meta['implementation']} {meta['python']}  |  commit {meta['commit'] or '?'}"
    )
    v = meta["versions"]
    print(
        f"aiogram {v['aiogram']}, SQLAlchemy {v['sqlalchemy']}, aiosqlite {v['aiosqlite']}, "
        f"asyncpg {v['asyncpg']}  |  {run}"
    )
    busy = meta["other_load_at_start_cores"]
    print(
        f"other processes at start: {busy:.2f} cores busy"
        + ("  (busy machine: figures are pessimistic)" if busy > 0.2 else "")
    )
    if meta["uncommitted_outside_bench"]:
        print("uncommitted changes measured: " + ", ".join(meta["uncommitted_outside_bench"]))
    print(line)
    print(f"{'figure':<{w0}}" + "".join(f"{n:>{w}}" for n in names) + "   target")
    print(line)

    def row(label: str, cells: list[str], target: str = "") -> None:
        print(f"{label:<{w0}}" + "".join(f"{c:>{w}}" for c in cells) + f"   {target}")

    return line, row


def print_report(meta: dict[str, Any], backends: dict[str, Any]) -> None:
    names = list(backends)
    line, row = print_header(
        meta,
        "Pulang Juragan: update throughput and latency",
        f"people {meta['people']}, in flight ≤ {meta['concurrency']}",
        names,
        44,
        22,
    )

    echoes = [b["echo"] for b in backends.values()]
    row("1. bare aiogram echo (updates/s)", [f"{e['rate']:,.0f}" for e in echoes], "(baseline)")
    row(
        "   CPU ms/update (main thread / all)",
        [f"{e['cpu_main_ms_per_update']:.3f} / {e['cpu_all_ms_per_update']:.3f}" for e in echoes],
    )
    row(
        "2. onboarding, full stack (answers/s)",
        [
            f"{b['throughput']['rate']:,.0f} {mark(b['throughput']['rate'] >= TARGET_RATE)}"
            if name == "sqlite"
            else f"{b['throughput']['rate']:,.0f}"  # the issue sets the target for SQLite
            for name, b in backends.items()
        ],
        f"≥ {TARGET_RATE:,.0f}/s (naive ~{NAIVE_RATE:.0f}/s)",
    )
    row(
        "   updates / wall seconds",
        [
            f"{b['throughput']['updates']} / {b['throughput']['seconds']:.2f}"
            for b in backends.values()
        ],
    )
    row(
        "   full stack / bare echo",
        [f"{b['throughput']['rate'] / b['echo']['rate']:.1%}" for b in backends.values()],
    )
    row(
        "   CPU ms/update (main thread / all)",
        [
            f"{b['throughput']['cpu_main_ms_per_update']:.2f} / "
            f"{b['throughput']['cpu_all_ms_per_update']:.2f}"
            for b in backends.values()
        ],
    )
    row(
        "   full GCs: count, max pause (ms)",
        [
            f"{b['throughput']['gc']['gen2']['count']}, {b['throughput']['gc']['gen2']['max_ms']:.0f}"
            for b in backends.values()
        ],
    )
    row(
        "   other processes' CPU meanwhile (cores)",
        [f"{b['throughput']['other_processes_cores']:.2f}" for b in backends.values()],
    )
    row(
        "   onboarded / with full profile (DB)",
        [
            f"{b['throughput']['onboarded']} / {b['throughput']['complete_profiles']}"
            f" of {meta['people']}"
            for b in backends.values()
        ],
        "= people",
    )
    row(
        "   per-update latency p50 / p99 (ms)",
        [
            f"{b['throughput']['latency_ms']['p50']:.1f} / {b['throughput']['latency_ms']['p99']:.1f}"
            for b in backends.values()
        ],
        "(closed loop)",
    )
    kur = [b["journey"] for b in backends.values()]
    row(
        "4. KUR readiness journey (answers/s)",
        [f"{k['rate']:,.0f}" for k in kur],
        f"{kur[0]['updates_per_person']} updates/person, Rp{JOURNEY_AMOUNT // 10**6} juta",
    )
    row(
        "   journey / onboarding answers/s",
        [
            f"{k['ratio_to_onboarding']:.0%} {mark(k['ratio_to_onboarding'] >= TARGET_JOURNEY_RATIO)}"
            for k in kur
        ],
        f"≥ {TARGET_JOURNEY_RATIO:.0%}",
    )
    row("   updates / wall seconds", [f"{k['updates']} / {k['seconds']:.2f}" for k in kur])
    row(
        "   per-update latency p50 / p99 (ms)",
        [f"{k['latency_ms']['p50']:.1f} / {k['latency_ms']['p99']:.1f}" for k in kur],
        "(closed loop)",
    )
    row(
        "   CPU ms/update (main thread / all)",
        [f"{k['cpu_main_ms_per_update']:.2f} / {k['cpu_all_ms_per_update']:.2f}" for k in kur],
    )
    row(
        "   full GCs: count, max pause (ms)",
        [f"{k['gc']['gen2']['count']}, {k['gc']['gen2']['max_ms']:.0f}" for k in kur],
    )
    row(
        "   other processes' CPU meanwhile (cores)",
        [f"{k['other_processes_cores']:.2f}" for k in kur],
    )
    row(
        "   with 1 run, 1 loan, 1 submission (DB)",
        [f"{k['complete']} of {k['people']}" for k in kur],
        "= people",
    )
    lat = [b["latency"] for b in backends.values()]
    row(
        "3. steady load: started answers/s",
        [f"{x['achieved_start_rate']:.0f} of {x['target_rate']:.0f}" for x in lat],
        f"{lat[0]['seconds']:.0f} s, {lat[0]['people']} people",
    )
    for key in ("p50", "p95", "p99", "max"):
        cells = []
        for x in lat:
            value = x["latency_ms"][key]
            cells.append(
                f"{value:.1f} {mark(value <= TARGET_P99_MS)}" if key == "p99" else f"{value:.1f}"
            )
        row(f"   latency {key} (ms)", cells, f"≤ {TARGET_P99_MS:.0f} ms" if key == "p99" else "")
    row("   generator start lag p99 (ms)", [f"{x['start_lag_ms']['p99']:.1f}" for x in lat])
    row(
        "   full GCs: count, max pause (ms)",
        [f"{x['gc']['gen2']['count']}, {x['gc']['gen2']['max_ms']:.0f}" for x in lat],
    )
    row(
        "   other processes' CPU meanwhile (cores)",
        [f"{x['other_processes_cores']:.2f}" for x in lat],
    )
    if any(x["starved_ticks"] for x in lat):
        row("   ticks with nobody ready (skipped)", [str(x["starved_ticks"]) for x in lat])
    print(line)
    print("latency p50 / p99 (ms) by step, steady load:")
    for name in STEP_NAMES:
        cells = []
        for x in lat:
            s = x["by_step_ms"].get(name)
            cells.append(f"{s['p50']:.1f} / {s['p99']:.1f} (n={s['count']})" if s else "-")
        row(f"   {name}", cells)
    print(line)
    print("latency p50 / p99 (ms) by step, KUR readiness journey (closed loop, n = people):")
    for name in JOURNEY_NAMES:
        cells = []
        for k in kur:
            s = k["by_step_ms"].get(name)
            cells.append(f"{s['p50']:.1f} / {s['p99']:.1f}" if s else "-")
        row(f"   {name}", cells)
    print(line)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--people", type=int, default=1000, help="people onboarding (default 1000)")
    p.add_argument(
        "--db",
        choices=["sqlite", "postgresql", "both"],
        default=None,
        help="default: sqlite, plus postgresql when --pg-url or JURAGAN_TEST_DATABASE_URL is set",
    )
    p.add_argument(
        "--pg-url",
        default=None,
        help=f"a PostgreSQL server URL; the run uses database '{BENCH_DB}' on that server "
        f"(default: $JURAGAN_TEST_DATABASE_URL or {DEFAULT_PG})",
    )
    p.add_argument("--concurrency", type=int, default=100, help="updates in flight (default 100)")
    p.add_argument("--rate", type=float, default=200.0, help="steady-load answers/s (default 200)")
    p.add_argument("--seconds", type=float, default=15.0, help="steady-load duration (default 15)")
    p.add_argument(
        "--latency-people", type=int, default=1000, help="people in the steady load (default 1000)"
    )
    p.add_argument(
        "--profile",
        choices=["cprofile", "pyinstrument"],
        default=None,
        help="profile a full-stack closed-loop phase (first backend) into bench/results/",
    )
    p.add_argument(
        "--profile-phase",
        choices=["onboarding", "journey"],
        default="onboarding",
        help="the phase --profile profiles: 2, onboarding (default), or 4, the KUR journey",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("aiogram", "sqlalchemy", "alembic", "bot", "storage", "flows"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger().addHandler(ERRORS)
    ensure_catalogs()

    env_pg = os.environ.get("JURAGAN_TEST_DATABASE_URL")
    pg_given = args.pg_url or env_pg
    if args.db is None:
        dbs = ["sqlite"] + (["postgresql"] if pg_given else [])
    elif args.db == "both":
        dbs = ["sqlite", "postgresql"]
    else:
        dbs = [args.db]
    pg_url = pg_given or DEFAULT_PG

    meta = machine()
    meta.update(
        people=args.people,
        concurrency=args.concurrency,
        steady_rate=args.rate,
        steady_seconds=args.seconds,
        steady_people=args.latency_people,
        updates_per_person=len(SCRIPT),
        journey_updates_per_person=len(JOURNEY),
        journey_amount=JOURNEY_AMOUNT,
    )
    print(
        f"bench: {args.people} people x {len(SCRIPT)} updates on {', '.join(dbs)}; "
        f"{meta['nproc']} CPU {meta['cpu']}; Python {meta['python']}; {meta['date']}"
    )

    t_all = time.perf_counter()
    backends: dict[str, Any] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="juragan-bench-") as tmp:
        for i, db in enumerate(dbs):
            if db == "sqlite":
                url = fresh_sqlite(Path(tmp))
                shown = "sqlite (temp file, WAL)"
            else:
                url = fresh_postgresql(pg_url)
                shown = make_url(url).render_as_string(hide_password=True)
            # The echo baseline runs right before each backend, so both see the same machine.
            print(f"1/3 bare aiogram echo (for {db}) ...", flush=True)
            echo = run_fast(bench_echo(args.people, args.concurrency))
            print(
                f"2-4/4 full stack (onboarding, KUR journey, steady load) on {shown} ...",
                flush=True,
            )
            result = run_fast(
                bench_stack(
                    url,
                    people=args.people,
                    concurrency=args.concurrency,
                    rate=args.rate,
                    seconds=args.seconds,
                    latency_people=args.latency_people,
                    profile=args.profile if i == 0 else None,
                    profile_phase=args.profile_phase,
                )
            )
            result["database"] = shown
            result["echo"] = echo
            result["ratio_to_echo"] = result["throughput"]["rate"] / echo["rate"]
            backends[db] = result
            problems += [f"[{db}] {p}" for p in result["problems"]]

    meta["total_seconds"] = time.perf_counter() - t_all
    print_report(meta, backends)
    verdict = {
        db: {
            "throughput": mark(b["throughput"]["rate"] >= TARGET_RATE) if db == "sqlite" else "n/a",
            "p99": mark(b["latency"]["latency_ms"]["p99"] <= TARGET_P99_MS),
            "journey_ratio": mark(b["journey"]["ratio_to_onboarding"] >= TARGET_JOURNEY_RATIO),
        }
        for db, b in backends.items()
    }
    return write_report(
        args.out,
        meta,
        {
            "answers_per_second": TARGET_RATE,
            "p99_ms_at_steady_rate": TARGET_P99_MS,
            "naive_reference_answers_per_second": NAIVE_RATE,
            "journey_to_onboarding_answers_per_second": TARGET_JOURNEY_RATIO,
        },
        backends,
        verdict,
        problems,
        failed="CORRECTNESS CHECK FAILED: the benchmark lost work",
    )


if __name__ == "__main__":
    sys.exit(main())
