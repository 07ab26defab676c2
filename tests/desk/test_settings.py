"""DESK_URL, DESK_HOST, DESK_PORT: checked like every setting (one sentence, exit 2), and the
desk served by `juragan desk` and mounted by `juragan webhook`."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.config import ConfigError, load_settings
from tests.bot.test_settings import juragan, one_sentence
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.process import Instance, free_port

PLAIN = "DESK_URL is malformed: must be https:// (plain http:// only on this machine, like http://127.0.0.1:8081/)."


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ("http://meja.example.go.id/", PLAIN),
        ("http://10.0.0.5:8081/", PLAIN),
        ("ftp://meja.example.go.id/", "DESK_URL is malformed: must be an https:// URL, like "
         "https://meja.example.go.id/."),
        ("https://meja.example.go.id/?next=1", "DESK_URL is malformed: must be a plain address "
         "with no ? or # part, like https://meja.example.go.id/."),
    ],
)  # fmt: skip
def test_a_wrong_desk_url_is_one_sentence(value: str, sentence: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(desk_url=value, _env_file=None)
    assert str(caught.value) == sentence


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:8081/", "http://localhost:8081/meja", "http://[::1]:8081/", "https://meja.example.go.id/kantor/"]
)  # fmt: skip
def test_loopback_http_and_any_https_are_accepted(value: str) -> None:
    settings = load_settings(desk_url=value, _env_file=None)
    assert settings.desk_url.endswith("/") and settings.desk_path.endswith("/")


async def test_juragan_desk_without_desk_url_or_with_a_bad_port_stops_with_one_sentence(
    tmp_path: Path,
) -> None:
    code, _out, err = await juragan("desk", cwd=tmp_path)
    assert code == 2
    assert err.startswith("juragan: DESK_URL is not set:") and err.count("\n") == 1
    code, _out, err = await juragan("desk", cwd=tmp_path, DESK_URL="http://example.com/")
    one_sentence(err, PLAIN)
    assert code == 2
    code, _out, err = await juragan("desk", cwd=tmp_path, DESK_URL="http://127.0.0.1/",
                                    DESK_PORT="70000")  # fmt: skip
    one_sentence(err, "DESK_PORT is malformed: must be a whole number from 1 to 65535.")


async def _get(url: str) -> tuple[int, str]:
    try:
        async with aiohttp.ClientSession() as client, client.get(url) as answer:
            return answer.status, await answer.text()
    except (aiohttp.ClientError, OSError):
        return 0, ""


async def test_juragan_desk_serves_under_its_path(tmp_path: Path) -> None:
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "desk", cwd=tmp_path,
        env={**base, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/j.db",
             "DESK_URL": f"http://127.0.0.1:{port}/meja/", "DESK_PORT": str(port)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        status, body = 0, ""
        for _ in range(600):  # a busy machine may take a while to start it
            status, body = await _get(f"http://127.0.0.1:{port}/meja/")
            if status or proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert status == 200 and "/meja" in body
        assert (await _get(f"http://127.0.0.1:{port}/meja/tinjau"))[0] == 401
    finally:
        proc.terminate()
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 0, out.decode()


async def test_juragan_webhook_mounts_the_desk_under_desk_urls_path(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeBotAPI() as fake:
        instance = await Instance.start(
            fake, database_url, tmp_path, DESK_URL="https://meja.example.go.id/meja/"
        )
        try:
            status, body = await instance.get("/meja/")
            assert status == 200 and "Meja petugas" in body
            assert (await instance.get("/meja/tinjau"))[0] == 401
            assert (await instance.health())[0] == 200
        finally:
            await instance.stop()
