"""/siaran: composing an announcement, choosing who gets it, preview, sending and scheduling,
pause/resume/cancel, region scoping, and refusals (commands and forged buttons)."""

from __future__ import annotations

from aiogram.methods import SendPhoto
from aiogram.types import PhotoSize
from sqlalchemy import select

from bot.broadcasts import BroadcastCB
from bot.handlers.announcements import AnnouncementsCB
from bot.offline import OfflineChat
from flows import clock
from storage import broadcasts as store
from storage import repo
from storage.models import AuditEntry, Broadcast, BroadcastStatus, Delivery, Person
from tests.support.talk import count, onboard, texts

COORD = 8101


async def make_role(app, uid: int, role: str, regions: list[str] | None = None) -> None:
    async with app.sessionmaker() as session, session.begin():
        person = await repo.person_by_telegram_id(session, telegram_id=uid)
        assert person is not None
        await repo.set_role(session, person_id=person.id, role=role, regions=regions)


async def returnees(person, first: int, n: int, *, yes: bool = True, lang: str = "en") -> None:
    for uid in range(first, first + n):
        chat = person(uid)
        await onboard(chat, lang=lang)
        await chat.press_data(AnnouncementsCB(ok=yes).pack())


async def coordinator(
    app, person, uid: int = COORD, regions=None, role="coordinator"
) -> OfflineChat:
    chat = person(uid)
    await onboard(chat, lang="en")
    await chat.press_data(AnnouncementsCB(ok=False).pack())
    await make_role(app, uid, role, regions)
    return chat


async def drafts(app) -> list[Broadcast]:
    async with app.sessionmaker() as session:
        return list(await session.scalars(select(Broadcast).order_by(Broadcast.id)))


async def test_compose_and_send_now_to_everyone(app, person) -> None:
    await returnees(person, 8001, 3)
    await returnees(person, 8011, 1, yes=False)
    chat = await coordinator(app, person)
    said = texts(await chat.send("/siaran"))
    assert "Write the announcement" in said
    said = texts(await chat.send("Pelatihan <jualan> online Sabtu ini"))
    assert "Draft announcement" in said and "People it reaches now: 3" in said
    said = texts(await chat.press("Preview"))
    assert "/berhenti" in said and "Pelatihan &lt;jualan&gt; online" in said
    said = texts(await chat.press("Send now"))
    assert "now? People it reaches: 3." in said
    said = texts(await chat.press("Yes, send it now"))
    assert "sending" in said
    [b] = await drafts(app)
    assert b.status == BroadcastStatus.SENDING and b.recipients == 3
    assert b.progress_chat_id == COORD
    assert await count(app, Delivery) == 3
    async with app.sessionmaker() as session:
        [entry] = [e for e in await store.audit_of(session, subject=f"broadcast:{b.id}")]
    assert entry.action == "broadcast.send" and entry.details["recipients"] == 3
    assert "text" not in entry.details


async def one_draft(app) -> Broadcast:
    found = await drafts(app)
    assert found
    return found[-1]


async def test_a_double_tap_on_send_starts_it_once(app, person) -> None:
    await returnees(person, 8021, 2)
    chat = await coordinator(app, person)
    await chat.send("/siaran")
    await chat.send("Rapat koperasi")
    await chat.press("Send now")
    confirm = chat.last_keyboard_message()
    await chat.press("Yes, send it now", message=confirm)
    said = texts(await chat.press("Yes, send it now", message=confirm))
    assert "sent or discarded" in said
    assert await count(app, Delivery) == 2


async def test_choosing_who_gets_it_shows_the_count(app, person) -> None:
    await returnees(person, 8031, 2)  # both live in Kota Surabaya (onboard's default)
    chat = await coordinator(app, person)
    await chat.send("/siaran")
    await chat.send("Info")
    await chat.press("Choose who gets it")
    await chat.press("By province or regency")
    await chat.press("Jawa Timur")
    while "Kota Surabaya" not in chat.buttons():
        await chat.press("More")
    said = texts(await chat.press("Kota Surabaya"))
    assert "People living in Kota Surabaya" in said and "People it reaches now: 2" in said
    await chat.press("Choose who gets it")
    await chat.press("By province or regency")
    await chat.press("Bali")
    said = texts(await chat.press("All of Bali"))
    assert "People it reaches now: 0" in said and "Nobody can receive it yet" in said
    assert "Send now" not in chat.buttons()
    await chat.press("Choose who gets it")
    await chat.press("By interest")
    said = texts(await chat.press("a KUR loan"))  # onboard's goal is KUR
    assert "interested in a KUR loan" in said and "People it reaches now: 2" in said
    await chat.press("Choose who gets it")
    await chat.press("By journey and step")
    await chat.press("KUR loan")
    said = texts(await chat.press("documents not complete"))
    assert "KUR: documents not complete yet" in said
    await chat.press("Choose who gets it")
    said = texts(await chat.press("By training session"))
    assert "Nobody in this group accepts announcements yet" in said
    assert (await one_draft(app)).segment == {
        "kind": "journey_step",
        "flow": "kur_documents_incomplete",
    }


async def test_a_photo_with_a_caption_a_link_button_and_the_preview(app, person) -> None:
    await returnees(person, 8041, 1)
    chat = await coordinator(app, person)
    await chat.send("/siaran")
    assert "as text, or as a photo" in texts(await chat.sticker())
    photo = [PhotoSize(file_id="AgACphoto", file_unique_id="u1", width=90, height=90)]
    said = texts(await chat.feed(message=chat._message(photo=photo, caption="Brosur pelatihan")))
    assert "With a photo" in said
    await chat.press("Add a link button")
    await chat.send("Daftar")
    assert "not a link" in texts(await chat.send("daftar di kantor desa"))
    said = texts(await chat.send("https://example.org/daftar"))
    assert "“Daftar” → https://example.org/daftar" in said
    calls = await chat.press("Preview")
    [shown] = [c for c in calls if isinstance(c, SendPhoto)]
    assert shown.photo == "AgACphoto" and "Brosur pelatihan" in shown.caption
    assert "/berhenti" in shown.caption
    assert shown.reply_markup.inline_keyboard[0][0].url == "https://example.org/daftar"
    await chat.press("Remove the link button")
    b = await one_draft(app)
    assert b.button_url is None and b.photo_file_id == "AgACphoto"


async def test_empty_or_too_long_text_is_refused_and_nothing_changes(app, person) -> None:
    chat = await coordinator(app, person)
    await chat.send("/siaran")
    assert "at most 3.976 fit" in texts(await chat.send("x" * 4000)) or "fit" in texts(
        await chat.send("x" * 4000)
    )
    assert (await one_draft(app)).text == ""
    photo = [PhotoSize(file_id="AgACp", file_unique_id="u2", width=9, height=9)]
    said = texts(await chat.feed(message=chat._message(photo=photo)))
    assert "needs some text" in said
    assert (await one_draft(app)).photo_file_id is None


async def test_batal_keeps_the_draft_and_a_restart_loses_nothing(app, person) -> None:
    from tests.support.talk import restarted

    chat = await coordinator(app, person)
    await chat.send("/siaran")
    await chat.send("Pengumuman penting")
    await chat.press("Add a link button")
    said = texts(await chat.send("/batal"))
    assert "draft is kept" in said
    assert (await one_draft(app)).stage is None
    new = restarted(app)
    try:
        again = OfflineChat(new.bot, new.dp, new.bot.session, COORD)
        said = texts(await again.send("/siaran"))
        assert "You have a draft" in said and "Pengumuman penting" in said
    finally:
        await new.close()


async def test_scheduling_in_the_coordinators_zone(app, person) -> None:
    await returnees(person, 8051, 1)
    chat = await coordinator(app, person)  # Surabaya: WIB; tests live at 10.00 WIB
    await chat.send("/siaran")
    await chat.send("Besok ada pelatihan")
    await chat.press("Schedule")
    assert "at night" in texts(await chat.send("besok 22.00"))
    assert "has passed" in texts(await chat.send("25/11/2026 08.00"))
    assert "date and a time" in texts(await chat.send("secepatnya"))
    said = texts(await chat.send("besok 08.00"))
    assert "November 26, 2026" in said and "WIB" in said
    await chat.press("Yes, schedule it")
    b = await one_draft(app)
    assert b.status == BroadcastStatus.SCHEDULED
    assert b.scheduled_at is not None and b.scheduled_at.hour == 1  # 08.00 WIB is 01.00 UTC
    assert await count(app, Delivery) == 0  # written when sending starts, not before
    await chat.press("Cancel it")
    await chat.press("Yes, cancel it")
    assert (await one_draft(app)).status == BroadcastStatus.CANCELLED
    assert await count(app, AuditEntry, AuditEntry.action == "broadcast.schedule") == 1
    assert await count(app, AuditEntry, AuditEntry.action == "broadcast.cancel") == 1


async def test_pause_resume_and_cancel_from_the_progress_message(app, person) -> None:
    await returnees(person, 8061, 3)
    chat = await coordinator(app, person)
    await chat.send("/siaran")
    await chat.send("Info")
    await chat.press("Send now")
    await chat.press("Yes, send it now")
    said = texts(await chat.press("Pause"))
    assert "paused" in said
    assert (await one_draft(app)).status == BroadcastStatus.PAUSED
    await chat.press("Resume")
    assert (await one_draft(app)).status == BroadcastStatus.SENDING
    await chat.press("Cancel")
    said = texts(await chat.press("Yes, cancel it"))
    assert "cancelled" in said
    async with app.sessionmaker() as session:
        counts = await store.progress(session, (await one_draft(app)).id)
    assert counts["skipped"] == 3 and counts["pending"] == 0


async def test_a_scoped_coordinator_reaches_only_their_regions(app, person) -> None:
    await returnees(person, 8071, 2)  # Kota Surabaya (35.78)
    chat = await coordinator(app, person, regions=["35.73"])  # Kabupaten Malang only
    await chat.send("/siaran")
    said = texts(await chat.send("Info Malang"))
    assert "People it reaches now: 0" in said and "Only inside your regions" in said
    await chat.press("Choose who gets it")
    await chat.press("By province or regency")
    assert chat.buttons()[:1] == ["Jawa Timur"]  # the one province of the scope
    await chat.press("Jawa Timur")
    assert not any("All of" in b for b in chat.buttons())  # not the whole province
    assert not any("Surabaya" in b for b in chat.buttons())
    assert "More" not in chat.buttons()
    b = await one_draft(app)
    said = texts(await chat.press_data(BroadcastCB(act="set", id=b.id, v="r_35.78").pack()))
    assert "cannot send to that group" in said
    assert (await one_draft(app)).segment == {"kind": "all"}
    async with app.sessionmaker() as session, session.begin():
        assert await store.start(session, b.id, now=clock.now()) == 0


async def test_people_without_the_role_are_refused_commands_and_forged_buttons(app, person) -> None:
    await returnees(person, 8081, 1)
    owner = await coordinator(app, person)
    await owner.send("/siaran")
    await owner.send("Info")
    await owner.press("Send now")
    await owner.press("Yes, send it now")
    b = await one_draft(app)
    returnee = person(8081)
    assert "only coordinators" in texts(await returnee.send("/siaran"))
    for act in ("pause", "stopok", "go", "set", "drop"):
        said = texts(await returnee.press_data(BroadcastCB(act=act, id=b.id, v="all").pack()))
        assert "only coordinators" in said
    other = await coordinator(app, person, uid=8102)
    said = texts(await other.press_data(BroadcastCB(act="pause", id=b.id).pack()))
    assert "not yours" in said
    assert (await one_draft(app)).status == BroadcastStatus.SENDING
    admin = await coordinator(app, person, uid=8103, role="admin")
    await admin.press_data(BroadcastCB(act="pause", id=b.id).pack())
    assert (await one_draft(app)).status == BroadcastStatus.PAUSED
    # too-large ids and unknown acts change nothing and crash nothing
    await owner.press_data("bc:pause:99999999999:")
    await owner.press_data(BroadcastCB(act="zzz", id=b.id).pack())
    assert (await one_draft(app)).status == BroadcastStatus.PAUSED


async def test_a_role_revoked_mid_draft_takes_no_more_input(app, person) -> None:
    chat = await coordinator(app, person)
    await chat.send("/siaran")
    await make_role(app, COORD, "returnee")
    await chat.send("Teks baru")
    assert (await one_draft(app)).text == ""
    b = await one_draft(app)
    assert "only coordinators" in texts(
        await chat.press_data(BroadcastCB(act="drop", id=b.id).pack())
    )
    assert (await one_draft(app)).status == BroadcastStatus.DRAFT


def test_the_role_command_scopes_a_coordinator_and_is_audited(
    tmp_path, monkeypatch, capsys
) -> None:
    import asyncio

    from bot.__main__ import main
    from storage.db import create_engine, create_sessionmaker

    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert main(["role", "4242", "coordinator"]) == 1  # has not started the bot
    assert "has started the bot" not in capsys.readouterr().out

    async def add_and_read(add: bool) -> tuple[Person | None, list[AuditEntry]]:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                if add:
                    await repo.create_person(session, telegram_id=4242, locale="id")
                found = await repo.person_by_telegram_id(session, telegram_id=4242)
                audit = list(await session.scalars(select(AuditEntry)))
                return found, audit
        finally:
            await engine.dispose()

    asyncio.run(add_and_read(True))
    assert main(["role", "4242", "coordinator", "--regions", "99"]) == 2
    assert main(["role", "4242", "coordinator", "--regions", "35.78,35.73"]) == 0
    found, audit = asyncio.run(add_and_read(False))
    assert found is not None and found.role == "coordinator"
    assert found.scope_regions == ["35.78", "35.73"]
    assert [a.action for a in audit] == ["role.set"]
    assert main(["role", "4242", "returnee"]) == 0
    found, _audit = asyncio.run(add_and_read(False))
    assert found is not None and found.role == "returnee" and found.scope_regions is None


def test_the_stop_footer_fits_the_room_kept_for_it_in_every_language(app) -> None:
    from bot.broadcasts import FOOTER_ROOM, body

    draft = Broadcast(id=1, text="")
    for locale in ("id", "en"):
        footer = body(draft, locale, app.i18n)
        assert "/berhenti" in footer
        assert len(footer) <= FOOTER_ROOM, locale
