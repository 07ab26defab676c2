"""Settings and the command line: whatever is wrong, `juragan` stops with exit status 2 and one
sentence on stderr naming it, never a traceback, never a secret."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.process import WEBHOOK_SECRET, WEBHOOK_URL, free_port

TOKEN = "123456:CANARY"
RANGE = {
    "REMINDER_TICK_SECONDS": "must be a number from 0.1 to 3600 (seconds)",
    "BROADCAST_POLL_SECONDS": "must be a number from 0.1 to 600 (seconds)",
    "FLOOD_WINDOW": "must be a number from 0.1 to 3600 (seconds)",
    "DELIVERY_RATE": "must be a number from 0.1 to 30 (messages a second)",
    "REVIEW_OVERDUE_DAYS": "must be a whole number from 1 to 365 (days)",
    "FLOOD_LIMIT": "must be a whole number from 1 to 1000000 (updates)",
    "ANNOUNCEMENT_WEEKLY_CAP": "must be a whole number from 0 to 100 (announcements)",
    "DIGEST_HOUR": "must be a whole number from 0 to 23 (o'clock)",
    "TELEGRAM_START_SECONDS": "must be a number from 1 to 600 (seconds)",
}
UNREADABLE = "must be a URL that can be read (check its host, port and [brackets])"


async def juragan(*args: str, cwd: Path, **env: str) -> tuple[int | None, str, str]:
    """Run `juragan ARGS` with these settings (and no others from this machine's environment):
    exit status, stdout, stderr."""
    base = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd,
        env={**base, "BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite+aiosqlite:///{cwd}/j.db", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    return proc.returncode, out.decode(), err.decode()


def one_sentence(err: str, sentence: str) -> None:
    """stderr is exactly `juragan: <sentence>` on one line: no traceback, no secret."""
    assert err == f"juragan: {sentence}\n", err
    assert "Traceback" not in err and "CANARY" not in err


@pytest.mark.parametrize(
    ("name", "value", "sentence"),
    [
        ("TELEGRAM_API_URL", "http://", "must name a host, like https://api.telegram.org"),
        ("TELEGRAM_API_URL", "http://[::1", UNREADABLE),
        ("REDIS_URL", "redis://:pw@[bad", UNREADABLE),
        ("DATABASE_URL", "sqlite+aiosqlite://", "must name a file for SQLite, like "
         "sqlite+aiosqlite:///./juragan.db"),
        ("ADMIN_IDS", "--5", "must be Telegram user ids (positive whole numbers) separated by "
         "commas, like 12345,67890"),
        *[(name, value, RANGE[name]) for name, value in [
            ("REMINDER_TICK_SECONDS", "inf"),
            ("REMINDER_TICK_SECONDS", "nan"),
            ("REMINDER_TICK_SECONDS", "1e-300"),
            ("BROADCAST_POLL_SECONDS", "nan"),
            ("FLOOD_WINDOW", "inf"),
            ("DELIVERY_RATE", "1e-300"),
            ("REVIEW_OVERDUE_DAYS", "99999999999999"),
        ]],
    ],
)  # fmt: skip
async def test_a_bad_setting_stops_run_with_one_sentence(
    tmp_path: Path, name: str, value: str, sentence: str
) -> None:
    status, out, err = await juragan("run", cwd=tmp_path, **{name: value})
    assert status == 2 and out == ""
    one_sentence(err, f"{name} is malformed: {sentence}.")


async def test_a_dotenv_that_is_not_utf8_stops_with_one_sentence(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"ADMIN_IDS=1\nWEBHOOK_SECRET=caf\xe9\xff\n")
    status, _, err = await juragan("run", cwd=tmp_path)
    assert status == 2
    one_sentence(err, "The .env file is not UTF-8 text: save it as UTF-8 (or remove it).")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_API_URL", "http://[zz]"),
        ("TELEGRAM_API_URL", "http://user:pw@api.example"),
        ("TELEGRAM_API_URL", "https://api.example/bot?x=1"),
        ("TELEGRAM_API_URL", "https://api.example/a b"),
        ("TELEGRAM_API_URL", "https://api.example:99999"),
        ("TELEGRAM_API_URL", "https://:443"),
        ("WEBHOOK_URL", "https://"),
        ("WEBHOOK_URL", "https://bot.example/tg#x"),
        ("REDIS_URL", "redis://"),
        ("REDIS_URL", "redis://h:6379/zero"),
        ("DATABASE_URL", "sqlite+aiosqlite:///:memory:"),
        ("DATABASE_URL", "postgresql+asyncpg://u:pw@[bad/db"),
        ("ADMIN_IDS", "-5"),
        ("ADMIN_IDS", "99999999999999999999"),
        ("WEBHOOK_PORT", "70000"),
        ("STATUS_PORT", "-1"),
        *[(name, bad) for name in RANGE for bad in ("inf", "-inf", "nan", "1e-300", "1e300")],
    ],
)
def test_every_bad_value_is_refused_with_the_setting_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None, **{name.lower(): value})
    said = str(refused.value)
    assert said.startswith(f"{name} is malformed: must ") and said.endswith(".")
    assert "pw@" not in said and "9999999999" not in said  # never quoted back
    if name in RANGE:
        assert RANGE[name] in said


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_API_URL", "http://[::1]:8081"),
        ("TELEGRAM_API_URL", "http://127.0.0.1:8081/"),
        ("TELEGRAM_API_URL", "https://bot-api.example.go.id/telegram"),
        ("REDIS_URL", "redis://:pw@127.0.0.1:6379/2"),
        ("REDIS_URL", "unix:///run/redis.sock"),
        ("DATABASE_URL", "postgresql+asyncpg://juragan:pw@[::1]:5432/juragan"),
        ("ADMIN_IDS", "12345, 67890"),
        ("REMINDER_TICK_SECONDS", "0.5"),
    ],
)
def test_good_values_still_pass(name: str, value: str) -> None:
    load_settings(_env_file=None, **{name.lower(): value})


def test_the_secrets_are_known_to_the_logs() -> None:
    settings = load_settings(
        _env_file=None, bot_token=TOKEN, database_url="postgresql+asyncpg://u:dbpass@h/db",
        redis_url="redis://:redispass@h:6379/0", webhook_secret="hook-secret",
    )  # fmt: skip
    assert set(settings.secrets()) == {TOKEN, "dbpass", "redispass", "hook-secret"}


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (
            ["role", "99999999999999999999999", "admin"],
            "TELEGRAM_ID must be a Telegram user id, a whole number from 1 to 9223372036854775807.",
        ),
        (["role", "-5", "admin"], None),
        (["role", "0", "admin"], None),
        (
            ["role", "4242", "staff", "--regions", ""],
            "--regions is empty: give region codes like 35.78,35.73, or leave --regions out "
            "for a role everywhere.",
        ),
        (["role", "4242", "staff", "--regions", " , "], None),
        (
            ["role", "4242", "staff", "--regions", "35.78,99"],
            "unknown region code '99' in --regions (e.g. 35 or 35.78).",
        ),
    ],
)
async def test_role_refuses_what_it_cannot_grant_with_one_sentence(
    tmp_path: Path, args: list[str], sentence: str | None
) -> None:
    status, out, err = await juragan(*args, cwd=tmp_path)
    assert status == 2 and out == ""
    if sentence is None:  # the same sentence as the row above
        assert err.startswith("juragan: ") and err.count("\n") == 1, err
    else:
        one_sentence(err, sentence)
    assert not (tmp_path / "j.db").exists()  # refused before anything was opened


async def test_an_unreachable_telegram_is_tried_again_then_one_sentence(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    status, _, err = await juragan(
        "run", cwd=tmp_path, TELEGRAM_API_URL=f"http://127.0.0.1:{port}",
        TELEGRAM_START_SECONDS="3.5",
    )  # fmt: skip
    assert status == 2
    lines = err.splitlines()
    assert lines[-1] == (
        f"juragan: Telegram cannot be reached at TELEGRAM_API_URL (127.0.0.1:{port}): "
        "3 attempt(s) in 3.5 s failed; check the network and try again."
    ), err
    retries = [line for line in lines if "Telegram not reachable" in line]
    assert [line.split("trying again in ")[1] for line in retries] == ["1 s", "2 s"], err
    assert "Traceback" not in err and "CANARY" not in err


@pytest.mark.parametrize("command", ["run", "webhook"])
async def test_a_token_telegram_refuses_is_one_sentence(tmp_path: Path, command: str) -> None:
    async with FakeBotAPI(token="123456:the-right-one") as fake:
        status, _, err = await juragan(
            command, cwd=tmp_path, TELEGRAM_API_URL=fake.base_url,
            WEBHOOK_URL=WEBHOOK_URL, WEBHOOK_SECRET=WEBHOOK_SECRET,
        )  # fmt: skip
    assert status == 2
    assert err.splitlines()[-1] == (
        "juragan: Telegram refused BOT_TOKEN (getMe: 401 Unauthorized): check the token from "
        "@BotFather."
    ), err
    assert "Traceback" not in err and "CANARY" not in err


async def test_a_webhook_telegram_refuses_is_one_sentence(tmp_path: Path) -> None:
    async with FakeBotAPI() as fake:
        fake.fail_next("setWebhook", code=401)
        status, _, err = await juragan(
            "webhook", cwd=tmp_path, TELEGRAM_API_URL=fake.base_url, WEBHOOK_URL=WEBHOOK_URL,
            WEBHOOK_SECRET=WEBHOOK_SECRET, WEBHOOK_PORT=str(free_port()),
        )  # fmt: skip
    assert status == 2
    assert err.splitlines()[-1] == (
        "juragan: Telegram refused BOT_TOKEN (setWebhook: 401 Unauthorized): check the token "
        "from @BotFather."
    ), err
    assert "Traceback" not in err and "CANARY" not in err


@pytest.mark.parametrize(
    ("command", "setting"), [("run", "STATUS_PORT"), ("webhook", "WEBHOOK_PORT")]
)
async def test_a_port_taken_is_one_sentence(tmp_path: Path, command: str, setting: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeBotAPI() as fake:
            status, _, err = await juragan(
                command, cwd=tmp_path, TELEGRAM_API_URL=fake.base_url, WEBHOOK_URL=WEBHOOK_URL,
                WEBHOOK_SECRET=WEBHOOK_SECRET, **{setting: str(port)},
            )  # fmt: skip
    assert status == 2
    assert err.splitlines()[-1] == (
        f"juragan: {setting} {port} on 127.0.0.1 cannot be used: another program is using "
        "that port."
    ), err
    assert "Traceback" not in err and "CANARY" not in err


async def test_chat_refuses_a_user_id_the_database_cannot_hold(tmp_path: Path) -> None:
    status, _, err = await juragan("chat", "--user", "99999999999999999999999", cwd=tmp_path)
    assert status == 2 and "Traceback" not in err
    assert err.splitlines()[-1] == (
        "juragan chat: error: argument --user: must be a whole number from 1 to 9223372036854775807"
    )
