"""The desk's session form read with the rules of the bot's /pelatihan_baru flow, every field
at once, each error a msgid the page translates."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.training import END_NOT_AFTER_START, TIME_PASSED, URL_INVALID, check_form

GOOD = {
    "title": "Jualan online untuk warung", "organiser": "Disnaker", "topic": "digital",
    "date": "2027-01-15", "start": "09:00", "end": "12:00", "mode": "place",
    "place": "Aula BLK", "link": "", "region": "35.78", "seats": "20", "approval": "yes",
}  # fmt: skip


def test_a_good_form_gives_the_operations_values_in_utc() -> None:
    values, errors = check_form(GOOD, tz="Asia/Makassar", scope=["35"])
    assert errors == {}
    assert values["starts_at"] == datetime(2027, 1, 15, 1, 0, tzinfo=UTC)  # 09.00 WITA
    assert values["province_code"] == "35" and values["regency_code"] == "35.78"
    assert values["needs_approval"] is True and values["link"] is None


def test_every_bad_field_is_told_at_once() -> None:
    bad = {**GOOD, "title": "ab", "topic": "x", "end": "08:00", "mode": "online",
           "link": "not a link", "seats": "1001", "approval": "maybe"}  # fmt: skip
    values, errors = check_form(bad, tz="Asia/Jakarta", scope=None)
    assert values == {}
    assert set(errors) == {"title", "topic", "end", "link", "seats", "approval"}
    assert errors["end"].msgid == END_NOT_AFTER_START and errors["link"].msgid == URL_INVALID


def test_a_time_already_passed_today_is_refused() -> None:
    # the tests' clock: 25 November 2026, 10.00 WIB
    _values, errors = check_form({**GOOD, "date": "2026-11-25", "start": "08:00"},
                                 tz="Asia/Jakarta", scope=None)  # fmt: skip
    assert errors["start"].msgid == TIME_PASSED


def test_the_place_stays_inside_the_scope_and_only_the_unscoped_reach_everyone() -> None:
    for region, scope in (("51.71", ["35"]), ("all", ["35"]), ("35", ["35.78"]), ("99", None)):
        assert "region" in check_form({**GOOD, "region": region}, tz="Asia/Jakarta", scope=scope)[1]
    values, errors = check_form({**GOOD, "region": "all"}, tz="Asia/Jakarta", scope=None)
    assert not errors and values["province_code"] is None
