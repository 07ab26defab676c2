"""A reviewer's decision on a submission, and the returnee's correction of a returned one.

`decide` changes the submission and then asks the submission's kind what else follows on its
journey (a seat freed, a join request closed, a plan marked, a loan stage): each kind's module
registers that with `@on_decided(kind)`, and `on_corrected(kind)` for what a correction writes
back (the profile's NIK, name or phone). So the desk and the bot decide the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from operations.notices import Done
from storage.models import Submission, SubmissionStatus

# (session, submission as decided, status, reason, now) -> Done with the journey's effects.
Effect = Callable[
    [AsyncSession, Submission, SubmissionStatus, str | None, datetime], Awaitable[Done]
]
EFFECTS: dict[str, Effect] = {}

# (session, submission, corrected answers {key: value}, now) -> Done (profile written back).
Correction = Callable[[AsyncSession, Submission, dict[str, Any], datetime], Awaitable[Done]]
CORRECTIONS: dict[str, Correction] = {}


def on_decided(kind: str) -> Callable[[Effect], Effect]:
    def register(fn: Effect) -> Effect:
        EFFECTS[kind] = fn
        return fn

    return register


def on_corrected(kind: str) -> Callable[[Correction], Correction]:
    def register(fn: Correction) -> Correction:
        CORRECTIONS[kind] = fn
        return fn

    return register
