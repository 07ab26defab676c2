"""The one clock flows read, so tests (and the reminder scheduler's tests) can set it.

Dates a person types ("besok", "17 Agustus") are read against today in Indonesia's western
zone (WIB), where most returnees live; a person in WITA or WIT is at most two hours ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current moment, timezone-aware (UTC)."""
    return _now()


def today(tz: ZoneInfo = WIB) -> date:
    return now().astimezone(tz).date()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None restores the real one."""
    global _now
    _now = fn if fn is not None else (lambda: datetime.now(UTC))


def at(day: str, hhmm: str, tz: str | ZoneInfo) -> datetime | None:
    """A day ("2027-01-15") and a clock time as the flows store it ("09.00" from a button,
    "09:00" typed and validated, "0900") in a zone, as an aware datetime; None if malformed."""
    digits = hhmm.replace(".", "").replace(":", "")
    try:
        d = date.fromisoformat(day)
        hour, minute = int(digits[:-2]), int(digits[-2:])
        return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZoneInfo(str(tz)))
    except (ValueError, KeyError):
        return None
