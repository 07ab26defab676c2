"""The operations layer under random sequences of what people do, on SQLite and PostgreSQL.

A hypothesis state machine: five returnees, two reviewers, two training sessions that need
the organiser's confirmation (two seats and one seat), a cooperative in the directory. Rules
register, cancel, decide (approve / reject / return), correct, join, found, add a co-founder,
hand over and cancel a plan, and delete a person, in any order, each in its own transaction
as a front door would. After every step the invariants below hold:

- seats taken <= capacity, and nobody is waitlisted while a seat is free;
- a registration's status agrees with its submission's (rejected with rejected; an active
  seat never beside a rejected or withdrawn submission);
- every open plan has a lead who is one of its founders, or it is closed;
- the profile's NIK is the last one a join request carried (the one corrected, if corrected);
- no pending reminder for a cancelled, rejected or waitlisted seat, or for a cancelled plan;
- no notice lost: a decision tells its person exactly once ("review.decided"), each promoted
  person is told once ("training.promoted"), nobody deleted is told anything.

`JURAGAN_STATEFUL_EXAMPLES` sets the number of runs (the standing suite keeps it small).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from operations import coops as coop_ops
from operations import decisions, people, trainings
from operations.notices import Done
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    Cooperative,
    Founding,
    FoundingMember,
    FoundingStatus,
    Person,
    RegistrationStatus,
    Reminder,
    ReminderStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Training,
    TrainingRegistration,
)

EXAMPLES = int(os.environ.get("JURAGAN_STATEFUL_EXAMPLES", "12"))
START = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
PEOPLE = 5
NIKS = ["3578014101900001", "3578014101900002", "3578014101900003", "3201014101900004"]
KIND = "konsumen"  # a cooperative type the founding flow offers (flows/join_coop.py)

people_index = st.integers(min_value=0, max_value=PEOPLE - 1)


class Operations(RuleBasedStateMachine):
    database_url: str = ""
    runs = 0

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine = create_engine(self.database_url)
        self.sessions = create_sessionmaker(self.engine)
        self.now = START
        self.told: Counter[tuple[int, str, Any]] = Counter()  # (person, message, key)
        self.expected: Counter[tuple[int, str, Any]] = Counter()
        self.deleted: set[int] = set()
        self.last_nik: dict[int, str] = {}  # person id -> the NIK their last join request carried
        self.plans: list[int] = []
        self.run(self._setup())

    # --- plumbing ---------------------------------------------------------------------------

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()

    async def _setup(self) -> None:
        """People, sessions and a cooperative of this run's own (telegram ids and names no
        earlier run used), so runs share one database and the invariants read only theirs."""
        Operations.runs += 1
        base = 7100 + 100 * Operations.runs
        async with self.sessions() as session, session.begin():
            rows = [
                Person(
                    telegram_id=base + i,
                    role="staff" if i >= PEOPLE else "returnee",
                    locale="id" if i % 2 else "en",
                    name=f"Orang {i}",
                    phone=f"08123456{i:04d}",
                    province_code="35",
                    regency_code="35.78",
                )
                for i in range(PEOPLE + 2)
            ]
            session.add_all(rows)
            await session.flush()
            self.people = [p.id for p in rows[:PEOPLE]]
            self.reviewers = [p.id for p in rows[PEOPLE:]]
            sessions = [
                Training(
                    title=f"Pelatihan {seats} ({base})",
                    organiser="Dinas Koperasi",
                    topic="business",
                    starts_at=START + timedelta(days=30),
                    ends_at=START + timedelta(days=30, hours=3),
                    place="Balai Desa",
                    province_code="35",
                    regency_code="35.78",
                    seats=seats,
                    needs_approval=True,
                )
                for seats in (2, 1)
            ]
            coop = Cooperative(
                name=f"Koperasi Sejahtera {base}",
                kind=KIND,
                province_code="35",
                regency_code="35.78",
                village="Ketabang",
                description="Koperasi konsumen",
                simpanan_pokok=100_000,
                simpanan_wajib=20_000,
                requirements="KTP",
                benefits="Belanja lebih murah",
            )
            session.add_all([*sessions, coop])
            await session.flush()
            self.trainings = [t.id for t in sessions]
            self.coop = coop.id

    async def _do(self, op: Any, **kwargs: Any) -> Done:
        """One operation in its own transaction, as a front door runs it; its notices kept."""
        self.now += timedelta(minutes=7)
        async with self.sessions() as session, session.begin():
            done: Done = await op(session, now=self.now, **kwargs)
        for notice in done.notices:
            assert notice.to not in self.deleted, f"{notice.message} to a deleted person"
            key = notice.args.get("submission") or notice.args.get("registration")
            self.told[(notice.to, notice.message, key)] += 1
        return done

    async def _read(self, query: Any) -> list[Any]:
        async with self.sessions() as session:
            return list((await session.execute(query)).all())

    def alive(self, i: int) -> int | None:
        person = self.people[i]
        return None if person in self.deleted else person

    # --- training ---------------------------------------------------------------------------

    @rule(who=people_index, which=st.integers(0, 1))
    def register(self, who: int, which: int) -> None:
        person = self.alive(who)
        if person is None:
            return
        self.run(self._do(trainings.register, training_id=self.trainings[which], person_id=person))
        self._expect_promotions()

    @rule(who=people_index, which=st.integers(0, 1))
    def cancel(self, who: int, which: int) -> None:
        person = self.alive(who)
        if person is None:
            return
        found = self.run(
            self._read(
                select(TrainingRegistration.id).where(
                    TrainingRegistration.person_id == person,
                    TrainingRegistration.training_id == self.trainings[which],
                )
            )
        )
        if found:
            done = self.run(
                self._do(trainings.cancel, registration_id=found[0][0], person_id=person)
            )
            self._expect(done)

    # --- cooperatives -----------------------------------------------------------------------

    @rule(who=people_index, nik=st.sampled_from(NIKS))
    def join(self, who: int, nik: str) -> None:
        person = self.alive(who)
        if person is None:
            return
        done = self.run(self._do(coop_ops.join, person_id=person, coop_id=self.coop, nik=nik))
        if done.ok:
            self.last_nik[person] = nik

    @rule(who=people_index)
    def found(self, who: int) -> None:
        person = self.alive(who)
        if person is None:
            return
        done = self.run(
            self._do(
                coop_ops.found,
                person_id=person,
                kind=KIND,
                purpose="Toko kelontong bersama para purna PMI",
                name=f"Koperasi Maju {who}",
            )
        )
        self.plans += [p for p in done.changed.get("founding", []) if p not in self.plans]

    def _plans(self) -> list[tuple[int, int | None, str, str]]:
        return self.run(
            self._read(
                select(Founding.id, Founding.founder_id, Founding.status, Founding.code)
                .where(Founding.id.in_(self.plans))
                .order_by(Founding.id)
            )
        )

    @rule(who=people_index, pick=st.integers(0, 20))
    def add_founder(self, who: int, pick: int) -> None:
        person, plans = self.alive(who), self._plans()
        if person is None or not plans:
            return
        _id, _lead, _status, code = plans[pick % len(plans)]
        self._expect(self.run(self._do(coop_ops.add_founder, code=code, person_id=person)))

    @rule(pick=st.integers(0, 20), to=people_index)
    def hand_over(self, pick: int, to: int) -> None:
        plans, target = self._plans(), self.alive(to)
        if not plans or target is None:
            return
        plan_id, lead, _status, _code = plans[pick % len(plans)]
        if lead is not None:
            self.run(self._do(coop_ops.hand_over, plan_id=plan_id, by=lead, to=target))

    @rule(pick=st.integers(0, 20))
    def cancel_plan(self, pick: int) -> None:
        plans = self._plans()
        if not plans:
            return
        plan_id, lead, _status, _code = plans[pick % len(plans)]
        if lead is not None:
            self.run(self._do(coop_ops.cancel_plan, plan_id=plan_id, by=lead))

    # --- review -----------------------------------------------------------------------------

    @rule(
        pick=st.integers(0, 50),
        reviewer=st.integers(0, 1),
        status=st.sampled_from(["approved", "rejected", "returned"]),
    )
    def decide(self, pick: int, reviewer: int, status: str) -> None:
        waiting = self.run(
            self._read(
                select(Submission.id, Submission.person_id, Submission.kind)
                .where(
                    Submission.status == SubmissionStatus.SUBMITTED,
                    Submission.person_id.in_(self.people),
                )
                .order_by(Submission.id)
            )
        )
        if not waiting:
            return
        submission_id, person_id, kind = waiting[pick % len(waiting)]
        fields = {
            SubmissionKind.JOIN_REQUEST.value: ["nik"],
            SubmissionKind.TRAINING.value: ["phone"],
        }.get(kind, ["name"])
        done = self.run(
            self._do(
                decisions.decide,
                submission_id=submission_id,
                reviewer_id=self.reviewers[reviewer],
                status=status,
                reason="Mohon periksa lagi",
                fields=fields if status == "returned" else None,
            )
        )
        assert done.ok, done.refused
        if person_id is not None:
            self.expected[(person_id, "review.decided", submission_id)] += 1
        self._expect(done)
        # The same decision again (a second reviewer, a double tap) is refused and tells nobody.
        again = self.run(
            self._do(
                decisions.decide,
                submission_id=submission_id,
                reviewer_id=self.reviewers[1 - reviewer],
                status="approved",
                reason=None,
                fields=None,
            )
        )
        assert not again.ok and again.refused == "too_late" and not again.notices

    @rule(pick=st.integers(0, 50), nik=st.sampled_from(NIKS))
    def correct(self, pick: int, nik: str) -> None:
        returned = self.run(
            self._read(
                select(Submission.id, Submission.person_id, Submission.kind)
                .where(
                    Submission.status == SubmissionStatus.RETURNED,
                    Submission.person_id.in_(self.people),
                )
                .order_by(Submission.id)
            )
        )
        if not returned:
            return
        submission_id, person_id, kind = returned[pick % len(returned)]
        answers = {"nik": nik, "phone": "081298765432", "name": "Koperasi Baru Jaya"}
        done = self.run(
            self._do(
                decisions.correct, submission_id=submission_id, person_id=person_id, answers=answers
            )
        )
        assert done.ok, done.refused
        if kind == SubmissionKind.JOIN_REQUEST.value and person_id is not None:
            self.last_nik[person_id] = nik

    # --- people -----------------------------------------------------------------------------

    @precondition(lambda self: len(self.deleted) < 2)
    @rule(who=people_index)
    def delete(self, who: int) -> None:
        person = self.alive(who)
        if person is None:
            return
        done = self.run(self._do(people.delete_person, person_id=person))
        self.deleted.add(person)
        self.last_nik.pop(person, None)
        self._expect(done)

    # --- what must be told ------------------------------------------------------------------

    def _expect(self, done: Done) -> None:
        """Every promotion an operation reports is a notice to its person."""
        promoted = done.changed.get("promoted", [])
        if promoted:
            found = self.run(
                self._read(
                    select(TrainingRegistration.id, TrainingRegistration.person_id).where(
                        TrainingRegistration.id.in_(promoted)
                    )
                )
            )
            for registration_id, person_id in found:
                self.expected[(person_id, "training.promoted", registration_id)] += 1

    def _expect_promotions(self) -> None:
        pass  # registering never promotes anyone

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def seats_and_waitlist(self) -> None:
        for training_id in self.trainings:
            seats = self.run(self._read(select(Training.seats).where(Training.id == training_id)))
            counts = dict(
                self.run(
                    self._read(
                        select(TrainingRegistration.status, func.count())
                        .where(TrainingRegistration.training_id == training_id)
                        .group_by(TrainingRegistration.status)
                    )
                )
            )
            taken = counts.get(RegistrationStatus.REGISTERED.value, 0)
            assert taken <= seats[0][0], "more seats taken than the session has"
            if taken < seats[0][0]:
                assert not counts.get(RegistrationStatus.WAITLISTED.value), (
                    "someone waits while a seat is free"
                )

    @invariant()
    def registration_agrees_with_submission(self) -> None:
        rows = self.run(
            self._read(
                select(TrainingRegistration.id, TrainingRegistration.status, Submission.status)
                .join(
                    Submission,
                    (Submission.ref_id == TrainingRegistration.id)
                    & (Submission.kind == SubmissionKind.TRAINING.value),
                )
                .where(TrainingRegistration.training_id.in_(self.trainings))
                .order_by(Submission.id)
            )
        )
        latest: dict[int, tuple[str, str]] = {}
        for registration_id, registration, submission in rows:
            latest[registration_id] = (registration, submission)
        for registration, submission in latest.values():
            if registration == RegistrationStatus.REJECTED.value:
                assert submission == SubmissionStatus.REJECTED.value
            if submission == SubmissionStatus.REJECTED.value:
                assert registration == RegistrationStatus.REJECTED.value
            if registration == RegistrationStatus.REGISTERED.value:
                assert submission in (
                    SubmissionStatus.SUBMITTED.value,
                    SubmissionStatus.APPROVED.value,
                    SubmissionStatus.RETURNED.value,
                ), (registration, submission)

    @invariant()
    def every_open_plan_has_a_lead(self) -> None:
        for plan_id, lead, status, _code in self._plans():
            if status == FoundingStatus.CANCELLED.value:
                continue
            assert lead is not None, f"plan {plan_id} is open with no lead"
            member = self.run(
                self._read(
                    select(FoundingMember.id).where(
                        FoundingMember.founding_id == plan_id, FoundingMember.person_id == lead
                    )
                )
            )
            assert member, f"plan {plan_id}'s lead is not one of its founders"

    @invariant()
    def profile_nik_is_the_last_given(self) -> None:
        for person_id, nik in self.last_nik.items():
            found = self.run(self._read(select(Person.nik).where(Person.id == person_id)))
            assert found and found[0][0] == nik, (person_id, found, nik)

    @invariant()
    def no_reminder_for_what_is_gone(self) -> None:
        pending = self.run(
            self._read(
                select(Reminder.dedupe_key).where(
                    Reminder.status == ReminderStatus.PENDING, Reminder.person_id.in_(self.people)
                )
            )
        )
        regs = dict(
            self.run(
                self._read(
                    select(TrainingRegistration.id, TrainingRegistration.status).where(
                        TrainingRegistration.training_id.in_(self.trainings)
                    )
                )
            )
        )
        plans = {plan_id: status for plan_id, _l, status, _c in self._plans()}
        for (key,) in pending:
            if key.startswith("training:"):
                registration_id = int(key.split(":")[1])
                assert regs.get(registration_id) == RegistrationStatus.REGISTERED.value, key
            elif key.startswith("meeting:"):
                plan_id = int(key.split(":")[1])
                assert plans.get(plan_id) != FoundingStatus.CANCELLED.value, key

    @invariant()
    def no_notice_lost(self) -> None:
        for key, n in self.expected.items():
            assert self.told[key] == n, f"{key}: told {self.told[key]} times, expected {n}"
        decided = {k: v for k, v in self.told.items() if k[1] == "review.decided"}
        assert all(v == self.expected[k] for k, v in decided.items()), "a decision told twice"


def test_operations_keep_their_invariants(database_url: str) -> None:
    Operations.database_url = database_url
    run_state_machine_as_test(
        Operations,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
