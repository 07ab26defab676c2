"""The queue's period and overdue filters, its sorts with keyset pages that stay correct for
each sort, and the review target counted in working days."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from flows import clock
from flows.review import overdue_since
from storage.models import Person, Submission
from tests.desk.support import returnees, sign_in, staff

WIB = timedelta(hours=7)


async def signed(app, person, browser, uid: int = 8611, **kwargs):
    chat = await staff(app, person, uid, **kwargs)
    client = await browser()
    await sign_in(client, chat)
    return client


def names(page: str) -> list[str]:
    return re.findall(r"Warga \d{3}", page)


async def made_at(app, sid: int, when: datetime) -> None:
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Submission).where(Submission.id == sid).values(created_at=when)
        )


@pytest.mark.parametrize(
    ("now", "since"),
    [
        ("2026-12-07 10:00", "2026-12-02 10:00"),  # Monday: back to Wednesday
        ("2026-12-05 10:00", "2026-12-02 10:00"),  # Saturday: Fri, Thu, Wed
        ("2026-12-10 10:00", "2026-12-07 10:00"),  # Thursday: Mon
        ("2026-12-08 00:30", "2026-12-03 00:30"),  # Tuesday just after midnight in WIB
    ],
)
def test_the_review_target_counts_working_days(now: str, since: str) -> None:
    local = datetime.fromisoformat(now).replace(tzinfo=UTC) - WIB  # the times above are WIB
    expected = datetime.fromisoformat(since).replace(tzinfo=UTC) - WIB
    assert overdue_since(local, 3) == expected


async def test_period_filter_takes_whole_days_in_the_reviewers_zone(app, person, browser) -> None:
    ids = await returnees(app, 4)
    # 1 Dec 23:30 WIB is 1 Dec 16:30 UTC; 2 Dec 00:30 WIB is 1 Dec 17:30 UTC.
    moments = ["2026-11-30T20:00", "2026-12-01T16:30", "2026-12-01T17:30", "2026-12-03T01:00"]
    for sid, at in zip(ids, moments, strict=True):
        await made_at(app, sid, datetime.fromisoformat(at).replace(tzinfo=UTC))
    client = await signed(app, person, browser)
    one_day = await (await client.get("/meja/tinjau?since=2026-12-01&until=2026-12-01")).text()
    assert names(one_day) == ["Warga 000", "Warga 001"]  # 30 Nov 20:00 UTC is 1 Dec 03:00 WIB
    from_second = await (await client.get("/meja/tinjau?since=2026-12-02")).text()
    assert names(from_second) == ["Warga 002", "Warga 003"]
    until_second = await (await client.get("/meja/tinjau?until=2026-12-02")).text()
    assert names(until_second) == ["Warga 000", "Warga 001", "Warga 002"]
    assert (await client.get("/meja/tinjau?since=2026-12-31&until=2026-12-01")).status == 400
    assert (await client.get("/meja/tinjau?since=2026-13-01")).status == 400
    assert (await client.get("/meja/tinjau?sort=password")).status == 400


async def test_overdue_filter_and_flag_follow_working_days(app, person, browser) -> None:
    ids = await returnees(app, 3)
    now = clock.now()
    await made_at(app, ids[0], overdue_since(now, 3) - timedelta(minutes=5))
    await made_at(app, ids[1], overdue_since(now, 3) + timedelta(minutes=5))
    client = await signed(app, person, browser)
    everything = await (await client.get("/meja/tinjau")).text()
    assert everything.count("⚠ overdue") == 1 and "3 working days" in everything
    late = await (await client.get("/meja/tinjau?overdue=1")).text()
    assert names(late) == ["Warga 000"]
    page = await (await client.get(f"/meja/tinjau/{ids[0]}")).text()
    assert "⚠ overdue" in page


async def test_every_sort_pages_by_keyset_without_gap_or_overlap(app, person, browser) -> None:
    surabaya = await returnees(app, 40, regency="35.78")
    denpasar = await returnees(app, 30, regency="51.71", start=760000)
    ids = surabaya + denpasar
    async with app.sessionmaker() as session, session.begin():
        for i, sid in enumerate(ids):  # names out of time order, some the same
            submission = await session.get(Submission, sid)
            await session.execute(
                update(Person).where(Person.id == submission.person_id)
                .values(name=f"Warga {(i * 37) % 50:03d}")
            )  # fmt: skip
        await session.execute(update(Submission).where(Submission.id.in_(ids[10:20]))
                              .values(created_at=clock.now() - timedelta(hours=30)))  # fmt: skip
    client = await signed(app, person, browser)

    async def walk(sort: str) -> list[int]:
        seen: list[int] = []
        after = ""
        while True:
            page = await (await client.get(f"/meja/tinjau?sort={sort}{after}")).text()
            seen += [int(i) for i in re.findall(r'name="ids" value="(\d+)"', page)]
            more = re.search(r'name="after" value="(\d+)"', page)
            if not more:
                return seen
            assert 'name="sort" value="' + sort + '"' in page or sort == "oldest"
            after = f"&after={more.group(1)}"

    async with app.sessionmaker() as session:
        rows = {sid: await session.get(Submission, sid) for sid in ids}
        people = {sid: await session.get(Person, rows[sid].person_id) for sid in ids}
    oldest = sorted(ids, key=lambda s: (rows[s].created_at, s))
    expected = {
        "oldest": oldest,
        "newest": oldest[::-1],
        "name": sorted(ids, key=lambda s: (people[s].name.lower(), s)),
        "region": sorted(ids, key=lambda s: (rows[s].regency_code, rows[s].created_at, s)),
    }
    for sort, order in expected.items():
        assert await walk(sort) == order, sort


async def test_filters_ride_along_the_pages_but_a_search_stays_posted(app, person, browser) -> None:
    await returnees(app, 55, kind="join_request")
    await returnees(app, 3, start=710000)
    client = await signed(app, person, browser)
    first = await (await client.get("/meja/tinjau?kind=join_request&sort=newest")).text()
    assert 'name="kind" value="join_request"' in first and 'name="sort" value="newest"' in first
    after = re.search(r'name="after" value="(\d+)"', first)
    assert after
    second = await (
        await client.get(f"/meja/tinjau?kind=join_request&sort=newest&after={after.group(1)}")
    ).text()
    assert len(names(second)) == 5
