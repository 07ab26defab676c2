"""Cooperative search and the training list are paged in SQL: the right rows on every page, in
the order people have always seen, and a press reads a page, never the whole list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.coop import PAGE_SIZE as COOP_PAGE
from bot.handlers.coop import CoopCB
from bot.handlers.training import PAGE_SIZE as TRAINING_PAGE
from bot.handlers.training import TrainingCB
from flows import clock
from storage import coops, trainings
from storage.db import create_engine, create_sessionmaker
from storage.models import Cooperative, Training
from tests.support.talk import onboard

KINDS = ("jasa", "konsumen", "produsen")


def cooperative(i: int, regency: str = "35.78", **fields: object) -> Cooperative:
    """Names out of order and repeated (the same name in another regency of the province), so
    only the full order (badges, name, id) decides."""
    values = dict(
        name=f"Koperasi {(i * 7) % 29:02d}", kind=KINDS[i % 3], province_code=regency[:2],
        regency_code=regency, village="Genteng", description="Uji", simpanan_pokok=100000,
        simpanan_wajib=10000, requirements="KTP", benefits="SHU", merah_putih=i % 5 == 0,
        migrant=i % 4 == 0, sample=True,
    )  # fmt: skip
    values.update(fields)
    return Cooperative(**values)


def session_(i: int, **fields: object) -> Training:
    start = clock.now() + timedelta(days=1 + i % 9, hours=i)
    values = dict(
        title=f"Kursus {i:02d}", organiser="BLK", topic=("digital", "finance")[i % 2],
        starts_at=start, ends_at=start + timedelta(hours=2), place="BLK",
        province_code="35", regency_code="35.78", seats=10,
    )  # fmt: skip
    values.update(fields)
    return Training(**values)


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[AsyncSession]:
    """29 cooperatives in Kota Surabaya, 6 elsewhere in Jawa Timur, 3 in Jawa Tengah; 23
    sessions for Kota Surabaya's people (some for the whole province or everyone) and others
    they must not see (elsewhere, cancelled, begun)."""
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        session.add_all(cooperative(i) for i in range(29))
        session.add_all(cooperative(i, "35.73") for i in range(29, 35))
        session.add_all(cooperative(i, "33.74") for i in range(35, 38))
        session.add_all(session_(i) for i in range(17))
        session.add_all(session_(i, regency_code=None) for i in range(17, 20))
        session.add_all(session_(i, province_code=None, regency_code=None) for i in range(20, 23))
        session.add_all([
            session_(30, province_code="33", regency_code="33.74"),
            session_(31, regency_code="35.73"),
            session_(32, cancelled=True),
            session_(33, starts_at=clock.now() - timedelta(hours=1)),
        ])  # fmt: skip
        await session.commit()
        yield session
    await engine.dispose()


async def shown_order(session: AsyncSession, *where: object) -> list[int]:
    """The ids in the order the unpaged search always showed them (plus the id, for ties)."""
    query = select(Cooperative.id).where(*where)
    query = query.order_by(
        Cooperative.merah_putih.desc(), Cooperative.migrant.desc(), Cooperative.name,
        Cooperative.id,
    )  # fmt: skip
    return list(await session.scalars(query))


async def every_page(session: AsyncSession, size: int, **search: object) -> list[list[int]]:
    first = await coops.search(session, page=0, size=size, **search)
    pages = [await coops.search(session, page=n, size=size, **search) for n in range(first.pages)]
    assert all(p.total == first.total and p.pages == first.pages for p in pages)
    return [[c.id for c in p.rows] for p in pages]


@pytest.mark.parametrize(
    ("search", "where"),
    [
        ({"regency_code": "35.78"}, [Cooperative.regency_code == "35.78"]),
        ({"province_code": "35"}, [Cooperative.province_code == "35"]),
        (
            {"regency_code": "35.78", "kind": "jasa"},
            [Cooperative.regency_code == "35.78", Cooperative.kind == "jasa"],
        ),
        (
            {"province_code": "35", "kind": "merah_putih"},
            [Cooperative.province_code == "35", Cooperative.merah_putih.is_(True)],
        ),
        (
            {"regency_code": "35.78", "kind": "migrant"},
            [Cooperative.regency_code == "35.78", Cooperative.migrant.is_(True)],
        ),
    ],
)
async def test_every_page_of_a_search_in_the_order_always_shown(db, search, where) -> None:
    want = await shown_order(db, *where)
    assert want, "the case must find something"
    for size in (1, 3, 8):
        pages = await every_page(db, size, **search)
        assert [i for page in pages for i in page] == want
        assert len(pages) == -(-len(want) // size)
        assert all(len(page) == size for page in pages[:-1]) and 1 <= len(pages[-1]) <= size


async def test_first_middle_last_and_out_of_range_pages(db) -> None:
    want = await shown_order(db, Cooperative.regency_code == "35.78")
    first = await coops.search(db, regency_code="35.78", page=0, size=8)
    assert (first.total, first.pages, first.number, first.first) == (29, 4, 0, 1)
    middle = await coops.search(db, regency_code="35.78", page=2, size=8)
    assert [c.id for c in middle.rows] == want[16:24] and middle.first == 17
    last = await coops.search(db, regency_code="35.78", page=3, size=8)
    assert [c.id for c in last.rows] == want[24:] and len(last.rows) == 5
    beyond = await coops.search(db, regency_code="35.78", page=10_000, size=8)
    assert beyond.number == 3 and [c.id for c in beyond.rows] == want[24:]
    before = await coops.search(db, regency_code="35.78", page=-5, size=8)
    assert before.number == 0 and [c.id for c in before.rows] == want[:8]


async def test_a_search_that_finds_nothing_is_one_empty_page(db) -> None:
    for search in ({"regency_code": "11.01"}, {"regency_code": "33.74", "kind": "pemasaran"}):
        found = await coops.search(db, page=3, size=8, **search)
        assert (found.rows, found.total, found.pages, found.number) == ([], 0, 1, 0)
    elsewhere = await trainings.upcoming(db, province_code="11", regency_code="11.01", page=2)
    assert (len(elsewhere.rows), elsewhere.pages, elsewhere.number) == (3, 1, 0)  # for everyone
    none = await trainings.upcoming(
        db, province_code="11", regency_code="11.01", topic="cooking", page=2
    )
    assert (none.rows, none.total, none.pages, none.number) == ([], 0, 1, 0)


async def test_every_page_of_the_training_list_soonest_first(db) -> None:
    everything = await trainings.upcoming(db, province_code="35", regency_code="35.78", size=10_000)
    titles = [t.title for t in everything.rows]
    assert len(titles) == 23 and "Kursus 30" not in titles and "Kursus 32" not in titles
    starts = [(t.starts_at, t.id) for t in everything.rows]
    assert starts == sorted(starts)
    pages = [
        await trainings.upcoming(db, province_code="35", regency_code="35.78", page=n, size=5)
        for n in range(5)
    ]
    assert [t.title for p in pages for t in p.rows] == titles
    assert [len(p.rows) for p in pages] == [5, 5, 5, 5, 3] and pages[0].pages == 5
    again = await trainings.upcoming(db, province_code="35", regency_code="35.78", page=2, size=5)
    assert [t.id for t in again.rows] == [t.id for t in pages[2].rows]  # stable
    finance = await trainings.upcoming(
        db, province_code="35", regency_code="35.78", topic="finance", page=0, size=5
    )
    assert finance.total == sum(1 for t in everything.rows if t.topic == "finance")


class Statements:
    """The SELECTs of cooperatives and trainings a press sends, and the rows the ORM builds."""

    def __init__(self) -> None:
        self.engine = Engine  # every engine: on SQLite, updates run on a writer of their own
        self.sql: list[str] = []
        self.loaded = 0
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        for model in (Cooperative, Training):
            event.listen(model, "load", self._on_load)

    def _on_execute(self, conn, cursor, statement, params, context, many) -> None:  # noqa: ANN001
        text = " ".join(statement.split()).lower()
        if text.startswith("select") and ("from cooperatives" in text or "from trainings" in text):
            self.sql.append(text)

    def _on_load(self, target, context) -> None:  # noqa: ANN001
        self.loaded += 1

    def reset(self) -> None:
        self.sql, self.loaded = [], 0

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)
        for model in (Cooperative, Training):
            event.remove(model, "load", self._on_load)


async def test_a_page_press_reads_a_page_not_the_list(app, person) -> None:
    async with app.sessionmaker() as session, session.begin():
        session.add_all(cooperative(i, name=f"Koperasi P{i:02d}") for i in range(40))
        session.add_all(session_(i) for i in range(30))
    chat = person(7301)
    await onboard(chat, lang="en")
    watch = Statements()
    try:
        for data, size, label in (
            (CoopCB(act="res", id=1, r="35.78", k="any", p=2).pack(), COOP_PAGE, "3/5"),
            (TrainingCB(act="list", page=3).pack(), TRAINING_PAGE, "4/6"),
        ):
            watch.reset()
            await chat.press_data(data)
            assert label in chat.buttons()
            assert 0 < watch.loaded <= size, f"{watch.loaded} rows built for a page of {size}"
            rows = [s for s in watch.sql if "count(" not in s]
            assert rows and all(" limit " in s for s in rows), rows
    finally:
        watch.close()
