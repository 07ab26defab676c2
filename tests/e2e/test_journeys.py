"""A journey through `juragan run` as a real process, killed with SIGKILL halfway and started
again: the person goes on at the same step, nothing is lost, and the journey's rows are there."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.db import create_engine, create_sessionmaker
from storage.models import FlowRun, Founding, FoundingMember, Loan, Submission
from tests.e2e.test_polling import _press
from tests.support.fake_bot_api import FakeBotAPI

FOUNDER, COFOUNDER = 7101, 7102


async def _start(fake: FakeBotAPI, database_url: str, cwd: Path) -> asyncio.subprocess.Process:
    """`juragan run` against the fake server, once it polls."""
    env = {
        **os.environ,
        "BOT_TOKEN": "123456:TEST-token",
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "FLOOD_LIMIT": "1000",
        "LOG_LEVEL": "INFO",
    }
    since = len(fake.calls)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    polling = asyncio.create_task(
        fake.wait_for(lambda c: c.method == "getUpdates", timeout=30, since=since)
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


async def _onboard(
    fake: FakeBotAPI, uid: int, start: str = "/start", then: str = "Apa yang ingin Anda lakukan"
) -> None:
    await _step(fake, uid, lambda: fake.send_text(uid, start), "UU No. 27")
    await _step(fake, uid, lambda: _press(fake, "Setuju", uid), "langkah 1 dari 8")
    for action in (
        lambda: _press(fake, "Bahasa Indonesia", uid),
        lambda: fake.send_text(uid, "Siti Aminah"),
        lambda: fake.send_text(uid, "0812 3456 7890"),
        lambda: fake.send_text(uid, "Jawa Timur"),
        lambda: fake.send_text(uid, "Kota Surabaya"),
        lambda: _press(fake, "Taiwan", uid),
        lambda: fake.send_text(uid, "4 tahun"),
    ):
        await _step(fake, uid, action, "dari 8")
    await _step(fake, uid, lambda: _press(fake, "Modal usaha", uid), then)


async def _expect_to(fake: FakeBotAPI, uid: int, since: int, text: str) -> None:
    await fake.wait_for(
        lambda c: (
            c.method in ("sendMessage", "editMessageText")
            and str(c.params.get("chat_id")) == str(uid)
            and text in str(c.params.get("text"))
        ),
        timeout=15,
        since=since,
    )


async def _step(fake: FakeBotAPI, uid: int, action: Any, expect: str) -> None:
    since = len(fake.calls)
    result = action()
    if asyncio.iscoroutine(result):
        await result
    await _expect_to(fake, uid, since, expect)


async def _count(database_url: str, model: Any, *where: Any) -> int:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        found = await session.scalar(select(func.count()).select_from(model).where(*where))
    await engine.dispose()
    return int(found or 0)


async def _stop(proc: asyncio.subprocess.Process) -> str:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    return output.decode()


async def test_kur_readiness_survives_a_kill_and_goes_on_at_the_same_step(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeBotAPI() as fake:
        proc = await _start(fake, database_url, tmp_path)
        try:
            await _onboard(fake, FOUNDER)
            await _step(fake, FOUNDER, lambda: _press(fake, "Pinjaman KUR", FOUNDER), "1 dari 10")
            await _step(
                fake, FOUNDER, lambda: _press(fake, "6 bulan atau lebih", FOUNDER), "2 dari"
            )
            await _step(fake, FOUNDER, lambda: fake.send_text(FOUNDER, "Warung sembako"), "3 dari")
            proc.kill()  # SIGKILL: no shutdown, no goodbye
            await proc.wait()
            assert await _count(database_url, FlowRun, FlowRun.step == "age") == 1

            proc = await _start(fake, database_url, tmp_path)
            # The question that was on screen before the kill still works.
            await _step(
                fake, FOUNDER, lambda: _press(fake, "21 tahun atau lebih", FOUNDER), "4 dari"
            )
            for label, expect in (("Ya", "5 dari"), ("Ya", "6 dari"), ("NIB", "7 dari")):
                await _step(fake, FOUNDER, lambda label=label: _press(fake, label, FOUNDER), expect)
            await _step(fake, FOUNDER, lambda: fake.send_text(FOUNDER, "40 juta"), "8 dari")
            await _step(fake, FOUNDER, lambda: _press(fake, "Tidak ada", FOUNDER), "9 dari")
            await _step(fake, FOUNDER, lambda: _press(fake, "Belum", FOUNDER), "10 dari")
            await _step(fake, FOUNDER, lambda: _press(fake, "Lihat hasil", FOUNDER), "KUR Mikro")
            assert await _count(database_url, Loan, Loan.amount == 40_000_000) == 1
            assert await _count(database_url, Submission, Submission.kind == "kur_readiness") == 1
            run = await _count(database_url, FlowRun, FlowRun.flow == "kur_readiness")
            assert run == 1
        finally:
            log = await _stop(proc)
        assert "81234567890" not in log and "Siti" not in log and "40000000" not in log


async def test_a_cofounder_joins_through_the_invitation_link(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeBotAPI() as fake:
        proc = await _start(fake, database_url, tmp_path)
        try:
            await _onboard(fake, FOUNDER)
            await _step(fake, FOUNDER, lambda: _press(fake, "Koperasi", FOUNDER), "9 orang")
            await _step(fake, FOUNDER, lambda: _press(fake, "Dirikan", FOUNDER), "1 dari")
            await _step(fake, FOUNDER, lambda: _press(fake, "Jasa", FOUNDER), "2 dari")
            await _step(
                fake,
                FOUNDER,
                lambda: fake.send_text(FOUNDER, "Jasa katering untuk hajatan di kampung kami"),
                "3 dari",
            )
            await _step(
                fake, FOUNDER, lambda: fake.send_text(FOUNDER, "Koperasi Purna Jaya"), "4 dari"
            )
            since = len(fake.calls)
            await _press(fake, "Ya", FOUNDER)
            await _expect_to(fake, FOUNDER, since, "t.me/pulang_juragan_bot?start=f-")
            engine = create_engine(database_url)
            async with create_sessionmaker(engine)() as session:
                code = (await session.scalars(select(Founding.code))).one()
            await engine.dispose()

            # Someone new opens the link: consent and profile first, then the invitation.
            await _onboard(fake, COFOUNDER, start=f"/start f-{code}", then="Koperasi Purna Jaya")
            since = len(fake.calls)
            await _press(fake, "Bergabung", COFOUNDER)
            await _expect_to(fake, FOUNDER, since, "bergabung dengan rencana pendirian")
            await _expect_to(fake, COFOUNDER, since, "2 dari paling sedikit 9")
            assert await _count(database_url, FoundingMember) == 2
        finally:
            await _stop(proc)
