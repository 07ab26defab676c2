"""Who a broadcast is for: a segment spec, pure data that round-trips through JSON.

Kinds (every kind only ever reaches people who accepted announcements and have not blocked
the bot; storage.segments turns a spec into SQL):

- ``all``: everyone who accepted announcements.
- ``region``: people whose home is in a province (``region="35"``) or regency (``"35.78"``).
- ``journey_step``: people with an unfinished run of ``flow`` standing at ``step`` (e.g.
  ``kur_readiness`` at ``permit``); or, with ``flow=KUR_DOCUMENTS_INCOMPLETE`` and no step,
  people with a KUR loan still before the bank whose document list is not complete.
- ``interest``: what people want first (Person.goal): ``coop``, ``kur`` or ``training``.
- ``cooperative``: people with a join request for ``cooperative_id`` (submitted, approved or
  returned for correction), or the founders of the founding plan ``founding_id`` (one of both).
- ``training``: people registered or waitlisted for ``training_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from flows import regions
from flows.i18n import N_

ALL = "all"
REGION = "region"
JOURNEY_STEP = "journey_step"
INTEREST = "interest"
COOPERATIVE = "cooperative"
TRAINING = "training"
KINDS = (ALL, REGION, JOURNEY_STEP, INTEREST, COOPERATIVE, TRAINING)

KUR_DOCUMENTS_INCOMPLETE = "kur_documents_incomplete"
GOALS = ("coop", "kur", "training")  # flows.onboarding.GOALS' values

# The fields each kind must have; "one of" groups are tuples of alternatives.
_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    ALL: (),
    REGION: (("region",),),
    JOURNEY_STEP: (("flow",),),  # and `step`, except for KUR_DOCUMENTS_INCOMPLETE
    INTEREST: (("goal",),),
    COOPERATIVE: (("cooperative_id", "founding_id"),),
    TRAINING: (("training_id",),),
}
_ALLOWED: dict[str, frozenset[str]] = {
    ALL: frozenset(),
    REGION: frozenset({"region"}),
    JOURNEY_STEP: frozenset({"flow", "step"}),
    INTEREST: frozenset({"goal"}),
    COOPERATIVE: frozenset({"cooperative_id", "founding_id"}),
    TRAINING: frozenset({"training_id"}),
}
_STRINGS = frozenset({"kind", "region", "flow", "step", "goal"})
_IDS = frozenset({"cooperative_id", "founding_id", "training_id"})


class Msgid(str):
    """A describe() parameter that is itself a msgid: translate it before formatting."""

    __slots__ = ()


@dataclass(frozen=True)
class Segment:
    """A validated segment spec; building one with a wrong field raises ValueError."""

    kind: str
    region: str | None = None
    flow: str | None = None
    step: str | None = None
    goal: str | None = None
    cooperative_id: int | None = None
    founding_id: int | None = None
    training_id: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name in _STRINGS and (not isinstance(value, str) or not value):
                raise ValueError(f"{f.name} must be a non-empty string")
            if f.name in _IDS and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise ValueError(f"{f.name} must be a positive integer")
        if self.kind not in KINDS:
            raise ValueError(f"unknown segment kind {self.kind!r}")
        given = {k for k, v in self._values().items() if v is not None and k != "kind"}
        extra = given - _ALLOWED[self.kind]
        if extra:
            raise ValueError(f"{self.kind} takes no {', '.join(sorted(extra))}")
        for group in _REQUIRED[self.kind]:
            present = [k for k in group if k in given]
            if len(present) != 1:
                raise ValueError(f"{self.kind} needs exactly one of {', '.join(group)}")
        check = getattr(self, f"_check_{self.kind}", None)
        if check is not None:
            check()

    def _values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def _check_region(self) -> None:
        assert self.region is not None
        if regions.get(self.region) is None or self.region != self.region.strip():
            raise ValueError(f"unknown region {self.region!r}")

    def _check_journey_step(self) -> None:
        if self.flow == KUR_DOCUMENTS_INCOMPLETE:
            if self.step is not None:
                raise ValueError(f"{KUR_DOCUMENTS_INCOMPLETE} takes no step")
            return
        if self.step is None:
            raise ValueError("journey_step needs a step")
        from flows import registry  # late: a flow module may import this one

        flow = registry.FLOWS.get(self.flow or "")
        if flow is None or flow.journey is None:
            raise ValueError(f"unknown journey flow {self.flow!r}")
        try:
            flow.step(self.step)
        except KeyError:
            raise ValueError(f"{self.flow} has no step {self.step!r}") from None

    def _check_interest(self) -> None:
        if self.goal not in GOALS:
            raise ValueError(f"unknown interest {self.goal!r}")

    @property
    def is_province(self) -> bool:
        """A region segment for a whole province (its code has no dot)."""
        return self.kind == REGION and self.region is not None and "." not in self.region

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the kind and the fields it uses."""
        return {k: v for k, v in self._values().items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Segment:
        """A spec from its JSON form; ValueError on any unknown key or bad value."""
        if not isinstance(data, Mapping):
            raise ValueError("a segment is a JSON object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown segment keys: {', '.join(sorted(map(str, unknown)))}")
        if "kind" not in data:
            raise ValueError("a segment needs a kind")
        return cls(**data)


def describe(spec: Segment, *, name: str | None = None) -> tuple[str, dict[str, Any]]:
    """How the bot names a segment: (msgid, params). Params that are `Msgid`s are msgids too
    (a flow's title, a step's question): translate them first. `name` is the cooperative's,
    founding plan's or training's name when the caller looked it up (shown as is)."""
    if spec.kind == ALL:
        return N_("Everyone who accepted announcements"), {}
    if spec.kind == REGION:
        assert spec.region is not None
        return N_("People living in {region}"), {"region": regions.display_name(spec.region)}
    if spec.kind == JOURNEY_STEP:
        if spec.flow == KUR_DOCUMENTS_INCOMPLETE:
            return N_("KUR: documents not complete yet"), {}
        from flows import registry

        flow = registry.get(spec.flow or "")
        step = flow.step(spec.step or "")
        return (
            N_("{flow}: stopped at “{step}”"),
            {"flow": Msgid(flow.title), "step": Msgid(step.prompt)},
        )
    if spec.kind == INTEREST:
        msgids = {
            "coop": N_("People interested in cooperatives"),
            "kur": N_("People interested in a KUR loan"),
            "training": N_("People interested in training"),
        }
        return msgids[spec.goal or ""], {}
    if spec.kind == COOPERATIVE:
        if spec.cooperative_id is not None:
            if name:
                return N_("People who asked to join {name}"), {"name": name}
            return N_("People who asked to join cooperative #{id}"), {"id": spec.cooperative_id}
        if name:
            return N_("Founders of the planned cooperative {name}"), {"name": name}
        return N_("Founders of founding plan #{id}"), {"id": spec.founding_id}
    if name:
        return N_("People registered or waitlisted for {name}"), {"name": name}
    return N_("People registered or waitlisted for training #{id}"), {"id": spec.training_id}


def journey_steps() -> list[tuple[str, str, str]]:
    """(journey, flow key, step key) of every journey step a segment can name, in flow order,
    with the KUR documents special last: for the compose flow's buttons."""
    from flows import registry

    found = [
        (flow.journey, flow.key, step.key)
        for flow in registry.FLOWS.values()
        if flow.journey is not None
        for step in flow.steps
    ]
    return [*found, ("kur", KUR_DOCUMENTS_INCOMPLETE, "")]
