"""The help desk's rows: tickets, their messages, canned answers, and what the bot waits for.

Repositories flush, never commit. A ticket's changes lock its row first (`locked`: FOR UPDATE
on PostgreSQL; SQLite has one writer), so two staff replying at once are written one after
the other, their replies' outbox rows in the order they were made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, false, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    CannedAnswer,
    Person,
    Role,
    Ticket,
    TicketMessage,
    TicketStatus,
    TicketWait,
)

OPEN = (TicketStatus.NEW.value, TicketStatus.OPEN.value, TicketStatus.WAITING.value)
TABS = ("new", "mine", "open", "waiting", "closed")
DESK_ROLES = (Role.STAFF.value, Role.COORDINATOR.value)


def _inside(column: Any, scope: list[str] | None) -> Any:
    """A region column inside a scope (province "35" or regency "35.78" codes); None: all."""
    if scope is None:
        return true()
    if not scope:
        return false()
    return or_(*(or_(column == code, column.like(code + ".%")) for code in scope))


# --- tickets ------------------------------------------------------------------------------------


async def open_of(session: AsyncSession, *, person_id: int) -> Ticket | None:
    """The person's open ticket (not closed), the newest if several."""
    return await session.scalar(
        select(Ticket)
        .where(Ticket.person_id == person_id, Ticket.status.in_(OPEN))
        .order_by(Ticket.id.desc())
        .limit(1)
    )


async def get(session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id)


async def locked(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """The ticket, its row locked until the transaction ends, read fresh."""
    return await session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def create(session: AsyncSession, **values: Any) -> Ticket:
    ticket = Ticket(**values)
    session.add(ticket)
    await session.flush()
    return ticket


async def add_message(session: AsyncSession, **values: Any) -> TicketMessage:
    message = TicketMessage(**values)
    session.add(message)
    await session.flush()
    return message


async def message(session: AsyncSession, message_id: int) -> TicketMessage | None:
    return await session.get(TicketMessage, message_id)


async def messages(session: AsyncSession, ticket_id: int) -> list[TicketMessage]:
    return list(
        await session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id)
            .order_by(TicketMessage.id)
        )
    )


async def desk_people(session: AsyncSession) -> list[Person]:
    """Everyone with a staff or coordinator role (a handful: filtered by region in Python)."""
    return list(await session.scalars(select(Person).where(Person.role.in_(DESK_ROLES))))


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    name: str | None
    assignee: str | None
    first_text: str | None


async def inbox(
    session: AsyncSession,
    *,
    tab: str,
    viewer_id: int,
    scope: list[str] | None,
    limit: int = 50,
) -> list[Row]:
    """One tab of the shared inbox inside a scope: new (nobody took it), mine (assigned to the
    viewer, not closed), open (taken by anyone), waiting (for the person), closed (newest
    first); the others oldest waiting first."""
    where = [_inside(Ticket.queue_region, scope)]
    order = [Ticket.waiting_since.is_(None), Ticket.waiting_since, Ticket.id]
    if tab == "new":
        where.append(Ticket.status == TicketStatus.NEW.value)
    elif tab == "mine":
        where += [Ticket.assignee_id == viewer_id, Ticket.status.in_(OPEN)]
    elif tab == "open":
        where.append(Ticket.status == TicketStatus.OPEN.value)
    elif tab == "waiting":
        where.append(Ticket.status == TicketStatus.WAITING.value)
        order = [Ticket.updated_at, Ticket.id]
    elif tab == "closed":
        where.append(Ticket.status == TicketStatus.CLOSED.value)
        order = [Ticket.closed_at.desc(), Ticket.id.desc()]
    else:
        raise ValueError(tab)
    person = select(Person.name).where(Person.id == Ticket.person_id).scalar_subquery()
    staff = select(Person.name).where(Person.id == Ticket.assignee_id).scalar_subquery()
    first = (
        select(TicketMessage.text)
        .where(TicketMessage.ticket_id == Ticket.id, TicketMessage.kind == "person")
        .order_by(TicketMessage.id)
        .limit(1)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Ticket, person, staff, first).where(*where).order_by(*order).limit(limit)
    )
    return [Row(t, n, a, f) for t, n, a, f in rows.all()]


async def counts(
    session: AsyncSession, *, viewer_id: int, scope: list[str] | None
) -> dict[str, int]:
    """How many tickets each tab holds (closed: not counted, it only grows)."""
    inside = _inside(Ticket.queue_region, scope)
    rows = await session.execute(
        select(Ticket.status, func.count()).where(inside, Ticket.status.in_(OPEN))
        .group_by(Ticket.status)
    )  # fmt: skip
    by = {status: int(n) for status, n in rows.all()}
    mine = await session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(inside, Ticket.assignee_id == viewer_id, Ticket.status.in_(OPEN))
    )
    return {
        "new": by.get("new", 0),
        "mine": int(mine or 0),
        "open": by.get("open", 0),
        "waiting": by.get("waiting", 0),
    }


async def of_person(session: AsyncSession, *, person_id: int) -> list[Ticket]:
    return list(
        await session.scalars(
            select(Ticket).where(Ticket.person_id == person_id).order_by(Ticket.id)
        )
    )


@dataclass(frozen=True)
class Digest:
    waiting: int  # the office owes an answer
    overdue: int  # ... for longer than a working day


async def digest(session: AsyncSession, *, scope: list[str] | None) -> Digest:
    inside = _inside(Ticket.queue_region, scope)
    owed = and_(inside, Ticket.status.in_(OPEN), Ticket.waiting_since.is_not(None))
    waiting = await session.scalar(select(func.count()).select_from(Ticket).where(owed))
    late = await session.scalar(
        select(func.count()).select_from(Ticket).where(owed, Ticket.flagged_overdue_at.is_not(None))
    )
    return Digest(int(waiting or 0), int(late or 0))


async def owed_since_before(session: AsyncSession, *, before: datetime) -> list[Ticket]:
    """Open tickets the office has owed an answer since before `before`, not flagged yet."""
    return list(
        await session.scalars(
            select(Ticket).where(
                Ticket.status.in_(OPEN),
                Ticket.waiting_since.is_not(None),
                Ticket.waiting_since < before,
                Ticket.flagged_overdue_at.is_(None),
            )
        )
    )


async def flag(session: AsyncSession, ids: list[int], *, now: datetime) -> None:
    if ids:
        await session.execute(
            update(Ticket).where(Ticket.id.in_(ids)).values(flagged_overdue_at=now)
        )


async def prune_voice(session: AsyncSession, *, now: datetime) -> int:
    """Forget voice notes whose time is up (their ticket closed 30 days ago)."""
    result = await session.execute(
        update(TicketMessage)
        .where(TicketMessage.voice_delete_at.is_not(None), TicketMessage.voice_delete_at <= now)
        .values(voice_file_id=None, voice_delete_at=None)
    )
    return int(result.rowcount or 0)


async def erase_person(session: AsyncSession, *, person_id: int) -> None:
    """A person's /hapusdata: their tickets keep no content (every message, the staff's
    replies and notes about them too) and no owner; staff they were stay as nobody."""
    theirs = select(Ticket.id).where(Ticket.person_id == person_id).scalar_subquery()
    await session.execute(
        update(TicketMessage)
        .where(TicketMessage.ticket_id.in_(theirs))
        .values(text="", voice_file_id=None, voice_seconds=None, voice_delete_at=None)
    )
    await session.execute(
        update(Ticket).where(Ticket.person_id == person_id).values(person_id=None)
    )
    await session.execute(
        update(Ticket).where(Ticket.assignee_id == person_id).values(assignee_id=None)
    )
    await session.execute(
        update(TicketMessage).where(TicketMessage.author_id == person_id).values(author_id=None)
    )
    await session.execute(
        update(CannedAnswer).where(CannedAnswer.updated_by == person_id).values(updated_by=None)
    )
    await session.execute(delete(TicketWait).where(TicketWait.person_id == person_id))


# --- what the bot waits for ---------------------------------------------------------------------


async def wait_of(session: AsyncSession, *, person_id: int, now: datetime) -> TicketWait | None:
    wait = await session.get(TicketWait, person_id, populate_existing=True)
    return wait if wait is not None and wait.until > now else None


async def set_wait(
    session: AsyncSession, *, person_id: int, kind: str, ticket_id: int | None, until: datetime
) -> None:
    await clear_wait(session, person_id=person_id)
    session.add(TicketWait(person_id=person_id, kind=kind, ticket_id=ticket_id, until=until))
    await session.flush()


async def clear_wait(session: AsyncSession, *, person_id: int) -> None:
    await session.execute(delete(TicketWait).where(TicketWait.person_id == person_id))
    for obj in list(session.identity_map.values()):
        if isinstance(obj, TicketWait) and obj.person_id == person_id:
            session.expunge(obj)


# --- canned answers -----------------------------------------------------------------------------


async def canned_for(session: AsyncSession, *, place: str | None) -> list[CannedAnswer]:
    """The national answers and those of the place's province and regency."""
    codes = [c for c in {place, (place or "")[:2]} if c]
    return list(
        await session.scalars(
            select(CannedAnswer)
            .where(or_(CannedAnswer.region.is_(None), CannedAnswer.region.in_(codes)))
            .order_by(CannedAnswer.title, CannedAnswer.id)
        )
    )


async def canned_in(session: AsyncSession, *, scope: list[str] | None) -> list[CannedAnswer]:
    """Every canned answer a scope may edit (national ones only without a scope)."""
    where = true() if scope is None else _inside(CannedAnswer.region, scope)
    return list(
        await session.scalars(
            select(CannedAnswer).where(where).order_by(CannedAnswer.title, CannedAnswer.id)
        )
    )


async def canned(session: AsyncSession, canned_id: int) -> CannedAnswer | None:
    return await session.get(CannedAnswer, canned_id)


async def save_canned(session: AsyncSession, **values: Any) -> CannedAnswer:
    answer = CannedAnswer(**values)
    session.add(answer)
    await session.flush()
    return answer


async def delete_canned(session: AsyncSession, canned_id: int) -> None:
    await session.execute(delete(CannedAnswer).where(CannedAnswer.id == canned_id))
