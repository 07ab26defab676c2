"""The one rule for creating or moving a reminder row, for operations and handlers alike.

A reminder is a row (storage/reminders.py), never a scheduler job: an operation that gives
someone an event (a seat, a meeting) creates its reminders in the same transaction, moves them
when the event moves and cancels them when the event is gone for that person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flows import reminders as rules
from storage import reminders as store


async def remind(
    session: AsyncSession,
    *,
    person_id: int,
    kind: rules.Kind,
    key: str,
    due_at: datetime | None,
    tz: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Create or move a reminder, out of the person's night; a moment already past, or None
    (no sensible time, e.g. "two hours before" a 06:30 start), cancels it instead."""
    if due_at is None or due_at <= now:
        await store.cancel(session, keys=[key])
        return
    due = rules.in_daylight(due_at, tz)
    await store.schedule(
        session, person_id=person_id, kind=kind.key, key=key, due_at=due, payload=payload
    )
