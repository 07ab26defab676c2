"""A person's own data: everything kept about them (/datasaya), what deleting it will change
(told before they confirm), and the deletion itself (/hapusdata).

After a deletion no row holds the person's Telegram id, name, phone, NIK or anything they
typed. What other people share with them goes on without them: a founding plan passes to the
next co-founder (or closes when none is left), a freed training seat goes to the waitlist.
Rows that make anonymous counts (flow runs, submissions, loans, deliveries) stay without owner
or content. The audit log is append-only and holds only internal ids, never identifiers.

No aiogram here: the bot words what these functions return, so another front door (issue
14's operations layer) can call the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import broadcasts as broadcast_store
from storage import repo, review_history, submissions, tickets, trainings
from storage.audit import audit
from storage.models import (
    AuditEntry,
    Broadcast,
    BroadcastStatus,
    Consent,
    Delivery,
    DeliveryStatus,
    FlowRun,
    Founding,
    FoundingMember,
    FoundingStatus,
    IdWatermark,
    Loan,
    Person,
    Reminder,
    ReminderStatus,
    RoleInvite,
    RunStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Ticket,
    TicketMessage,
    Training,
    TrainingRegistration,
    utcnow,
)

ERASED = "erased"  # the error of a delivery skipped because its person deleted their data
UNSENT = (
    BroadcastStatus.DRAFT.value,
    BroadcastStatus.SCHEDULED.value,
    BroadcastStatus.SENDING.value,
    BroadcastStatus.PAUSED.value,
)
OPEN_REMINDERS = (ReminderStatus.PENDING.value, ReminderStatus.SENDING.value)
NO_PURPOSE = "–"  # a plan's purpose once the founder who wrote it deleted their data


# --- what deleting will change ------------------------------------------------------------------


@dataclass(frozen=True)
class PlanFate:
    """A founding plan the person is in, and what becomes of it when they leave.

    `founder`: they started it (or took it over). `heir`: the co-founder who takes it over
    (the one who joined first after them); None for a founder means the plan closes.
    `others`: the founders who stay, the heir left out."""

    plan: Founding
    founder: bool
    heir: Person | None = None
    others: tuple[Person, ...] = ()

    @property
    def closes(self) -> bool:
        return self.founder and self.heir is None


@dataclass(frozen=True)
class Seat:
    """A place in a training session still to come: a seat (position 0) or on the waitlist."""

    registration: TrainingRegistration
    training: Training
    position: int


@dataclass
class Consequences:
    """What a deletion will do beyond removing the person's own data: told before they confirm."""

    plans: list[PlanFate] = field(default_factory=list)
    requests: list[Submission] = field(default_factory=list)  # open ones, to be withdrawn
    seats: list[Seat] = field(default_factory=list)
    loans: list[Loan] = field(default_factory=list)
    unsent_broadcasts: int = 0  # their announcements not sent yet: cancelled
    written_broadcasts: int = 0  # every announcement they wrote: the text goes


async def _plans(session: AsyncSession, person_id: int, *, lock: bool = False) -> list[PlanFate]:
    """The person's founding plans still open, each with its heir and the founders who stay.

    `lock`: the plans' rows are held until the transaction ends (PostgreSQL; SQLite has one
    writer), so a founder and their heir deleting at the same moment are taken one after the
    other, and the second finds the plan as the first left it."""
    query = (
        select(Founding)
        .join(FoundingMember, FoundingMember.founding_id == Founding.id)
        .where(
            FoundingMember.person_id == person_id,
            Founding.status != FoundingStatus.CANCELLED.value,
        )
        .order_by(Founding.created_at, Founding.id)
    )
    if lock:
        query = query.with_for_update(of=Founding).execution_options(populate_existing=True)
    found = list(await session.scalars(query))
    fates = []
    for plan in found:
        staying = [
            p
            for p in await _members(session, plan.id)
            if p.id != person_id and p.id != plan.founder_id
        ]
        if plan.founder_id == person_id:
            heir = staying[0] if staying else None
            fates.append(PlanFate(plan, True, heir, tuple(staying[1:])))
        else:
            fates.append(PlanFate(plan, False))
    return fates


async def _members(session: AsyncSession, founding_id: int) -> list[Person]:
    """The founders in the order they joined (the heir is the first after the founder)."""
    return list(
        await session.scalars(
            select(Person)
            .join(FoundingMember, FoundingMember.person_id == Person.id)
            .where(FoundingMember.founding_id == founding_id)
            .order_by(FoundingMember.joined_at, FoundingMember.id)
        )
    )


async def _seats(session: AsyncSession, person_id: int) -> list[Seat]:
    now = utcnow()
    rows = await session.execute(
        select(TrainingRegistration, Training)
        .join(Training, Training.id == TrainingRegistration.training_id)
        .where(
            TrainingRegistration.person_id == person_id,
            TrainingRegistration.status.in_([s.value for s in trainings.ACTIVE]),
            Training.cancelled.is_(False),
            Training.ends_at > now,
        )
        .order_by(Training.starts_at, Training.id)
    )
    return [
        Seat(reg, training, await trainings.position(session, reg)) for reg, training in rows.all()
    ]


async def consequences(session: AsyncSession, *, person_id: int) -> Consequences:
    """What deleting this person's data will change for their plans, requests, seats, loans
    and announcements (only what applies to them)."""
    found = Consequences()
    found.plans = await _plans(session, person_id)
    found.requests = list(
        await session.scalars(
            select(Submission)
            .where(
                Submission.person_id == person_id,
                Submission.status.in_([s.value for s in submissions.OPEN]),
                # a founding file handed on with its plan is not withdrawn
                Submission.kind != SubmissionKind.FOUNDING.value,
            )
            .order_by(Submission.created_at, Submission.id)
        )
    )
    found.seats = await _seats(session, person_id)
    found.loans = list(
        await session.scalars(
            select(Loan).where(Loan.person_id == person_id).order_by(Loan.created_at, Loan.id)
        )
    )
    found.written_broadcasts, found.unsent_broadcasts = (
        int(n or 0)
        for n in (
            await session.execute(
                select(
                    func.count(),
                    func.count().filter(Broadcast.status.in_(UNSENT)),
                ).where(Broadcast.author_id == person_id)
            )
        ).one()
    )
    return found


# --- the deletion -------------------------------------------------------------------------------


@dataclass
class Erased:
    """What the deletion did that other people must hear about (the bot tells them)."""

    handed_over: list[PlanFate] = field(default_factory=list)  # the heir and the others
    closed: list[PlanFate] = field(default_factory=list)
    left: list[tuple[Founding, Person | None, int]] = field(default_factory=list)
    # (plan, its founder, founders now) of plans the person was a co-founder of
    promoted: list[TrainingRegistration] = field(default_factory=list)


async def hand_over(session: AsyncSession, fate: PlanFate, now: datetime | None = None) -> None:
    """A founder leaves: the plan passes to the heir, or closes when nobody else is in it.

    The purpose the leaving founder typed goes with them (in the plan and in its founding file);
    the cooperative's name stays with the founders who go on. A closed plan keeps neither, and
    its waiting founding file is withdrawn."""
    plan, now = fate.plan, now or utcnow()
    if fate.heir is not None:
        await session.execute(
            update(Founding)
            .where(Founding.id == plan.id)
            .values(founder_id=fate.heir.id, purpose=NO_PURPOSE, updated_at=now)
        )
        files = await session.scalars(
            select(Submission).where(
                Submission.kind == SubmissionKind.FOUNDING.value, Submission.ref_id == plan.id
            )
        )
        for file in files:
            answers = {k: v for k, v in (file.answers or {}).items() if k != "purpose"}
            file.answers, file.person_id, file.updated_at = answers, fate.heir.id, now
    else:
        await session.execute(
            update(Founding)
            .where(Founding.id == plan.id)
            .values(
                founder_id=None,
                purpose="",
                name="",
                meeting_at=None,
                status=FoundingStatus.CANCELLED.value,
                closed_at=now,
                updated_at=now,
            )
        )
        await submissions.withdraw(session, kind=SubmissionKind.FOUNDING, ref_ids=[plan.id])
        await session.execute(
            update(Submission)
            .where(Submission.kind == SubmissionKind.FOUNDING.value, Submission.ref_id == plan.id)
            .values(person_id=None, answers={}, reason=None)
        )
    await session.flush()


async def erase(session: AsyncSession, *, person: Person, now: datetime | None = None) -> Erased:
    """Delete everything personal about a person, at once, in the caller's transaction."""
    pid, now = person.id, now or utcnow()
    done = Erased()
    # Seats first, while the registrations are theirs: a freed seat goes to the waitlist.
    for seat in await _seats(session, pid):
        _, promoted = await trainings.cancel(
            session, registration_id=seat.registration.id, person_id=pid
        )
        done.promoted += promoted
        await submissions.withdraw(
            session, kind=SubmissionKind.TRAINING, ref_ids=[seat.registration.id]
        )
    for fate in await _plans(session, pid, lock=True):
        if fate.founder:
            await hand_over(session, fate, now)
            (done.closed if fate.closes else done.handed_over).append(fate)
        else:
            await session.execute(
                delete(FoundingMember).where(
                    FoundingMember.founding_id == fate.plan.id, FoundingMember.person_id == pid
                )
            )
            founder = (
                await session.get(Person, fate.plan.founder_id) if fate.plan.founder_id else None
            )
            count = len(await _members(session, fate.plan.id))
            done.left.append((fate.plan, founder, count))
    # Plans they started that were already closed: their name and purpose go too.
    await session.execute(
        update(Founding)
        .where(Founding.founder_id == pid)
        .values(founder_id=None, purpose="", name="", updated_at=now)
    )
    await session.execute(
        update(Submission)
        .where(
            Submission.person_id == pid, Submission.status.in_([s.value for s in submissions.OPEN])
        )
        .values(status=SubmissionStatus.WITHDRAWN.value, updated_at=now)
    )
    await review_history.forget(session, person_id=pid)
    await session.execute(
        update(Submission)
        .where(Submission.person_id == pid)
        .values(person_id=None, answers={}, reason=None)
    )
    await session.execute(
        update(FlowRun)
        .where(FlowRun.person_id == pid, FlowRun.status == RunStatus.ACTIVE.value)
        .values(status=RunStatus.CANCELLED.value, finished_at=now, updated_at=now)
    )
    await session.execute(
        update(FlowRun)
        .where(FlowRun.person_id == pid)
        .values(person_id=None, answers={}, history=[])
    )
    await session.execute(
        update(Loan)
        .where(Loan.person_id == pid)
        .values(
            person_id=None,
            amount=None,
            tenor_months=None,
            bank=None,
            branch=None,
            appointment_at=None,
            rejection_reason=None,
        )
    )
    await _erase_announcements(session, person)
    await tickets.erase_person(session, person_id=pid)  # their questions keep no content
    await session.execute(
        update(RoleInvite)  # a link they made and nobody used stops working
        .where(
            RoleInvite.created_by == pid,
            RoleInvite.used_at.is_(None),
            RoleInvite.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    await session.execute(
        update(RoleInvite).where(RoleInvite.created_by == pid).values(created_by=None)
    )
    await session.execute(update(RoleInvite).where(RoleInvite.used_by == pid).values(used_by=None))
    await session.execute(
        update(Training).where(Training.created_by == pid).values(created_by=None)
    )
    await session.execute(delete(Reminder).where(Reminder.person_id == pid))
    # Replies stored with an update until sent (a process that died before sending them).
    await repo.forget_replies_to(session, chat_id=person.telegram_id)
    await session.execute(delete(FoundingMember).where(FoundingMember.person_id == pid))
    await session.execute(delete(TrainingRegistration).where(TrainingRegistration.person_id == pid))
    await session.execute(delete(Consent).where(Consent.person_id == pid))
    await _retire_id(session, pid)
    await session.execute(delete(Person).where(Person.id == pid))
    await session.flush()
    return done


async def _retire_id(session: AsyncSession, person_id: int) -> None:
    """SQLite would give the next newcomer this id (the highest + 1) and with it the audit
    log's entries about this person: keep the highest id given (`repo.create_person` starts
    above it). PostgreSQL's sequences never reuse an id."""
    connection = await repo._connection(session)
    if connection.dialect.name != "sqlite":
        return
    stmt = sqlite_insert(IdWatermark).values(name=Person.__tablename__, value=person_id)
    await connection.execute(
        stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"value": func.max(IdWatermark.value, stmt.excluded.value)},
        )
    )


async def _erase_announcements(session: AsyncSession, person: Person) -> None:
    """Announcements sent to them keep only their outcome (no chat id); announcements they
    wrote lose their text, and those not sent yet are cancelled (nobody could pause them)."""
    connection = await repo._connection(session)
    await connection.execute(
        update(Delivery)
        .where(Delivery.person_id == person.id, Delivery.status == DeliveryStatus.PENDING.value)
        .values(status=DeliveryStatus.SKIPPED.value, error=ERASED, lease_until=None)
    )
    await connection.execute(
        update(Delivery).where(Delivery.person_id == person.id).values(person_id=None, chat_id=0)
    )
    unsent = await connection.execute(
        select(Broadcast.id).where(Broadcast.author_id == person.id, Broadcast.status.in_(UNSENT))
    )
    for (broadcast_id,) in unsent.all():
        if await broadcast_store.set_status(session, broadcast_id, BroadcastStatus.CANCELLED):
            await audit(
                session,
                actor_id=None,
                action="broadcast.cancel",
                subject=f"broadcast:{broadcast_id}",
                details={"why": "the author deleted their data"},
            )
    await connection.execute(
        update(Broadcast)
        .where(Broadcast.author_id == person.id)
        .values(
            author_id=None,
            text="",
            photo_file_id=None,
            document_file_id=None,
            button_text=None,
            button_url=None,
            progress_message_id=None,
        )
    )
    await connection.execute(
        update(Broadcast)
        .where(Broadcast.progress_chat_id == person.telegram_id)
        .values(progress_chat_id=None, progress_message_id=None)
    )


# --- everything kept ----------------------------------------------------------------------------


@dataclass
class Kept:
    """Every row that refers to the person, for /datasaya (the bot words it)."""

    person: Person
    consents: list[Consent] = field(default_factory=list)
    runs: list[FlowRun] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    loans: list[Loan] = field(default_factory=list)
    registrations: list[Seat] = field(default_factory=list)  # every one, past and cancelled too
    plans: list[tuple[Founding, FoundingMember, int]] = field(default_factory=list)
    # (plan, their membership, founders now)
    reminders: list[Reminder] = field(default_factory=list)  # still to be sent
    reminders_done: int = 0  # sent, cancelled or failed
    deliveries: int = 0  # announcements sent (or meant) to them
    last_delivery: Any = None
    broadcasts: list[Broadcast] = field(default_factory=list)  # announcements they wrote
    trainings: list[Training] = field(default_factory=list)  # sessions they created
    invites: int = 0  # role links they made or used
    decisions: int = 0  # submissions they decided as a reviewer
    audit_entries: int = 0  # audit log entries by them or about them ("person:<id>")
    tickets: list[tuple[Ticket, list[TicketMessage]]] = field(default_factory=list)
    ticket_work: int = 0  # replies and notes they wrote as staff, tickets assigned to them


async def kept(session: AsyncSession, *, person: Person) -> Kept:
    """Everything kept about a person: every row of every table that refers to them."""
    pid = person.id
    found = Kept(person=person)
    found.consents = await repo.consents_of(session, person_id=pid)
    found.runs = await repo.runs_of(session, person_id=pid)
    found.submissions = list(reversed(await submissions.of_person(session, person_id=pid)))
    found.loans = list(
        await session.scalars(
            select(Loan).where(Loan.person_id == pid).order_by(Loan.created_at, Loan.id)
        )
    )
    rows = await session.execute(
        select(TrainingRegistration, Training)
        .join(Training, Training.id == TrainingRegistration.training_id)
        .where(TrainingRegistration.person_id == pid)
        .order_by(Training.starts_at, Training.id)
    )
    found.registrations = [
        Seat(reg, training, await trainings.position(session, reg)) for reg, training in rows.all()
    ]
    rows = await session.execute(
        select(Founding, FoundingMember)
        .join(FoundingMember, FoundingMember.founding_id == Founding.id)
        .where(FoundingMember.person_id == pid)
        .order_by(Founding.created_at, Founding.id)
    )
    for plan, membership in rows.all():
        found.plans.append((plan, membership, len(await _members(session, plan.id))))
    reminders = list(
        await session.scalars(
            select(Reminder).where(Reminder.person_id == pid).order_by(Reminder.due_at, Reminder.id)
        )
    )
    found.reminders = [r for r in reminders if r.status in OPEN_REMINDERS]
    found.reminders_done = len(reminders) - len(found.reminders)
    found.deliveries, found.last_delivery = (
        await session.execute(
            select(func.count(), func.max(Delivery.sent_at)).where(Delivery.person_id == pid)
        )
    ).one()
    found.broadcasts = list(
        await session.scalars(
            select(Broadcast).where(Broadcast.author_id == pid).order_by(Broadcast.id)
        )
    )
    found.trainings = list(
        await session.scalars(
            select(Training).where(Training.created_by == pid).order_by(Training.starts_at)
        )
    )
    found.invites = int(
        await session.scalar(
            select(func.count())
            .select_from(RoleInvite)
            .where(or_(RoleInvite.created_by == pid, RoleInvite.used_by == pid))
        )
        or 0
    )
    found.decisions = int(
        await session.scalar(
            select(func.count()).select_from(Submission).where(Submission.decided_by == pid)
        )
        or 0
    )
    for ticket in await tickets.of_person(session, person_id=pid):
        found.tickets.append((ticket, await tickets.messages(session, ticket.id)))
    found.ticket_work = int(
        await session.scalar(
            select(func.count())
            .select_from(TicketMessage)
            .where(TicketMessage.author_id == pid, TicketMessage.kind != "person")
        )
        or 0
    ) + int(
        await session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.assignee_id == pid)
        )
        or 0
    )
    found.audit_entries = int(
        await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(or_(AuditEntry.actor_id == pid, AuditEntry.subject == f"person:{pid}"))
        )
        or 0
    )
    return found
