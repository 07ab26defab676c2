"""The office's reason templates: added, changed and retired by staff at the desk, audited
(the audit names the template and its region, never its text)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from operations.notices import Done
from storage import audit
from storage import reasons as store


async def add(session: AsyncSession, *, actor_id: int, action: str, region_code: str | None,
              locale: str, title: str, body: str, now: datetime) -> Done:  # fmt: skip
    if action not in store.ACTIONS:
        raise ValueError(f"not a template's action: {action}")
    template_id = await store.add(
        session, action=action, region_code=region_code, locale=locale, title=title, body=body,
        created_by=actor_id, now=now,
    )  # fmt: skip
    await audit.audit(
        session, actor_id=actor_id, action="reason.add", subject=f"reason:{template_id}",
        details={"for": action, "region": region_code},
    )  # fmt: skip
    return Done(changed={"reason": [template_id]})


async def change(session: AsyncSession, *, actor_id: int, template_id: int, locale: str,
                 title: str, body: str, now: datetime) -> Done:  # fmt: skip
    """New words for a template in use; refused "retired" when it is no longer."""
    if not await store.change(session, template_id, now=now, locale=locale, title=title, body=body):
        return Done.refuse("retired")
    await audit.audit(session, actor_id=actor_id, action="reason.change",
                      subject=f"reason:{template_id}")  # fmt: skip
    return Done(changed={"reason": [template_id]})


async def retire(session: AsyncSession, *, actor_id: int, template_id: int,
                 now: datetime) -> Done:  # fmt: skip
    """Offered no more (kept for the record); refused "retired" when it already was."""
    if not await store.change(session, template_id, now=now, retired_at=now):
        return Done.refuse("retired")
    await audit.audit(session, actor_id=actor_id, action="reason.retire",
                      subject=f"reason:{template_id}")  # fmt: skip
    return Done(changed={"reason": [template_id]})
