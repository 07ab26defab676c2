"""What an operation tells people: plain data, rendered by the front door that delivers it.

A notice names its person (`to`, a person id, never a Telegram id), its message (`message`,
a stable id such as "training.promoted"; the bot keeps one renderer per id in
`bot/notices.py`) and its arguments (JSON-plain values: ids, strings, numbers, ISO dates), so
it can be stored as a row and rendered later, in the person's language at sending time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Notice:
    to: int  # people.id
    message: str  # "<area>.<event>", one renderer each in bot/notices.py
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Done:
    """What an operation did. `ok` False: nothing changed, and `refused` says why (a stable
    word the front door turns into a sentence: "too_late", "closed", "not_yours", ...)."""

    ok: bool = True
    refused: str | None = None
    notices: list[Notice] = field(default_factory=list)
    changed: dict[str, Any] = field(default_factory=dict)  # ids of what changed, by kind

    @classmethod
    def refuse(cls, why: str) -> Done:
        return cls(ok=False, refused=why)

    def tell(self, to: int | None, message: str, **args: Any) -> None:
        """Add a notice (nobody to tell: a deleted person, nothing added)."""
        if to is not None:
            self.notices.append(Notice(to=to, message=message, args=args))

    def merge(self, other: Done) -> Done:
        self.notices += other.notices
        for key, value in other.changed.items():
            mine = self.changed.setdefault(key, [])
            mine += value if isinstance(value, list) else [value]
        return self
