"""Every benchmark's headline figures in one table: a report, never a test.

    python bench/summary.py [--results bench/results]

Reads what the benchmarks wrote into bench/results/ (updates.json, reminders.json,
broadcast.json, instances.json, startup.json, paging.json) and prints one table: each figure, its value on
each backend, its target and ✔ / ✘ per value (– where the figure has no target), then which
benchmark ran when, on which commit, whether its correctness checks passed, and which did not
run. `make bench` runs it last. Nothing is measured here. Exit code 0 (a report), whatever the
figures and whichever files are missing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# Each benchmark, the file it writes, and how to run it.
BENCHES = (
    ("updates", "bench/updates.py"),
    ("reminders", "bench/reminders.py"),
    ("broadcast", "bench/broadcast.py"),
    ("instances", "bench/instances.py"),
    ("startup", "bench/startup.py"),
    ("paging", "bench/paging.py"),
)
COLUMNS = ("SQLite", "PostgreSQL")
OK, MISS, NONE = "✔", "✘", "–"


class Table:
    """Rows of (figure, a value per column, target, a mark per value)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, list[str], str, str]] = []
        self.sections: list[tuple[int, str]] = []
        self.problems: list[str] = []

    def section(self, title: str) -> None:
        self.sections.append((len(self.rows), title))

    def add(
        self,
        label: str,
        values: dict[str, Any],
        fmt: Callable[[Any], str],
        target: str = "",
        passes: Callable[[Any], bool] | None = None,
        only: str | None = None,
    ) -> None:
        """`values` by column name (missing or None: not measured there); `passes` decides each
        value's mark (no `passes`: the figure has no target; `only`: the target is set for that
        column alone)."""
        cells, marks = [], []
        for column in COLUMNS:
            value = values.get(column)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append("")
                continue
            cells.append(fmt(value))
            if passes is None or (only is not None and column != only):
                marks.append(NONE)
            else:
                marks.append(OK if passes(value) else MISS)
        self.rows.append((label, cells, target or NONE, " ".join(marks) if marks else ""))

    def print(self) -> None:
        w0 = max(48, *(len(r[0]) for r in self.rows)) + 2
        w = max(16, *(len(c) for r in self.rows for c in r[1])) + 2
        wt = max(14, *(len(r[2]) for r in self.rows)) + 2
        line = "-" * (w0 + w * len(COLUMNS) + wt + 8)
        print(line)
        print(
            f"{'figure':<{w0}}" + "".join(f"{c:>{w}}" for c in COLUMNS) + f"   {'target':<{wt}}ok"
        )
        sections = dict(self.sections)
        for i, (label, cells, target, marks) in enumerate(self.rows):
            if i in sections:
                print(line)
                print(sections[i])
            print(
                f"{label:<{w0}}" + "".join(f"{c:>{w}}" for c in cells) + f"   {target:<{wt}}{marks}"
            )
        print(line)


def load(results: Path, name: str) -> dict[str, Any] | None:
    path = results / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def num(fmt: str) -> Callable[[Any], str]:
    return lambda x: format(x, fmt)


def mb(x: float) -> str:
    return f"{x:+.1f}"


# --------------------------------------------------------------------------- each benchmark


def updates_rows(t: Table, r: dict[str, Any]) -> None:
    b, tg = r["backends"], r["targets"]
    col = {k: b[n] for k, n in zip(COLUMNS, ("sqlite", "postgresql"), strict=True) if n in b}
    t.section(f"bench/updates.py: one process, in-process Bot API, {r['meta']['people']:,} people")
    t.add("bare aiogram echo (updates/s)", {k: v["echo"]["rate"] for k, v in col.items()},
          num(",.0f"), "baseline")  # fmt: skip
    rate = tg["answers_per_second"]
    t.add("onboarding, full stack (answers/s)",
          {k: v["throughput"]["rate"] for k, v in col.items()}, num(",.0f"),
          f"≥ {rate:,.0f} (SQLite)", lambda x: x >= rate, only="SQLite")  # fmt: skip
    ratio = tg["journey_to_onboarding_answers_per_second"]
    t.add("KUR journey / onboarding answers/s",
          {k: v["journey"]["ratio_to_onboarding"] for k, v in col.items()}, num(".0%"),
          f"≥ {ratio:.0%}", lambda x: x >= ratio)  # fmt: skip
    p99 = tg["p99_ms_at_steady_rate"]
    steady = next(iter(col.values()))["latency"]["target_rate"] if col else 200
    t.add(f"latency p99 at a steady {steady:.0f}/s (ms)",
          {k: v["latency"]["latency_ms"]["p99"] for k, v in col.items()}, num(".1f"),
          f"≤ {p99:.0f} ms", lambda x: x <= p99)  # fmt: skip


def reminders_rows(t: Table, r: dict[str, Any]) -> None:
    b, tg, meta = r["backends"], r["targets"], r["meta"]
    col = {k: b[n] for k, n in zip(COLUMNS, ("sqlite", "postgresql"), strict=True) if n in b}
    big = str(meta["rows"])
    t.section(f"bench/reminders.py: {meta['rows']:,} pending reminders")
    t.add(f"tick of 500 due, {meta['rows']:,} pending (ms)",
          {k: v["summary"][big]["tick_ms"] for k, v in col.items()}, num(".1f"),
          "(sends cost nothing)")  # fmt: skip
    limit = tg["claim_mark_500_ms"]
    t.add(f"claim + mark 500, {meta['rows']:,} pending (ms)",
          {k: v["summary"][big]["claim_mark_ms"] for k, v in col.items()}, num(".1f"),
          f"≤ {limit:.0f} ms", lambda x: x <= limit)  # fmt: skip
    rss = tg["rss_above_idle_mb"]
    t.add("bot RSS idle (MB)", {k: v["summary"][big]["rss_idle_mb"] for k, v in col.items()},
          num(".1f"))  # fmt: skip
    t.add("bot RSS after ticks, above idle (MB, worst)",
          {k: max(s["rss_above_idle_mb"] for s in v["summary"].values()) for k, v in col.items()},
          mb, f"≤ {rss:.0f} MB", lambda x: x <= rss)  # fmt: skip


def broadcast_rows(t: Table, r: dict[str, Any]) -> None:
    b, tg, meta = r["backends"], r["targets"], r["meta"]
    col = {k: b[n] for k, n in zip(COLUMNS, ("sqlite", "postgresql"), strict=True) if n in b}
    rate = meta["delivery_rate"]
    want = tg["rate_share_of_configured"] * rate
    t.section(f"bench/broadcast.py: {meta['recipients']:,} recipients, SIGKILL halfway")
    for key, label in (("before_kill", "before the kill"), ("after_restart", "after the restart")):
        t.add(f"sent/s {label}", {k: v["rate"][key]["rate"] for k, v in col.items()},
              num(".2f"), f"≥ {want:.2f}/s", lambda x: x >= want)  # fmt: skip
    t.add("lost (opted in, unblocked, got nothing)", {k: v["lost"] for k, v in col.items()},
          str, "0", lambda x: x == 0)  # fmt: skip
    t.add("duplicates after the SIGKILL", {k: v["duplicates"] for k, v in col.items()}, str,
          "≤ 8 (in flight)", lambda x: x <= 8)  # fmt: skip
    t.add("bot RSS idle (MB)", {k: v["memory"]["idle_mb"] for k, v in col.items()}, num(".1f"))
    rss = tg["rss_above_idle_mb"]
    t.add("peak RSS sending, above idle (MB, worst)",
          {k: max(v["memory"]["peak_first_above_idle_mb"],
                  v["memory"]["peak_second_above_idle_mb"]) for k, v in col.items()},
          mb, f"≤ {rss:.0f} MB", lambda x: x <= rss)  # fmt: skip


def instances_rows(t: Table, r: dict[str, Any]) -> None:
    b, tg, meta = r["backends"], r["targets"], r["meta"]
    t.section(
        f"bench/instances.py: juragan webhook on PostgreSQL, {meta['people']} people, "
        f"≤ {meta['concurrency']} in flight, {meta['nproc']} cores for all"
    )
    p99, rss = tg["p99_ms_at_steady_rate"], tg["rss_above_idle_mb"]
    for name, run in b.items():
        pg = "PostgreSQL"
        t.add(f"{name}: answers/s (closed loop)", {pg: run["throughput"]["rate"]}, num(",.0f"))
        t.add(f"{name}: p50 / p99 POST -> 200, closed loop (ms)",
              {pg: (run["throughput"]["latency_ms"]["p50"], run["throughput"]["latency_ms"]["p99"])},
              lambda x: f"{x[0]:.1f} / {x[1]:.1f}")  # fmt: skip
        steady = run["latency"]["target_rate"]
        t.add(f"{name}: p99 at a steady {steady:.0f}/s (ms)",
              {pg: run["latency"]["latency_ms"]["p99"]}, num(".1f"), f"≤ {p99:.0f} ms",
              lambda x: x <= p99)  # fmt: skip
        dup = run["duplicates"]
        t.add(f"{name}: duplicate /start answered once",
              {pg: (dup["sample"] - dup["answered_wrong"], dup["sample"], dup["ok"])},
              lambda x: f"{x[0]} of {x[1]}", "all", lambda x: x[2])  # fmt: skip
        memory = run["memory"].values()
        t.add(f"{name}: RSS idle, each (MB)", {pg: [m["idle_mb"] for m in memory]},
              lambda xs: " / ".join(f"{x:.1f}" for x in xs))  # fmt: skip
        t.add(f"{name}: RSS loaded above idle, each (MB)",
              {pg: [m["above_idle_mb"] for m in memory]},
              lambda xs: " / ".join(mb(x) for x in xs), f"≤ {rss:.0f} MB",
              lambda xs: max(xs) <= rss)  # fmt: skip
    names = list(b)
    if len(names) > 1:
        first, last = b[names[0]], b[names[-1]]
        t.add(f"{names[-1]} / {names[0]}: answers/s",
              {"PostgreSQL": last["throughput"]["rate"] / first["throughput"]["rate"]},
              num(".2f"), f"(none; {meta['nproc']} cores)")  # fmt: skip


def startup_rows(t: Table, r: dict[str, Any]) -> None:
    s, tg = r["backends"]["sqlite"], r["targets"]
    base = s["imports"]["import aiogram"]["median_s"]
    t.section(f"bench/startup.py: medians of {r['meta']['runs']} runs")
    t.add("python -c 'import aiogram' (s)", {"SQLite": base}, num(".2f"), "baseline")
    bot_app = s["imports"]["import bot.app"]["median_s"]
    t.add("python -c 'import bot.app' (s, x import aiogram)", {"SQLite": bot_app},
          lambda x: f"{x:.2f} (x{x / base:.2f})")  # fmt: skip
    ready, limit = s["juragan_run"]["first_poll_s"], tg["ready_s"]
    t.add("juragan run: exec -> first long poll (s, x aiogram)", {"SQLite": ready},
          lambda x: f"{x:.2f} (x{x / base:.2f})", f"≤ {limit:.0f} s",
          lambda x: x <= limit)  # fmt: skip
    t.add("juragan run: RSS idle after start-up (MB)", {"SQLite": s["juragan_run"]["idle_rss_mb"]},
          num(".1f"))  # fmt: skip
    hook = s.get("juragan_webhook")
    if hook is not None:
        t.add("juragan webhook: exec -> /healthz 200 (s, x aiogram)", {"SQLite": hook["healthy_s"]},
              lambda x: f"{x:.2f} (x{x / base:.2f})", f"≤ {limit:.0f} s",
              lambda x: x <= limit)  # fmt: skip


def paging_rows(t: Table, r: dict[str, Any]) -> None:
    b, tg, meta = r["backends"], r["targets"], r["meta"]
    col = {k: b[n] for k, n in zip(COLUMNS, ("sqlite", "postgresql"), strict=True) if n in b}
    t.section(
        f"bench/paging.py: {meta['cooperatives']:,} cooperatives in one regency, "
        f"{meta['in_region']:,} of {meta['sessions']:,} sessions for its region"
    )
    seconds, limit = tg["import_seconds"], tg["import_above_idle_mb"]
    for name in next(iter(col.values()))["imports"]["runs"] if col else []:
        t.add(f"import {name} (s)", {k: v["imports"]["runs"][name]["wall_s"] for k, v in col.items()},
              num(".2f"), f"≤ {seconds:.0f} s", lambda x: x <= seconds)  # fmt: skip
        t.add("   peak RSS above idle (MB)",
              {k: v["imports"]["runs"][name]["above_idle_mb"] for k, v in col.items()}, mb,
              f"≤ {limit:.0f} MB", lambda x: x <= limit)  # fmt: skip
    t.add("bare aiogram press echo p99 (ms)", {k: v["echo"]["latency_ms"]["p99"] for k, v in col.items()},
          num(".2f"), "baseline")  # fmt: skip
    p99 = tg["press_p99_ms"]
    for name in ("cooperatives", "trainings"):
        t.add(f"{name}: page press p99 (ms, x echo)",
              {k: (v["presses"][name]["latency_ms"]["p99"], v["presses"][name]["p99_to_echo_p99"])
               for k, v in col.items()},
              lambda x: f"{x[0]:.1f} (x{x[1]:.1f})", f"≤ {p99:.0f} ms",
              lambda x: x[0] <= p99)  # fmt: skip


ROWS = {
    "updates": updates_rows,
    "reminders": reminders_rows,
    "broadcast": broadcast_rows,
    "instances": instances_rows,
    "startup": startup_rows,
    "paging": paging_rows,
}


# --------------------------------------------------------------------------- main


def head_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5,
        ).stdout.strip()  # fmt: skip
    except Exception:
        return ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--results", type=Path, default=RESULTS, help=f"(default {RESULTS})")
    args = p.parse_args(argv)

    found = {name: load(args.results, name) for name, _ in BENCHES}
    ran = {name: r for name, r in found.items() if r is not None}
    print()
    print("Pulang Juragan: every benchmark, each figure beside its target")
    now = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    if ran:
        meta = max(ran.values(), key=lambda r: r["meta"].get("date", ""))["meta"]
        v = meta.get("versions", {})
        print(
            f"summary {now}  |  {meta.get('nproc', '?')} CPU: {meta.get('cpu', '?')}  |  "
            f"{meta.get('implementation', '')} {meta.get('python', '?')}  |  "
            f"aiogram {v.get('aiogram', '?')}, SQLAlchemy {v.get('sqlalchemy', '?')}"
        )
    else:
        print(f"summary {now}")

    table = Table()
    unreadable: list[str] = []
    for name, r in ran.items():
        before = len(table.rows)
        try:
            ROWS[name](table, r)
        except (KeyError, TypeError, ValueError, ZeroDivisionError, StopIteration) as exc:
            del table.rows[before:]
            table.sections = [(i, s) for i, s in table.sections if i < before]
            unreadable.append(f"{name}.json: not the structure this summary reads ({exc!r})")
    if table.rows:
        table.print()

    head = head_commit()
    print("benchmarks:")
    for name, script in BENCHES:
        r = found[name]
        if r is None:
            print(f"  {name:<10} did not run: no {args.results / (name + '.json')} "
                  f"(run .venv/bin/python {script})")  # fmt: skip
            continue
        meta = r.get("meta", {})
        correct = OK if r.get("correct") else f"{MISS} FAILED (see its output)"
        commit = meta.get("commit") or "?"
        other = "" if not head or commit == head else f" (HEAD is {head})"
        dirty = meta.get("uncommitted_outside_bench") or []
        print(
            f"  {name:<10} {meta.get('date', '?')}, commit {commit}{other}"
            + (f" + uncommitted {len(dirty)} file(s)" if dirty else "")
            + f", {meta.get('total_seconds', float('nan')):.0f} s; correctness {correct}"
        )
    for line in unreadable:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
