"""Signing in with the link /meja gives, and out with the page's button.

Opening the link shows a button that spends it (a POST): a link preview or a scanner that
fetches the address never uses it up. The link must be fresh, unused and for someone whose
role may use the desk now.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web

from bot import roles
from bot.config import Settings
from bot.text import t
from desk.app import (
    BASE,
    COOKIE,
    DB,
    ENDED,
    SETTINGS,
    SIGNED_OUT,
    VIEWER,
    role_of,
    see_other,
    sign_in_first,
    url,
)
from desk.app import refused as refuse_page
from desk.app import render as page
from flows import clock
from operations import desk as signin
from storage.models import Person, Role

log = logging.getLogger(__name__)
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


async def home(request: web.Request) -> web.Response:
    viewer = request.get(VIEWER)
    if viewer is None:
        return page(request, "signed_out.html", {"why": request.get(ENDED)})
    if viewer.may("review"):
        return see_other(url(request, "tinjau"))
    return page(request, "home.html")


async def link_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    if not TOKEN.fullmatch(token):
        return refuse_page(request, t("This sign-in link is not complete. Please copy all of it, "
                                      "or send /meja to the bot for a new one."), 400)  # fmt: skip
    return page(request, "signin.html", {"token": token})


async def sign_in(request: web.Request) -> web.Response:
    form = await request.post()
    token = str(form.get("token", ""))
    now = clock.now()
    db = request[DB]
    person_id = (
        await signin.spend_link(db, token=token, now=now) if TOKEN.fullmatch(token) else None
    )
    if person_id is None:
        log.info("desk sign-in refused: a link unknown, used or expired")
        return refuse_page(request, t("This sign-in link was already used or has expired. Please "
                                      "send /meja to the bot for a new one."), 400)  # fmt: skip
    person = await db.get(Person, person_id)
    settings: Settings = request.app[SETTINGS]
    role = role_of(person, settings) if person is not None else None
    if person is None or not roles.can(role, "desk"):
        log.info("desk sign-in refused: the role no longer allows the desk")
        return refuse_page(request, t("Sorry, the staff desk is only for staff, coordinators and "
                                      "admins."), 403)  # fmt: skip
    assert role is not None
    return await open_for(request, person, role)


async def open_for(request: web.Request, person: Person, role: Role) -> web.Response:
    """A desk session for someone whose role may use the desk, its cookie set, then home."""
    settings: Settings = request.app[SETTINGS]
    signed = await signin.open_session(
        request[DB], person_id=person.id, role=role.value, scope=roles.scope(person, role),
        now=clock.now(),
    )  # fmt: skip
    response = see_other(url(request))
    response.set_cookie(
        COOKIE,
        signed.token,
        path=str(request.app[BASE]),
        httponly=True,
        secure=settings.desk_secure,
        samesite="Lax",
        max_age=int(signin.LONGEST.total_seconds()),
    )
    return response


async def sign_out(request: web.Request) -> web.Response:
    viewer = request.get(VIEWER)
    if viewer is None:
        return sign_in_first(request)
    await signin.end_session(
        request[DB], session_id=viewer.session_id, person_id=viewer.person.id, now=clock.now()
    )
    request[SIGNED_OUT] = True
    request[VIEWER] = None
    return page(request, "signed_out.html", {"why": "signed_out"})


def routes(app: web.Application) -> None:
    app.router.add_get("/", home, name="desk.home")
    app.router.add_get("/masuk/{token}", link_page, name="desk.signin.get")
    app.router.add_post("/masuk", sign_in, name="desk.signin.post")
    app.router.add_post("/keluar", sign_out, name="desk.signout")
