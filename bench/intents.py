"""Free-text understanding benchmark (issue 18): a report, never a timed test.

    python bench/intents.py [--db sqlite|postgresql|both] [--pg-url URL] [--people 300]
                            [--messages 10] [--rounds 20]

1. accuracy of the matcher (flows/intents.py, the phrase data of flows/content/intents.toml) on
   tests/data/intents.csv (the test set, target top-1 ≥ 90%) and tests/data/intents_holdout.csv
   (written after the data was tuned on the first set, never tuned on): top-1, the expected
   intent among the offered buttons, and off-topic messages offered something.
2. the matcher's time per message, the whole phrase set loaded: every message of both sets,
   `--rounds` times, each match timed alone, in CPU time of the thread (the target: p99 ≤ 2 ms)
   and in wall time (which on a shared machine also counts the time another process ran).
3. answers/s through the real dispatcher (`build_app`, every middleware, a real migrated
   database, the in-process Bot API of bench/updates.py), on each backend: `--people`
   onboarded people each send `--messages` free-text messages from the test set (each answered
   with "Maksud Anda ...?" and buttons, or the menu), against the same people pressing as many
   main-menu buttons: 📊 My progress and ❓ Help alternately, and ❓ Help alone (the lightest
   page, no query of its own). Fed like bench/updates.py (at most 100 in flight, each person
   in order), the three kinds alternated twice (A B C A B C) so all see the same machine.
   Target: free text ≥ 80% of either. Beside them, the bare aiogram echo of bench/updates.py,
   measured in the same run, and the process's CPU time per answer of free text and of a Help
   press (every thread), which other processes on a shared machine change far less than rates.

Correctness (exit 2 when broken): no update errored, and the free text started no flow run.
Prints a table and writes ``bench/results/intents.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import updates as base  # noqa: E402  (bench/updates.py: machine, databases, in-process Bot API)
from aiogram.types import Update  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.app import OFFLINE_TOKEN, build_app, run_fast, settle  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.keyboards import MenuCB  # noqa: E402
from flows import intents  # noqa: E402
from storage.models import FlowRun  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "intents.json"
DATA = ROOT / "tests" / "data"
SETS = ("intents.csv", "intents_holdout.csv")
DATABASE = "bench_intents"
TARGET_ACCURACY = 0.90
TARGET_P99_MS = 2.0
TARGET_RATIO = 0.8
PRESSES = {
    "presses": (MenuCB(item="progress").pack(), MenuCB(item="help").pack()),
    "help_presses": (MenuCB(item="help").pack(),),  # the lightest page: no query of its own
}


def rows(name: str) -> list[tuple[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return [(r["text"], r["intent"]) for r in csv.DictReader(f)]


# --------------------------------------------------------------------------- 1 and 2


def accuracy(name: str) -> dict[str, Any]:
    found = rows(name)
    top1 = offered = false_offers = nones = 0
    for text, expected in found:
        understood = intents.understand(text)
        top1 += (understood.best or "none") == expected
        offered += expected in understood.offered() or (
            expected in intents.SOCIAL | {"none"} and (understood.best or "none") == expected
        )
        if expected == "none":
            nones += 1
            false_offers += bool(understood.offered())
    return {
        "messages": len(found),
        "top1": top1 / len(found),
        "in_offered": offered / len(found),
        "none_messages": nones,
        "none_offered_something": false_offers,
    }


def matcher_time(rounds: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    intents.matcher.cache_clear()
    matcher = intents.matcher()
    load_ms = (time.perf_counter() - t0) * 1000
    texts = [text for name in SETS for text, _ in rows(name)]
    for text in texts:  # warm-up
        matcher.match(text)
    times, cpu = [], []
    for _ in range(rounds):
        for text in texts:
            c0, t0 = time.thread_time(), time.perf_counter()
            matcher.match(text)
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
    return {
        "load_ms": load_ms,
        "phrases": len(matcher.phrases),
        "vocabulary": len(matcher.vocabulary),
        "intents": len(matcher.intents),
        "calls": len(times),
        "ms": base.summary_ms(times),
        "cpu_ms": base.summary_ms(cpu),
    }


# --------------------------------------------------------------------------- 3


async def dispatcher(url: str, people: int, messages: int) -> dict[str, Any]:
    settings = Settings(database_url=url, flood_limit=10**6, _env_file=None)  # type: ignore[call-arg]
    session = base.BenchSession()
    app = build_app(settings, session=session, token=OFFLINE_TOKEN)
    settle()
    flow = base.Onboarding(app, session)
    errors_before = base.ERRORS.count
    typed = [text for text, _ in rows("intents.csv")]
    cycle = itertools.count()

    async def feed(update: Update) -> Any:
        return await app.dp.feed_update(app.bot, update)

    def texts_for(walkers: list[base.Walker]) -> list[base.Walker]:
        for w in walkers:
            w.done, w.texts = 0, {}
            for i in range(messages):
                raw = base.raw_text(w.uid, next(w.msg_ids), typed[next(cycle) % len(typed)])
                w.texts[i] = Update.model_validate(raw, context={"bot": app.bot})
        return walkers

    def presses_for(kind: str) -> Callable[[list[base.Walker]], list[base.Walker]]:
        datas = PRESSES[kind]

        def build(walkers: list[base.Walker]) -> list[base.Walker]:
            for w in walkers:
                w.done, w.texts = 0, {}
                for i in range(messages):
                    data = datas[i % len(datas)]
                    raw = base.raw_press(w.uid, data, 1, "Apa yang ingin Anda lakukan?")
                    w.texts[i] = Update.model_validate(raw, context={"bot": app.bot})
            return walkers

        return build

    def make(w: base.Walker) -> Update:
        return w.texts.pop(w.done)

    async def phase(walkers: list[base.Walker]) -> tuple[int, float]:
        return await base.drive_closed_loop(walkers, lambda w: messages, make, feed, 100)

    try:
        walkers = flow.people(40_000_000, people)
        await base.drive_closed_loop(
            walkers, lambda w: len(base.SCRIPT) - w.done, flow.next_update, feed, 100
        )
        await phase(texts_for(walkers[:50]))  # warm-up
        await phase(presses_for("presses")(walkers[:50]))
        kinds = {"free_text": texts_for} | {k: presses_for(k) for k in PRESSES}
        totals = {kind: [0, 0.0, 0.0] for kind in kinds}
        for _ in range(2):
            for kind, build in kinds.items():
                built = build(walkers)
                cpu = time.process_time()
                fed, wall = await phase(built)
                totals[kind][0] += fed
                totals[kind][1] += wall
                totals[kind][2] += time.process_time() - cpu
        async with app.sessionmaker() as s:
            started = await s.scalar(
                select(func.count()).select_from(FlowRun).where(FlowRun.flow != "onboarding")
            )
    finally:
        await app.close()
    result: dict[str, Any] = {
        kind: {"updates": n, "seconds": sec, "rate": n / sec, "cpu_ms": cpu * 1000 / n}
        for kind, (n, sec, cpu) in totals.items()
    }
    result["ratio"] = result["free_text"]["rate"] / result["presses"]["rate"]
    result["ratio_help"] = result["free_text"]["rate"] / result["help_presses"]["rate"]
    # CPU time of the process per answer (every thread: aiosqlite's too): what another process
    # running meanwhile changes little, unlike the rates.
    result["cpu_ratio_help"] = result["help_presses"]["cpu_ms"] / result["free_text"]["cpu_ms"]
    result["errors"] = base.ERRORS.count - errors_before
    result["runs_started"] = int(started or 0)
    return result


# --------------------------------------------------------------------------- report


def print_report(meta: dict[str, Any], found: dict[str, Any], backends: dict[str, Any]) -> None:
    names = list(backends) or ["-"]
    line, row = base.print_header(
        meta,
        "Free text understood (issue 18)",
        f"{meta['people']} people × {meta['messages']} updates per kind",
        names,
        44,
        14,
    )
    for name, acc in found["accuracy"].items():
        target = f"≥ {TARGET_ACCURACY:.0%}" if name == SETS[0] else "(held out)"
        row(f"{name}: top-1 ({acc['messages']} msgs)", [f"{acc['top1']:.1%}"] * len(names), target)
        row("  expected among the offered buttons", [f"{acc['in_offered']:.1%}"] * len(names))
        row(
            f"  off-topic offered something (of {acc['none_messages']})",
            [str(acc["none_offered_something"])] * len(names),
        )
    t = found["matcher"]
    row(f"matcher p50 ms ({t['phrases']} phrases)", [f"{t['ms']['p50']:.3f}"] * len(names))
    row("matcher p99 ms, CPU time", [f"{t['cpu_ms']['p99']:.3f}"] * len(names),
        f"≤ {TARGET_P99_MS}")  # fmt: skip
    row("matcher p99 ms, wall (with preemption)", [f"{t['ms']['p99']:.3f}"] * len(names))
    row("matcher max ms / load ms", [f"{t['ms']['max']:.2f}/{t['load_ms']:.0f}"] * len(names))
    print(line)
    row("bare aiogram echo (updates/s)", [f"{b['echo']['rate']:.0f}" for b in backends.values()])
    row("free text, full stack (answers/s)",
        [f"{b['free_text']['rate']:.0f}" for b in backends.values()])  # fmt: skip
    row("menu presses, full stack (answers/s)",
        [f"{b['presses']['rate']:.0f}" for b in backends.values()])  # fmt: skip
    row("free text / presses", [f"{b['ratio']:.0%}" for b in backends.values()],
        f"≥ {TARGET_RATIO:.0%}")  # fmt: skip
    row("❓ Help presses only (answers/s)",
        [f"{b['help_presses']['rate']:.0f}" for b in backends.values()])  # fmt: skip
    row("free text / Help presses", [f"{b['ratio_help']:.0%}" for b in backends.values()],
        f"≥ {TARGET_RATIO:.0%}")  # fmt: skip
    row("CPU ms per answer: free text / Help press",
        [f"{b['free_text']['cpu_ms']:.2f}/{b['help_presses']['cpu_ms']:.2f}"
         for b in backends.values()])  # fmt: skip
    row("  Help press CPU / free text CPU", [f"{b['cpu_ratio_help']:.0%}"
                                             for b in backends.values()])  # fmt: skip
    row("flow runs started by free text", [str(b["runs_started"]) for b in backends.values()],
        "0")  # fmt: skip
    print(line)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"])
    p.add_argument("--pg-url", help="a PostgreSQL server (its database `bench_intents` is used)")
    p.add_argument("--people", type=int, default=300)
    p.add_argument("--messages", type=int, default=10, help="updates per person and kind")
    p.add_argument("--rounds", type=int, default=20, help="passes over the sets for timing")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(base.ERRORS)
    base.ensure_catalogs()
    pg_given = args.pg_url or os.environ.get("JURAGAN_TEST_DATABASE_URL")
    if args.db is None:
        dbs = ["sqlite"] + (["postgresql"] if pg_given else [])
    else:
        dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    meta = base.machine()
    meta.update(people=args.people, messages=args.messages, rounds=args.rounds)
    t_all = time.perf_counter()
    found = {
        "accuracy": {name: accuracy(name) for name in SETS},
        "matcher": matcher_time(args.rounds),
    }
    backends: dict[str, Any] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="juragan-intents-") as tmp:
        for db in dbs:
            if db == "sqlite":
                url, shown = base.fresh_sqlite(Path(tmp)), "sqlite (temp file, WAL)"
            else:
                url = base.fresh_postgresql(pg_given or base.DEFAULT_PG, DATABASE)
                shown = make_url(url).render_as_string(hide_password=True)
            print(f"{db}: bare echo, then free text and presses on {shown} ...", flush=True)
            echo = run_fast(base.bench_echo(args.people, 100))
            result = run_fast(dispatcher(url, args.people, args.messages))
            result.update(database=shown, echo=echo)
            backends[db] = result
            if result["errors"]:
                problems.append(f"[{db}] {result['errors']} updates failed")
            if result["runs_started"]:
                problems.append(f"[{db}] free text started {result['runs_started']} flow runs")
    meta["total_seconds"] = time.perf_counter() - t_all
    print_report(meta, found, backends)
    main_set = found["accuracy"][SETS[0]]["top1"]
    verdict: dict[str, Any] = {
        "accuracy": base.mark(main_set >= TARGET_ACCURACY),
        "matcher_p99": base.mark(found["matcher"]["cpu_ms"]["p99"] <= TARGET_P99_MS),
        **{
            f"{db}_ratio": base.mark(min(b["ratio"], b["ratio_help"]) >= TARGET_RATIO)
            for db, b in backends.items()
        },
    }
    return base.write_report(
        args.out,
        meta,
        {"top1": TARGET_ACCURACY, "matcher_p99_ms": TARGET_P99_MS, "ratio": TARGET_RATIO},
        {**backends, "matcher": found},
        verdict,
        problems,
    )


if __name__ == "__main__":
    sys.exit(main())
