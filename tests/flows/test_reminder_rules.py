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
