"""The help desk ("Tanya petugas"): a person's question becomes a ticket for the staff and
coordinators of their region, who answer it from the desk or the bot.

- `ask`: a question opens a ticket, or joins the person's open one (their next messages go to
  the same ticket until it is closed). A new ticket is routed to the staff and coordinators
  whose regions name the person's regency, else their province, else to the national office
  (`route`), who are told.
- `assign`, `reply` (told to the person: a notice naming the message, rendered when sent, so
  a deleted message is never sent), `note` (internal, never sent), `close` (the person is asked
  to rate the answer), `rate`.
- `housekeeping` (the scheduler, every few minutes): flags tickets the office has owed an
  answer for longer than a working day of office hours in the region's zone, and forgets voice
  notes 30 days after their ticket closed.

Who may do what, and in which regions, is the front door's check (bot/roles.py "tickets");
these functions take ids the front door already checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from flows import office_hours, regions
from operations.notices import Done
from storage import repo
from storage import tickets as store
from storage.models import Person, Ticket, TicketMessage, TicketStatus

QUESTION_MAX = 2000  # characters of one message from a person
REPLY_MAX = 2000  # characters of a staff reply or note
VOICE_KEEP = timedelta(days=30)  # a voice note is kept while its ticket is open, then 30 days
NOTIFY_MAX = 20  # staff told of a new ticket at most (the rest see it in their inbox)
TICKET, MESSAGE, OPENED = "ticket", "message", "opened"  # keys of Done.changed
PERSON, REPLY, NOTE = "person", "reply", "note"  # kinds of message
RATINGS = range(1, 6)


@dataclass(frozen=True)
class Routing:
    region: str | None  # the ticket's inbox: a regency, a province, or None (national)
    tier: str  # "regency", "province" or "national"
    staff: list[int]  # people.id of the staff and coordinators there


async def route(session: AsyncSession, *, regency: str | None, province: str | None) -> Routing:
    """The staff and coordinators whose regions name the regency; else the province; else
    those without a scope (the national office)."""
    people = await store.desk_people(session)

    def naming(code: str) -> list[int]:
        return sorted(p.id for p in people if p.scope_regions and code in p.scope_regions)

    if regency and (found := naming(regency)):
        return Routing(regency, "regency", found)
    if province and (found := naming(province)):
        return Routing(province, "province", found)
    return Routing(None, "national", sorted(p.id for p in people if p.scope_regions is None))


def _clean(text: str | None, limit: int) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > limit:
        raise ValueError("too long")
    return text


async def ask(
    session: AsyncSession,
    *,
    person: Person,
    text: str | None = None,
    voice: str | None = None,
    voice_seconds: int | None = None,
    now: datetime,
) -> Done:
    """A person's message to the office: a new ticket, or the next message of their open one.
    Refused "empty" (no text, no voice) or "too_long"."""
    try:
        text = _clean(text, QUESTION_MAX)
    except ValueError:
        return Done.refuse("too_long")
    if text is None and not voice:
        return Done.refuse("empty")
    await repo.lock_person(session, person)  # two first messages at once: one ticket
    done = Done()
    found = await store.open_of(session, person_id=person.id)
    ticket = await store.locked(session, found.id) if found is not None else None
    if ticket is None or ticket.status == TicketStatus.CLOSED:
        routing = await route(session, regency=person.regency_code, province=person.province_code)
        ticket = await store.create(
            session,
            person_id=person.id,
            province_code=person.province_code,
            regency_code=person.regency_code,
            queue_region=routing.region,
            status=TicketStatus.NEW.value,
            created_at=now,
            updated_at=now,
            waiting_since=now,
        )
        done.changed[OPENED] = [ticket.id]
        for staff_id in routing.staff[:NOTIFY_MAX]:
            if staff_id != person.id:
                done.tell(staff_id, "tickets.new", ticket=ticket.id)
    else:
        if ticket.status == TicketStatus.WAITING:  # the person wrote back
            ticket.status = TicketStatus.OPEN.value
            if ticket.assignee_id is not None:
                done.tell(ticket.assignee_id, "tickets.new", ticket=ticket.id, again=True)
        ticket.waiting_since = ticket.waiting_since or now
        ticket.updated_at = now
    message = await store.add_message(
        session,
        ticket_id=ticket.id,
        kind=PERSON,
        author_id=person.id,
        text=text,
        voice_file_id=voice or None,
        voice_seconds=voice_seconds if voice else None,
        created_at=now,
    )
    await session.flush()
    done.changed[TICKET] = [ticket.id]
    done.changed[MESSAGE] = [message.id]
    return done


async def _open(session: AsyncSession, ticket_id: int) -> Ticket | Done:
    ticket = await store.locked(session, ticket_id)
    if ticket is None:
        return Done.refuse("not_found")
    if ticket.status == TicketStatus.CLOSED:
        return Done.refuse("closed")
    return ticket


async def assign(session: AsyncSession, *, ticket_id: int, staff_id: int, now: datetime) -> Done:
    """Take a ticket (or give it to `staff_id`): a new one becomes open. Refused "not_found",
    "closed"."""
    ticket = await _open(session, ticket_id)
    if isinstance(ticket, Done):
        return ticket
    ticket.assignee_id = staff_id
    if ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.OPEN.value
    ticket.updated_at = now
    await session.flush()
    return Done(changed={TICKET: [ticket.id]})


async def reply(
    session: AsyncSession, *, ticket_id: int, staff_id: int, text: str, now: datetime
) -> Done:
    """A staff answer, told to the person; the ticket then waits for them (and is the
    replier's when nobody had it). Refused "empty", "too_long", "not_found", "closed"."""
    try:
        cleaned = _clean(text, REPLY_MAX)
    except ValueError:
        return Done.refuse("too_long")
    if cleaned is None:
        return Done.refuse("empty")
    ticket = await _open(session, ticket_id)
    if isinstance(ticket, Done):
        return ticket
    message = await store.add_message(
        session, ticket_id=ticket.id, kind=REPLY, author_id=staff_id, text=cleaned, created_at=now
    )
    ticket.status = TicketStatus.WAITING.value
    ticket.assignee_id = ticket.assignee_id or staff_id
    ticket.first_answered_at = ticket.first_answered_at or now
    ticket.waiting_since = None
    ticket.flagged_overdue_at = None
    ticket.updated_at = now
    await session.flush()
    done = Done(changed={TICKET: [ticket.id], MESSAGE: [message.id]})
    done.tell(ticket.person_id, "tickets.reply", ticket=ticket.id, said=message.id)
    return done


async def note(
    session: AsyncSession, *, ticket_id: int, staff_id: int, text: str, now: datetime
) -> Done:
    """An internal note for the office, never sent. Refused like `reply`."""
    try:
        cleaned = _clean(text, REPLY_MAX)
    except ValueError:
        return Done.refuse("too_long")
    if cleaned is None:
        return Done.refuse("empty")
    ticket = await _open(session, ticket_id)
    if isinstance(ticket, Done):
        return ticket
    message = await store.add_message(
        session, ticket_id=ticket.id, kind=NOTE, author_id=staff_id, text=cleaned, created_at=now
    )
    return Done(changed={TICKET: [ticket.id], MESSAGE: [message.id]})


async def close(session: AsyncSession, *, ticket_id: int, staff_id: int, now: datetime) -> Done:
    """Close a ticket: the person is told and asked to rate the answer; its voice notes are
    kept 30 more days. Refused "not_found", "closed"."""
    ticket = await _open(session, ticket_id)
    if isinstance(ticket, Done):
        return ticket
    ticket.status = TicketStatus.CLOSED.value
    ticket.closed_at = now
    ticket.waiting_since = None
    ticket.updated_at = now
    ticket.assignee_id = ticket.assignee_id or staff_id
    await session.execute(
        update(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id, TicketMessage.voice_file_id.is_not(None))
        .values(voice_delete_at=now + VOICE_KEEP)
    )
    await session.flush()
    done = Done(changed={TICKET: [ticket.id]})
    done.tell(ticket.person_id, "tickets.closed", ticket=ticket.id)
    return done


async def rate(
    session: AsyncSession, *, ticket_id: int, person_id: int, rating: int, now: datetime
) -> Done:
    """The person's rating of a closed ticket of theirs (1-5; pressing again changes it).
    Refused "not_found", "not_yours", "not_closed", "bad_rating"."""
    if rating not in RATINGS:
        return Done.refuse("bad_rating")
    ticket = await store.locked(session, ticket_id)
    if ticket is None:
        return Done.refuse("not_found")
    if ticket.person_id != person_id:
        return Done.refuse("not_yours")
    if ticket.status != TicketStatus.CLOSED:
        return Done.refuse("not_closed")
    ticket.rating = rating
    await session.flush()
    return Done(changed={TICKET: [ticket.id]})


def zone(ticket: Ticket) -> str:
    """The IANA zone of the ticket's region (WIB when it has none)."""
    return regions.zone_of(ticket.province_code)


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """The office has owed an answer for longer than a working day in the region's zone."""
    if ticket.status == TicketStatus.CLOSED:
        return False
    return office_hours.overdue(ticket.waiting_since, now, zone(ticket))


@dataclass(frozen=True)
class Housekept:
    flagged: int
    voice_pruned: int


async def housekeeping(session: AsyncSession, *, now: datetime) -> Housekept:
    """Flag the tickets waiting longer than a working day; forget voice notes whose time is
    up. Idempotent: run it as often as you like."""
    candidates = await store.owed_since_before(session, before=now - office_hours.WORKING_DAY)
    late = [t.id for t in candidates if is_overdue(t, now)]
    await store.flag(session, late, now=now)
    return Housekept(len(late), await store.prune_voice(session, now=now))
