"""The desk's aiohttp application: one database transaction per request, the signed-in person
read from their session (and the session ended when their role changed), a CSRF check on every
form, the page in the person's language, and safe headers on every answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiogram.utils.i18n import I18n
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import roles
from bot.config import LOCALES, Settings
from bot.text import moment, t
from flows import clock, regions
from operations import desk as signin
from storage import desk as store
from storage.models import Person, Role

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
COOKIE = "meja"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
TOUCH_EVERY = timedelta(minutes=1)  # a session's last_seen_at is written at most this often
NO_CSRF = {"desk.signin.post", "desk.miniapp.post"}  # these carry a one-time proof instead
STATIC = ("desk.css", "desk.js")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SETTINGS = web.AppKey("settings", Settings)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker)
I18N = web.AppKey("i18n", I18n)
BASE = web.AppKey("base", str)
DB = web.RequestKey("db", AsyncSession)
VIEWER = web.RequestKey("viewer", object)  # Viewer | None
LOCALE = web.RequestKey("locale", str)
ENDED = web.RequestKey("ended", str)  # why this browser's session ended, this request
SIGNED_OUT = web.RequestKey("signed_out", bool)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, with the role and regions read from the database this request."""

    person: Person
    role: Role
    scope: list[str] | None
    session_id: int
    csrf: str

    def may(self, action: str, region: Any = roles.UNTARGETED) -> bool:
        return roles.may(self.person, self.role, action, region)


def role_of(person: Person, settings: Settings) -> Role:
    """The role as the bot reads it: ADMIN_IDS make someone admin whatever their row says."""
    if person.telegram_id in settings.admin_ids:
        return Role.ADMIN
    try:
        return Role(person.role)
    except ValueError:
        return Role.RETURNEE


def url(request: web.Request, path: str = "") -> str:
    return str(request.app[BASE]) + path


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    viewer: Viewer | None = request.get(VIEWER)
    base = {
        "viewer": viewer,
        "csrf": viewer.csrf if viewer else "",
        "base": request.app[BASE],
        "lang": request.get(LOCALE, "id"),
    }
    return aiohttp_jinja2.render_template(template, request, {**base, **(context or {})},
                                          status=status)  # fmt: skip


def see_other(location: str) -> web.Response:
    """A redirect returned, not raised: a raised one would roll the request's changes back."""
    return web.Response(status=303, headers={"Location": location})


def refused(request: web.Request, message: str, status: int) -> web.Response:
    return render(request, "message.html", {"message": message}, status=status)


def sign_in_first(request: web.Request) -> web.Response:
    return render(request, "signed_out.html", {"why": request.get(ENDED)}, status=401)


async def _why_ended(request: web.Request, db: AsyncSession, token: str) -> str:
    """ "role" when the session was ended by a change of its person's role or regions (an admin
    ended it at once, operations.roles), else "gone"."""
    ended = await store.ended_with(db, token=token)
    if ended is None:
        return "gone"
    person = await db.get(Person, ended[0])
    if person is None:
        return "gone"
    role = role_of(person, request.app[SETTINGS])
    changed = role.value != ended[1] or roles.scope(person, role) != ended[2]
    return "role" if changed else "gone"


async def _viewer(request: web.Request, db: AsyncSession) -> Viewer | None:
    """The person this browser's session belongs to, if it is open and their role unchanged;
    an expired or outdated session is ended here (request[ENDED] says why)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found = await store.session_of(db, token=token)
    if found is None:
        request[ENDED] = await _why_ended(request, db, token)
        return None
    now = clock.now()
    settings: Settings = request.app[SETTINGS]
    person = await db.get(Person, found.person_id)
    role = role_of(person, settings) if person is not None else Role.RETURNEE
    scope = roles.scope(person, role) if person is not None else None
    why = None
    if signin.expired(found.created_at, found.last_seen_at, now):
        why = "expired"
    elif person is None or not roles.can(role, "desk") or role.value != found.role:
        why = "role"
    elif scope != found.scope_regions:
        why = "role"
    if why is not None or person is None:
        await store.end(db, session_id=found.id, now=now)
        log.info("desk session ended: %s", why)
        request[ENDED] = why
        return None
    if now - found.last_seen_at >= TOUCH_EVERY:
        await store.touch(db, found.id, now=now)
    return Viewer(person, role, scope, found.id, found.csrf)


# On every page and download: the policy, no sniffing, no framing, no referrer, no cache.
SAFE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One transaction per request; the viewer; the language; CSRF on every POST; headers."""
    route = request.match_info.route.name
    if not route or not route.startswith("desk."):  # a route of the server the desk is in
        return await handler(request)
    if route in STATIC:
        response = await handler(request)
        response.headers["Cache-Control"] = "public, max-age=3600"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    i18n: I18n = request.app[I18N]
    settings: Settings = request.app[SETTINGS]
    sessionmaker: async_sessionmaker[AsyncSession] = request.app[SESSIONMAKER]
    async with sessionmaker() as db, db.begin():
        request[DB] = db
        with i18n.context(), i18n.use_locale(settings.default_locale):
            viewer = await _viewer(request, db)
            request[VIEWER] = viewer
            mine = viewer.person.locale if viewer is not None else None
            locale = mine if mine in LOCALES else settings.default_locale
            request[LOCALE] = locale
            with i18n.use_locale(locale):
                response = await _checked(request, handler, route, viewer)
    if request.get(ENDED) or request.get(SIGNED_OUT):
        response.del_cookie(COOKIE, path=str(request.app[BASE]))
    if not response.prepared:  # a streamed download set SAFE_HEADERS itself before sending
        response.headers.update(SAFE_HEADERS)
    return response


async def _checked(
    request: web.Request, handler: Handler, route: str | None, viewer: Viewer | None
) -> web.StreamResponse:
    if request.method == "POST" and route not in NO_CSRF:
        if viewer is None:
            return sign_in_first(request)
        form = await request.post()
        given = str(form.get("csrf", ""))
        if not given or not hmac.compare_digest(given.encode(), viewer.csrf.encode()):
            log.warning("desk form refused: missing or wrong CSRF token")
            return refused(
                request,
                t("This form did not come from your desk page, or it is too old. Nothing was "
                  "changed: please go back, reload the page and try again."),
                403,
            )  # fmt: skip
    return await handler(request)


def _when(request: web.Request) -> Callable[[Any], str]:
    def when(value: Any) -> str:
        viewer: Viewer | None = request.get(VIEWER)
        tz = regions.zone_of(viewer.person.province_code if viewer else None)
        return moment(value, tz) if value is not None else "—"

    return when


@jinja2.pass_context
def _moment(context: Any, value: Any) -> str:
    return _when(context["request"])(value)


def place(code: str | None) -> str:
    return regions.display_name(code) if code else "—"


def _static(name: str, content_type: str) -> Handler:
    body = (HERE / "static" / name).read_bytes()

    async def serve_file(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type)

    return serve_file


def build(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], i18n: I18n
) -> web.Application:
    """The desk's routes at its own root; `mount` puts them under DESK_URL's path."""
    from desk import admin, announcements, exports, inbox, miniapp, review, stats, trainings
    from desk import signin as pages

    app = web.Application(middlewares=[guard], client_max_size=256 * 1024)
    app[SETTINGS], app[SESSIONMAKER], app[I18N] = settings, sessionmaker, i18n
    app[BASE] = settings.desk_path if settings.desk_url else "/"
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        context_processors=[aiohttp_jinja2.request_processor],
    )
    env.globals.update(_=t, place=place)
    env.filters["moment"] = _moment
    for name, kind in (("desk.css", "text/css"), ("desk.js", "text/javascript")):
        app.router.add_get(f"/static/{name}", _static(name, kind), name=name)
    pages.routes(app)
    miniapp.routes(app)
    review.routes(app)
    trainings.routes(app)
    announcements.routes(app)
    inbox.routes(app)
    stats.routes(app)
    exports.routes(app)
    admin.routes(app)
    return app


def mount(root: web.Application, desk: web.Application, path: str) -> None:
    """Serve the desk under `path` of a server's application (the webhook's, or its own)."""
    if path in ("", "/"):
        _merge(root, desk)
    else:
        root.add_subapp(path.rstrip("/"), desk)


def _merge(root: web.Application, desk: web.Application) -> None:
    """At the root path: the desk's routes join the root's (aiohttp has no subapp at "/")."""
    root.middlewares.append(guard)
    for key in (SETTINGS, SESSIONMAKER, I18N, BASE, aiohttp_jinja2.APP_KEY):
        root[key] = desk[key]
    for resource in desk.router.resources():
        for route in resource:
            root.router.add_route(route.method, resource.canonical, route.handler, name=route.name)


async def serve(settings: Settings) -> None:
    """`juragan desk`: the desk alone, on DESK_HOST:DESK_PORT, until SIGTERM or SIGINT."""
    from bot.app import build_i18n
    from bot.logs import guard_personal_data
    from bot.preflight import listen
    from storage.db import create_engine, create_sessionmaker

    settings.require_desk()
    guard_personal_data()
    engine = create_engine(settings.database_url)
    desk = build(settings, create_sessionmaker(engine), build_i18n(settings.default_locale))
    if settings.desk_path in ("", "/"):
        root = desk
    else:
        root = web.Application()
        mount(root, desk, settings.desk_path)
    runner = web.AppRunner(root, access_log=None, shutdown_timeout=5.0)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)
    try:
        await runner.setup()
        await listen(runner, settings.desk_host, settings.desk_port, setting="DESK_PORT")
        log.info("serving the staff desk on %s:%s", settings.desk_host, settings.desk_port)
        await stopping.wait()
    finally:
        await runner.cleanup()
        await engine.dispose()
