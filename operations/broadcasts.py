"""Sending an announcement: start a draft now, or schedule it, for the people it reaches.

The deliveries are rows (storage/broadcasts.py): starting writes one per recipient in one
statement, and the bot's sender (bot/broadcasts.py, through bot/delivery.py) sends them under
Telegram's limits, crash-safe, and reports to the author. A scheduled one is started by the
sender when its time comes, after checking its author may still send it.

Who may send is the front door's question (the role: bot/roles.py for the bot); the regions
the author's work stays inside come in as plain values (`scope`, None: everywhere), and the
reach is bounded by them again here, whatever the draft says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from flows import regions
from flows.segments import Segment
from operations.notices import Done
from storage import broadcasts as store
from storage import segments as reach
from storage.models import BroadcastStatus


@dataclass(frozen=True)
class PaidSending:
    """Telegram's paid broadcasts as configured (PAID_BROADCAST_RATE, PAID_BROADCAST_STARS):
    announcements at `rate` a second, Telegram charging `stars_per_message` for each message
    above the free limit (Bot API, sendMessage, allow_paid_broadcast: 0.1 Stars)."""

    rate: float
    stars_per_message: float


@dataclass(frozen=True)
class Cost:
    """What sending to `messages` people costs at most, and how long it takes."""

    messages: int
    stars: float  # at most: every message billed (those within the free limit are not)
    seconds: float
    rate: float
    stars_per_message: float


def estimate(recipients: int, paid: PaidSending) -> Cost:
    """The most a paid announcement to `recipients` people costs, and its sending time."""
    stars = math.ceil(round(recipients * paid.stars_per_message * 10, 6)) / 10  # 0.1 Star, up
    seconds = recipients / paid.rate if paid.rate > 0 else 0.0
    return Cost(recipients, stars, seconds, paid.rate, paid.stars_per_message)


async def estimated_cost(
    session: AsyncSession, *, broadcast_id: int, paid: PaidSending | None
) -> Cost | None:
    """For the author before sending (the bot's /siaran confirmation, the desk's compose
    page): the cost of a draft's announcement to the people it reaches now; None when paid
    broadcasts are off or there is no such draft. The weekly cap can only lower it."""
    if paid is None:
        return None
    broadcast = await store.get(session, broadcast_id)
    if broadcast is None:
        return None
    return estimate(await reach.count(session, broadcast.segment, broadcast.regions), paid)


def paid_sending(*, on: bool, rate: float, stars_per_message: float) -> PaidSending | None:
    """The setting as a value (None: off), e.g. from bot.config.Settings' PAID_BROADCAST_*."""
    return PaidSending(rate, stars_per_message) if on else None


@dataclass
class Sent(Done):
    """A broadcast started (`recipients`: how many it is being sent to, the weekly cap's
    skips not counted) or scheduled (`at`)."""

    recipients: int = 0
    at: datetime | None = None


async def send_broadcast(
    session: AsyncSession,
    *,
    broadcast_id: int,
    author_id: int,
    now: datetime,
    scope: list[str] | None,
    any_author: bool = False,
    at: datetime | None = None,
    cap_per_week: int | None = None,
) -> Sent:
    """Start a draft now (`at` None), or schedule it for `at` (UTC, in the future).

    `author_id` is who acts: it must be the draft's author unless `any_author` (an admin).
    The reach is the draft's segment inside the draft's regions and inside `scope`. Refused
    "gone" (no such broadcast), "not_yours", "not_draft" (sent, scheduled or discarded
    already: a second press changes nothing) or "past" (a time already gone)."""
    broadcast = await store.get(session, broadcast_id)
    if broadcast is None:
        return Sent(ok=False, refused="gone")
    if broadcast.author_id != author_id and not any_author:
        return Sent(ok=False, refused="not_yours")
    if broadcast.status != BroadcastStatus.DRAFT:
        return Sent(ok=False, refused="not_draft")
    done = Sent(changed={"broadcast": [broadcast_id]})
    if at is not None:
        if at <= now:
            return Sent(ok=False, refused="past")
        if not await store.schedule(session, broadcast_id, at=at, move=False):
            return Sent(ok=False, refused="not_draft")
        done.at = at
        await store.audit(
            session,
            actor_id=author_id,
            action="broadcast.schedule",
            subject=f"broadcast:{broadcast_id}",
            details={
                "segment": broadcast.segment,
                "regions": broadcast.regions,
                "at": at.isoformat(),
                "reach_now": await reach.count(session, broadcast.segment, broadcast.regions),
            },
        )
        return done
    people = await store.start(
        session, broadcast_id, now=now, cap_per_week=cap_per_week, within_regions=scope
    )
    if people is None:
        return Sent(ok=False, refused="not_draft")
    done.recipients = people
    await store.audit(
        session,
        actor_id=author_id,
        action="broadcast.send",
        subject=f"broadcast:{broadcast_id}",
        details={"segment": broadcast.segment, "regions": broadcast.regions, "recipients": people},
    )
    return done


# --- composing a draft, and pause, resume, cancel ------------------------------------------------

# What each control does: the status it asks for, and the audit action it leaves.
CONTROLS = {
    "pause": (BroadcastStatus.PAUSED, "broadcast.pause"),
    "resume": (BroadcastStatus.SENDING, "broadcast.resume"),
    "cancel": (BroadcastStatus.CANCELLED, "broadcast.cancel"),
}


def inside(codes: list[str] | None, scope: list[str] | None) -> bool:
    """A broadcast bounded by `codes` (None: everywhere) is inside `scope` (None: anywhere)."""
    if scope is None:
        return True
    return codes is not None and all(regions.inside(code, scope) for code in codes)


def regions_now(codes: list[str] | None, scope: list[str] | None) -> list[str] | None:
    """The regions a draft keeps when its author's scope is `scope` today: the ones chosen if
    they are all inside it, else the whole scope (it reaches only today's regions)."""
    return codes if inside(codes, scope) else (list(scope) if scope is not None else None)


@dataclass
class Drafted(Done):
    broadcast_id: int = 0


async def draft(
    session: AsyncSession,
    *,
    author_id: int,
    text: str,
    segment: Segment,
    chosen: list[str],
    scope: list[str] | None,
    button: tuple[str, str] | None = None,
    broadcast_id: int | None = None,
) -> Drafted:
    """A new draft (or, given `broadcast_id`, the author's draft changed) for `segment` among
    the people of the regions `chosen` (none: everywhere inside `scope`). Refused "outside"
    (a region chosen outside `scope`), "gone" (no such draft of this author's, or no longer a
    draft)."""
    if any(regions.get(code) is None or not regions.inside(code, scope) for code in chosen):
        return Drafted(ok=False, refused="outside")
    bounded = sorted(set(chosen)) if chosen else (list(scope) if scope is not None else None)
    label, url = button if button is not None else (None, None)
    if broadcast_id is None:
        new_id = await store.create_draft(
            session, author_id=author_id, text=text, segment=segment, regions=bounded,
            button_text=label, button_url=url,
        )  # fmt: skip
        return Drafted(changed={"broadcast": [new_id]}, broadcast_id=new_id)
    found = await store.get(session, broadcast_id)
    if found is None or found.author_id != author_id:
        return Drafted(ok=False, refused="gone")
    if not await store.edit_draft(
        session, broadcast_id, text=text, segment=segment, regions=bounded,
        button_text=label, button_url=url, stage=None,
    ):  # fmt: skip
        return Drafted(ok=False, refused="gone")
    return Drafted(changed={"broadcast": [broadcast_id]}, broadcast_id=broadcast_id)


async def control(
    session: AsyncSession,
    *,
    broadcast_id: int,
    act: str,
    actor_id: int,
    any_author: bool = False,
) -> Done:
    """Pause, resume or cancel an announcement (`act`), audited; a cancel of a draft discards
    it. `actor_id` must be its author unless `any_author` (an admin). Refused "gone",
    "not_yours", "already" (not in a state this act applies to: a second press)."""
    status, action = CONTROLS[act]
    broadcast = await store.get(session, broadcast_id)
    if broadcast is None:
        return Done.refuse("gone")
    if broadcast.author_id != actor_id and not any_author:
        return Done.refuse("not_yours")
    if not await store.set_status(session, broadcast_id, status):
        return Done.refuse("already")
    await store.audit(
        session, actor_id=actor_id, action=action, subject=f"broadcast:{broadcast_id}"
    )
    return Done(changed={"broadcast": [broadcast_id]})
