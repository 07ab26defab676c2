"""A reviewer's decision on a training registration reaches the whole journey, through the
real dispatcher: the person's /progres, "My trainings" and /datasaya, their reminders, and the
waitlist (the first waiting person promoted and told in their own language)."""

from __future__ import annotations

from datetime import timedelta

from aiogram.methods import SendMessage

from bot.handlers.review import ReviewCB
from bot.handlers.training import TrainingCB
from operations.trainings import reminder_prefix
from storage.models import (
    RegistrationStatus,
    Reminder,
    Submission,
    SubmissionKind,
    TrainingRegistration,
)
from storage.reviews import KINDS
from tests.bot.test_review import reviewer
from tests.bot.test_training import START, add, coordinator, person_id
from tests.support.talk import count, onboard, one, texts

TRAINING = KINDS.index(SubmissionKind.TRAINING.value)
REASON = "Kuota untuk desa Anda sudah penuh."


def to(app, uid: int) -> str:
    return "\n".join(
        c.text
        for c in app.bot.session.calls
        if isinstance(c, SendMessage) and c.chat_id == uid and c.text
    )


async def seat_and_waitlist(app, person):
    """A session the organiser confirms, one seat: an English speaker takes it, an Indonesian
    speaker waits."""
    tid = await add(app, seats=1, needs_approval=True)
    holder, waiting = person(9601), person(9602)
    await onboard(holder, lang="en", name="Ani Lestari")
    await onboard(waiting, lang="id", name="Budi Santoso")
    await holder.press_data(TrainingCB(act="reg", id=tid).pack())
    await waiting.press_data(TrainingCB(act="reg", id=tid).pack())
    holder_reg = await one(
        app, TrainingRegistration, TrainingRegistration.person_id == await person_id(app, 9601)
    )
    return tid, holder, waiting, holder_reg


async def test_a_rejected_registration_says_not_approved_everywhere_and_promotes(
    app, person
) -> None:
    _tid, holder, waiting, reg = await seat_and_waitlist(app, person)
    assert await count(app, Reminder, Reminder.dedupe_key.startswith(reminder_prefix(reg.id))) == 2
    submission = await one(app, Submission)
    staff = await reviewer(app, person, 9610)
    await staff.press_data(ReviewCB(act="no", id=submission.id, k=TRAINING).pack())
    assert "The returnee was told" in texts(await staff.send(REASON))

    # the seat is released, its reminders cancelled
    assert (await one(app, TrainingRegistration, TrainingRegistration.id == reg.id)).status == (
        RegistrationStatus.REJECTED
    )
    assert (
        await count(
            app,
            Reminder,
            Reminder.dedupe_key.startswith(reminder_prefix(reg.id)),
            Reminder.status.in_(["pending", "sending"]),
        )
        == 0
    )
    # the first waiting person got the seat and was told, in Indonesian
    assert "Kabar baik!" in to(app, 9602) and "Selling online" in to(app, 9602)
    promoted = await one(
        app, TrainingRegistration, TrainingRegistration.person_id == await person_id(app, 9602)
    )
    assert promoted.status == RegistrationStatus.REGISTERED
    assert await count(app, Reminder, Reminder.dedupe_key.startswith(reminder_prefix(promoted.id)))
    mine = texts(await waiting.press_data(TrainingCB(act="mine").pack()))
    assert "Terdaftar, menunggu konfirmasi penyelenggara" in mine

    # the rejected person's screens agree: not approved, with the reason
    progress = texts(await holder.send("/progres"))
    assert "not approved" in progress and REASON in progress
    assert "registered" not in progress.lower().replace("not approved", "")
    mine = texts(await holder.press_data(TrainingCB(act="mine").pack()))
    assert "Not approved" in mine and REASON in mine and "✅ Registered" not in mine
    assert "Cancel: Selling online" not in holder.buttons()
    data = texts(await holder.send("/datasaya"))
    assert "Selling online" in data and "not approved" in data and REASON in data
    assert "registered" not in data.split("Your training places")[1].split("\n\n")[0]
    # and Register does not bring the rejected place back
    refused = texts(await holder.press_data(TrainingCB(act="reg", id=promoted.training_id).pack()))
    assert "not approved" in refused
    assert (await one(app, TrainingRegistration, TrainingRegistration.id == reg.id)).status == (
        RegistrationStatus.REJECTED
    )


async def test_an_approved_registration_reads_confirmed(app, person) -> None:
    _tid, holder, waiting, reg = await seat_and_waitlist(app, person)
    submission = await one(app, Submission)
    staff = await reviewer(app, person, 9611)
    await staff.press_data(ReviewCB(act="ok", id=submission.id, k=TRAINING).pack())
    mine = texts(await holder.press_data(TrainingCB(act="mine").pack()))
    assert "Registered and confirmed by the organiser" in mine
    assert "registered and confirmed" in texts(await holder.send("/progres"))
    assert "Kabar baik!" not in to(app, 9602)  # nobody promoted
    assert await count(app, Reminder, Reminder.dedupe_key.startswith(reminder_prefix(reg.id))) == 2


async def test_a_coordinator_moving_a_session_tells_the_people_in_it(app, person) -> None:
    tid = await add(app, seats=1)
    holder, waiting = person(9621), person(9622)
    await onboard(holder, lang="en")
    await onboard(waiting, lang="id", name="Budi Santoso")
    await holder.press_data(TrainingCB(act="reg", id=tid).pack())
    await waiting.press_data(TrainingCB(act="reg", id=tid).pack())
    reg = await one(
        app, TrainingRegistration, TrainingRegistration.person_id == await person_id(app, 9621)
    )
    before = await one(app, Reminder, Reminder.dedupe_key == reminder_prefix(reg.id) + "day")
    chat = await coordinator(app, person, 9690)
    await chat.press_data(TrainingCB(act="edit", id=tid).pack())
    await chat.press("Selling online")
    await chat.press("Disnaker Surabaya")
    await chat.choose("digital")
    await chat.send("12/01/2027")  # two days later
    await chat.choose("09.00")
    await chat.choose("12.00")
    await chat.choose("place")
    await chat.press("BLK Surabaya")
    await chat.choose("35.78")
    await chat.send("1")
    await chat.choose("no")
    shown = texts(await chat.choose("yes"))
    assert "2 people registered or waiting were told of the change" in shown
    assert "changed the time of this training" in to(app, 9621)
    assert "Penyelenggara mengubah waktu pelatihan ini" in to(app, 9622)
    after = await one(app, Reminder, Reminder.dedupe_key == reminder_prefix(reg.id) + "day")
    assert after.due_at == before.due_at + timedelta(days=2)
    assert after.due_at < START + timedelta(days=2)
