"""What a correction writes back beyond the submission's snapshot, by kind.

A returned submission is corrected with the answers its reviewer named. Some of those answers
are not only the submission's: a join request's NIK is the profile's NIK (the next request
uses it, /datasaya shows it), a name or phone number corrected for a join request or a
training registration is the profile's, and a founding file's name, type and purpose are the
plan's own (never the founder's name, though both are called "name"): operations/coops.py
writes those. Each kind writes only its own keys, and a key that is not one of them is never
written anywhere.

The KUR readiness check's correction (the loan's amount and scheme) is in operations/kur.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from operations.decisions import on_corrected
from operations.notices import Done
from storage import repo
from storage.models import Person, Submission, SubmissionKind

# The returnee's own details a correction can name, by answer key -> people column.
PROFILE = {"name": "name", "phone": "phone", "nik": "nik"}
JOIN_REQUEST_PROFILE = ("name", "phone", "nik")
TRAINING_PROFILE = ("name", "phone")


async def write_profile(
    session: AsyncSession, person_id: int | None, answers: dict[str, Any], keys: tuple[str, ...]
) -> Done:
    """Copy the corrected answers among `keys` to the person's profile (gone: nothing)."""
    fields = {PROFILE[k]: answers[k] for k in keys if k in answers and answers[k] is not None}
    person = await session.get(Person, person_id) if person_id is not None else None
    if person is None or not fields:
        return Done()
    await repo.update_person(session, person, **fields)
    return Done(changed={"person": [person.id]})


@on_corrected(SubmissionKind.JOIN_REQUEST.value)
async def join_request_corrected(
    session: AsyncSession, submission: Submission, answers: dict[str, Any], now: datetime
) -> Done:
    """A join request's NIK, name or phone are the profile's: the correction is saved there."""
    return await write_profile(session, submission.person_id, answers, JOIN_REQUEST_PROFILE)


@on_corrected(SubmissionKind.TRAINING.value)
async def training_corrected(
    session: AsyncSession, submission: Submission, answers: dict[str, Any], now: datetime
) -> Done:
    """A registration holds nothing its person wrote: what can be wrong is their name or phone."""
    return await write_profile(session, submission.person_id, answers, TRAINING_PROFILE)
