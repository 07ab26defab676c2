"""Typed text on a choice step: a button only on its whole label, never a part of one; typed
steps read the text as their type first; years-abroad buckets that never overlap."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from babel.support import Translations
from hypothesis import given
from hypothesis import strategies as st

from bot.app import LOCALES_DIR
from flows import engine, kur, registry, validators
from flows.engine import Advanced, Input, Kind, Matches, Option, RunState
from flows.errors import Invalid
from flows.onboarding import ONBOARDING, YEARS

INDONESIAN = Translations.load(str(LOCALES_DIR), ["id"], "messages")


def in_indonesian(option: Option) -> str:
    return option.label if option.literal else INDONESIAN.gettext(option.label)


def in_english(option: Option) -> str:
    return option.label


LABELS: dict[str, Callable[[Option], str]] = {"id": in_indonesian, "en": in_english}

SIMULATOR_ANSWERS = {"loan_amount": 25_000_000, "amount": 25_000_000}


def at(flow, step: str, answers: dict | None = None) -> RunState:
    return RunState(step=step, answers=dict(answers or {}), history=[flow.first])


@pytest.mark.parametrize(("typed", "months"), [("1", 1), ("2", 2), ("6", 6), ("12", 12),
                                               ("18 bulan", 18), ("2 tahun", 24), ("1 year", 12)])  # fmt: skip
def test_a_typed_tenor_is_that_many_months_not_a_button_containing_it(typed, months) -> None:
    state = at(kur.SIMULATOR, "tenor", SIMULATOR_ANSWERS)
    for label in LABELS.values():
        outcome = engine.answer(kur.SIMULATOR, state, Input(text=typed), label)
        assert isinstance(outcome, Advanced) and outcome.value == months


def test_a_tenor_buttons_whole_label_still_picks_it() -> None:
    state = at(kur.SIMULATOR, "tenor", SIMULATOR_ANSWERS)
    for typed, label in (
        ("24 bulan (2 tahun)", in_indonesian),
        ("24 MONTHS (2 years)", in_english),
    ):
        outcome = engine.answer(kur.SIMULATOR, state, Input(text=typed), label)
        assert isinstance(outcome, Advanced) and outcome.value == "24"


def test_a_typed_amount_is_that_amount_not_the_button_it_is_part_of() -> None:
    state = RunState(step="amount", answers=dict(SIMULATOR_ANSWERS))
    outcome = engine.answer(kur.SIMULATOR, state, Input(text="5.000.000"), in_indonesian)
    assert isinstance(outcome, Advanced) and outcome.value == 5_000_000
    outcome = engine.answer(kur.SIMULATOR, state, Input(text="Rp 25.000.000"), in_indonesian)
    assert isinstance(outcome, Advanced) and outcome.value == "25000000"  # the button itself


def test_a_typed_time_is_that_time_not_a_button_containing_its_digits() -> None:
    flow = registry.get("found_meeting")
    state = at(flow, "time", {"date": "2027-01-15"})
    outcome = engine.answer(flow, state, Input(text="9"), in_indonesian)
    assert isinstance(outcome, Advanced) and outcome.value == "09:00"


def test_a_part_of_a_label_is_offered_never_taken() -> None:
    state = at(ONBOARDING, "country")
    outcome = engine.answer(ONBOARDING, state, Input(text="Korea"), in_english)
    assert isinstance(outcome, Matches) and [o.value for o in outcome.options] == ["KR"]
    outcome = engine.answer(ONBOARDING, state, Input(text="south  KOREA!"), in_english)
    assert isinstance(outcome, Advanced) and outcome.value == "KR"
    outcome = engine.answer(ONBOARDING, state, Input(text="hongkong"), in_english)
    assert isinstance(outcome, Advanced) and outcome.value == "HK"  # spaces do not count


def test_a_region_is_taken_by_its_name_and_only_offered_by_a_part_of_it() -> None:
    state = RunState(step="regency", answers={"province": "35"}, history=["province"])
    outcome = engine.answer(ONBOARDING, state, Input(text="surabaya"))
    assert isinstance(outcome, Advanced) and outcome.value == "35.78"
    outcome = engine.answer(ONBOARDING, state, Input(text="sura"))
    assert isinstance(outcome, Matches) and [o.value for o in outcome.options] == ["35.78"]


# --- every choice step of every flow ---------------------------------------------------------

SAMPLE = {
    "province": "35",
    "home": "35.78",
    "home_province": "35",
    "home_regency": "35.78",
    "loan_amount": 40_000_000,
    "amount": 40_000_000,
    "date": "2027-01-15",
    "start": "09.00",
    "tz": "Asia/Jakarta",
    "orig": {"title": "Selling online for small shops", "place": "Aula BLK Surabaya"},
}


def _choice_steps():
    for flow in registry.FLOWS.values():
        for step in flow.steps:
            if step.kind in (Kind.CHOICE, Kind.CONFIRM) and step.finder is None:
                yield pytest.param(flow, step, id=f"{flow.key}.{step.key}")


def _parts(label: str) -> set[str]:
    """Every run of whole words of a label, shorter than the label itself."""
    words = label.split()
    return {
        " ".join(words[i:j])
        for i in range(len(words))
        for j in range(i + 1, len(words) + 1)
        if j - i < len(words)
    }


@pytest.mark.parametrize(("flow", "step"), list(_choice_steps()))
def test_no_button_is_taken_on_a_part_of_its_label(flow, step) -> None:
    state = RunState(step=step.key, answers=dict(SAMPLE), history=[])
    options = step.options_for(state.answers)
    for name, label in LABELS.items():
        whole = {engine.normalise(label(o)).replace(" ", "") for o in options}
        whole |= {engine.normalise(o.label).replace(" ", "") for o in options}
        for option in options:
            for part in _parts(label(option)):
                if engine.normalise(part).replace(" ", "") in whole:
                    continue  # it is another button's whole label
                outcome = engine.answer(flow, state, Input(text=part), label)
                if not isinstance(outcome, Advanced):
                    continue
                assert step.typed is not None or step.validate is not None, (name, part)
                assert outcome.value == step.validate(part, state.answers), (name, part)


# --- years abroad: buckets that never overlap --------------------------------------------------

_INTERVALS = (  # how a label says its range, in both languages: (pattern, interval of years)
    (r"(?:less than|kurang dari) (\d+) (?:years?|tahun)", lambda a, b: (0, True, a, False)),
    (r"(\d+) (?:to|sampai) (\d+) (?:years|tahun)", lambda a, b: (a, True, b, True)),
    (
        r"(?:more than|lebih dari) (\d+),? (?:up to|sampai) (\d+) (?:years|tahun)",
        lambda a, b: (a, False, b, True),
    ),
    (r"(?:more than|lebih dari) (\d+) (?:years|tahun)", lambda a, b: (a, False, 10**6, True)),
)


def _interval(label: str) -> tuple[int, bool, int, bool]:
    for pattern, interval in _INTERVALS:
        match = re.fullmatch(pattern, label.lower())
        if match:
            numbers = [int(g) for g in match.groups()] + [0]
            return interval(numbers[0], numbers[1])
    raise AssertionError(f"a years label that says no range: {label!r}")


def _holds(interval: tuple[int, bool, int, bool], years: Decimal) -> bool:
    low, low_in, high, high_in = interval
    return (low < years or (low_in and low == years)) and (
        years < high or (high_in and high == years)
    )


def _labelled(years: Decimal, label: Callable[[Option], str]) -> list[str]:
    return [o.value for o in YEARS if _holds(_interval(label(o)), years)]


@given(st.integers(0, 60), st.sampled_from(sorted(LABELS)))
def test_every_whole_number_of_years_has_exactly_one_bucket(years, language) -> None:
    label = LABELS[language]
    buckets = _labelled(Decimal(years), label)
    assert len(buckets) == 1, (years, buckets)
    assert validators.years_abroad(str(years)) == buckets[0]
    state = at(ONBOARDING, "years")
    for typed in (str(years), f"{years} tahun", f"{years} years"):
        outcome = engine.answer(ONBOARDING, state, Input(text=typed), label)
        assert isinstance(outcome, Advanced) and outcome.value == buckets[0], typed


def test_each_of_0_to_60_years_has_exactly_one_bucket_exhaustively() -> None:
    for years in range(61):
        for label in LABELS.values():
            assert len(_labelled(Decimal(years), label)) == 1, years
        assert [validators.years_abroad(str(years))] == _labelled(Decimal(years), in_indonesian)


@given(st.integers(0, 6000))
def test_fractions_of_years_fall_in_the_bucket_their_label_says(hundredths) -> None:
    years = Decimal(hundredths) / 100
    buckets = _labelled(years, in_indonesian)
    assert len(buckets) == 1 and validators.years_abroad(f"{years}") == buckets[0]


def test_a_years_buttons_whole_label_picks_it() -> None:
    state = at(ONBOARDING, "years")
    for option in YEARS:
        outcome = engine.answer(ONBOARDING, state, Input(text=in_indonesian(option)), in_indonesian)
        assert isinstance(outcome, Advanced) and outcome.value == option.value


def test_a_typed_tenor_out_of_range_says_the_range() -> None:
    with pytest.raises(Invalid) as caught:
        validators.months("120", min_value=1, max_value=60)
    assert caught.value.params == {"min": 1, "max": 60}
    with pytest.raises(Invalid):
        validators.months("3 kg", min_value=1, max_value=60)


# --- text that shows nothing is never an answer, on any step ------------------------------------

SHOWS_NOTHING = st.lists(
    st.sampled_from(
        ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u3164", "\u2800",
         "\u00a0", "\u3000", "\u180e", "\u00ad", "\u034f", " ", "\u115f", "\uffa0"]
    ),
    min_size=1,
    max_size=12,
).map("".join)  # fmt: skip


def _typed_steps():
    for flow in registry.FLOWS.values():
        for step in flow.steps:
            if step.kind not in (Kind.MULTI_CHOICE, Kind.CHECKLIST, Kind.LOCATION):
                yield pytest.param(flow, step, id=f"{flow.key}.{step.key}")


@pytest.mark.parametrize(("flow", "step"), list(_typed_steps()))
@given(raw=SHOWS_NOTHING)
def test_text_that_shows_nothing_answers_no_step(flow, step, raw) -> None:
    state = RunState(step=step.key, answers=dict(SAMPLE), history=[])
    outcome = engine.answer(flow, state, Input(text=raw), in_indonesian)
    assert not isinstance(outcome, Advanced), (flow.key, step.key, outcome)
