"""A reviewer's decision on a submission, and the returnee's correction of a returned one.

`decide` changes the submission and then asks the submission's kind what else follows on its
journey (a seat freed, a join request closed, a plan marked, a loan stage): each kind's module
registers that with `@on_decided(kind)`, and `on_corrected(kind)` for what a correction writes
back (the profile's NIK, name or phone; a founding plan's name). So the desk and the bot decide
the same way.

The decided person hears exactly one thing, "review.decided" (the front door words it for the
kind, e.g. "your place is released"); a kind's effect tells only OTHER people (a promoted
waitlister, co-founders). A kind's effect that tells the decided person anyway is a programming
error: its notice is dropped and logged, so the person is never told twice.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from operations.notices import Done
from storage import audit, review_history
from storage import reviews as store
from storage.models import Person, Submission, SubmissionStatus

log = logging.getLogger(__name__)

# (session, submission as decided, status, reason, now) -> Done with the journey's effects.
Effect = Callable[
    [AsyncSession, Submission, SubmissionStatus, str | None, datetime], Awaitable[Done]
]
EFFECTS: dict[str, Effect] = {}

# (session, submission with its corrected snapshot, corrected answers {key: value}, now) -> Done
# (the profile or the subject written back).
Correction = Callable[[AsyncSession, Submission, dict[str, Any], datetime], Awaitable[Done]]
CORRECTIONS: dict[str, Correction] = {}

# The modules that register kinds' effects and corrections, imported when first needed (they
# import this module, so not at its top). One not written yet is skipped.
KIND_MODULES = (
    "operations.trainings",
    "operations.coops",
    "operations.kur",
    "operations.corrections",
)
ACTIONS = {
    SubmissionStatus.APPROVED: "review.approve",
    SubmissionStatus.REJECTED: "review.reject",
    SubmissionStatus.RETURNED: "review.return",
}


def on_decided(kind: str) -> Callable[[Effect], Effect]:
    def register(fn: Effect) -> Effect:
        _register(EFFECTS, kind, fn)
        return fn

    return register


def on_corrected(kind: str) -> Callable[[Correction], Correction]:
    def register(fn: Correction) -> Correction:
        _register(CORRECTIONS, kind, fn)
        return fn

    return register


def _register(registry: dict[str, Any], kind: str, fn: Any) -> None:
    """One per kind: a second, different one would silently replace the first (the same one
    again, as a module imported twice, is the same)."""
    known = registry.get(kind)
    name = lambda f: (f.__module__, f.__qualname__)  # noqa: E731
    if known is not None and name(known) != name(fn):
        raise RuntimeError(f"two handlers for {kind!r}: {known.__module__}, {fn.__module__}")
    registry[kind] = fn


def load_kinds() -> None:
    """Import every kind's module so its effects are registered (idempotent, cheap after once)."""
    for name in KIND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


async def decide(
    session: AsyncSession,
    *,
    submission_id: int,
    reviewer_id: int,
    status: SubmissionStatus | str,
    reason: str | None,
    fields: list[str] | None,
    now: datetime,
) -> Done:
    """Approve, reject (with a reason) or return (with a reason and the fields to correct) a
    waiting submission, audited, with its kind's effects on the journey and one notice to its
    person. Refused "not_found", or "too_late" when it no longer waits (another reviewer
    decided first, or its person withdrew it)."""
    load_kinds()
    status = SubmissionStatus(status)
    if status not in ACTIONS:
        raise ValueError(f"not a decision: {status}")
    if status != SubmissionStatus.RETURNED:
        fields = None
    elif not fields:
        raise ValueError("a return names the fields to correct")
    if await store.get(session, submission_id) is None:
        return Done.refuse("not_found")
    if not await store.decide(
        session,
        submission_id,
        status=status,
        reviewer_id=reviewer_id,
        now=now,
        reason=reason,
        fields=fields,
    ):
        return Done.refuse("too_late")
    submission = await store.get(session, submission_id)
    assert submission is not None
    details: dict[str, Any] = {"kind": submission.kind}
    if fields:
        details["fields"] = list(fields)
    await audit.audit(
        session,
        actor_id=reviewer_id,
        action=ACTIONS[status],
        subject=f"submission:{submission.id}",
        details=details,
    )
    await review_history.add(
        session, submission_id=submission.id, action=status.value, actor_id=reviewer_id, at=now,
        reason=reason, changes={"fields": list(fields)} if fields else None,
    )  # fmt: skip
    done = Done(changed={"submission": [submission.id]})
    effect = EFFECTS.get(submission.kind)
    if effect is not None:
        done.merge(_for_others(await effect(session, submission, status, reason, now), submission))
    done.tell(
        submission.person_id,
        "review.decided",
        submission=submission.id,
        status=status.value,
        reason=reason,
        fields=list(fields or []),
    )
    return done


def _for_others(effect: Done, submission: Submission) -> Done:
    """A kind's effect may tell others, never the decided person (they get "review.decided")."""
    mine = [n for n in effect.notices if n.to == submission.person_id]
    if mine:
        log.error(
            "the %s effect told the decided person %s; dropped",
            submission.kind,
            [n.message for n in mine],
        )
        effect.notices = [n for n in effect.notices if n.to != submission.person_id]
    return effect


async def correct(
    session: AsyncSession,
    *,
    submission_id: int,
    person_id: int,
    answers: dict[str, Any],
    now: datetime,
) -> Done:
    """The returnee's corrected answers: the snapshot changes only for the keys the reviewer
    returned (and only where the snapshot has them), the submission waits again, and the
    kind's correction writes back what belongs elsewhere (the profile's NIK, a plan's name).
    Values come validated by the front door (the flow's own steps). Refused "not_found",
    "not_yours", or "closed" when it is no longer returned."""
    load_kinds()
    submission = await store.get(session, submission_id)
    if submission is None:
        return Done.refuse("not_found")
    if submission.person_id != person_id:
        return Done.refuse("not_yours")
    if submission.status != SubmissionStatus.RETURNED:
        return Done.refuse("closed")
    returned = set(submission.returned_fields or [])
    fixed = {k: v for k, v in answers.items() if k in returned}
    snapshot = dict(submission.answers or {})
    before = await _before(session, person_id, snapshot, fixed)
    snapshot.update({k: v for k, v in fixed.items() if k in snapshot})
    if not await store.resubmit(
        session, submission.id, person_id=person_id, answers=snapshot, now=now
    ):
        return Done.refuse("closed")
    submission.answers = snapshot
    submission.status = SubmissionStatus.SUBMITTED.value
    await review_history.add(
        session, submission_id=submission.id, action="corrected", actor_id=person_id, at=now,
        changes={"values": {k: {"before": before.get(k), "after": v} for k, v in fixed.items()}},
    )  # fmt: skip
    done = Done(changed={"submission": [submission.id]})
    hook = CORRECTIONS.get(submission.kind)
    if hook is not None and fixed:
        done.merge(await hook(session, submission, fixed, now))
    return done


PROFILE_FIELDS = ("name", "phone", "nik")  # a correction of these outside the snapshot: profile


async def _before(
    session: AsyncSession, person_id: int, snapshot: dict[str, Any], fixed: dict[str, Any]
) -> dict[str, Any]:
    """What each corrected field said before: the snapshot's value, or the profile's."""
    found = {k: snapshot[k] for k in fixed if k in snapshot}
    if any(k not in found and k in PROFILE_FIELDS for k in fixed):
        person = await session.get(Person, person_id)
        for k in fixed:
            if k not in found and k in PROFILE_FIELDS and person is not None:
                found[k] = getattr(person, k)
    return found
