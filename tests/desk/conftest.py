"""The desk beside the bot on one database: the bot's app (for /meja and what people hear), the
desk's aiohttp app over the same sessionmaker, and browsers (clients with their own cookies)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import OFFLINE_TOKEN, App
from bot.config import Settings
from desk.app import build, mount
from tests.conftest import ADMIN_ID

DESK_URL = "http://127.0.0.1/meja/"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admin_ids=frozenset({ADMIN_ID}),
        flood_limit=1000,
        desk_url=DESK_URL,
        bot_token=OFFLINE_TOKEN,  # what Mini App init data is signed with (tests/desk/support.py)
        _env_file=None,
    )  # type: ignore[call-arg]


@pytest_asyncio.fixture
async def desk_server(app: App) -> AsyncIterator[TestServer]:
    """The desk served on a port of its own (127.0.0.1), on the bot's database."""
    root = web.Application()
    mount(root, build(app.settings, app.sessionmaker, app.i18n), app.settings.desk_path)
    server = TestServer(root)
    await server.start_server()
    yield server
    await server.close()


@pytest_asyncio.fixture
async def browser(desk_server: TestServer) -> AsyncIterator[Callable[[], Awaitable[TestClient]]]:
    """browser(): a new client on one desk server, with a cookie jar of its own."""
    server = desk_server
    clients: list[TestClient] = []

    async def make() -> TestClient:
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
