"""Signing in to the staff desk and out of it, and the notices a front door without a Bot
queues for the bot to send.

The bot gives a link (`issue_link`, /meja); the desk spends it and opens a session
(`sign_in`); the person ends every session (`sign_out`, /keluar or the page). Who may sign in
is the front door's question (the role); a session remembers the role and regions it was
opened with, so the desk can end it when they change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from operations.notices import Notice
from storage import audit
from storage import desk as store

LINK_TTL = timedelta(minutes=10)
IDLE = timedelta(minutes=30)
LONGEST = timedelta(hours=12)


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def issue_link(session: AsyncSession, *, person_id: int, now: datetime) -> str:
    """A one-time sign-in token for this person (10 minutes); only its hash is kept."""
    token = new_token()
    await store.add_link(session, person_id=person_id, token=token, now=now, ttl=LINK_TTL)
    return token


@dataclass(frozen=True)
class SignedIn:
    person_id: int
    token: str  # the cookie's value
    csrf: str


async def spend_link(session: AsyncSession, *, token: str, now: datetime) -> int | None:
    """The person a link is for, spending it (None: unknown, used or expired)."""
    return await store.spend_link(session, token=token, now=now)


async def spend_proof(
    session: AsyncSession, *, proof: str, person_id: int, now: datetime, ttl: timedelta
) -> bool:
    """A Mini App's init data, used once: False when it was used before."""
    return await store.spend_proof(session, proof=proof, person_id=person_id, now=now, ttl=ttl)


async def open_session(
    session: AsyncSession,
    *,
    person_id: int,
    role: str,
    scope: list[str] | None,
    now: datetime,
) -> SignedIn:
    """A desk session for a person the front door checked, audited."""
    signed = SignedIn(person_id, new_token(), secrets.token_urlsafe(24))
    await store.add_session(
        session,
        person_id=person_id,
        token=signed.token,
        role=role,
        scope=scope,
        csrf=signed.csrf,
        now=now,
    )
    await audit.audit(
        session, actor_id=person_id, action="desk.sign_in", subject=f"person:{person_id}",
        details={"role": role},
    )  # fmt: skip
    return signed


async def sign_out(session: AsyncSession, *, person_id: int, now: datetime) -> int:
    """End every desk session of this person; how many were open."""
    ended = await store.end(session, person_id=person_id, now=now)
    if ended:
        await audit.audit(
            session, actor_id=person_id, action="desk.sign_out", subject=f"person:{person_id}",
            details={"sessions": ended},
        )  # fmt: skip
    return ended


async def end_session(
    session: AsyncSession, *, session_id: int, person_id: int, now: datetime
) -> None:
    """End one desk session (its sign-out button), audited."""
    if await store.end(session, session_id=session_id, now=now):
        await audit.audit(
            session, actor_id=person_id, action="desk.sign_out", subject=f"person:{person_id}",
            details={"sessions": 1},
        )  # fmt: skip


def expired(created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
    """A session idle for 30 minutes, or open for 12 hours, is over."""
    return now - last_seen_at >= IDLE or now - created_at >= LONGEST


async def queue_notices(session: AsyncSession, notices: list[Notice], *, now: datetime) -> int:
    """Write an operation's notices as outbox rows in the caller's transaction: the bot renders
    them in each person's language and sends them (bot/notice_sender.py)."""
    rows = [
        {"person_id": n.to, "message": n.message, "args": dict(n.args)}
        for n in notices
        if n.to is not None
    ]
    await store.add_notices(session, rows, now=now)
    return len(rows)
