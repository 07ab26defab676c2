"""The broadcast sender against the project's fake Bot API, through aiogram's real session:
rate, retries, blocked and opted-out people, scheduling, pause/resume/cancel, restarts, the
live progress message and the report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app import App, build_app
from flows import clock
from storage import broadcasts as store
from storage import repo
from storage.models import Broadcast, BroadcastStatus
from tests.support.fake_bot_api import FakeBotAPI

NOW = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)
AUTHOR = 700001


@pytest.fixture
def now() -> list[datetime]:
    moment = [NOW]
    clock.set_clock(lambda: moment[0])
    return moment


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


def live_app(settings, fake: FakeBotAPI, **overrides) -> App:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return build_app(
        settings.model_copy(update=overrides), session=session, token="123456:TEST-token"
    )


@pytest_asyncio.fixture
async def live(settings, fake) -> AsyncIterator[App]:
    app = live_app(settings, fake, delivery_rate=30.0)
    app.sender.progress_every = 0.0
    yield app
    await app.close()


async def people(app: App, first: int, n: int, *, regency: str = "35.78", **values) -> list[int]:
    async with app.sessionmaker() as session, session.begin():
        ids = []
        for tid in range(first, first + n):
            person = await repo.create_person(session, telegram_id=tid, locale="id")
            await repo.update_person(
                session,
                person,
                province_code=regency.split(".")[0],
                regency_code=regency,
                **{"announcements": True, "onboarded_at": NOW, **values},
            )
            ids.append(person.id)
        return ids


async def author(app: App, *, role: str = "coordinator", scope: list[str] | None = None) -> int:
    async with app.sessionmaker() as session, session.begin():
        person = await repo.create_person(session, telegram_id=AUTHOR, locale="en")
        await repo.update_person(session, person, onboarded_at=NOW, province_code="35")
        await repo.set_role(session, person_id=person.id, role=role, regions=scope)
        return person.id


async def draft(app: App, author_id: int, *, segment=None, regions=None, **kw) -> int:
    async with app.sessionmaker() as session, session.begin():
        return await store.create_draft(
            session,
            author_id=author_id,
            text=kw.pop("text", "<b>Pelatihan</b> gratis minggu depan"),
            segment=segment or {"kind": "all"},
            regions=regions,
            **kw,
        )


async def start_now(app: App, broadcast_id: int, *, progress: int | None = None) -> int | None:
    async with app.sessionmaker() as session, session.begin():
        count = await store.start(session, broadcast_id, now=clock.now(), cap_per_week=3)
        if progress is not None:
            await store.set_progress_message(
                session, broadcast_id, chat_id=AUTHOR, message_id=progress
            )
        return count


async def statuses(app: App, broadcast_id: int) -> dict[str, int]:
    async with app.sessionmaker() as session:
        return await store.progress(session, broadcast_id)


async def get(app: App, broadcast_id: int) -> Broadcast:
    async with app.sessionmaker() as session:
        found = await store.get(session, broadcast_id)
        assert found is not None
        return found


def sends(fake: FakeBotAPI, method: str = "sendMessage") -> list:
    return [c for c in fake.calls_to(method) if c.error_code is None]


async def test_everyone_opted_in_gets_it_once_with_how_to_stop(live, fake, now) -> None:
    ids = await people(live, 1000, 20)
    await people(live, 2000, 3, announcements=False)  # never asked for announcements
    me = await author(live)
    bid = await draft(live, me)
    assert await start_now(live, bid) == 20
    done = await live.sender.drain()
    assert done.sent == 20 and done.finished == 1
    got = sends(fake)
    chats = sorted(int(c.params["chat_id"]) for c in got if int(c.params["chat_id"]) != AUTHOR)
    assert chats == list(range(1000, 1020))
    assert all("/berhenti" in c.params["text"] for c in got if int(c.params["chat_id"]) != AUTHOR)
    assert all(
        "<b>Pelatihan</b>" in c.params["text"] for c in got if int(c.params["chat_id"]) != AUTHOR
    )
    counts = await statuses(live, bid)
    assert counts["sent"] == 20 and counts["pending"] == 0
    assert (await get(live, bid)).status == BroadcastStatus.DONE
    assert len(ids) == 20
