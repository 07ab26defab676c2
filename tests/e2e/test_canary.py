"""No byte `juragan` writes (stdout, stderr: its log, in both LOG_FORMATs) ever carries a token,
a Telegram id, a name, a phone number, a NIK or typed text, whatever goes wrong: real processes
against the fake Bot API, every error path fed with a canary."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from storage.db import create_engine
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.process import WEBHOOK_SECRET, Instance, Spawned, expect, free_port, press, step

TOKEN = "123456:CANARY"
NAME = "Siti Aminah"
TYPED = "Siti Aminah NIK 3578014101900001 HP 081234567890"
ID = 777000123  # types the canary name: the flow run's row is refused (its DETAIL quotes it)
REFUSED_ID = 777000124  # consents: the person's row is refused (DETAIL: Failing row ...)
HELPER_ID = 777000125  # asks /help, whose handler raises with the canary in its message
HUGE_ID = 777000123777000123777  # beyond int64: asyncpg's DataError quotes it
CANARIES = (
    "Siti", "Aminah", "3578014101900001", "81234567890", "777000123", "777000124",
    "777000125", "CANARY",
)  # fmt: skip
SORRY = "Maaf, ada gangguan"
# Loaded by the process at start (PYTHONPATH): /help raises with the canary in its message. The
# source line a traceback shows names the variable, not the value.
SITECUSTOMIZE = """\
import os

import bot.handlers.menu


def _explode():
    raise ValueError(os.environ["JURAGAN_TEST_MESSAGE"])


bot.handlers.menu.help_text = _explode
"""


def leaks(output: str) -> list[str]:
    return [canary for canary in CANARIES if canary in output]


async def refuse_canaries(database_url: str) -> None:
    """The database itself refuses two rows, so PostgreSQL writes its DETAIL with the values:
    a person with REFUSED_ID, and a flow run whose answers hold the canary name."""
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(
                text(
                    f"ALTER TABLE people ADD CONSTRAINT canary_people "
                    f"CHECK (telegram_id <> {REFUSED_ID})"
                )
            )
            await connection.execute(
                text(
                    "ALTER TABLE flow_runs ADD CONSTRAINT canary_runs "
                    "CHECK (answers::text NOT LIKE '%Aminah%')"
                )
            )
        else:
            await connection.execute(
                text(
                    f"CREATE TRIGGER canary_people BEFORE INSERT ON people "
                    f"WHEN NEW.telegram_id = {REFUSED_ID} BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
            for event in ("INSERT", "UPDATE"):
                await connection.execute(
                    text(
                        f"CREATE TRIGGER canary_runs_{event.lower()} BEFORE {event} ON flow_runs "
                        "WHEN NEW.answers LIKE '%Aminah%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                    )
                )
    await engine.dispose()


async def allow_canaries(database_url: str) -> None:
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":  # its schema outlives this test
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE people DROP CONSTRAINT canary_people"))
            await connection.execute(text("ALTER TABLE flow_runs DROP CONSTRAINT canary_runs"))
    await engine.dispose()


async def logged(proc: Spawned, needle: str, timeout: float = 30) -> None:  # noqa: ASYNC109
    """Wait until the process has written `needle`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while needle not in proc.log:
        if proc.proc.returncode is not None or loop.time() > deadline:
            pytest.fail(f"never logged {needle!r}:\n{proc.log}")
        await asyncio.sleep(0.1)


def check_format(output: str, log_format: str) -> None:
    """Every line is the format's: in JSON, each is one object (nothing written around it)."""
    if log_format == "json":
        for line in output.splitlines():
            assert isinstance(json.loads(line), dict), line


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_no_error_path_logs_a_canary(
    database_url: str, tmp_path: Path, log_format: str
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    await refuse_canaries(database_url)
    try:
        async with FakeBotAPI() as fake:
            env = {
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": fake.base_url,
                "DATABASE_URL": database_url,
                "FLOOD_LIMIT": "1000",
                "LOG_LEVEL": "DEBUG",  # the most there is to leak
                "LOG_FORMAT": log_format,
                "PYTHONPATH": str(site),
                "JURAGAN_TEST_MESSAGE": TYPED,
            }
            since = len(fake.calls)
            proc = Spawned(await Spawned.spawn(env, tmp_path))
            try:
                await proc.until(
                    fake.wait_for(
                        lambda c: c.method == "setMyCommands" and "scope" in c.params,
                        timeout=60,
                        since=since,
                    )
                )
                # An update kind aiogram does not know, carrying everything (its warning
                # would print the whole update).
                fake.push_update(
                    {
                        "future_kind": {
                            "from": {"id": ID, "is_bot": False, "first_name": NAME},
                            "text": TYPED,
                            "contact": {"phone_number": "081234567890", "first_name": NAME},
                        }
                    }
                )
                await proc.until(logged(proc, "unknown unhandled"))

                # IntegrityError: the flow run holding the typed name is refused.
                await proc.until(step(fake, ID, lambda: fake.send_text(ID, "/start",
                                                                       first_name=NAME), "UU No. 27"))  # fmt: skip
                await proc.until(step(fake, ID, lambda: press(fake, "Setuju", ID), "1 dari 8"))
                await proc.until(
                    step(fake, ID, lambda: press(fake, "Bahasa Indonesia", ID), "2 dari 8")
                )
                await proc.until(step(fake, ID, lambda: fake.send_text(ID, NAME), SORRY))

                # IntegrityError: the person's own row is refused at consent.
                uid = REFUSED_ID
                await proc.until(
                    step(fake, uid, lambda: fake.send_text(uid, "/start", first_name=NAME), "UU")
                )
                await proc.until(step(fake, uid, lambda: press(fake, "Setuju", uid), SORRY))

                # A handler raising with the canary in its message.
                uid = HELPER_ID
                await proc.until(
                    step(fake, uid, lambda: fake.send_text(uid, "/help", first_name=NAME), SORRY)
                )

                # A Telegram id beyond int64, typing the canary: DataError on PostgreSQL.
                since = len(fake.calls)
                fake.send_text(HUGE_ID, f"/start {TYPED}", first_name=NAME)
                await proc.until(expect(fake, HUGE_ID, since, SORRY))
            finally:
                output = await proc.stop()
    finally:
        await allow_canaries(database_url)
    assert proc.proc.returncode == 0, output
    assert leaks(output) == [], output
    check_format(output, log_format)
    # Not one canary byte; and each path was taken and logged (what and where).
    postgres = database_url.startswith("postgresql")
    for said in (
        "update 1 unknown unhandled",
        "IntegrityError",
        "ValueError",
        "DataError" if postgres else "OverflowError",
        "SQLSTATE 23514" if postgres else "sqlite3.IntegrityError: refused",
    ):
        assert said in output, said
    if postgres:
        assert "constraint canary_runs" in output and "constraint canary_people" in output


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("api_url", ["http://", "http://[::1", "http://[::1]:{port}"])
async def test_a_bad_telegram_api_url_never_shows_the_token(
    tmp_path: Path, log_format: str, api_url: str
) -> None:
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url.format(port=free_port()),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/j.db",
        "TELEGRAM_START_SECONDS": "1",
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": log_format,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env={**os.environ, **env}, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    output = out.decode() + err.decode()
    assert proc.returncode == 2, output
    assert output.splitlines()[-1].startswith("juragan: "), output
    assert "Traceback" not in output and leaks(output) == [], output


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_the_webhook_logs_no_canary(
    database_url: str, tmp_path: Path, log_format: str
) -> None:
    """`juragan webhook`: an unknown update kind, ids beyond int64, a body nested 5,000 deep and
    a handler raising, each carrying the canary; the refusals are 400s, not errors."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    async with FakeBotAPI() as fake:
        instance = await Instance.start(
            fake, database_url, tmp_path, BOT_TOKEN=TOKEN, LOG_LEVEL="DEBUG",
            LOG_FORMAT=log_format, PYTHONPATH=str(site), JURAGAN_TEST_MESSAGE=TYPED,
        )  # fmt: skip
        try:
            user = {"id": ID, "is_bot": False, "first_name": NAME}
            unknown = {"update_id": 11, "future_kind": {"from": user, "text": TYPED}}
            assert await fake.post_update(instance.url, unknown) == 200
            huge = {
                "update_id": 12,
                "message": {
                    "message_id": 1, "date": 1, "text": TYPED,
                    "chat": {"id": HUGE_ID, "type": "private", "first_name": NAME},
                    "from": {**user, "id": HUGE_ID},
                },
            }  # fmt: skip
            assert await fake.post_update(instance.url, huge) == 400
            assert await fake.post_update(instance.url, {**huge, "update_id": 2**64}) == 400
            inner = json.dumps({"text": TYPED, "from": user}).encode()
            deep = b'{"update_id": 14, "x": ' + b'{"x": ' * 5000 + inner + b"}" * 5001
            headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            async with aiohttp.ClientSession() as client:
                async with client.post(instance.url, data=deep, headers=headers) as answer:
                    assert answer.status == 400
            helper = {
                "update_id": 15,
                "message": {
                    "message_id": 2, "date": 1, "text": "/help",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                    "chat": {"id": HELPER_ID, "type": "private", "first_name": NAME},
                    "from": {**user, "id": HELPER_ID},
                },
            }  # fmt: skip
            assert await fake.post_update(instance.url, helper) == 200
            assert any(SORRY in str(c.params.get("text")) for c in fake.calls_to("sendMessage"))
        finally:
            output = await instance.stop()
    assert instance.proc.returncode == 0, output
    assert leaks(output) == [], output
    check_format(output, log_format)
    assert "update 11 unknown unhandled" in output and "ValueError" in output
    assert output.count("webhook request refused: the body is not a Telegram update") == 3
