"""The review queue at the desk: the table, filters, search, pages; one submission; decisions
one by one (through the same operation as the bot) and in bulk; two reviewers at once."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from flows import clock
from storage.models import AuditEntry, OutboxNotice, Submission, SubmissionStatus
from tests.desk.support import csrf_of, returnees, sign_in, staff
from tests.support.talk import count


async def signed(app, person, browser, uid: int = 8601, **kwargs):
    chat = await staff(app, person, uid, **kwargs)
    client = await browser()
    await sign_in(client, chat)
    return client


def names(page: str) -> list[str]:
    return re.findall(r"Warga \d{3}", page)


async def test_the_table_shows_who_what_where_how_long_and_flags(app, person, browser) -> None:
    [old, new] = await returnees(app, 2, answers={"cooperative_name": "Koperasi Maju"},
                                 kind="join_request")  # fmt: skip
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Submission).where(Submission.id == old)
            .values(created_at=clock.now() - timedelta(days=5), returned_fields=["name"])
        )  # fmt: skip
    client = await signed(app, person, browser)
    page = await (await client.get("/meja/tinjau")).text()
    assert names(page) == ["Warga 000", "Warga 001"]  # oldest first
    assert "Join request" in page and "Koperasi Maju" in page and "Kota Surabaya" in page
    assert "5 days" in page and re.search(r">[01] hours<", page)
    assert page.count("⚠ overdue") == 1 and page.count("✎ corrected") == 1  # text, not colour


async def test_filters_by_kind_status_and_region(app, person, browser) -> None:
    await returnees(app, 2)
    await returnees(app, 1, kind="join_request", start=710000)
    await returnees(app, 1, regency="51.71", start=720000)
    client = await signed(app, person, browser)
    kur = await (await client.get("/meja/tinjau?kind=kur_readiness")).text()
    assert len(names(kur)) == 3
    bali = await (await client.get("/meja/tinjau?region=51")).text()
    assert len(names(bali)) == 1
    assert "Nothing here matches" in await (await client.get("/meja/tinjau?status=approved")).text()
    assert len(names(await (await client.get("/meja/tinjau?status=all")).text())) == 4
    forged = await client.get("/meja/tinjau?kind=nonsense")
    assert forged.status == 400


async def test_search_by_name_last_four_and_whole_nik_posted_not_in_the_address(
    app, person, browser
) -> None:
    await returnees(app, 12)
    client = await signed(app, person, browser)
    csrf = await csrf_of(client)

    async def search(q: str) -> list[str]:
        answer = await client.post(
            "/meja/tinjau", data={"csrf": csrf, "q": q, "status": "submitted"}
        )
        assert answer.status == 200 and q not in str(answer.url)
        return names(await answer.text())

    assert await search("warga 011") == ["Warga 011"]
    assert await search("0007") == ["Warga 007"]  # the phone's last four (and the NIK's)
    assert await search("3578010101900003") == ["Warga 003"]  # a whole NIK, exactly
    assert await search("357801010190000") == []  # 15 digits: no NIK, no name
    assert await search("100%") == []  # a wildcard typed is a character
    assert (await client.post("/meja/tinjau", data={"q": "Warga"})).status == 403  # no CSRF


async def test_pages_by_keyset_without_overlap(app, person, browser) -> None:
    await returnees(app, 57)
    client = await signed(app, person, browser)
    first = await (await client.get("/meja/tinjau")).text()
    assert len(names(first)) == 50
    after = re.search(r'name="after" value="(\d+)"', first)
    assert after
    second = await (await client.get(f"/meja/tinjau?after={after.group(1)}")).text()
    assert names(second) == [f"Warga {i:03d}" for i in range(50, 57)]
    assert 'name="after"' not in second


async def test_one_submission_reads_as_a_person_reads_it_nik_masked(app, person, browser) -> None:
    [sid] = await returnees(app, 1, kind="join_request",
                            answers={"cooperative_name": "Koperasi Maju", "nik": "3578010101900000"})  # fmt: skip
    client = await signed(app, person, browser)
    page = await (await client.get(f"/meja/tinjau/{sid}")).text()
    assert "Warga 000" in page and "Koperasi Maju" in page
    assert "3578010101900000" not in page and "3578********0000" in page
    assert "+62 812-****-0000" in page or "****" in page
    assert "submitted" in page  # the history starts with it


async def test_approve_goes_through_the_operation_queues_the_notice_and_opens_the_next(
    app, person, browser
) -> None:
    [first, second] = await returnees(app, 2)
    client = await signed(app, person, browser)
    csrf = await csrf_of(client, f"/meja/tinjau/{first}")
    answer = await client.post(f"/meja/tinjau/{first}",
                               data={"csrf": csrf, "decision": "approve", "next": "1"},
                               allow_redirects=False)  # fmt: skip
    assert (
        answer.status == 303 and answer.headers["Location"] == f"/meja/tinjau/{second}?done=approve"
    )
    async with app.sessionmaker() as session:
        decided = await session.get(Submission, first)
        [notice] = (await session.scalars(select(OutboxNotice))).all()
    assert decided.status == SubmissionStatus.APPROVED and decided.decided_by is not None
    assert notice.message == "review.decided" and notice.person_id == decided.person_id
    assert notice.args["status"] == "approved" and notice.sent_at is None
    assert await count(app, AuditEntry, AuditEntry.action == "review.approve") == 1
    page = await (await client.get(f"/meja/tinjau/{first}")).text()
    assert "approved" in page and 'name="decision"' not in page


async def test_reject_and_return_need_a_reason_and_a_return_needs_fields(
    app, person, browser
) -> None:
    [sid] = await returnees(app, 1)
    client = await signed(app, person, browser)
    csrf = await csrf_of(client, f"/meja/tinjau/{sid}")
    url = f"/meja/tinjau/{sid}"
    short = await client.post(url, data={"csrf": csrf, "decision": "reject", "reason": "no"})
    assert short.status == 400 and "at least" in await short.text()
    nofield = await client.post(url, data={"csrf": csrf, "decision": "return",
                                           "reason": "Nama tidak sesuai KTP."})  # fmt: skip
    assert nofield.status == 400 and "at least one" in await nofield.text()
    assert (await client.post(url, data={"csrf": csrf})).status == 400
    assert await count(app, Submission, Submission.status == "submitted") == 1
    done = await client.post(url, data={"csrf": csrf, "decision": "return", "fields": ["name", "bogus"],
                                        "reason": "Nama tidak sesuai KTP."}, allow_redirects=False)  # fmt: skip
    assert done.status == 303
    async with app.sessionmaker() as session:
        got = await session.get(Submission, sid)
    assert got.status == SubmissionStatus.RETURNED and got.returned_fields == ["name"]
    assert got.reason == "Nama tidak sesuai KTP."


async def test_of_two_reviewers_the_first_wins_and_the_second_sees_it_decided(
    app, person, browser
) -> None:
    [sid] = await returnees(app, 1)
    one = await signed(app, person, browser, uid=8602)
    two = await signed(app, person, browser, uid=8603)
    csrf_one = await csrf_of(one, f"/meja/tinjau/{sid}")
    csrf_two = await csrf_of(two, f"/meja/tinjau/{sid}")  # both have the page open
    await one.post(f"/meja/tinjau/{sid}", data={"csrf": csrf_one, "decision": "approve"})
    late = await two.post(f"/meja/tinjau/{sid}", data={"csrf": csrf_two, "decision": "reject",
                                                       "reason": "Belum lengkap."})  # fmt: skip
    assert late.status == 409 and "decided first" in await late.text()
    assert await count(app, OutboxNotice) == 1
    assert await count(app, AuditEntry, AuditEntry.action == "review.reject") == 0


async def test_bulk_approve_and_reject_with_one_reason(app, person, browser) -> None:
    ids = await returnees(app, 6)
    client = await signed(app, person, browser)
    csrf = await csrf_of(client)
    answer = await client.post("/meja/tinjau/massal",
                               data=[("csrf", csrf), ("decision", "approve")]
                               + [("ids", str(i)) for i in ids[:4]], allow_redirects=False)  # fmt: skip
    assert answer.status == 303 and "n=4" in answer.headers["Location"]
    page = await (await client.get(answer.headers["Location"])).text()
    assert "4 decided" in page
    noreason = await client.post("/meja/tinjau/massal",
                                 data=[("csrf", csrf), ("decision", "reject"), ("ids", str(ids[4]))])  # fmt: skip
    assert noreason.status == 400
    again = await client.post("/meja/tinjau/massal",
                              data=[("csrf", csrf), ("decision", "reject"), ("reason", "Kuota penuh tahun ini."),
                                    ("ids", str(ids[0])), ("ids", str(ids[4]))], allow_redirects=False)  # fmt: skip
    assert "n=1&late=1" in again.headers["Location"]
    assert await count(app, Submission, Submission.status == "approved") == 4
    assert await count(app, Submission, Submission.status == "rejected") == 1
    assert await count(app, OutboxNotice) == 5
