"""The tables. Times are stored in UTC; converted to a person's zone only for display."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from flows import clock


def utcnow() -> datetime:
    """Now, from the one clock flows read too (tests set it to a known day)."""
    return clock.now()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class last_four(FunctionElement[str]):  # noqa: N801 (a SQL function, named like func.*)
    """A text's last four characters: `right(x, 4)` on PostgreSQL, `substr(x, -4)` on SQLite
    (which has no right()); the same answer on both, NULL for NULL. The desk's search by the
    last four digits of a phone or NIK compares this, and the people's indexes are on it."""

    type = String()
    inherit_cache = True
    name = "last_four"


@compiles(last_four)
def _last_four(element: last_four, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, -4)"


@compiles(last_four, "postgresql")
def _last_four_pg(element: last_four, compiler: Any, **kw: Any) -> str:
    return f"right({compiler.process(element.clauses, **kw)}, 4)"


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Role(StrEnum):
    RETURNEE = "returnee"
    COORDINATOR = "coordinator"
    STAFF = "staff"
    ADMIN = "admin"


class RunStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Person(Base):
    """Someone who gave consent. Nobody has a row before that."""

    __tablename__ = "people"
    # Segments, scopes and funnels filter people by where they live (migration 0020); the
    # desk searches them by the last four digits of a phone or NIK and, on PostgreSQL with
    # pg_trgm, by any part of the name (migration 0028).
    __table_args__ = (
        Index("ix_people_province", "province_code"),
        Index("ix_people_regency", "regency_code"),
        Index("ix_people_phone_last_four", last_four(text("phone"))),
        Index("ix_people_nik_last_four", last_four(text("nik"))),
        Index(
            "ix_people_name_trigram",
            text("lower(name) gin_trgm_ops"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    province_code: Mapped[str | None] = mapped_column(String(2))
    regency_code: Mapped[str | None] = mapped_column(String(5))
    country: Mapped[str | None] = mapped_column(String(60))
    years_abroad: Mapped[str | None] = mapped_column(String(10))
    goal: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(5))
    role: Mapped[str] = mapped_column(String(20), default=Role.RETURNEE)
    # A coordinator's or reviewer's regions (province "35" or regency "35.78" codes); None:
    # everywhere. Broadcasts and lists of people stay inside it.
    scope_regions: Mapped[list[Any] | None] = mapped_column()
    start_payload: Mapped[str | None] = mapped_column(String(64))
    nik: Mapped[str | None] = mapped_column(String(16))  # asked only where a sign-up needs it
    nudges: Mapped[bool] = mapped_column(Boolean, default=True)  # /pengingat turns them off
    announcements: Mapped[bool] = mapped_column(Boolean, default=False)  # opted in; /berhenti
    blocked_at: Mapped[datetime | None]  # Telegram said 403: they blocked the bot
    onboarded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    consents: Mapped[list[Consent]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )


class Consent(Base):
    """What a person agreed to, under which text version, and when (UU 27/2022)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    text_version: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="consents")


class FlowRun(Base):
    """One person's way through one flow: the truth a restart resumes from.

    After a person deletes their data, their runs stay without owner or answers,
    so the anonymous counts (how far people got) survive.
    """

    __tablename__ = "flow_runs"
    __table_args__ = (
        Index("ix_flow_runs_person_status", "person_id", "status"),
        Index("ix_flow_runs_flow_started", "flow", "started_at"),  # a journey's cohort (0020)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    flow: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    history: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.ACTIVE)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ProcessedUpdate(Base):
    """Telegram update ids already handled, written in the same transaction as their effects.

    `replies` holds the update's replies (Bot API calls as data, bot.outbox.as_data) from that
    commit until they were sent (SQL NULL then, and when there were none): an update delivered
    again while they are there was committed but never answered, and gets them sent."""

    __tablename__ = "processed_updates"
    __table_args__ = (Index("ix_processed_updates_at", "processed_at"),)  # pruning (0023)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
    replies: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))


class CoopKind(StrEnum):
    SIMPAN_PINJAM = "simpan_pinjam"
    KONSUMEN = "konsumen"
    PRODUSEN = "produsen"
    PEMASARAN = "pemasaran"
    JASA = "jasa"


# Results are shown Merah Putih first, then those for migrant workers, then by name (the id
# makes it total): read one (merah_putih, migrant) group at a time, in this order (ascending
# only: SQLite's autogenerate cannot compare DESC index columns).
_DIRECTORY_ORDER = ("merah_putih", "migrant", "name", "id")


class Cooperative(Base):
    """An entry in the cooperative directory (loaded with `juragan import cooperatives`)."""

    __tablename__ = "cooperatives"
    __table_args__ = (
        UniqueConstraint("name", "regency_code", name="uq_cooperatives_name_regency"),
        # One per way the directory is searched, each in the order results are shown
        # (storage/coops.py), so a page is read from the index (migration 0012).
        Index("ix_cooperatives_regency_kind", "regency_code", "kind", *_DIRECTORY_ORDER),
        Index("ix_cooperatives_regency_order", "regency_code", *_DIRECTORY_ORDER),
        Index("ix_cooperatives_province_kind", "province_code", "kind", *_DIRECTORY_ORDER),
        Index("ix_cooperatives_province_order", "province_code", *_DIRECTORY_ORDER),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    merah_putih: Mapped[bool] = mapped_column(default=False)
    migrant: Mapped[bool] = mapped_column(default=False)
    province_code: Mapped[str] = mapped_column(String(2))
    regency_code: Mapped[str] = mapped_column(String(5))
    village: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(500))
    simpanan_pokok: Mapped[int] = mapped_column(BigInteger)
    simpanan_wajib: Mapped[int] = mapped_column(BigInteger)
    requirements: Mapped[str] = mapped_column(String(500))
    benefits: Mapped[str] = mapped_column(String(500))
    sample: Mapped[bool] = mapped_column(default=False)
    # What the directory knows of its legal status (None: not known), shown on the card so a
    # person can check before paying simpanan (migration 0018).
    legal_number: Mapped[str | None] = mapped_column(String(80))  # badan hukum (AHU) number
    nik_koperasi: Mapped[str | None] = mapped_column(String(30))
    last_rat: Mapped[date | None]  # the last annual members' meeting (RAT)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SubmissionKind(StrEnum):
    JOIN_REQUEST = "join_request"
    FOUNDING = "founding"
    KUR_READINESS = "kur_readiness"
    TRAINING = "training_registration"


class SubmissionStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"  # sent back for correction
    WITHDRAWN = "withdrawn"  # the person cancelled what it was about before a decision


class Submission(Base):
    """A finished journey that needs a person to look at it, with a snapshot of the answers.

    `ref_id` points at what it is about: a cooperative (join request), a founding plan, a loan
    (KUR readiness) or a training registration. The region is copied for the review queue.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_kind_status_created", "kind", "status", "created_at"),
        Index("ix_submissions_person", "person_id"),
        Index("ix_submissions_run", "run_id"),  # a cohort's submissions (0020)
        Index("ix_submissions_status_created", "status", "created_at", "id"),  # the queue (0027)
        # an export's pages, one kind in (created_at, id) order (0023)
        Index("ix_submissions_kind_created", "kind", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("flow_runs.id", ondelete="SET NULL"))
    province_code: Mapped[str | None] = mapped_column(String(2))
    regency_code: Mapped[str | None] = mapped_column(String(5))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default=SubmissionStatus.SUBMITTED)
    reason: Mapped[str | None] = mapped_column(String(500))
    # The fields a reviewer returned for correction; SQL NULL when never returned (not JSON
    # 'null', which IS NOT NULL would count as returned: migration 0014).
    returned_fields: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(Integer)


class FoundingStatus(StrEnum):
    """Where a founding plan stands. Every status but CANCELLED is open: it has a lead
    (`founder_id`) who marks the steps and sets the meeting.

    PLANNING -> SUBMITTED (9 founders and the meeting held: the founding file goes to the team)
    -> APPROVED / REJECTED / RETURNED (the team's decision on the file; RETURNED -> SUBMITTED
    again once the lead corrects it). CANCELLED: closed for good, by its lead (cancel a plan)
    or when its last founder deleted their data; `closed_at` says when. The legal steps after
    the meeting (notary, AHU, NIB...) can still be marked in every open status."""

    PLANNING = "planning"
    SUBMITTED = "submitted"
    APPROVED = "approved"  # the team approved the founding file
    REJECTED = "rejected"  # the team did not approve it; the founders may go on by themselves
    RETURNED = "returned"  # sent back to the lead for a correction
    CANCELLED = "cancelled"


class Founding(Base):
    """A plan to found a cooperative: its founders, legal milestones and meeting date.
    `founder_id` is its lead: who started it, or took it over (handed over, or the founder
    deleted their data)."""

    __tablename__ = "foundings"
    __table_args__ = (Index("uq_foundings_run_id", "run_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    founder_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(24), unique=True)  # the invite deep link's payload
    kind: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(120))
    province_code: Mapped[str | None] = mapped_column(String(2))
    regency_code: Mapped[str | None] = mapped_column(String(5))
    meeting_at: Mapped[datetime | None]  # the founding meeting (rapat pendirian), for reminders
    milestones: Mapped[dict[str, Any]] = mapped_column(default=dict)  # key -> ISO date done
    status: Mapped[str] = mapped_column(String(20), default=FoundingStatus.PLANNING)
    # The flow run that started it: founding again from the same run finds this plan.
    # (No foreign key: SQLite could add one only by copying the table, and runs are never
    # deleted, only emptied.)
    run_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # cancelled (FoundingStatus.CANCELLED) at


class FoundingMember(Base):
    """A founder of a planned cooperative (the one who started the plan is the first)."""

    __tablename__ = "founding_members"
    __table_args__ = (UniqueConstraint("founding_id", "person_id", name="uq_founding_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    founding_id: Mapped[int] = mapped_column(ForeignKey("foundings.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoanStage(StrEnum):
    PREPARING = "preparing"  # readiness done, documents being gathered
    APPOINTMENT = "appointment"  # a bank and branch visit chosen
    SURVEY = "survey"  # the bank visited the business
    AKAD = "akad"  # the loan contract signed
    CAIR = "cair"  # the money paid out
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Loan(Base):
    """One person's way to a KUR loan, from readiness to the bank's answer.

    Amounts are personal financial data (specific data under UU 27/2022): shown only to the
    person and the staff who must see them.
    """

    __tablename__ = "loans"
    __table_args__ = (Index("ix_loans_person", "person_id"), Index("ix_loans_stage", "stage"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    scheme: Mapped[str | None] = mapped_column(String(20))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    tenor_months: Mapped[int | None] = mapped_column(Integer)
    documents: Mapped[dict[str, Any]] = mapped_column(default=dict)  # key -> ISO date ticked
    bank: Mapped[str | None] = mapped_column(String(30))
    branch: Mapped[str | None] = mapped_column(String(120))
    appointment_at: Mapped[datetime | None]
    stage: Mapped[str] = mapped_column(String(20), default=LoanStage.PREPARING)
    stage_dates: Mapped[dict[str, Any]] = mapped_column(default=dict)  # stage -> ISO date
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Training(Base):
    """A training session; `regency_code` and `province_code` None means open to all (online)."""

    __tablename__ = "trainings"
    __table_args__ = (
        UniqueConstraint("title", "starts_at", name="uq_trainings_title_start"),
        # Upcoming sessions of a region (everyone's, a province's, a regency's), soonest first,
        # with what the list filters on: a page and its count are read from the index
        # (storage/trainings.py, migration 0012).
        Index(
            "ix_trainings_upcoming",
            *("province_code", "regency_code", "starts_at", "id", "cancelled", "topic"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(150))
    organiser: Mapped[str] = mapped_column(String(150))
    topic: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(200))
    link: Mapped[str | None] = mapped_column(String(300))
    province_code: Mapped[str | None] = mapped_column(String(2))
    regency_code: Mapped[str | None] = mapped_column(String(5))
    seats: Mapped[int] = mapped_column(Integer)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"  # by the person, or with the whole session
    REJECTED = "rejected"  # a reviewer did not approve it: the seat went to the waitlist


class TrainingRegistration(Base):
    """A person's place in a training, or on its waitlist (first come, first promoted)."""

    __tablename__ = "training_registrations"
    __table_args__ = (
        UniqueConstraint("training_id", "person_id", name="uq_training_registration"),
        Index("ix_training_registrations_queue", "training_id", "status", "created_at"),
        Index("ix_training_registrations_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    promoted_at: Mapped[datetime | None]
    # Marked present on the day, at the desk (None: not marked); who marked it is audited.
    attended_at: Mapped[datetime | None]


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a tick; back to pending if its lease runs out
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # late, and a later one of the same event says it: never sent
    SKIPPED = "skipped"  # late, and its event has begun: never sent


class Reminder(Base):
    """A message due to one person at one moment: a row, not a scheduler job, so a restart or a
    second instance loses nothing. `dedupe_key` makes creating the same reminder twice one."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_due", "status", "due_at"),
        Index("ix_reminders_person", "person_id"),  # not status: a tick changes it 500 at a time
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default=ReminderStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class Broadcast(Base):
    """An announcement from a coordinator to a segment of people (`segment`: the spec of
    flows.segments, as JSON). `regions` is the author's region scope when it was written (None:
    everywhere); `recipients` is how many were to receive it, counted when sending started."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)  # HTML, as Telegram formats it
    photo_file_id: Mapped[str | None] = mapped_column(String(200))
    document_file_id: Mapped[str | None] = mapped_column(String(200))
    button_text: Mapped[str | None] = mapped_column(String(64))
    button_url: Mapped[str | None] = mapped_column(String(300))
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    regions: Mapped[list[Any] | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default=BroadcastStatus.DRAFT)
    scheduled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str | None] = mapped_column(String(20))  # a draft waiting for typed input


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed; back to be claimed again if its lease runs out
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"  # Telegram said 403
    SKIPPED = "skipped"  # weekly cap, cancelled, or opted out before their turn


class Delivery(Base):
    """One broadcast to one person: written for everyone when sending starts, then claimed in
    batches and marked with Telegram's answer."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "person_id", name="uq_delivery_broadcast_person"),
        Index("ix_deliveries_broadcast_status", "broadcast_id", "status"),
        Index("ix_deliveries_person_sent", "person_id", "sent_at"),  # the weekly cap
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]  # sending: lease end; pending: not before (a retry)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did what to what, and when: appended, never changed. `details` never holds a
    sensitive value (no NIK, no phone number, no message text)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_subject", "subject", "at"),
        Index("ix_audit_log_at", "at", "id"),  # the desk's pages, newest first
        Index("ix_audit_log_actor", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # a person id; kept after deletion
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80))  # e.g. "broadcast:12"
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditPrune(Base):
    """The cut-off of the audit rows being pruned, written and deleted inside the pruning
    transaction (never seen by another): the database's trigger lets an audit row be deleted
    only when it is older than a year and than this (migration 0023, bot/retention.py)."""

    __tablename__ = "audit_log_prune"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    before: Mapped[datetime]


class RoleInvite(Base):
    """A one-time link that gives a role (and its regions; None: everywhere) to the first person
    who opens it before it expires. The token is the link's secret: it is stored here and
    nowhere else (the audit log names the invite's id). A link is spent when used or revoked."""

    __tablename__ = "role_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    regions: Mapped[list[Any] | None] = mapped_column()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IdWatermark(Base):
    """The highest id a table ever gave, kept for tables whose rows are deleted (people).

    SQLite gives a new row the highest id in the table + 1, so without it a newcomer would get
    the id of the person who just deleted their data, and with it the audit log's entries and
    the review decisions made under that id. PostgreSQL's sequences never reuse an id."""

    __tablename__ = "id_watermarks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # the table's name
    value: Mapped[int] = mapped_column(BigInteger)


class DeskLoginToken(Base):
    """A one-time sign-in link to the staff desk, given by /meja: bound to one person, spent when
    used, good for 10 minutes. Only a hash of its token is kept (the link is the secret)."""

    __tablename__ = "desk_login_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class DeskSession(Base):
    """A signed-in browser at the staff desk. The cookie holds the token, the row its hash; the
    role and regions it was opened with, so a revoked or changed role ends it at the next
    request. `csrf` is the token every form of this session carries."""

    __tablename__ = "desk_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    scope_regions: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class OutboxNotice(Base):
    """A notice for one person from a front door without a Bot (the desk): written in the same
    transaction as the change, rendered in the person's language and sent by whichever bot
    instance sends (bot/notice_sender.py), at the bot-wide rate."""

    __tablename__ = "outbox_notices"
    __table_args__ = (Index("ix_outbox_notices_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(String(60))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class TicketStatus(StrEnum):
    NEW = "new"  # nobody on the desk has taken it yet
    OPEN = "open"  # taken (assigned), the office owes an answer
    WAITING = "waiting"  # answered: waiting for the person
    CLOSED = "closed"


class Ticket(Base):
    """A question from a person to the office ("Tanya petugas"), routed to the staff and
    coordinators of their regency, else province, else national (`queue_region`, None:
    national). `waiting_since`: since when the office owes an answer (None: it does not)."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_person_status", "person_id", "status"),
        Index("ix_tickets_status_region", "status", "queue_region", "updated_at"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_waiting", "waiting_since"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    province_code: Mapped[str | None] = mapped_column(String(2))  # the person's, at opening
    regency_code: Mapped[str | None] = mapped_column(String(5))
    queue_region: Mapped[str | None] = mapped_column(String(5))  # whose inbox; None: national
    status: Mapped[str] = mapped_column(String(12), default=TicketStatus.NEW)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    waiting_since: Mapped[datetime | None]
    first_answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5 (the bot's 👍 5, 👎 1)
    flagged_overdue_at: Mapped[datetime | None]  # waited over a working day (cleared on reply)


class TicketMessage(Base):
    """One message of a ticket: from the person, a staff reply (sent to the person) or an
    internal note (never sent). A voice note is Telegram's file_id, kept until
    `voice_delete_at` (the ticket closed + 30 days)."""

    __tablename__ = "ticket_messages"
    __table_args__ = (
        Index("ix_ticket_messages_ticket", "ticket_id", "id"),
        Index("ix_ticket_messages_voice_delete", "voice_delete_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "person", "reply", "note"
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str | None] = mapped_column(Text)
    voice_file_id: Mapped[str | None] = mapped_column(String(200))
    voice_seconds: Mapped[int | None] = mapped_column(Integer)
    voice_delete_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedAnswer(Base):
    """An answer the office keeps for questions that come often: national (`region` None) or
    for a province or regency."""

    __tablename__ = "canned_answers"
    __table_args__ = (Index("ix_canned_answers_region", "region"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str | None] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketWait(Base):
    """The bot waits for someone's next message: a person's question ("ask") after pressing
    Tanya petugas, or a staff member's reply to `ticket_id` ("reply") from /tiket."""

    __tablename__ = "ticket_waits"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    until: Mapped[datetime]
class ReasonTemplate(Base):
    """A reason the office keeps for rejecting or returning a submission (action "reject" or
    "return"), national (no region) or for one region, in one language; a reviewer picks one
    and may edit its text before deciding. Retired ones stay for the record, offered no more."""

    __tablename__ = "reason_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(10))
    region_code: Mapped[str | None] = mapped_column(String(5))
    locale: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class SubmissionEvent(Base):
    """One step of a submission's history: a decision (approved, rejected, returned) with its
    reason and reviewer, or a correction (`changes`: {field: {"before", "after"}}). Reasons and
    changes are personal data, cleared when the person deletes theirs."""

    __tablename__ = "submission_events"
    __table_args__ = (Index("ix_submission_events_submission", "submission_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    at: Mapped[datetime] = mapped_column(default=utcnow)


# Configure every mapper now: repositories build objects from Core rows without the ORM's
# constructor (storage.repo._record), which would otherwise meet an unconfigured mapper when a
# fresh process's first query is for a person who already exists.
configure_mappers()


class FunnelRunDay(Base):
    """The funnels' summary of flow runs (storage/funnel_summary.py): how many runs of a journey's
    flow started on a UTC day by people of a regency stood at each (step, last step answered),
    as of the last refresh. No person in it, only counts; kept beside the live tables."""

    __tablename__ = "funnel_run_days"
    __table_args__ = (
        Index("ix_funnel_run_days_flow_day", "flow", "day"),
        Index("ix_funnel_run_days_flow_regency_day", "flow", "regency_code", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    province_code: Mapped[str | None] = mapped_column(String(2))
    regency_code: Mapped[str | None] = mapped_column(String(5))
    step: Mapped[str] = mapped_column(String(40))
    last: Mapped[str | None] = mapped_column(String(40))
    runs: Mapped[int] = mapped_column(Integer)


class FunnelRunProvinceDay(Base):
    """`funnel_run_days` added up by province: what a funnel for the country or provinces reads
    (a few dozen rows a day instead of one per regency, step and day)."""

    __tablename__ = "funnel_run_province_days"
    __table_args__ = (Index("ix_funnel_run_province_days_flow_day", "flow", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    province_code: Mapped[str | None] = mapped_column(String(2))
    step: Mapped[str] = mapped_column(String(40))
    last: Mapped[str | None] = mapped_column(String(40))
    runs: Mapped[int] = mapped_column(Integer)


class FunnelSubmissionDay(Base):
    """The funnels' summary of submissions (join requests, KUR readiness checks) by the UTC day
    their run started and the person's regency: submitted, approved, and the loans' bank stages."""

    __tablename__ = "funnel_submission_days"
    __table_args__ = (
        Index("ix_funnel_submission_days_kind_day", "kind", "day"),
        Index("ix_funnel_submission_days_kind_regency_day", "kind", "regency_code", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    day: Mapped[date] = mapped_column(Date)
    province_code: Mapped[str | None] = mapped_column(String(2))
    regency_code: Mapped[str | None] = mapped_column(String(5))
    submitted: Mapped[int] = mapped_column(Integer)
    approved: Mapped[int] = mapped_column(Integer)
    survey: Mapped[int] = mapped_column(Integer, default=0)
    akad: Mapped[int] = mapped_column(Integer, default=0)
    cair: Mapped[int] = mapped_column(Integer, default=0)


class FunnelSummaryState(Base):
    """One row: the summaries hold the cohorts of days before `cut` (UTC), recounted for days
    from `recent_from` on at `refreshed_at`, and all days at `full_at`."""

    __tablename__ = "funnel_summary_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cut: Mapped[date] = mapped_column(Date)
    refreshed_at: Mapped[datetime]
    full_at: Mapped[datetime]
