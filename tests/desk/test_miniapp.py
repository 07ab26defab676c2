"""Signing in from the bot's menu button (a Telegram Mini App): init data signed with the bot's
token, fresh and used once, opens a normal desk session for someone with a role; stale, forged,
replayed or a returnee's are refused. The menu button is set for a role when DESK_URL is https."""

from __future__ import annotations

from datetime import timedelta

from aiogram.methods import SetChatMenuButton
from aiogram.types import MenuButtonDefault, MenuButtonWebApp

from bot.config import Settings
from bot.handlers.desk import menu_button
from flows import clock
from storage.models import AuditEntry, DeskSession
from tests.desk.support import init_data, make_role, staff
from tests.support.talk import count, onboard


async def test_fresh_init_data_of_a_reviewer_opens_a_session(app, person, browser) -> None:
    await staff(app, person, 8801)
    client = await browser()
    opening = await client.get("/meja/app")
    assert opening.status == 200 and 'class="miniapp"' in await opening.text()
    signed = await client.post("/meja/app/masuk", data={"init_data": init_data(8801)},
                               allow_redirects=False)  # fmt: skip
    assert signed.status == 303 and "HttpOnly" in signed.headers["Set-Cookie"]
    assert (await client.get("/meja/tinjau")).status == 200
    assert await count(app, AuditEntry, AuditEntry.action == "desk.sign_in") == 1


async def test_stale_forged_replayed_and_empty_init_data_are_refused(app, person, browser) -> None:
    await staff(app, person, 8802)
    client = await browser()
    hour_ago = int((clock.now() - timedelta(hours=1, minutes=1)).timestamp())
    ahead = int((clock.now() + timedelta(minutes=10)).timestamp())
    forged = init_data(8802).replace("Petugas", "Penyusup")  # changed after signing
    for bad in (
        init_data(8802, auth_date=hour_ago),
        init_data(8802, auth_date=ahead),
        init_data(8802, token="2:another-bot"),
        forged,
        init_data(8802).split("&hash=")[0],  # no hash at all
        "",
        "x" * 5000,
    ):
        refused = await client.post("/meja/app/masuk", data={"init_data": bad})
        assert refused.status == 403, bad
    good = init_data(8802)
    assert (await client.post("/meja/app/masuk", data={"init_data": good},
                              allow_redirects=False)).status == 303  # fmt: skip
    replayed = await (await browser()).post("/meja/app/masuk", data={"init_data": good})
    assert replayed.status == 403
    assert await count(app, DeskSession) == 1


async def test_a_returnee_and_a_revoked_role_get_no_session(app, person, browser) -> None:
    chat = person(8803)
    await onboard(chat, lang="en")
    client = await browser()
    refused = await client.post("/meja/app/masuk", data={"init_data": init_data(8803)})
    assert refused.status == 403 and "hanya untuk petugas" in await refused.text()
    await staff(app, person, 8804)
    await make_role(app, 8804, "returnee")
    refused = await client.post("/meja/app/masuk", data={"init_data": init_data(8804)})
    assert refused.status == 403
    assert await count(app, DeskSession) == 0


async def test_without_a_bot_token_nothing_can_be_checked(app, person, browser) -> None:
    await staff(app, person, 8805)
    app.settings.bot_token = None  # the desk reads the same settings object
    refused = await (await browser()).post("/meja/app/masuk", data={"init_data": init_data(8805)})
    assert refused.status == 403


def _settings(url: str) -> Settings:
    return Settings(desk_url=url, _env_file=None)  # type: ignore[call-arg]


def test_the_menu_button_opens_the_desk_for_a_role_on_https_only() -> None:
    secure = _settings("https://meja.example.go.id/meja/")
    button = menu_button(secure, 42, "staff", "Meja petugas")
    assert isinstance(button, SetChatMenuButton) and button.chat_id == 42
    assert isinstance(button.menu_button, MenuButtonWebApp)
    assert button.menu_button.web_app.url == "https://meja.example.go.id/meja/app"
    assert button.menu_button.text == "Meja petugas"
    reset = menu_button(secure, 42, "returnee")
    assert reset is not None and isinstance(reset.menu_button, MenuButtonDefault)
    assert menu_button(_settings("http://127.0.0.1:8081/"), 42, "staff") is None


async def test_meja_sets_the_menu_button_when_the_desk_is_on_https(app, person) -> None:
    chat = await staff(app, person, 8806)
    app.settings.desk_url = "https://meja.example.go.id/meja/"
    calls = await chat.send("/meja")
    [button] = [c for c in calls if isinstance(c, SetChatMenuButton)]
    assert button.menu_button.web_app.url == "https://meja.example.go.id/meja/app"
    await make_role(app, 8806, "returnee")
    calls = await chat.send("/meja")
    [reset] = [c for c in calls if isinstance(c, SetChatMenuButton)]
    assert isinstance(reset.menu_button, MenuButtonDefault)
