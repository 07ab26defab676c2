"""A command sent while the bot waits for typed text keeps its meaning: in an announcement
draft (/batal stops composing, every other command runs as anywhere else, the draft is kept)
and in the flows that wait for text (a review reason, a training's title)."""

from __future__ import annotations

from aiogram.types import PhotoSize

from bot.handlers.review import ReviewCB
from storage.models import Broadcast, FlowRun, Submission, SubmissionStatus, Training
from tests.bot.test_broadcast_compose import coordinator
from tests.bot.test_review import kur_submission, reviewer
from tests.support.talk import count, one, texts

SWALLOWED = "Stopped. Your draft is kept"


async def composing(app, person):
    chat = await coordinator(app, person)
    assert "Write the announcement" in texts(await chat.send("/siaran"))
    return chat


async def test_help_while_composing_is_answered_and_the_draft_waits_on_siaran(app, person) -> None:
    chat = await composing(app, person)
    said = texts(await chat.send("/help"))
    assert "/datasaya" in said and SWALLOWED not in said and "/siaran" in said
    draft = await one(app, Broadcast)
    assert draft.text == "" and draft.stage is None
    assert "Write the announcement" in texts(await chat.send("/siaran"))
    said = texts(await chat.send("Pelatihan menjahit Sabtu ini"))
    assert "Draft announcement" in said
    assert (await one(app, Broadcast)).text == "Pelatihan menjahit Sabtu ini"


async def test_hapusdata_while_composing_asks_to_delete(app, person) -> None:
    chat = await composing(app, person)
    said = texts(await chat.send("/hapusdata"))
    assert SWALLOWED not in said and "delete" in said.lower()
    assert any("Yes" in b or "delete" in b.lower() for b in chat.buttons())
    assert (await one(app, Broadcast)).text == ""


async def test_batal_while_composing_stops_and_keeps_the_draft(app, person) -> None:
    chat = await composing(app, person)
    await chat.send("Pengumuman penting")
    await chat.press("Add a link button")
    said = texts(await chat.send("/batal@juragan_bot"))
    assert SWALLOWED in said
    draft = await one(app, Broadcast)
    assert draft.stage is None and draft.button_text is None
    said = texts(await chat.send("Baca ini"))  # no longer waiting: not taken as the label
    assert (await one(app, Broadcast)).button_text is None and "menu" in said.lower()


async def test_a_command_that_starts_a_flow_gets_the_next_answer_not_the_draft(app, person) -> None:
    chat = await composing(app, person)
    said = texts(await chat.send("/pelatihan_baru"))
    assert "called" in said and SWALLOWED not in said
    await chat.send("Pembukuan untuk warung")
    run = await one(app, FlowRun, FlowRun.flow == "training_edit")
    assert run.answers["title"] == "Pembukuan untuk warung"
    assert (await one(app, Broadcast)).text == ""


async def test_menu_while_the_button_label_is_awaited(app, person) -> None:
    chat = await composing(app, person)
    await chat.send("Pengumuman penting")
    await chat.press("Add a link button")
    said = texts(await chat.send("/menu"))
    assert SWALLOWED not in said and "What would you like to do?" in said
    assert (await one(app, Broadcast)).stage is None


async def test_plain_text_and_a_captioned_photo_still_become_the_draft(app, person) -> None:
    chat = await composing(app, person)
    photo = [PhotoSize(file_id="AgACp", file_unique_id="u1", width=9, height=9)]
    said = texts(
        await chat.feed(message=chat._message(photo=photo, caption="/batal bukan perintah"))
    )
    assert "Draft announcement" in said
    draft = await one(app, Broadcast)
    assert draft.photo_file_id == "AgACp" and "bukan perintah" in draft.text


async def test_text_that_shows_nothing_is_not_an_announcement_or_a_label(app, person) -> None:
    chat = await composing(app, person)
    assert "needs some text" in texts(await chat.send("\u200b\u200d\u2060"))
    assert (await one(app, Broadcast)).text == ""
    await chat.send("Pengumuman penting")
    await chat.press("Add a link button")
    assert "short label" in texts(await chat.send("\u3164\u200e"))
    assert (await one(app, Broadcast)).button_text is None


# --- the flows that wait for text: a command keeps its meaning there too ------------------------


async def test_help_and_batal_while_typing_a_review_reason(app, person) -> None:
    _chat, sub = await kur_submission(app, person, 8304)
    staff = await reviewer(app, person)
    await staff.press_data(ReviewCB(act="no", id=sub.id, k=2).pack())
    said = texts(await staff.send("/help"))
    assert "/datasaya" in said
    run = await one(app, FlowRun, FlowRun.flow == "review_reason")
    assert run.step == "reason" and "reason" not in (run.answers or {})
    said = texts(await staff.send("/batal"))
    assert "Stopped" in said
    got = await one(app, Submission)
    assert got.status == SubmissionStatus.SUBMITTED and got.reason is None


async def test_help_while_typing_a_training_title(app, person) -> None:
    from tests.bot.test_training import coordinator as training_coordinator

    chat = await training_coordinator(app, person)
    await chat.send("/pelatihan_baru")
    assert "/datasaya" in texts(await chat.send("/help"))
    run = await one(app, FlowRun, FlowRun.flow == "training_edit")
    assert run.step == "title" and "title" not in run.answers
    await chat.send("Pembukuan untuk warung")
    assert (await one(app, FlowRun, FlowRun.flow == "training_edit")).step == "organiser"
    assert await count(app, Training) == 0
