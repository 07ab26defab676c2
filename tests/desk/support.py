"""Helpers for the desk's tests: people and submissions made fast, and signing in."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from sqlalchemy import insert

from bot.app import OFFLINE_TOKEN, App
from bot.offline import OfflineChat
from flows import clock
from storage import repo
from storage.models import Person, Submission
from tests.support.talk import onboard, texts

LINK = re.compile(r"http://127\.0\.0\.1/meja/masuk/([A-Za-z0-9_-]+)")


async def make_role(app: App, uid: int, role: str, regions: list[str] | None = None) -> None:
    async with app.sessionmaker() as session, session.begin():
        person = await repo.person_by_telegram_id(session, telegram_id=uid)
        assert person is not None
        await repo.set_role(session, person_id=person.id, role=role, regions=regions)


async def staff(app: App, person: Any, uid: int, role: str = "staff",
                regions: list[str] | None = None, lang: str = "en") -> OfflineChat:  # fmt: skip
    chat = person(uid)
    await onboard(
        chat, lang=lang, name="Petugas " + "ABCDEFGHIJ"[uid % 10] + "ABCDEFGHIJ"[uid // 10 % 10]
    )
    await make_role(app, uid, role, regions)
    return chat


async def link_of(chat: OfflineChat) -> str:
    said = texts(await chat.send("/meja"))
    found = LINK.search(said)
    assert found, said
    return found.group(1)


async def sign_in(client: TestClient, chat: OfflineChat) -> None:
    token = await link_of(chat)
    page = await client.get(f"/meja/masuk/{token}")
    assert page.status == 200 and token in await page.text()
    signed = await client.post("/meja/masuk", data={"token": token}, allow_redirects=False)
    assert signed.status == 303, await signed.text()


async def csrf_of(client: TestClient, path: str = "/meja/tinjau") -> str:
    page = await client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert found, await page.text()
    return found.group(1)


async def returnees(
    app: App, n: int, *, regency: str = "35.78", start: int = 700000, kind: str = "kur_readiness",
    answers: dict[str, Any] | None = None, hours_ago: int = 1,
) -> list[int]:  # fmt: skip
    """n people with a waiting submission each (oldest first); their submission ids."""
    now = clock.now()
    ids = []
    async with app.sessionmaker() as session, session.begin():
        for i in range(n):
            person = await session.execute(
                insert(Person).values(
                    telegram_id=start + i, name=f"Warga {i:03d}", phone=f"+628123450{i:04d}",
                    nik=f"357801010190{i:04d}", province_code=regency[:2], regency_code=regency,
                    locale="id", role="returnee", created_at=now, updated_at=now,
                ).returning(Person.id)
            )  # fmt: skip
            pid = person.scalar_one()
            made = now - timedelta(hours=hours_ago) + timedelta(seconds=i)
            sub = await session.execute(
                insert(Submission).values(
                    person_id=pid, kind=kind, province_code=regency[:2], regency_code=regency,
                    answers=answers or {"business": "Warung sembako"}, status="submitted",
                    created_at=made, updated_at=made,
                ).returning(Submission.id)
            )  # fmt: skip
            ids.append(sub.scalar_one())
    return ids


def init_data(user_id: int, *, auth_date: int | None = None, token: str = OFFLINE_TOKEN) -> str:
    """A Mini App's init data for this Telegram user, signed as Telegram signs it (with `token`)."""
    fields = {
        "query_id": f"AAH{user_id}",
        "user": json.dumps({"id": user_id, "first_name": "Petugas"}, separators=(",", ":")),
        "auth_date": str(auth_date if auth_date is not None else int(clock.now().timestamp())),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)
