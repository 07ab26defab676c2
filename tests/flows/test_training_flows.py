"""The coordinator's training flow as data: times in their zone, links, regions, keep buttons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows import clock, engine
from flows.engine import END, Input, Rejected
from flows.errors import Invalid
from flows.training import (
    KEEP,
    TOPIC_FILTERS,
    TOPIC_KEYS,
    TRAINING_EDIT,
    ends_utc,
    region_of,
    starts_utc,
    url,
    value,
)


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_clock(lambda: datetime(2026, 11, 25, 3, 0, tzinfo=UTC))  # 10:00 WIB
    yield
    clock.set_clock(None)


def test_topics_are_data_with_an_all_filter() -> None:
    assert TOPIC_FILTERS[0].value == "all"
    assert TOPIC_KEYS == {"business", "finance", "digital", "coop", "vocational", "agri"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://zoom.us/j/123", "https://zoom.us/j/123"),
        ("http://meet.google.com/abc-defg-hij", "http://meet.google.com/abc-defg-hij"),
        ("zoom.us/j/123", "https://zoom.us/j/123"),
    ],
)
def test_links(raw: str, expected: str) -> None:
    assert url(raw) == expected


@pytest.mark.parametrize("raw", ["not a link", "ftp://files.example.com/x", "https://", "zoom"])
def test_bad_links(raw: str) -> None:
    with pytest.raises(Invalid):
        url(raw)


def test_times_typed_in_the_coordinators_zone_are_stored_in_utc() -> None:
    answers = {"date": "2027-01-15", "start": "09.00", "end": "12.30", "tz": "Asia/Jayapura"}
    assert starts_utc(answers) == datetime(2027, 1, 15, 0, 0, tzinfo=UTC)
    assert ends_utc(answers) == datetime(2027, 1, 15, 3, 30, tzinfo=UTC)
    assert starts_utc({**answers, "tz": "Asia/Jakarta"}) == datetime(2027, 1, 15, 2, tzinfo=UTC)


def _at(step: str, answers: dict) -> engine.RunState:
    return engine.RunState(step=step, answers=answers)


def test_end_must_be_after_start_and_a_past_time_today_is_refused() -> None:
    state = _at("end", {"date": "2027-01-15", "start": "09.00"})
    out = engine.answer(TRAINING_EDIT, state, Input(text="08:00"))
    assert isinstance(out, Rejected)
    assert "09.00" not in [o.value for o in TRAINING_EDIT.step("end").options_for(state.answers)]
    out = engine.answer(TRAINING_EDIT, state, Input(text="14:30"))
    assert out.state.answers["end"] == "14.30"  # type: ignore[union-attr]
    today = _at("start", {"date": "2026-11-25"})
    assert isinstance(engine.answer(TRAINING_EDIT, today, Input(text="08:00")), Rejected)
    assert "08.00" not in [o.value for o in TRAINING_EDIT.step("start").options_for(today.answers)]


def test_date_is_not_in_the_past() -> None:
    out = engine.answer(TRAINING_EDIT, _at("date", {}), Input(text="24/11/2026"))
    assert isinstance(out, Rejected)
    out = engine.answer(TRAINING_EDIT, _at("date", {}), Input(text="25/11/2026"))
    assert out.state.answers["date"] == "2026-11-25"  # type: ignore[union-attr]


def test_regions() -> None:
    assert region_of({"region": "all"}) == (None, None)
    assert region_of({"region": "35.78"}) == ("35", "35.78")
    assert region_of({"region": "35"}) == ("35", None)
    assert region_of({"region": "other", "province": "52", "regency": "whole"}) == ("52", None)
    assert region_of({"region": "other", "province": "52", "regency": "52.03"}) == ("52", "52.03")


def test_mode_and_region_branches() -> None:
    assert TRAINING_EDIT.following("mode", {"mode": "online"}) == "link"
    assert TRAINING_EDIT.following("mode", {"mode": "place"}) == "place"
    assert TRAINING_EDIT.following("place", {}) == "region"
    assert TRAINING_EDIT.following("region", {"region": "other"}) == "province"
    assert TRAINING_EDIT.following("regency", {}) == "seats"
    assert TRAINING_EDIT.following("confirm", {}) == END


def test_editing_keeps_a_value_with_one_button_and_typing_replaces_it() -> None:
    answers = {"orig": {"title": "Selling online"}, "title": "Selling online"}
    options = TRAINING_EDIT.step("title").options_for(answers)
    assert [o.value for o in options] == [KEEP]
    kept = engine.answer(TRAINING_EDIT, _at("title", answers), Input(choice=KEEP))
    assert value(kept.state.answers, "title") == "Selling online"  # type: ignore[union-attr]
    typed = engine.answer(TRAINING_EDIT, _at("title", answers), Input(text="Selling"))
    assert value(typed.state.answers, "title") == "Selling"  # type: ignore[union-attr]
    assert TRAINING_EDIT.step("title").options_for({}) == ()
