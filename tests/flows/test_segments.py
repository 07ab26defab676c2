"""Segment specs: JSON round trip, validation, and how they are described."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import segments
from flows.segments import KUR_DOCUMENTS_INCOMPLETE, Msgid, Segment, describe, journey_steps

VALID = [
    {"kind": "all"},
    {"kind": "region", "region": "35"},
    {"kind": "region", "region": "35.78"},
    {"kind": "journey_step", "flow": "kur_readiness", "step": "permit"},
    {"kind": "journey_step", "flow": KUR_DOCUMENTS_INCOMPLETE},
    {"kind": "interest", "goal": "kur"},
    {"kind": "cooperative", "cooperative_id": 3},
    {"kind": "cooperative", "founding_id": 4},
    {"kind": "training", "training_id": 5},
]


@pytest.mark.parametrize("data", VALID)
def test_a_valid_spec_round_trips_through_json(data: dict) -> None:
    spec = Segment.from_dict(json.loads(json.dumps(data)))
    assert spec.to_dict() == data
    assert Segment.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "everyone"},
        {"kind": "all", "region": "35"},
        {"kind": "all", "colour": "red"},
        {"kind": "region"},
        {"kind": "region", "region": "99"},
        {"kind": "region", "region": ""},
        {"kind": "region", "region": 35},
        {"kind": "journey_step", "flow": "kur_readiness"},
        {"kind": "journey_step", "flow": "kur_readiness", "step": "nope"},
        {"kind": "journey_step", "flow": "onboarding", "step": "name"},  # not a journey
        {"kind": "journey_step", "flow": "nope", "step": "x"},
        {"kind": "journey_step", "flow": KUR_DOCUMENTS_INCOMPLETE, "step": "permit"},
        {"kind": "interest", "goal": "fishing"},
        {"kind": "cooperative"},
        {"kind": "cooperative", "cooperative_id": 1, "founding_id": 2},
        {"kind": "cooperative", "cooperative_id": "1"},
        {"kind": "cooperative", "cooperative_id": True},
        {"kind": "training", "training_id": 0},
        {"kind": "training", "training_id": 1.5},
    ],
)
def test_a_wrong_spec_is_refused(data: dict) -> None:
    with pytest.raises(ValueError):
        Segment.from_dict(data)


def test_a_spec_must_be_an_object() -> None:
    with pytest.raises(ValueError):
        Segment.from_dict(["all"])  # type: ignore[arg-type]


_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.sampled_from(["35", "kur"])
)


# Generation is cheap; on a loaded CI machine the first draw can still be slow to arrive.
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["kind", "region", "flow", "step", "goal", "cooperative_id", "founding_id",
             "training_id", "extra"]
        ),
        st.one_of(_values, st.sampled_from(segments.KINDS)),
        max_size=4,
    )
)  # fmt: skip
def test_any_dict_either_round_trips_or_raises_value_error(data: dict) -> None:
    try:
        spec = Segment.from_dict(data)
    except ValueError:
        return
    again = Segment.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.kind in segments.KINDS


@pytest.mark.parametrize("data", VALID)
def test_every_spec_has_a_description(data: dict) -> None:
    msgid, params = describe(Segment.from_dict(data))
    assert msgid.format(**params)


def test_descriptions_name_what_they_are_about() -> None:
    msgid, params = describe(Segment(kind="region", region="35.78"))
    assert msgid.format(**params) == "People living in Kota Surabaya, Jawa Timur"
    msgid, params = describe(Segment(kind="journey_step", flow="kur_readiness", step="permit"))
    assert isinstance(params["flow"], Msgid) and params["flow"] == "KUR readiness check"
    assert isinstance(params["step"], Msgid)
    msgid, params = describe(Segment(kind="training", training_id=5), name="Digital marketing")
    assert msgid.format(**params) == "People registered or waitlisted for Digital marketing"


def test_journey_steps_are_all_valid_specs() -> None:
    steps = journey_steps()
    assert ("kur", "kur_readiness", "permit") in steps
    for journey, flow, step in steps:
        assert journey in ("coop", "kur", "training")
        Segment(kind="journey_step", flow=flow, step=step or None)
