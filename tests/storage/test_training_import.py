"""Training sessions from CSV: every row checked, bad rows named, all or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.__main__ import main
from storage.db import create_engine, create_sessionmaker
from storage.importers import TRAINING_COLUMNS, import_trainings, parse_trainings
from storage.models import Training

SAMPLE = Path(__file__).resolve().parents[2] / "flows" / "content" / "sample_trainings.csv"
HEADER = ",".join(TRAINING_COLUMNS)
GOOD = (
    "Jualan online (CONTOH),Disnaker,digital,2027-02-02 09:00,12:00,BLK Surabaya,,35.78,20,no,yes"
)


def test_the_sample_file_is_valid_varied_and_marked_as_sample() -> None:
    rows, errors = parse_trainings(SAMPLE.read_text("utf-8"))
    assert errors == [] and len(rows) >= 12
    assert all(r["sample"] and "(CONTOH)" in r["title"] for r in rows)
    assert all(r["starts_at"].year == 2027 for r in rows)
    provinces = {r["province_code"] for r in rows}
    assert {"35", "33", "32", "52", None} <= provinces
    assert any(r["regency_code"] == "35.78" for r in rows)
    assert any(r["seats"] <= 4 for r in rows) and any(r["needs_approval"] for r in rows)
    assert all(r["link"] for r in rows if r["province_code"] is None)


def test_times_are_read_in_the_regions_zone_and_wib_without_a_region() -> None:
    text = "\n".join([
        HEADER, GOOD,
        "Menjahit (CONTOH),BLK,vocational,2027-02-02 09:00,2027-02-02 15:00,BLK Jayapura,,91.03,9,yes,yes",
        "Online (CONTOH),OJK,finance,2027-02-02 19:00,20:30,,https://zoom.us/j/1,,100,no,yes",
        "Provinsi (CONTOH),Dinkop,coop,2027-02-02 09:00,12:00,Aula,,52,30,no,yes",
    ])  # fmt: skip
    rows, errors = parse_trainings(text)
    assert errors == []
    assert rows[0]["starts_at"] == datetime(2027, 2, 2, 2, 0, tzinfo=UTC)  # WIB
    assert rows[1]["starts_at"] == datetime(2027, 2, 2, 0, 0, tzinfo=UTC)  # WIT
    assert rows[1]["ends_at"] == datetime(2027, 2, 2, 6, 0, tzinfo=UTC)
    assert rows[2]["starts_at"] == datetime(2027, 2, 2, 12, 0, tzinfo=UTC)  # no region: WIB
    assert rows[2]["province_code"] is None and rows[2]["regency_code"] is None
    assert rows[3]["province_code"] == "52" and rows[3]["regency_code"] is None
    assert rows[0]["province_code"] == "35" and rows[0]["regency_code"] == "35.78"


def test_bad_rows_are_reported_by_line_and_column() -> None:
    text = "\n".join([
        HEADER, GOOD,
        "A,Disnaker,cooking,2027-02-02 09:00,12:00,BLK,,35.78,0,maybe,yes",
        "Kursus B,Disnaker,digital,2027-02-30 09:00,12:00,BLK,,99.99,10,no,yes",
        "Kursus C,Disnaker,digital,2027-02-02 09:00,08:00,BLK,,35.78,10,no,yes",
        "Kursus D,Disnaker,digital,2027-02-02 09:00,12:00,,zoom dot com,,10,no,yes",
        "Kursus E,Disnaker,digital,tomorrow,12:00,,,,10,no,yes",
        GOOD,
    ])  # fmt: skip
    rows, errors = parse_trainings(text)
    found = {(e.line, e.column) for e in errors}
    assert found == {
        (3, "title"), (3, "topic"), (3, "seats"), (3, "needs_approval"),
        (4, "regency_code"),
        (5, "end"),
        (6, "link"),
        (7, "start"),
        (8, "title"),
    }  # fmt: skip
    assert len(rows) == 1


def test_an_impossible_date_is_named() -> None:
    text = HEADER + "\nKursus B,Disnaker,digital,2027-02-30 09:00,12:00,BLK,,35.78,10,no,yes\n"
    _rows, errors = parse_trainings(text)
    assert [(e.line, e.column) for e in errors] == [(2, "start")]


def test_a_row_without_place_or_link_and_a_missing_column_are_refused() -> None:
    _rows, errors = parse_trainings(
        HEADER + "\nKursus,Disnaker,digital,2027-02-02 09:00,12:00,,,,10,no,no\n"
    )
    assert [(e.line, e.column) for e in errors] == [(2, "place")]
    _rows, errors = parse_trainings("title,topic\nA,digital\n")
    assert errors[0].line == 1 and "seats" in errors[0].column


async def test_loading_twice_updates_by_title_and_start(database_url: str) -> None:
    lines = SAMPLE.read_text("utf-8").splitlines(keepends=True)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        report = await import_trainings(session, lines)
        assert (report.added, report.updated, report.problems) == (len(lines) - 1, 0, 0)
    first = lines[1].replace(",30,no,yes", ",99,no,yes")
    assert first != lines[1]
    async with sessions() as session, session.begin():
        report = await import_trainings(session, [lines[0], first, *lines[2:]])
        assert (report.added, report.updated) == (0, len(lines) - 1)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Training)) == len(lines) - 1
        title = first.split(",")[0]
        stored = await session.scalar(select(Training).where(Training.title == title))
        assert stored is not None and stored.seats == 99
    await engine.dispose()


def test_import_command_loads_nothing_from_a_file_with_a_bad_row(tmp_path) -> None:
    bad = tmp_path / "trainings.csv"
    bad.write_text("\n".join([HEADER, GOOD, GOOD.replace("35.78", "00.00")]), "utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    run = [sys.executable, "-m", "bot", "import", "trainings"]
    done = subprocess.run([*run, str(bad)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "line 3, regency_code" in done.stderr
    assert "nothing loaded" in done.stderr
    done = subprocess.run(
        [*run, str(SAMPLE)], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0 and "trainings loaded" in done.stdout, done.stderr


def test_import_through_main(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'y.db'}")
    assert main(["import", "trainings", str(SAMPLE)]) == 0
    assert "0 updated" in capsys.readouterr().out
    assert main(["import", "trainings", str(SAMPLE)]) == 0
    assert "0 new" in capsys.readouterr().out


def _row(start: str, end: str = "12:00", title: str = "Kursus Z") -> str:
    return f"{title},Disnaker,digital,{start},{end},BLK,,35.78,10,no,no"


def test_year_one_is_refused_by_line_with_exit_2(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'y.db'}")
    bad = tmp_path / "trainings.csv"
    rows = [HEADER, GOOD, _row("0001-01-01 00:00"), _row("0001-01-01 09:00", title="Kursus Y")]
    bad.write_text("\n".join(rows) + "\n", "utf-8")
    assert main(["import", "trainings", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 3, start: must be between now and 2 years ahead" in err
    assert "line 4, start: is in the past: a new session must be between now and 2" in err
    assert "nothing loaded: 2 problem(s)" in err and "Traceback" not in err


def test_a_start_more_than_two_years_ahead_or_an_end_months_later_is_refused() -> None:
    text = "\n".join([
        HEADER, GOOD,
        _row("9999-12-31 09:00"),
        _row("2029-02-02 09:00"),  # the tests' day is 2026-11-25
        _row("2027-02-02 09:00", "2027-07-01 12:00", "Kursus Y"),
        _row("2027-02-02 09:00", "9999-01-01 12:00", "Kursus X"),
        _row("2028-11-01 09:00", "2028-12-20 12:00", "Kursus W"),  # seven weeks: a course
    ])  # fmt: skip
    rows, errors = parse_trainings(text)
    assert [(e.line, e.column) for e in errors] == [(3, "start"), (4, "start"), (5, "end"),
                                                   (6, "end")]  # fmt: skip
    assert "2 years" in errors[0].message and "3 months" in errors[2].message
    assert [r["title"] for r in rows] == ["Jualan online (CONTOH)", "Kursus W"]


async def test_a_new_session_in_the_past_is_refused_a_stored_one_loads_again(database_url) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    past = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 2026-11-20 09:00 WIB, before the tests' day
    async with sessions() as session, session.begin():
        session.add(
            Training(title="Kursus Lalu", organiser="BLK", topic="digital", starts_at=past,
                     ends_at=past.replace(hour=5), place="BLK", province_code="35",
                     regency_code="35.78", seats=5)
        )  # fmt: skip
    lines = [HEADER + "\n", _row("2026-11-20 09:00", title="Kursus Lalu") + "\n", GOOD + "\n"]
    async with sessions() as session, session.begin():
        report = await import_trainings(session, lines)
        assert (report.problems, report.added, report.updated) == (0, 1, 1)
    for start in ("2000-01-01 09:00", "2026-11-24 09:00"):
        async with sessions() as session, session.begin():
            report = await import_trainings(session, [HEADER + "\n", _row(start) + "\n"])
            assert [(e.line, e.column) for e in report.errors] == [(2, "start")]
            assert "in the past" in report.errors[0].message and report.rows == 0
    await engine.dispose()


def test_good_rows_of_a_file_with_a_bad_date_are_not_loaded(tmp_path, monkeypatch, capsys) -> None:
    db = tmp_path / "z.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    bad = tmp_path / "trainings.csv"
    bad.write_text("\n".join([HEADER, GOOD, _row("2000-02-02 09:00")]) + "\n", "utf-8")
    assert main(["import", "trainings", str(bad)]) == 2
    assert "line 3, start: is in the past" in capsys.readouterr().err
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM trainings").fetchone() == (0,)


async def test_a_sample_session_already_over_is_skipped_not_refused(database_url) -> None:
    engine = create_engine(database_url)
    over = _row("2026-11-20 09:00", title="Contoh (CONTOH)").removesuffix(",no") + ",yes"
    async with create_sessionmaker(engine)() as session, session.begin():
        report = await import_trainings(session, [HEADER + "\n", over + "\n", GOOD + "\n"])
        assert (report.problems, report.added, report.skipped) == (0, 1, [2])
    await engine.dispose()


def test_the_demo_sample_file_still_loads_once_its_dates_are_over(
    tmp_path, monkeypatch, capsys
) -> None:
    from flows import clock

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    clock.set_clock(lambda: datetime(2027, 3, 1, 3, 0, tzinfo=UTC))  # the autouse fixture resets
    assert main(["import", "trainings", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "trainings loaded" in out and "sample session(s) already over, not loaded" in out
