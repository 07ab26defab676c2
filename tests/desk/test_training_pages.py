"""Training sessions at the desk: the list inside a coordinator's regions, a session's page
(participants, waitlist, phones masked), add and change with the bot's rules and messages in
the person's language, cancel (everyone told through the outbox), attendance on the day, the
list downloaded (audited); another region's session neither seen nor touched, by any route."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from flows import clock
from storage.models import (
    AuditEntry,
    OutboxNotice,
    Person,
    Training,
    TrainingRegistration,
)
from tests.desk.support import csrf_of, sign_in, staff

START = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # 09.00 WIB


async def session_in(app, regency: str = "35.78", *, title: str = "Jualan online",
                     starts_at: datetime = START, seats: int = 2) -> int:  # fmt: skip
    async with app.sessionmaker() as s, s.begin():
        training = Training(
            title=title, organiser="Disnaker", topic="digital", starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3), place="BLK", province_code=regency[:2],
            regency_code=regency, seats=seats,
        )  # fmt: skip
        s.add(training)
        await s.flush()
        return training.id


async def participants(
    app, training_id: int, n: int, *, seats: int, start: int = 900000
) -> list[int]:
    """n people in a session: the first `seats` with a seat, the rest waiting; their ids."""
    now = clock.now()
    ids = []
    async with app.sessionmaker() as s, s.begin():
        for i in range(n):
            pid = (
                await s.execute(
                    insert(Person).values(
                        telegram_id=start + i, name=f"Peserta {i:02d}", phone=f"+628123450{i:04d}",
                        province_code="35", regency_code="35.78", locale="id", role="returnee",
                        created_at=now, updated_at=now,
                    ).returning(Person.id)
                )
            ).scalar_one()  # fmt: skip
            reg = TrainingRegistration(
                training_id=training_id, person_id=pid,
                status="registered" if i < seats else "waitlisted",
                created_at=now + timedelta(seconds=i), updated_at=now,
            )  # fmt: skip
            s.add(reg)
            await s.flush()
            ids.append(reg.id)
    return ids


async def signed(app, person, browser, uid: int = 8701, role: str = "coordinator", **kwargs):
    chat = await staff(app, person, uid, role=role, **kwargs)
    client = await browser()
    await sign_in(client, chat)
    return client


FORM = {
    "title": "Jualan online untuk warung",
    "organiser": "Disnaker Surabaya",
    "topic": "digital",
    "date": "2027-01-15",
    "start": "09:00",
    "end": "12:00",
    "mode": "place",
    "place": "Aula BLK Surabaya",
    "link": "",
    "region": "35.78",
    "seats": "20",
    "approval": "no",
}


async def test_the_list_shows_only_sessions_inside_the_coordinators_regions(
    app, person, browser
) -> None:
    mine = await session_in(app, "35.78", title="Sesi Surabaya")
    await session_in(app, "51.71", title="Sesi Denpasar")
    await participants(app, mine, 3, seats=2)
    client = await signed(app, person, browser, regions=["35.78"])
    page = await (await client.get("/meja/pelatihan")).text()
    assert "Sesi Surabaya" in page and "Sesi Denpasar" not in page
    assert "2 / 2" in page and ">1<" in page  # seats taken, one waiting
    assert (await client.get("/meja/pelatihan?region=51")).status == 403
    assert (await client.get("/meja/pelatihan?when=later")).status == 400
    past = await (await client.get("/meja/pelatihan?when=past")).text()
    assert "Sesi Surabaya" not in past


async def test_a_session_page_lists_seats_and_waitlist_with_phones_masked(
    app, person, browser
) -> None:
    tid = await session_in(app)
    await participants(app, tid, 3, seats=2)
    client = await signed(app, person, browser, regions=["35"])
    page = await (await client.get(f"/meja/pelatihan/{tid}")).text()
    assert page.index("Peserta 00") < page.index("Peserta 01") < page.index("Peserta 02")
    assert "+6281234500000" not in page and "****" in page
    assert page.count('name="present"') == 2  # a checkbox per seat, none for the waitlist


async def test_an_admin_sees_phones_in_full(app, person, browser) -> None:
    tid = await session_in(app)
    await participants(app, tid, 1, seats=1)
    from tests.conftest import ADMIN_ID

    client = await signed(app, person, browser, uid=ADMIN_ID, role="admin")
    page = await (await client.get(f"/meja/pelatihan/{tid}")).text()
    assert "+6281234500000" in page


@pytest.mark.parametrize("role", ["staff", "returnee"])
async def test_only_coordinators_and_admins_reach_the_training_pages(
    app, person, browser, role
) -> None:
    tid = await session_in(app)
    chat = await staff(app, person, 8702, role="staff")
    client = await browser()
    await sign_in(client, chat)
    if role == "returnee":
        from tests.desk.support import make_role

        await make_role(app, 8702, "returnee")
    assert (await client.get("/meja/pelatihan")).status in (401, 403)
    assert (await client.get(f"/meja/pelatihan/{tid}")).status in (401, 403)


async def test_create_goes_through_the_operation_and_lands_on_the_session(
    app, person, browser
) -> None:
    client = await signed(app, person, browser, regions=["35.78"])
    csrf = await csrf_of(client, "/meja/pelatihan/baru")
    answer = await client.post(
        "/meja/pelatihan/baru", data={**FORM, "csrf": csrf}, allow_redirects=False
    )
    assert answer.status == 303, await answer.text()
    async with app.sessionmaker() as s:
        [made] = (await s.scalars(select(Training))).all()
    assert answer.headers["Location"] == f"/meja/pelatihan/{made.id}?done=created"
    assert made.starts_at == datetime(2027, 1, 15, 2, 0, tzinfo=UTC)  # 09.00 WIB
    assert made.regency_code == "35.78" and made.seats == 20 and made.created_by is not None


async def test_bad_input_is_told_per_field_in_the_persons_language_nothing_saved(
    app, person, browser
) -> None:
    client = await signed(app, person, browser, regions=["35.78"], lang="id")
    csrf = await csrf_of(client, "/meja/pelatihan/baru")
    bad = {**FORM, "csrf": csrf, "title": "abc", "end": "08:00", "seats": "0",
           "mode": "online", "link": "not a link"}  # fmt: skip
    answer = await client.post("/meja/pelatihan/baru", data=bad)
    page = await answer.text()
    assert answer.status == 400
    assert page.count('role="alert"') >= 5  # the summary and each field
    assert "https://" in page  # the link's message, as the bot says it
    assert "Aula BLK" not in page or 'value="Aula BLK Surabaya"' in page  # kept as typed
    assert "Please" not in page  # Indonesian, the person's language
    async with app.sessionmaker() as s:
        assert (await s.scalars(select(Training))).all() == []


async def test_a_scoped_coordinator_cannot_place_a_session_outside_their_regions(
    app, person, browser
) -> None:
    client = await signed(app, person, browser, regions=["35.78"])
    csrf = await csrf_of(client, "/meja/pelatihan/baru")
    for region in ("51.71", "all", "35"):
        answer = await client.post(
            "/meja/pelatihan/baru", data={**FORM, "csrf": csrf, "region": region}
        )
        assert answer.status == 400
    async with app.sessionmaker() as s:
        assert (await s.scalars(select(Training))).all() == []


async def test_another_regions_session_is_neither_seen_nor_touched_by_any_route(
    app, person, browser
) -> None:
    theirs = await session_in(app, "51.71")
    await participants(app, theirs, 2, seats=2)
    client = await signed(app, person, browser, regions=["35.78"])
    csrf = await csrf_of(client, "/meja/pelatihan")
    for path in (f"/meja/pelatihan/{theirs}", f"/meja/pelatihan/{theirs}/ubah"):
        answer = await client.get(path)
        assert answer.status == 404 and "Peserta" not in await answer.text()
    for path, data in (
        (f"/meja/pelatihan/{theirs}/ubah", {**FORM, "region": "35.78"}),
        (f"/meja/pelatihan/{theirs}/batal", {"confirm": "yes"}),
        (f"/meja/pelatihan/{theirs}/hadir", {"present": "1"}),
        (f"/meja/pelatihan/{theirs}/unduh", {"format": "csv"}),
    ):
        answer = await client.post(path, data={**data, "csrf": csrf})
        assert answer.status == 404, path
    async with app.sessionmaker() as s:
        training = await s.get(Training, theirs)
        assert not training.cancelled and training.title == "Jualan online"
        assert (await s.scalars(select(OutboxNotice))).all() == []
        assert not [e for e in (await s.scalars(select(AuditEntry))).all()
                    if e.action.startswith("training.")]  # fmt: skip


async def test_forged_posts_without_the_csrf_token_change_nothing(app, person, browser) -> None:
    tid = await session_in(app)
    client = await signed(app, person, browser, regions=["35.78"])
    await client.get("/meja/pelatihan")
    for path, data in (
        ("/meja/pelatihan/baru", FORM),
        (f"/meja/pelatihan/{tid}/batal", {"confirm": "yes"}),
        (f"/meja/pelatihan/{tid}/unduh", {"format": "csv"}),
    ):
        assert (await client.post(path, data=data)).status == 403
        assert (await client.post(path, data={**data, "csrf": "forged"})).status == 403
    async with app.sessionmaker() as s:
        assert not (await s.get(Training, tid)).cancelled


async def test_edit_tells_everyone_of_a_new_time_through_the_outbox(app, person, browser) -> None:
    tid = await session_in(app)
    await participants(app, tid, 3, seats=2)
    client = await signed(app, person, browser, regions=["35.78"])
    page = await (await client.get(f"/meja/pelatihan/{tid}/ubah")).text()
    assert 'value="Jualan online"' in page and 'value="09:00"' in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    moved = {**FORM, "csrf": csrf, "title": "Jualan online", "date": "2027-01-10",
             "start": "13:00", "end": "15:00", "place": "BLK", "seats": "3"}  # fmt: skip
    answer = await client.post(f"/meja/pelatihan/{tid}/ubah", data=moved, allow_redirects=False)
    assert answer.status == 303, await answer.text()
    async with app.sessionmaker() as s:
        training = await s.get(Training, tid)
        told = (await s.scalars(select(OutboxNotice))).all()
    assert training.starts_at == datetime(2027, 1, 10, 6, 0, tzinfo=UTC)
    assert sorted(n.message for n in told) == ["training.changed"] * 2 + ["training.promoted"]


async def test_cancel_needs_the_box_ticked_then_everyone_is_told(app, person, browser) -> None:
    tid = await session_in(app)
    await participants(app, tid, 3, seats=2)
    client = await signed(app, person, browser, regions=["35.78"])
    csrf = await csrf_of(client, f"/meja/pelatihan/{tid}")
    unticked = await client.post(f"/meja/pelatihan/{tid}/batal", data={"csrf": csrf})
    assert unticked.status == 400
    answer = await client.post(
        f"/meja/pelatihan/{tid}/batal", data={"csrf": csrf, "confirm": "yes"},
        allow_redirects=False,
    )  # fmt: skip
    assert answer.status == 303
    async with app.sessionmaker() as s:
        assert (await s.get(Training, tid)).cancelled
        told = (await s.scalars(select(OutboxNotice))).all()
    assert [n.message for n in told] == ["training.cancelled"] * 3
    again = await client.post(f"/meja/pelatihan/{tid}/batal", data={"csrf": csrf, "confirm": "yes"})
    assert again.status == 409


async def test_attendance_is_marked_on_the_day_and_saved(app, person, browser) -> None:
    today = clock.now() + timedelta(hours=1)
    tid = await session_in(app, starts_at=today)
    [a, b, waiting] = await participants(app, tid, 3, seats=2)
    client = await signed(app, person, browser, regions=["35.78"])
    csrf = await csrf_of(client, f"/meja/pelatihan/{tid}")
    answer = await client.post(
        f"/meja/pelatihan/{tid}/hadir",
        data=[("csrf", csrf), ("present", str(a)), ("present", str(waiting))],
        allow_redirects=False,
    )
    assert answer.status == 303
    page = await (await client.get(f"/meja/pelatihan/{tid}")).text()
    assert f'value="{a}" id="present-{a}" checked' in page
    assert f'value="{b}" id="present-{b}">' in page
    async with app.sessionmaker() as s:
        marked = {r.id: r.attended_at for r in (await s.scalars(select(TrainingRegistration)))}
        [entry] = [e for e in (await s.scalars(select(AuditEntry))) if e.action == "training.attendance"]  # fmt: skip
    assert marked[a] is not None and marked[b] is None and marked[waiting] is None
    assert entry.details == {"present": [a], "not_present": []}
    # unticked later: no longer present
    await client.post(f"/meja/pelatihan/{tid}/hadir", data={"csrf": csrf})
    async with app.sessionmaker() as s:
        assert (await s.get(TrainingRegistration, a)).attended_at is None


async def test_attendance_before_the_day_is_refused(app, person, browser) -> None:
    tid = await session_in(app)  # in January
    [a] = await participants(app, tid, 1, seats=1)
    client = await signed(app, person, browser, regions=["35.78"])
    csrf = await csrf_of(client, f"/meja/pelatihan/{tid}")
    answer = await client.post(
        f"/meja/pelatihan/{tid}/hadir", data={"csrf": csrf, "present": str(a)}
    )
    assert answer.status == 409
    async with app.sessionmaker() as s:
        assert (await s.get(TrainingRegistration, a)).attended_at is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_the_list_downloads_masked_and_audited(app, person, browser, fmt) -> None:
    tid = await session_in(app)
    await participants(app, tid, 3, seats=2)
    client = await signed(app, person, browser, regions=["35.78"])
    csrf = await csrf_of(client, f"/meja/pelatihan/{tid}")
    answer = await client.post(f"/meja/pelatihan/{tid}/unduh", data={"csrf": csrf, "format": fmt})
    assert answer.status == 200
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "no-store"
    data = await answer.read()
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        rows = [
            [str(c) if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)
        ]
    assert len(rows) == 4 and rows[1][1] == "Peserta 00"
    assert "+6281234500000" not in str(rows) and "****" in rows[1][3]
    async with app.sessionmaker() as s:
        [entry] = [e for e in (await s.scalars(select(AuditEntry))) if e.action == "training.export"]  # fmt: skip
    assert entry.details == {"rows": 3, "format": fmt, "full": False}
    assert entry.subject == f"training:{tid}"
