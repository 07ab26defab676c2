"""Founding a cooperative with fellow returnees, through the real dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.methods import SendMessage

from bot.app import OFFLINE_TOKEN, build_app
from bot.offline import OfflineChat, OfflineSession
from flows import clock
from storage.models import (
    FlowRun,
    Founding,
    FoundingMember,
    FoundingStatus,
    Submission,
    SubmissionKind,
)
from tests.support.talk import agree, count, onboard, one, texts

FOUNDER = 8000
FRIENDS = ("Ani", "Budi", "Citra", "Dewi", "Eko", "Fajar", "Gita")


async def onboard_in_mataram(chat, name: str = "Baiq Nurul") -> None:
    """A founder whose home is Kota Mataram, NTB (WITA, UTC+8)."""
    await agree(chat)
    await chat.choose("en")
    await chat.send(name)
    await chat.send("0812 3456 7890")
    await chat.send("NTB")
    await chat.send("Kota Mataram")
    await chat.choose("TW")
    await chat.choose("5to10")
    await chat.choose("coop")


async def start_plan(app, chat) -> Founding:
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Found a new one")
    await chat.choose("simpan_pinjam")
    await chat.send("Simpan pinjam untuk purna PMI di Mataram")
    await chat.send("Koperasi Purna Migran Mataram")
    await chat.choose("yes")
    return await one(app, Founding)


def sent_to(app, chat_id: int) -> str:
    return "\n".join(
        c.text
        for c in app.bot.session.calls
        if isinstance(c, SendMessage) and c.chat_id == chat_id and c.text
    )


async def test_founding_plan_with_wrong_answers_creates_plan_and_invite(app, person) -> None:
    chat = person(FOUNDER)
    await onboard_in_mataram(chat)
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Found a new one")
    assert "buttons" in texts(await chat.send("koperasi apa saja")).lower()
    await chat.choose("simpan_pinjam")
    assert "type" in texts(await chat.sticker()).lower()
    assert "300 characters" in texts(await chat.send("x" * 301))
    assert "at least 10" in texts(await chat.send("pinjam"))
    await chat.send("Simpan pinjam untuk purna PMI di Mataram")
    await chat.send("Koperasi Purna Migran Mataram")
    page = texts(await chat.choose("yes"))
    plan = await one(app, Founding)
    assert plan.name == "Koperasi Purna Migran Mataram" and plan.kind == "simpan_pinjam"
    assert plan.status == FoundingStatus.PLANNING and plan.province_code == "52"
    assert len(plan.code) == 12 and all(c.isalnum() or c in "-_" for c in plan.code)
    assert await count(app, FoundingMember, FoundingMember.founding_id == plan.id) == 1
    assert f"https://t.me/pulang_juragan_bot?start=f-{plan.code}" in page
    assert "1 of at least 9" in page and "Baiq" in page
    for step in (
        "Info session (Dinas Koperasi)",
        "Founding meeting held",
        "Simpanan paid (bukti setor)",
        "Business plan",
        "NPAK",
        "AHU Online",
        "NIB",
        "NPWP",
        "Bank",
        "NIK Koperasi (after first RAT)",
    ):
        assert step in page
    assert "20" in page and "out of date" in page  # the old rule, named as outdated
    assert any("Share" in b for b in chat.buttons())


async def test_eight_cofounders_milestones_meeting_and_one_submission(app, person) -> None:
    founder = person(FOUNDER)
    await onboard_in_mataram(founder)
    plan = await start_plan(app, founder)
    link = f"f-{plan.code}"

    # the founding meeting is marked held early: not yet enough founders, nothing is sent
    await founder.press("Founding meeting held")
    plan = await one(app, Founding)
    assert plan.milestones["meeting"] == clock.today().isoformat()
    assert await count(app, Submission) == 0
    # a milestone marked and unmarked
    await founder.press("AD/ART drafted")
    assert "adart" in (await one(app, Founding)).milestones
    page = texts(await founder.press("AD/ART drafted"))
    assert "adart" not in (await one(app, Founding)).milestones and "⬜ 2." in page
    # a double tap: two presses of the same (unmarked) button mark it once, not on-off
    shown = founder.last_keyboard_message()
    await founder.press("AD/ART drafted", message=shown)
    await founder.press("AD/ART drafted", message=shown)
    assert "adart" in (await one(app, Founding)).milestones
    await founder.press("AD/ART drafted")  # unmark again for what follows

    # the founding meeting date, in WITA
    await founder.press("Set the meeting date")
    assert "date" in texts(await founder.send("tomorrow-ish")).lower()
    await founder.send("10/01/2027")
    assert "time" in texts(await founder.send("25.99")).lower()
    shown = texts(await founder.send("14.30"))
    plan = await one(app, Founding)
    assert plan.meeting_at == datetime(2027, 1, 10, 6, 30, tzinfo=UTC)
    assert "January 10, 2027, 2:30\u202fPM WITA" in shown

    # seven people already in the bot join through the link
    for n in range(1, 8):
        chat = person(FOUNDER + n)
        await onboard(chat, lang="en", name=f"{FRIENDS[n - 1]} Purnama")
        invite = texts(await chat.send(f"/start {link}"))
        assert "Koperasi Purna Migran Mataram" in invite and "Baiq" in invite
        assert f"Founders so far: {n}" in invite
        joined = texts(await chat.press("Join as founder"))
        assert "You are now a founder" in joined and f"{n + 1} of at least 9" in joined
    assert await count(app, FoundingMember) == 8
    assert "Gita joined your founding plan" in sent_to(app, FOUNDER)
    assert "Founders now: 8 of at least 9" in sent_to(app, FOUNDER)
    assert await count(app, Submission) == 0

    # a double tap on "Join" by someone already in changes nothing
    again = person(FOUNDER + 7)
    await again.send(f"/start {link}")
    await again.press_data(f"co:fj:0::{plan.code}:0")
    assert await count(app, FoundingMember) == 8
    # the founder cannot join their own plan again
    assert "already a founder" in texts(await founder.send(f"/start {link}"))
    assert await count(app, FoundingMember) == 8

    # someone brand new: consent and the profile first, then the invitation
    newcomer = person(FOUNDER + 8)
    await onboard(newcomer, lang="en", name="Lalu Baru", payload=link)
    assert "Koperasi Purna Migran Mataram" in texts(newcomer.replies()) or "Join as founder" in (
        " ".join(newcomer.buttons())
    )
    assert any("Join as founder" in b for b in newcomer.buttons())
    await newcomer.press("Join as founder")
    await newcomer.press_data(f"co:fj:0::{plan.code}:0")  # double tap
    assert await count(app, FoundingMember) == 9

    # 9 founders and the meeting held: sent to the team exactly once
    plan = await one(app, Founding)
    assert plan.status == FoundingStatus.SUBMITTED and plan.submitted_at is not None
    submission = await one(app, Submission)
    assert submission.kind == SubmissionKind.FOUNDING and submission.ref_id == plan.id
    assert submission.answers["founders"] == 9 and "meeting" in submission.answers["milestones"]
    assert submission.answers["meeting_at"].startswith("2027-01-10T06:30")
    assert "sent to the Pulang Juragan team" in sent_to(app, FOUNDER)
    await founder.send("/menu")
    await founder.press("Cooperative")
    await founder.press("My founding plan")
    await founder.press("Founding meeting held")  # unmark
    await founder.press("Founding meeting held")  # mark again
    await newcomer.send(f"/start {link}")
    assert await count(app, Submission) == 1

    progress = texts(await founder.send("/progres"))
    assert "9 of 9 founders, 1 of 11 steps done" in progress
    assert "Next: Info session (Dinas Koperasi)" in progress


async def test_forged_callbacks_change_nothing(app, person) -> None:
    founder = person(FOUNDER)
    await onboard_in_mataram(founder)
    plan = await start_plan(app, founder)
    other = person(FOUNDER + 50)
    await onboard(other, lang="en", name="Orang Lain")
    for data in (f"co:ms:{plan.id}::meeting:0", f"co:meet:{plan.id}:::0"):
        assert "Only the lead of this founding plan" in texts(await other.press_data(data))
    assert "could not find" in texts(await other.press_data(f"co:plan:{plan.id}:::0"))
    assert "could not find" in texts(await other.press_data("co:fj:0::NotARealCode:0"))
    assert "could not find" in texts(await founder.press_data(f"co:ms:{plan.id}::bogus:0"))
    assert "could not find" in texts(await founder.press_data("co:ms:424242::meeting:0"))
    plan = await one(app, Founding)
    assert plan.milestones == {} and plan.meeting_at is None
    assert await count(app, FlowRun, FlowRun.flow == "found_meeting") == 0
    assert await count(app, FoundingMember) == 1
    unknown = texts(await other.send("/start f-doesNotExist1"))
    assert "could not find that founding plan" in unknown
    assert await count(app, FoundingMember) == 1


async def test_no_thanks_changes_nothing(app, person) -> None:
    founder = person(FOUNDER)
    await onboard_in_mataram(founder)
    plan = await start_plan(app, founder)
    guest = person(FOUNDER + 60)
    await onboard(guest, lang="en", name="Tamu Saja")
    await guest.send(f"/start f-{plan.code}")
    await guest.press("No thanks")
    assert await count(app, FoundingMember) == 1


async def test_a_restart_in_the_middle_of_founding_resumes(app, person) -> None:
    founder = person(FOUNDER)
    await onboard_in_mataram(founder)
    await founder.send("/menu")
    await founder.press("Cooperative")
    await founder.press("Found a new one")
    await founder.choose("jasa")
    app2 = build_app(app.settings, session=OfflineSession(), token=OFFLINE_TOKEN)
    try:
        chat2 = OfflineChat(app2.bot, app2.dp, app2.bot.session, FOUNDER)  # type: ignore[arg-type]
        await chat2.send("Jasa katering bersama untuk purna PMI")
        run = await one(app, FlowRun, FlowRun.flow == "found_coop")
        assert run.step == "name" and run.answers["kind"] == "jasa"
        await chat2.send("Koperasi Boga Purna")
        await chat2.choose("yes")
        assert (await one(app, Founding)).name == "Koperasi Boga Purna"
    finally:
        await app2.close()


async def test_a_restart_in_the_middle_of_the_meeting_date_resumes(app, person) -> None:
    founder = person(FOUNDER)
    await onboard_in_mataram(founder)
    await start_plan(app, founder)
    await founder.press("Set the meeting date")
    await founder.send("10/01/2027")
    app2 = build_app(app.settings, session=OfflineSession(), token=OFFLINE_TOKEN)
    try:
        chat2 = OfflineChat(app2.bot, app2.dp, app2.bot.session, FOUNDER)  # type: ignore[arg-type]
        await chat2.send("09.00")
        plan = await one(app, Founding)
        assert plan.meeting_at == datetime(2027, 1, 10, 1, 0, tzinfo=UTC)
    finally:
        await app2.close()
