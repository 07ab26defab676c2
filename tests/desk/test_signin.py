"""Signing in to the desk through Telegram: /meja's one-time link, the session's cookie and its
limits, and a session ended by a revoked or narrowed role, by /keluar and by the page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.handlers.desk import link
from desk.app import build
from flows import clock
from storage.models import AuditEntry, DeskLoginToken, DeskSession
from tests.desk.support import csrf_of, link_of, make_role, sign_in, staff
from tests.support.talk import count, onboard, texts


async def test_a_returnee_is_politely_refused_a_link(app, person) -> None:
    chat = person(8701)
    await onboard(chat, lang="en")
    said = texts(await chat.send("/meja"))
    assert "only for staff, coordinators and admins" in said and "masuk/" not in said
    assert await count(app, DeskLoginToken) == 0


async def test_the_link_opens_one_session_once_and_only_a_hash_is_kept(
    app, person, browser
) -> None:
    chat = await staff(app, person, 8702)
    token = await link_of(chat)
    async with app.sessionmaker() as session:
        row = (await session.scalars(select(DeskLoginToken))).one()
    assert token not in row.token_hash and len(row.token_hash) == 64
    client = await browser()
    shown = await client.get(f"/meja/masuk/{token}")  # a preview or a scanner: nothing spent
    assert shown.status == 200 and shown.headers["Referrer-Policy"] == "no-referrer"
    signed = await client.post("/meja/masuk", data={"token": token}, allow_redirects=False)
    assert signed.status == 303
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/meja/" in cookie
    assert "Secure" not in cookie  # plain http on a loopback address
    assert (await client.get("/meja/tinjau")).status == 200
    again = await (await browser()).post("/meja/masuk", data={"token": token})
    assert again.status == 400 and "sudah dipakai" in await again.text()  # Indonesian first
    assert await count(app, DeskSession) == 1
    assert await count(app, AuditEntry, AuditEntry.action == "desk.sign_in") == 1


async def test_a_link_expires_after_ten_minutes(app, person, browser) -> None:
    chat = await staff(app, person, 8703)
    token = await link_of(chat)
    later = clock.now() + timedelta(minutes=10, seconds=1)
    clock.set_clock(lambda: later)
    refused = await (await browser()).post("/meja/masuk", data={"token": token})
    assert refused.status == 400


async def test_a_forged_or_partial_link_opens_nothing(app, person, browser) -> None:
    client = await browser()
    assert (await client.get("/meja/masuk/short")).status == 400
    assert (await client.post("/meja/masuk", data={"token": "x" * 43})).status == 400
    assert (await client.get("/meja/tinjau")).status == 401


async def test_the_cookie_is_secure_behind_https(app, person) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    chat = await staff(app, person, 8704)
    token = await link_of(chat)
    settings = app.settings.model_copy(update={"desk_url": "https://meja.example.go.id/"})
    async with TestClient(TestServer(build(settings, app.sessionmaker, app.i18n))) as client:
        signed = await client.post("/masuk", data={"token": token}, allow_redirects=False)
        assert signed.status == 303 and "Secure" in signed.headers["Set-Cookie"]
    assert link(settings, token) == f"https://meja.example.go.id/masuk/{token}"


async def test_idle_for_thirty_minutes_or_open_for_twelve_hours_signs_out(
    app, person, browser
) -> None:
    chat = await staff(app, person, 8705)
    client = await browser()
    await sign_in(client, chat)
    start = clock.now()
    clock.set_clock(lambda: start + timedelta(minutes=29))
    assert (await client.get("/meja/tinjau")).status == 200
    clock.set_clock(lambda: start + timedelta(minutes=29 + 31))
    out = await client.get("/meja/tinjau")
    assert out.status == 401 and "lama tidak dipakai" in await out.text()
    # busy all day: still over after 12 hours
    other = await browser()
    clock.set_clock(lambda: start)
    await sign_in(other, chat)
    for minutes in range(20, 12 * 60, 20):
        clock.set_clock(lambda m=minutes: start + timedelta(minutes=m))
        assert (await other.get("/meja/tinjau")).status == 200, minutes
    clock.set_clock(lambda: start + timedelta(hours=12))
    assert (await other.get("/meja/tinjau")).status == 401


async def test_a_revoked_role_ends_the_session_at_the_next_request(app, person, browser) -> None:
    chat = await staff(app, person, 8706)
    client = await browser()
    await sign_in(client, chat)
    await make_role(app, 8706, "returnee")
    out = await client.get("/meja/tinjau")
    assert out.status == 401 and "Peran Anda berubah" in await out.text()
    await make_role(app, 8706, "staff")  # given back: the old session stays over
    assert (await client.get("/meja/tinjau")).status == 401
    assert await count(app, DeskSession, DeskSession.ended_at.is_(None)) == 0


async def test_narrowed_regions_end_the_session(app, person, browser) -> None:
    chat = await staff(app, person, 8707, regions=["35"])
    client = await browser()
    await sign_in(client, chat)
    await make_role(app, 8707, "staff", ["35.78"])
    assert (await client.get("/meja/tinjau")).status == 401


async def test_keluar_in_the_bot_and_the_page_button_sign_out(app, person, browser) -> None:
    chat = await staff(app, person, 8708)
    first, second = await browser(), await browser()
    await sign_in(first, chat)
    await sign_in(second, chat)
    token = await csrf_of(first)
    out = await first.post("/meja/keluar", data={"csrf": token})
    assert (
        out.status == 200 and "You are signed out." in await out.text()
    )  # still in their language
    assert (await first.get("/meja/tinjau")).status == 401
    assert (await second.get("/meja/tinjau")).status == 200  # the button ends this browser's
    assert "signed out of the staff desk everywhere" in texts(await chat.send("/keluar"))
    assert (await second.get("/meja/tinjau")).status == 401
    assert "were not signed in" in texts(await chat.send("/keluar"))


async def test_a_coordinator_signs_in_but_does_not_review(app, person, browser) -> None:
    chat = await staff(app, person, 8709, role="coordinator")
    client = await browser()
    await sign_in(client, chat)
    home = await client.get("/meja/")
    assert home.status == 200 and "These are the pages your role may use" in await home.text()
    refused = await client.get("/meja/tinjau")
    assert refused.status == 403 and "only reviewers" in await refused.text()


async def test_the_desk_speaks_the_persons_language(app, person, browser) -> None:
    chat = await staff(app, person, 8710, lang="id")
    client = await browser()
    await sign_in(client, chat)
    page = await (await client.get("/meja/tinjau")).text()
    assert "Antrean tinjauan" in page and '<html lang="id">' in page


async def test_every_page_has_safe_headers(app, person, browser) -> None:
    client = await browser()
    for path in ("/meja/", "/meja/tinjau", "/meja/masuk/" + "a" * 43):
        answer = await client.get(path)
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"], path
        assert answer.headers["Cache-Control"] == "no-store", path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
    css = await client.get("/meja/static/desk.css")
    assert css.status == 200 and css.content_type == "text/css"


async def test_a_link_whose_person_lost_the_role_opens_nothing(app, person, browser) -> None:
    chat = await staff(app, person, 8711)
    token = await link_of(chat)
    await make_role(app, 8711, "returnee")
    client = await browser()
    refused = await client.post("/meja/masuk", data={"token": token}, allow_redirects=False)
    assert refused.status == 403 and "Set-Cookie" not in refused.headers
    assert await count(app, DeskSession) == 0
