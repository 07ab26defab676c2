"""Roles and one-time role invitations.

A person has one role (`people.role`) and, for a coordinator or reviewer, the regions it is
scoped to (`people.scope_regions`; None: everywhere). An admin gives a role either directly or
with an invitation link: a `role_invites` row whose random token is the link's secret, good
once, until it expires or is revoked. Taking it is one conditional UPDATE, so a double tap, or
two people opening the same link at once, use it once. The callers audit every change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Person, Role, RoleInvite, utcnow

_I = RoleInvite.__table__
_P = Person.__table__

INVITE_TTL = timedelta(hours=72)
TOKEN_BYTES = 12  # 16 url-safe characters: 96 random bits
PRIVILEGED = (Role.ADMIN.value, Role.COORDINATOR.value, Role.STAFF.value)


def new_token() -> str:
    """A random, url-safe token (letters, digits, "-" and "_"), fit for a /start payload."""
    return secrets.token_urlsafe(TOKEN_BYTES)


async def create_invite(
    session: AsyncSession,
    *,
    role: Role | str,
    regions: list[str] | None,
    created_by: int | None,
    ttl: timedelta = INVITE_TTL,
    now: datetime | None = None,
) -> RoleInvite:
    """A new invitation for `role` (an admin's is never scoped), valid for `ttl`."""
    role = Role(role)
    if role == Role.RETURNEE:
        raise ValueError("an invitation gives a role")
    now = now or utcnow()
    values = {
        "token": new_token(),
        "role": role.value,
        "regions": None if role == Role.ADMIN else regions,
        "created_by": created_by,
        "created_at": now,
        "expires_at": now + ttl,
        "used_by": None,
        "used_at": None,
        "revoked_at": None,
    }
    values["id"] = await repo._insert(session, _I, values)
    return repo._record(RoleInvite, values)


async def recent_invite(
    session: AsyncSession,
    *,
    created_by: int,
    role: Role | str,
    regions: list[str] | None,
    since: datetime,
) -> RoleInvite | None:
    """This admin's open invitation for the same role and regions made since `since`: a double
    tap on the scope button shows it again instead of making a second live link."""
    role = Role(role)
    wanted = None if role == Role.ADMIN else (regions or None)
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_I)
        .where(
            _I.c.created_by == created_by,
            _I.c.role == role.value,
            _I.c.created_at >= since,
            _I.c.used_at.is_(None),
            _I.c.revoked_at.is_(None),
        )
        .order_by(_I.c.id.desc())
    )
    for row in rows:
        if (row.regions or None) == wanted:
            return repo._record(RoleInvite, dict(row._mapping))
    return None


async def invite(session: AsyncSession, *, invite_id: int) -> RoleInvite | None:
    connection = await repo._connection(session)
    row = (await connection.execute(select(_I).where(_I.c.id == invite_id))).first()
    return repo._record(RoleInvite, dict(row._mapping)) if row is not None else None


async def invite_by_token(session: AsyncSession, token: str) -> RoleInvite | None:
    """The invitation with this token, whatever its state (to say why it cannot be used)."""
    connection = await repo._connection(session)
    row = (await connection.execute(select(_I).where(_I.c.token == token))).first()
    return repo._record(RoleInvite, dict(row._mapping)) if row is not None else None


async def take_invite(
    session: AsyncSession, *, token: str, person_id: int, now: datetime | None = None
) -> RoleInvite | None:
    """Spend the invitation for this person if it is unused, not revoked and not expired: one
    UPDATE … RETURNING, so only one of two presses (or two people) gets it. None otherwise.
    The caller gives the role (`grant`) in the same transaction."""
    now = now or utcnow()
    connection = await repo._connection(session)
    row = (
        await connection.execute(
            update(_I)
            .where(
                _I.c.token == token,
                _I.c.used_at.is_(None),
                _I.c.revoked_at.is_(None),
                _I.c.expires_at > now,
            )
            .values(used_by=person_id, used_at=now)
            .returning(*_I.c)
        )
    ).first()
    return repo._record(RoleInvite, dict(row._mapping)) if row is not None else None


async def revoke_invite(
    session: AsyncSession, *, invite_id: int, now: datetime | None = None
) -> bool:
    """Cancel an invitation not used yet; False when it was used or revoked already."""
    connection = await repo._connection(session)
    row = (
        await connection.execute(
            update(_I)
            .where(_I.c.id == invite_id, _I.c.used_at.is_(None), _I.c.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
            .returning(_I.c.id)
        )
    ).first()
    return row is not None


@dataclass(frozen=True)
class Holder:
    """Someone with a role (or an admin by the settings), as the list of roles shows them."""

    person_id: int
    telegram_id: int
    name: str | None
    role: str
    scope: list[str] | None
    locale: str | None = None


_HOLDER = (_P.c.id, _P.c.telegram_id, _P.c.name, _P.c.role, _P.c.scope_regions, _P.c.locale)


def _holder(row: Any) -> Holder:
    return Holder(row.id, row.telegram_id, row.name, row.role, row.scope_regions, row.locale)


_ROLE_ORDER = {Role.ADMIN.value: 0, Role.COORDINATOR.value: 1, Role.STAFF.value: 2}


async def people_with_roles(
    session: AsyncSession, *, also_telegram_ids: frozenset[int] | set[int] = frozenset()
) -> list[Holder]:
    """Everyone with a role other than returnee (and the people with these Telegram ids, e.g.
    the admins of the settings, whatever their row says): admins, coordinators, reviewers,
    each by name."""
    connection = await repo._connection(session)
    wanted = _P.c.role.in_(PRIVILEGED)
    if also_telegram_ids:
        wanted = wanted | _P.c.telegram_id.in_(sorted(also_telegram_ids))
    rows = await connection.execute(select(*_HOLDER).where(wanted))
    found = [_holder(r) for r in rows]
    found.sort(key=lambda h: (_ROLE_ORDER.get(h.role, 3), (h.name or "").casefold(), h.person_id))
    return found


async def holder(session: AsyncSession, *, person_id: int) -> Holder | None:
    connection = await repo._connection(session)
    row = (await connection.execute(select(*_HOLDER).where(_P.c.id == person_id))).first()
    return _holder(row) if row is not None else None


async def admins_by_row(session: AsyncSession, *, lock: bool = False) -> int:
    """How many people are admins by their row (not counting the settings' ADMIN_IDS).
    `lock`: hold their rows until the commit (PostgreSQL), so two admins stepping down at
    once cannot both be the last but one."""
    connection = await repo._connection(session)
    if lock and connection.dialect.name == "postgresql":
        ids = await connection.execute(
            select(_P.c.id).where(_P.c.role == Role.ADMIN.value).with_for_update()
        )
        return len(ids.all())
    query = select(func.count()).select_from(_P).where(_P.c.role == Role.ADMIN.value)
    return int((await connection.execute(query)).scalar_one())


async def grant(
    session: AsyncSession, *, person_id: int, role: Role | str, regions: list[str] | None
) -> None:
    """Give a role with its regions (an admin's: none; a returnee's: none)."""
    role = Role(role)
    scope = None if role in (Role.ADMIN, Role.RETURNEE) else regions
    await repo.set_role(session, person_id=person_id, role=role.value, regions=scope)


async def revoke(session: AsyncSession, *, person_id: int) -> None:
    """Back to returnee, with no regions."""
    await repo.set_role(session, person_id=person_id, role=Role.RETURNEE.value, regions=None)


async def open_invites(
    session: AsyncSession, *, now: datetime, limit: int = 100
) -> list[RoleInvite]:
    """Invitations still usable (not used, revoked or expired), newest first."""
    connection = await repo._connection(session)
    rows = await connection.execute(
        select(_I)
        .where(_I.c.used_at.is_(None), _I.c.revoked_at.is_(None), _I.c.expires_at > now)
        .order_by(_I.c.id.desc())
        .limit(limit)
    )
    return [repo._record(RoleInvite, dict(row._mapping)) for row in rows]
