"""The reviewers' daily digest: new, waiting, overdue and decided, at DIGEST_HOUR in each
reviewer's own zone, inside their scope; and the help desk's questions waiting for an answer,
with those waiting longer than a working day (operations/tickets.py flags them).

It is a reminder row like any other (kind "staff_digest", one dedupe key per reviewer and
local day), so it goes out once, through the one sender, after a restart or with several
instances; its numbers are counted when it is sent, not when it was planned, and "new" and
"decided" count since the reviewer's previous digest: after downtime a late digest says
"since 23 November, 08.00" instead of "since yesterday", and one whose next day's digest is
due by then is dropped (`flows.reminders.superseded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import roles
from bot.reminders import Note, remind, renders
from bot.text import moment, number, t
from flows import clock, regions
from flows import reminders as rules
from flows.i18n import N_
from flows.review import overdue_since
from storage import coops, reviews
from storage import reminders as store
from storage import tickets as tickets_store
from storage.models import Role

DIGEST = rules.Kind(
    "staff_digest",
    N_("📋 Your daily review digest"),
    serial=True,  # a late digest is dropped when the next day's is due
)
rules.KINDS[DIGEST.key] = DIGEST


@dataclass(frozen=True)
class DigestSettings:
    admin_ids: frozenset[int]
    hour: int = 8
    overdue_days: int = 3


async def plan_digests(session: AsyncSession, *, now: datetime, config: DigestSettings) -> int:
    """Make sure every reviewer has their next digest planned (today's hour if still ahead,
    else tomorrow's); planning twice changes nothing. How many reviewers there are."""
    people = await reviews.reviewers(session, admin_ids=sorted(config.admin_ids))
    for person in people:
        tz = regions.zone_of(person.province_code)
        local = now.astimezone(ZoneInfo(tz))
        day = local.date() if local.hour < config.hour else local.date() + timedelta(days=1)
        due = clock.at(day.isoformat(), f"{config.hour:02d}:00", tz)
        assert due is not None
        await remind(
            session,
            person_id=person.id,
            kind=DIGEST,
            key=f"digest:{person.id}:{day.isoformat()}",
            due_at=due,
            tz=tz,
            payload={
                "admin": person.telegram_id in config.admin_ids,
                "overdue_days": config.overdue_days,
            },
        )
    return len(people)


@renders(DIGEST.key)
async def digest_note(session: AsyncSession, claimed: store.Claimed, tz: str) -> Note | None:
    """The numbers now, inside the reviewer's scope; nothing for someone no longer a reviewer."""
    person = await coops.person(session, claimed.person_id)
    if person is None:
        return None
    role = Role.ADMIN if claimed.payload.get("admin") else Role(person.role)
    if not roles.can(role, "review"):
        return None
    now = clock.now()
    days = int(claimed.payload.get("overdue_days") or 3)
    since = await digest_since(session, claimed.person_id, now)
    numbers = await reviews.digest(
        session,
        regions=roles.scope(person, role),
        since=since,
        overdue_before=overdue_since(now, days),  # working days, as the desk counts them
    )
    questions = await tickets_store.digest(session, scope=roles.scope(person, role))
    yesterday = (now - timedelta(days=1)).astimezone(ZoneInfo(tz)).date()
    when = None if since.astimezone(ZoneInfo(tz)).date() == yesterday else moment(since, tz)
    return Note(
        digest_text(numbers, days=days, since=when, tickets=questions),
    )


LOOK_BACK = timedelta(days=7)  # the longest a digest looks back, whatever came before


async def digest_since(session: AsyncSession, person_id: int, now: datetime) -> datetime:
    """Since the reviewer's previous digest (a day ago, or longer after downtime), at most a
    week back; a day for their first."""
    last = await store.last_sent(session, person_id=person_id, kind=DIGEST.key)
    if last is None or not now - LOOK_BACK <= last < now:
        return now - timedelta(days=1)
    return last


def digest_text(
    numbers: reviews.Digest,
    *,
    days: int,
    since: str | None = None,
    tickets: tickets_store.Digest | None = None,
) -> str:
    """`since`: when the counts start, if not yesterday (a late digest); `tickets`: the help
    desk's questions waiting for an answer."""
    if since is None:
        new = _("New since yesterday: {n}").format(n=number(numbers.new))
        decided = _("Decided since yesterday: {n}").format(n=number(numbers.decided))
    else:
        new = _("New since {when}: {n}").format(n=number(numbers.new), when=since)
        decided = _("Decided since {when}: {n}").format(n=number(numbers.decided), when=since)
    lines = [
        t(DIGEST.text),
        new,
        _("Waiting: {n}").format(n=number(numbers.waiting)),
        _("Waiting over {days} working days: {n}").format(n=number(numbers.overdue), days=days),
        decided,
    ]
    if numbers.waiting:
        lines.append(_("Open the queue: /tinjau"))
    if tickets is not None and tickets.waiting:
        lines.append(
            _("Questions waiting for an answer: {n}, over a working day: {late}").format(
                n=number(tickets.waiting), late=number(tickets.overdue)
            )
        )
        lines.append(_("Answer them: /tiket"))
    return "\n".join(lines)
