"""The streamed export (bot.exports.exported, stream_export): the same files as the in-memory
builders, read page by page from the database, and written without holding the rows: a page
is gone before the one after the next is read, and 50,000 rows stay within a few MB."""

from __future__ import annotations

import gc
import io
import tracemalloc
import weakref
import zipfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot import exports as files
from storage import exports as store
from tests.bot.test_export import FOUND, JOIN, KUR, TRAIN, row, seed


def cells(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: [tuple(r) for r in sheet.iter_rows(values_only=True)] for sheet in book}


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return {name: book.read(name) for name in book.namelist()}


async def test_the_streamed_files_hold_what_the_in_memory_ones_hold(app) -> None:
    await seed(app)
    everything = store.Filters()
    async with app.sessionmaker() as session:
        rows = (await store.submissions(session, everything)).rows
    options: dict[str, Any] = {"full": True, "locale": "id", "tz": "Asia/Makassar"}
    async with files.exported(
        app.sessionmaker, everything, fmt=files.XLSX, chunk=2, **options
    ) as built:
        assert built.by_kind == {JOIN: 1, FOUND: 2, KUR: 1, TRAIN: 1} and built.rows == 5
        assert cells(built.path.read_bytes()) == cells(files.to_xlsx(rows, **options))
        path = built.path
    assert not path.exists()  # the temporary file is removed when the block ends
    async with files.exported(app.sessionmaker, everything, fmt=files.ZIP, **options) as built:
        assert entries(built.path.read_bytes()) == entries(files.to_csv_zip(rows, **options))
    founding = store.Filters(kinds=(FOUND,))
    streamed = b"".join(
        [piece async for piece in files.stream_export(
            app.sessionmaker, founding, fmt=files.CSV, **options
        )]
    )  # fmt: skip
    assert streamed == files.to_csv(rows, kind=FOUND, **options)


async def test_an_empty_export_still_opens(app) -> None:
    nothing = store.Filters(kinds=(TRAIN,), region="91")
    async with files.exported(
        app.sessionmaker, nothing, fmt=files.XLSX, full=False, locale="en"
    ) as built:
        assert built.rows == 0
        [(title, sheet)] = cells(built.path.read_bytes()).items()
        assert title == "Training registrations" and sheet[0][0] == "Submission ID"


def test_a_big_one_kind_csv_is_zipped() -> None:
    assert files.file_format(xlsx=False, kind=JOIN, rows=files.ZIP_CSV_ABOVE) == files.CSV
    assert files.file_format(xlsx=False, kind=JOIN, rows=files.ZIP_CSV_ABOVE + 1) == files.ZIP
    assert files.file_format(xlsx=False, kind=None, rows=1) == files.ZIP
    assert files.file_format(xlsx=True, kind=JOIN, rows=10**6) == files.XLSX


class Pages:
    """Pages of made-up join requests that check, as each is asked for, that the writer
    dropped every row of the pages before the last one it was given."""

    def __init__(self, pages: int, size: int) -> None:
        self.pages, self.size = pages, size
        self.alive: list[weakref.ref[Any]] = []  # one row of each page handed out
        self.handed = 0

    async def __call__(self, kind: str) -> AsyncIterator[Sequence[store.Row]]:
        for number in range(self.pages):
            gc.collect()
            held = [i for i, ref in enumerate(self.alive[:-1]) if ref() is not None]
            assert held == [], f"pages {held} still held when page {number} was asked for"
            page = [
                row(id=number * self.size + i, kind=kind, name=f"Orang {number}-{i}")
                for i in range(self.size)
            ]
            self.alive.append(weakref.ref(page[-1]))
            self.handed += 1
            yield page
            del page


@pytest.mark.parametrize("fmt", [files.XLSX, files.ZIP, files.CSV])
async def test_the_writer_never_holds_the_pages_it_wrote(fmt: str, tmp_path: Path) -> None:
    pages = Pages(pages=6, size=50)
    ctx = files._context(False, "en", files.WIB, None)
    path = tmp_path / f"out.{fmt}"
    written = await files.write_file(path, pages, [JOIN], fmt, ctx)
    assert pages.handed == 6 and written == {JOIN: 300}


async def test_twelve_pages_are_written_in_the_memory_of_a_few(
    tmp_path: Path,
) -> None:
    """The rows held at once would take twelve pages' memory (they are made as they are asked
    for); the writer holds about one page and the zip's buffers. (Traced memory makes writing
    slow: 300,000 rows are measured in bench/exports.py.)"""
    pages = Pages(pages=12, size=800)
    ctx = files._context(False, "en", files.WIB, None)
    sample = [row(id=i, name=f"Orang {i}") for i in range(800)]
    await files.write_file(tmp_path / "warm.zip", Pages(1, 10), [JOIN], files.ZIP, ctx)
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        one_page = [row(id=i, name=f"Orang {i}") for i in range(800)]
        page_bytes = tracemalloc.get_traced_memory()[0] - start
        del one_page
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        await files.write_file(tmp_path / "out.zip", pages, [JOIN], files.ZIP, ctx)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sample and page_bytes > 300_000  # a page of 800 rows: about 400 kB
    # One page, the zip's and the text's buffers: a third of the 12 pages' rows at most.
    assert peak - base < 4 * page_bytes, (peak - base, page_bytes)
    with zipfile.ZipFile(tmp_path / "out.zip") as book:
        [name] = book.namelist()
        assert book.read(name).count(b"\n") == 9_601  # the header and every row
