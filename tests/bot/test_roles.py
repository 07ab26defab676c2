"""/peran and role invitation links: granting by a one-time link (a newcomer first consents and
fills in the profile), expiry, single use, scope, changing and revoking a role, the audit
trail, and refusals (the command and forged buttons from people who are not admins)."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta

from sqlalchemy import func, select

from bot.handlers.announcements import AnnouncementsCB
from bot.handlers.roles import RoleCB
from bot.offline import OfflineChat
from flows import clock
from storage import audit as audit_log
from storage import repo
from storage import roles as store
from storage.models import AuditEntry, Broadcast, BroadcastStatus, Person, RoleInvite
from tests.conftest import ADMIN_ID, TEST_NOW
from tests.support.talk import agree, count, onboard, texts

LINK = re.compile(r"https://t\.me/pulang_juragan_bot\?start=role-([A-Za-z0-9_-]+)")


async def ready(person, uid: int, name: str, *, lang: str = "en") -> OfflineChat:
    """Someone who has consented and filled in the profile (and said no to announcements)."""
    chat = person(uid)
    await onboard(chat, name=name, lang=lang)
    await chat.press_data(AnnouncementsCB(ok=False).pack())
    return chat


async def person_row(app, uid: int) -> Person:
    async with app.sessionmaker() as session:
        found = await repo.person_by_telegram_id(session, telegram_id=uid)
    assert found is not None
    return found


async def make_role(app, uid: int, role: str, regions: list[str] | None = None) -> None:
    async with app.sessionmaker() as session, session.begin():
        person = await repo.person_by_telegram_id(session, telegram_id=uid)
        assert person is not None
        await repo.set_role(session, person_id=person.id, role=role, regions=regions)


async def all_audit(app) -> list[AuditEntry]:
    async with app.sessionmaker() as session:
        return await audit_log.entries(session, limit=1000, action_prefix="role.")


def everything_sent_to(chat: OfflineChat) -> str:
    return texts([c for c in chat.session.calls if getattr(c, "chat_id", None) == chat.user.id])


async def make_link(admin: OfflineChat, button: str, *where: str) -> str:
    """Through /peran: the invitation button, then the scope buttons; the link's token."""
    await admin.send("/peran")
    shown = texts(await admin.press(button))
    for place in where:
        while not any(place in b for b in admin.buttons()):
            await admin.press("More")
        shown = texts(await admin.press(place))
    found = LINK.search(shown)
    assert found, shown
    return found.group(1)


async def test_a_newcomer_gets_the_role_by_link_after_consent_and_profile(app, person) -> None:
    admin = await ready(person, ADMIN_ID, "Admin Satu")
    listed = texts(await admin.send("/peran"))
    assert "People with a role" in listed and "Admin Satu — set in the settings" in listed
    await admin.press("Invite a coordinator")
    await admin.press("Jawa Timur")
    while "Kota Surabaya" not in admin.buttons():
        await admin.press("More")
    shown = texts(await admin.press("Kota Surabaya"))
    token = LINK.search(shown).group(1)  # type: ignore[union-attr]
    assert len(token) == 16
    assert "Kota Surabaya, Jawa Timur" in shown
    assert "November 28, 2026" in shown and "WIB" in shown  # 72 hours, the admin's zone

    newcomer = person(7001)
    await agree(newcomer, f"role-{token}")
    row = await person_row(app, 7001)
    assert row.role == "returnee" and row.onboarded_at is None  # not before the profile
    await newcomer.choose("en")
    await newcomer.send("Budi Santoso")
    await newcomer.send("0812 3456 7890")
    await newcomer.send("Jawa Timur")
    await newcomer.send("Kota Surabaya")
    await newcomer.choose("TW")
    await newcomer.choose("5to10")
    said = texts(await newcomer.choose("kur"))
    assert "You are now a coordinator (Kota Surabaya, Jawa Timur)" in said
    assert "/siaran" in said and "/pelatihan_baru" in said

    row = await person_row(app, 7001)
    assert row.role == "coordinator" and row.scope_regions == ["35.78"]
    assert row.start_payload == "role"  # the token (a secret) is not kept on the person
    async with app.sessionmaker() as session:
        [invite] = (await session.scalars(select(RoleInvite))).all()
    assert invite.used_by == row.id and invite.used_at is not None
    assert invite.regions == ["35.78"] and invite.role == "coordinator"
    assert invite.expires_at == invite.created_at + timedelta(hours=72)

    entries = await all_audit(app)
    kinds = {(e.action, e.subject) for e in entries}
    assert kinds == {
        ("role.invite", f"invite:{invite.id}"),
        ("role.invite_used", f"invite:{invite.id}"),
        ("role.grant", f"person:{row.id}"),
    }
    admin_row = await person_row(app, ADMIN_ID)
    [grant] = [e for e in entries if e.action == "role.grant"]
    assert grant.actor_id == admin_row.id
    assert grant.details["role"] == "coordinator" and grant.details["regions"] == ["35.78"]
    assert grant.details["via"] == "invite"
    for entry in entries:
        assert token not in repr(entry.details) and token not in entry.subject
        assert "Budi" not in repr(entry.details)

    # the role works at once
    assert "Write the announcement" in texts(await newcomer.send("/siaran"))


async def test_an_onboarded_person_opening_a_link_gets_the_role_at_once(app, person) -> None:
    admin = await ready(person, ADMIN_ID, "Admin Satu")
    token = await make_link(admin, "Invite a reviewer", "Everywhere")
    reviewer = await ready(person, 7011, "Rina Wati")
    said = texts(await reviewer.send(f"/start role-{token}"))
    assert "You are now a reviewer (everywhere)" in said and "/tinjau" in said
    row = await person_row(app, 7011)
    assert row.role == "staff" and row.scope_regions is None


async def test_an_expired_link_changes_nothing(app, person) -> None:
    admin = await ready(person, ADMIN_ID, "Admin Satu")
    first = await make_link(admin, "Invite a coordinator", "Bali", "All of Bali")
    second = await make_link(admin, "Invite a coordinator", "Everywhere")
    early = await ready(person, 7021, "Made Putra")
    late = await ready(person, 7022, "Wayan Sari")

    clock.set_clock(lambda: TEST_NOW + timedelta(hours=71))
    assert "You are now a coordinator (Bali)" in texts(await early.send(f"/start role-{first}"))
    assert (await person_row(app, 7021)).scope_regions == ["51"]

    clock.set_clock(lambda: TEST_NOW + timedelta(hours=73))
    said = texts(await late.send(f"/start role-{second}"))
    assert "has expired" in said and "ask the admin for a new one" in said
    row = await person_row(app, 7022)
    assert row.role == "returnee" and row.scope_regions is None
    async with app.sessionmaker() as session:
        spent = await store.invite_by_token(session, second)
    assert spent is not None and spent.used_at is None and spent.used_by is None
    assert not [e for e in await all_audit(app) if e.subject == f"person:{row.id}"]


async def test_one_link_works_once_for_two_people(app, person) -> None:
    admin = await ready(person, ADMIN_ID, "Admin Satu")
    token = await make_link(admin, "Invite a coordinator", "Everywhere")
    first = await ready(person, 7031, "Ani Lestari")
    second = await ready(person, 7032, "Dodi Pratama")
    assert "You are now a coordinator" in texts(await first.send(f"/start role-{token}"))
    said = texts(await second.send(f"/start role-{token}"))
    assert "already been used" in said
    assert (await person_row(app, 7032)).role == "returnee"
    said = texts(await first.send(f"/start role-{token}"))  # a second tap on the same link
    assert "You already used this link" in said
    # nonsense and unknown tokens
    assert "could not find that invitation" in texts(await second.send("/start role-zzzzzzzzzzzz"))
    assert "could not find that invitation" in texts(await second.send("/start role-x"))
    assert (await person_row(app, 7032)).role == "returnee"
    assert [e.action for e in await all_audit(app)].count("role.invite_used") == 1
    # the person who used it deletes their data: the spent link stays, without them
    await first.send("/hapusdata")
    await first.press("Yes, delete")
    async with app.sessionmaker() as session:
        spent = await store.invite_by_token(session, token)
        assert await repo.person_by_telegram_id(session, telegram_id=7031) is None
    assert spent is not None and spent.used_by is None and spent.used_at is not None


async def test_two_takes_of_one_token_at_once_give_it_once(app, person) -> None:
    await ready(person, 7041, "Satu")
    await ready(person, 7042, "Dua")
    pa, pb = await person_row(app, 7041), await person_row(app, 7042)
    async with app.sessionmaker() as session, session.begin():
        invite = await store.create_invite(session, role="staff", regions=None, created_by=None)

    async def take(person_id: int) -> bool:
        async with app.sessionmaker() as session, session.begin():
            taken = await store.take_invite(session, token=invite.token, person_id=person_id)
            return taken is not None

    if app.settings.database_url.startswith("postgresql"):
        results = await asyncio.gather(take(pa.id), take(pb.id))
    else:  # one writer: the second waits for the first anyway
        results = [await take(pa.id), await take(pb.id)]
    assert sorted(results) == [False, True]
    async with app.sessionmaker() as session:
        spent = await store.invite_by_token(session, invite.token)
    assert spent is not None and spent.used_by in (pa.id, pb.id)


async def test_revoking_a_coordinator_stops_their_next_command_and_press(app, person) -> None:
    admin = await ready(person, ADMIN_ID, "Admin Satu")
    coord = await ready(person, 7051, "Citra Dewi")
    await make_role(app, 7051, "coordinator", ["35"])
    await coord.send("/siaran")
    await coord.send("Rapat koperasi Sabtu")
    card = coord.last_keyboard_message()
    [draft_id] = [int(b.callback_data.split(":")[2]) for row in card.reply_markup.inline_keyboard
                  for b in row if (b.callback_data or "").startswith("bc:drop:")]  # fmt: skip

    listed = texts(await admin.send("/peran"))
    assert "Citra Dewi — Jawa Timur" in listed
    said = texts(await admin.press("Citra Dewi"))
    assert "Role: Coordinator" in said and "Regions: Jawa Timur" in said
    said = texts(await admin.press("Remove the role"))
    assert "Remove the role of Citra Dewi (coordinator)?" in said
    said = texts(await admin.press("Yes, remove the role"))
    assert "The role of Citra Dewi was removed." in said
    row = await person_row(app, 7051)
    assert row.role == "returnee" and row.scope_regions is None
    told = texts(coord.replies())
    assert "Your role as coordinator has ended" in told

    refused = texts(await coord.send("/siaran"))
    assert "only coordinators" in refused
    refused = texts(await coord.press("🗑", message=card))
    assert "only coordinators" in refused
    async with app.sessionmaker() as session:
        draft = await session.get(Broadcast, draft_id)
    assert draft is not None and draft.status == BroadcastStatus.DRAFT

    [entry] = [e for e in await all_audit(app) if e.action == "role.revoke"]
    assert entry.subject == f"person:{row.id}"
    assert entry.details == {"role": "coordinator", "regions": ["35"], "via": "peran"}
    assert entry.actor_id == (await person_row(app, ADMIN_ID)).id
    # a double tap on the old confirm changes nothing more
    await admin.press_data(RoleCB(act="revok", id=row.id).pack())
    assert [e.action for e in await all_audit(app)].count("role.revoke") == 1


async def test_an_admin_changes_a_role_and_its_regions(app, person) -> None:
    admin = await ready(person, 7061, "Admin Baris")
    await make_role(app, 7061, "admin")
    staff = await ready(person, 7062, "Eko Susilo")
    await make_role(app, 7062, "staff")
    await admin.send("/peran")
    await admin.press("Eko Susilo")
    await admin.press("Change the role or regions")
    await admin.press("Coordinator")
    await admin.press("Bali")
    said = texts(await admin.press("All of Bali"))
    assert "Give Eko Susilo the coordinator role (Bali)?" in said
    assert (await person_row(app, 7062)).role == "staff"  # nothing before the confirm
    said = texts(await admin.press("Yes, change it"))
    assert "Eko Susilo now has the coordinator role." in said
    row = await person_row(app, 7062)
    assert row.role == "coordinator" and row.scope_regions == ["51"]
    assert "You are now a coordinator (Bali)" in texts(staff.replies())
    [entry] = [e for e in await all_audit(app) if e.action == "role.grant"]
    assert entry.details == {"role": "coordinator", "regions": ["51"], "before": "staff",
                             "via": "peran"}  # fmt: skip
    # an admin's role is never scoped
    await admin.press_data(RoleCB(act="set", id=row.id, r="a", v="35").pack())
    row = await person_row(app, 7062)
    assert row.role == "admin" and row.scope_regions is None


async def test_people_without_the_admin_role_are_refused(app, person, caplog) -> None:
    admin = await ready(person, ADMIN_ID, "Admin Satu")
    token = await make_link(admin, "Invite a coordinator", "Everywhere")
    await ready(person, 7071, "Target Orang")
    await make_role(app, 7071, "staff", ["35"])
    target_id = (await person_row(app, 7071)).id
    async with app.sessionmaker() as session:
        invite = await store.invite_by_token(session, token)
    assert invite is not None
    forged = [
        RoleCB(act="list"),
        RoleCB(act="who", id=target_id),
        RoleCB(act="revok", id=target_id),
        RoleCB(act="set", id=target_id, r="a", v="all"),
        RoleCB(act="pick", r="c", v="all"),  # would make a new link
        RoleCB(act="xinv", id=invite.id),
    ]
    before = len(await all_audit(app))
    links = await count(app, RoleInvite)
    for uid, role, name in (
        (7072, "returnee", "Ahmad Biasa"),
        (7073, "staff", "Bayu Peninjau"),
        (7074, "coordinator", "Cici Koordinator"),
    ):
        chat = await ready(person, uid, name)
        if role != "returnee":
            await make_role(app, uid, role)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            assert "only admins" in texts(await chat.send("/peran"))
            assert "only admins" in texts(await chat.send("/roles"))
            for data in forged:
                said = texts(await chat.press_data(data.pack()))
                assert "only admins" in said, (role, data)
        refusals = [r for r in caplog.records if r.name == "bot.roles"]
        assert len(refusals) == 2 + len(forged)
        assert all(r.levelno == logging.WARNING and role in r.getMessage() for r in refusals)
    row = await person_row(app, 7071)
    assert row.role == "staff" and row.scope_regions == ["35"]
    assert len(await all_audit(app)) == before and await count(app, RoleInvite) == links
    async with app.sessionmaker() as session:
        still = await store.invite_by_token(session, token)
    assert still is not None and still.revoked_at is None
    # and an admin by row may
    await make_role(app, 7074, "admin")
    said = texts(await person(7074).send("/peran"))
    assert "People with a role" in said and "Target Orang — Jawa Timur" in said


async def test_admins_of_the_settings_and_the_last_admin_stay(app, person) -> None:
    settings_admin = await ready(person, ADMIN_ID, "Admin Satu")
    only = await ready(person, 7081, "Admin Baris")
    await make_role(app, 7081, "admin")
    settings_row = await person_row(app, ADMIN_ID)
    only_row = await person_row(app, 7081)
    # an admin of the settings has no button and cannot be changed by forged data
    await only.send("/peran")
    assert not [b for b in only.buttons() if "Admin Satu" in b]
    said = texts(await only.press_data(RoleCB(act="revok", id=settings_row.id).pack()))
    assert "set in the settings" in said
    # the only admin by row cannot step down, nor make themselves a coordinator
    said = texts(await only.press_data(RoleCB(act="revok", id=only_row.id).pack()))
    assert "You are the only admin" in said
    said = texts(await only.press_data(RoleCB(act="set", id=only_row.id, r="c", v="all").pack()))
    assert "You are the only admin" in said
    assert (await person_row(app, 7081)).role == "admin"
    # with a second admin by row, they can
    await ready(person, 7082, "Admin Tiga")
    await make_role(app, 7082, "admin")
    await only.press_data(RoleCB(act="revok", id=only_row.id).pack())
    assert (await person_row(app, 7081)).role == "returnee"
    # an admin of the settings can remove an admin by row
    await settings_admin.press_data(RoleCB(act="revok", id=(await person_row(app, 7082)).id).pack())
    assert (await person_row(app, 7082)).role == "returnee"


async def test_cancelled_links_forged_scopes_and_an_admin_opening_a_link(app, person) -> None:
    admin = await ready(person, 7091, "Admin Baris")
    await make_role(app, 7091, "admin")
    token = await make_link(admin, "Invite a coordinator", "Everywhere")
    said = texts(await admin.press("Cancel this link"))
    assert "no longer works" in said
    said = texts(await admin.send(f"/start role-{token}"))
    assert "already an admin" in said
    other = await ready(person, 7092, "Orang Lain")
    assert "was cancelled" in texts(await other.send(f"/start role-{token}"))
    assert (await person_row(app, 7092)).role == "returnee"
    actions = [e.action for e in await all_audit(app)]
    assert actions.count("role.invite") == 1 and actions.count("role.invite_revoke") == 1

    # an admin's own admin link is left for the person it is for
    admin_link = await make_link(admin, "Invite an admin")
    assert "already an admin" in texts(await admin.send(f"/start role-{admin_link}"))
    assert "You are now an admin" in texts(await other.send(f"/start role-{admin_link}"))
    assert (await person_row(app, 7092)).role == "admin"

    # forged scopes and acts from an admin change nothing and crash nothing
    links = await count(app, RoleInvite)
    for data in (
        RoleCB(act="pick", r="c", v="99.99").pack(),
        RoleCB(act="pick", r="x", v="all").pack(),
        RoleCB(act="zap").pack(),
        RoleCB(act="who", id=999999).pack(),
        "rl:who:99999999999999::0",
    ):
        said = texts(await admin.press_data(data))
        assert "something went wrong" not in said.lower(), data
    assert await count(app, RoleInvite) == links
    async with app.sessionmaker() as session:
        n = await session.scalar(
            select(func.count()).select_from(Person).where(Person.role == "admin")
        )
    assert n == 2


async def test_settings_admin_opening_a_coordinator_link_leaves_it(app, person) -> None:
    admin = await ready(person, ADMIN_ID, "Admin Satu")
    token = await make_link(admin, "Invite a coordinator", "Everywhere")
    assert "already an admin" in texts(await admin.send(f"/start role-{token}"))
    assert (await person_row(app, ADMIN_ID)).role == "returnee"
