"""The cooperative journeys: ask to join a cooperative, found one with fellow returnees, and a
founding plan's life (co-founders, legal steps, meeting, hand-over, cancellation), with the
team's decisions on join requests and founding files.

A plan has one lead (`Founding.founder_id`): who started it, or took it over. Only the lead
marks steps, sets the meeting, hands the plan over or cancels it. Whoever acts sees the front
door's reply; everyone else concerned gets a "coop.*" notice. Refusals (`Done.refused`):
"gone" (no such person), "not_found" (no such cooperative or plan, or not theirs to see),
"closed" (the plan was cancelled), "not_yours" (only the lead may), "already_sent",
"returned", "accepted" (a join request), "no_nik", "already" (already a founder),
"not_member", "same", "past", "invalid".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from flows import found_coop as fc
from flows import join_coop as jc
from flows import regions, validators
from flows import reminders as rules
from flows.errors import Invalid
from operations.decisions import on_corrected, on_decided
from operations.notices import Done
from storage import coops, repo, submissions
from storage import reminders as reminder_rows
from storage.models import (
    Founding,
    FoundingStatus,
    Person,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)

FOUNDING, JOIN_REQUEST = "founding", "join_request"  # keys of Done.changed


def _zone(person: Person) -> str:
    return regions.zone_of(person.province_code)


def meeting_prefix(plan_id: int) -> str:
    """The dedupe keys of a plan's meeting reminders start with this."""
    return f"meeting:{plan_id}:"


# --- Asking to join a cooperative -------------------------------------------------------------


async def join(
    session: AsyncSession,
    *,
    person_id: int,
    coop_id: int,
    nik: str | None = None,
    run_id: int | None = None,
    now: datetime,
) -> Done:
    """File a join request (for the cooperative's board, through the team's review).

    Idempotent: the same run files once, and while a request is open (waiting, or returned for a
    correction) another is refused; after a rejection the person may ask again, after an
    approval they are in. A NIK given here (the flow asks when none is saved) is saved to the
    profile."""
    person = await coops.person(session, person_id)
    if person is None:
        return Done.refuse("gone")
    coop = await coops.cooperative(session, coop_id)
    if coop is None:
        return Done.refuse("not_found")
    if run_id is not None:
        filed = await coops.join_request_of_run(session, person_id=person_id, run_id=run_id)
        if filed is not None:
            return Done(changed={JOIN_REQUEST: [filed.id]})
    existing = await coops.open_join_request(session, person_id=person_id, coop_id=coop_id)
    if existing is not None:
        return Done.refuse(
            "returned" if existing.status == SubmissionStatus.RETURNED else "already_sent"
        )
    if await coops.accepted_join_request(session, person_id=person_id, coop_id=coop_id):
        return Done.refuse("accepted")
    try:
        nik = validators.nik(nik) if nik else person.nik
    except Invalid:
        return Done.refuse("invalid")
    if not nik:
        return Done.refuse("no_nik")
    if nik != person.nik:
        await repo.update_person(session, person, nik=nik)
    request = await submissions.create(
        session,
        person=person,
        kind=SubmissionKind.JOIN_REQUEST,
        ref_id=coop.id,
        answers={
            "cooperative_id": coop.id,
            "cooperative_name": coop.name,
            "nik": nik,  # staff must check it; the staff pages mask it
        },
        run_id=run_id,
    )
    return Done(changed={JOIN_REQUEST: [request.id]})


@on_decided(JOIN_REQUEST)
async def join_request_decided(
    session: AsyncSession,
    submission: Submission,
    status: SubmissionStatus,
    reason: str | None,
    now: datetime,
) -> Done:
    """An approved or rejected request is closed: no request of the person for that
    cooperative stays open (a duplicate two finishes filed at once is withdrawn with it), so
    after a rejection they may ask again and after an approval they are told they are in. A
    returned one stays open for the correction. Only the person is told ("review.decided")."""
    done = Done(changed={JOIN_REQUEST: [submission.id]})
    if status not in (SubmissionStatus.APPROVED, SubmissionStatus.REJECTED):
        return done
    if submission.person_id is None or submission.ref_id is None:
        return done
    others = [
        s.id
        for s in await submissions.of_person(
            session, person_id=submission.person_id, kind=SubmissionKind.JOIN_REQUEST
        )
        if s.ref_id == submission.ref_id and s.id != submission.id and s.status in submissions.OPEN
    ]
    await submissions.withdraw_ids(session, ids=others, now=now)
    return done


# --- Founding a cooperative -------------------------------------------------------------------


async def found(
    session: AsyncSession,
    *,
    person_id: int,
    kind: str,
    purpose: str,
    name: str,
    run_id: int | None = None,
    now: datetime,
) -> Done:
    """Start a founding plan led by this person, its first founder. Idempotent per run: the
    same run finds the plan it started."""
    person = await coops.person(session, person_id)
    if person is None:
        return Done.refuse("gone")
    if run_id is not None:
        plan = await coops.founding_of_run(session, run_id)
        if plan is not None:
            return Done(changed={FOUNDING: [plan.id]})
    try:
        purpose = validators.text(purpose, min_len=10, max_len=300)
        name = validators.text(name, min_len=3, max_len=120)
    except Invalid:
        return Done.refuse("invalid")
    if kind not in jc.KIND_VALUES:
        return Done.refuse("invalid")
    plan = await coops.create_founding(
        session, founder=person, kind=kind, purpose=purpose, name=name, run_id=run_id, now=now
    )
    return Done(changed={FOUNDING: [plan.id]})


async def _open_plan(session: AsyncSession, plan_id: int, person_id: int) -> Founding | Done:
    """The plan, locked, if the person leads it and it is open; else the refusal."""
    plan = await coops.founding(session, plan_id, lock=True)
    if plan is None:
        return Done.refuse("not_found")
    if plan.status == FoundingStatus.CANCELLED:
        return Done.refuse("closed")
    if plan.founder_id != person_id:
        return Done.refuse("not_yours")
    return plan


async def add_founder(session: AsyncSession, *, code: str, person_id: int, now: datetime) -> Done:
    """Join a plan as a co-founder through its invitation code. The lead and the other
    co-founders are told; the newcomer gets the meeting's reminders. The ninth founder, with
    the meeting held, sends the plan to the team."""
    found_plan = await coops.founding_by_code(session, code)
    if found_plan is None:
        return Done.refuse("not_found")
    plan = await coops.founding(session, found_plan.id, lock=True)
    if plan is None or plan.status == FoundingStatus.CANCELLED:
        return Done.refuse("not_found")
    person = await coops.person(session, person_id)
    if person is None:
        return Done.refuse("gone")
    if not await coops.add_member(session, founding_id=plan.id, person_id=person_id, now=now):
        return Done.refuse("already")
    await _remind_meeting(session, plan, now, [person])
    founders = await coops.members(session, founding_id=plan.id)
    done = Done(changed={FOUNDING: [plan.id]})
    for other in founders:
        if other.id != person_id:
            done.tell(other.id, "coop.joined", plan=plan.id, member=person_id, count=len(founders))
    return done.merge(await _maybe_submit(session, plan, now))


async def mark_step(
    session: AsyncSession, *, plan_id: int, by: int, step: str, done: bool, now: datetime
) -> Done:
    """Mark a legal step done (dated today in the lead's zone) or not done. The wanted state
    is given, so a double tap or an older copy of the plan does the same thing twice. The
    other founders are told a step is done; the meeting held stops its reminders (unmarked:
    again, if still to come)."""
    plan = await _open_plan(session, plan_id, by)
    if isinstance(plan, Done):
        return plan
    if step not in fc.BY_KEY:
        return Done.refuse("not_found")
    marked = dict(plan.milestones or {})
    if done == (step in marked):
        return Done()
    lead = await coops.person(session, by)
    assert lead is not None
    if done:
        marked[step] = now.astimezone(ZoneInfo(_zone(lead))).date().isoformat()
    else:
        del marked[step]
    await coops.set_milestones(session, plan, marked, now)
    if step == fc.MEETING:
        await _remind_meeting(session, plan, now)
    out = Done(changed={FOUNDING: [plan.id]})
    if done:
        for other in await coops.members(session, founding_id=plan.id):
            if other.id != by:
                out.tell(other.id, "coop.step_done", plan=plan.id, step=step)
    return out.merge(await _maybe_submit(session, plan, now))


async def set_meeting(
    session: AsyncSession, *, plan_id: int, by: int, at: datetime, now: datetime
) -> Done:
    """Set (or move) the founding meeting: every founder gets its reminders in their own
    zone, and the others are told the date."""
    plan = await _open_plan(session, plan_id, by)
    if isinstance(plan, Done):
        return plan
    if at <= now:
        return Done.refuse("past")
    await coops.set_meeting(session, plan, at, now)
    await _remind_meeting(session, plan, now)
    done = Done(changed={FOUNDING: [plan.id]})
    for other in await coops.members(session, founding_id=plan.id):
        if other.id != by:
            done.tell(other.id, "coop.meeting_set", plan=plan.id, at=at.astimezone(UTC).isoformat())
    return done


async def hand_over(
    session: AsyncSession, *, plan_id: int, by: int, to: int, now: datetime
) -> Done:
    """The lead hands the plan to another founder, with its founding file if one is open; the
    new lead and the other founders are told (the old lead stays a founder)."""
    plan = await _open_plan(session, plan_id, by)
    if isinstance(plan, Done):
        return plan
    if to == by:
        return Done.refuse("same")
    if not await coops.is_member(session, founding_id=plan.id, person_id=to):
        return Done.refuse("not_member")
    await coops.set_lead(session, plan, to, now)
    done = Done(changed={FOUNDING: [plan.id]})
    done.tell(to, "coop.handed_over", plan=plan.id, by=by)
    for other in await coops.members(session, founding_id=plan.id):
        if other.id not in (by, to):
            done.tell(other.id, "coop.new_lead", plan=plan.id, lead=to, why="handed")
    return done


async def cancel_plan(session: AsyncSession, *, plan_id: int, by: int, now: datetime) -> Done:
    """The lead cancels the plan for good (FoundingStatus.CANCELLED): its steps and meeting can
    no longer change, its invitation link stops working, the meeting reminders of every founder
    are cancelled, a founding file waiting for the team is withdrawn, and every co-founder is
    told. The founders stay, so their progress page says it was cancelled."""
    plan = await _open_plan(session, plan_id, by)
    if isinstance(plan, Done):
        return plan
    founders = await coops.members(session, founding_id=plan.id)
    await coops.close(session, plan, now)
    await reminder_rows.cancel(session, prefix=meeting_prefix(plan.id))
    done = Done(changed={FOUNDING: [plan.id]})
    for other in founders:
        if other.id != by:
            done.tell(other.id, "coop.cancelled", plan=plan.id)
    return done


async def _maybe_submit(session: AsyncSession, plan: Founding, now: datetime) -> Done:
    """With 9 founders and the founding meeting held, the plan's file goes to the team, once;
    every founder is told."""
    if plan.status != FoundingStatus.PLANNING:
        return Done()
    founders = await coops.members(session, founding_id=plan.id)
    done_steps = dict(plan.milestones or {})
    if not fc.ready_to_submit(len(founders), done_steps):
        return Done()
    if not await coops.mark_submitted(session, plan, now):
        return Done()
    lead = await coops.person(session, plan.founder_id)
    file = await submissions.create(
        session,
        person=lead,
        kind=SubmissionKind.FOUNDING,
        ref_id=plan.id,
        answers={
            "name": plan.name,
            "kind": plan.kind,
            "purpose": plan.purpose,
            "founders": len(founders),
            "meeting_at": plan.meeting_at.isoformat() if plan.meeting_at else None,
            "milestones": done_steps,
        },
        # the run that started the plan: a return for correction asks its questions again
        run_id=plan.run_id,
        province_code=plan.province_code,
        regency_code=plan.regency_code,
    )
    done = Done(changed={FOUNDING: [plan.id], "submission": [file.id]})
    for founder in founders:
        done.tell(founder.id, "coop.submitted", plan=plan.id, count=len(founders))
    return done


async def _remind_meeting(
    session: AsyncSession, plan: Founding, now: datetime, people: list[Person] | None = None
) -> None:
    """Three days and one day before the meeting, for every founder (or only `people`), each
    in their own zone, out of their night; none once the meeting is marked held or when no
    date is set (then every founder's are cancelled)."""
    if plan.meeting_at is None or fc.MEETING in (plan.milestones or {}):
        if people is None:
            await reminder_rows.cancel(session, prefix=meeting_prefix(plan.id))
        return
    if people is None:
        people = await coops.members(session, founding_id=plan.id)
    at = plan.meeting_at.astimezone(UTC)
    payload = {"name": plan.name, "at": at.isoformat()}
    for person in people:
        tz = _zone(person)
        for kind, suffix, days in ((rules.MEETING_3_DAYS, "3d", 3), (rules.MEETING_1_DAY, "1d", 1)):
            key = f"{meeting_prefix(plan.id)}{person.id}:{suffix}"
            due = rules.before(at, tz, days=days)
            if due is None or due <= now:
                await reminder_rows.cancel(session, keys=[key])
                continue
            await reminder_rows.schedule(
                session,
                person_id=person.id,
                kind=kind.key,
                key=key,
                due_at=rules.in_daylight(due, tz),
                payload=payload,
            )


# --- The team's decision on a founding file ---------------------------------------------------

DECIDED = {
    SubmissionStatus.APPROVED: FoundingStatus.APPROVED,
    SubmissionStatus.REJECTED: FoundingStatus.REJECTED,
    SubmissionStatus.RETURNED: FoundingStatus.RETURNED,
}


@on_decided(FOUNDING)
async def founding_decided(
    session: AsyncSession,
    submission: Submission,
    status: SubmissionStatus,
    reason: str | None,
    now: datetime,
) -> Done:
    """The plan shows the decision (APPROVED, REJECTED, RETURNED), and the co-founders are
    told; the lead, whose file it is, hears it as "review.decided". A cancelled plan stays
    cancelled."""
    plan = await coops.founding(session, submission.ref_id or 0, lock=True)
    if plan is None or status not in DECIDED:
        return Done()
    if not await coops.mark_decided(session, plan, DECIDED[status], now):
        return Done()
    done = Done(changed={FOUNDING: [plan.id]})
    for founder in await coops.members(session, founding_id=plan.id):
        if founder.id != submission.person_id:
            done.tell(founder.id, "coop.decided", plan=plan.id, status=status.value, reason=reason)
    return done


# What a correction of a founding file may write back to its plan, with each value's check.
CORRECTABLE: dict[str, Any] = {
    "name": lambda v: validators.text(v, min_len=3, max_len=120),
    "purpose": lambda v: validators.text(v, min_len=10, max_len=300),
    "kind": lambda v: v if v in jc.KIND_VALUES else None,
}


@on_corrected(FOUNDING)
async def founding_corrected(
    session: AsyncSession, submission: Submission, answers: dict[str, Any], now: datetime
) -> Done:
    """The lead corrected a returned founding file: the plan takes the corrected name, purpose
    or type (nothing else), and waits for the team again. The co-founders, who were told it
    came back, are told it went to the team again (under its name now)."""
    plan = await coops.founding(session, submission.ref_id or 0, lock=True)
    if plan is None or plan.status == FoundingStatus.CANCELLED:
        return Done()
    for key, check in CORRECTABLE.items():
        if key not in answers or not isinstance(answers[key], str):
            continue
        try:
            value = check(answers[key])
        except Invalid:
            continue
        if value:
            setattr(plan, key, value)
    if plan.status == FoundingStatus.RETURNED:
        plan.status = FoundingStatus.SUBMITTED.value
    plan.updated_at = now
    await session.flush()
    done = Done(changed={FOUNDING: [plan.id]})
    for founder in await coops.members(session, founding_id=plan.id):
        if founder.id != submission.person_id:
            done.tell(founder.id, "coop.corrected", plan=plan.id)
    return done
