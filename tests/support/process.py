"""`juragan run` as a real process against the fake Bot API, and a person talking to it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

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


def press(fake: FakeBotAPI, label: str, uid: int) -> None:
    """Press the newest inline button whose text contains `label` in this person's chat."""
    for message in reversed(fake.sent_to(uid)):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        for button in [b for row in rows for b in row]:
            if label in button["text"]:
                fake.press(uid, message["message_id"], data=button["callback_data"])
                return
    raise AssertionError(f"no button {label!r}")


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
