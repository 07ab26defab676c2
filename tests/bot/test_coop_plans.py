"""A founding plan's life with several people, through the real dispatcher: cancelling it,
handing it over, the lead deleting their data, a join request rejected and asked again, a
founding file decided."""

from __future__ import annotations

from aiogram.methods import SendMessage

from bot.handlers.coop import CoopCB
from bot.handlers.review import ReviewCB
from storage.models import (
    Founding,
    FoundingStatus,
    Person,
    Reminder,
    ReminderStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from storage.reviews import KINDS
from tests.bot.test_coop_found import FOUNDER, onboard_in_mataram, start_plan
from tests.bot.test_coop_join import load_sample, search_home
from tests.bot.test_review import reviewer
from tests.support.talk import count, onboard, one, texts

ANI, BUDI = FOUNDER + 1, FOUNDER + 2
PLAN = "Koperasi Purna Migran Mataram"


async def plan_of_three(app, person):
    """Baiq (English, Mataram) leads; Ani (Indonesian) and Budi (English) joined by the link;
    the meeting is set, so all three have its reminders."""
    founder = person(FOUNDER)
    await onboard_in_mataram(founder)
    plan = await start_plan(app, founder)
    await founder.press("Set the meeting date")
    await founder.send("10/01/2027")
    await founder.send("14.30")
    ani, budi = person(ANI), person(BUDI)
    await onboard(ani, lang="id", name="Ani Purnama")
    await onboard(budi, lang="en", name="Budi Santoso")
    for chat in (ani, budi):
        await chat.send(f"/start f-{plan.code}")
        await chat.press("✅")
    for chat in (founder, ani, budi):
        chat.replies()
    return founder, ani, budi, plan


def sent_to(app, chat_id: int, since: int = 0) -> list[SendMessage]:
    return [
        c
        for c in app.bot.session.calls[since:]
        if isinstance(c, SendMessage) and c.chat_id == chat_id
    ]


async def test_the_lead_cancels_and_every_cofounder_is_told_in_their_language(app, person) -> None:
    founder, ani, budi, plan = await plan_of_three(app, person)
    assert await count(app, Reminder, Reminder.status == ReminderStatus.PENDING) == 6
    asked = texts(await founder.press("Cancel the plan"))
    for said in (
        f"Cancel the founding plan “{PLAN}”?",
        "The invitation link stops working.",
        "The other founders are told: 2.",
        "reminders of the founding meeting are cancelled",
        "This cannot be undone.",
    ):
        assert said in asked, asked
    assert (await one(app, Founding)).status == FoundingStatus.PLANNING  # asking changes nothing
    done = texts(await founder.press("Yes, cancel the plan"))
    assert f"“{PLAN}” is cancelled. The other founders were told: 2." in done
    assert f"Baiq membatalkan rencana pendirian “{PLAN}”" in texts(ani.replies())
    assert f"Baiq cancelled the founding plan “{PLAN}”" in texts(budi.replies())
    assert texts(founder.replies()) == ""  # the lead had the reply, no notice
    closed = await one(app, Founding)
    assert closed.status == FoundingStatus.CANCELLED and closed.closed_at is not None
    assert await count(app, Reminder, Reminder.status == ReminderStatus.PENDING) == 0
    # Ani's progress says it was cancelled, with no button to a plan that cannot change
    progress = texts(await ani.send("/progres"))
    assert f"Rencana pendirian: {PLAN}: dibatalkan pada" in progress
    assert not any(PLAN in b for b in ani.buttons())
    # the link no longer invites; a press on the old page changes nothing
    newcomer = person(FOUNDER + 9)
    await onboard(newcomer, lang="en", name="Citra Dewi")
    assert "could not find that founding plan" in texts(
        await newcomer.send(f"/start f-{plan.code}")
    )
    pressed = texts(await founder.press_data(CoopCB(act="ms", id=plan.id, k="adart", p=1).pack()))
    assert "was cancelled" in pressed
    assert (await one(app, Founding)).milestones == {}


async def test_the_lead_hands_the_plan_over_and_the_new_lead_works_it(app, person) -> None:
    founder, ani, budi, plan = await plan_of_three(app, person)
    await founder.send("/menu")
    await founder.press("Cooperative")
    await founder.press("My founding plan")
    chosen = texts(await founder.press("Hand over"))
    assert f"Who should lead “{PLAN}”" in chosen
    assert [b for b in founder.buttons() if b.startswith("👤")] == ["👤 Ani", "👤 Budi"]
    confirm = texts(await founder.press("Ani"))
    assert f"Hand “{PLAN}” over to Ani?" in confirm and "You stay a founder" in confirm
    done = texts(await founder.press("Yes, hand it over to Ani"))
    assert f"Ani now leads “{PLAN}” and was told" in done
    assert "Set the meeting date" not in " ".join(founder.buttons())  # no longer the lead
    ani_id = (await one(app, Person, Person.telegram_id == ANI)).id
    assert (await one(app, Founding)).founder_id == ani_id
    assert f"Baiq menyerahkan rencana pendirian “{PLAN}” kepada Anda" in texts(ani.replies())
    assert f"Ani now leads the founding plan “{PLAN}”" in texts(budi.replies())
    # the old lead's presses are refused; the new lead marks a step and moves the meeting
    refused = await founder.press_data(CoopCB(act="ms", id=plan.id, k="adart", p=1).pack())
    assert "Only the lead of this founding plan" in texts(refused)
    await ani.press("Buka rencananya")
    await ani.press("AD/ART disusun")
    assert "adart" in (await one(app, Founding)).milestones
    assert "Ani marked a step" in texts(budi.replies())
    await ani.press("Atur tanggal rapat")
    await ani.send("12/01/2027")
    await ani.choose("09.00")
    assert (await one(app, Founding)).meeting_at is not None
    assert "is set: January 12, 2027" in texts(budi.replies())
    assert "is set: January 12, 2027" in texts(founder.replies())


async def test_after_the_lead_deletes_their_data_the_next_founder_works_the_plan(
    app, person
) -> None:
    founder, ani, budi, plan = await plan_of_three(app, person)
    await founder.send("/hapusdata")
    await founder.press("Yes, delete")
    told = ani.replies()
    assert "Anda sekarang memimpin rencana pendirian" in texts(told)
    assert "Ani now leads the plan" in texts(budi.replies())
    await ani.press("Buka rencananya", message=ani.last_keyboard_message())
    page = texts(await ani.press("AD/ART disusun"))
    assert "✅ 2. AD/ART disusun" in page
    await ani.press("Atur tanggal rapat")
    await ani.send("15/01/2027")
    said = texts(await ani.choose("10.00"))
    assert "Rapat pendirian:" in said or "15 Januari 2027" in said
    plan = await one(app, Founding)
    ani_id = (await one(app, Person, Person.telegram_id == ANI)).id
    assert plan.founder_id == ani_id and "adart" in plan.milestones
    assert plan.meeting_at is not None and plan.meeting_at.day == 15
    assert "is set: January 15, 2027" in texts(budi.replies())
    budi_id = (await one(app, Person, Person.telegram_id == BUDI)).id
    assert await count(app, Reminder, Reminder.person_id == budi_id) == 2


async def test_a_rejected_join_request_shows_why_and_can_be_asked_again(app, person) -> None:
    await load_sample(app)
    chat = person(7101)
    await onboard(chat, lang="en")
    await search_home(chat)
    await chat.press("Karyawan Surabaya")
    await chat.press("Ask to join")
    await chat.choose("yes")
    await chat.send("3578014101900001")
    assert "has been sent" in texts(await chat.choose("yes"))
    request = await one(app, Submission)
    staff = await reviewer(app, person)
    kind = KINDS.index(SubmissionKind.JOIN_REQUEST.value)
    await staff.press_data(ReviewCB(act="no", id=request.id, k=kind).pack())
    await staff.send("KTP tidak terbaca, mohon ajukan lagi.")
    progress = texts(await chat.send("/progres"))
    assert "not accepted" in progress
    assert "The reviewer wrote: KTP tidak terbaca, mohon ajukan lagi." in progress
    assert "Next: You may ask again" in progress
    await chat.press("Ask again")
    await chat.press("Ask to join")
    await chat.choose("yes")  # the NIK is saved: no need to type it again
    assert "has been sent" in texts(await chat.choose("yes"))
    statuses = [s.status for s in await _requests(app)]
    assert statuses == [SubmissionStatus.REJECTED, SubmissionStatus.SUBMITTED]
    progress = texts(await chat.send("/progres"))
    assert "waiting for the cooperative's answer" in progress
    assert "Ask again" not in " ".join(chat.buttons())


async def _requests(app) -> list[Submission]:
    from sqlalchemy import select

    async with app.sessionmaker() as session:
        return list(await session.scalars(select(Submission).order_by(Submission.id)))


async def test_a_founding_file_approved_marks_the_plan_and_tells_the_cofounders(
    app, person
) -> None:
    founder, ani, budi, plan = await plan_of_three(app, person)
    async with app.sessionmaker() as session, session.begin():
        lead = await session.get(Person, plan.founder_id)
        from storage import submissions

        file = await submissions.create(
            session, person=lead, kind=SubmissionKind.FOUNDING, ref_id=plan.id, answers={}
        )
    staff = await reviewer(app, person)
    kind = KINDS.index(SubmissionKind.FOUNDING.value)
    await staff.press_data(ReviewCB(act="ok", id=file.id, k=kind).pack())
    assert (await one(app, Founding)).status == FoundingStatus.APPROVED
    assert "Tim Pulang Juragan menyetujui berkas pendirian" in texts(ani.replies())
    assert "approved the founding file" in texts(budi.replies())
    assert "approved by the team" in texts(await budi.send("/progres"))
