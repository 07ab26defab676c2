"""`juragan run` as a real process, long polling a fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from storage import repo
from storage.db import create_engine, create_sessionmaker
from storage.models import Person
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.process import press, start, step, stop

UID = 7001


async def _answer(fake: FakeBotAPI, action, text: str) -> None:
    await step(fake, UID, action, text)


async def test_a_returnee_onboards_through_the_real_process(database_url: str, tmp_path) -> None:
    async with FakeBotAPI() as fake:
        proc = await start(fake, database_url, tmp_path)
        try:
            commands = [c for c in fake.calls if c.method == "setMyCommands"]
            assert {c.params.get("language_code") for c in commands} >= {"id", "en"}

            await _answer(fake, lambda: fake.send_text(UID, "/start"), "UU No. 27")
            await _answer(fake, lambda: press(fake, "Setuju", UID), "langkah 1 dari 8")
            await _answer(fake, lambda: press(fake, "Bahasa Indonesia", UID), "langkah 2 dari 8")
            await _answer(fake, lambda: fake.send_text(UID, "Siti Aminah"), "langkah 3 dari 8")
            await _answer(fake, lambda: fake.send_contact(UID, "6281234567890"), "langkah 4 dari 8")
            await _answer(fake, lambda: fake.send_text(UID, "Jawa Tengah"), "langkah 5 dari 8")
            await _answer(fake, lambda: fake.send_text(UID, "Cilacap"), "langkah 6 dari 8")
            await _answer(fake, lambda: press(fake, "Hong Kong", UID), "langkah 7 dari 8")
            await _answer(fake, lambda: fake.send_text(UID, "4 tahun"), "langkah 8 dari 8")
            await _answer(fake, lambda: press(fake, "Pelatihan", UID), "Siti Aminah")

            engine = create_engine(database_url)
            async with create_sessionmaker(engine)() as session:
                person: Person | None = await repo.person_by_telegram_id(session, telegram_id=UID)
            await engine.dispose()
            assert person is not None and person.onboarded_at is not None
            assert (person.phone, person.regency_code, person.country) == (
                "+6281234567890",
                "33.01",
                "HK",
            )
            assert (person.years_abroad, person.goal) == ("3to5", "training")
        finally:
            log = await stop(proc)
        assert proc.returncode == 0, log
        assert "81234567890" not in log and "Siti" not in log


async def _run_expecting_refusal(env: dict[str, str], cwd) -> tuple[int | None, bytes]:
    """`juragan run` with settings it should refuse: its exit status and what it printed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    return proc.returncode, err


async def test_run_without_a_token_says_so_in_one_sentence(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    returncode, err = await _run_expecting_refusal(env, tmp_path)
    assert returncode == 2
    assert err.decode().strip().count("\n") == 0 and "BOT_TOKEN" in err.decode()
    assert "Traceback" not in err.decode()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("ADMIN_IDS", "abc"),
        ("DEFAULT_LOCALE", "fr"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("LOG_LEVEL", "LOUD"),
        ("BOT_TOKEN", "nonsense"),
        ("QUIET_HOURS", "evening"),
        ("DELIVERY_RATE", "100"),
    ],
)
async def test_a_malformed_setting_is_named_with_exit_status_2(tmp_path, name, value) -> None:
    env = {**os.environ, "BOT_TOKEN": "123:abc", name: value}
    returncode, err = await _run_expecting_refusal(env, tmp_path)
    assert returncode == 2, err.decode()
    assert name in err.decode() and "Traceback" not in err.decode()


async def test_with_status_port_run_serves_healthz_and_metrics(database_url, tmp_path) -> None:
    """`juragan run` has no webhook server; STATUS_PORT gives it /healthz and /metrics."""
    import aiohttp

    from tests.support.process import free_port

    port = free_port()
    async with FakeBotAPI() as fake:
        proc = await start(fake, database_url, tmp_path, STATUS_PORT=str(port))
        try:
            await _answer(fake, lambda: fake.send_text(UID, "/start"), "UU No. 27")
            async with aiohttp.ClientSession() as client:
                async with client.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    assert answer.status == 200
                    health = await answer.json()
                async with client.get(f"http://127.0.0.1:{port}/metrics") as answer:
                    metrics = await answer.text()
                async with client.post(f"http://127.0.0.1:{port}/tg/hook", json={}) as answer:
                    assert answer.status in (404, 405)  # no webhook route in polling mode
        finally:
            log = await stop(proc)
    assert health["database"] == "ok" and health["scheduler"] == "ok"
    assert 'juragan_updates_total{outcome="handled",type="message"} 1.0' in metrics
    assert proc.returncode == 0, log
