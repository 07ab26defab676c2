"""The desk's searches (storage/desk_queue.py): the same people found on SQLite and PostgreSQL,
wildcards typed taken as characters, four digits matching the end of a phone or of a NIK and
nothing in the middle; each search served by migration 0028's indexes, not a scan of people;
and on a PostgreSQL where the role may not install pg_trgm, the migration still runs and the
search by name stays correct without its index."""

from __future__ import annotations

import asyncio
import logging
import secrets

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from storage import desk_queue
from storage.db import create_engine, create_sessionmaker
from storage.migrate import downgrade, upgrade
from storage.models import Person, Submission
from tests.desk.support import returnees

NAMES = [
    "Siti_Aminah",
    "Siti Aminah",
    "Budi 100% Jaya",
    "Budi 100 Jaya",
    "Back\\slash Wati",
    "Dewi Lestari",
    "DEWI LESTARI PUTRI",
    "Ab",
]
# (phone, nik): the desk's search "1234" finds the first, second and fifth, each once
NUMBERS = [
    ("+6281200001234", "3578010101900001"),  # the phone ends in 1234
    ("+6281200005678", "3578010101901234"),  # the NIK does
    ("+6281212340000", "3578011234000000"),  # 1234 inside both: not theirs; both end in 0000
    (None, None),
    ("+6281200001234", "3578010101901234"),  # both: once
    ("+628121234", "3578010101905555"),  # a short number ending in 1234
]


async def _people(app) -> dict[str, int]:
    """A waiting submission for each name and each pair of numbers; submission id by label."""
    ids = await returnees(app, len(NAMES) + len(NUMBERS))
    labels = NAMES + [f"numbers {i}" for i in range(len(NUMBERS))]
    async with app.sessionmaker() as session, session.begin():
        for i, sid in enumerate(ids):
            person_id = await session.scalar(
                select(Submission.person_id).where(Submission.id == sid)
            )
            phone, nik = NUMBERS[i - len(NAMES)] if i >= len(NAMES) else ("+6281299997777", None)
            await session.execute(
                update(Person).where(Person.id == person_id)
                .values(name=labels[i], phone=phone, nik=nik)
            )  # fmt: skip
    return dict(zip(labels, ids, strict=True))


async def _found(app, search: str) -> list[str]:
    async with app.sessionmaker() as session:
        rows = await desk_queue.page(session, desk_queue.Query(regions=None, search=search))
    return sorted(r.name or "" for r in rows)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("_", ["Siti_Aminah"]),  # an underscore typed is an underscore, not any character
        ("i_a", ["Siti_Aminah"]),
        ("%", ["Budi 100% Jaya"]),
        ("100%", ["Budi 100% Jaya"]),
        ("100", ["Budi 100 Jaya", "Budi 100% Jaya"]),
        ("\\", ["Back\\slash Wati"]),
        ("k\\s", ["Back\\slash Wati"]),
        ("siti aminah", ["Siti Aminah"]),
        ("AMIN", ["Siti Aminah", "Siti_Aminah"]),
        ("lestari", ["DEWI LESTARI PUTRI", "Dewi Lestari"]),
        ("ab", ["Ab"]),  # shorter than a trigram
        ("  Jaya  ", ["Budi 100 Jaya", "Budi 100% Jaya"]),
        ("Kartini", []),
        ("1234", ["numbers 0", "numbers 1", "numbers 4", "numbers 5"]),
        (" 1234 ", ["numbers 0", "numbers 1", "numbers 4", "numbers 5"]),
        ("5678", ["numbers 1"]),
        ("0000", ["numbers 2"]),  # both end in it: once
        ("3412", []),  # inside a phone and a NIK, at neither end
        ("3578010101901234", ["numbers 1", "numbers 4"]),  # a whole NIK, exactly
        ("357801010190123", []),  # 15 digits: no NIK, and no name holds them
    ],
)
async def test_searches_find_the_same_people_on_both_backends(app, search, expected) -> None:
    await _people(app)
    assert await _found(app, search) == sorted(expected)


async def _plan(url: str, search: str) -> str:
    """The plan of the search's condition over people (sequential scans discouraged on
    PostgreSQL, so a plan that can use an index does even on a handful of rows)."""
    query = select(Person.id).where(desk_queue.search_condition(search))
    engine = create_engine(url)
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SET enable_seqscan = off"))
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            sql = "EXPLAIN " + str(compiled).replace("%%", "%")
        else:
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            sql = "EXPLAIN QUERY PLAN " + str(compiled)
        rows = (await connection.execute(text(sql.replace(":", "\\:")))).all()
    await engine.dispose()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


async def test_the_last_four_digits_are_found_by_index_not_by_a_scan(database_url: str) -> None:
    plan = await _plan(database_url, "1234")
    assert "ix_people_phone_last_four" in plan and "ix_people_nik_last_four" in plan, plan


async def test_a_name_is_found_by_the_trigram_index_on_postgresql(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no trigram index: its deployments are small")
    plan = await _plan(database_url, "lestari")
    assert "ix_people_name_trigram" in plan, plan


def test_sqlite_has_the_last_four_indexes(tmp_path) -> None:
    """Alembic cannot compare expression indexes on SQLite (it skips them): looked up here."""
    import sqlite3

    path = tmp_path / "search.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as db:
        found = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    assert "substr(phone, -4)" in found["ix_people_phone_last_four"]
    assert "substr(nik, -4)" in found["ix_people_nik_last_four"]
    assert "ix_people_name_trigram" not in found
    downgrade(f"sqlite+aiosqlite:///{path}", "0027")
    with sqlite3.connect(path) as db:
        left = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not {"ix_people_phone_last_four", "ix_people_nik_last_four"} & left


async def _indexes(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'people'")
        )
        found = {str(r[0]) for r in rows}
    await engine.dispose()
    return found


async def test_migration_0028_down_and_up_on_postgresql(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the SQLite cycle is test_sqlite_has_the_last_four_indexes")
    ours = {"ix_people_phone_last_four", "ix_people_nik_last_four", "ix_people_name_trigram"}
    name = f"juragan_search_{secrets.token_hex(4)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url)
        assert ours <= await _indexes(url)
        await asyncio.to_thread(downgrade, url, "0027")
        assert not ours & await _indexes(url)
        await asyncio.to_thread(upgrade, url)
        assert ours <= await _indexes(url)
        from tests.storage.test_migrations import _diff

        assert await _diff(url) == []
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_without_pg_trgm_the_migration_runs_and_the_name_search_stays_right(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A role that owns its schema but may not CREATE on the database cannot install pg_trgm:
    the upgrade goes on without the trigram index (a warning says how to add it) and the search
    by name is the same scan it was."""
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_trgm is PostgreSQL's")
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        if not await conn.scalar(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ):
            await admin.dispose()
            pytest.skip("making a role without CREATE needs a superuser")
    suffix = secrets.token_hex(4)
    name, role = f"juragan_notrgm_{suffix}", f"juragan_notrgm_{suffix}"
    owner_url = make_url(database_url).set(database=name)
    url = owner_url.set(username=role).render_as_string(hide_password=False)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
            await conn.execute(text(f'REVOKE CREATE ON DATABASE "{name}" FROM PUBLIC'))
        owner = create_engine(owner_url.render_as_string(hide_password=False))
        async with owner.begin() as conn:
            await conn.execute(text(f'ALTER SCHEMA public OWNER TO "{role}"'))
        await owner.dispose()
        with caplog.at_level(logging.WARNING):
            await asyncio.to_thread(upgrade, url)
        assert "pg_trgm could not be installed" in caplog.text
        indexes = await _indexes(url)
        assert {"ix_people_phone_last_four", "ix_people_nik_last_four"} <= indexes
        assert "ix_people_name_trigram" not in indexes
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                person = Person(telegram_id=1, name="Siti_Aminah", role="returnee")
                other = Person(telegram_id=2, name="Siti Aminah", role="returnee")
                session.add_all([person, other])
                await session.flush()
                session.add_all(
                    Submission(person_id=p.id, kind="kur_readiness", answers={})
                    for p in (person, other)
                )
            async with create_sessionmaker(engine)() as session:
                for search, expected in (("i_a", ["Siti_Aminah"]), ("amin", 2 * ["Siti"])):
                    rows = await desk_queue.page(
                        session, desk_queue.Query(regions=None, search=search)
                    )
                    assert [(r.name or "")[: len(expected[0])] for r in rows] == expected
        finally:
            await engine.dispose()
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        await admin.dispose()
