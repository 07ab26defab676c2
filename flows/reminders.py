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
    # How long before its event (the payload's "at") the reminder is meant; None: no event.
    lead: timedelta | None = None
    # One of a series (a daily digest, the nudges of a run) where a later one replaces it.
    serial: bool = False

    @property
    def replaceable(self) -> bool:
        """Can a later reminder of its series make this one unneeded (see `superseded`)?"""
        return self.lead is not None or self.serial


# The texts of reminders about an event say how far off it is when they are *sent* ({relative}:
# "tomorrow", "today", "in 2 hours", "in 3 days"), never what was true when they were planned:
# a reminder held through the night or through downtime must not say "in three days" the day
# before. See `relative` and `superseded`.
TRAINING_DAY_BEFORE = Kind(
    "training_day_before",
    N_("🎓 Reminder: “{title}” is {relative}: {when}. {where}"),
    timedelta(days=1),
)
TRAINING_SOON = Kind(
    "training_soon",
    N_("🎓 “{title}” starts {relative}: {when}. {where}"),
    timedelta(hours=2),
)
MEETING_3_DAYS = Kind(
    "meeting_3_days",
    N_(
        "🤝 The founding meeting of “{name}” is {relative}: {when}. Please tell the other "
        "founders, and bring the draft AD/ART."
    ),
    timedelta(days=3),
)
MEETING_1_DAY = Kind(
    "meeting_1_day",
    N_("🤝 The founding meeting of “{name}” is {relative}: {when}."),
    timedelta(days=1),
)
BANK_DAY_BEFORE = Kind(
    "bank_day_before",
    N_(
        "🏦 Your visit to {bank}, {branch} is {relative}: {when}. Bring your KTP-el, KK and the "
        "other papers on your list (the originals and a copy)."
    ),
    timedelta(days=1),
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
    N_("👋 You stopped at “{title}” {days} days ago. Whenever you are ready, we go on from there."),
    serial=True,
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


# --- late reminders: say what is true when sent, or nothing ----------------------------------

# A reminder is late when it is sent this long after its due time (a tick comes every 30 s; a
# row left by a dead process comes back after its five-minute lease): after downtime, say.
LATE_AFTER = timedelta(minutes=15)
# A late reminder is dropped when the next one of its series (the same event, the same person)
# is due within this: two reminders of one meeting within hours say the same thing twice.
SUPERSEDE_WITHIN = timedelta(hours=12)


def series(key: str) -> str:
    """The reminders of one event for one person share their key up to the last ":"
    ("training:12:day" and "training:12:soon"; "meeting:3:7:3d" and "meeting:3:7:1d")."""
    return key.rsplit(":", 1)[0] + ":"


def comes_after(kind: str, key: str, other_kind: str, other_key: str) -> bool:
    """Is the other reminder of the same series the later one? For an event, the one meant
    closer to it (its due time may have moved to the same 07.00 by the quiet hours); otherwise
    the one with the greater key (the digest of a later day, the next nudge)."""
    mine, theirs = KINDS.get(kind), KINDS.get(other_kind)
    if mine is not None and theirs is not None and mine.lead and theirs.lead:
        return theirs.lead < mine.lead
    return other_key > key


def superseded(
    kind: str,
    key: str,
    due_at: datetime,
    siblings: list[tuple[str, str, datetime]],
    now: datetime,
) -> bool:
    """Drop this reminder: a later one of its series, still to be sent, is due too, or this
    one is late and the later one is due within SUPERSEDE_WITHIN (`siblings`: the series' other
    open reminders as (kind, key, due_at)). One sent on time is never dropped, whatever the
    quiet hours: its later siblings are still to come."""
    found = KINDS.get(kind)
    if found is None or not found.replaceable:
        return False
    late = now - due_at > LATE_AFTER
    return any(
        comes_after(kind, key, other_kind, other_key)
        and (due <= now or (late and due <= now + SUPERSEDE_WITHIN))
        for other_kind, other_key, due in siblings
    )


def relative(at: datetime, now: datetime, tz: str) -> tuple[str, dict[str, int]]:
    """How far off `at` is at `now`, as a msgid and its values, in the person's zone: minutes
    (rounded to 5) or hours within three hours, else "today", "tomorrow" or "in N days" by the
    calendar there. The caller drops a reminder whose event has begun."""
    left = at - now
    if left < timedelta(hours=3):
        minutes = max(5, 5 * round(left.total_seconds() / 300))
        hours, rest = divmod(minutes, 60)
        if hours == 0:
            return N_("in {n} minutes"), {"n": rest}
        if rest == 0:
            return (N_("in 1 hour"), {}) if hours == 1 else (N_("in {n} hours"), {"n": hours})
        if hours == 1:
            return N_("in 1 hour {m} minutes"), {"m": rest}
        return N_("in {n} hours {m} minutes"), {"n": hours, "m": rest}
    zone = ZoneInfo(tz)
    days = (at.astimezone(zone).date() - now.astimezone(zone).date()).days
    if days <= 0:
        return N_("today"), {}
    if days == 1:
        return N_("tomorrow"), {}
    return N_("in {n} days"), {"n": days}
