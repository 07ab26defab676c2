"""Start-up time benchmark: a report, never a timed test.

    python bench/startup.py [--runs 5]

Medians of `--runs` (5) fresh processes, each after one untimed warm-up run (the files in the
page cache, the bytecode compiled into a cache of its own, as the image's `compileall` does), all
on this machine's interpreter (`.venv/bin/python`):

1. ``python -c pass``: the interpreter alone;
2. ``python -c "import aiogram"``: the baseline every figure is divided by;
3. ``python -c "import bot.app"``: everything the bot imports before it runs.
   1-3 are timed from exec to the statement done (the child prints ``time.monotonic()``, the
   clock every process shares), not to its exit: a running bot never pays the interpreter's
   teardown, which after ``import bot.app`` takes ~0.7 s here (also printed);
4. ``juragan run`` (``python -m bot run``) against the fake Bot API (tests.support.fake_bot_api,
   in this process) on a pre-migrated SQLite file: from exec to its last start-up call (the
   default command menu, ``setMyCommands`` with a scope) and to its first long poll (the
   ``getUpdates`` arriving at the fake). Target: **the first long poll ≤ 3 s** (a target this
   project set for this machine). Then, with the bot idle, its RSS (``/proc/<pid>/status``,
   median of samples over 2 s), and the first update's answer: a ``/start`` pushed into the
   fake, to the bot's reply (the first update pays for the code paths nothing ran yet);
5. ``juragan webhook`` (the production mode) on the same file: from exec to its ``setWebhook``
   reaching the fake and to the first ``GET /healthz`` answered 200 (polled every 20 ms), its
   idle RSS likewise. Same target.

Prints a table and writes ``bench/results/startup.json``. Exit code 0 whatever the figures; 2
when a correctness check fails (a process failed, the bot never answered, or it logged an
error). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import aiohttp  # noqa: E402
import updates as base  # noqa: E402  (bench/updates.py: machine line, print_header, report)
from broadcast import read_log, rss_of  # noqa: E402

from bot.app import run_fast  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.support.fake_bot_api import FakeBotAPI  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "startup.json"
TOKEN = "123456:TEST-token"
TARGET_READY_S = 3.0  # exec -> first long poll, set by this project for this machine
IDLE_SECONDS = 2.0
SAMPLE_EVERY = 0.25
FIRST_UID = 5_100_000_001
MB = 1024 * 1024
IMPORTS: tuple[tuple[str, str], ...] = (
    ("python -c pass", "pass"),
    ("import aiogram", "import aiogram"),
    ("import bot.app", "import bot.app"),
)
BASELINE = "import aiogram"


# Where the measured processes keep their bytecode (set by main): the image compiles it
# (`python -m compileall` in the Dockerfile), so every start reads it; a development shell
# with PYTHONDONTWRITEBYTECODE=1 would compile bot/, flows/ and storage/ again on each start.
PYCACHE: Path | None = None


def child_env(**settings: str) -> dict[str, str]:
    """This environment without the bot's own settings (a developer's DATABASE_URL or
    BOT_TOKEN must not leak into the measured process), with a bytecode cache of its own
    (written by the warm-up run), plus `settings`."""
    own = {"BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL", "LOG_LEVEL", "LOG_FORMAT"}
    own |= {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
    env = {k: v for k, v in os.environ.items() if k not in own and not k.startswith("WEBHOOK_")}
    if PYCACHE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return {**env, **settings}


def time_import(code: str, runs: int) -> dict[str, Any]:
    """Seconds from exec to `code` done (the child prints time.monotonic(), one clock for all
    processes), and to its exit (interpreter teardown included, which the bot's figures never
    pay): one warm-up, then `runs` timed."""
    done_s: list[float] = []
    exit_s: list[float] = []
    failures: list[str] = []
    for i in range(runs + 1):
        t0 = time.monotonic()
        child = subprocess.run(
            [sys.executable, "-c", f"{code}; import time; print(time.monotonic())"],
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - t0
        if child.returncode != 0:
            failures.append(child.stderr[-500:])
        elif i > 0:
            done_s.append(float(child.stdout.split()[-1]) - t0)
            exit_s.append(elapsed)
    return {
        "seconds": done_s,
        "median_s": statistics.median(done_s) if done_s else float("nan"),
        "min_s": min(done_s, default=float("nan")),
        "max_s": max(done_s, default=float("nan")),
        "to_exit_seconds": exit_s,
        "to_exit_median_s": statistics.median(exit_s) if exit_s else float("nan"),
        "failures": failures,
    }


async def end(proc: asyncio.subprocess.Process, sig: signal.Signals, *, timeout: float) -> None:
    """Stop it with `sig`; SIGKILL if it has not exited within `timeout` seconds."""
    if proc.returncode is None:
        proc.send_signal(sig)
    try:
        await asyncio.wait_for(proc.wait(), timeout=timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def one_bot_start(url: str, uid: int, log_path: Path) -> dict[str, Any]:
    """One `juragan run` against a fresh fake: exec -> last start-up call and first long poll;
    idle RSS; a /start pushed -> its reply; stopped with SIGINT."""
    async with FakeBotAPI() as fake:
        env = child_env(
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=fake.base_url,
            DATABASE_URL=url,
            LOG_LEVEL="WARNING",
        )
        with log_path.open("ab") as out:
            t0 = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, cwd=ROOT, stdout=out, stderr=out
            )  # fmt: skip
        result: dict[str, Any] = {"pid": proc.pid}
        try:
            menu = asyncio.create_task(
                fake.wait_for(
                    lambda c: c.method == "setMyCommands" and "scope" in c.params, timeout=60
                )
            )
            died = asyncio.create_task(proc.wait())
            await asyncio.wait({menu, died}, return_when=asyncio.FIRST_COMPLETED)
            if died.done():
                menu.cancel()
                raise RuntimeError(f"juragan run exited early:\n{read_log(log_path)[-3000:]}")
            died.cancel()
            result["commands_s"] = (await menu).at - t0
            # Idle: started, its long poll waiting (the fake holds it up to 10 s).
            rss: list[int] = []
            t_idle = time.monotonic()
            while time.monotonic() - t_idle < IDLE_SECONDS:
                got = rss_of(proc.pid)
                if got is not None:
                    rss.append(got[0])
                await asyncio.sleep(SAMPLE_EVERY)
            result["idle_rss_mb"] = statistics.median(rss) / MB if rss else float("nan")
            # A /start: the poll waiting returns it at once; the fake records a getUpdates
            # when it returns, with the time it arrived.
            since = len(fake.calls)
            pushed = time.monotonic()
            raw = base.raw_text(uid, 1, "/start")
            # Unique across runs: a fresh fake numbers from 1, and the bot skips an update_id
            # it has processed (the database is the same file every run).
            raw["update_id"] = uid
            fake.push_update(raw)
            reply = await fake.wait_for(
                lambda c: c.method == "sendMessage" and int(c.params.get("chat_id") or 0) == uid,
                timeout=30,
                since=since,
            )
            result["first_update_s"] = reply.at - pushed
            polls = fake.calls_to("getUpdates")
            result["first_poll_s"] = polls[0].at - t0 if polls else float("nan")
        finally:
            await end(proc, signal.SIGINT, timeout=20)  # as an operator stops `juragan run`
        result["exit_code"] = proc.returncode
        return result


async def one_webhook_start(url: str, log_path: Path) -> dict[str, Any]:
    """One `juragan webhook` against a fresh fake: exec -> setWebhook and -> /healthz 200;
    idle RSS; stopped with SIGTERM."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    async with FakeBotAPI() as fake, aiohttp.ClientSession() as client:
        env = child_env(
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=fake.base_url,
            DATABASE_URL=url,
            LOG_LEVEL="WARNING",
            WEBHOOK_URL="https://bot.example.test/tg/hook",
            WEBHOOK_SECRET="bench-secret",
            WEBHOOK_HOST="127.0.0.1",
            WEBHOOK_PORT=str(port),
        )
        with log_path.open("ab") as out:
            t0 = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "webhook", env=env, cwd=ROOT, stdout=out, stderr=out
            )  # fmt: skip
        result: dict[str, Any] = {"pid": proc.pid}
        try:
            while True:
                if proc.returncode is not None or time.monotonic() - t0 > 60:
                    raise RuntimeError(
                        f"juragan webhook never healthy (exit code {proc.returncode}):\n"
                        f"{read_log(log_path)[-3000:]}"
                    )
                try:
                    async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                        await response.read()
                        if response.status == 200:
                            result["healthy_s"] = time.monotonic() - t0
                            break
                except (aiohttp.ClientError, OSError):
                    pass
                await asyncio.sleep(0.02)
            hooks = fake.calls_to("setWebhook")
            result["set_webhook_s"] = hooks[0].at - t0 if hooks else float("nan")
            rss: list[int] = []
            t_idle = time.monotonic()
            while time.monotonic() - t_idle < IDLE_SECONDS:
                got = rss_of(proc.pid)
                if got is not None:
                    rss.append(got[0])
                await asyncio.sleep(SAMPLE_EVERY)
            result["idle_rss_mb"] = statistics.median(rss) / MB if rss else float("nan")
        finally:
            await end(proc, signal.SIGTERM, timeout=45)  # as systemd stops `juragan webhook`
        result["exit_code"] = proc.returncode
        return result


async def starts_of(
    what: str, start: Any, runs: int, log_path: Path, keys: tuple[str, ...]
) -> dict[str, Any]:
    """`runs` timed starts after one warm-up; medians of `keys`, and the slowest."""
    starts: list[dict[str, Any]] = []
    problems: list[str] = []
    for i in range(runs + 1):  # the first is the warm-up
        try:
            one = await start(i)
        except (RuntimeError, AssertionError) as exc:
            problems.append(f"{what}, start {i}: {str(exc)[:1500]}")
            continue
        if one["exit_code"] != 0:
            problems.append(f"{what}, start {i}: exit code {one['exit_code']} when stopped")
        if i > 0:
            starts.append(one)
    log_text = read_log(log_path)
    errors = [line for line in log_text.splitlines() if " ERROR " in line or "Traceback" in line]
    if errors:
        problems.append(f"{what}: {len(errors)} ERROR/Traceback lines in its log: {errors[:3]}")
    if len(starts) < runs:
        problems.append(f"{what}: {len(starts)} of {runs} starts measured")
    out: dict[str, Any] = {"runs": starts, "problems": problems}
    for key in keys:
        xs = [s[key] for s in starts if key in s]
        out[key] = statistics.median(xs) if xs else float("nan")
        out[f"{key}_max"] = max(xs, default=float("nan"))
    return out


async def bot_starts(url: str, runs: int, tmp: Path) -> dict[str, Any]:
    log_path = tmp / "bot.log"
    return await starts_of(
        "juragan run",
        lambda i: one_bot_start(url, FIRST_UID + i, log_path),
        runs,
        log_path,
        ("commands_s", "first_poll_s", "first_update_s", "idle_rss_mb"),
    )


async def webhook_starts(url: str, runs: int, tmp: Path) -> dict[str, Any]:
    log_path = tmp / "webhook.log"
    return await starts_of(
        "juragan webhook",
        lambda i: one_webhook_start(url, log_path),
        runs,
        log_path,
        ("set_webhook_s", "healthy_s", "idle_rss_mb"),
    )


# --------------------------------------------------------------------------- report


def print_report(meta: dict[str, Any], result: dict[str, Any]) -> None:
    line, row = base.print_header(
        meta,
        "Pulang Juragan: start-up time",
        f"median of {meta['runs']} runs each, after one warm-up",
        ["median (s)", "x import aiogram"],
        46,
        18,
    )
    baseline = result["imports"][BASELINE]["median_s"]
    for label, _ in IMPORTS:
        median = result["imports"][label]["median_s"]
        row(
            f'python -c "{label}"' if label != "python -c pass" else label,
            [f"{median:.3f}", f"{median / baseline:.2f}"],
            "(baseline)" if label == BASELINE else "",
        )
    row(
        "  the same to the process's exit (s)",
        [" / ".join(f"{result['imports'][k]['to_exit_median_s']:.2f}" for k, _ in IMPORTS), ""],
        "(teardown included)",
    )
    bot = result["juragan_run"]
    row(
        "juragan run: exec -> last start-up call",
        [f"{bot['commands_s']:.3f}", f"{bot['commands_s'] / baseline:.2f}"],
        "(setMyCommands, default scope)",
    )
    ready = bot["first_poll_s"]
    row(
        "juragan run: exec -> first long poll",
        [f"{ready:.3f} {base.mark(ready <= TARGET_READY_S)}", f"{ready / baseline:.2f}"],
        f"≤ {TARGET_READY_S:.0f} s (ready)",
    )
    row("  slowest of the runs (s)", [f"{bot['first_poll_s_max']:.3f}", ""])
    row("  first /start -> its reply (s)", [f"{bot['first_update_s']:.3f}", ""], "(cold)")
    row("  RSS idle after start-up (MB)", [f"{bot['idle_rss_mb']:.1f}", ""])
    hook = result["juragan_webhook"]
    row(
        "juragan webhook: exec -> setWebhook",
        [f"{hook['set_webhook_s']:.3f}", f"{hook['set_webhook_s'] / baseline:.2f}"],
    )
    ready = hook["healthy_s"]
    row(
        "juragan webhook: exec -> /healthz 200",
        [f"{ready:.3f} {base.mark(ready <= TARGET_READY_S)}", f"{ready / baseline:.2f}"],
        f"≤ {TARGET_READY_S:.0f} s (ready)",
    )
    row("  slowest of the runs (s)", [f"{hook['healthy_s_max']:.3f}", ""])
    row("  RSS idle after start-up (MB)", [f"{hook['idle_rss_mb']:.1f}", ""])
    print(line)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    p.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    global PYCACHE
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("aiogram", "sqlalchemy", "alembic", "bot", "storage", "flows", "aiohttp"):
        logging.getLogger(name).setLevel(logging.WARNING)
    meta = base.machine()
    meta.update(
        runs=args.runs,
        interpreter=sys.executable,
        idle_seconds=IDLE_SECONDS,
        bytecode="cached (PYTHONPYCACHEPREFIX of its own, written by each warm-up run)",
    )
    print(
        f"bench: start-up, {args.runs} runs of each; {meta['nproc']} CPU {meta['cpu']}; "
        f"Python {meta['python']}; {meta['date']}",
        flush=True,
    )
    t_all = time.perf_counter()
    problems: list[str] = []
    imports: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="juragan-bench-start-") as tmp_name:
        tmp = Path(tmp_name)
        PYCACHE = tmp / "pycache"
        for label, code in IMPORTS:
            print(f"python -c {code!r} ...", flush=True)
            imports[label] = time_import(code, args.runs)
            problems += [f"python -c {code!r} failed: {f}" for f in imports[label]["failures"]]
        print("juragan run on a pre-migrated SQLite file ...", flush=True)
        url = f"sqlite+aiosqlite:///{tmp / 'start.db'}"
        upgrade(url)
        bot = run_fast(bot_starts(url, args.runs, tmp))
        print("juragan webhook on the same file ...", flush=True)
        hook = run_fast(webhook_starts(url, args.runs, tmp))
    problems += bot["problems"] + hook["problems"]
    baseline = imports[BASELINE]["median_s"]
    result = {
        "imports": imports,
        "juragan_run": bot,
        "juragan_webhook": hook,
        "ratios_to_import_aiogram": {
            **{label: x["median_s"] / baseline for label, x in imports.items()},
            "juragan run: last start-up call": bot["commands_s"] / baseline,
            "juragan run: first long poll": bot["first_poll_s"] / baseline,
            "juragan webhook: /healthz 200": hook["healthy_s"] / baseline,
        },
        "problems": problems,
    }
    meta["total_seconds"] = time.perf_counter() - t_all
    print_report(meta, result)
    return base.write_report(
        args.out,
        meta,
        {"ready_s": TARGET_READY_S},
        {"sqlite": result},
        {
            "sqlite": {
                "ready": base.mark(bot["first_poll_s"] <= TARGET_READY_S),
                "webhook_ready": base.mark(hook["healthy_s"] <= TARGET_READY_S),
            }
        },
        problems,
    )


if __name__ == "__main__":
    sys.exit(main())
