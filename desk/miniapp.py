"""Signing in from the bot's menu button: the desk opened as a Telegram Mini App.

Telegram opens `DESK_URL/app` with the init data in the address's fragment (which no server
or log sees); desk.js posts it to `/app/masuk`. The server checks it with aiogram's
`safe_parse_webapp_init_data` against the bot's token, takes it only when fresh (signed at
most an hour ago: a Mini App signs anew each time it opens) and only once, and opens a normal
desk session for the person it names if their role may use the desk.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiohttp import web

from bot import roles
from bot.config import Settings
from bot.text import t
from desk.app import DB, SETTINGS, VIEWER, role_of, see_other, url
from desk.app import refused as refuse_page
from desk.app import render as page
from desk.signin import open_for
from flows import clock
from operations import desk as signin
from storage import repo

log = logging.getLogger(__name__)
FRESH = timedelta(hours=1)  # init data signed longer ago than this is refused
AHEAD = timedelta(minutes=5)  # a clock this far ahead of ours is still believed
LONGEST = 4096  # init data is a few hundred characters; anything longer is not one


async def opening(request: web.Request) -> web.Response:
    """The page a Mini App opens: desk.js posts its init data at once."""
    if request.get(VIEWER) is not None:
        return see_other(url(request))
    return page(request, "miniapp.html")


def _refused(request: web.Request) -> web.Response:
    return refuse_page(request, t("The desk could not confirm it was opened from Telegram just "
                                  "now. Please close it and open it again from the bot's menu, "
                                  "or send /meja for a sign-in link."), 403)  # fmt: skip


async def sign_in(request: web.Request) -> web.Response:
    settings: Settings = request.app[SETTINGS]
    token = settings.bot_token.get_secret_value().strip() if settings.bot_token else ""
    form = await request.post()
    raw = str(form.get("init_data", ""))
    if not token or not raw or len(raw) > LONGEST:
        log.info("desk mini app sign-in refused: no init data, or no bot token to check it")
        return _refused(request)
    try:
        data = safe_parse_webapp_init_data(token, raw)
    except (ValueError, TypeError):
        log.warning("desk mini app sign-in refused: init data with a wrong signature")
        return _refused(request)
    now = clock.now()
    signed = data.auth_date
    if data.user is None or not (now - FRESH <= signed <= now + AHEAD):
        log.info("desk mini app sign-in refused: stale init data, or no user in it")
        return _refused(request)
    db = request[DB]
    person = await repo.person_by_telegram_id(db, telegram_id=data.user.id)
    role = role_of(person, settings) if person is not None else None
    if person is None or not roles.can(role, "desk"):
        log.info("desk mini app sign-in refused: the role does not allow the desk")
        return refuse_page(request, t("Sorry, the staff desk is only for staff, coordinators and "
                                      "admins."), 403)  # fmt: skip
    if not await signin.spend_proof(db, proof=raw, person_id=person.id, now=now, ttl=FRESH):
        log.warning("desk mini app sign-in refused: init data used before")
        return _refused(request)
    assert role is not None
    return await open_for(request, person, role)


def routes(app: web.Application) -> None:
    app.router.add_get("/app", opening, name="desk.miniapp")
    app.router.add_post("/app/masuk", sign_in, name="desk.miniapp.post")
