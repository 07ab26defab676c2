"""One submission at the desk: its history (returned with the reason and fields, corrected with
each field before and after, decided by whom), the audited reveal of the NIK and phone, "next
in queue" inside the same filtered queue, and two reviewers deciding at the same moment."""

from __future__ import annotations

import asyncio
import logging
import re

from sqlalchemy import select

from flows import clock
from operations import decisions
from storage.models import AuditEntry, OutboxNotice, Submission, SubmissionEvent
from tests.desk.support import csrf_of, returnees, sign_in, staff
from tests.support.talk import count

NIK = "3578010101900000"


async def signed(app, person, browser, uid: int = 8621, **kwargs):
    chat = await staff(app, person, uid, **kwargs)
    client = await browser()
    await sign_in(client, chat)
    return client


async def test_the_history_shows_the_return_the_correction_before_after_and_who_decided(
    app, person, browser
) -> None:
    [sid] = await returnees(app, 1, kind="join_request",
                            answers={"cooperative_name": "Koperasi Maju", "nik": NIK})  # fmt: skip
    client = await signed(app, person, browser)
    csrf = await csrf_of(client, f"/meja/tinjau/{sid}")
    await client.post(f"/meja/tinjau/{sid}", data={
        "csrf": csrf, "decision": "return", "fields": "nik", "reason": "NIK belum sesuai KTP."})  # fmt: skip
    async with app.sessionmaker() as session, session.begin():
        submission = await session.get(Submission, sid)
        done = await decisions.correct(session, submission_id=sid, person_id=submission.person_id,
                                       answers={"nik": "3578010101909999"}, now=clock.now())  # fmt: skip
        assert done.ok
    page = await (await client.get(f"/meja/tinjau/{sid}")).text()
    history = page[page.index("History") :]
    assert "returned for correction" in history and "by Petugas" in history
    assert "NIK belum sesuai KTP." in history and "Fields to correct" in history
    assert "corrected by the returnee" in history
    assert "<del>3578********0000</del>" in history and "<ins>3578********9999</ins>" in history
    assert "3578010101909999" not in page  # masked until revealed
    await client.post(f"/meja/tinjau/{sid}", data={"csrf": csrf, "decision": "approve"})
    page = await (await client.get(f"/meja/tinjau/{sid}")).text()
    assert re.search(r"<strong>approved</strong> — by Petugas", page)
    assert await count(app, SubmissionEvent) == 3  # returned, corrected, approved


async def test_the_reveal_is_a_post_audited_shown_once_never_in_the_address_or_log(
    app, person, browser, caplog
) -> None:
    [sid] = await returnees(app, 1, kind="join_request",
                            answers={"cooperative_name": "Koperasi Maju", "nik": NIK})  # fmt: skip
    client = await signed(app, person, browser)
    page = await (await client.get(f"/meja/tinjau/{sid}")).text()
    assert NIK not in page and f'action="/meja/tinjau/{sid}/nik"' in page
    csrf = await csrf_of(client, f"/meja/tinjau/{sid}")
    assert (await client.get(f"/meja/tinjau/{sid}/nik")).status == 405  # never by address
    assert (await client.post(f"/meja/tinjau/{sid}/nik", data={})).status == 403  # no CSRF
    caplog.set_level(logging.DEBUG)
    shown = await client.post(f"/meja/tinjau/{sid}/nik", data={"csrf": csrf})
    text = await shown.text()
    assert shown.status == 200 and NIK in text and "+6281234500000" in text
    assert shown.headers["Cache-Control"] == "no-store" and NIK not in str(shown.url)
    assert "NIK and phone shown in full" in text
    assert NIK not in caplog.text and "+6281234500000" not in caplog.text
    entry = await count(app, AuditEntry, AuditEntry.action == "review.reveal")
    assert entry == 1
    again = await (await client.get(f"/meja/tinjau/{sid}")).text()
    assert NIK not in again  # shown on that one answer only


async def test_the_reveal_is_refused_outside_the_role_and_regions(app, person, browser) -> None:
    [sid] = await returnees(app, 1, regency="51.71")
    coordinator = await signed(app, person, browser, uid=8622, role="coordinator")
    csrf = await csrf_of(coordinator, "/meja/")
    assert (await coordinator.post(f"/meja/tinjau/{sid}/nik", data={"csrf": csrf})).status == 403
    regency = await signed(app, person, browser, uid=8623, regions=["35.78"])
    csrf = await csrf_of(regency)
    other = await regency.post(f"/meja/tinjau/{sid}/nik", data={"csrf": csrf})
    assert other.status == 404 and "Warga" not in await other.text()
    assert await count(app, AuditEntry, AuditEntry.action == "review.reveal") == 0


async def test_next_in_queue_follows_the_same_filters_and_sort(app, person, browser) -> None:
    joins = await returnees(app, 3, kind="join_request")
    kur = await returnees(app, 2, start=710000)
    client = await signed(app, person, browser)
    where = "kind=join_request&sort=newest"
    page = await (await client.get(f"/meja/tinjau/{joins[2]}?{where}")).text()
    html = where.replace("&", "&amp;")
    assert f'href="/meja/tinjau/{joins[1]}?{html}" rel="next"' in page
    assert f'href="/meja/tinjau?{html}"' in page  # back to the same queue
    csrf = await csrf_of(client, f"/meja/tinjau/{joins[2]}?{where}")
    answer = await client.post(f"/meja/tinjau/{joins[2]}?{where}",
                               data={"csrf": csrf, "decision": "approve", "next": "1"},
                               allow_redirects=False)  # fmt: skip
    assert answer.headers["Location"] == f"/meja/tinjau/{joins[1]}?done=approve&{where}"
    last = await client.post(f"/meja/tinjau/{joins[0]}?{where}",
                             data={"csrf": csrf, "decision": "approve", "next": "1"},
                             allow_redirects=False)  # fmt: skip
    assert last.headers["Location"] == f"/meja/tinjau/{joins[1]}?done=approve&{where}"  # wraps
    page = await (await client.get(f"/meja/tinjau/{joins[1]}?{where}")).text()
    assert 'rel="next"' not in page  # the other kind's are not in this queue
    assert f"/meja/tinjau/{kur[0]}" not in page


async def test_two_reviewers_at_the_same_moment_one_wins(app, person, browser) -> None:
    [sid] = await returnees(app, 1)
    one = await signed(app, person, browser, uid=8624)
    two = await signed(app, person, browser, uid=8625)
    csrf_one = await csrf_of(one, f"/meja/tinjau/{sid}")
    csrf_two = await csrf_of(two, f"/meja/tinjau/{sid}")
    answers = await asyncio.gather(
        one.post(f"/meja/tinjau/{sid}", data={"csrf": csrf_one, "decision": "approve"},
                 allow_redirects=False),
        two.post(f"/meja/tinjau/{sid}", data={"csrf": csrf_two, "decision": "reject",
                                              "reason": "Kuota sudah penuh."}, allow_redirects=False),
    )  # fmt: skip
    assert sorted(a.status for a in answers) == [303, 409]
    late = next(a for a in answers if a.status == 409)
    assert "decided first" in await late.text()
    assert await count(app, OutboxNotice) == 1
    assert await count(app, SubmissionEvent) == 1
    async with app.sessionmaker() as session:
        decided = (await session.scalars(select(Submission))).one()
    assert decided.status in ("approved", "rejected")
