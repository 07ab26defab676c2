"""`juragan run` as a real process against the fake Bot API, and a person talking to it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from tests.support.fake_bot_api import FakeBotAPI


async def start(
    fake: FakeBotAPI, database_url: str, cwd: Path, **settings: str
) -> asyncio.subprocess.Process:
    """Start `juragan run` long-polling the fake server (with any other settings); return once
    it polls."""
    env = {
        **os.environ,
        "BOT_TOKEN": "123456:TEST-token",
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "FLOOD_LIMIT": "1000",
        "LOG_LEVEL": "INFO",
        **settings,
    }
    since = len(fake.calls)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    # Its last start-up call (the default command menu), or a poll answered: the fake records
    # a getUpdates only when it returns, after the long poll's 10 s.
    polling = asyncio.create_task(
        fake.wait_for(
            lambda c: (
                c.method == "getUpdates" or (c.method == "setMyCommands" and "scope" in c.params)
            ),
            timeout=30,
            since=since,
        )
    )
    died = asyncio.create_task(proc.wait())
    await asyncio.wait({polling, died}, return_when=asyncio.FIRST_COMPLETED)
    if died.done():
        polling.cancel()
        output = (await proc.stdout.read()).decode()  # type: ignore[union-attr]
        pytest.fail(f"juragan run exited early:\n{output}")
    died.cancel()
    await polling
    return proc


async def stop(proc: asyncio.subprocess.Process) -> str:
    """Stop it as an operator would (SIGINT) and return everything it logged."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    return output.decode()


def _button(fake: FakeBotAPI, label: str, uid: int) -> tuple[int, str] | None:
    for message in reversed(fake.sent_to(uid)):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        for button in [b for row in rows for b in row]:
            if label in button["text"]:
                return message["message_id"], button["callback_data"]
    return None


def press(fake: FakeBotAPI, label: str, uid: int) -> None:
    """Press the newest inline button whose text contains `label` in this person's chat."""
    found = _button(fake, label, uid)
    if found is None:
        raise AssertionError(f"no button {label!r}")
    fake.press(uid, found[0], data=found[1])


async def press_when_shown(fake: FakeBotAPI, label: str, uid: int) -> None:
    """Press it once it is there: a page too long for one message comes in parts, its
    buttons under the last, which may arrive after the text a step waited for."""
    await fake.wait_until(lambda: _button(fake, label, uid) is not None, timeout=30)
    press(fake, label, uid)


async def expect(fake: FakeBotAPI, uid: int, since: int, text: str) -> None:
    """Wait until the bot sends or edits, in this person's chat, a message containing `text`."""
    await fake.wait_for(
        lambda c: (
            c.method in ("sendMessage", "editMessageText")
            and str(c.params.get("chat_id")) == str(uid)
            and text in str(c.params.get("text"))
        ),
        timeout=15,
        since=since,
    )


async def step(fake: FakeBotAPI, uid: int, action: Any, text: str) -> None:
    """Do something as the person, then wait for the answer containing `text`."""
    since = len(fake.calls)
    result = action()
    if asyncio.iscoroutine(result):
        await result
    await expect(fake, uid, since, text)


T = TypeVar("T")
WEBHOOK_URL = "https://bot.example.test/tg/hook"  # registered with the fake; never reached
WEBHOOK_SECRET = "test-secret_0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Spawned:
    """A `juragan` process whose output is read all along (a full pipe would stall it)."""

    command = "run"
    stop_signal = signal.SIGINT  # as an operator at a terminal stops `juragan run`

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc, self.lines = proc, []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cls.command, env={**os.environ, **env}, cwd=cwd,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def until(self, waiting: Awaitable[T]) -> T:
        """Wait for something this process should cause; fail at once if it died first."""
        task, died = asyncio.ensure_future(waiting), asyncio.create_task(self.proc.wait())
        await asyncio.wait({task, died}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()
            await self._reader
            pytest.fail(f"juragan {self.command} exited ({self.proc.returncode}):\n{self.log}")
        died.cancel()
        return task.result()

    async def kill(self) -> str:
        """SIGKILL: no shutdown, no lock released, whatever was in flight left so."""
        if self.proc.returncode is None:
            self.proc.kill()
        await asyncio.wait_for(self.proc.wait(), timeout=10)
        await self._reader
        return self.log

    async def stop(self) -> str:
        """The stop signal; returns everything it logged."""
        if self.proc.returncode is None:
            self.proc.send_signal(self.stop_signal)
        await asyncio.wait_for(self.proc.wait(), timeout=40)
        await self._reader
        return self.log


class Instance(Spawned):
    """`juragan webhook` on a port of its own. `url` is where a reverse proxy would forward
    updates; it stops on SIGTERM, as systemd or docker stops it."""

    command = "webhook"
    stop_signal = signal.SIGTERM

    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        super().__init__(proc)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tg/hook"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    async def start(
        cls, fake: FakeBotAPI, database_url: str, cwd: Path, **settings: str
    ) -> Instance:
        """Spawn it and return once /healthz answers 200 (migrated, webhook set, ticking)."""
        port = free_port()
        env = {
            "BOT_TOKEN": "123456:TEST-token",
            "TELEGRAM_API_URL": fake.base_url,
            "DATABASE_URL": database_url,
            "FLOOD_LIMIT": "1000",
            "LOG_LEVEL": "INFO",
            "WEBHOOK_URL": WEBHOOK_URL,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_HOST": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            **settings,
        }
        instance = cls(await cls.spawn(env, cwd), port)
        deadline = asyncio.get_running_loop().time() + 30
        while (await instance.health())[0] != 200:
            if instance.proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
                await instance.kill()
                pytest.fail(f"juragan webhook did not come up:\n{instance.log}")
            await asyncio.sleep(0.1)
        return instance

    async def get(self, path: str) -> tuple[int, str]:
        """GET a path of its server: (status, body), (0, "") when nothing answers."""
        try:
            async with aiohttp.ClientSession() as client, client.get(self.base + path) as answer:
                return answer.status, await answer.text()
        except (aiohttp.ClientError, OSError):
            return 0, ""

    async def health(self) -> tuple[int, dict[str, Any]]:
        status, body = await self.get("/healthz")
        return status, (json.loads(body) if status else {})


def most_in_a_second(calls: list[Any]) -> int:
    """The most calls (anything with `.at`, monotonic seconds) within any one second."""
    times = sorted(c.at for c in calls)
    most, j = 0, 0
    for i, moment in enumerate(times):
        while times[j] <= moment - 1.0:
            j += 1
        most = max(most, i - j + 1)
    return most
