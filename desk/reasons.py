"""The reasons the office keeps for rejecting and returning submissions: a page where staff and
admins add, edit and retire them (national ones only by an unscoped reviewer, a region's by
one whose regions hold it), and the helpers that offer them when deciding.

A template is offered on a submission when it is national or its region holds the
submission's place; the reviewer may edit its words before deciding (what they send is what
the returnee reads).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import roles
from bot.config import LOCALES
from bot.text import t
from desk.app import DB, VIEWER, Viewer, render, see_other, sign_in_first, url
from desk.app import refused as refuse_page
from flows import clock, regions, validators
from flows.errors import Invalid
from flows.i18n import N_
from operations import reasons as ops
from operations.reasons import visible  # the rules, shared with the bot's /tinjau
from storage import reasons as store
from storage.models import ReasonTemplate

log = logging.getLogger(__name__)
TITLE_MAX = 80
NO_TEMPLATE = N_("That reason template cannot be used here. Please choose another one.")


async def usable(db: AsyncSession, viewer: Viewer) -> list[ReasonTemplate]:
    return await ops.usable(db, viewer.scope)


async def chosen(
    db: AsyncSession,
    viewer: Viewer,
    form: Any,
    *,
    action: str,
    places: list[str | None],
    validate: Callable[[str], str],
) -> str:
    """The reason a decision's form gives: its typed (or edited) text, else the chosen
    template's words. A template must be in use, for this action, and fit every place."""
    raw = str(form.get("template", ""))
    template = None
    if raw:
        if raw.isdigit() and len(raw) < 12:
            template = await ops.applicable(
                db, int(raw), scope=viewer.scope, action=action, places=places
            )
        if template is None:
            log.warning("desk: refused a reason template that does not apply")
            raise Invalid(NO_TEMPLATE)
    typed = str(form.get("reason", ""))
    if not typed.strip() and template is not None:
        typed = template.body
    return validate(typed)


# --- the page ----------------------------------------------------------------------------------


def _keeper(request: web.Request) -> Viewer | web.Response:
    viewer: Viewer | None = request.get(VIEWER)  # type: ignore[assignment]
    if viewer is None:
        return sign_in_first(request)
    if not viewer.may("reasons"):
        log.warning("desk: refused the reason templates for role %s", viewer.role)
        return refuse_page(request, t("Sorry, only reviewers can do that."), 403)
    return viewer


def _region_options(viewer: Viewer) -> list[tuple[str, str]]:
    """Where a new template may apply: nationwide (an unscoped reviewer only) or a region
    inside the reviewer's."""
    from desk.review import region_choices

    found = [("", t("Nationwide"))] if viewer.scope is None else []
    return found + region_choices(viewer)


async def page(request: web.Request, *, error: str = "", status: int = 200,
               form: Any = None) -> web.Response:  # fmt: skip
    viewer = _keeper(request)
    if isinstance(viewer, web.Response):
        return viewer
    rows = [
        {
            "t": tpl,
            "region": regions.display_name(tpl.region_code) if tpl.region_code else t("Nationwide"),
            "editable": viewer.may("reasons", tpl.region_code),
        }
        for tpl in await usable(request[DB], viewer)
    ]
    return render(
        request,
        "reasons.html",
        {
            "rows": rows,
            "regions": _region_options(viewer),
            "locales": [(code, code.upper()) for code in LOCALES],
            "error": error,
            "form": form or {},
            "saved": request.query.get("saved") == "1",
        },
        status=status,
    )


def _words(form: Any) -> tuple[str, str, str]:
    """(locale, title, body) from a form, validated (raises Invalid)."""
    locale = str(form.get("locale", ""))
    if locale not in LOCALES:
        raise Invalid(N_("Please choose a language."))
    title = validators.text(str(form.get("title", "")), min_len=3, max_len=TITLE_MAX)
    body = validators.text(str(form.get("body", "")), min_len=5, max_len=500)
    return locale, title, body


async def add(request: web.Request) -> web.Response:
    viewer = _keeper(request)
    if isinstance(viewer, web.Response):
        return viewer
    form = await request.post()
    action = str(form.get("action", ""))
    region = str(form.get("region", "")) or None
    if action not in store.ACTIONS or (region and regions.get(region) is None):
        return await page(request, error=t("Please choose what the reason is for."), status=400,
                          form=form)  # fmt: skip
    if not viewer.may("reasons", region):
        log.warning("desk: refused a reason template outside the reviewer's regions")
        return refuse_page(request, t(roles.OUTSIDE), 403)
    try:
        locale, title, body = _words(form)
    except Invalid as exc:
        return await page(request, error=t(exc.msgid, **exc.params), status=400, form=form)
    await ops.add(request[DB], actor_id=viewer.person.id, action=action, region_code=region,
                  locale=locale, title=title, body=body, now=clock.now())  # fmt: skip
    return see_other(url(request, "tinjau/alasan?saved=1"))


async def change(request: web.Request) -> web.Response:
    """Save new words for a template, or retire it."""
    viewer = _keeper(request)
    if isinstance(viewer, web.Response):
        return viewer
    raw = request.match_info["id"]
    template = await store.get(request[DB], int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if template is None or not visible(template, viewer.scope):
        return refuse_page(request, t("That reason template is not one you keep."), 404)
    if not viewer.may("reasons", template.region_code):
        log.warning("desk: refused changing a reason template outside the reviewer's regions")
        return refuse_page(request, t(roles.OUTSIDE), 403)
    form = await request.post()
    db, now = request[DB], clock.now()
    if form.get("do") == "retire":
        done = await ops.retire(db, actor_id=viewer.person.id, template_id=template.id, now=now)
    else:
        try:
            locale, title, body = _words(form)
        except Invalid as exc:
            return await page(request, error=t(exc.msgid, **exc.params), status=400)
        done = await ops.change(db, actor_id=viewer.person.id, template_id=template.id,
                                locale=locale, title=title, body=body, now=now)  # fmt: skip
    if not done.ok:
        return await page(request, error=t("That reason template was already retired."),
                          status=409)  # fmt: skip
    return see_other(url(request, "tinjau/alasan?saved=1"))


def routes(app: web.Application) -> None:
    app.router.add_get("/tinjau/alasan", page, name="desk.reasons")
    app.router.add_post("/tinjau/alasan", add, name="desk.reasons.add")
    app.router.add_post("/tinjau/alasan/{id}", change, name="desk.reasons.change")
