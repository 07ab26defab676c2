"""Broadcasts and their deliveries: drafts, the one-statement start, claims with a lease,
outcomes, progress, guarded status changes, and the audit log.

`start` writes one delivery row per recipient with a single INSERT … SELECT (ON CONFLICT DO
NOTHING on the (broadcast, person) pair, so it can never write a person twice). People who
already received `cap_per_week` announcements in the 7 days before get a row too, `skipped`
with the error "weekly_cap": the report counts them, and nobody is looked at twice.

The sender claims rows like reminders (storage.reminders): pending rows (and `sending` rows
whose lease ran out: the process died between claim and send) become `sending` with a lease, in
one UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) on PostgreSQL. Only rows of a
broadcast that is `sending` are claimed, so a pause or a cancel stops the next batch. A row is
marked only while still `sending`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from flows.segments import Segment
from storage import repo
from storage.audit import audit, audit_of  # noqa: F401 - callers use store.audit
from storage.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Person,
    UTCDateTime,
    utcnow,
)
from storage.segments import recipients_query, within

_B = Broadcast.__table__
_D = Delivery.__table__
_P = Person.__table__

LEASE = timedelta(minutes=2)
WEEK = timedelta(days=7)
WEEKLY_CAP = "weekly_cap"  # the error of a delivery skipped by the cap
CANCELLED = "cancelled"  # the error of a delivery skipped because its broadcast was cancelled
OPTED_OUT = "opted_out"  # … because the person stopped announcements after the start
WAS_BLOCKED = "blocked_before"  # … because the person had blocked the bot by their turn
REPORT = "report"  # the stage of a finished broadcast whose final report is still to be sent

# Status changes `set_status` allows: new status -> the statuses it may come from. Sending
# starts only through `start` (it writes the deliveries); `done` only through `finish`.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    BroadcastStatus.SCHEDULED: (BroadcastStatus.DRAFT,),
    BroadcastStatus.DRAFT: (BroadcastStatus.SCHEDULED,),
    BroadcastStatus.PAUSED: (BroadcastStatus.SENDING,),
    BroadcastStatus.SENDING: (BroadcastStatus.PAUSED,),
    BroadcastStatus.CANCELLED: (
        BroadcastStatus.DRAFT,
        BroadcastStatus.SCHEDULED,
        BroadcastStatus.SENDING,
        BroadcastStatus.PAUSED,
    ),
}


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery with what sending it needs to know about its person now."""

    id: int
    person_id: int | None
    chat_id: int
    attempts: int
    locale: str | None
    announcements: bool  # False: they stopped announcements since the start (skip them)
    blocked: bool


@dataclass
class Outcomes:
    """What Telegram said for a batch of claimed deliveries."""

    sent: list[tuple[int, int | None]] = field(default_factory=list)  # (id, message id)
    failed: list[tuple[int, str]] = field(default_factory=list)  # (id, error): for good
    blocked: list[int] = field(default_factory=list)  # 403: the person blocked the bot
    retry: list[tuple[int, datetime, str]] = field(default_factory=list)  # (id, not before, error)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (id, why), e.g. opted out


@dataclass(frozen=True)
class Failure:
    """A row of the failures CSV."""

    delivery_id: int
    person_id: int | None
    chat_id: int
    status: str
    attempts: int
    error: str | None


def _dialect_insert(connection: Any) -> Any:
    return pg_insert if connection.dialect.name == "postgresql" else sqlite_insert


async def create_draft(
    session: AsyncSession,
    *,
    author_id: int | None,
    text: str,
    segment: Segment | Mapping[str, Any],
    photo_file_id: str | None = None,
    document_file_id: str | None = None,
    button_text: str | None = None,
    button_url: str | None = None,
    regions: Sequence[str] | None = None,
) -> int:
    """A draft broadcast; `regions` is the author's scope (None: everywhere). The id."""
    spec = segment if isinstance(segment, Segment) else Segment.from_dict(segment)
    if (button_text is None) != (button_url is None):
        raise ValueError("a link button needs both its text and its URL")
    values = {
        "author_id": author_id,
        "text": text,
        "photo_file_id": photo_file_id,
        "document_file_id": document_file_id,
        "button_text": button_text,
        "button_url": button_url,
        "segment": spec.to_dict(),
        "regions": list(regions) if regions is not None else None,
        "status": BroadcastStatus.DRAFT.value,
        "scheduled_at": None,
        "created_at": utcnow(),
        "started_at": None,
        "finished_at": None,
        "progress_chat_id": None,
        "progress_message_id": None,
        "recipients": 0,
        "stage": None,
    }
    return await repo._insert(session, _B, values)


DRAFT_FIELDS = frozenset(
    {
        "text",
        "photo_file_id",
        "document_file_id",
        "button_text",
        "button_url",
        "segment",
        "stage",
        "regions",  # the author's scope, renewed when it changed since the draft began
    }
)


async def edit_draft(session: AsyncSession, broadcast_id: int, **values: Any) -> bool:
    """Change a draft's content, segment or stage; False when it is no longer a draft (sent,
    scheduled or discarded meanwhile, e.g. by a second tap)."""
    unknown = set(values) - DRAFT_FIELDS
    if unknown:
        raise ValueError(f"not a draft field: {sorted(unknown)}")
    if isinstance(values.get("segment"), Segment):
        values["segment"] = values["segment"].to_dict()
    connection = await repo._connection(session)
    result = await connection.execute(
        update(_B)
        .where(_B.c.id == broadcast_id, _B.c.status == BroadcastStatus.DRAFT.value)
        .values(**values)
    )
    return bool(result.rowcount)


async def open_draft(session: AsyncSession, *, author_id: int) -> Broadcast | None:
    """The author's newest draft, if any (one is continued rather than a second begun)."""
    connection = await repo._connection(session)
    row = (
        await connection.execute(
            select(_B)
            .where(_B.c.author_id == author_id, _B.c.status == BroadcastStatus.DRAFT.value)
            .order_by(_B.c.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else repo._record(Broadcast, dict(row._mapping))


async def waiting_for_input(session: AsyncSession, *, author_id: int) -> Broadcast | None:
    """The author's draft that waits for something typed (its `stage`), if any."""
    draft = await open_draft(session, author_id=author_id)
    return draft if draft is not None and draft.stage else None


async def recent(
    session: AsyncSession, *, author_id: int | None, limit: int = 5
) -> list[Broadcast]:
    """The newest broadcasts that are not drafts (of one author; None: everyone's)."""
    connection = await repo._connection(session)
    query = select(_B).where(_B.c.status != BroadcastStatus.DRAFT.value)
    if author_id is not None:
        query = query.where(_B.c.author_id == author_id)
    rows = await connection.execute(query.order_by(_B.c.id.desc()).limit(limit))
    return [repo._record(Broadcast, dict(row._mapping)) for row in rows]


async def get(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    """A broadcast, untracked (change it only through this module)."""
    connection = await repo._connection(session)
    row = (await connection.execute(select(_B).where(_B.c.id == broadcast_id))).first()
    return None if row is None else repo._record(Broadcast, dict(row._mapping))


async def schedule(
    session: AsyncSession, broadcast_id: int, *, at: datetime, move: bool = True
) -> bool:
    """A draft (or, unless `move` is False, an already scheduled one, moved) to be sent at `at`
    (UTC). False when it was not so: with `move=False`, a second press of "schedule it" that
    waited for the first finds it scheduled already and changes nothing."""
    connection = await repo._connection(session)
    statuses = [BroadcastStatus.DRAFT.value] + ([BroadcastStatus.SCHEDULED.value] if move else [])
    result = await connection.execute(
        update(_B)
        .where(_B.c.id == broadcast_id, _B.c.status.in_(statuses))
        .values(status=BroadcastStatus.SCHEDULED.value, scheduled_at=at, stage=None)
    )
    return bool(result.rowcount)


async def due(session: AsyncSession, *, now: datetime) -> list[int]:
    """Scheduled broadcasts whose time has come, oldest first (for the sender to `start`)."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_B.c.id)
        .where(_B.c.status == BroadcastStatus.SCHEDULED.value, _B.c.scheduled_at <= now)
        .order_by(_B.c.scheduled_at, _B.c.id)
    )
    return [row[0] for row in rows]


async def active(session: AsyncSession) -> list[int]:
    """Broadcasts that are sending, oldest first."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_B.c.id).where(_B.c.status == BroadcastStatus.SENDING.value).order_by(_B.c.id)
    )
    return [row[0] for row in rows]


async def set_progress_message(
    session: AsyncSession, broadcast_id: int, *, chat_id: int, message_id: int
) -> None:
    """The coordinator's live status message, edited as the broadcast goes."""
    connection = await repo._connection(session)
    await connection.execute(
        update(_B)
        .where(_B.c.id == broadcast_id)
        .values(progress_chat_id=chat_id, progress_message_id=message_id)
    )


def _deliveries_from(
    broadcast_id: int,
    spec: Segment,
    *,
    now: datetime,
    cap_per_week: int | None,
    within_regions: Sequence[str] | None,
    stored_regions: Sequence[str] | None,
    dialect_insert: Any,
) -> Any:
    """INSERT INTO deliveries SELECT … FROM the recipients: one statement for any number."""
    query = recipients_query(spec, within_regions=stored_regions)
    if within_regions is not None:  # the author's scope and the caller's both apply
        query = query.where(within(within_regions))
    people = query.subquery("r")
    if cap_per_week is None:
        capped: Any = literal(False)
    else:
        sent_this_week = (
            select(func.count())
            .where(
                _D.c.person_id == people.c.person_id,
                _D.c.status == DeliveryStatus.SENT.value,
                _D.c.sent_at >= literal(now - WEEK, UTCDateTime()),
                _D.c.sent_at < literal(now, UTCDateTime()),
            )
            .scalar_subquery()
        )
        capped = sent_this_week >= cap_per_week
    rows = select(
        literal(broadcast_id, Integer()).label("broadcast_id"),
        people.c.person_id,
        people.c.telegram_id,
        case((capped, DeliveryStatus.SKIPPED.value), else_=DeliveryStatus.PENDING.value).label(
            "status"
        ),
        literal(0, Integer()).label("attempts"),
        case((capped, WEEKLY_CAP), else_=None).label("error"),
        literal(now, UTCDateTime()).label("created_at"),
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
    return (
        dialect_insert(_D)
        .from_select(
            ["broadcast_id", "person_id", "chat_id", "status", "attempts", "error", "created_at"],
            rows,
        )
        .on_conflict_do_nothing(index_elements=["broadcast_id", "person_id"])
    )


async def write_deliveries(
    session: AsyncSession,
    broadcast_id: int,
    *,
    now: datetime,
    cap_per_week: int | None = None,
    within_regions: Sequence[str] | None = None,
) -> None:
    """Write the delivery rows of a broadcast (anyone already there is left alone)."""
    broadcast = await get(session, broadcast_id)
    if broadcast is None:
        raise LookupError(broadcast_id)
    connection = await repo._connection(session)
    await connection.execute(
        _deliveries_from(
            broadcast_id,
            Segment.from_dict(broadcast.segment),
            now=now,
            cap_per_week=cap_per_week,
            within_regions=within_regions,
            stored_regions=broadcast.regions,
            dialect_insert=_dialect_insert(connection),
        )
    )


async def start(
    session: AsyncSession,
    broadcast_id: int,
    *,
    now: datetime,
    cap_per_week: int | None = None,
    within_regions: Sequence[str] | None = None,
) -> int | None:
    """Start sending a draft or scheduled broadcast: its deliveries written, `recipients` set
    to how many will receive it (the weekly cap's skips not counted), status `sending`. The
    number of recipients; None (and nothing changed) when it was not a draft or scheduled, so
    two instances starting the same scheduled broadcast start it once.

    Reach is the spec ∩ the author's stored scope ∩ `within_regions` (when given)."""
    connection = await repo._connection(session)
    claimed = (
        await connection.execute(
            update(_B)
            .where(
                _B.c.id == broadcast_id,
                _B.c.status.in_([BroadcastStatus.DRAFT.value, BroadcastStatus.SCHEDULED.value]),
            )
            .values(status=BroadcastStatus.SENDING.value, started_at=now, stage=None)
            .returning(_B.c.id)
        )
    ).first()
    if claimed is None:
        return None
    await write_deliveries(
        session, broadcast_id, now=now, cap_per_week=cap_per_week, within_regions=within_regions
    )
    recipients = int(
        (
            await connection.execute(
                select(func.count()).where(
                    _D.c.broadcast_id == broadcast_id,
                    _D.c.status != DeliveryStatus.SKIPPED.value,
                )
            )
        ).scalar_one()
    )
    await connection.execute(
        update(_B).where(_B.c.id == broadcast_id).values(recipients=recipients)
    )
    return recipients


async def claim(
    session: AsyncSession,
    broadcast_id: int,
    *,
    now: datetime,
    limit: int = 100,
    lease: timedelta = LEASE,
) -> list[Claimed]:
    """Take up to `limit` deliveries of a sending broadcast: pending ones whose retry time (if
    any) has come, and `sending` ones whose lease ran out. One UPDATE returning them, then
    their people in one query."""
    connection = await repo._connection(session)
    ready = or_(
        and_(
            _D.c.status == DeliveryStatus.PENDING.value,
            or_(_D.c.lease_until.is_(None), _D.c.lease_until <= now),
        ),
        and_(_D.c.status == DeliveryStatus.SENDING.value, _D.c.lease_until < now),
    )
    sending = (
        select(_B.c.id)
        .where(_B.c.id == broadcast_id, _B.c.status == BroadcastStatus.SENDING.value)
        .exists()
    )
    taken = await repo.claim_rows(
        session,
        _D,
        where=and_(_D.c.broadcast_id == broadcast_id, ready, sending),
        order_by=_D.c.id,
        limit=limit,
        now=now,
        lease=lease,
        returning=(_D.c.id, _D.c.person_id, _D.c.chat_id, _D.c.attempts),
    )
    if not taken:
        return []
    ids = {r.person_id for r in taken if r.person_id is not None}
    people = (
        {
            row.id: row
            for row in await connection.execute(
                select(_P.c.id, _P.c.locale, _P.c.announcements, _P.c.blocked_at).where(
                    _P.c.id.in_(ids)
                )
            )
        }
        if ids
        else {}
    )
    claimed = []
    for r in sorted(taken, key=lambda r: r.id):
        p = people.get(r.person_id)
        claimed.append(
            Claimed(
                id=r.id,
                person_id=r.person_id,
                chat_id=r.chat_id,
                attempts=r.attempts,
                locale=p.locale if p else None,
                announcements=bool(p.announcements) if p else False,
                blocked=p.blocked_at is not None if p else False,
            )
        )
    return claimed


_STILL_SENDING = _D.c.status == DeliveryStatus.SENDING.value
_MARK_SENT = (
    update(_D)
    .where(_D.c.id == bindparam("did"), _STILL_SENDING)
    .values(
        status=DeliveryStatus.SENT.value,
        message_id=bindparam("mid"),
        sent_at=bindparam("now", type_=_D.c.sent_at.type),
        lease_until=None,
        error=None,
    )
)
_MARK_SENT_PG = text(
    "UPDATE deliveries SET status = 'sent', message_id = v.mid, sent_at = :now, "
    "lease_until = NULL, error = NULL "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:mids AS bigint[])) AS v(did, mid) "
    "WHERE deliveries.id = v.did AND deliveries.status = 'sending'"
).bindparams(bindparam("now", type_=_D.c.sent_at.type))
_MARK_WITH_ERROR = (
    update(_D)
    .where(_D.c.id == bindparam("did"), _STILL_SENDING)
    .values(
        status=bindparam("status"),
        error=bindparam("error"),
        lease_until=bindparam("until", type_=_D.c.lease_until.type),
    )
)


async def mark(session: AsyncSession, outcomes: Outcomes, *, now: datetime | None = None) -> None:
    """Record a batch's outcomes, one statement per kind; only rows still `sending` change.
    A blocked outcome also marks its person blocked (no announcement or reminder is sent to
    them again until they write to the bot)."""
    now = now or utcnow()
    connection = await repo._connection(session)
    if outcomes.sent:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                _MARK_SENT_PG,
                {
                    "ids": [d for d, _ in outcomes.sent],
                    "mids": [m for _, m in outcomes.sent],
                    "now": now,
                },
            )
        else:
            await connection.execute(
                _MARK_SENT, [{"did": d, "mid": m, "now": now} for d, m in outcomes.sent]
            )
    if outcomes.blocked:
        await connection.execute(
            update(_D)
            .where(_D.c.id.in_(outcomes.blocked), _STILL_SENDING)
            .values(status=DeliveryStatus.BLOCKED.value, lease_until=None, error="blocked")
        )
        await connection.execute(
            update(_P)
            .where(
                _P.c.id.in_(select(_D.c.person_id).where(_D.c.id.in_(outcomes.blocked))),
                _P.c.blocked_at.is_(None),
            )
            .values(blocked_at=now)
        )
    rows = [
        *(
            {"did": d, "status": DeliveryStatus.FAILED.value, "error": e[:200], "until": None}
            for d, e in outcomes.failed
        ),
        *(
            {"did": d, "status": DeliveryStatus.PENDING.value, "error": e[:200], "until": at}
            for d, at, e in outcomes.retry
        ),
        *(
            {"did": d, "status": DeliveryStatus.SKIPPED.value, "error": e[:200], "until": None}
            for d, e in outcomes.skipped
        ),
    ]
    if rows:
        await connection.execute(_MARK_WITH_ERROR, rows)


async def progress(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """How many deliveries are in each status (every status present, 0 when none)."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_D.c.status, func.count())
        .where(_D.c.broadcast_id == broadcast_id)
        .group_by(_D.c.status)
    )
    counts = {s.value: 0 for s in DeliveryStatus}
    counts.update({status: int(n) for status, n in rows})
    return counts


async def set_status(
    session: AsyncSession, broadcast_id: int, status: BroadcastStatus | str
) -> bool:
    """Change the status if `TRANSITIONS` allows it from the current one; False otherwise.
    A cancel marks the deliveries not yet claimed `skipped` (error "cancelled")."""
    status = BroadcastStatus(status)
    allowed = TRANSITIONS.get(status)
    if not allowed:
        return False
    values: dict[str, Any] = {"status": status.value}
    if status == BroadcastStatus.CANCELLED:
        values["finished_at"] = utcnow()
        started = [BroadcastStatus.SENDING.value, BroadcastStatus.PAUSED.value]
        values["stage"] = case((_B.c.status.in_(started), REPORT), else_=None)  # a report
    if status == BroadcastStatus.DRAFT:
        values["scheduled_at"] = None
    connection = await repo._connection(session)
    changed = (
        await connection.execute(
            update(_B)
            .where(_B.c.id == broadcast_id, _B.c.status.in_([s.value for s in allowed]))
            .values(**values)
            .returning(_B.c.id)
        )
    ).first()
    if changed is None:
        return False
    if status == BroadcastStatus.CANCELLED:
        await connection.execute(
            update(_D)
            .where(_D.c.broadcast_id == broadcast_id, _D.c.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.SKIPPED.value, error=CANCELLED, lease_until=None)
        )
    return True


async def finish(session: AsyncSession, broadcast_id: int, *, now: datetime) -> bool:
    """Mark a sending broadcast done when none of its deliveries is pending or in flight."""
    connection = await repo._connection(session)
    open_rows = (
        select(_D.c.id)
        .where(
            _D.c.broadcast_id == broadcast_id,
            _D.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]),
        )
        .exists()
    )
    result = await connection.execute(
        update(_B)
        .where(_B.c.id == broadcast_id, _B.c.status == BroadcastStatus.SENDING.value, ~open_rows)
        .values(status=BroadcastStatus.DONE.value, finished_at=now, stage=REPORT)
    )
    return bool(result.rowcount)


async def to_report(session: AsyncSession) -> list[int]:
    """Finished or cancelled broadcasts whose final report is not sent yet (a crash between
    the end and the report leaves the report to the next pass)."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_B.c.id)
        .where(
            _B.c.stage == REPORT,
            _B.c.status.in_([BroadcastStatus.DONE.value, BroadcastStatus.CANCELLED.value]),
        )
        .order_by(_B.c.id)
    )
    return [row[0] for row in rows]


async def reported(session: AsyncSession, broadcast_id: int) -> None:
    connection = await repo._connection(session)
    await connection.execute(update(_B).where(_B.c.id == broadcast_id).values(stage=None))


async def recover(session: AsyncSession) -> int:
    """Deliveries left `sending` by a sender that died: back to pending (their broadcast still
    goes on) or skipped (it was cancelled). Only the one sender (bot.leader) calls this, when it
    takes over, so nothing in flight elsewhere is touched. How many rows changed."""
    connection = await repo._connection(session)
    going = select(_B.c.id).where(
        _B.c.status.in_([BroadcastStatus.SENDING.value, BroadcastStatus.PAUSED.value])
    )
    back = await connection.execute(
        update(_D)
        .where(_D.c.status == DeliveryStatus.SENDING.value, _D.c.broadcast_id.in_(going))
        .values(status=DeliveryStatus.PENDING.value, lease_until=None)
    )
    dropped = await connection.execute(
        update(_D)
        .where(_D.c.status == DeliveryStatus.SENDING.value, _D.c.broadcast_id.not_in(going))
        .values(status=DeliveryStatus.SKIPPED.value, lease_until=None, error=CANCELLED)
    )
    return int(back.rowcount or 0) + int(dropped.rowcount or 0)


async def release(session: AsyncSession, delivery_ids: Sequence[int]) -> int:
    """Deliveries claimed but never tried (a batch the sender claimed ahead, then found its
    broadcast paused or cancelled): back to pending, the claim not counted as an attempt, while
    their broadcast goes on; skipped ("cancelled") when it was cancelled. Only rows still
    `sending` change. How many did."""
    if not delivery_ids:
        return 0
    connection = await repo._connection(session)
    ids = list(delivery_ids)
    going = select(_B.c.id).where(
        _B.c.status.in_([BroadcastStatus.SENDING.value, BroadcastStatus.PAUSED.value])
    )
    untried = case((_D.c.attempts > 0, _D.c.attempts - 1), else_=0)  # the claim's attempt
    back = await connection.execute(
        update(_D)
        .where(_D.c.id.in_(ids), _STILL_SENDING, _D.c.broadcast_id.in_(going))
        .values(status=DeliveryStatus.PENDING.value, lease_until=None, attempts=untried)
    )
    dropped = await connection.execute(
        update(_D)
        .where(_D.c.id.in_(ids), _STILL_SENDING, _D.c.broadcast_id.not_in(going))
        .values(
            status=DeliveryStatus.SKIPPED.value,
            lease_until=None,
            error=CANCELLED,
            attempts=untried,
        )
    )
    return int(back.rowcount or 0) + int(dropped.rowcount or 0)


async def failures(session: AsyncSession, broadcast_id: int) -> list[Failure]:
    """The deliveries that failed or met a block, for the report's CSV."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_D.c.id, _D.c.person_id, _D.c.chat_id, _D.c.status, _D.c.attempts, _D.c.error)
        .where(
            _D.c.broadcast_id == broadcast_id,
            _D.c.status.in_([DeliveryStatus.FAILED.value, DeliveryStatus.BLOCKED.value]),
        )
        .order_by(_D.c.id)
    )
    return [Failure(*row) for row in rows]


async def listing(
    session: AsyncSession,
    *,
    statuses: Sequence[str],
    drafts_of: int | None,
    before: int | None = None,
    limit: int = 500,
) -> list[Broadcast]:
    """Broadcasts of these statuses, newest first (ids below `before`); drafts only of the
    author `drafts_of` when given (a draft is its author's work until it is sent)."""
    connection = await repo._connection(session)
    query = select(_B).where(_B.c.status.in_(list(statuses)))
    if drafts_of is not None:
        query = query.where(
            or_(_B.c.status != BroadcastStatus.DRAFT.value, _B.c.author_id == drafts_of)
        )
    if before is not None:
        query = query.where(_B.c.id < before)
    rows = await connection.execute(query.order_by(_B.c.id.desc()).limit(limit))
    return [repo._record(Broadcast, dict(row._mapping)) for row in rows]


async def progress_of(
    session: AsyncSession, broadcast_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """`progress` of many broadcasts in one query."""
    counts = {i: {s.value: 0 for s in DeliveryStatus} for i in broadcast_ids}
    if not broadcast_ids:
        return counts
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_D.c.broadcast_id, _D.c.status, func.count())
        .where(_D.c.broadcast_id.in_(list(broadcast_ids)))
        .group_by(_D.c.broadcast_id, _D.c.status)
    )
    for broadcast_id, status, n in rows:
        counts[broadcast_id][status] = int(n)
    return counts
