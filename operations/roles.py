"""Roles and role invitations: give, narrow or remove someone's role, make or cancel a one-time
invitation. The bot's /peran, `juragan role` and the desk's roles page all change roles here.

A change of role or regions ends the person's desk sessions at once (in the same transaction),
so a narrowed or revoked reviewer's open browser tab shows nothing more. Every change is
audited by ids and roles only (never a name, never an invitation's token). The person whose
role changed is told ("role.granted", "role.ended"), unless they made the change themselves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from operations.notices import Done
from storage import audit
from storage import desk as desk_store
from storage import roles as store
from storage.models import Role, RoleInvite

SCOPED = (Role.COORDINATOR, Role.STAFF)


def scope_of(role: Role, regions: list[str] | None) -> list[str] | None:
    """The regions a role keeps: none for an admin or a returnee."""
    return None if role in (Role.ADMIN, Role.RETURNEE) else regions


async def grant(
    session: AsyncSession,
    *,
    actor_id: int | None,
    person_id: int,
    role: Role | str,
    regions: list[str] | None,
    now: datetime,
    via: str,
    settings_admins: frozenset[int] = frozenset(),
    action: str = "role.grant",
    tell: bool = True,
    invite_id: int | None = None,
) -> Done:
    """Give `role` with `regions` (None: everywhere). Refused: "no_regions" (a scoped role with
    an empty list: that would be nowhere), "no_person", "settings_admin" (an admin by the
    settings' ADMIN_IDS, `settings_admins`, is not changed here), "unchanged", "last_admin"
    (the only admin by row stepping down)."""
    role = Role(role)
    if role in SCOPED and regions is not None and not regions:
        return Done.refuse("no_regions")
    holder = await store.holder(session, person_id=person_id)
    if holder is None:
        return Done.refuse("no_person")
    if holder.telegram_id in settings_admins:
        return Done.refuse("settings_admin")
    scope = scope_of(role, regions)
    if holder.role == role.value and (holder.scope or None) == (scope or None):
        return Done.refuse("unchanged")
    if role != Role.ADMIN and await _last_admin(session, holder, actor_id):
        return Done.refuse("last_admin")
    await store.grant(session, person_id=person_id, role=role, regions=scope)
    await desk_store.end(session, person_id=person_id, now=now)
    details: dict[str, object] = {
        "role": role.value, "regions": scope, "before": holder.role, "via": via,
    }  # fmt: skip
    if invite_id is not None:
        details["invite_id"] = invite_id
    await audit.audit(
        session, actor_id=actor_id, action=action, subject=f"person:{person_id}", details=details
    )
    done = Done(changed={"person": [person_id]})
    if tell and actor_id != person_id:
        message = "role.ended" if role == Role.RETURNEE else "role.granted"
        done.tell(person_id, message, role=role.value, regions=scope, before=holder.role)
    return done


async def revoke(
    session: AsyncSession,
    *,
    actor_id: int | None,
    person_id: int,
    now: datetime,
    via: str,
    settings_admins: frozenset[int] = frozenset(),
) -> Done:
    """Back to returnee (no regions); refused like `grant`."""
    holder = await store.holder(session, person_id=person_id)
    if holder is None:
        return Done.refuse("no_person")
    if holder.telegram_id in settings_admins:
        return Done.refuse("settings_admin")
    if holder.role == Role.RETURNEE.value:
        return Done.refuse("unchanged")
    if await _last_admin(session, holder, actor_id):
        return Done.refuse("last_admin")
    await store.revoke(session, person_id=person_id)
    await desk_store.end(session, person_id=person_id, now=now)
    await audit.audit(
        session, actor_id=actor_id, action="role.revoke", subject=f"person:{person_id}",
        details={"role": holder.role, "regions": holder.scope, "via": via},
    )  # fmt: skip
    done = Done(changed={"person": [person_id]})
    if actor_id != person_id:
        done.tell(person_id, "role.ended", role=Role.RETURNEE.value, regions=None,
                  before=holder.role)  # fmt: skip
    return done


async def _last_admin(session: AsyncSession, holder: store.Holder, actor_id: int | None) -> bool:
    """An admin by row taking their own admin role away while the only one (rows locked until
    the commit, so two stepping down at once cannot both pass). Demoting another admin leaves
    the actor, an admin too."""
    if holder.role != Role.ADMIN.value or holder.person_id != actor_id:
        return False
    return await store.admins_by_row(session, lock=True) <= 1


async def invite(
    session: AsyncSession,
    *,
    actor_id: int,
    role: Role | str,
    regions: list[str] | None,
    now: datetime,
) -> RoleInvite | None:
    """A new one-time invitation for `role` (None: a scoped role with an empty region list),
    audited by its id, role and regions."""
    role = Role(role)
    if role == Role.RETURNEE or (role in SCOPED and regions is not None and not regions):
        return None
    made = await store.create_invite(
        session, role=role, regions=scope_of(role, regions), created_by=actor_id, now=now
    )
    await audit.audit(
        session, actor_id=actor_id, action="role.invite", subject=f"invite:{made.id}",
        details={"role": role.value, "regions": made.regions,
                 "expires_at": made.expires_at.isoformat()},
    )  # fmt: skip
    return made


async def cancel_invite(
    session: AsyncSession, *, actor_id: int, invite_id: int, now: datetime
) -> Done:
    """Withdraw an invitation not used yet; refused "gone" when unknown, used or cancelled."""
    found = await store.invite(session, invite_id=invite_id)
    if found is None or not await store.revoke_invite(session, invite_id=invite_id, now=now):
        return Done.refuse("gone")
    await audit.audit(
        session, actor_id=actor_id, action="role.invite_revoke", subject=f"invite:{invite_id}",
        details={"role": found.role, "regions": found.regions},
    )  # fmt: skip
    return Done(changed={"invite": [invite_id]})
