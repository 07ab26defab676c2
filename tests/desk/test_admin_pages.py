"""The admin's pages: roles and invitations through operations.roles (as /peran), the desk
sessions of a narrowed or revoked person ended at once; the audit log with filters and pages
by keyset, holding no NIK or phone number."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage import repo
from storage.models import AuditEntry, DeskSession, OutboxNotice, Person, RoleInvite
from tests.conftest import ADMIN_ID
from tests.desk.support import csrf_of, returnees, sign_in, staff
from tests.support.talk import count, texts


async def admin_client(app, person, browser, uid: int = 8950):
    chat = await staff(app, person, uid, role="admin")
    client = await browser()
    await sign_in(client, chat)
    return client, await csrf_of(client, "/meja/peran")


async def pid(app, uid: int) -> int:
    async with app.sessionmaker() as session:
        found = await repo.person_by_telegram_id(session, telegram_id=uid)
        return found.id


async def open_sessions(app, person_id: int) -> int:
    return await count(app, DeskSession, DeskSession.person_id == person_id,
                       DeskSession.ended_at.is_(None))  # fmt: skip


async def test_the_list_shows_people_their_roles_and_regions(app, person, browser) -> None:
    await staff(app, person, 8951, role="coordinator", regions=["35.78"])
    client, _csrf = await admin_client(app, person, browser)
    page = await (await client.get("/meja/peran")).text()
    assert "Coordinator" in page and "Kota Surabaya" in page and "Admin" in page
    assert 'name="regions" multiple' in page


async def test_narrowing_a_reviewer_ends_their_desk_sessions_at_once_and_tells_them(
    app, person, browser
) -> None:
    reviewer = await staff(app, person, 8952)
    theirs = await browser()
    await sign_in(theirs, reviewer)
    who = await pid(app, 8952)
    assert await open_sessions(app, who) == 1
    client, csrf = await admin_client(app, person, browser)
    answer = await client.post(f"/meja/peran/{who}", data=[
        ("csrf", csrf), ("do", "grant"), ("role", "staff"), ("where", "some"),
        ("regions", "35.78"), ("regions", "35"),
    ], allow_redirects=False)  # fmt: skip
    assert answer.status == 303 and answer.headers["Location"] == "/meja/peran?done=grant"
    assert await open_sessions(app, who) == 0  # ended in the same transaction
    async with app.sessionmaker() as session:
        changed = await session.get(Person, who)
        [entry] = (await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "role.grant"))).all()  # fmt: skip
        [notice] = (await session.scalars(select(OutboxNotice))).all()
    assert changed.role == "staff" and changed.scope_regions == ["35.78", "35"]
    assert entry.details == {"role": "staff", "regions": ["35.78", "35"], "before": "staff",
                             "via": "desk"}  # fmt: skip
    assert notice.person_id == who and notice.message == "role.granted"
    after = await theirs.get("/meja/tinjau")  # signed out on the next click, and told why
    assert after.status == 401 and "Peran Anda berubah" in await after.text()


async def test_an_empty_region_list_for_a_scoped_role_is_refused(app, person, browser) -> None:
    await staff(app, person, 8953, role="coordinator", regions=["35.78"])
    who = await pid(app, 8953)
    client, csrf = await admin_client(app, person, browser)
    answer = await client.post(f"/meja/peran/{who}", data={
        "csrf": csrf, "do": "grant", "role": "coordinator", "where": "some",
    })  # fmt: skip
    assert answer.status == 400 and "at least one region" in await answer.text()
    invite = await client.post("/meja/peran/undangan", data={
        "csrf": csrf, "role": "staff", "where": "some",
    })  # fmt: skip
    assert invite.status == 400 and "at least one region" in await invite.text()
    async with app.sessionmaker() as session:
        unchanged = await session.get(Person, who)
    assert unchanged.scope_regions == ["35.78"] and await count(app, RoleInvite) == 0
    forged = await client.post(f"/meja/peran/{who}", data={
        "csrf": csrf, "do": "grant", "role": "coordinator", "where": "some", "regions": "99.99",
    })  # fmt: skip
    assert forged.status == 400
    god = await client.post(f"/meja/peran/{who}", data={"csrf": csrf, "do": "grant",
                                                         "role": "returnee", "where": "all"})  # fmt: skip
    assert god.status == 400


async def test_revoking_ends_sessions_and_the_last_admin_cannot_step_down(
    app, person, browser
) -> None:
    reviewer = await staff(app, person, 8954)
    theirs = await browser()
    await sign_in(theirs, reviewer)
    who = await pid(app, 8954)
    client, csrf = await admin_client(app, person, browser)
    answer = await client.post(f"/meja/peran/{who}", data={"csrf": csrf, "do": "revoke"},
                               allow_redirects=False)  # fmt: skip
    assert answer.status == 303 and await open_sessions(app, who) == 0
    assert await count(app, AuditEntry, AuditEntry.action == "role.revoke") == 1
    me = await pid(app, 8950)
    alone = await client.post(f"/meja/peran/{me}", data={"csrf": csrf, "do": "revoke"})
    assert alone.status == 409 and "only admin" in await alone.text()
    again = await client.post(f"/meja/peran/{who}", data={"csrf": csrf, "do": "revoke"})
    assert again.status == 409 and "Already done" in await again.text()


async def test_an_invitation_made_at_the_desk_gives_its_role_in_the_bot_and_can_be_cancelled(
    app, person, browser
) -> None:
    client, csrf = await admin_client(app, person, browser)
    answer = await client.post("/meja/peran/undangan", data={
        "csrf": csrf, "role": "coordinator", "where": "some", "regions": "35.78",
    })  # fmt: skip
    page = await answer.text()
    assert answer.status == 200 and "/start role-" in page and "Kota Surabaya" in page
    token = re.search(r"/start role-([A-Za-z0-9_-]+)", page).group(1)
    assert token not in str(answer.url)
    newcomer = person(8955)
    from tests.support.talk import onboard

    await onboard(newcomer, lang="en", name="Koordinator Baru")
    said = texts(await newcomer.send(f"/start role-{token}"))
    assert "You are now a coordinator" in said
    async with app.sessionmaker() as session:
        found = await repo.person_by_telegram_id(session, telegram_id=8955)
    assert found.role == "coordinator" and found.scope_regions == ["35.78"]
    second = await client.post("/meja/peran/undangan", data={"csrf": csrf, "role": "admin"})
    listed = await (await client.get("/meja/peran")).text()
    assert listed.count("/batal") == 1  # the used one is gone, the new one is open
    [iid] = re.findall(r"undangan/(\d+)/batal", listed)
    cancelled = await client.post(f"/meja/peran/undangan/{iid}/batal", data={"csrf": csrf},
                                  allow_redirects=False)  # fmt: skip
    assert second.status == 200 and cancelled.status == 303
    twice = await client.post(f"/meja/peran/undangan/{iid}/batal", data={"csrf": csrf})
    assert twice.status == 409
    actions = [e.action for e in await _audit(app) if e.action.startswith("role.invite")]
    assert sorted(actions) == ["role.invite", "role.invite", "role.invite_revoke",
                               "role.invite_used"]  # fmt: skip


async def _audit(app) -> list[AuditEntry]:
    async with app.sessionmaker() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def test_an_admin_of_the_settings_is_not_changed_here(app, person, browser) -> None:
    from tests.support.talk import onboard

    await onboard(person(ADMIN_ID), lang="en")
    client, csrf = await admin_client(app, person, browser)
    answer = await client.post(f"/meja/peran/{await pid(app, ADMIN_ID)}",
                               data={"csrf": csrf, "do": "revoke"})  # fmt: skip
    assert answer.status == 400 and "ADMIN_IDS" in await answer.text()


ROUTES = ("GET /peran", "GET /peran/{id}", "POST /peran/{id}", "POST /peran/undangan",
          "POST /peran/undangan/1/batal", "GET /audit")  # fmt: skip


@pytest.mark.parametrize("who", ("nobody", "coordinator", "staff"))
@pytest.mark.parametrize("route", ROUTES)
async def test_only_admins_reach_roles_and_audit(app, person, browser, who, route) -> None:
    target = await staff(app, person, 8956, role="staff", regions=["35.78"])
    assert target
    target_id = await pid(app, 8956)
    client, csrf = await browser(), ""
    if who != "nobody":
        chat = await staff(app, person, 8957, role=who, regions=["35.78"])
        await sign_in(client, chat)
        csrf = await csrf_of(client, "/meja/statistik")
    method, path = route.split(" ")
    path = "/meja" + path.replace("{id}", str(target_id))
    data = {"csrf": csrf, "do": "revoke", "role": "admin", "where": "all"}
    answer = await (client.get(path) if method == "GET" else client.post(path, data=data))
    assert answer.status == (401 if who == "nobody" else 403)
    async with app.sessionmaker() as session:
        unchanged = await session.get(Person, target_id)
    assert unchanged.role == "staff" and await count(app, RoleInvite) == 0


async def test_the_audit_log_filters_pages_by_keyset_and_shows_no_nik_or_phone(
    app, person, browser
) -> None:
    ids = await returnees(app, 3)
    reviewer = await staff(app, person, 8958)
    theirs = await browser()
    await sign_in(theirs, reviewer)
    csrf = await csrf_of(theirs, f"/meja/tinjau/{ids[0]}")
    for sid in ids:
        await theirs.post(f"/meja/tinjau/{sid}", data={"csrf": csrf, "decision": "approve"})
    await theirs.post("/meja/ekspor", data={"csrf": csrf, "period": "all", "full": "1"})
    client, _csrf = await admin_client(app, person, browser)
    page = await (await client.get("/meja/audit")).text()
    assert page.count("<td>Sign-up approved</td>") == 3
    assert "<td>List exported with full numbers</td>" in page
    for secret in ("357801010190000", "+62812345", "812-****"):
        assert secret not in page
    for entry in await _audit(app):  # the rows themselves hold none
        flat = str(entry.details) + entry.subject
        assert "3578010101900" not in flat and "+6281234" not in flat
    reviewer_id = await pid(app, 8958)
    mine = await (await client.get(f"/meja/audit?actor={reviewer_id}&action=review")).text()
    assert mine.count("<td>Sign-up approved</td>") == 3 and "<td>List exported" not in mine
    assert "<td>desk.sign_in</td>" not in mine
    exports = await (await client.get("/meja/audit?action=export.full")).text()
    assert exports.count("<tr>") == 2  # the header and the one export
    assert (
        "Nothing here yet"
        in await (await client.get("/meja/audit?since=2000-01-01&until=2000-01-02")).text()
    )
    system = await (await client.get("/meja/audit?actor=system")).text()
    assert "<td>Sign-up approved</td>" not in system
    for forged in ("action=DROP%20TABLE", "actor=abc", "since=yesterday", "before=x"):
        assert (await client.get(f"/meja/audit?{forged}")).status == 400


async def test_the_audit_log_pages_without_overlap(app, person, browser) -> None:
    from storage.audit import audit as write

    async with app.sessionmaker() as session, session.begin():
        for i in range(57):
            await write(session, actor_id=None, action="training.create", subject=f"training:{i}")
    client, _csrf = await admin_client(app, person, browser)
    first = await (await client.get("/meja/audit?action=training.create")).text()
    seen = re.findall(r"training:(\d+)<", first)
    before = re.search(r'name="before" value="(\d+)"', first).group(1)
    second = await (await client.get(
        f"/meja/audit?action=training.create&before={before}")).text()  # fmt: skip
    more = re.findall(r"training:(\d+)<", second)
    assert len(seen) == 50 and len(more) == 7 and not set(seen) & set(more)
    assert sorted(int(i) for i in seen + more) == list(range(57))
    assert 'name="before"' not in second


async def test_role_forms_without_the_csrf_token_change_nothing(app, person, browser) -> None:
    await staff(app, person, 8959)
    who = await pid(app, 8959)
    client, csrf = await admin_client(app, person, browser)
    for path, data in (
        (f"/meja/peran/{who}", {"do": "revoke"}),
        (f"/meja/peran/{who}", {"do": "grant", "role": "admin", "csrf": "forged"}),
        ("/meja/peran/undangan", {"role": "admin"}),
    ):
        answer = await client.post(path, data=data)
        assert answer.status == 403 and "Nothing was changed" in await answer.text()
    async with app.sessionmaker() as session:
        unchanged = await session.get(Person, who)
    assert unchanged.role == "staff" and await count(app, RoleInvite) == 0
    assert csrf
