"""Money, numbers, dates and times for the person's locale, through Babel."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.text import day, moment, number, rupiah, rupiah_text


def test_rupiah_in_indonesian_and_english() -> None:
    assert rupiah(15_000_000, "id") == "Rp15.000.000"
    assert rupiah(15_000_000, "en") == "Rp15,000,000"


def test_round_amounts_in_running_text_are_in_words() -> None:
    assert rupiah_text(25_000_000, "id") == "Rp25 juta"
    assert rupiah_text(25_000_000, "en") == "Rp25 million"
    assert rupiah_text(1_500_000, "id") == "Rp1,5 juta"
    assert rupiah_text(1_500_000_000, "en") == "Rp1.5 billion"
    assert rupiah_text(500_000_000, "id") == "Rp500 juta"
    # not round, or under a million: exact
    assert rupiah_text(1_234_567, "id") == "Rp1.234.567"
    assert rupiah_text(100_000, "en") == "Rp100,000"


def test_numbers_and_dates_follow_the_locale() -> None:
    assert number(1234.5, "id") == "1.234,5" and number(1234.5, "en") == "1,234.5"
    assert day(date(2026, 8, 17), "id") == "17 Agustus 2026"
    assert day(date(2026, 8, 17), "en") == "August 17, 2026"


def test_a_moment_is_shown_in_the_persons_own_zone() -> None:
    noon_utc = datetime(2026, 8, 17, 3, 0, tzinfo=UTC)
    assert moment(noon_utc, "Asia/Jakarta", "id").startswith("17 Agustus 2026, 10.00")
    assert "11.00" in moment(noon_utc, "Asia/Makassar", "id")
    assert moment(noon_utc, "Asia/Jayapura", "id").endswith("12.00 WIT")
    assert moment(noon_utc, "Asia/Makassar", "en").replace("\u202f", " ") == (
        "August 17, 2026, 11:00 AM WITA"
    )
