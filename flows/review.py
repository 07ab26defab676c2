"""What a reviewer types, and what a returnee corrects that no flow of theirs asked.

`review_reason`: the reason for a rejection or a return for correction. The decision itself
(which submission, reject or return, which fields) is known before the flow starts and rides
in its answers; the flow asks only the reason, so it is kept across a restart like any answer,
and /batal leaves the submission waiting. The reasons the office keeps (the desk's templates
that fit the submission, in the returnee's language) ride in the answers too, as buttons: a
press takes the template's words, typed text is the reason itself.

`fix_details`: the returnee's own details a join request or a training registration carries
(name, phone, and a join request's NIK), asked again in correction mode (bot/driver.py
`correct`) when a reviewer returns them. Its steps save nothing themselves: the correction
operation writes the profile (operations/corrections.py), for every front door alike.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows import validators
from flows.engine import END, Flow, Kind, Option, Step
from flows.i18n import N_
from flows.join_coop import JOIN
from flows.onboarding import NAME, PHONE

REASON_MAX = 500


TEMPLATE = "tpl-"  # an option's value: the template with this id gives the reason


def _reason(raw: str, _answers: Any) -> str:
    return validators.text(raw, min_len=5, max_len=REASON_MAX)


def _templates(answers: Any) -> tuple[Option, ...]:
    """The office's reasons offered when the flow began: [[id, title], ...] in the answers."""
    return tuple(
        Option(f"{TEMPLATE}{tid}", str(title), literal=True)
        for tid, title in (answers or {}).get("templates") or ()
    )


REVIEW_REASON = Flow(
    key="review_reason",
    title=N_("A reason for the returnee"),
    steps=(
        Step(
            key="reason",
            prompt=N_(
                "Please type the reason in a sentence or two, or press one your office keeps. "
                "The returnee reads it as written, so be clear and kind."
            ),
            kind=Kind.CHOICE,
            options=_templates,
            typed=Kind.TEXT,  # typed text is the reason, even when it resembles a title
            validate=_reason,
        ),
    ),
)

FIX_DETAILS = Flow(
    key="fix_details",
    title=N_("Your details"),
    steps=(
        replace(NAME, saves_to=None, next=END),
        replace(PHONE, saves_to=None, next=END),
        replace(JOIN.step("nik"), next=END),
    ),
)

FLOWS = (REVIEW_REASON, FIX_DETAILS)


WEEKEND = (5, 6)  # Saturday, Sunday: an office's review target counts working days only


def overdue_since(now: datetime, working_days: int, tz: str = "Asia/Jakarta") -> datetime:
    """The moment `working_days` working days (Monday to Friday, in the office's zone) before
    `now`: a submission waiting since before it has waited longer than the review target.
    Public holidays are not known here and count as working days."""
    local = now.astimezone(ZoneInfo(tz))
    counted = 0
    while counted < working_days:
        local -= timedelta(days=1)
        if local.weekday() not in WEEKEND:
            counted += 1
    return local.astimezone(UTC)
