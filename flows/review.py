"""What a reviewer types: the reason for a rejection or a return for correction.

The decision itself (which submission, reject or return, which fields) is known before the
flow starts and rides in its answers; the flow asks only the reason, so it is kept across a
restart like any answer, and /batal leaves the submission waiting.
"""

from __future__ import annotations

from typing import Any

from flows import validators
from flows.engine import Flow, Kind, Step
from flows.i18n import N_

REASON_MAX = 500


def _reason(raw: str, _answers: Any) -> str:
    return validators.text(raw, min_len=5, max_len=REASON_MAX)


REVIEW_REASON = Flow(
    key="review_reason",
    title=N_("A reason for the returnee"),
    steps=(
        Step(
            key="reason",
            prompt=N_(
                "Please type the reason in a sentence or two. The returnee reads it as you "
                "write it, so be clear and kind."
            ),
            kind=Kind.TEXT,
            validate=_reason,
        ),
    ),
)

FLOWS = (REVIEW_REASON,)
