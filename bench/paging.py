"""Paging and import benchmark: a report, never a timed test.

    python bench/paging.py [--db sqlite|postgresql|both] [--pg-url URL] [--presses 300]

On each backend, a fresh database (SQLite: a temporary file; PostgreSQL: the database
`bench_paging` on the local server, never the tests'), then:

1. imports, each `python -m bot import ...` in a process of its own (as an operator runs it):
   50,000 cooperatives, all in one regency (Kota Surabaya, 35.78); the same file again (every
   row an update); 50,000 training sessions, 5,000 of them for that region (4,000 in the
   regency, 500 for the whole province, 500 online for everyone) and 45,000 elsewhere. Wall
   and CPU seconds, and the process's peak RSS above idle, idle being the peak of
   `python -m bot migrate` on the same database (the same start-up, no rows).
   Target: ≤ 5 s and ≤ 100 MB above idle for each.
2. page presses through the real dispatcher (`build_app`, every middleware, the in-process Bot
   API of bench/updates.py), one at a time, by people onboarded there in Kota Surabaya: ▶️/◀️
   on the cooperatives found in their regency (50,000: 6,250 pages) and on the upcoming
   training list (5,000 for them: 1,000 pages), at the first, the last and random pages.
   Latency = `dp.feed_update` of the press, which answers it and edits the message.
   Target: p99 ≤ 50 ms. Beside every figure, a bare aiogram button echo of the same run (one
   `callback_query` handler that answers and edits the message, fed the same way): its p50 and
   p99 and the ratio.

Correctness (exit 2 when broken): every import loads all its rows; every page shows the rows
an unpaged query in the order people have always seen gives for that page (Merah Putih and
migrant-worker cooperatives first, then by name; sessions soonest first), with "page/pages";
and no press loads more rows than a page (counted with an ORM load event).

Prints a table and writes ``bench/results/paging.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import updates as base  # noqa: E402  (bench/updates.py: machine, databases, in-process Bot API)
from aiogram import Bot, Dispatcher, Router  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update  # noqa: E402
from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.app import OFFLINE_TOKEN, build_app, run_fast, settle  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.handlers.coop import PAGE_SIZE as COOP_PAGE  # noqa: E402
from bot.handlers.coop import CoopCB, _coop_button  # noqa: E402
from bot.handlers.training import PAGE_SIZE as TRAINING_PAGE  # noqa: E402
from bot.handlers.training import TrainingCB  # noqa: E402
from flows import regions  # noqa: E402
from storage import trainings  # noqa: E402
from storage.importers import COOPERATIVE_COLUMNS, TRAINING_COLUMNS  # noqa: E402
from storage.models import Cooperative, Training  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "paging.json"
DATABASE = "bench_paging"
TARGET_P99_MS = 50.0
TARGET_IMPORT_S = 5.0
TARGET_IMPORT_MB = 100.0
COOPS, SESSIONS, IN_REGION = 50_000, 50_000, 5_000
REGENCY, PROVINCE = "35.78", "35"
ELSEWHERE = ("33.74", "32.73", "52.71", "31.71", "34.71", "36.71", "51.71", "53.71", "61.71")
KINDS = ("simpan_pinjam", "konsumen", "produsen", "pemasaran", "jasa")
PEOPLE = 20
MB = 1024 * 1024


# --------------------------------------------------------------------------- files


def write_cooperatives(path: Path) -> None:
    """50,000 cooperatives in one regency; every 50th Merah Putih, every 30th for migrants,
    names shuffled so the order shown is not the order loaded."""
    order = list(range(COOPS))
    random.Random(13).shuffle(order)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(COOPERATIVE_COLUMNS)
        for i in order:
            out.writerow([
                f"Koperasi Uji {i:05d}", KINDS[i % 5], "yes" if i % 50 == 0 else "no",
                "yes" if i % 30 == 0 else "no", REGENCY, "Genteng",
                "Toko kelontong dan simpan pinjam untuk anggota purna PMI di kelurahan",
                "Rp 100.000", "10000", "KTP dan KK; anggota keluarga purna PMI boleh ikut",
                "SHU tiap tahun dan pinjaman lunak untuk usaha anggota", "no",
            ])  # fmt: skip


def write_trainings(path: Path, now: datetime) -> None:
    """50,000 sessions over the next 600 days: 5,000 for Kota Surabaya (4,000 there, 500 for
    all of Jawa Timur, 500 online for everyone), the rest in nine other cities."""
    first = now + timedelta(days=2)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(TRAINING_COLUMNS)
        for i in range(SESSIONS):
            if i % 10 == 0:
                j = i // 10
                region = REGENCY if j % 10 < 8 else (PROVINCE if j % 10 == 8 else "")
            else:
                region = ELSEWHERE[i % len(ELSEWHERE)]
            start = (first + timedelta(minutes=17 * i)).astimezone(
                ZoneInfo(regions.zone_of(region or None))
            )
            online = region == ""
            out.writerow([
                f"Pelatihan Uji {i:05d}", "Disnaker", ("digital", "finance", "business")[i % 3],
                start.strftime("%Y-%m-%d %H:%M"),
                (start + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"),
                "" if online else "BLK Surabaya", "https://zoom.us/j/1" if online else "",
                region, "20", "no", "no",
            ])  # fmt: skip


# --------------------------------------------------------------------------- 1. imports


# `python -m bot`, then its own peak RSS (VmHWM: since its exec, unlike wait4's ru_maxrss, which
# counts the forked benchmark's pages too) on the last line of stderr.
CHILD = (
    "import sys\n"
    "from bot.__main__ import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = next(x for x in open('/proc/self/status') if x.startswith('VmHWM'))\n"
    "sys.stderr.write('\\nBENCH ' + hwm)\n"
    "sys.exit(code)\n"
)


def measured(url: str, *args: str) -> dict[str, Any]:
    """`juragan ARGS` on `url` in a process of its own: exit status, wall and CPU seconds,
    peak RSS."""
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = child.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = err.decode(errors="replace")
    head, _, hwm = text.rpartition("\nBENCH VmHWM:")
    return {
        "status": child.returncode,
        "wall_s": wall,
        "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
        "peak_rss_mb": int(hwm.split()[0]) * 1024 / MB if hwm else float("nan"),
        "stdout": out.decode(errors="replace").strip(),
        "stderr": head.strip()[-2000:],
    }


def bench_imports(url: str, tmp: Path) -> tuple[dict[str, Any], list[str]]:
    coops, sessions = tmp / "cooperatives.csv", tmp / "trainings.csv"
    write_cooperatives(coops)
    write_trainings(sessions, datetime.now(UTC))
    idle = measured(url, "migrate")
    runs = {
        "cooperatives, 50,000 new": measured(url, "import", "cooperatives", str(coops)),
        "cooperatives, 50,000 updated": measured(url, "import", "cooperatives", str(coops)),
        "trainings, 50,000 new": measured(url, "import", "trainings", str(sessions)),
    }
    problems = []
    wants = ("(50000 new, 0 updated)", "(0 new, 50000 updated)", "(50000 new, 0 updated)")
    for (name, run), want in zip(runs.items(), wants, strict=True):
        run["above_idle_mb"] = run["peak_rss_mb"] - idle["peak_rss_mb"]
        if run["status"] != 0 or want not in run["stdout"]:
            problems.append(f"import {name}: {run['stdout']!r} {run['stderr']!r}")
    return {"idle": idle, "runs": runs}, problems


# --------------------------------------------------------------------------- 2. presses


class Loaded:
    """Cooperative and Training rows the ORM builds (a press must build a page, not a list)."""

    def __init__(self) -> None:
        self.count = 0
        for model in (Cooperative, Training):
            event.listen(model, "load", self._on_load)

    def _on_load(self, target: Any, context: Any) -> None:
        self.count += 1

    def close(self) -> None:
        for model in (Cooperative, Training):
            event.remove(model, "load", self._on_load)


def pages_to_press(pages: int, presses: int) -> list[int]:
    """The first and last pages, their neighbours, and random pages between."""
    rng = random.Random(16)
    fixed = [0, 1, pages - 2, pages - 1, pages // 2]
    return fixed + [rng.randrange(pages) for _ in range(presses - len(fixed))]


def shown_on(markup: InlineKeyboardMarkup, prefix: str) -> tuple[list[str], str | None]:
    """(labels of the buttons of rows listed, the "page/pages" label) of a page's keyboard."""
    listed, position = [], None
    for row in markup.inline_keyboard:
        for button in row:
            data = button.callback_data or ""
            if "/" in button.text and button.text.replace("/", "").isdigit():
                position = button.text
            elif data.startswith(prefix):
                listed.append(button.text)
    return listed, position


async def bench_presses(url: str, presses: int) -> dict[str, Any]:
    settings = Settings(database_url=url, flood_limit=10**6, _env_file=None)  # type: ignore[call-arg]
    session = base.BenchSession()
    app = build_app(settings, session=session, token=OFFLINE_TOKEN)
    settle()
    problems: list[str] = []
    errors_before = base.ERRORS.count
    flow = base.Onboarding(app, session)
    loaded = Loaded()

    async def feed(update: Update) -> Any:
        return await app.dp.feed_update(app.bot, update)

    try:
        people = flow.people(40_000_000, PEOPLE)
        await base.drive_closed_loop(
            people, lambda w: len(base.SCRIPT) - w.done, flow.next_update, feed, PEOPLE
        )
        async with app.sessionmaker() as s:
            coop_order = list(
                await s.scalars(
                    select(Cooperative)
                    .where(Cooperative.regency_code == REGENCY)
                    .order_by(
                        Cooperative.merah_putih.desc(),
                        Cooperative.migrant.desc(),
                        Cooperative.name,
                        Cooperative.id,
                    )  # fmt: skip
                )
            )
            found = await trainings.upcoming(
                s, province_code=PROVINCE, regency_code=REGENCY, size=10**6
            )
            training_order = [t.title for t in found.rows]
        coop_labels = [_coop_button(c) for c in coop_order]
        loaded.count = 0
        results = {}
        cases = (
            ("cooperatives", coop_labels, COOP_PAGE, "co:card:",
             lambda p: CoopCB(act="res", id=1, r=REGENCY, k="any", p=p).pack()),
            ("trainings", training_order, TRAINING_PAGE, "tr:show:",
             lambda p: TrainingCB(act="list", page=p).pack()),
        )  # fmt: skip
        for name, expected, size, prefix, data in cases:
            pages = -(-len(expected) // size)
            samples, cpu, most_loaded = [], [], 0
            for i, page in enumerate(pages_to_press(pages, presses)):
                uid = people[i % PEOPLE].uid
                raw = base.raw_press(uid, data(page), 1000 + i, None)
                update = Update.model_validate(raw, context={"bot": app.bot})
                loaded.count = 0
                t0, c0 = time.perf_counter(), time.thread_time()
                await feed(update)
                samples.append(time.perf_counter() - t0)
                cpu.append(time.thread_time() - c0)
                most_loaded = max(most_loaded, loaded.count)
                _, _, markup = flow.keyboards.last[uid]
                listed, position = shown_on(markup, prefix)
                want = expected[page * size : (page + 1) * size]
                if name == "trainings":
                    listed = [label.split(". ", 1)[1] for label in listed]
                    want = [t if len(t) <= 40 else t[:39] + "…" for t in want]
                if listed != want or position != f"{page + 1}/{pages}":
                    problems.append(
                        f"{name} page {page + 1}: shown {listed[:2]}… {position}, "
                        f"expected {want[:2]}… {page + 1}/{pages}"
                    )
            if most_loaded > size:
                problems.append(f"{name}: a press loaded {most_loaded} rows, more than a page")
            results[name] = {
                "rows": len(expected),
                "pages": pages,
                "presses": len(samples),
                "most_rows_loaded_by_a_press": most_loaded,
                "latency_ms": base.summary_ms(samples),
                # CPU of this process's thread (SQLite's statements run in it; PostgreSQL's
                # server is not counted): the work, apart from waiting for a busy machine.
                "cpu_ms": base.summary_ms(cpu),
            }
        errors = base.ERRORS.count - errors_before
        if errors:
            problems.append(f"{errors} updates failed (see the errors above)")
    finally:
        loaded.close()
        await app.close()
    return {"presses": results, "problems": problems}


async def bench_echo_presses(presses: int) -> dict[str, Any]:
    """The bare aiogram floor of a press: one handler that answers and edits the message,
    fed one at a time through the same in-process Bot API."""
    router = Router(name="echo")

    @router.callback_query()
    async def echo(callback: CallbackQuery) -> None:
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.edit_text(callback.data or "-")

    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot(
        token=OFFLINE_TOKEN,
        session=base.BenchSession(),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    samples = []
    for i in range(presses + 50):  # the first 50 warm up
        raw = base.raw_press(50_000_000 + i % PEOPLE, f"echo:{i}", 1000 + i, None)
        update = Update.model_validate(raw, context={"bot": bot})
        t0 = time.perf_counter()
        await dp.feed_update(bot, update)
        if i >= 50:
            samples.append(time.perf_counter() - t0)
    await bot.session.close()
    return {"presses": presses, "latency_ms": base.summary_ms(samples)}


# --------------------------------------------------------------------------- report


def print_report(meta: dict[str, Any], backends: dict[str, Any]) -> None:
    names = list(backends)
    _, row = base.print_header(
        meta,
        f"Pulang Juragan paging and import benchmark: {COOPS:,} cooperatives in one regency, "
        f"{IN_REGION:,} of {SESSIONS:,} sessions for its region",
        f"{meta['presses']} presses a list, one at a time",
        names,
        52,
        30,
    )
    first = next(iter(backends.values()))
    for name in first["imports"]["runs"]:
        runs = [b["imports"]["runs"][name] for b in backends.values()]
        row(
            f"import {name}: wall s (CPU s)",
            [
                f"{r['wall_s']:.2f} ({r['cpu_s']:.2f}) {base.mark(r['wall_s'] <= TARGET_IMPORT_S)}"
                for r in runs
            ],
            f"≤ {TARGET_IMPORT_S:.0f} s",
        )
        row(
            "   peak RSS above idle (MB)",
            [
                f"{r['above_idle_mb']:+.1f} {base.mark(r['above_idle_mb'] <= TARGET_IMPORT_MB)}"
                for r in runs
            ],
            f"≤ {TARGET_IMPORT_MB:.0f} MB",
        )
    row(
        "   idle: juragan migrate, peak RSS (MB)",
        [f"{b['imports']['idle']['peak_rss_mb']:.1f}" for b in backends.values()],
    )
    echoes = [b["echo"]["latency_ms"] for b in backends.values()]
    row(
        "bare aiogram press echo p50 / p99 (ms)",
        [f"{e['p50']:.2f} / {e['p99']:.2f}" for e in echoes],
        "(baseline)",
    )
    for name in ("cooperatives", "trainings"):
        results = [b["presses"][name] for b in backends.values()]
        r0 = results[0]
        row(f"{name}: {r0['rows']:,} rows, {r0['pages']:,} pages", [""] * len(results))
        row(
            "   press p50 / p99 (ms)",
            [
                f"{r['latency_ms']['p50']:.1f} / {r['latency_ms']['p99']:.1f} "
                f"{base.mark(r['latency_ms']['p99'] <= TARGET_P99_MS)}"
                for r in results
            ],
            f"p99 ≤ {TARGET_P99_MS:.0f} ms",
        )
        row(
            "   p50 / p99 x bare echo",
            [
                f"x{r['latency_ms']['p50'] / e['p50']:.1f} / x{r['latency_ms']['p99'] / e['p99']:.1f}"
                for r, e in zip(results, echoes, strict=True)
            ],
        )
        row(
            "   CPU of the press, p50 / p99 (ms, this thread)",
            [f"{r['cpu_ms']['p50']:.1f} / {r['cpu_ms']['p99']:.1f}" for r in results],
        )
        row(
            "   max (ms); most rows loaded by a press",
            [f"{r['latency_ms']['max']:.1f}; {r['most_rows_loaded_by_a_press']}" for r in results],
            "≤ a page",
        )
    print()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"])
    p.add_argument("--pg-url", help="a PostgreSQL server (its database `bench_paging` is used)")
    p.add_argument("--presses", type=int, default=300, help="presses a list (default 300)")
    p.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
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
    meta.update(presses=args.presses, cooperatives=COOPS, sessions=SESSIONS, in_region=IN_REGION)
    t_all = time.perf_counter()
    backends: dict[str, Any] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="juragan-paging-") as tmp:
        for db in dbs:
            if db == "sqlite":
                url, shown = base.fresh_sqlite(Path(tmp)), "sqlite (temp file, WAL)"
            else:
                url = base.fresh_postgresql(pg_given or base.DEFAULT_PG, DATABASE)
                shown = make_url(url).render_as_string(hide_password=True)
            print(f"1/2 imports on {shown} ...", flush=True)
            imports, found = bench_imports(url, Path(tmp))
            print("2/2 page presses (and the bare aiogram echo) ...", flush=True)
            echo = run_fast(bench_echo_presses(args.presses))
            result = run_fast(bench_presses(url, args.presses))
            result.update(database=shown, imports=imports, echo=echo)
            for r in result["presses"].values():
                r["p99_to_echo_p99"] = r["latency_ms"]["p99"] / echo["latency_ms"]["p99"]
            backends[db] = result
            problems += [f"[{db}] {x}" for x in found + result.pop("problems")]
    meta["total_seconds"] = time.perf_counter() - t_all
    print_report(meta, backends)
    verdict = {
        db: {
            "press_p99": base.mark(
                all(r["latency_ms"]["p99"] <= TARGET_P99_MS for r in b["presses"].values())
            ),
            "import_seconds": base.mark(
                all(r["wall_s"] <= TARGET_IMPORT_S for r in b["imports"]["runs"].values())
            ),
            "import_memory": base.mark(
                all(r["above_idle_mb"] <= TARGET_IMPORT_MB for r in b["imports"]["runs"].values())
            ),
        }
        for db, b in backends.items()
    }
    return base.write_report(
        args.out,
        meta,
        {
            "press_p99_ms": TARGET_P99_MS,
            "import_seconds": TARGET_IMPORT_S,
            "import_above_idle_mb": TARGET_IMPORT_MB,
        },
        backends,
        verdict,
        problems,
    )


if __name__ == "__main__":
    sys.exit(main())
