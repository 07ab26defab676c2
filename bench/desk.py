"""Staff desk at scale (issue 16 point 7): the real desk, served by `juragan desk` in a process
of its own, against bench/scale.py's PostgreSQL database `scale`: a report, never a test.

    make bench-desk                                    # what bench/scale.py seeded
    .venv/bin/python bench/desk.py [--pg-url URL] [--runs 50] [--bulk 500] [--bulk-runs 3]

It seeds nothing: run `bench/scale.py --scale S` first (the figures below name how many people
and submissions it measured). It makes one staff person (everywhere, Telegram id 900000001,
kept between runs), starts `juragan desk` on a free port with DATABASE_URL at `scale`, signs in
as the bot's /meja does (a one-time link from `operations.desk.issue_link`, opened and spent
through the desk's own pages), takes the CSRF token from the queue page, then times over HTTP
on the loopback, one request at a time, after 3 warm-ups:

- `GET /meja/tinjau`: the review queue's first page (waiting, oldest first, 50 rows);
- `POST /meja/tinjau` with `q` = a surname (a name search: lower(name) LIKE '%..%'), and with
  a name no one has (no row matches, so every waiting submission's person is read: the worst);
- `POST /meja/tinjau` with `q` = the last four digits of a waiting returnee's phone;
- bulk approval of `--bulk` waiting KUR checks (a KUR check's approval has no effect beyond the
  submission): `POST /meja/tinjau/massal` in posts of at most desk.review.BULK_MAX ids (the
  desk refuses more at once), one after another; the time is from the first post to the last
  answer, every post its own committed transaction. Checked: every post answers 303 with all
  decided, and `--bulk` notices are queued in `outbox_notices`. Afterwards the bench puts the
  submissions back as they were (one UPDATE) and deletes the notices and submission_events it
  made; the audit_log rows stay (append-only by a trigger), so each run adds `--bulk` rows of
  `review.approve` there and one `desk.sign_in`.

Beside them, the queue's storage query alone (`desk_queue.page`, the same filters, in the
bench's process): what of a page is the database's and what is rendering.

Latency is the client's (request sent to body read) on the loopback: an upper bound of server
time. Beside it, a bare baseline from the same run: `GET /meja/static/desk.css`, an aiohttp
route of the same server with no database and no template; the ratio is a figure's p95 over the
baseline's p50. Memory: the desk process's RSS (/proc/PID/status) after it listens and before
any request (**idle**), and its peak (VmHWM) after serving everything; target ≤ 100 MB above.

Targets: p95 ≤ 100 ms for the three pages, ≤ 2 s for the bulk of 500. Prints a table and
writes bench/results/desk.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from desk.review import BULK_MAX  # noqa: E402
from operations import desk as desk_ops  # noqa: E402
from storage import desk_queue  # noqa: E402
from storage.db import create_engine, create_sessionmaker  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DATABASE = "scale"
STAFF_TELEGRAM_ID = 900_000_001
WARMUP = 3
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROW = re.compile(r'href="[^"]*tinjau/(\d+)')


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


def summary(name: str, target: float | None, times: list[float], rows: int | None = None,
            note: str = "") -> Figure:  # fmt: skip
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return Figure(name, target, len(times), statistics.median(times), p95, times[-1], rows, note)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_kb(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def reset_peak(pid: int) -> bool:
    """VmHWM back to the RSS of now (Linux: clear_refs 5), so it holds the serving's peak and
    not the start-up's (`juragan desk` migrates first); False where that is refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Sampler:
    """The process's RSS every 20 ms, where VmHWM cannot be reset."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0

    async def run(self) -> None:
        while True:
            self.peak = max(self.peak, status_kb(self.pid)["VmRSS"])
            await asyncio.sleep(0.02)


# ---------------------------------------------------------------- the database


async def staff_person(engine: Any) -> int:
    """The bench's staff person (everywhere), made once and kept."""
    now = datetime.now(UTC)
    async with engine.begin() as c:
        found = await c.scalar(
            text("SELECT id FROM people WHERE telegram_id = :t"), {"t": STAFF_TELEGRAM_ID}
        )
        if found is None:
            found = await c.scalar(
                text(
                    "INSERT INTO people (telegram_id, name, province_code, regency_code, locale, "
                    "role, nudges, announcements, onboarded_at, created_at, updated_at) VALUES "
                    "(:t, 'Petugas Bench', '31', '31.71', 'id', 'staff', false, false, :n, :n, :n) "
                    "RETURNING id"
                ),
                {"t": STAFF_TELEGRAM_ID, "n": now},
            )
        await c.execute(
            text("UPDATE people SET role = 'staff', scope_regions = NULL WHERE id = :i"),
            {"i": found},
        )
    return int(found)


async def picks(engine: Any, n: int) -> dict[str, Any]:
    """The bulk's submissions (waiting KUR checks, as they are now) and the search terms."""
    async with engine.connect() as c:
        rows = (
            await c.execute(
                text(
                    "SELECT id, updated_at, reason FROM submissions WHERE status = 'submitted' "
                    "AND kind = 'kur_readiness' ORDER BY id LIMIT :n"
                ),
                {"n": n},
            )
        ).all()
        phone = await c.scalar(
            text(
                "SELECT p.phone FROM submissions s JOIN people p ON p.id = s.person_id "
                "WHERE s.status = 'submitted' AND p.phone IS NOT NULL ORDER BY s.id DESC LIMIT 1"
            )
        )
        counts = {
            "people": await c.scalar(text("SELECT count(*) FROM people")),
            "submissions": await c.scalar(text("SELECT count(*) FROM submissions")),
            "waiting": await c.scalar(
                text("SELECT count(*) FROM submissions WHERE status = 'submitted'")
            ),
        }
    return {"bulk": [(r[0], r[1], r[2]) for r in rows], "digits": str(phone)[-4:], "counts": counts}


async def marks(engine: Any) -> dict[str, int]:
    async with engine.connect() as c:
        return {
            t: int(await c.scalar(text(f"SELECT coalesce(max(id), 0) FROM {t}")) or 0)
            for t in ("outbox_notices", "submission_events")
        }


async def queued_since(engine: Any, mark: dict[str, int]) -> int:
    async with engine.connect() as c:
        return int(
            await c.scalar(
                text("SELECT count(*) FROM outbox_notices WHERE id > :m"),
                {"m": mark["outbox_notices"]},
            )
            or 0
        )


async def put_back(engine: Any, bulk: list[tuple[int, datetime, str | None]],
                   mark: dict[str, int]) -> None:  # fmt: skip
    """The bulk's submissions waiting again as they were; its notices and history gone."""
    async with engine.begin() as c:
        await c.execute(
            text(
                "UPDATE submissions s SET status = 'submitted', decided_at = NULL, "
                "decided_by = NULL, reason = v.reason, updated_at = v.updated_at "
                "FROM unnest(CAST(:ids AS integer[]), CAST(:ats AS timestamptz[]), "
                "CAST(:reasons AS text[])) AS v(id, updated_at, reason) WHERE s.id = v.id"
            ),
            {
                "ids": [b[0] for b in bulk],
                "ats": [b[1] for b in bulk],
                "reasons": [b[2] for b in bulk],
            },  # fmt: skip
        )
        for table, key in (("outbox_notices", "outbox_notices"),
                           ("submission_events", "submission_events")):  # fmt: skip
            await c.execute(text(f"DELETE FROM {table} WHERE id > :m"), {"m": mark[key]})


async def query_alone(engine: Any, search: str, runs: int) -> list[float]:
    """The queue's storage query for a page (desk_queue.page, everywhere, waiting, oldest
    first, 51 rows as the page asks) in this process: what the database takes of a page."""
    maker = create_sessionmaker(engine)
    query = desk_queue.Query(regions=None, search=search)

    async def once() -> None:
        async with maker() as session:
            await desk_queue.page(session, query, limit=51)
            await session.rollback()

    times, _ = await timed(once, runs)
    return times


# ---------------------------------------------------------------- the desk


async def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"bench/desk.py: `juragan desk` exited {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit("bench/desk.py: the desk did not listen within 30 s")


async def timed(call: Any, runs: int) -> tuple[list[float], Any]:
    times, last = [], None
    for i in range(WARMUP + runs):
        started = time.perf_counter()
        last = await call()
        took = (time.perf_counter() - started) * 1000
        if i >= WARMUP:
            times.append(took)
    return times, last


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("JURAGAN_SCALE_PG_URL", DEFAULT_PG))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--bulk", type=int, default=500)
    parser.add_argument("--bulk-runs", type=int, default=3)
    parser.add_argument("--name", default="Lestari", help="a name searched for (many match)")
    parser.add_argument(
        "--absent-name", default="Kartini", help="a name no one has (every waiting row read)"
    )
    args = parser.parse_args(argv)
    url = make_url(args.pg_url).set(database=DATABASE).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        async with engine.connect() as c:
            await c.scalar(text("SELECT count(*) FROM people"))
    except Exception:
        print("bench/desk.py: no seeded database `scale`; run bench/scale.py --scale 0.1 first")
        return 2
    staff_id = await staff_person(engine)
    chosen = await picks(engine, args.bulk)
    bulk = chosen["bulk"]
    if len(bulk) < args.bulk:
        print(f"bench/desk.py: only {len(bulk)} waiting KUR checks to approve")
        return 2
    load_before = os.getloadavg()
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, DESK_URL=f"http://127.0.0.1:{port}/meja/",
               DESK_HOST="127.0.0.1", DESK_PORT=str(port), LOG_LEVEL="WARNING")  # fmt: skip
    juragan = ROOT / ".venv" / "bin" / "juragan"
    command = [str(juragan)] if juragan.exists() else [sys.executable, "-m", "bot"]
    process = subprocess.Popen([*command, "desk"], cwd=ROOT, env=env)  # noqa: ASYNC220
    figures: list[Figure] = []
    checks: dict[str, Any] = {}
    base = f"http://127.0.0.1:{port}/meja"
    try:
        await wait_listening(port, process)
        await asyncio.sleep(1.0)
        idle_kb = status_kb(process.pid)["VmRSS"]
        peak_reset = reset_peak(process.pid)
        sampled = Sampler(process.pid)
        sampler = None if peak_reset else asyncio.create_task(sampled.run())
        jar = aiohttp.CookieJar(unsafe=True)  # cookies of an IP address host
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with create_sessionmaker(engine)() as session, session.begin():
                token = await desk_ops.issue_link(
                    session, person_id=staff_id, now=datetime.now(UTC)
                )
            async with http.get(f"{base}/masuk/{token}") as r:
                assert r.status == 200, r.status
            async with http.post(
                f"{base}/masuk", data={"token": token}, allow_redirects=False
            ) as r:
                assert r.status == 303, (r.status, await r.text())
            async with http.get(f"{base}/tinjau") as r:
                page = await r.text()
            found = CSRF.search(page)
            assert found, page[:500]
            csrf = found.group(1)

            async def get(path: str) -> tuple[int, str]:
                async with http.get(f"{base}{path}") as r:
                    return r.status, await r.text()

            async def search(q: str) -> tuple[int, str]:
                async with http.post(f"{base}/tinjau", data={"csrf": csrf, "q": q}) as r:
                    return r.status, await r.text()

            def rows(answer: tuple[int, str]) -> int:
                status, body = answer
                assert status == 200, (status, body[:300])
                return len(set(ROW.findall(body)))

            times, last = await timed(lambda: get("/static/desk.css"), args.runs)
            figures.append(summary("baseline: GET static/desk.css (no database)", None, times))
            times, last = await timed(lambda: get("/tinjau"), args.runs)
            figures.append(summary("GET /meja/tinjau (queue, first page)", 100, times, rows(last)))
            times, last = await timed(lambda: search(args.name), args.runs)
            figures.append(
                summary(f"POST /meja/tinjau q={args.name!r} (name)", 100, times, rows(last))
            )
            times, last = await timed(lambda: search(args.absent_name), args.runs)
            figures.append(
                summary(
                    f"POST /meja/tinjau q={args.absent_name!r} (no one)", 100, times, rows(last)
                )  # fmt: skip
            )
            times, last = await timed(lambda: search(chosen["digits"]), args.runs)
            figures.append(
                summary("POST /meja/tinjau q=<last 4 of a phone>", 100, times, rows(last))
            )

            for label, q in (("queue", ""), (repr(args.name), args.name),
                             (repr(args.absent_name), args.absent_name),
                             ("last 4", chosen["digits"])):  # fmt: skip
                figures.append(
                    summary(
                        f"  its query alone: desk_queue.page {label}",
                        None,
                        await query_alone(engine, q, args.runs),
                    )  # fmt: skip
                )
            bulk_times = []
            ids = [b[0] for b in bulk]
            for _ in range(args.bulk_runs):
                mark = await marks(engine)
                try:
                    started = time.perf_counter()
                    decided = 0
                    for at in range(0, len(ids), BULK_MAX):
                        form = [("csrf", csrf), ("decision", "approve")]
                        form += [("ids", str(i)) for i in ids[at : at + BULK_MAX]]
                        async with http.post(
                            f"{base}/tinjau/massal", data=form, allow_redirects=False
                        ) as r:
                            await r.read()
                            where = r.headers.get("Location", "")
                            assert r.status == 303, r.status
                            decided += int(re.search(r"[?&]n=(\d+)", where).group(1))  # type: ignore[union-attr]
                    bulk_times.append((time.perf_counter() - started) * 1000)
                    queued = await queued_since(engine, mark)
                    checks.setdefault("bulk_decided", []).append(decided)
                    checks.setdefault("bulk_notices_queued", []).append(queued)
                finally:
                    await put_back(engine, bulk, mark)
            posts = -(-args.bulk // BULK_MAX)
            figures.append(
                summary(
                    f"bulk approve {args.bulk} ({posts} POSTs of <= {BULK_MAX})",
                    2000,
                    bulk_times,
                    args.bulk,
                    note=f"decided {checks['bulk_decided']}, notices queued "
                    f"{checks['bulk_notices_queued']} per run; put back after each",
                )  # fmt: skip
            )
            memory = status_kb(process.pid)
            if sampler is not None:
                sampler.cancel()  # VmHWM still holds the start-up's peak: the sampled one
                memory["VmHWM"] = max(sampled.peak, memory["VmRSS"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        async with engine.begin() as c:  # the bench's sessions end
            await c.execute(text("DELETE FROM desk_sessions WHERE person_id = :p"), {"p": staff_id})
        await engine.dispose()
    load_after = os.getloadavg()
    baseline = figures[0].p50_ms
    above_mb = (memory["VmHWM"] - idle_kb) / 1024
    ok = all(f.p95_ms <= f.target_ms for f in figures if f.target_ms is not None)
    correct = all(n == args.bulk for n in checks["bulk_decided"] + checks["bulk_notices_queued"])
    counts = chosen["counts"]
    print(
        f"\nDatabase {DATABASE!r}: {counts['people']:,} people, {counts['submissions']:,} "
        f"submissions ({counts['waiting']:,} waiting); {args.runs} runs each, "
        f"{args.bulk_runs} bulk runs; load average {load_before[0]:.2f} -> {load_after[0]:.2f} "
        f"on {os.cpu_count()} CPUs\n"
    )
    print(
        f"{'case':<52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'rows':>5} {'target':>7} "
        f"{'x baseline':>11}  verdict"
    )
    for f in figures:
        target = f"{f.target_ms:.0f}" if f.target_ms is not None else "-"
        verdict = "" if f.target_ms is None else ("ok" if f.p95_ms <= f.target_ms else "OVER")
        print(
            f"{f.name:<52} {f.p50_ms:8.1f} {f.p95_ms:8.1f} {f.max_ms:8.1f} "
            f"{f.rows if f.rows is not None else '-':>5} {target:>7} "
            f"{f.p95_ms / baseline if baseline else 0:11.0f}  {verdict}"
        )
    print(
        f"{'desk process memory: idle RSS / peak / above idle':<52} "
        f"{idle_kb / 1024:7.1f}M {memory['VmHWM'] / 1024:7.1f}M {above_mb:7.1f}M {'':>5} "
        f"{'100M':>7} {'':>11}  {'ok' if above_mb <= 100 else 'OVER'}"
    )
    for f in figures:
        if f.note:
            print(f"  {f.name}: {f.note}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "desk.json"
    out.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_before": load_before,
                    "load_after": load_after,
                },
                "database": counts,
                "baseline_p50_ms": baseline,
                "figures": [asdict(f) for f in figures],
                "memory_mb": {
                    "idle_rss": idle_kb / 1024,
                    "peak": memory["VmHWM"] / 1024,
                    "rss_after": memory["VmRSS"] / 1024,
                    "above_idle": above_mb,
                    "peak_from": "VmHWM after clear_refs" if peak_reset else "sampled RSS",
                    "target": 100,
                },
                "checks": checks,
                "within_targets": ok and above_mb <= 100,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(ROOT)}")
    if not correct:
        print("bench/desk.py: the bulk did not decide or queue every one (see checks)")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
