"""The tables. Times are stored in UTC; converted to a person's zone only for display."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    start_payload: Mapped[str | None] = mapped_column(String(64))
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
    __table_args__ = (Index("ix_flow_runs_person_status", "person_id", "status"),)

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
    """Telegram update ids already handled, written in the same transaction as their effects."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CoopKind(StrEnum):
    SIMPAN_PINJAM = "simpan_pinjam"
    KONSUMEN = "konsumen"
    PRODUSEN = "produsen"
    PEMASARAN = "pemasaran"
    JASA = "jasa"


class Cooperative(Base):
    """An entry in the cooperative directory (loaded with `juragan import cooperatives`)."""

    __tablename__ = "cooperatives"
    __table_args__ = (
        UniqueConstraint("name", "regency_code", name="uq_cooperatives_name_regency"),
        Index("ix_cooperatives_regency_kind", "regency_code", "kind"),
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
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
