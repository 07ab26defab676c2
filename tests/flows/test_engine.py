"""The pure flow engine: transitions, branches, back, progress, matching."""

from __future__ import annotations

from flows import engine
from flows.engine import (
    DONE,
    END,
    Advanced,
    Flow,
    Input,
    Kind,
    Matches,
    Option,
    Rejected,
    Stayed,
    Step,
)
from flows.errors import Invalid
from flows.onboarding import ONBOARDING, PROFILE_EDIT


def _positive(raw: str, _answers) -> int:
    if not raw.isdigit() or int(raw) == 0:
        raise Invalid("Type a positive number.")
    return int(raw)


BRANCHY = Flow(
    key="t",
    title="t",
    steps=(
        Step(
            "has_business",
            "q1",
            Kind.CONFIRM,
            next=lambda a: "months" if a["has_business"] == "yes" else "plan",
        ),
        Step("months", "q2", Kind.NUMBER, validate=_positive, next="docs"),
        Step("plan", "q3", Kind.TEXT, next="docs"),
        Step("docs", "q4", Kind.CHECKLIST, options=(Option("ktp", "KTP"), Option("kk", "KK"))),
        Step(
            "bank",
            "q5",
            Kind.CHOICE,
            options=(Option("bri", "BRI"), Option("bni", "BNI")),
            searchable=True,
        ),
    ),
)


def test_a_branch_follows_the_answers() -> None:
    state = engine.start(BRANCHY)
    outcome = engine.answer(BRANCHY, state, Input(choice="no"))
    assert isinstance(outcome, Advanced) and outcome.state.step == "plan"
    outcome = engine.answer(BRANCHY, engine.start(BRANCHY), Input(choice="yes"))
    assert isinstance(outcome, Advanced) and outcome.state.step == "months"


def test_progress_counts_steps_on_this_persons_branch() -> None:
    state = engine.start(BRANCHY)
    assert engine.progress(BRANCHY, state) == (1, 4)
    state = engine.answer(BRANCHY, state, Input(choice="yes")).state
    assert engine.progress(BRANCHY, state) == (2, 4)
    state = engine.answer(BRANCHY, state, Input(text="7")).state
    assert (state.step, engine.progress(BRANCHY, state)) == ("docs", (3, 4))


def test_invalid_input_is_rejected_with_the_validators_message_and_state_unchanged() -> None:
    state = engine.answer(BRANCHY, engine.start(BRANCHY), Input(choice="yes")).state
    outcome = engine.answer(BRANCHY, state, Input(text="zero"))
    assert isinstance(outcome, Rejected) and outcome.error.msgid == "Type a positive number."
    assert state.step == "months" and "months" not in state.answers


def test_a_choice_not_on_the_step_is_refused() -> None:
    outcome = engine.answer(BRANCHY, engine.start(BRANCHY), Input(choice="maybe"))
    assert isinstance(outcome, Rejected) and outcome.error.msgid == engine.USE_BUTTONS


def test_non_text_input_on_a_text_step_is_refused() -> None:
    state = engine.answer(BRANCHY, engine.start(BRANCHY), Input(choice="no")).state
    outcome = engine.answer(BRANCHY, state, Input())
    assert isinstance(outcome, Rejected) and outcome.error.msgid == engine.NOT_TEXT


def test_back_returns_along_the_path_and_keeps_answers() -> None:
    state = engine.answer(BRANCHY, engine.start(BRANCHY), Input(choice="no")).state
    state = engine.answer(BRANCHY, state, Input(text="warung")).state
    state = engine.back(BRANCHY, state)
    assert state.step == "plan" and state.answers["plan"] == "warung"
    state = engine.back(BRANCHY, state)
    assert state.step == "has_business" and engine.back(BRANCHY, state) == state


def test_checklist_toggles_then_done_moves_on() -> None:
    state = engine.RunState(step="docs", history=["has_business", "plan"])
    outcome = engine.answer(BRANCHY, state, Input(choice="ktp"))
    assert isinstance(outcome, Stayed) and outcome.state.answers["docs"] == ["ktp"]
    outcome = engine.answer(BRANCHY, outcome.state, Input(choice="ktp"))
    assert outcome.state.answers["docs"] == []
    outcome = engine.answer(BRANCHY, outcome.state, Input(choice="kk"))
    outcome = engine.answer(BRANCHY, outcome.state, Input(choice=DONE))
    assert isinstance(outcome, Advanced) and outcome.state.step == "bank"


def test_typed_text_picks_an_option_or_offers_matches() -> None:
    state = engine.RunState(step="bank")
    outcome = engine.answer(BRANCHY, state, Input(text="bri"))
    assert isinstance(outcome, Advanced) and outcome.value == "bri" and outcome.state.step == END
    outcome = engine.answer(BRANCHY, state, Input(text="b"))
    assert isinstance(outcome, Matches) and [o.value for o in outcome.options] == ["bri", "bni"]


def test_onboarding_has_eight_steps_and_edit_jumps_to_one_field() -> None:
    assert engine.progress(ONBOARDING, engine.start(ONBOARDING)) == (1, 8)
    state = engine.answer(PROFILE_EDIT, engine.start(PROFILE_EDIT), Input(choice="province")).state
    assert state.step == "province"
    assert engine.progress(PROFILE_EDIT, state) == (2, 3)


def test_province_search_understands_common_abbreviations() -> None:
    state = engine.RunState(step="province", history=["language", "name", "phone"])
    outcome = engine.answer(ONBOARDING, state, Input(text="jatim"))
    assert isinstance(outcome, Advanced) and outcome.value == "35"


def test_typed_text_fitting_several_options_offers_them_even_with_free_text_allowed() -> None:
    state = engine.RunState(step="country", history=["language", "name"])
    outcome = engine.answer(ONBOARDING, state, Input(text="Arab"))
    assert isinstance(outcome, Matches) and {o.value for o in outcome.options} == {"SA", "AE"}
    outcome = engine.answer(ONBOARDING, state, Input(text="Nepal"))
    assert isinstance(outcome, Advanced) and outcome.value == "Nepal"


def test_province_search_accepts_the_everyday_spelling_sumatra() -> None:
    state = engine.RunState(step="province", history=["language", "name", "phone"])
    outcome = engine.answer(ONBOARDING, state, Input(text="sumatra utara"))
    assert isinstance(outcome, Advanced) and outcome.value == "12"
    outcome = engine.answer(ONBOARDING, state, Input(text="sumatra"))
    assert isinstance(outcome, Matches) and len(outcome.options) == 3


def test_a_regency_in_another_province_says_which_province() -> None:
    state = engine.RunState(step="regency", answers={"province": "11"}, history=["province"])
    outcome = engine.answer(ONBOARDING, state, Input(text="medan"))
    assert isinstance(outcome, Rejected)
    assert outcome.error.params == {"place": "Kota Medan", "province": "Sumatera Utara"}
