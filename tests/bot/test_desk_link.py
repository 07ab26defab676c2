"""`juragan desk-link --demo` (`make demo` prints it): a one-time sign-in link to a desk on
this machine for the demo's admin, the console's `/as admin`; never for a server's desk."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import func, select

from bot.__main__ import main
from bot.console import DEMO_USER, ROLE_PEOPLE
from flows import clock
from operations import desk
from storage import repo
from storage.db import create_engine, create_sessionmaker
from storage.models import AuditEntry

LINK = re.compile(r"http://127\.0\.0\.1:8081/masuk/([A-Za-z0-9_-]+)")


@pytest.fixture
def demo(tmp_path, monkeypatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DESK_URL", "http://127.0.0.1:8081/")
    return url


async def spend(url: str, token: str) -> tuple[int | None, str | None, int | None, int]:
    """Whom the link signs in (a person id or None), the demo admin's role and id, and how many
    role.set audits there are."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            person_id = await desk.spend_link(session, token=token, now=clock.now())
            admin = await repo.person_by_telegram_id(
                session, telegram_id=DEMO_USER + ROLE_PEOPLE["admin"][0]
            )
            audits = await session.scalar(
                select(func.count()).where(AuditEntry.action == "role.set")
            )
            assert admin is not None
            return person_id, admin.role, admin.id, int(audits or 0)
    finally:
        await engine.dispose()


def test_it_prints_a_link_that_signs_in_the_demo_admin_once(demo, capsys) -> None:
    assert main(["desk-link", "--demo"]) == 0
    said = capsys.readouterr().out
    assert "Admin Demo" in said and "10 minutes" in said
    token = LINK.search(said).group(1)  # type: ignore[union-attr]
    person_id, role, admin_id, audits = asyncio.run(spend(demo, token))
    assert person_id == admin_id and role == "admin" and audits == 1
    assert asyncio.run(spend(demo, token))[0] is None  # used: it works once
    assert main(["desk-link", "--demo"]) == 0  # another link, for the same admin
    again = LINK.search(capsys.readouterr().out).group(1)  # type: ignore[union-attr]
    assert again != token
    assert asyncio.run(spend(demo, again)) == (admin_id, "admin", admin_id, 1)


def test_it_refuses_anything_but_a_desk_on_this_machine(demo, monkeypatch, capsys) -> None:
    assert main(["desk-link"]) == 2  # only the demo's admin
    assert "/meja" in capsys.readouterr().err
    monkeypatch.setenv("DESK_URL", "https://meja.example.go.id/")
    assert main(["desk-link", "--demo"]) == 2
    monkeypatch.delenv("DESK_URL")
    assert main(["desk-link", "--demo"]) == 2
    said = capsys.readouterr()
    assert "loopback" in said.err and "masuk/" not in said.out
