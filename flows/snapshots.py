"""What each kind of submission keeps in its snapshot, and how a person reads every value.

A submission's snapshot holds answers and codes (`"registered"`, `"running_less"`, `"jasa"`,
ISO times, a dict of legal steps done). The review card and the exports show them as a person
reads them: each key has a label (a msgid) and a type, and each coded value its option's label.
Pure: the bot translates the msgids and formats dates and rupiah in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flows import found_coop, join_coop
from flows import kur as kur_flow
from flows.engine import Kind, Option
from flows.i18n import N_

# Submission kinds (storage.models.SubmissionKind's values; flows/ does not import storage).
JOIN, FOUND, KUR, TRAIN = "join_request", "founding", "kur_readiness", "training_registration"
KINDS = (JOIN, FOUND, KUR, TRAIN)

# How a value reads. TEXT: as typed; CHOICE: its option's label; MOMENT: an aware datetime;
# DATE: a day; MONEY: whole rupiah; COUNT: a number; ID: a row id (not on the review card);
# NIK: masked unless revealed; STEPS: the founding's legal steps done, as their labels.
TEXT, CHOICE, MOMENT, DATE, MONEY, COUNT, ID, NIK, STEPS = (
    "text",
    "choice",
    "moment",
    "date",
    "money",
    "count",
    "id",
    "nik",
    "steps",
)

# A kind's title where the whole list of them is named (a sheet, a file in the zip).
TITLES = {
    JOIN: N_("Join requests"),
    FOUND: N_("Founding files"),
    KUR: N_("KUR readiness checks"),
    TRAIN: N_("Training registrations"),
}

SEATS = (
    Option("registered", N_("Registered")),
    Option("waitlisted", N_("On the waitlist")),
    Option("cancelled", N_("Cancelled")),
    Option("rejected", N_("Not approved")),
)


@dataclass(frozen=True)
class Field:
    """One key of a snapshot: its label (a msgid), how its value reads, and for exports the
    column's header when it differs from the label ("{zone}" is the exporter's zone)."""

    key: str
    label: str
    type: str = TEXT
    options: tuple[Option, ...] = ()
    header: str | None = None

    @property
    def column(self) -> str:
        return self.header or self.label


@dataclass(frozen=True)
class Shown:
    """A value as a person reads it, before translation: `value` is a str (TEXT, NIK), an
    Option (CHOICE), an aware datetime (MOMENT), a date (DATE), an int (MONEY, COUNT, ID) or a
    tuple of msgids (STEPS)."""

    type: str
    value: Any


# Short labels of the KUR readiness answers (the snapshot is the flow's answers); a step not
# named here is labelled with its question.
_KUR_LABELS = {
    "status": N_("Business now"),
    "business": N_("Business"),
    "age": N_("21 or older, or married"),
    "ektp": N_("e-KTP"),
    "kk": N_("KK"),
    "permit": N_("NIB or SKU"),
    "amount": N_("Capital needed"),
    "npwp": N_("NPWP"),
    "credit": N_("Other loans"),
    "slik": N_("SLIK checked"),
}
_KUR_HEADERS = {"amount": N_("Capital needed (Rp)")}
_STEP_TYPES = {
    Kind.CHOICE: CHOICE,
    Kind.MONEY: MONEY,
    Kind.NUMBER: COUNT,
    Kind.DATE: DATE,
}


def _kur_fields() -> tuple[Field, ...]:
    fields = []
    for step in kur_flow.READINESS.steps:
        if step.kind is Kind.CONFIRM:
            continue
        options = tuple(step.options) if isinstance(step.options, Sequence) else ()
        fields.append(
            Field(
                step.key,
                _KUR_LABELS.get(step.key, step.prompt),
                _STEP_TYPES.get(step.kind, TEXT),
                options,
                _KUR_HEADERS.get(step.key),
            )
        )
    return tuple(fields)


FIELDS: dict[str, tuple[Field, ...]] = {
    JOIN: (
        Field("cooperative_name", N_("Cooperative")),
        Field("cooperative_id", N_("Cooperative ID"), ID),
        Field("nik", N_("NIK"), NIK),
    ),
    FOUND: (
        Field("name", N_("Name of the cooperative")),
        Field("kind", N_("Cooperative type"), CHOICE, join_coop.KINDS),
        Field("purpose", N_("Purpose")),
        Field("founders", N_("Founders"), COUNT),
        Field("meeting_at", N_("Founding meeting"), MOMENT, header=N_("Founding meeting ({zone})")),
        Field("milestones", N_("Steps done"), STEPS),
    ),
    KUR: _kur_fields(),
    TRAIN: (
        Field("title", N_("Training")),
        Field("training_id", N_("Training ID"), ID),
        Field("starts_at", N_("Starts"), MOMENT, header=N_("Training starts ({zone})")),
        Field("status", N_("Place"), CHOICE, SEATS, header=N_("Seat or waitlist")),
    ),
}

# Fields a correction may name that are the person's profile, not the snapshot.
PROFILE = {"name": N_("Name"), "phone": N_("Phone")}


def fields(kind: str) -> tuple[Field, ...]:
    """The keys a kind's snapshot holds, in the order people read them (unknown kind: none)."""
    return FIELDS.get(kind, ())


def field(kind: str, key: str) -> Field | None:
    return next((f for f in fields(kind) if f.key == key), None)


def field_label(kind: str, key: str) -> str | None:
    """The label (a msgid) of a field a reviewer can send back: the kind's own, then the
    profile's; None for a key nobody labelled."""
    found = field(kind, key)
    if found is not None:
        return found.label
    return PROFILE.get(key)


def read(item: Field, value: Any) -> Shown | None:
    """One stored value as a person reads it; None when there is nothing to show. A code no
    option knows (an older snapshot) is shown as it is, never dropped."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    kind = item.type
    if kind in (MONEY, COUNT, ID):
        return Shown(kind, value) if isinstance(value, int) else Shown(TEXT, str(value))
    if kind == CHOICE:
        option = next((o for o in item.options if o.value == value), None)
        return Shown(CHOICE, option) if option is not None else Shown(TEXT, str(value))
    if kind == MOMENT:
        moment = _moment(value)
        return Shown(MOMENT, moment) if moment is not None else Shown(TEXT, str(value))
    if kind == DATE:
        try:
            return Shown(DATE, date.fromisoformat(str(value)))
        except ValueError:
            return Shown(TEXT, str(value))
    if kind == STEPS:
        if not isinstance(value, Mapping):
            return None
        labels = tuple(m.label for m in found_coop.MILESTONES if m.key in value)
        return Shown(STEPS, labels) if labels else None
    if kind == NIK:
        return Shown(NIK, str(value))
    if isinstance(value, list | dict):
        return None  # structure nobody labelled is not shown as Python's repr
    return Shown(TEXT, str(value))


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def readable(kind: str, answers: Mapping[str, Any]) -> list[tuple[Field, Shown]]:
    """Every labelled value of a snapshot, in the kind's order, as a person reads it."""
    found = []
    for item in fields(kind):
        shown = read(item, answers.get(item.key))
        if shown is not None:
            found.append((item, shown))
    return found


def unlabelled(kind: str, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, value) of plain values no field names (a snapshot written by a newer version):
    the review card shows them as they are so a reviewer misses nothing; exports never do."""
    known = {f.key for f in fields(kind)}
    skipped = {"confirm", "commit"}
    return [
        (key, str(value))
        for key, value in answers.items()
        if key not in known
        and key not in skipped
        and not key.startswith("_")
        and not key.endswith("_id")
        and isinstance(value, str | int | float)
        and not isinstance(value, bool)
        and value != ""
    ]
