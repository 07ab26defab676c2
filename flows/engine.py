"""Flows as data, and the pure engine that moves a person through one.

A flow is a tuple of steps. The engine takes the state of a run and one input
and returns what happened; it never talks to Telegram or to a database. The bot
renders steps and stores `RunState` in the flow run row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from flows.errors import Invalid
from flows.i18n import N_

Answers = Mapping[str, Any]
END = "__end__"


class Money(int):
    """A hint value in rupiah: the bot formats it the person's way ("Rp50.000.000")."""


DONE = "__done__"


class Kind(StrEnum):
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    TIME = "time"
    PHONE = "phone"
    LOCATION = "location"
    CONFIRM = "confirm"
    CHECKLIST = "checklist"


@dataclass(frozen=True)
class Option:
    """A button. `label` is a msgid, or a proper noun shown as is when `literal`."""

    value: str
    label: str
    literal: bool = False


class Found(NamedTuple):
    """What a step's own search found for typed text, as option values, best first."""

    exact: Sequence[str] = ()  # what the text names outright (a name, an alias): taken when one
    near: Sequence[str] = ()  # what only starts with or contains it: offered, never taken


OptionSource = Sequence[Option] | Callable[[Answers], Sequence[Option]]
Validator = Callable[[str, Answers], Any]
Finder = Callable[[str, Answers], Found]
NextStep = str | Callable[[Answers], str] | None


@dataclass(frozen=True)
class Step:
    """One question. `next` is a step key, END, a function of the answers, or None (the next one).

    Typed text on a choice step takes a button only when it is that button's whole label
    (case, spaces, punctuation and emoji aside), never a part of one. Otherwise, on a step with
    `typed` (the kind of a typed answer: Kind.MONEY, Kind.NUMBER, Kind.TIME...), `validate`
    reads it as that: "1" is one month, not the "12 months" button. On other steps, labels that
    start with or contain the text (or what `finder` finds, e.g. regions with aliases) are
    offered to choose from, and `validate`, if any, takes free text no label resembles.
    A step with `recap` shows the answers given so far, e.g. a confirmation at the end.
    A step with `mask` never shows its answer back in full, not even to the person.
    """

    key: str
    prompt: str
    kind: Kind
    options: OptionSource | None = None
    validate: Validator | None = None
    next: NextStep = None
    saves_to: str | None = None
    hint: str | None = None
    searchable: bool = False
    finder: Finder | None = None
    typed: Kind | None = None
    page_size: int = 8
    columns: int = 1
    recap: bool = False  # show every answer so far above the prompt (a last look before saving)
    mask: Callable[[Any], str] | None = None  # how a sensitive answer is shown back (a NIK)
    # the hint's {placeholders}, read when shown (figures from flows/content, so a changed fact
    # changes the hint); a Money value is shown as rupiah
    hint_values: Callable[[], Mapping[str, Any]] | None = None

    def options_for(self, answers: Answers) -> Sequence[Option]:
        if self.kind is Kind.CONFIRM and self.options is None:
            return (Option("yes", N_("Yes")), Option("no", N_("No")))
        if self.options is None:
            return ()
        return self.options(answers) if callable(self.options) else self.options


@dataclass(frozen=True)
class Flow:
    """`journey` names the journey a flow belongs to ("coop", "kur", "training"), for the
    person's progress page; None for flows that are not part of one (onboarding, profile)."""

    key: str
    title: str
    steps: tuple[Step, ...]
    journey: str | None = None

    def __post_init__(self) -> None:
        keys = [s.key for s in self.steps]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate step keys in flow {self.key}")
        object.__setattr__(self, "_index", {s.key: i for i, s in enumerate(self.steps)})

    @property
    def first(self) -> str:
        return self.steps[0].key

    def step(self, key: str) -> Step:
        try:
            return self.steps[self._index[key]]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(f"{self.key} has no step {key!r}") from None

    def following(self, key: str, answers: Answers) -> str:
        """The step after `key` for these answers, or END."""
        step = self.step(key)
        nxt = step.next
        if callable(nxt):
            return nxt(answers)
        if nxt is not None:
            return nxt
        index = self._index[key]  # type: ignore[attr-defined]
        return self.steps[index + 1].key if index + 1 < len(self.steps) else END


@dataclass
class RunState:
    """Where a person is in a flow; stored as JSON-able fields on the flow run."""

    step: str
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.step == END


@dataclass(frozen=True)
class Input:
    """What a person sent: typed text, a pressed option, a shared phone number or a place."""

    text: str | None = None
    choice: str | None = None
    phone: str | None = None
    location: tuple[float, float] | None = None


@dataclass(frozen=True)
class Advanced:
    state: RunState
    value: Any


@dataclass(frozen=True)
class Stayed:
    """The answer changed (a toggle in a multi-choice) but the step is the same."""

    state: RunState


@dataclass(frozen=True)
class Matches:
    """Typed text matched several options; show these to choose from."""

    options: tuple[Option, ...]


@dataclass(frozen=True)
class Rejected:
    error: Invalid


Outcome = Advanced | Stayed | Matches | Rejected
Label = Callable[[Option], str]

NOT_TEXT = N_("I can only read typed text here. Please type your answer or use the buttons.")
USE_BUTTONS = N_("Please choose one of the buttons below.")
NOT_A_PLACE = N_("Please send your location with the button below, or type the name of the place.")
NO_MATCH = N_("I could not find “{text}”. Please try other words or choose from the buttons.")


def start(flow: Flow) -> RunState:
    return RunState(step=flow.first)


def back(flow: Flow, state: RunState) -> RunState:
    """Go to the previous step on this person's path; answers are kept for a second look."""
    if not state.history:
        return state
    return RunState(step=state.history[-1], answers=dict(state.answers), history=state.history[:-1])


def progress(flow: Flow, state: RunState) -> tuple[int, int]:
    """(n, m): this is step n of m along this person's own branch, as far as it is known."""
    n = len(state.history) + 1
    remaining, key, seen = 0, state.step, {state.step}
    while key != END and remaining < len(flow.steps):
        try:
            key = flow.following(key, state.answers)
        except (KeyError, TypeError):
            index = [s.key for s in flow.steps].index(key)
            key = flow.steps[index + 1].key if index + 1 < len(flow.steps) else END
        if key == END or key in seen:
            break
        seen.add(key)
        remaining += 1
    return n, n + remaining


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Lower case, no accents, punctuation or emoji, single spaces: for matching typed text."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _key(text: str) -> str:
    """A label or typed text as compared for an exact match: also without spaces."""
    return normalise(text).replace(" ", "")


def exact_options(text: str, options: Sequence[Option], label: Label) -> list[Option]:
    """Options whose whole label (translated or not) is the typed text."""
    key = _key(text)
    if not key:
        return []
    return [o for o in options if key in (_key(label(o)), _key(o.label))]


def near_options(text: str, options: Sequence[Option], label: Label) -> list[Option]:
    """Options whose label has a word starting with the text, else contains it: to offer."""
    query = normalise(text)
    if not query:
        return []
    names = [(o, {normalise(label(o)), normalise(o.label)}) for o in options]
    prefix = [o for o, ns in names if any(w.startswith(query) for n in ns for w in [n, *n.split()])]
    if prefix:
        return prefix
    return [o for o, ns in names if any(query in n for n in ns)]


def answer(flow: Flow, state: RunState, given: Input, label: Label = lambda o: o.label) -> Outcome:
    """Apply one input to the current step. `label` translates option labels for matching."""
    step = flow.step(state.step)
    try:
        value = _accept(step, state, given, label)
    except Invalid as exc:
        return Rejected(exc)
    if isinstance(value, Matches):
        return value
    answers = {**state.answers, step.key: value}
    if step.kind in (Kind.MULTI_CHOICE, Kind.CHECKLIST) and given.choice != DONE:
        return Stayed(RunState(step=state.step, answers=answers, history=list(state.history)))
    nxt = flow.following(step.key, answers)
    return Advanced(RunState(step=nxt, answers=answers, history=[*state.history, step.key]), value)


def _accept(step: Step, state: RunState, given: Input, label: Label) -> Any:
    answers = state.answers
    if step.kind in (Kind.CHOICE, Kind.CONFIRM):
        options = step.options_for(answers)
        if given.choice is not None:
            if given.choice not in {o.value for o in options}:
                raise Invalid(USE_BUTTONS)
            return given.choice
        if given.text is None:
            raise Invalid(NOT_TEXT)
        return _typed_choice(step, given.text, options, answers, label)
    if step.kind in (Kind.MULTI_CHOICE, Kind.CHECKLIST):
        chosen = list(answers.get(step.key) or [])
        if given.choice == DONE:
            return chosen
        if given.choice is None or given.choice not in {o.value for o in step.options_for(answers)}:
            raise Invalid(USE_BUTTONS)
        return (
            [v for v in chosen if v != given.choice]
            if given.choice in chosen
            else [
                *chosen,
                given.choice,
            ]
        )
    if step.kind is Kind.PHONE and given.phone is not None:
        raw = given.phone
    elif step.kind is Kind.LOCATION and given.location is not None:
        return list(given.location)
    elif given.text is not None:
        raw = given.text
    elif step.kind is Kind.LOCATION:
        raise Invalid(NOT_A_PLACE)
    else:
        raise Invalid(NOT_TEXT)
    return step.validate(raw, answers) if step.validate else raw


def _typed_choice(
    step: Step, text: str, options: Sequence[Option], answers: Answers, label: Label
) -> Any:
    """Typed text on a choice step: a whole label, else the step's type, else offers."""
    exact = exact_options(text, options, label)
    if len(exact) == 1:
        return exact[0].value
    if exact:  # the same label twice: let the person choose rather than guess
        return Matches(tuple(exact[:10]))
    if step.typed is not None and step.validate is not None:
        return step.validate(text, answers)
    if step.finder is not None:
        found = step.finder(text, answers)
        by_value = {o.value: o for o in options}
        named = [by_value[v] for v in found.exact if v in by_value]
        if len(named) == 1:
            return named[0].value
        near = named or [by_value[v] for v in found.near if v in by_value]
    else:
        near = near_options(text, options, label)
    if near:  # never taken on a resemblance: shown, so the person presses the one they mean
        return Matches(tuple(near[:10]))
    if step.validate is not None:
        return step.validate(text, answers)
    if step.searchable:
        raise Invalid(NO_MATCH, text=text)
    raise Invalid(USE_BUTTONS)
