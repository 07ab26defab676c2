"""The cooperative directory from CSV: every row checked, bad rows named, all or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from storage.db import create_engine, create_sessionmaker
from storage.importers import (
    COOPERATIVE_COLUMNS,
    import_cooperatives,
    load_cooperatives,
    parse_cooperatives,
)
from storage.models import Cooperative

SAMPLE = Path(__file__).resolve().parents[2] / "flows" / "content" / "sample_cooperatives.csv"
HEADER = ",".join(COOPERATIVE_COLUMNS)
GOOD = "Koperasi A,konsumen,no,no,35.78,Genteng,Toko,Rp 100.000,10000,KTP,SHU,yes"


def test_the_sample_file_is_valid_large_enough_and_marked_as_sample() -> None:
    rows, errors = parse_cooperatives(SAMPLE.read_text("utf-8"))
    assert errors == [] and len(rows) >= 20
    assert all(r["sample"] and "CONTOH" in r["name"] for r in rows)
    assert any(r["merah_putih"] for r in rows) and any(r["migrant"] for r in rows)
    assert {r["kind"] for r in rows} == {
        "simpan_pinjam",
        "konsumen",
        "produsen",
        "pemasaran",
        "jasa",
    }


def test_bad_rows_are_reported_by_line_and_column() -> None:
    text = "\n".join([
        HEADER, GOOD,
        "Koperasi B,bank,no,no,35.78,Genteng,Toko,100000,0,KTP,SHU,no",
        "Koperasi C,jasa,maybe,no,99.99,Genteng,Toko,seratus,0,KTP,SHU,no",
        GOOD,
    ])  # fmt: skip
    rows, errors = parse_cooperatives(text)
    found = {(e.line, e.column) for e in errors}
    assert found == {
        (3, "kind"),
        (4, "merah_putih"),
        (4, "regency_code"),
        (4, "simpanan_pokok"),
        (5, "name"),
    }
    assert len(rows) == 1 and rows[0]["simpanan_pokok"] == 100_000


def test_a_row_with_too_few_fields_is_refused() -> None:
    _rows, errors = parse_cooperatives(HEADER + "\n" + GOOD.rsplit(",", 1)[0] + "\n")
    assert [(e.line, e.column) for e in errors] == [(2, "row")]


def test_a_missing_column_is_named() -> None:
    _rows, errors = parse_cooperatives("name,kind\nA,jasa\n")
    assert errors[0].line == 1 and "regency_code" in errors[0].column


async def test_loading_twice_updates_instead_of_duplicating(database_url: str) -> None:
    rows, _ = parse_cooperatives(SAMPLE.read_text("utf-8"))
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        assert await load_cooperatives(session, rows) == (len(rows), 0)
    async with sessions() as session, session.begin():
        assert await load_cooperatives(session, rows) == (0, len(rows))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Cooperative)) == len(rows)
    await engine.dispose()


def test_import_command_loads_nothing_from_a_file_with_a_bad_row(tmp_path) -> None:
    bad = tmp_path / "coops.csv"
    bad.write_text("\n".join([HEADER, GOOD, GOOD.replace("35.78", "00.00")]), "utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    run = [sys.executable, "-m", "bot", "import", "cooperatives"]
    done = subprocess.run([*run, str(bad)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "line 3, regency_code" in done.stderr
    done = subprocess.run(
        [*run, str(SAMPLE)], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0 and "new" in done.stdout, done.stderr


def _many(n: int, bad_at: int | None = None) -> Iterator[str]:
    """A CSV of n cooperatives, line by line; with `bad_at`, that row's regency is unknown."""
    yield HEADER + "\n"
    for i in range(n):
        regency = "00.00" if i + 2 == bad_at else ("35.78", "35.73")[i % 2]
        yield GOOD.replace("Koperasi A", f"Koperasi {i:04d}").replace("35.78", regency) + "\n"


async def test_an_import_streams_in_batches_and_updates_on_the_second(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    inserts_while_reading: list[bool] = []
    reading = True

    def lines() -> Iterator[str]:
        nonlocal reading
        yield from _many(3_000)
        reading = False

    def on_execute(conn, cursor, statement, params, context, many) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO COOPERATIVES"):
            inserts_while_reading.append(reading)

    event.listen(Engine, "before_cursor_execute", on_execute)
    try:
        async with sessions() as session, session.begin():
            report = await import_cooperatives(session, lines())
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
    assert (report.added, report.updated, report.problems) == (3_000, 0, 0)
    assert inserts_while_reading[:2] == [True, True]  # written a batch at a time, as read
    async with sessions() as session, session.begin():
        report = await import_cooperatives(session, _many(3_000))
        assert (report.added, report.updated) == (0, 3_000)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Cooperative)) == 3_000
        coop = await session.scalar(select(Cooperative).where(Cooperative.name == "Koperasi 2999"))
        assert coop is not None and coop.regency_code == "35.73" and coop.province_code == "35"
        assert coop.simpanan_pokok == 100_000 and coop.sample is True
    await engine.dispose()


async def test_a_bad_last_row_is_reported_and_the_caller_loads_nothing(database_url: str) -> None:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        report = await import_cooperatives(session, _many(2_500, bad_at=2_501))
        assert report.problems == 1 and str(report.errors[0]).startswith("line 2501, regency_code")
        await session.rollback()
        assert await session.scalar(select(func.count()).select_from(Cooperative)) == 0
    await engine.dispose()


def test_the_command_names_the_first_hundred_problems_and_counts_the_rest(tmp_path) -> None:
    bad = tmp_path / "coops.csv"
    bad.write_text("".join(_many(150)).replace("Rp 100.000", "seratus"), "utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    run = [sys.executable, "-m", "bot", "import", "cooperatives", str(bad)]
    done = subprocess.run(run, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("simpanan_pokok") == 100 and "... and 50 more" in done.stderr
    assert "nothing loaded: 150 problem(s)" in done.stderr


def test_amounts_read_the_fast_way_are_what_the_money_validator_reads() -> None:
    from flows import validators
    from storage.importers import _rupiah

    for raw in ("Rp 100.000", "100.000", "Rp100.000", "Rp. 1.500.000", "10000", "25", "Rp 5",
                "1.000.000.000", "Rp 100.000,00", "100,000", "1.5", "100.0000", "15 juta"):  # fmt: skip
        assert _rupiah(raw) == validators.money(raw), raw
    assert _rupiah(" 0 ") == 0 and _rupiah("") == 0


def test_a_file_that_is_not_utf8_is_refused_without_a_traceback(tmp_path) -> None:
    bad = tmp_path / "coops.csv"
    bad.write_bytes((HEADER + "\n" + GOOD + "\n").encode() + "Koperasi Ü".encode("latin-1"))
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    run = [sys.executable, "-m", "bot", "import", "cooperatives", str(bad)]
    done = subprocess.run(run, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "not UTF-8" in done.stderr and "nothing loaded" in done.stderr


LEGAL_HEADER = HEADER + ",legal_number,nik_koperasi,last_rat"


def test_the_legal_status_columns_are_optional_and_checked() -> None:
    text = "\n".join([
        LEGAL_HEADER,
        GOOD + ",AHU-0001234.AH.01.29.TAHUN 2025,3578 0100 2000 0123,2026-03-28",
        GOOD.replace("Koperasi A", "Koperasi B") + ",,,",
        GOOD.replace("Koperasi A", "Koperasi C") + ",tanpa nomor,35A,kemarin",
        GOOD.replace("Koperasi A", "Koperasi D") + ",,,2999-01-01",
    ])  # fmt: skip
    rows, errors = parse_cooperatives(text)
    assert {(e.line, e.column) for e in errors} == {
        (4, "legal_number"),
        (4, "nik_koperasi"),
        (4, "last_rat"),
        (5, "last_rat"),
    }
    first, second = rows
    assert first["legal_number"] == "AHU-0001234.AH.01.29.TAHUN 2025"
    assert first["nik_koperasi"] == "3578010020000123"
    assert first["last_rat"] == date(2026, 3, 28)
    assert (second["legal_number"], second["nik_koperasi"], second["last_rat"]) == (None,) * 3
    # a file without the columns leaves them out (a stored entry keeps what it has)
    rows, errors = parse_cooperatives(HEADER + "\n" + GOOD)
    assert errors == [] and "legal_number" not in rows[0] and "last_rat" not in rows[0]


async def test_a_file_without_the_legal_columns_keeps_what_is_stored(database_url: str) -> None:
    with_status, _ = parse_cooperatives(
        LEGAL_HEADER + "\n" + GOOD + ",AHU-0001234.AH.01.29.TAHUN 2025,3578010020000123,2026-03-28"
    )
    without, _ = parse_cooperatives(HEADER + "\n" + GOOD.replace("Toko", "Toko dan warung"))
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await load_cooperatives(session, with_status)
    async with sessions() as session, session.begin():
        assert await load_cooperatives(session, without) == (0, 1)
    async with sessions() as session:
        coop = (await session.scalars(select(Cooperative))).one()
    assert coop.description == "Toko dan warung" and coop.nik_koperasi == "3578010020000123"
    assert coop.last_rat == date(2026, 3, 28) and coop.legal_number.startswith("AHU-")
    await engine.dispose()
