"""`juragan chat`: the offline console on the real dispatcher, scripted through stdin."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import text

from storage.db import create_engine

SCRIPT = "/start\n1\n1\nSiti Aminah\n0812 3456 7890\njatim\nsurabaya\n1\n4\n2\n/profil\n"


def _chat(tmp_path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args],
        input=stdin,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _role(tmp_path, user: int) -> str | None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}")
    async with engine.connect() as conn:
        role = (
            await conn.execute(text("SELECT role FROM people WHERE telegram_id = :u"), {"u": user})
        ).scalar()
    await engine.dispose()
    return role


async def test_a_piped_conversation_onboards_and_ends_at_end_of_input(tmp_path) -> None:
    done = _chat(tmp_path, "--user", "42", stdin=SCRIPT)
    assert done.returncode == 0, done.stderr
    assert "[1] ✅ Setuju  [2] Tidak setuju" in done.stdout
    assert "Kota Surabaya, Jawa Timur" in done.stdout and "+62 812-****-7890" in done.stdout
    assert await _role(tmp_path, 42) == "returnee"
    # two keyboards in one reply (the announcements question, then the menu) are numbered on,
    # so both stay pressable
    assert "[1] ✅ Ya, kirimkan  [2] Tidak, terima kasih" in done.stdout
    assert "[3] 🤝 Koperasi" in done.stdout


async def test_as_staff_gives_the_console_person_that_role(tmp_path) -> None:
    done = _chat(tmp_path, "--user", "43", "--as", "staff", stdin=SCRIPT)
    assert done.returncode == 0, done.stderr
    assert await _role(tmp_path, 43) == "staff"
