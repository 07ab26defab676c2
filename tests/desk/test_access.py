"""Every desk route, for every kind of visitor, with another region's ids: nobody sees or
changes what is outside their role and regions, whatever address or form they send."""

from __future__ import annotations

import pytest

from storage.models import AuditEntry, OutboxNotice, ReasonTemplate, Submission
from tests.desk.support import csrf_of, returnees, sign_in, staff
from tests.support.talk import count

HOME, OTHER = "35.78", "51.71"  # Kota Surabaya (the reviewer's), Kota Denpasar (another's)
VISITORS = ("nobody", "coordinator", "regency_staff", "admin")


async def visitor(app, person, browser, who: str):
    client = await browser()
    if who == "nobody":
        return client, ""
    role, regions = {
        "coordinator": ("coordinator", [HOME]),
        "regency_staff": ("staff", [HOME]),
        "admin": ("admin", None),
    }[who]
    chat = await staff(app, person, 8900 + VISITORS.index(who), role=role, regions=regions)
    await sign_in(client, chat)
    page = "/meja/tinjau" if who != "coordinator" else "/meja/"
    csrf = await csrf_of(client, page) if who != "nobody" else ""
    return client, csrf


# route -> what each visitor gets when it names ANOTHER region's submission
EXPECTED = {
    "GET item": {"nobody": 401, "coordinator": 403, "regency_staff": 404, "admin": 200},
    "POST decide": {"nobody": 401, "coordinator": 403, "regency_staff": 404, "admin": 303},
    "POST bulk": {"nobody": 401, "coordinator": 403, "regency_staff": 404, "admin": 303},
    "GET queue region": {"nobody": 401, "coordinator": 403, "regency_staff": 403, "admin": 200},
    "POST queue region": {"nobody": 401, "coordinator": 403, "regency_staff": 403, "admin": 200},
    "POST reveal": {"nobody": 401, "coordinator": 403, "regency_staff": 404, "admin": 200},
    "GET reasons": {"nobody": 401, "coordinator": 403, "regency_staff": 200, "admin": 200},
    "POST reason": {"nobody": 401, "coordinator": 403, "regency_staff": 403, "admin": 303},
}


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("route", list(EXPECTED))
async def test_every_route_every_role_another_regions_ids(app, person, browser, route, who) -> None:
    [mine] = await returnees(app, 1, regency=HOME)
    [theirs] = await returnees(app, 1, regency=OTHER, start=760000)
    client, csrf = await visitor(app, person, browser, who)
    method, what = route.split(" ", 1)
    if what == "item":
        answer = await client.get(f"/meja/tinjau/{theirs}", allow_redirects=False)
    elif what == "decide":
        answer = await client.post(f"/meja/tinjau/{theirs}", data={"csrf": csrf, "decision": "approve"},
                                   allow_redirects=False)  # fmt: skip
    elif what == "bulk":
        answer = await client.post("/meja/tinjau/massal",
                                   data=[("csrf", csrf), ("decision", "approve"), ("ids", str(mine)),
                                         ("ids", str(theirs))], allow_redirects=False)  # fmt: skip
    elif what == "reveal":
        answer = await client.post(f"/meja/tinjau/{theirs}/nik", data={"csrf": csrf})
    elif what == "reasons":
        answer = await client.get("/meja/tinjau/alasan", allow_redirects=False)
    elif what == "reason":  # a reason for the other region
        answer = await client.post("/meja/tinjau/alasan", data={
            "csrf": csrf, "action": "reject", "region": OTHER, "locale": "id",
            "title": "Khusus Denpasar", "body": "Alasan khusus Kota Denpasar."},
            allow_redirects=False)  # fmt: skip
    elif method == "GET":
        answer = await client.get("/meja/tinjau?region=51", allow_redirects=False)
    else:
        answer = await client.post("/meja/tinjau", data={"csrf": csrf, "region": "51"},
                                   allow_redirects=False)  # fmt: skip
    expected = EXPECTED[route][who]
    assert answer.status == expected, await answer.text()
    body = await answer.text()
    if expected != 200 and who != "admin":
        assert "Warga" not in body  # no name of theirs, nor of anyone
    changed = await count(app, Submission, Submission.status != "submitted")
    if who != "admin":
        assert changed == 0 and await count(app, OutboxNotice) == 0  # nothing changed at all
        assert await count(app, AuditEntry, AuditEntry.action.in_(("review.reveal", "reason.add"))) == 0
        assert await count(app, ReasonTemplate, ReasonTemplate.region_code == OTHER) == 0


async def test_a_regency_reviewer_sees_only_their_regencys_rows(app, person, browser) -> None:
    await returnees(app, 2, regency=HOME)
    await returnees(app, 2, regency=OTHER, start=760000)
    await returnees(app, 1, regency="35.15", start=770000)  # the same province, another regency
    client, csrf = await visitor(app, person, browser, "regency_staff")
    page = await (await client.get("/meja/tinjau?status=all")).text()
    assert (
        page.count("Kota Surabaya") >= 2
        and "Denpasar" not in page
        and "Sidoarjo" not in page.split("<table")[1]
    )
    found = await client.post("/meja/tinjau", data={"csrf": csrf, "q": "Warga", "status": "all"})
    assert "Kota Denpasar" not in (await found.text()).split("<table")[1]


async def test_without_a_session_every_post_is_refused(app, person, browser) -> None:
    [sid] = await returnees(app, 1)
    client = await browser()
    for path in ("/meja/tinjau", f"/meja/tinjau/{sid}", "/meja/tinjau/massal", "/meja/keluar",
                 f"/meja/tinjau/{sid}/nik", "/meja/tinjau/alasan", "/meja/tinjau/alasan/1"):  # fmt: skip
        assert (await client.post(path, data={"decision": "approve"})).status == 401, path


async def test_a_form_without_or_with_a_wrong_csrf_token_changes_nothing(
    app, person, browser
) -> None:
    [sid] = await returnees(app, 1)
    client, csrf = await visitor(app, person, browser, "admin")
    for data in ({"decision": "approve"}, {"decision": "approve", "csrf": csrf[:-1] + "x"}):
        answer = await client.post(f"/meja/tinjau/{sid}", data=data)
        assert answer.status == 403 and "Nothing was changed" in await answer.text()
        bulk = await client.post("/meja/tinjau/massal", data={**data, "ids": str(sid)})
        assert bulk.status == 403
        out = await client.post("/meja/keluar", data=data)
        assert out.status == 403
    assert await count(app, Submission, Submission.status == "submitted") == 1
    assert (await client.get("/meja/tinjau")).status == 200  # still signed in
