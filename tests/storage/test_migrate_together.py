"""Instances started together on an empty PostgreSQL database each run `juragan migrate`: one
upgrades, the others wait for it (an advisory lock) and find the schema current."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine


async def test_four_instances_migrating_one_empty_database_at_once_all_succeed(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one process by design")
    name = f"juragan_race_{secrets.token_hex(4)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    fresh = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "migrate",
                env={**os.environ, "DATABASE_URL": fresh},
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            for _ in range(4)
        ]
        outputs = [(await p.communicate())[0].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
        assert all("database is up to date" in o for o in outputs)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
