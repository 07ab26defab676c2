"""The admin's pages at the desk: roles and invitations, and the audit log.

Roles: everyone with a role and their regions; give, narrow or remove a role and make or
withdraw a one-time invitation, each through `operations.roles` as /peran and `juragan role`
do (audited; the person's desk sessions end at once; they are told through the bot). A scoped
role (coordinator, reviewer) needs "everywhere" or at least one region: an empty list is
refused, never taken as everywhere.

Audit log: a table newest first, filtered by action, actor and period, a page at a time by
keyset. The log holds no NIK, phone or message text (storage.audit refuses such details).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot import roles
from bot.config import Settings
from bot.handlers.audit import KINDS as AUDIT_KINDS
from bot.handlers.audit import LABELS
from bot.handlers.roles import ROLE_NAMES
from bot.text import moment, t
from desk.app import DB, SETTINGS, VIEWER, Viewer, render, see_other, sign_in_first, url
from desk.app import refused as refuse_page
from flows import clock, regions
from flows.i18n import N_
from operations import desk as outbox
from operations import roles as operations
from storage import audit
from storage import roles as store
from storage.models import Role

log = logging.getLogger(__name__)
AUDIT_PAGE = 50
ACTION = re.compile(r"[a-z][a-z_.]{0,39}(,[a-z][a-z_.]{0,39}){0,5}")  # offered, or typed
ROLE_CHOICES = (Role.COORDINATOR, Role.STAFF, Role.ADMIN)
REFUSALS = {
    "no_regions": N_("Please choose at least one region, or everywhere."),
    "unchanged": N_("Already done."),
    "last_admin": N_(
        "You are the only admin. Give someone else the admin role first, then you can step down."
    ),
    "settings_admin": N_(
        "This admin is set in the settings (ADMIN_IDS) and cannot be changed here."
    ),
    "no_person": N_("That person is not here."),
}
DONE = {
    "grant": N_("Done: the role is changed. Their desk sessions have ended; they will be told."),
    "revoke": N_("Done: the role is removed. Their desk sessions have ended; they will be told."),
    "cancel": N_("The link was cancelled: it no longer works."),
}
_USERNAMES: dict[str, str | None] = {}  # the bot's @username by Bot API address, once asked


def _admin(request: web.Request, action: str) -> Viewer | web.Response:
    viewer: Viewer | None = request.get(VIEWER)  # type: ignore[assignment]
    if viewer is None:
        return sign_in_first(request)
    if not viewer.may(action):
        log.warning("desk: refused %s for role %s", action, viewer.role)
        return refuse_page(request, t(roles.ACTIONS[action][1]), 403)
    return viewer


def role_name(role: str) -> str:
    try:
        return t(ROLE_NAMES[Role(role)])
    except (KeyError, ValueError):
        return role


def scope_text(scope: list[str] | None) -> str:
    if scope is None:
        return t("everywhere")
    names = [regions.display_name(c) if regions.get(c) else c for c in scope]
    return "; ".join(names) if names else t("nowhere yet")


def region_tree() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Every province with its regencies, for the regions a role may be scoped to."""
    return [
        (p.code, p.name, [(r.code, r.name) for r in regions.regencies(p.code)])
        for p in regions.provinces()
    ]


def _int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _scope_from(form: Any, role: Role) -> tuple[bool, list[str] | None]:
    """(valid, regions) from the form; an empty "only these" list stays empty (refused later),
    an unknown code makes it invalid (forged)."""
    if role == Role.ADMIN:
        return True, None
    where = str(form.get("where", ""))
    if where == "all":
        return True, None
    if where != "some":
        return False, None
    codes: list[str] = []
    for code in form.getall("regions", []):
        if not isinstance(code, str) or regions.get(code) is None:
            return False, None
        if code not in codes:
            codes.append(code)
    return True, codes


def _role_from(form: Any) -> Role | None:
    raw = str(form.get("role", ""))
    return next((r for r in ROLE_CHOICES if r.value == raw), None)


# --- roles -----------------------------------------------------------------------------------


async def _list(request: web.Request, viewer: Viewer, *, made: dict[str, Any] | None = None,
                error: str = "", status: int = 200) -> web.Response:  # fmt: skip
    settings: Settings = request.app[SETTINGS]
    db, now = request[DB], clock.now()
    holders = await store.people_with_roles(db, also_telegram_ids=settings.admin_ids)
    people = []
    for h in holders:
        by_settings = h.telegram_id in settings.admin_ids
        role = Role.ADMIN.value if by_settings else h.role
        people.append({
            "id": h.person_id, "name": h.name or t("(no name yet)"), "role": role_name(role),
            "regions": "—" if role == Role.ADMIN.value else scope_text(h.scope),
            "by_settings": by_settings,
        })  # fmt: skip
    invites = await store.open_invites(db, now=now)
    makers = await audit.actor_names(db, (i.created_by for i in invites if i.created_by))
    tz = regions.zone_of(viewer.person.province_code)
    shown = [
        {
            "id": i.id, "role": role_name(i.role),
            "regions": "—" if i.role == Role.ADMIN.value else scope_text(i.regions),
            "by": (makers.get(i.created_by) or f"#{i.created_by}") if i.created_by else "—",
            "until": moment(i.expires_at, tz),
        }
        for i in invites
    ]  # fmt: skip
    return render(
        request,
        "roles.html",
        {
            "people": people,
            "invites": shown,
            "roles": [(r.value, role_name(r.value)) for r in ROLE_CHOICES],
            "tree": region_tree(),
            "made": made,
            "error": error,
            "done": t(DONE[request.query["done"]]) if request.query.get("done") in DONE else "",
        },
        status=status,
    )


async def roles_page(request: web.Request) -> web.Response:
    viewer = _admin(request, "roles")
    if isinstance(viewer, web.Response):
        return viewer
    return await _list(request, viewer)


async def _holder_page(request: web.Request, viewer: Viewer, person_id: int, *, error: str = "",
                       status: int = 200) -> web.Response:  # fmt: skip
    settings: Settings = request.app[SETTINGS]
    holder = await store.holder(request[DB], person_id=person_id)
    if holder is None:
        return refuse_page(request, t(REFUSALS["no_person"]), 404)
    return render(
        request,
        "role_person.html",
        {
            "h": holder,
            "name": holder.name or t("(no name yet)"),
            "role": role_name(holder.role),
            "regions": scope_text(holder.scope),
            "scope": holder.scope or [],
            "has_role": holder.role != Role.RETURNEE.value,
            "by_settings": holder.telegram_id in settings.admin_ids,
            "roles": [(r.value, role_name(r.value)) for r in ROLE_CHOICES],
            "tree": region_tree(),
            "error": error,
        },
        status=status,
    )


async def person_page(request: web.Request) -> web.Response:
    viewer = _admin(request, "roles")
    if isinstance(viewer, web.Response):
        return viewer
    person_id = _int(request.match_info["id"])
    if person_id is None:
        return refuse_page(request, t(REFUSALS["no_person"]), 404)
    return await _holder_page(request, viewer, person_id)


async def change(request: web.Request) -> web.Response:
    """Give (or narrow) a role, or remove it, through operations.roles."""
    viewer = _admin(request, "roles")
    if isinstance(viewer, web.Response):
        return viewer
    person_id = _int(request.match_info["id"])
    if person_id is None:
        return refuse_page(request, t(REFUSALS["no_person"]), 404)
    settings: Settings = request.app[SETTINGS]
    form = await request.post()
    db, now = request[DB], clock.now()
    what = str(form.get("do", ""))
    if what == "revoke":
        done = await operations.revoke(
            db, actor_id=viewer.person.id, person_id=person_id, now=now, via="desk",
            settings_admins=settings.admin_ids,
        )  # fmt: skip
    elif what == "grant":
        role = _role_from(form)
        valid, scope = _scope_from(form, role) if role is not None else (False, None)
        if role is None or not valid:
            log.warning("desk: refused a role form with a value the form does not offer")
            return refuse_page(request, t("That filter is not one the page offers."), 400)
        done = await operations.grant(
            db, actor_id=viewer.person.id, person_id=person_id, role=role, regions=scope,
            now=now, via="desk", settings_admins=settings.admin_ids,
        )  # fmt: skip
    else:
        return refuse_page(request, t("Please choose a decision."), 400)
    if not done.ok:
        why = done.refused or "no_person"
        code = {"no_person": 404, "unchanged": 409, "last_admin": 409}.get(why, 400)
        return await _holder_page(request, viewer, person_id, error=t(REFUSALS[why]), status=code)
    await outbox.queue_notices(db, done.notices, now=now)
    return see_other(url(request, f"peran?done={what}"))


async def bot_username(app: web.Application) -> str | None:
    """The bot's @username for invitation links, asked of Telegram once (None: no token, or
    Telegram did not answer; the page then gives the /start command instead)."""
    settings: Settings = app[SETTINGS]
    if settings.telegram_api_url in _USERNAMES:
        return _USERNAMES[settings.telegram_api_url]
    name = None
    if settings.bot_token is not None:
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        bot = Bot(token=settings.bot_token.get_secret_value(), session=session)
        try:
            name = (await asyncio.wait_for(bot.me(), timeout=5)).username
        except Exception as exc:  # noqa: BLE001 - any failure: the page shows the command
            log.warning("desk: could not ask Telegram for the bot's name: %s", type(exc).__name__)
        finally:
            await session.close()
    _USERNAMES[settings.telegram_api_url] = name
    return name


async def make_invite(request: web.Request) -> web.Response:
    """A new one-time invitation, its link shown once on the page it returns (never put in an
    address)."""
    viewer = _admin(request, "roles")
    if isinstance(viewer, web.Response):
        return viewer
    form = await request.post()
    role = _role_from(form)
    valid, scope = _scope_from(form, role) if role is not None else (False, None)
    if role is None or not valid:
        log.warning("desk: refused an invitation form with a value the form does not offer")
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    now = clock.now()
    made = await operations.invite(
        request[DB], actor_id=viewer.person.id, role=role, regions=scope, now=now
    )
    if made is None:
        return await _list(request, viewer, error=t(REFUSALS["no_regions"]), status=400)
    name = await bot_username(request.app)
    tz = regions.zone_of(viewer.person.province_code)
    return await _list(request, viewer, made={
        "link": f"https://t.me/{name}?start=role-{made.token}" if name else "",
        "command": f"/start role-{made.token}",
        "role": role_name(made.role),
        "regions": "—" if role == Role.ADMIN else scope_text(made.regions),
        "until": moment(made.expires_at, tz),
    })  # fmt: skip


async def cancel_invite(request: web.Request) -> web.Response:
    viewer = _admin(request, "roles")
    if isinstance(viewer, web.Response):
        return viewer
    invite_id = _int(request.match_info["id"])
    done = (
        await operations.cancel_invite(
            request[DB], actor_id=viewer.person.id, invite_id=invite_id, now=clock.now()
        )
        if invite_id is not None
        else None
    )
    if done is None or not done.ok:
        return await _list(request, viewer, error=t("That link was already used or cancelled."),
                           status=409)  # fmt: skip
    return see_other(url(request, "peran?done=cancel"))


# --- the audit log ---------------------------------------------------------------------------


def action_choices() -> list[tuple[str, str]]:
    """The kinds of /audit, then every action it names."""
    groups = [(",".join(actions), t(label)) for label, actions in AUDIT_KINDS.values() if actions]
    groups += [("training", t("Training")), ("desk", t("Staff desk"))]
    return groups + [(action, f"· {t(label)}") for action, label in LABELS.items()]


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None


def _midnight(value: date, tz: str) -> datetime:
    return datetime.combine(value, time(), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def details_text(details: Any) -> str:
    """key=value pairs (the log holds no sensitive value: storage.audit refuses them)."""
    if not isinstance(details, dict):
        return "" if details is None else json.dumps(details, ensure_ascii=False)
    parts = []
    for key, value in details.items():
        if not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        parts.append(f"{key}={value}")
    return ", ".join(parts)


async def audit_page(request: web.Request) -> web.Response:
    viewer = _admin(request, "audit")
    if isinstance(viewer, web.Response):
        return viewer
    q = request.query
    action, actor = str(q.get("action", "")), str(q.get("actor", ""))
    since_raw, until_raw, before_raw = (str(q.get(k, "")) for k in ("since", "until", "before"))
    since, until = _day(since_raw), _day(until_raw)
    before = _int(before_raw) if before_raw else None
    if (
        (action and ACTION.fullmatch(action) is None)
        or (actor and actor != "system" and _int(actor) is None)
        or (since_raw and since is None)
        or (until_raw and until is None)
        or (before_raw and before is None)
    ):
        log.warning("desk: refused an audit filter that the page does not offer")
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    tz = regions.zone_of(viewer.person.province_code)
    db = request[DB]
    found = await audit.page(
        db,
        actions=tuple(action.split(",")) if action else (),
        actor_id=_int(actor) if actor and actor != "system" else None,
        system=actor == "system",
        since=_midnight(since, tz) if since else None,
        until=_midnight(until + timedelta(days=1), tz) if until else None,
        before=before,
        limit=AUDIT_PAGE + 1,
    )
    names = await audit.actor_names(db, (e.actor_id for e in found if e.actor_id is not None))
    rows = [
        {
            "at": moment(e.at, tz),
            "who": (f"{names.get(e.actor_id) or '—'} (#{e.actor_id})" if e.actor_id is not None
                    else t("system")),
            "what": t(LABELS[e.action]) if e.action in LABELS else e.action,
            "subject": e.subject,
            "details": details_text(e.details),
        }
        for e in found[:AUDIT_PAGE]
    ]  # fmt: skip
    return render(
        request,
        "audit.html",
        {
            "rows": rows,
            "more": found[AUDIT_PAGE - 1].id if len(found) > AUDIT_PAGE else None,
            "actions": action_choices(),
            "actors": [(str(i), f"{n or '—'} (#{i})") for i, n in await audit.actors(db)],
            "f": {"action": action, "actor": actor, "since": since_raw, "until": until_raw},
        },
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/peran", roles_page, name="desk.roles")
    app.router.add_post("/peran/undangan", make_invite, name="desk.roles.invite")
    app.router.add_post("/peran/undangan/{id}/batal", cancel_invite, name="desk.roles.uninvite")
    app.router.add_get("/peran/{id}", person_page, name="desk.roles.person")
    app.router.add_post("/peran/{id}", change, name="desk.roles.change")
    app.router.add_get("/audit", audit_page, name="desk.audit")
