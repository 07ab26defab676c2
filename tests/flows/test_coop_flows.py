"""The cooperative flows as data: steps, branches, validators and the founding rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows import clock, engine
from flows import found_coop as fc
from flows import join_coop as jc
from flows.engine import END, Input, Kind
from flows.errors import Invalid
from storage.models import CoopKind

NIK = "3578015203900001"


def walk(flow, inputs, answers=None):
    state = engine.RunState(step=flow.first, answers=dict(answers or {}))
    for given in inputs:
        outcome = engine.answer(flow, state, given)
        assert isinstance(outcome, engine.Advanced), outcome
        state = outcome.state
    return state


def test_kinds_are_the_directory_kinds_and_filters_add_the_groups() -> None:
    assert jc.KIND_VALUES == set(CoopKind)
    assert {"any", "merah_putih", "migrant"} | set(CoopKind) == jc.FILTER_VALUES


def test_search_near_home_asks_only_the_type() -> None:
    state = walk(jc.SEARCH, [Input(choice="home"), Input(choice="migrant")], {"home": "35.78"})
    assert state.done and state.history == ["where", "kind"]
    assert jc.search_place(state.answers) == ("regency", "35.78")


def test_search_elsewhere_asks_province_and_regency_or_the_whole_province() -> None:
    state = walk(
        jc.SEARCH,
        [Input(choice="other"), Input(text="jatim"), Input(text="Kabupaten Malang"),
         Input(choice="any")],
        {"home": "35.78"},
    )  # fmt: skip
    assert jc.search_place(state.answers) == ("regency", "35.07")
    whole = walk(
        jc.SEARCH, [Input(choice="other"), Input(choice="52"), Input(choice="all"),
                    Input(choice="jasa")]
    )  # fmt: skip
    assert jc.search_place(whole.answers) == ("province", "52")


def test_without_a_home_regency_only_another_region_is_offered() -> None:
    step = jc.SEARCH.step("where")
    assert [o.value for o in step.options_for({})] == ["other"]
    assert [o.value for o in step.options_for({"home": "35.78"})] == ["home", "other"]


def test_join_asks_the_nik_only_when_none_is_saved() -> None:
    asked = walk(jc.JOIN, [Input(choice="yes"), Input(text=NIK), Input(choice="yes")])
    assert asked.history == ["commit", "nik", "confirm"] and asked.answers["nik"] == NIK
    saved = walk(jc.JOIN, [Input(choice="yes"), Input(choice="yes")], {"has_nik": True})
    assert saved.history == ["commit", "confirm"] and "nik" not in saved.answers
    not_yet = walk(jc.JOIN, [Input(choice="no")])
    assert not_yet.done


def test_join_rejects_a_bad_nik_and_shows_a_typed_one_masked() -> None:
    state = engine.RunState(step="nik", answers={"commit": "yes"}, history=["commit"])
    outcome = engine.answer(jc.JOIN, state, Input(text="12345"))
    assert isinstance(outcome, engine.Rejected)
    step = jc.JOIN.step("nik")
    assert step.mask is not None and step.mask(NIK) == "3578********0001"
    assert step.options_for({"nik": NIK}) == ()  # never a button carrying the number


def test_founding_flow_validates_purpose_and_name() -> None:
    state = engine.RunState(step="purpose", answers={"kind": "jasa"}, history=["kind"])
    assert isinstance(engine.answer(fc.FOUND, state, Input(text="x")), engine.Rejected)
    assert isinstance(engine.answer(fc.FOUND, state, Input(text="y" * 301)), engine.Rejected)
    done = walk(
        fc.FOUND,
        [Input(choice="produsen"), Input(text="Mengolah kopi petani purna PMI"),
         Input(text="Koperasi Kopi Purna"), Input(choice="yes")],
    )  # fmt: skip
    assert done.done and done.answers["name"] == "Koperasi Kopi Purna"


def test_nine_founders_and_the_meeting_make_a_plan_ready() -> None:
    assert fc.MIN_FOUNDERS == 9
    assert not fc.ready_to_submit(9, {})
    assert not fc.ready_to_submit(8, {"meeting": "2026-01-01"})
    assert fc.ready_to_submit(9, {"meeting": "2026-01-01"})
    assert fc.next_milestone({}).key == "penyuluhan"
    assert fc.next_milestone({"penyuluhan": "x", "adart": "x"}).key == "meeting"
    assert fc.next_milestone({k: "x" for k in fc.MILESTONE_KEYS}) is None
    assert fc.MILESTONE_KEYS == (
        "penyuluhan", "adart", "meeting", "setor", "business_plan", "notary", "ahu", "nib",
        "npwp", "bank", "nik_koperasi",
    )  # fmt: skip
    # every key stored on older plans still means the same step
    old = {"adart", "meeting", "notary", "ahu", "nik_koperasi", "nib", "npwp", "bank"}
    assert old <= set(fc.MILESTONE_KEYS)


@pytest.fixture
def fixed_clock():
    clock.set_clock(lambda: datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    yield
    clock.set_clock(None)


def test_meeting_date_not_in_the_past_and_time_typed_or_chosen(fixed_clock) -> None:
    flow = fc.MEETING_FLOW
    assert flow.step("date").kind is Kind.DATE
    state = engine.RunState(step="date", answers={"founding_id": 1})
    assert isinstance(engine.answer(flow, state, Input(text="1/1/2020")), engine.Rejected)
    state = walk(flow, [Input(text="besok"), Input(text="2 siang")], {"founding_id": 1})
    assert state.answers["date"] == "2026-11-26" and state.answers["time"] == "14:00"
    chosen = walk(flow, [Input(text="17/12/2026"), Input(choice="09.00")])
    assert chosen.answers["time"] == "09.00" and chosen.done
    with pytest.raises(Invalid):
        flow.step("time").validate("25.99", {})


def test_flows_belong_to_the_coop_journey() -> None:
    for flow in (*jc.FLOWS, *fc.FLOWS):
        assert flow.journey == "coop"
    assert jc.JOIN.following("confirm", {}) == END
