"""Shared fixtures: a migrated database (SQLite, and PostgreSQL when asked), the app wired to
an in-process Bot API, and people who talk to it."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import make_url, text

from bot.app import LOCALES_DIR, OFFLINE_TOKEN, App, build_app
from bot.config import Settings
from bot.offline import OfflineChat, OfflineSession
from flows import clock
from storage.db import create_engine
from storage.migrate import upgrade

# Under pytest-xdist (`make test` runs a few workers) each worker has a PostgreSQL database and a
# Redis database of its own, so one worker's wipe never meets another's test.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") else 0
PG_BASE_URL = os.environ.get("JURAGAN_TEST_DATABASE_URL")
PG_URL = PG_BASE_URL
if PG_BASE_URL and WORKER:
    PG_URL = (
        make_url(PG_BASE_URL)
        .set(database=f"{make_url(PG_BASE_URL).database}_{WORKER}")
        .render_as_string(hide_password=False)
    )
if WORKER:
    _redis = os.environ.get("JURAGAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    _base, _, _db = _redis.rpartition("/")
    os.environ["JURAGAN_TEST_REDIS_URL"] = f"{_base}/{int(_db or 15) - WORKER_INDEX}"
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
ADMIN_ID = 900001
TABLES = [
    "flow_runs",
    "consents",
    "people",
    "processed_updates",
    "cooperatives",
    "submissions",
    "foundings",
    "founding_members",
    "loans",
    "trainings",
    "training_registrations",
    "reminders",
    "broadcasts",
    "deliveries",
    "audit_log",
    "role_invites",
    "desk_login_tokens",
    "desk_sessions",
    "outbox_notices",
    "funnel_run_days",
    "funnel_run_province_days",
    "funnel_submission_days",
    "funnel_summary_state",
    "tickets",
    "ticket_messages",
    "ticket_waits",
    "canned_answers",
    "reason_templates",
    "submission_events",
]
# Kept across tests on purpose: the highest ids ever given (a deleted person's id never returns).
# audit_log_prune: the pruner's cut-off, written and deleted inside one transaction (never left).
NOT_WIPED = {"id_watermarks", "audit_log_prune"}


def compile_catalogs() -> None:
    """Compile .po to .mo when stale, so a bare `pytest` sees the same text as `make test`."""
    for po in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as f:
                catalog = read_po(f)
            with mo.open("wb") as f:
                write_mo(f, catalog)


compile_catalogs()

# The tests that start processes or a browser take seconds each: they go first, so pytest-xdist's
# workers share them out at the start instead of one worker finishing them alone at the end.
SLOW_FIRST = ("tests/e2e/", "tests/desk/test_browser.py", "tests/desk/test_settings.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def slow_first(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return 0 if path.startswith(SLOW_FIRST) else 1

    items.sort(key=slow_first)


# Property tests judge results, not speed: on a busy 2-core CI machine a slow draw or example
# must not fail the suite (speed is measured in bench/, never in tests).
hypothesis_settings.register_profile(
    "juragan", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("juragan")

# Tests live on a known day, so dates typed in them ("15/01/2027") stay in the future. The clock
# still ticks (from this moment), so "the run touched last" keeps its meaning.
TEST_NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10.00 WIB


@pytest.fixture(autouse=True)
def known_day() -> Iterator[None]:
    started = time.monotonic()
    clock.set_clock(lambda: TEST_NOW + timedelta(seconds=time.monotonic() - started))
    yield
    clock.set_clock(None)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_ready() -> str:
    assert PG_URL

    async def create() -> None:  # a worker's own database, made through the one given
        admin = create_engine(PG_BASE_URL, isolation_level="AUTOCOMMIT")
        name = make_url(PG_URL).database
        async with admin.connect() as conn:
            found = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not found:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()

    async def reset() -> None:
        engine = create_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    if PG_URL != PG_BASE_URL:
        asyncio.run(create())
    asyncio.run(reset())
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "juragan.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_ready")

    async def truncate() -> None:
        """Empty what the last test filled and start every id at 1 again. TRUNCATE costs about
        10 ms a table however empty (new files for it and its indexes): only the tables that
        hold rows are truncated, found in one query; every sequence is set back in another."""
        engine = create_engine(url)
        async with engine.begin() as conn:
            filled = [
                row[0]
                for row in await conn.execute(
                    text(
                        " UNION ALL ".join(
                            f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})" for t in TABLES
                        )
                    )  # fmt: skip
                )
            ]
            if filled:
                await conn.execute(text(f"TRUNCATE {', '.join(filled)} RESTART IDENTITY CASCADE"))
            await conn.execute(
                text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_depend d "
                    "ON d.objid = c.oid AND d.deptype IN ('a', 'i') "
                    "JOIN pg_class t ON t.oid = d.refobjid "
                    "WHERE c.relkind = 'S' AND t.relname = ANY(:tables)"
                ),
                {"tables": TABLES},
            )
        await engine.dispose()

    asyncio.run(truncate())
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, admin_ids=frozenset({ADMIN_ID}), flood_limit=1000, _env_file=None
    )  # type: ignore[call-arg]


@pytest_asyncio.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    application = build_app(settings, session=OfflineSession(), token=OFFLINE_TOKEN)
    yield application
    await application.close()


@pytest.fixture
def person(app: App) -> Callable[..., OfflineChat]:
    """Make a person who talks to the bot: person(user_id, language_code='id')."""

    def make(user_id: int = 5001, **kwargs: object) -> OfflineChat:
        return OfflineChat(app.bot, app.dp, app.bot.session, user_id, **kwargs)  # type: ignore[arg-type]

    return make
