"""Export benchmark: 300,000 submissions streamed to XLSX and CSV, memory above idle and time,
beside a bare baseline: a report, never a timed test.

    python bench/exports.py [--rows 300000] [--pg-url URL] [--reseed] [--formats xlsx,zip,csv]

Seeds PostgreSQL database `bench_exports` on the server of `--pg-url` (migrated by the project,
rows by COPY; kept between runs, seeded again when the count differs or with --reseed) with
`--rows` submissions of the four kinds, in every status, over a year, each with the answers
its kind's snapshot holds (a KUR check's eleven, a founding plan's milestones...), and one
person for every three submissions (name, phone, NIK).

Each case runs in a fresh Python process (so idle is idle): it imports everything and writes a
100-row export first (openpyxl, Babel's locale data and the database pool loaded), takes its
RSS (`/proc/self/status` VmRSS) as **idle**, then runs the case while a thread samples RSS every
20 ms; **peak above idle** and the wall time are reported:

- `xlsx`: every submission, one sheet per kind (`bot.exports.exported`, fmt xlsx, full numbers);
- `zip`: every submission, one CSV per kind in a zip;
- `csv`: one kind's CSV (the biggest kind, about a quarter of the rows);
- `baseline`: the same number of plain rows (ids, codes, a name, a phone, times as text: 14
  columns) built as a Python list and written with `csv.writer` to a file: what the simplest
  program that holds the rows takes. The ratios are the export's figure over this one.

Target (issue 17): **≤ 100 MB above idle** for 300,000 rows. Prints a table and writes
``bench/results/exports.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage.db import create_engine  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "exports.json"
DATABASE = "bench_exports"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
TARGET_MB = 100.0
CASES = ("xlsx", "zip", "csv")
KINDS = ("join_request", "founding", "kur_readiness", "training_registration")
STATUSES = ("submitted", "approved", "rejected", "returned", "withdrawn")
FIRST = ("Siti", "Sri", "Dewi", "Nur", "Ani", "Rina", "Budi", "Agus", "Eko", "Wahyu", "Yuli")
LAST = ("Aminah", "Rahayu", "Lestari", "Wati", "Santoso", "Saputra", "Hidayat", "Susanti")
REGENCIES = ("35.78", "35.07", "32.04", "33.74", "52.01", "52.03", "51.71", "73.71", "12.71")
MILESTONES = ("counselling", "statutes", "founding_meeting", "deposit", "business_plan")


# ---------------------------------------------------------------- seeding


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def prepare(pg_url: str) -> str:
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


def answers(kind: str, rng: random.Random, created: datetime) -> dict[str, Any]:
    later = (created + timedelta(days=rng.randrange(3, 40))).isoformat()
    if kind == "join_request":
        return {
            "cooperative_name": f"Koperasi {rng.choice(LAST)} Sejahtera",
            "cooperative_id": rng.randrange(1, 5000),
            "nik": f"3578{rng.randrange(10**11, 10**12)}",
        }
    if kind == "founding":
        return {
            "name": f"Koperasi Purna PMI {rng.choice(LAST)}",
            "kind": rng.choice(("simpan_pinjam", "konsumen", "produsen", "pemasaran", "jasa")),
            "purpose": "Usaha bersama para purna PMI di desa: warung, pertanian dan simpan pinjam",
            "founders": rng.randrange(1, 25),
            "meeting_at": later,
            "milestones": {m: later for m in MILESTONES[: rng.randrange(0, len(MILESTONES))]},
        }
    if kind == "kur_readiness":
        return {
            "status": rng.choice(("running6", "running_less", "plan")),
            "business": rng.choice(("warung sembako", "jahit", "ternak ayam", "bengkel motor")),
            "age": "adult",
            "ektp": "yes",
            "kk": "yes",
            "permit": rng.choice(("nib", "sku", "none")),
            "amount": rng.randrange(5, 500) * 1_000_000,
            "npwp": rng.choice(("yes", "no")),
            "had_kur": rng.choice(("never", "before")),
            "credit": rng.choice(("none", "consumer_ok", "business")),
            "slik": rng.choice(("ok", "not_yet")),
        }
    return {
        "title": f"Pelatihan {rng.choice(('menjahit', 'tata boga', 'digital marketing'))}",
        "training_id": rng.randrange(1, 20_000),
        "starts_at": later,
        "status": rng.choice(("registered", "waitlisted")),
    }


async def seed(url: str, rows: int, rng: random.Random) -> float:
    import scale  # bench/scale.py: COPY in batches through the project's engine

    from storage.migrate import upgrade

    engine = create_engine(url)
    started = time.perf_counter()
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await asyncio.to_thread(upgrade, url)
        people = max(1, rows // 3)

        def people_rows() -> Any:
            for i in range(1, people + 1):
                regency = rng.choice(REGENCIES)
                yield (
                    i, 10_000_000 + i, f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    f"+628{rng.randrange(10**9, 10**10)}", regency[:2], regency,
                    f"{regency.replace('.', '')}{rng.randrange(10**11, 10**12)}"
                    if rng.random() < 0.5 else None,
                    "id", "returnee", NOW, NOW,
                )  # fmt: skip

        def submission_rows() -> Any:
            for i in range(1, rows + 1):
                kind = rng.choice(KINDS)
                status = rng.choices(STATUSES, weights=(35, 40, 10, 10, 5))[0]
                regency = rng.choice(REGENCIES)
                created = NOW - timedelta(days=rng.uniform(0, 365))
                decided = status in ("approved", "rejected", "returned")
                yield (
                    i, rng.randrange(1, people + 1), kind, regency[:2], regency,
                    json.dumps(answers(kind, rng, created)), status,
                    "Data belum lengkap" if status in ("rejected", "returned") else None,
                    json.dumps(["amount"]) if status == "returned" else None,
                    created, created, created + timedelta(days=2) if decided else None,
                )  # fmt: skip

        await scale.copy(
            engine, "people",
            ("id", "telegram_id", "name", "phone", "province_code", "regency_code", "nik",
             "locale", "role", "created_at", "updated_at"),
            people_rows(),
        )  # fmt: skip
        await scale.copy(
            engine, "submissions",
            ("id", "person_id", "kind", "province_code", "regency_code", "answers", "status",
             "reason", "returned_fields", "created_at", "updated_at", "decided_at"),
            submission_rows(),
        )  # fmt: skip
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("people", "submissions"):
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            await connection.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def seeded_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(text("SELECT count(*) FROM submissions")) or 0)
    except Exception:
        return 0
    finally:
        await engine.dispose()


# ---------------------------------------------------------------- one case, in a child


class Sampler:
    """RSS every 20 ms in a thread; the highest seen."""

    def __init__(self) -> None:
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def baseline_rows(n: int) -> list[tuple[Any, ...]]:
    rng = random.Random(1)
    return [
        (
            i,
            rng.choice(KINDS),
            rng.choice(STATUSES),
            (NOW - timedelta(days=rng.uniform(0, 365))).isoformat(),
            NOW.isoformat(),
            "35",
            "35.78",
            f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            f"+628{rng.randrange(10**9, 10**10)}",
            f"Koperasi {rng.choice(LAST)} Sejahtera",
            rng.randrange(1, 5000),
            rng.randrange(5, 500) * 1_000_000,
            "Data belum lengkap",
            "amount",
        )  # fmt: skip
        for i in range(1, n + 1)
    ]


def write_baseline(out: Path, rows: int) -> tuple[int, int]:
    table = baseline_rows(rows)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"c{i}" for i in range(14)])
        writer.writerows(table)
    return len(table), out.stat().st_size


async def child(case: str, url: str, rows: int, out: Path) -> dict[str, Any]:
    import gc

    from bot import exports as files
    from storage import exports as store
    from storage.db import create_sessionmaker

    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    options: dict[str, Any] = {"full": True, "locale": "id", "tz": "Asia/Jakarta"}
    try:
        if case != "baseline":  # warm: openpyxl, Babel's data, the pool, the statements
            warm = store.Filters(region="51.71", since=NOW - timedelta(days=3))
            async with files.exported(sessionmaker, warm, fmt=case, **options) as built:
                assert built.path.exists()
            warm_kind = store.Filters(kinds=(KINDS[0],), since=NOW - timedelta(days=1))
            async with files.exported(sessionmaker, warm_kind, fmt=files.CSV, **options):
                pass
        gc.collect()
        idle = rss_bytes()
        started = time.perf_counter()
        with Sampler() as sampler:
            if case == "baseline":
                written, size = write_baseline(out, rows)
            else:
                if case == "csv":
                    async with sessionmaker() as session:
                        by_kind = (await store.counted(session, store.Filters())).by_kind
                    biggest = max(by_kind, key=lambda k: by_kind[k])
                    filters = store.Filters(kinds=(biggest,))
                else:
                    filters = store.Filters()
                async with files.exported(sessionmaker, filters, fmt=case, **options) as built:
                    written, size = built.rows, built.path.stat().st_size
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    return {
        "case": case,
        "rows": written,
        "seconds": round(seconds, 2),
        "rows_per_s": round(written / seconds) if seconds else 0,
        "idle_mb": round(idle / 2**20, 1),
        "peak_above_idle_mb": round((sampler.peak - idle) / 2**20, 1),
        "file_mb": round(size / 2**20, 1),
    }


def run_case(case: str, url: str, rows: int, tmp: Path) -> dict[str, Any]:
    command = [
        sys.executable, __file__, "--child", case, "--url", url, "--rows", str(rows),
        "--out", str(tmp / f"baseline-{os.getpid()}.csv"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"case {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the report


def report(results: list[dict[str, Any]]) -> str:
    base = next(r for r in results if r["case"] == "baseline")
    lines = [
        f"{'case':<10} {'rows':>9} {'seconds':>8} {'rows/s':>8} {'idle MB':>8} "
        f"{'peak-idle MB':>13} {'file MB':>8} {'time ×base':>10} {'mem ×base':>9} {'target':>8}",
    ]
    for r in results:
        time_ratio = r["seconds"] / base["seconds"] if base["seconds"] else 0
        mem = r["peak_above_idle_mb"]
        mem_ratio = mem / base["peak_above_idle_mb"] if base["peak_above_idle_mb"] else 0
        ok = "" if r["case"] == "baseline" else ("ok" if mem <= TARGET_MB else "MISSED")
        lines.append(
            f"{r['case']:<10} {r['rows']:>9,} {r['seconds']:>8.1f} {r['rows_per_s']:>8,} "
            f"{r['idle_mb']:>8.1f} {mem:>13.1f} {r['file_mb']:>8.1f} {time_ratio:>10.1f} "
            f"{mem_ratio:>9.2f} {ok:>8}"
        )
    lines.append(f"target: peak above idle ≤ {TARGET_MB:.0f} MB for every export")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    if args.child:
        result = await child(args.child, args.url, args.rows, Path(args.out))
        print(json.dumps(result))
        return 0
    url = await prepare(args.pg_url)
    have = await seeded_rows(url)
    seconds = None
    if args.reseed or have != args.rows:
        print(f"Seeding {args.rows:,} submissions into {DATABASE!r}...", flush=True)
        seconds = await seed(url, args.rows, random.Random(args.seed))
        print(f"  seeded in {seconds:.1f} s", flush=True)
    else:
        print(f"Database {DATABASE!r} already holds {have:,} submissions.", flush=True)
    import tempfile

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in ["baseline", *args.formats.split(",")]:
            print(f"  {case}...", flush=True)
            results.append(run_case(case, url, args.rows, Path(tmp)))
            print(f"    {results[-1]}", flush=True)
    print()
    print(report(results))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "rows": args.rows,
                "seed_seconds": seconds,
                "results": results,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {args.json.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("JURAGAN_SCALE_PG_URL", DEFAULT_PG))
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--formats", default=",".join(CASES))
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
