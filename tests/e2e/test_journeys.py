"""A journey through `juragan run` as a real process, killed with SIGKILL halfway and started
again: the person goes on at the same step, nothing is lost, and the journey's rows are there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storage.db import create_engine, create_sessionmaker
from storage.models import FlowRun, Founding, FoundingMember, Loan, Submission
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.process import expect, press, press_when_shown, start, step, stop

FOUNDER, COFOUNDER = 7101, 7102


async def _onboard(
    fake: FakeBotAPI, uid: int, first: str = "/start", then: str = "Apa yang ingin Anda lakukan"
) -> None:
    await step(fake, uid, lambda: fake.send_text(uid, first), "UU No. 27")
    await step(fake, uid, lambda: press(fake, "Setuju", uid), "langkah 1 dari 8")
    for action in (
        lambda: press(fake, "Bahasa Indonesia", uid),
        lambda: fake.send_text(uid, "Siti Aminah"),
        lambda: fake.send_text(uid, "0812 3456 7890"),
        lambda: fake.send_text(uid, "Jawa Timur"),
        lambda: fake.send_text(uid, "Kota Surabaya"),
        lambda: press(fake, "Taiwan", uid),
        lambda: fake.send_text(uid, "4 tahun"),
    ):
        await step(fake, uid, action, "dari 8")
    await step(fake, uid, lambda: press(fake, "Modal usaha", uid), then)


async def _count(database_url: str, model: Any, *where: Any) -> int:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        found = await session.scalar(select(func.count()).select_from(model).where(*where))
    await engine.dispose()
    return int(found or 0)


async def test_kur_readiness_survives_a_kill_and_goes_on_at_the_samestep(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeBotAPI() as fake:
        proc = await start(fake, database_url, tmp_path)
        try:
            await _onboard(fake, FOUNDER)
            await step(fake, FOUNDER, lambda: press(fake, "Pinjaman KUR", FOUNDER), "1 dari 11")
            await step(fake, FOUNDER, lambda: press(fake, "6 bulan atau lebih", FOUNDER), "2 dari")
            await step(fake, FOUNDER, lambda: fake.send_text(FOUNDER, "Warung sembako"), "3 dari")
            proc.kill()  # SIGKILL: no shutdown, no goodbye
            await proc.wait()
            assert await _count(database_url, FlowRun, FlowRun.step == "age") == 1

            proc = await start(fake, database_url, tmp_path)
            # The question that was on screen before the kill still works.
            await step(fake, FOUNDER, lambda: press(fake, "21 tahun atau lebih", FOUNDER), "4 dari")
            for label, shown in (("Ya", "5 dari"), ("Ya", "6 dari"), ("NIB", "7 dari")):
                await step(fake, FOUNDER, lambda label=label: press(fake, label, FOUNDER), shown)
            await step(fake, FOUNDER, lambda: fake.send_text(FOUNDER, "40 juta"), "8 dari")
            await step(fake, FOUNDER, lambda: press(fake, "Belum pernah", FOUNDER), "9 dari")
            await step(fake, FOUNDER, lambda: press(fake, "Tidak ada", FOUNDER), "10 dari")
            await step(fake, FOUNDER, lambda: press(fake, "Belum", FOUNDER), "11 dari")
            shown = lambda: press_when_shown(fake, "Lihat hasil", FOUNDER)  # noqa: E731
            await step(fake, FOUNDER, shown, "KUR Mikro")
            assert await _count(database_url, Loan, Loan.amount == 40_000_000) == 1
            assert await _count(database_url, Submission, Submission.kind == "kur_readiness") == 1
            run = await _count(database_url, FlowRun, FlowRun.flow == "kur_readiness")
            assert run == 1
        finally:
            log = await stop(proc)
        assert "81234567890" not in log and "Siti" not in log and "40000000" not in log


async def test_a_cofounder_joins_through_the_invitation_link(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeBotAPI() as fake:
        proc = await start(fake, database_url, tmp_path)
        try:
            await _onboard(fake, FOUNDER)
            await step(fake, FOUNDER, lambda: press(fake, "Koperasi", FOUNDER), "9 orang")
            await step(fake, FOUNDER, lambda: press(fake, "Dirikan", FOUNDER), "1 dari")
            await step(fake, FOUNDER, lambda: press(fake, "Jasa", FOUNDER), "2 dari")
            await step(
                fake,
                FOUNDER,
                lambda: fake.send_text(FOUNDER, "Jasa katering untuk hajatan di kampung kami"),
                "3 dari",
            )
            await step(
                fake, FOUNDER, lambda: fake.send_text(FOUNDER, "Koperasi Purna Jaya"), "4 dari"
            )
            since = len(fake.calls)
            press(fake, "Ya", FOUNDER)
            await expect(fake, FOUNDER, since, "t.me/pulang_juragan_bot?start=f-")
            engine = create_engine(database_url)
            async with create_sessionmaker(engine)() as session:
                code = (await session.scalars(select(Founding.code))).one()
            await engine.dispose()

            # Someone new opens the link: consent and profile first, then the invitation.
            await _onboard(fake, COFOUNDER, first=f"/start f-{code}", then="Koperasi Purna Jaya")
            since = len(fake.calls)
            press(fake, "Bergabung", COFOUNDER)
            await expect(fake, FOUNDER, since, "bergabung dengan rencana pendirian")
            await expect(fake, COFOUNDER, since, "2 dari paling sedikit 9")
            assert await _count(database_url, FoundingMember) == 2
        finally:
            await stop(proc)
