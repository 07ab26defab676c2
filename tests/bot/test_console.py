"""`juragan chat`: the offline console on the real dispatcher, scripted through stdin."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiogram.methods import SendDocument, SendMessage, SendPhoto
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from openpyxl import load_workbook
from sqlalchemy import select, text

from bot.console import Console, run_console
from storage import repo
from storage.db import create_engine
from storage.models import FoundingMember, Person, Submission, SubmissionStatus
from tests.support.talk import count, one

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


# --- several people in one console, in process ---------------------------------------------------

DEMO = Path(__file__).resolve().parents[2] / "demo"


async def _console(settings, script: str, files_dir: Path, **kwargs: Any) -> str:
    out = io.StringIO()
    await run_console(
        settings,
        user_id=kwargs.pop("user_id", 100001),
        role=kwargs.pop("role", None),
        stdin=io.StringIO(script),
        stdout=out,
        files_dir=files_dir,
    )
    return out.getvalue()


async def _people(app) -> dict[int, Person]:
    async with app.sessionmaker() as session:
        return {p.telegram_id: p for p in await session.scalars(select(Person))}


async def test_the_review_loop_script_returns_corrects_and_approves(
    app, settings, tmp_path
) -> None:
    """demo/review-loop.txt (the README's script): staff and the returnee in one console, each
    seeing what the other's action sent them as it happens."""
    said = await _console(settings, (DEMO / "review-loop.txt").read_text(), tmp_path)
    returned = said.index("→ [1 Siti Aminah]: ↩️ Cek kesiapan KUR Anda perlu sedikit perbaikan")
    approved = said.index("→ [1 Siti Aminah]: ✅ Petugas sudah memeriksa cek kesiapan KUR Anda.")
    assert returned < said.index("— you are now [1 Siti Aminah]") < approved
    assert "     [1] ✏️ Perbaiki sekarang" in said[returned:]  # her button, pressable as her
    assert "— you are now [staff Staf Demo], staff (Telegram id 101001)" in said
    sub = await one(app, Submission)
    assert sub.status == SubmissionStatus.APPROVED and sub.answers["amount"] == 15_000_000
    people = await _people(app)
    assert people[100001].role == "returnee" and people[101001].role == "staff"
    assert people[101001].name == "Staf Demo" and people[101001].onboarded_at is not None


async def test_a_founding_with_nine_people_and_the_export_saved(app, settings, tmp_path) -> None:
    """demo/founding.txt: eight people open Siti's invitation (/open), sign up and join; the
    founder hears each as it happens; staff approve and export, the file lands in demo-files."""
    files = tmp_path / "demo-files"
    said = await _console(settings, (DEMO / "founding.txt").read_text(), files)
    assert said.count("→ [1 Siti Aminah]: 🤝 ") == 8
    assert "Jumlah pendiri sekarang: 9 dari paling sedikit 9." in said
    assert (
        "→ [1 Siti Aminah]: ✅ Berkas pendirian Koperasi Purna Migran Sejahtera disetujui." in said
    )
    # URL buttons print their URL (the share button carries the invitation link)
    assert "🔗 📤 Bagikan undangan: https://t.me/share/url?url=https%3A%2F%2Ft.me%2F" in said
    assert await count(app, FoundingMember) == 9
    [saved] = list(files.iterdir())
    assert saved.suffix == ".xlsx" and f"📎 saved {saved}" in said
    assert load_workbook(saved).sheetnames == ["Berkas pendirian"]


async def test_a_typed_digit_is_the_answer_where_a_number_is_asked(app, settings, tmp_path) -> None:
    """On the years-abroad question (buttons, or a number of years) "5" is five years, not
    button [5]; "#5" presses button [5]. Elsewhere a digit presses its button."""
    onboarding = "/start\n1\n1\n{name}\n0812 3456 7890\njatim\nsurabaya\n1\n{years}\n2\n"
    script = (
        onboarding.format(name="Siti Aminah", years="5")
        + "/as 2\n"
        + onboarding.format(name="Budi Santoso", years="#5")
    )
    said = await _console(settings, script, tmp_path)
    assert "(a number you type is the answer here; #1 presses button [1])" in said
    people = await _people(app)
    assert people[100001].years_abroad == "3to5"  # typed: 5 years
    assert people[100002].years_abroad == "gt10"  # button [5]: more than 10 years


async def test_as_lists_people_refuses_unknown_ones_and_gives_roles(
    app, settings, tmp_path
) -> None:
    said = await _console(
        settings, "/as coordinator\n/as admin\n/as boss\n/as 0\n/as\n/as 1\n/open\n", tmp_path
    )
    assert "'/as boss': use a number (1 to 999), staff, coordinator or admin" in said
    assert "'/as 0': use a number" in said
    assert "[coordinator Koordinator Demo] (coordinator) Telegram id 101002" in said
    assert "[admin Admin Demo] (admin) Telegram id 101003  ← you" in said
    assert "the bot has shown no invitation link yet" in said
    people = await _people(app)
    assert people[101002].role == "coordinator" and people[101003].role == "admin"
    assert 100001 not in people  # person 1 never started: nothing made for them
    # a role taken away (by an admin, say) is given back when the console becomes them again
    async with app.sessionmaker() as session, session.begin():
        await repo.set_role(session, person_id=people[101002].id, role="returnee")
    await _console(settings, "/as coordinator\n", tmp_path)
    assert (await _people(app))[101002].role == "coordinator"


async def test_files_are_saved_never_overwritten_and_others_messages_are_shown(
    app, tmp_path
) -> None:
    out = io.StringIO()
    console = Console(app, app.bot.session, out, user_id=100001, files_dir=tmp_path / "files")
    await console.switch("2")
    png = BufferedInputFile(b"\x89PNG fake", filename="statistik-kur.png")
    for _ in range(2):
        await console.show(SendPhoto(chat_id=100002, photo=png, caption="Funnel"), None)
    await console.show(SendDocument(chat_id=100002, document="BQACAgIAAx"), None)
    await console.show(SendMessage(chat_id=100001, text="<b>Halo</b> Siti"), None)
    await console.show(SendMessage(chat_id=5555, text="Pengumuman"), None)
    said = out.getvalue()
    first, second = (
        tmp_path / "files" / "statistik-kur.png",
        tmp_path / "files" / "statistik-kur-2.png",
    )
    assert first.read_bytes() == second.read_bytes() == b"\x89PNG fake"
    assert f"📎 saved {first}" in said and f"📎 saved {second}" in said
    assert "a file Telegram already has (BQACAgIAAx), not saved" in said
    assert "→ [1 Siti]: Halo Siti" in said  # to someone else: who gets it
    assert "→ [#5555]: Pengumuman" in said  # to nobody the console can be
    assert "\nbot: Funnel" in said  # to the person the console is now


async def test_someone_not_yet_seen_here_keeps_their_buttons_and_url_buttons_print(
    app, tmp_path
) -> None:
    """A console person made in an earlier run (the demo database stays) gets a message before
    `/as 3` in this one: it is theirs, their button waits for them, a URL button prints."""
    out = io.StringIO()
    console = Console(app, app.bot.session, out, user_id=100001, files_dir=tmp_path)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="✅ Ambil kursi", callback_data="tr:take:4")],
            [InlineKeyboardButton(text="🔗 Daftar", url="https://example.org/daftar")],
        ]
    )
    await console.show(SendMessage(chat_id=100003, text="Ada kursi", reply_markup=markup), None)
    await console.switch("03")
    said = out.getvalue()
    assert "→ [3 Made]: Ada kursi" in said
    assert "     🔗 🔗 Daftar: https://example.org/daftar" in said
    assert said.endswith("— you are now [3 Made] (Telegram id 100003)\n     [1] ✅ Ambil kursi\n")
    assert list(console.seats) == ["1", "3"]
    await console.handle("#7")
    assert "(!) there is no button [7]" in out.getvalue()


def test_the_readme_shows_the_review_loop_script_as_it_is() -> None:
    readme = (DEMO.parent / "README.md").read_text("utf-8")
    block = readme.split("make demo < demo/review-loop.txt\n```\n```\n")[1].split("```")[0]
    typed: list[str] = []
    for line in block.splitlines():
        line = re.sub(r"\s*\(.*\)\s*$", "", line).strip()  # what a line is for, in brackets
        typed += line.split(", ") if line else []
    script = (DEMO / "review-loop.txt").read_text("utf-8").splitlines()
    assert typed == [line for line in script if not line.startswith("# ")]
