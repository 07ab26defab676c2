"""Every training and announcement route, for every kind of visitor, with another region's
ids: nobody sees or changes what is outside their role and regions, whatever address or form
they send; an admin (everywhere) may."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from flows import clock
from storage import broadcasts as store
from storage.models import AuditEntry, Broadcast, OutboxNotice, Person, Training
from tests.desk.support import csrf_of, sign_in, staff
from tests.desk.test_training_pages import FORM, participants, session_in
from tests.support.talk import count

HOME, OTHER = "35.78", "51.71"
VISITORS = ("nobody", "staff", "coordinator", "admin")
REFUSED = {"nobody": 401, "staff": 403, "coordinator": 404}


async def visitor(app, person, browser, who: str):
    client = await browser()
    if who == "nobody":
        return client, ""
    from tests.conftest import ADMIN_ID

    uid, role, regions = {
        "staff": (8950, "staff", None),
        "coordinator": (8951, "coordinator", [HOME]),
        "admin": (ADMIN_ID, "admin", None),
    }[who]
    chat = await staff(app, person, uid, role=role, regions=regions)
    await sign_in(client, chat)
    return client, await csrf_of(client, "/meja/")


TRAINING_ROUTES = {
    "GET session": 200,
    "GET edit": 200,
    "POST edit": 303,
    "POST attendance": 303,
    "POST download": 200,
    "POST cancel": 303,
}


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("route", list(TRAINING_ROUTES))
async def test_training_routes_with_another_regions_session(
    app, person, browser, route, who
) -> None:
    theirs = await session_in(app, OTHER, starts_at=clock.now() + timedelta(hours=1))
    [seat] = await participants(app, theirs, 1, seats=1)
    client, csrf = await visitor(app, person, browser, who)
    path = f"/meja/pelatihan/{theirs}"
    data = {
        "POST edit": {**FORM, "region": OTHER, "date": "2027-01-20"},
        "POST attendance": {"present": str(seat)},
        "POST download": {"format": "csv"},
        "POST cancel": {"confirm": "yes"},
    }.get(route, {})
    suffix = {"GET edit": "/ubah", "POST edit": "/ubah", "POST attendance": "/hadir",
              "POST download": "/unduh", "POST cancel": "/batal"}.get(route, "")  # fmt: skip
    if route.startswith("GET"):
        answer = await client.get(path + suffix, allow_redirects=False)
    else:
        answer = await client.post(path + suffix, data={**data, "csrf": csrf},
                                   allow_redirects=False)  # fmt: skip
    expected = TRAINING_ROUTES[route] if who == "admin" else REFUSED[who]
    assert answer.status == expected, await answer.text()
    if who != "admin":
        assert "Peserta" not in await answer.text()
        async with app.sessionmaker() as s:
            training = await s.get(Training, theirs)
            audited = [e.action for e in await s.scalars(select(AuditEntry))]
        assert not training.cancelled and training.starts_at.year == 2026
        assert await count(app, OutboxNotice) == 0
        assert not [a for a in audited if a.startswith("training.")]


async def test_the_list_filtered_by_another_region(app, person, browser) -> None:
    for who, expected in (("nobody", 401), ("staff", 403), ("coordinator", 403), ("admin", 200)):
        client, _csrf = await visitor(app, person, browser, who)
        answer = await client.get(f"/meja/pelatihan?region={OTHER}")
        assert answer.status == expected, who


ANNOUNCEMENT_ROUTES = {"GET item": 200, "POST pause": 303, "POST send": 303, "GET edit": 409}


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("route", list(ANNOUNCEMENT_ROUTES))
async def test_announcement_routes_with_another_regions_announcement(
    app, person, browser, route, who
) -> None:
    now = clock.now()
    async with app.sessionmaker() as s, s.begin():
        await s.execute(insert(Person).values(
            telegram_id=990001, province_code="51", regency_code=OTHER, locale="id",
            role="returnee", announcements=True, created_at=now, updated_at=now,
        ))  # fmt: skip
        bid = await store.create_draft(s, author_id=None, text="Halo Bali",
                                       segment={"kind": "all"}, regions=[OTHER])  # fmt: skip
        if route == "POST pause":
            await store.start(s, bid, now=now)
    client, csrf = await visitor(app, person, browser, who)
    path = f"/meja/siaran/{bid}"
    if route == "GET item":
        answer = await client.get(path, allow_redirects=False)
    elif route == "GET edit":
        answer = await client.get(path + "/ubah", allow_redirects=False)
    elif route == "POST pause":
        answer = await client.post(path + "/kontrol", data={"csrf": csrf, "act": "pause"},
                                   allow_redirects=False)  # fmt: skip
    else:
        answer = await client.post(path + "/kirim", data={"csrf": csrf, "when": "now"},
                                   allow_redirects=False)  # fmt: skip
    expected = ANNOUNCEMENT_ROUTES[route] if who == "admin" else REFUSED[who]
    assert answer.status == expected, await answer.text()
    if who != "admin":
        assert "Halo Bali" not in await answer.text()
        async with app.sessionmaker() as s:
            b = await s.get(Broadcast, bid)
        assert b.status == ("sending" if route == "POST pause" else "draft")


async def test_a_coordinator_lands_on_the_pages_of_their_role(app, person, browser) -> None:
    """The desk's first page lists what the role may use (a reviewer goes to the queue)."""
    client, _csrf = await visitor(app, person, browser, "coordinator")
    answer = await client.get("/meja/")
    page = await answer.text()
    assert answer.status == 200
    for link in ("/meja/pelatihan", "/meja/siaran", "/meja/tiket", "/meja/statistik"):
        assert f'<li><a href="{link}">' in page, link
    assert '<li><a href="/meja/tinjau">' not in page and '<li><a href="/meja/peran">' not in page
