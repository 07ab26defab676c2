"""Quiet hours in every zone, and reminders before an event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows import reminders as r

ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")  # WIB +7, WITA +8, WIT +9


@pytest.mark.parametrize(
    ("tz", "utc_hour", "quiet"),
    [
        ("Asia/Jakarta", 13, False),  # 20:00 WIB
        ("Asia/Jakarta", 14, True),  # 21:00 WIB
        ("Asia/Jakarta", 23, True),  # 06:00 WIB
        ("Asia/Jakarta", 0, False),  # 07:00 WIB
        ("Asia/Makassar", 12, False),  # 20:00 WITA
        ("Asia/Makassar", 13, True),  # 21:00 WITA
        ("Asia/Makassar", 23, False),  # 07:00 WITA
        ("Asia/Jayapura", 11, False),  # 20:00 WIT
        ("Asia/Jayapura", 12, True),  # 21:00 WIT
        ("Asia/Jayapura", 21, True),  # 06:00 WIT
        ("Asia/Jayapura", 22, False),  # 07:00 WIT
    ],
)
def test_quiet_hours_are_the_persons_own_night(tz, utc_hour, quiet) -> None:
    assert r.is_quiet(datetime(2027, 1, 10, utc_hour, 0, tzinfo=UTC), tz) is quiet


@pytest.mark.parametrize("tz", ZONES)
def test_a_reminder_due_at_night_goes_at_seven_local(tz) -> None:
    late = datetime(2027, 1, 10, 23, 30, tzinfo=r.ZoneInfo(tz))  # 23:30 local
    moved = r.in_daylight(late.astimezone(UTC), tz)
    local = moved.astimezone(r.ZoneInfo(tz))
    assert (local.date().day, local.hour, local.minute) == (11, 7, 0)
    early = datetime(2027, 1, 11, 5, 0, tzinfo=r.ZoneInfo(tz))  # 05:00 local: same morning
    assert r.in_daylight(early.astimezone(UTC), tz).astimezone(r.ZoneInfo(tz)).day == 11


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(ZONES),
)
def test_daylight_is_never_quiet_never_earlier_and_at_most_ten_hours_later(moment, tz) -> None:
    moved = r.in_daylight(moment, tz)
    assert not r.is_quiet(moved, tz)
    assert moment <= moved <= moment + timedelta(hours=10)
    if not r.is_quiet(moment, tz):
        assert moved == moment


def test_before_an_event_and_never_after_it() -> None:
    tz = "Asia/Jakarta"
    nine = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # 09:00 WIB
    assert r.before(nine, tz, days=1) == nine - timedelta(days=1)
    assert r.before(nine, tz, hours=2) == datetime(2027, 1, 10, 0, 0, tzinfo=UTC)  # 07:00 WIB
    half_six = datetime(2027, 1, 9, 23, 30, tzinfo=UTC)  # 06:30 WIB
    assert r.before(half_six, tz, hours=2) is None


def test_a_configured_window_is_used_and_can_be_within_one_day() -> None:
    tz = "Asia/Jakarta"
    try:
        r.set_quiet_hours(20, 8)
        assert r.is_quiet(datetime(2027, 1, 10, 13, 30, tzinfo=UTC), tz)  # 20:30 WIB
        assert r.in_daylight(datetime(2027, 1, 10, 13, 30, tzinfo=UTC), tz) == datetime(
            2027, 1, 11, 1, 0, tzinfo=UTC
        )  # 08:00 WIB
        r.set_quiet_hours(1, 5)  # a window that does not cross midnight
        assert r.is_quiet(datetime(2027, 1, 9, 19, 0, tzinfo=UTC), tz)  # 02:00 WIB
        assert not r.is_quiet(datetime(2027, 1, 9, 23, 0, tzinfo=UTC), tz)  # 06:00 WIB
        with pytest.raises(ValueError):
            r.set_quiet_hours(7, 7)
    finally:
        r.set_quiet_hours(21, 7)


# --- late reminders: the words of sending time, or nothing ---------------------------------------

EVENT = datetime(2027, 1, 12, 7, 0, tzinfo=UTC)  # 14:00 WIB, 15:00 WITA, 16:00 WIT


@pytest.mark.parametrize(
    ("now", "tz", "words", "values"),
    [
        (EVENT - timedelta(days=3), "Asia/Jakarta", "in {n} days", {"n": 3}),
        (EVENT - timedelta(days=2), "Asia/Jakarta", "in {n} days", {"n": 2}),
        (EVENT - timedelta(days=1), "Asia/Jakarta", "tomorrow", {}),
        # 07:00 WIB on the day, held through the night: "today", not "tomorrow"
        (datetime(2027, 1, 12, 0, 0, tzinfo=UTC), "Asia/Jakarta", "today", {}),
        # 23:30 WIB the day before is "tomorrow" in WIB; 01:30 on the day in WIT: "today"
        (datetime(2027, 1, 11, 16, 30, tzinfo=UTC), "Asia/Jakarta", "tomorrow", {}),
        (datetime(2027, 1, 11, 16, 30, tzinfo=UTC), "Asia/Jayapura", "today", {}),
        (EVENT - timedelta(hours=2), "Asia/Jakarta", "in {n} hours", {"n": 2}),
        (EVENT - timedelta(hours=1, minutes=29), "Asia/Jakarta", "in 1 hour {m} minutes", {"m": 30}),
        (EVENT - timedelta(hours=1), "Asia/Jakarta", "in 1 hour", {}),
        (EVENT - timedelta(hours=2, minutes=40), "Asia/Jakarta", "in {n} hours {m} minutes",
         {"n": 2, "m": 40}),
        (EVENT - timedelta(minutes=42), "Asia/Jakarta", "in {n} minutes", {"n": 40}),
        (EVENT - timedelta(minutes=1), "Asia/Jakarta", "in {n} minutes", {"n": 5}),
    ],
)  # fmt: skip
def test_how_far_off_is_counted_when_sent_in_the_persons_zone(now, tz, words, values) -> None:
    assert r.relative(EVENT, now, tz) == (words, values)


def test_a_later_reminder_of_the_same_event_supersedes_a_late_one() -> None:
    now = EVENT - timedelta(days=1)
    days_ago = now - timedelta(days=2)  # the three-days reminder's due time: two days late
    one_day = (r.MEETING_1_DAY.key, "meeting:3:7:1d", now)
    three_days = (r.MEETING_3_DAYS.key, "meeting:3:7:3d", days_ago)
    assert r.series("meeting:3:7:3d") == "meeting:3:7:"
    assert r.superseded(r.MEETING_3_DAYS.key, "meeting:3:7:3d", days_ago, [one_day], now)
    assert not r.superseded(r.MEETING_1_DAY.key, "meeting:3:7:1d", now, [three_days], now)
    # late, and the next one comes within hours: dropped; a day off: sent (worded "in 2 days")
    soon_after = (r.MEETING_1_DAY.key, "meeting:3:7:1d", now + timedelta(hours=5))
    assert r.superseded(r.MEETING_3_DAYS.key, "meeting:3:7:3d", days_ago, [soon_after], now)
    day_after = (r.MEETING_1_DAY.key, "meeting:3:7:1d", now + timedelta(days=1))
    assert not r.superseded(r.MEETING_3_DAYS.key, "meeting:3:7:3d", days_ago, [day_after], now)
    # on time, the next one hours away: sent (only a late one gives way to a coming one)
    assert not r.superseded(r.MEETING_3_DAYS.key, "meeting:3:7:3d", now, [soon_after], now)
    # both held until the same 07:00: still the one meant closer to the event wins
    soon = (r.TRAINING_SOON.key, "training:5:soon", now)
    assert r.superseded(r.TRAINING_DAY_BEFORE.key, "training:5:day", now, [soon], now)
    day = (r.TRAINING_DAY_BEFORE.key, "training:5:day", now)
    assert not r.superseded(r.TRAINING_SOON.key, "training:5:soon", now, [day], now)
    # the next nudge of a run; a reminder that has no series is never superseded
    third = [(r.NUDGE.key, "nudge:4:99:3", now)]
    assert r.superseded(r.NUDGE.key, "nudge:4:99:1", days_ago, third, now)
    other_loan = [(r.DOCUMENTS_OPEN.key, "docs:2", now)]
    assert not r.superseded(r.DOCUMENTS_OPEN.key, "docs:1", days_ago, other_loan, now)


@pytest.mark.parametrize("tz", ZONES)
@given(
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 30]),
    quiet=st.tuples(st.integers(0, 23), st.integers(0, 23)).filter(lambda q: q[0] != q[1]),
)
def test_reminders_sent_on_time_are_never_superseded(tz, hour, minute, quiet) -> None:
    """Whenever an event starts and whatever the quiet hours, a reminder sent at its planned
    time is never dropped for the next one of its event (unless a long night plans both for
    the same moment: then only the one meant closer to the event goes)."""
    r.set_quiet_hours(*quiet)
    try:
        event = datetime(2027, 1, 12, hour, minute, tzinfo=r.ZoneInfo(tz)).astimezone(UTC)
        for first, second in ((r.MEETING_3_DAYS, r.MEETING_1_DAY),
                              (r.TRAINING_DAY_BEFORE, r.TRAINING_SOON)):  # fmt: skip
            assert first.lead is not None and second.lead is not None
            a = r.before(event, tz, days=first.lead.days, hours=first.lead.seconds // 3600)
            b = r.before(event, tz, days=second.lead.days, hours=second.lead.seconds // 3600)
            if a is None or b is None:
                continue
            dropped = r.superseded(first.key, "x:1:a", a, [(second.key, "x:1:b", b)], a)
            assert dropped is (a == b)
    finally:
        r.set_quiet_hours(21, 7)
