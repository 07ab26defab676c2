"""End to end: a reviewer signs in with the link the running bot gives, returns a submission
for correction at the desk; the returnee's message arrives at the (fake) Bot API from the bot
process within seconds, and their /progres shows it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert

from bot.app import build_i18n
from bot.config import Settings
from desk.app import build, mount
from storage.db import create_engine, create_sessionmaker
from storage.models import Person, Submission, utcnow
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.process import start, stop

STAFF, RETURNEE = 7401, 7402
DESK_URL = "http://127.0.0.1/meja/"
REASON = "Nama belum sesuai KTP, mohon diperbaiki."


async def test_a_desk_decision_reaches_the_returnee_and_their_progress(
    database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    now = utcnow()
    async with create_sessionmaker(engine)() as session, session.begin():
        await session.execute(insert(Person).values(
            telegram_id=STAFF, name="Petugas Dinas", role="staff", locale="en", province_code="35",
            created_at=now, updated_at=now, onboarded_at=now))  # fmt: skip
        pid = (await session.execute(insert(Person).values(
            telegram_id=RETURNEE, name="Siti Aminah", phone="+6281234567890", locale="id",
            province_code="35", regency_code="35.78", created_at=now, updated_at=now,
            onboarded_at=now).returning(Person.id))).scalar_one()  # fmt: skip
        sid = (await session.execute(insert(Submission).values(
            person_id=pid, kind="kur_readiness", province_code="35", regency_code="35.78",
            answers={"business": "Warung sembako"}, status="submitted",
            created_at=now - timedelta(hours=2), updated_at=now).returning(Submission.id))).scalar_one()  # fmt: skip
    settings = Settings(database_url=database_url, desk_url=DESK_URL, _env_file=None)  # type: ignore[call-arg]
    root = web.Application()
    mount(root, build(settings, create_sessionmaker(engine), build_i18n("id")), "/meja/")
    async with FakeBotAPI() as fake, TestClient(TestServer(root)) as desk:
        proc = await start(
            fake, database_url, tmp_path, DESK_URL=DESK_URL, BROADCAST_POLL_SECONDS="0.3"
        )
        try:
            fake.send_text(STAFF, "/meja", language_code="en")
            call = await fake.wait_for(
                lambda c: c.method == "sendMessage" and str(c.params.get("chat_id")) == str(STAFF),
                timeout=20,
            )
            token = re.search(r"/meja/masuk/([A-Za-z0-9_-]+)", call.params["text"]).group(1)
            signed = await desk.post("/meja/masuk", data={"token": token}, allow_redirects=False)
            assert signed.status == 303
            page = await (await desk.get(f"/meja/tinjau/{sid}")).text()
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            decided = await desk.post(
                f"/meja/tinjau/{sid}",
                data={"csrf": csrf, "decision": "return", "fields": "name", "reason": REASON},
                allow_redirects=False,
            )
            assert decided.status == 303
            told = await fake.wait_for(
                lambda c: (
                    c.method == "sendMessage" and str(c.params.get("chat_id")) == str(RETURNEE)
                ),
                timeout=15,
            )
            assert REASON in told.params["text"] and "perbaikan" in told.params["text"]
            assert "Correct" not in told.params["text"]  # in the returnee's language
            since = len(fake.calls)
            fake.send_text(RETURNEE, "/progres")
            progress = await fake.wait_for(
                lambda c: (
                    fake.calls.index(c) >= since
                    and c.method == "sendMessage"
                    and str(c.params.get("chat_id")) == str(RETURNEE)
                ),
                timeout=15,
            )
            assert REASON in progress.params["text"]
        finally:
            log = await stop(proc)
    await engine.dispose()
    assert "notices: 1 sent" in log
    assert "Siti" not in log and REASON not in log
