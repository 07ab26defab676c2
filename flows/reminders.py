"""When reminders are due, and the quiet hours they wait out. Pure: no bot, no database.

Each journey names its reminders here by kind; the bot turns a kind into a row (`due_at` in
UTC, a dedupe key) when a date is set, and cancels or moves it when the date changes or the
step is done. Nothing is sent between 21:00 and 07:00 in the person's own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.i18n import N_

QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(7, 0)
WIB = "Asia/Jakarta"
_quiet = [QUIET_FROM, QUIET_UNTIL]  # the window in force (settings: QUIET_HOURS)


def set_quiet_hours(start: int, end: int) -> None:
    """Nothing is sent from `start`:00 until `end`:00 local time (21 and 7 unless configured)."""
    if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
        raise ValueError("quiet hours must be two different hours from 0 to 23")
    _quiet[:] = [time(start), time(end)]


@dataclass(frozen=True)
class Kind:
    key: str
    text: str  # msgid with named placeholders filled from the payload


TRAINING_DAY_BEFORE = Kind(
    "training_day_before",
    N_("🎓 Reminder: “{title}” is tomorrow, {when}. {where}"),
)
TRAINING_SOON = Kind(
    "training_soon",
    N_("🎓 “{title}” starts in two hours, at {when}. {where}"),
)
MEETING_3_DAYS = Kind(
    "meeting_3_days",
    N_(
        "🤝 The founding meeting of “{name}” is in three days: {when}. Please tell the other "
        "founders, and bring the draft AD/ART."
    ),
)
MEETING_1_DAY = Kind(
    "meeting_1_day",
    N_("🤝 The founding meeting of “{name}” is tomorrow: {when}."),
)
BANK_DAY_BEFORE = Kind(
    "bank_day_before",
    N_(
        "🏦 Tomorrow you visit {bank}, {branch}: {when}. Bring your KTP-el, KK and the other "
        "papers on your list (the originals and a copy)."
    ),
)
DOCUMENTS_OPEN = Kind(
    "documents_open",
    N_(
        "📋 Your KUR document list still has {missing} of {total} papers to get ready. Tick each "
        "one when you have it."
    ),
)
NUDGE = Kind(
    "nudge",
    N_("👋 You stopped at “{title}” a few days ago. Whenever you are ready, we go on from there."),
)
KINDS = {k.key: k for k in (TRAINING_DAY_BEFORE, TRAINING_SOON, MEETING_3_DAYS, MEETING_1_DAY,
                            BANK_DAY_BEFORE, DOCUMENTS_OPEN, NUDGE)}  # fmt: skip

# How long after the last touch each nudge of a journey comes: at most three, further apart.
NUDGE_AFTER = (timedelta(days=2), timedelta(days=5), timedelta(days=12))
DOCUMENTS_AFTER = timedelta(days=3)


def is_quiet(moment: datetime, tz: str) -> bool:
    """Night in the person's zone: from 21:00 until 07:00 (or the configured window)."""
    local = moment.astimezone(ZoneInfo(tz)).time()
    start, end = _quiet
    return (local >= start or local < end) if start > end else (start <= local < end)


def in_daylight(moment: datetime, tz: str) -> datetime:
    """The moment itself, or, if it falls at night in that zone, the end of that night there."""
    if not is_quiet(moment, tz):
        return moment
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    end = _quiet[1]
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(moment.tzinfo)


def before(event: datetime, tz: str, *, days: int = 0, hours: int = 0) -> datetime | None:
    """When to remind `days`/`hours` before an event: out of the night (at 07:00 instead), and
    None when that would no longer be before the event (a 06:30 start has no "two hours before")."""
    due = in_daylight(event - timedelta(days=days, hours=hours), tz)
    return due if due < event else None
