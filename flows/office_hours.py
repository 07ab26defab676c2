"""Office hours, for the help desk's "waiting longer than a working day" flag: a pure function
of two moments and the region's zone (WIB, WITA or WIT from its province).

A working day is the office's hours on one weekday: Monday to Friday, 08.00 to 16.00 local
time. A question sent on Friday evening is not late on Monday morning; one sent on Monday at
10.00 is late on Tuesday after 10.00. Public holidays are not counted (no reviewed list of
them in flows/content yet): a ticket may be flagged a day early around one.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

OPENS, CLOSES = time(8, 0), time(16, 0)
WORKDAYS = frozenset(range(5))  # Monday .. Friday
WORKING_DAY = timedelta(hours=8)


def working_time(
    start: datetime, end: datetime, tz: str, *, enough: timedelta | None = None
) -> timedelta:
    """Office time between two moments in the zone `tz` (stops counting once it reaches
    `enough`, so a ticket months old costs no more than a day's count)."""
    zone = ZoneInfo(tz)
    if end <= start:
        return timedelta(0)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    total = timedelta(0)
    day = local_start.date()
    while day <= local_end.date():
        if day.weekday() in WORKDAYS:
            opens = datetime.combine(day, OPENS, zone)
            closes = datetime.combine(day, CLOSES, zone)
            begin, finish = max(opens, local_start), min(closes, local_end)
            if finish > begin:
                total += finish - begin
        if enough is not None and total >= enough:
            return total
        day += timedelta(days=1)
    return total


def overdue(since: datetime | None, now: datetime, tz: str) -> bool:
    """Waited longer than one working day of office hours (None: nobody is waiting)."""
    if since is None:
        return False
    return working_time(since, now, tz, enough=WORKING_DAY + timedelta(seconds=1)) > WORKING_DAY
