"""The one clock: settable for tests, and local day + time to an aware moment."""

from __future__ import annotations

from datetime import UTC, datetime

from flows import clock


def test_a_day_and_a_time_in_any_stored_form_become_one_moment() -> None:
    for hhmm in ("09.00", "09:00", "0900", "9.00"):
        moment = clock.at("2027-01-15", hhmm, "Asia/Jayapura")
        assert moment is not None and moment.astimezone(UTC) == datetime(
            2027, 1, 15, 0, 0, tzinfo=UTC
        )
    assert clock.at("2027-01-15", "14.30", "Asia/Makassar").astimezone(UTC).hour == 6


def test_malformed_input_is_none_not_a_crash() -> None:
    assert clock.at("2027-02-30", "09.00", "Asia/Jakarta") is None
    assert clock.at("2027-01-15", "25.00", "Asia/Jakarta") is None
    assert clock.at("2027-01-15", "x", "Asia/Jakarta") is None
    assert clock.at("2027-01-15", "09.00", "Mars/Base") is None


def test_the_clock_can_be_set_and_restored() -> None:
    fixed = datetime(2030, 1, 1, 23, 30, tzinfo=UTC)
    clock.set_clock(lambda: fixed)
    try:
        assert clock.now() == fixed
        assert clock.today().isoformat() == "2030-01-02"  # already morning in WIB
    finally:
        clock.set_clock(None)
    assert clock.now().year >= 2026
