"""REDIS_URL: aiogram's FSM storage in Redis, shared by the instances. Against the local Redis
(JURAGAN_TEST_REDIS_URL, default redis://127.0.0.1:6379/15, a database the tests may wipe);
skipped, saying why, when none answers."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage

from bot.app import OFFLINE_TOKEN, App, build_app
from bot.config import ConfigError, Settings, load_settings
from bot.fsm import KEY_PREFIX, TTL_SECONDS
from bot.offline import OfflineChat, OfflineSession
from bot.web import Server

REDIS_URL = os.environ.get("JURAGAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
UID = 8801


async def _answers(url: str) -> str | None:
    """None when Redis answers at `url`, else why not."""
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        await client.ping()
        await client.flushdb()  # the tests' own database number
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await client.aclose()


@pytest_asyncio.fixture
async def redis_url() -> str:
    why = await _answers(REDIS_URL)
    if why is not None:
        pytest.skip(f"no Redis at {REDIS_URL} ({why}); set JURAGAN_TEST_REDIS_URL to one")
    return REDIS_URL


@pytest_asyncio.fixture
async def instances(settings: Settings, redis_url: str) -> AsyncIterator[list[App]]:
    """Two apps on one database and one Redis, as two instances would be."""
    config = settings.model_copy(update={"redis_url": redis_url, "flood_limit": 4})
    apps = [build_app(config, session=OfflineSession(), token=OFFLINE_TOKEN) for _ in range(2)]
    yield apps
    for app in apps:
        await app.close()


def chat_on(app: App, uid: int = UID) -> OfflineChat:
    return OfflineChat(app.bot, app.dp, app.bot.session, uid)  # type: ignore[arg-type]


def slow_downs(replies: list[Any]) -> int:
    return sum("cepat" in (getattr(r, "text", "") or "") for r in replies)


def test_a_malformed_redis_url_stops_the_bot_with_one_sentence() -> None:
    with pytest.raises(ConfigError, match="REDIS_URL is malformed: must start with redis://"):
        load_settings(redis_url="localhost:6379", _env_file=None)


async def test_with_redis_url_the_fsm_storage_is_redis_and_without_it_memory(
    instances: list[App], settings: Settings
) -> None:
    assert isinstance(instances[0].dp.fsm.storage, RedisStorage)
    plain = build_app(settings, session=OfflineSession(), token=OFFLINE_TOKEN)
    try:
        assert isinstance(plain.dp.fsm.storage, MemoryStorage)
    finally:
        await plain.close()


async def test_two_instances_count_one_persons_flood_together(instances: list[App]) -> None:
    a, b = chat_on(instances[0]), chat_on(instances[1])
    answered = []
    for chat in (a, b, a, b):  # four updates, the limit, spread over both instances
        replies = await chat.send("halo")
        answered.append(bool(replies) and not slow_downs(replies))
    assert answered == [True, True, True, True]
    fifth = await a.send("halo")  # the fifth in the window, on either instance: slow down
    assert slow_downs(fifth) == 1 and len(fifth) == 1
    sixth = await b.send("halo")  # the other instance knows the warning was given
    assert sixth == []
    seventh = await a.send("halo")
    assert seventh == []

    storage = instances[0].dp.fsm.storage
    assert isinstance(storage, RedisStorage)
    keys = [k.decode() for k in await storage.redis.keys("*")]
    assert keys and all(k.startswith(f"{KEY_PREFIX}:") for k in keys)
    assert all(k.endswith(":flood:data") for k in keys)
    ttls = [await storage.redis.ttl(k) for k in keys]
    assert all(0 < ttl <= TTL_SECONDS for ttl in ttls)
    values = [await storage.redis.get(k) for k in keys]
    assert all(b"halo" not in v for v in values)  # times only, never what was written


async def test_without_redis_each_instance_counts_on_its_own(settings: Settings) -> None:
    config = settings.model_copy(update={"flood_limit": 4})
    apps = [build_app(config, session=OfflineSession(), token=OFFLINE_TOKEN) for _ in range(2)]
    try:
        a, b = chat_on(apps[0]), chat_on(apps[1])
        for chat in (a, b, a, b, a, b):
            assert slow_downs(await chat.send("halo")) == 0  # three each: under four
    finally:
        for app in apps:
            await app.close()


async def test_an_unreachable_redis_lets_updates_through_and_says_so_once(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    config = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0", "flood_limit": 2})
    app = build_app(config, session=OfflineSession(), token=OFFLINE_TOKEN)
    try:
        chat = chat_on(app)
        with caplog.at_level(logging.WARNING):
            for _ in range(4):
                replies = await chat.send("/help")
                assert replies and slow_downs(replies) == 0
        warnings = [r for r in caplog.records if "flood control storage" in r.getMessage()]
        assert len(warnings) == 1
        healthy, parts = await Server(app, secret="x", path="/h").health()
        assert not healthy and parts["redis"].startswith("unreachable")
    finally:
        await app.close()


async def test_healthz_pings_redis(instances: list[App]) -> None:
    app = instances[0]
    app.heartbeat.beat = app.heartbeat.tick = time.monotonic()
    healthy, parts = await Server(app, secret="x", path="/h").health()
    assert healthy and parts["redis"] == "ok"
