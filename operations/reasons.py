"""The office's reason templates: added, changed and retired by staff at the desk, audited
(the audit names the template and its region, never its text)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flows import regions
from operations.notices import Done
from storage import audit
from storage import reasons as store
from storage.models import ReasonTemplate

# --- which template applies where (the desk's decision forms and the bot's /tinjau alike) ------


def visible(template: ReasonTemplate, scope: Sequence[str] | None) -> bool:
    """National, or its region overlaps the reviewer's regions (holds or is held by one)."""
    code = template.region_code
    if code is None or scope is None:
        return True
    return regions.inside(code, scope) or any(regions.inside(s, [code]) for s in scope)


def fits(template: ReasonTemplate, place: str | None) -> bool:
    """Usable on a submission at `place`: national, or its region holds the place."""
    return template.region_code is None or regions.inside(place, [template.region_code])


async def usable(session: AsyncSession, scope: Sequence[str] | None) -> list[ReasonTemplate]:
    """Every template in use that a reviewer with these regions sees."""
    return [tpl for tpl in await store.templates(session) if visible(tpl, scope)]


def offered(templates: list[ReasonTemplate], *, action: str | None = None,
            place: Any = ...) -> list[ReasonTemplate]:  # fmt: skip
    """Those for `action` (None: both) that fit `place` (left out: any place)."""
    return [
        tpl
        for tpl in templates
        if (action is None or tpl.action == action) and (place is ... or fits(tpl, place))
    ]


async def applicable(
    session: AsyncSession,
    template_id: int,
    *,
    scope: Sequence[str] | None,
    action: str,
    places: Sequence[str | None],
) -> ReasonTemplate | None:
    """The template, if it may give the reason for this decision: in use, for this action,
    seen by the reviewer and fitting every submission's place; else None."""
    template = await store.get(session, template_id)
    if (
        template is None
        or template.retired_at is not None
        or template.action != action
        or not visible(template, scope)
        or not all(fits(template, p) for p in places)
    ):
        return None
    return template


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
