"""bot.polling.Poller against the fake Bot API, with a bare dispatcher: what it confirms when."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot.polling import Poller
from tests.support.fake_bot_api import FakeBotAPI


def bot_for(fake: FakeBotAPI) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return Bot(token="123456:TEST-token", session=session)


async def run_until(poller: Poller, condition: Any, timeout: float = 10.0) -> None:
    task = asyncio.create_task(poller.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.02)
    finally:
        poller.stop()
        await asyncio.wait_for(task, timeout=10)


async def test_each_persons_updates_are_handled_in_order_and_all_confirmed() -> None:
    seen: dict[int, list[int]] = defaultdict(list)
    rng = random.Random(7)
    dp = Dispatcher()

    @dp.message()
    async def record(message: Message) -> None:
        await asyncio.sleep(rng.uniform(0, 0.02))  # later ones would overtake without the order
        seen[message.chat.id].append(int(message.text or 0))

    async with FakeBotAPI() as fake:
        for n in range(8):
            for uid in (1, 2, 3):
                fake.send_text(uid, str(n))
        bot = bot_for(fake)
        poller = Poller(dp, bot, timeout=1)
        await run_until(poller, lambda: sum(map(len, seen.values())) == 24)
        await bot.session.close()
        assert {uid: order for uid, order in seen.items()} == {u: list(range(8)) for u in (1, 2, 3)}
        assert not fake.pending_updates  # confirmed on the way out


async def test_an_update_is_confirmed_only_after_it_is_done() -> None:
    release = asyncio.Event()
    dp = Dispatcher()

    @dp.message()
    async def slow(message: Message) -> None:
        if message.text == "slow":
            await release.wait()

    async with FakeBotAPI() as fake:
        slow_id = fake.send_text(1, "slow")["update_id"]
        fake.send_text(2, "quick")
        bot = bot_for(fake)
        poller = Poller(dp, bot, timeout=1)
        task = asyncio.create_task(poller.run())
        await fake.wait_until(lambda: len(fake.calls_to("getUpdates")) >= 2, timeout=10)
        # the quick one is done, but the slow one before it holds the offset
        assert [u["update_id"] for u in fake.pending_updates][0] == slow_id
        assert len(fake.pending_updates) == 2
        release.set()
        await fake.wait_until(lambda: not fake.pending_updates, timeout=10)
        poller.stop()
        await asyncio.wait_for(task, timeout=10)
        await bot.session.close()


async def test_an_update_the_database_could_not_take_is_handled_again() -> None:
    tries: list[int] = []
    dp = Dispatcher()

    @dp.update.outer_middleware()
    async def database_down_once(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        tries.append(event.update_id)
        if len(tries) == 1:
            data["report"]["outcome"] = "retry"  # as bot.middlewares says when it is unreachable
            return None
        return await handler(event, data)

    async with FakeBotAPI() as fake:
        update_id = fake.send_text(1, "halo")["update_id"]
        bot = bot_for(fake)
        poller = Poller(dp, bot, timeout=1)
        poller._retry_backoff = type(poller._retry_backoff)(  # no real pause in a test
            type(poller._retry_backoff.config)(
                min_delay=0.01, max_delay=0.02, factor=1.5, jitter=0.0
            )
        )
        await run_until(poller, lambda: len(tries) >= 2)
        await bot.session.close()
        assert tries == [update_id, update_id]
        assert not fake.pending_updates


async def test_a_stop_lets_the_updates_in_flight_finish_and_confirms_them() -> None:
    finished: list[str] = []
    dp = Dispatcher()

    @dp.message()
    async def slow(message: Message) -> None:
        await asyncio.sleep(0.3)
        finished.append(message.text or "")

    async with FakeBotAPI() as fake:
        fake.send_text(1, "halo")
        bot = bot_for(fake)
        poller = Poller(dp, bot, timeout=5)
        task = asyncio.create_task(poller.run())
        await fake.wait_until(lambda: bool(fake.calls_to("getUpdates")), timeout=10)
        poller.stop()
        await asyncio.wait_for(task, timeout=10)
        await bot.session.close()
        assert finished == ["halo"]
        assert not fake.pending_updates


async def test_network_errors_are_retried() -> None:
    handled: list[str] = []
    dp = Dispatcher()

    @dp.message()
    async def record(message: Message) -> None:
        handled.append(message.text or "")

    async with FakeBotAPI() as fake:
        fake.fail_next("getUpdates", code=502, times=2)
        fake.send_text(1, "halo")
        bot = bot_for(fake)
        poller = Poller(dp, bot, timeout=1)
        poller.backoff = type(poller.backoff)(
            type(poller.backoff.config)(min_delay=0.01, max_delay=0.02, factor=1.5, jitter=0.0)
        )
        await run_until(poller, lambda: handled == ["halo"])
        await bot.session.close()
        assert len([c for c in fake.calls_to("getUpdates") if c.error_code]) == 2
