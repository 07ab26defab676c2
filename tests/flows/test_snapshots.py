"""flows/snapshots.py: every key of every kind's snapshot has a label, every code its option."""

from __future__ import annotations

from datetime import UTC, datetime

from flows import found_coop, join_coop, snapshots
from flows import kur as kur_flow
from flows.engine import Kind
from storage.models import RegistrationStatus, SubmissionKind


def test_the_kinds_are_the_submission_kinds() -> None:
    assert snapshots.KINDS == tuple(k.value for k in SubmissionKind)
    assert set(snapshots.TITLES) == set(snapshots.KINDS) == set(snapshots.FIELDS)


def test_every_seat_status_has_a_label() -> None:
    item = snapshots.field(snapshots.TRAIN, "status")
    assert item is not None and item.type == snapshots.CHOICE
    codes = {o.value for o in item.options}
    assert {s.value for s in RegistrationStatus} <= codes
    shown = snapshots.read(item, "registered")
    assert shown is not None and shown.value.label == "Registered"


def test_every_kur_answer_is_a_field_with_the_flows_options() -> None:
    steps = [s for s in kur_flow.READINESS.steps if s.kind is not Kind.CONFIRM]
    fields = snapshots.fields(snapshots.KUR)
    assert [f.key for f in fields] == [s.key for s in steps]
    for step, item in zip(steps, fields, strict=True):
        if step.kind is Kind.CHOICE:
            assert item.type == snapshots.CHOICE and item.options == tuple(step.options)
    status = snapshots.field(snapshots.KUR, "status")
    assert snapshots.read(status, "running_less").value.label == "Running less than 6 months"
    assert snapshots.read(snapshots.field(snapshots.KUR, "amount"), 25_000_000) == (
        snapshots.Shown(snapshots.MONEY, 25_000_000)
    )


def test_a_founding_reads_its_type_meeting_and_steps() -> None:
    answers = {
        "name": "Koperasi Pulang Jaya",
        "kind": "produsen",
        "purpose": "Produksi keripik",
        "founders": 9,
        "meeting_at": "2026-11-22T03:00:00+00:00",
        "milestones": {"meeting": "2026-11-22", "adart": "2026-11-01"},
    }
    found = {f.key: s for f, s in snapshots.readable(snapshots.FOUND, answers)}
    assert found["kind"].value == join_coop.KINDS[2]
    assert found["meeting_at"].value == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    # the legal steps in their own order, whatever order they were ticked in
    assert found["milestones"].value == tuple(m.label for m in found_coop.MILESTONES[1:3])
    assert snapshots.unlabelled(snapshots.FOUND, answers) == []


def test_what_no_option_knows_is_shown_as_it_is_and_nothing_empty_is_shown() -> None:
    status = snapshots.field(snapshots.TRAIN, "status")
    assert snapshots.read(status, "promoted_later") == snapshots.Shown(
        snapshots.TEXT, "promoted_later"
    )
    meeting = snapshots.field(snapshots.FOUND, "meeting_at")
    assert snapshots.read(meeting, "soon") == snapshots.Shown(snapshots.TEXT, "soon")
    assert snapshots.read(meeting, None) is None and snapshots.read(status, "") is None
    steps = snapshots.field(snapshots.FOUND, "milestones")
    assert snapshots.read(steps, {}) is None and snapshots.read(steps, "adart") is None


def test_labels_of_fields_a_reviewer_sends_back() -> None:
    assert snapshots.field_label(snapshots.FOUND, "name") == "Name of the cooperative"
    assert snapshots.field_label(snapshots.KUR, "amount") == "Capital needed"
    assert snapshots.field_label(snapshots.JOIN, "phone") == "Phone"  # the profile's
    assert snapshots.field_label(snapshots.JOIN, "whatever") is None


def test_unlabelled_plain_values_are_kept_for_the_card() -> None:
    answers = {"title": "Menjahit", "room": "Aula desa", "_run": 3, "venue_id": 4, "x": [1]}
    assert snapshots.unlabelled(snapshots.TRAIN, answers) == [("room", "Aula desa")]
