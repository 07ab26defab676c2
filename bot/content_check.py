"""`juragan content check`: is every fact the bot states valid, current and honestly sourced?

Reads every `flows/content/*.toml`, lists each fact older than 12 months (on the day of
`flows.clock`) and each unofficial one, and fails when a file is invalid, when the bot would
state a stale fact, or when it would state an unofficial fact without the caution. A fact marked
`unconfirmed` is not stated (the bot says "ask the bank/office" instead), so its age is listed
but does not fail the check.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flows import clock
from flows.content import facts as schema


@dataclass
class Report:
    today: date
    files: list[str] = field(default_factory=list)
    facts: int = 0
    stale: list[str] = field(default_factory=list)
    unofficial: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        out = [
            f"content check on {self.today.isoformat()}: {self.facts} fact(s) in "
            f"{len(self.files)} file(s): {', '.join(self.files) or 'none'}"
        ]
        out.append(f"older than {schema.STALE_AFTER_MONTHS} months: {len(self.stale)}")
        out += [f"  {line}" for line in self.stale]
        out.append(f"unofficial sources: {len(self.unofficial)}")
        out += [f"  {line}" for line in self.unofficial]
        if self.errors:
            out.append(f"PROBLEMS: {len(self.errors)}")
            out += [f"  {line}" for line in self.errors]
        else:
            out.append("OK: the bot states no stale fact and no unofficial one without caution")
        return out


def register_all() -> None:
    """Import every module of flows.content, so each registers the files it reads."""
    import flows.content as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def check(directory: Path | None = None, today: date | None = None) -> Report:
    register_all()
    directory = directory or schema.CONTENT_DIR
    report = Report(today or clock.today())
    for path in schema.content_files(directory):
        report.files.append(path.name)
        try:
            found = schema.facts_in(path)
        except schema.ContentError as exc:
            report.errors += list(exc.problems)
            continue
        entry = schema.REGISTRY.get(path.stem)
        cautioned = entry is not None and entry.cautioned
        for item in found:
            report.facts += 1
            fact = item.fact
            where = f"{item.file}, line {item.line}: {item.name}"
            said = "not stated (unconfirmed)" if not fact.confirmed else "stated"
            if fact.stale(report.today):
                report.stale.append(f"{where}: as of {fact.as_of.isoformat()}, {said}")
                if fact.confirmed:
                    report.errors.append(
                        f"{where}: the bot states it, but it is older than "
                        f"{schema.STALE_AFTER_MONTHS} months (as of {fact.as_of.isoformat()}): "
                        "check it again and update as_of, or mark it unconfirmed"
                    )
            if not fact.official:
                report.unofficial.append(f"{where}: {fact.host}, {said}")
                if fact.confirmed and not cautioned:
                    report.errors.append(
                        f"{where}: unofficial ({fact.host}) and the bot shows {path.name} "
                        "without saying where it comes from and 'check with the bank/office'"
                    )
    return report


def run() -> int:
    """The command: print the report; 0 when it passes, 1 when not."""
    report = check()
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1
