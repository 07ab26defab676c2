"""/tinjau: the review queue, decisions, returns for correction with the returnee's side,
two reviewers at once, scoping and refusals."""

from __future__ import annotations

from datetime import timedelta

from aiogram.methods import SendMessage
from sqlalchemy import select, update

from bot.handlers.review import FixCB, ReviewCB
from flows import clock
from storage import reasons, repo
from storage import reviews as store
from storage.models import AuditEntry, Submission, SubmissionStatus
from tests.bot.test_kur import answer_readiness, open_kur
from tests.support.talk import count, onboard, one, texts

REVIEWER = 8201


async def make_role(app, uid: int, role: str, regions=None) -> None:
    async with app.sessionmaker() as session, session.begin():
        person = await repo.person_by_telegram_id(session, telegram_id=uid)
        assert person is not None
        await repo.set_role(session, person_id=person.id, role=role, regions=regions)


async def reviewer(app, person, uid: int = REVIEWER, regions=None, role="staff"):
    chat = person(uid)
    await onboard(chat, lang="en")
    await make_role(app, uid, role, regions)
    return chat


async def kur_submission(app, person, uid: int, lang: str = "en"):
    chat = person(uid)
    if lang == "en":
        await open_kur(chat)
    else:
        await onboard(chat, lang=lang)
        await chat.press("KUR")
    await answer_readiness(chat)
    sub = await one(app, Submission)
    return chat, sub


def to(calls, uid: int) -> str:
    return "\n".join(c.text for c in calls if isinstance(c, SendMessage) and c.chat_id == uid)


async def test_the_queue_counts_flags_overdue_and_opens_oldest_first(app, person) -> None:
    _chat, sub = await kur_submission(app, person, 8301)
    staff = await reviewer(app, person)
    said = texts(await staff.send("/tinjau"))
    assert "KUR readiness checks: 1" in said and "waiting over" not in said
    # sent on a Thursday: four days later, on Monday, only Friday and Monday were working days
    # (the desk and the digest count the same, flows.review.overdue_since)
    thursday = sub.created_at + timedelta(days=1)
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Submission).where(Submission.id == sub.id).values(created_at=thursday)
        )
    clock.set_clock(lambda: thursday + timedelta(days=4, minutes=1))
    assert "waiting over" not in texts(await staff.send("/tinjau"))
    clock.set_clock(lambda: thursday + timedelta(days=6, minutes=1))  # Wednesday
    said = texts(await staff.send("/tinjau"))
    assert "1 waiting over 3 working days" in said
    await staff.press("KUR readiness checks")
    said = texts(await staff.press(f"#{sub.id}"))
    assert f"KUR readiness check #{sub.id}" in said and "waiting 6 days" in said
    assert "Warung sembako" in said  # every answer readable
    assert "+62 812-****-7890" in said  # the phone masked until revealed


async def test_approve_tells_the_returnee_in_their_language_and_is_audited(app, person) -> None:
    _chat, sub = await kur_submission(app, person, 8302, lang="id")
    staff = await reviewer(app, person)
    calls = await staff.press_data(ReviewCB(act="ok", id=sub.id, k=2).pack())
    told = to(app.bot.session.calls, 8302)
    assert "✅ Petugas sudah memeriksa cek kesiapan KUR Anda." in told
    assert "Ini bukan persetujuan pinjaman; yang memutuskan bank" in told
    assert "disetujui." not in told  # a reviewer's check never reads as a loan approval
    assert (await one(app, Submission)).status == SubmissionStatus.APPROVED
    assert await count(app, AuditEntry, AuditEntry.action == "review.approve") == 1
    # a second decision on it changes nothing and says who was first
    said = texts(await staff.press_data(ReviewCB(act="no", id=sub.id, k=2).pack()))
    assert "decided first" in said
    assert calls


async def test_reveal_is_audited_and_shows_the_phone(app, person) -> None:
    _chat, sub = await kur_submission(app, person, 8303)
    staff = await reviewer(app, person)
    said = texts(await staff.press_data(ReviewCB(act="nik", id=sub.id, k=2).pack()))
    assert "+6281234567890" in said and "This was recorded" in said
    [entry] = list(await _audit(app, "review.reveal"))
    assert "phone" not in entry.details and "nik" not in entry.details


async def _audit(app, action: str) -> list[AuditEntry]:
    async with app.sessionmaker() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def test_reject_with_a_typed_reason(app, person) -> None:
    _chat, sub = await kur_submission(app, person, 8304)
    staff = await reviewer(app, person)
    await staff.press_data(ReviewCB(act="no", id=sub.id, k=2).pack())
    assert "at least" in texts(await staff.send("no"))  # too short: asked again
    said = texts(await staff.send("Usaha belum berjalan enam bulan."))
    assert "The returnee was told" in said
    got = await one(app, Submission)
    assert (
        got.status == SubmissionStatus.REJECTED and got.reason == "Usaha belum berjalan enam bulan."
    )
    assert "not ready to apply yet. This is not the bank's answer." in to(
        app.bot.session.calls, 8304
    )
    assert "Usaha belum berjalan enam bulan." in to(app.bot.session.calls, 8304)


async def test_reject_with_one_of_the_offices_reasons_in_the_returnees_language(
    app, person
) -> None:
    _chat, sub = await kur_submission(app, person, 8311)  # an English-speaking returnee
    staff = await reviewer(app, person)
    await staff.press_data(ReviewCB(act="no", id=sub.id, k=2).pack())
    offered = staff.buttons()
    assert "Outside our service area" in offered and "No places left" in offered
    assert "Kuota sudah penuh" not in offered  # the office's Indonesian ones are for others
    assert "Details differ from the KTP" not in offered  # a reason for returning, not rejecting
    said = texts(await staff.press("No places left"))
    assert "The returnee was told" in said
    got = await one(app, Submission)
    assert got.status == SubmissionStatus.REJECTED and got.reason.startswith("Sorry, all places")
    assert "Sorry, all places for this are taken." in to(app.bot.session.calls, 8311)


async def test_a_template_retired_while_the_reviewer_chose_is_asked_again(app, person) -> None:
    returnee, sub = await kur_submission(app, person, 8312, lang="id")
    staff = await reviewer(app, person, regions=["35"])
    async with app.sessionmaker() as session, session.begin():
        await reasons.templates(session)  # the office's defaults, as on a new installation
        await reasons.add(session, action="return", region_code="35.78", locale="id",
                          title="Foto KTP buram", body="Foto KTP Anda kurang jelas, mohon kirim lagi.",
                          created_by=None, now=clock.now())  # fmt: skip
        await reasons.add(session, action="return", region_code="32", locale="id",
                          title="Khusus Jawa Barat", body="Teks untuk Jawa Barat saja.",
                          created_by=None, now=clock.now())  # fmt: skip
    await staff.press_data(ReviewCB(act="ret", id=sub.id, k=2).pack())
    await staff.press("How much")
    await staff.press("Next: the reason")
    offered = staff.buttons()
    assert "Foto KTP buram" in offered and "Data belum sesuai KTP" in offered
    assert "Khusus Jawa Barat" not in offered  # another region's reason
    async with app.sessionmaker() as session, session.begin():
        [tpl] = [t for t in await reasons.templates(session) if t.title == "Foto KTP buram"]
        await reasons.change(session, tpl.id, now=clock.now(), retired_at=clock.now())
    said = texts(await staff.press("Foto KTP buram"))
    assert "cannot be used here" in said
    assert (await one(app, Submission)).status == SubmissionStatus.SUBMITTED  # nothing decided
    assert "Foto KTP buram" not in staff.buttons() and "Data belum sesuai KTP" in staff.buttons()
    await staff.press("Data belum sesuai KTP")
    got = await one(app, Submission)
    assert got.status == SubmissionStatus.RETURNED and got.returned_fields == ["amount"]
    assert "belum sama dengan yang tertulis di KTP" in to(app.bot.session.calls, 8312)
    assert returnee


async def test_return_for_correction_round_trip(app, person) -> None:
    returnee, sub = await kur_submission(app, person, 8305)
    staff = await reviewer(app, person)
    await staff.press_data(ReviewCB(act="ret", id=sub.id, k=2).pack())
    said = texts(await staff.press("Next: the reason"))
    assert "at least one" in said  # nothing chosen yet
    await staff.press("How much")  # the amount step
    await staff.press("Next: the reason")
    await staff.send("Jumlahnya terlalu besar untuk usaha baru.")
    got = await one(app, Submission)
    assert got.status == SubmissionStatus.RETURNED and got.returned_fields == ["amount"]
    told = to(app.bot.session.calls, 8305)
    assert "needs a small correction" in told and "Jumlahnya terlalu besar" in told
    # the returnee goes straight to that field, and only that field
    said = texts(await returnee.press("Correct it now"))
    assert "How much" in said
    said = texts(await returnee.send("25 juta"))
    assert "went back to the reviewer" in said
    got = await one(app, Submission)
    assert got.status == SubmissionStatus.SUBMITTED and got.answers["amount"] == 25_000_000
    assert got.answers["business"] == "Warung sembako"  # everything else kept
    # back in the queue, marked corrected
    said = texts(await staff.send("/tinjau"))
    assert "KUR readiness checks: 1" in said
    said = texts(await staff.press("KUR readiness checks"))
    assert "✏️" in str(staff.buttons())
    # a stale "Correct it now" does nothing more
    said = texts(await returnee.press_data(FixCB(id=sub.id).pack()))
    assert "nothing to correct" in said


async def test_two_reviewers_at_once_the_first_wins(app, person) -> None:
    _chat, sub = await kur_submission(app, person, 8306)
    first = await reviewer(app, person)
    second = await reviewer(app, person, uid=8202)
    await first.press_data(ReviewCB(act="ok", id=sub.id, k=2).pack())
    said = texts(await second.press_data(ReviewCB(act="ok", id=sub.id, k=2).pack()))
    assert "decided first" in said and "approved" in said
    assert await count(app, AuditEntry, AuditEntry.action == "review.approve") == 1


async def test_a_scoped_reviewer_sees_and_acts_only_inside_their_regions(app, person) -> None:
    _chat, sub = await kur_submission(app, person, 8307)  # Kota Surabaya
    staff = await reviewer(app, person, regions=["51"])  # Bali
    said = texts(await staff.send("/tinjau"))
    assert "KUR readiness checks: 0" in said and "Nothing waits" in said
    said = texts(await staff.press_data(ReviewCB(act="ok", id=sub.id, k=2).pack()))
    assert "not in your queue" in said
    said = texts(await staff.press_data(ReviewCB(act="home", r="35").pack()))
    assert "no longer works" in said
    assert (await one(app, Submission)).status == SubmissionStatus.SUBMITTED


async def test_people_without_the_role_are_refused(app, person, caplog) -> None:
    returnee, sub = await kur_submission(app, person, 8308)
    coordinator = await reviewer(app, person, uid=8203, role="coordinator")
    for chat in (returnee, coordinator):
        assert "only reviewers" in texts(await chat.send("/tinjau"))
        for act in ("ok", "nik", "no", "ret", "retgo", "open"):
            said = texts(await chat.press_data(ReviewCB(act=act, id=sub.id, k=2, m=1).pack()))
            assert "only reviewers" in said
    assert (await one(app, Submission)).status == SubmissionStatus.SUBMITTED
    assert "refused review" in caplog.text
    assert await count(app, AuditEntry) == 0
    # forged ids, kinds and pages are refused or harmless
    staff = await reviewer(app, person)
    await staff.press_data("rv:ok:99999999999:2:0::0")
    said = texts(await staff.press_data(ReviewCB(act="list", k=99).pack()))
    assert "no longer works" in said


async def test_a_reviewer_whose_role_is_revoked_while_typing_a_reason_decides_nothing(
    app, person
) -> None:
    _chat, sub = await kur_submission(app, person, 8309)
    staff = await reviewer(app, person)
    await staff.press_data(ReviewCB(act="no", id=sub.id, k=2).pack())
    await make_role(app, REVIEWER, "returnee")
    said = texts(await staff.send("Tidak memenuhi syarat usia."))
    assert "only reviewers" in said
    assert (await one(app, Submission)).status == SubmissionStatus.SUBMITTED


async def test_the_digest_numbers(app, person) -> None:
    _chat, sub = await kur_submission(app, person, 8310)
    now = clock.now()
    async with app.sessionmaker() as session:
        d = await store.digest(
            session,
            regions=None,
            since=now - timedelta(days=1),
            overdue_before=now - timedelta(days=3),
        )
    assert (d.new, d.waiting, d.overdue, d.decided) == (1, 1, 0, 0)
    async with app.sessionmaker() as session:
        d = await store.digest(
            session, regions=["51"], since=now - timedelta(days=1), overdue_before=now
        )
    assert (d.new, d.waiting) == (0, 0)


async def test_the_daily_digest_goes_to_reviewers_once_at_their_hour(settings) -> None:
    from datetime import UTC, datetime

    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    from bot.app import build_app
    from storage import submissions
    from storage.models import SubmissionKind
    from tests.support.fake_bot_api import FakeBotAPI

    moment = [datetime(2026, 11, 25, 0, 30, tzinfo=UTC)]  # 07.30 WIB
    clock.set_clock(lambda: moment[0])
    async with FakeBotAPI() as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        app = build_app(settings, session=session, token="123456:TEST-token")
        try:
            async with app.sessionmaker() as s, s.begin():
                staff = await repo.create_person(s, telegram_id=8401, locale="en")
                await repo.update_person(s, staff, province_code="35", onboarded_at=moment[0])
                await repo.set_role(s, person_id=staff.id, role="staff")
                coord = await repo.create_person(s, telegram_id=8402, locale="en")
                await repo.set_role(s, person_id=coord.id, role="coordinator")
                someone = await repo.create_person(s, telegram_id=8403, locale="id")
                await repo.update_person(s, someone, province_code="35", regency_code="35.78")
                await submissions.create(
                    s, person=someone, kind=SubmissionKind.JOIN_REQUEST, ref_id=1, answers={}
                )
            await app.ticker.tick()
            assert fake.calls_to("sendMessage") == []  # planned for 08.00 WIB, not yet
            moment[0] = datetime(2026, 11, 25, 1, 0, 5, tzinfo=UTC)
            await app.ticker.tick()
            await app.ticker.tick()
            sent = [c for c in fake.calls_to("sendMessage") if c.error_code is None]
            assert [int(c.params["chat_id"]) for c in sent] == [8401]  # not the coordinator
            text = sent[0].params["text"]
            assert "daily review digest" in text and "Waiting: 1" in text and "/tinjau" in text
            assert "Waiting over 3 working days: 0" in text
        finally:
            await app.close()


async def test_two_decisions_at_the_same_moment_exactly_one_wins(app, person) -> None:
    import asyncio

    from storage.db import create_engine, create_sessionmaker

    _chat, sub = await kur_submission(app, person, 8311)

    async def decide(status: SubmissionStatus, reviewer_id: int) -> bool:
        engine = create_engine(app.settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await store.decide(
                    session, sub.id, status=status, reviewer_id=reviewer_id, now=clock.now()
                )
        finally:
            await engine.dispose()

    results = await asyncio.gather(
        decide(SubmissionStatus.APPROVED, 1), decide(SubmissionStatus.REJECTED, 2)
    )
    assert sorted(results) == [False, True]
    got = await one(app, Submission)
    winner = 1 if results[0] else 2
    assert got.decided_by == winner
    assert got.status == (SubmissionStatus.APPROVED if winner == 1 else SubmissionStatus.REJECTED)


async def test_a_join_request_returned_for_its_nik_is_corrected_and_waits_again(
    app, person
) -> None:
    from tests.bot.test_coop_join import NIK, load_sample, search_home

    await load_sample(app)
    returnee = person(8312)
    await onboard(returnee, lang="en")
    await search_home(returnee)
    await returnee.press("Karyawan Surabaya")
    await returnee.press("Ask to join")
    await returnee.choose("yes")
    await returnee.send(NIK)
    await returnee.choose("yes")
    sub = await one(app, Submission)
    staff = await reviewer(app, person)
    said = texts(await staff.press_data(ReviewCB(act="open", id=sub.id, k=0).pack()))
    assert NIK not in said and NIK[-4:] in said  # masked until revealed
    await staff.press_data(ReviewCB(act="ret", id=sub.id, k=0).pack())
    await staff.press("NIK")
    await staff.press("Next: the reason")
    await staff.send("Angka NIK tidak cocok dengan KTP.")
    assert (await one(app, Submission)).returned_fields == ["nik"]
    await returnee.press("Correct it now")
    said = texts(await returnee.send("3578010101900002"))
    assert "went back to the reviewer" in said
    got = await one(app, Submission)
    assert got.status == SubmissionStatus.SUBMITTED and got.answers["nik"] == "3578010101900002"
    assert got.answers["cooperative_name"] == sub.answers["cooperative_name"]


async def test_a_submission_without_a_flow_is_returned_for_the_name_and_the_profile_is_fixed(
    app, person
) -> None:
    from storage import submissions
    from storage.models import Person, SubmissionKind

    returnee = person(8313)
    await onboard(returnee, lang="en", name="Siti Aminh")
    async with app.sessionmaker() as session, session.begin():
        me = await repo.person_by_telegram_id(session, telegram_id=8313)
        sub = await submissions.create(
            session, person=me, kind=SubmissionKind.TRAINING, ref_id=7, answers={"title": "Jahit"}
        )
    staff = await reviewer(app, person)
    await staff.press_data(ReviewCB(act="ret", id=sub.id, k=3, m=1).pack())  # the name
    await staff.press("Next: the reason")
    await staff.send("Mohon tulis nama sesuai KTP.")
    said = texts(await returnee.press("Correct it now"))
    assert "name" in said.lower()
    said = texts(await returnee.send("Siti Aminah"))
    assert "went back to the reviewer" in said
    assert (await one(app, Submission)).status == SubmissionStatus.SUBMITTED
    assert (await one(app, Person, Person.telegram_id == 8313)).name == "Siti Aminah"


async def test_a_late_digest_counts_since_the_last_one_and_says_so(settings) -> None:
    """Down for two days: the digest that comes late counts everything since the previous one
    (not only the last 24 hours) and says since when; "yesterday" would be untrue."""
    from datetime import UTC, datetime

    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    from bot.app import build_app
    from storage import submissions
    from storage.models import SubmissionKind
    from tests.support.fake_bot_api import FakeBotAPI

    moment = [datetime(2026, 11, 25, 0, 30, tzinfo=UTC)]  # 07.30 WIB
    clock.set_clock(lambda: moment[0])
    async with FakeBotAPI() as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        app = build_app(settings, session=session, token="123456:TEST-token")
        try:
            async with app.sessionmaker() as s, s.begin():
                staff = await repo.create_person(s, telegram_id=8411, locale="en")
                await repo.update_person(s, staff, province_code="35", onboarded_at=moment[0])
                await repo.set_role(s, person_id=staff.id, role="staff")
                someone = await repo.create_person(s, telegram_id=8412, locale="id")
                await repo.update_person(s, someone, province_code="35", regency_code="35.78")
            await app.ticker.tick()
            moment[0] = datetime(2026, 11, 25, 1, 0, 5, tzinfo=UTC)  # 08.00 WIB: the first
            await app.ticker.tick()
            moment[0] = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # the next day's planned
            await app.ticker.tick()
            moment[0] = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # the bot is down; someone
            async with app.sessionmaker() as s, s.begin():  # asks to join meanwhile
                await submissions.create(
                    s, person=someone, kind=SubmissionKind.JOIN_REQUEST, ref_id=1, answers={}
                )
            moment[0] = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # back two days later
            await app.ticker.tick()
            sent = [c for c in fake.calls_to("sendMessage") if c.error_code is None]
            assert len(sent) == 2
            first, late = (c.params["text"] for c in sent)
            assert "New since yesterday: 0" in first
            assert "New since November 25, 2026, 8:00" in late and "New since yesterday" not in late
            assert "WIB: 1" in late and "Waiting: 1" in late
        finally:
            await app.close()
