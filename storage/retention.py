"""Deleting rows past their retention, one small batch per call (bot/retention.py runs the
batches, each in a transaction of its own).

Each batch picks at most `batch` of the oldest expired rows through an index on their age
(migration 0023) and deletes them; on PostgreSQL the pick skips rows another transaction has
locked (SKIP LOCKED), so a batch never waits for, and never holds up, the bot's own writes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import (
    AuditEntry,
    AuditPrune,
    Broadcast,
    BroadcastStatus,
    Delivery,
    ProcessedUpdate,
)

_U = ProcessedUpdate.__table__
_D = Delivery.__table__
_B = Broadcast.__table__
_A = AuditEntry.__table__
_CUT = AuditPrune.__table__
FINISHED = (BroadcastStatus.DONE.value, BroadcastStatus.CANCELLED.value)
REPORT = "report"  # storage.broadcasts.REPORT: the report is still to be sent


def _skip_locked(query, connection: AsyncConnection):  # noqa: ANN001, ANN202
    if connection.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


async def update_ids(connection: AsyncConnection, *, before: datetime, batch: int) -> int:
    """Forget up to `batch` processed update ids older than `before` (with any reply still
    stored with one): Telegram no longer redelivers them. How many were deleted."""
    oldest = _skip_locked(
        select(_U.c.update_id)
        .where(_U.c.processed_at < before)
        .order_by(_U.c.processed_at)
        .limit(batch),
        connection,
    )
    result = await connection.execute(
        delete(_U).where(_U.c.update_id.in_(oldest.scalar_subquery()))
    )
    return int(result.rowcount or 0)


def _expired_broadcasts(before: datetime):  # noqa: ANN202
    """Announcements done or cancelled before `before` whose report has been sent; one still
    sending, paused, scheduled or waiting for its report is never among them."""
    return select(_B.c.id).where(
        _B.c.status.in_(FINISHED),
        _B.c.finished_at.is_not(None),
        _B.c.finished_at < before,
        (_B.c.stage.is_(None)) | (_B.c.stage != REPORT),
    )


async def deliveries(connection: AsyncConnection, *, before: datetime, batch: int) -> int:
    """Delete up to `batch` deliveries of announcements that finished before `before` (one
    announcement at a time, through its index). The announcement's row stays, with its
    text and how many it reached; so does its audit trail. How many were deleted."""
    broadcast = await connection.scalar(
        _expired_broadcasts(before)
        .where(select(_D.c.id).where(_D.c.broadcast_id == _B.c.id).exists())
        .order_by(_B.c.finished_at)
        .limit(1)
    )
    if broadcast is None:
        return 0
    some = _skip_locked(
        select(_D.c.id).where(_D.c.broadcast_id == broadcast).limit(batch), connection
    )
    result = await connection.execute(delete(_D).where(_D.c.id.in_(some.scalar_subquery())))
    return int(result.rowcount or 0)


async def audit(connection: AsyncConnection, *, before: datetime, batch: int) -> int:
    """Delete up to `batch` audit rows older than `before`. The database refuses any other
    deletion (migration 0023): the cut-off is written for this transaction only, the batch
    deleted, the cut-off removed, so no other transaction ever sees it. How many."""
    # A failure rolls the whole transaction back, the cut-off with it.
    cut = await connection.execute(insert(_CUT).values(before=before).returning(_CUT.c.id))
    cut_id = cut.scalar_one()
    oldest = select(_A.c.id).where(_A.c.at < before).order_by(_A.c.at).limit(batch)
    result = await connection.execute(delete(_A).where(_A.c.id.in_(oldest.scalar_subquery())))
    await connection.execute(delete(_CUT).where(_CUT.c.id == cut_id))
    return int(result.rowcount or 0)
