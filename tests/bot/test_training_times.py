"""Every start time a coordinator is offered has end times that work, for a new session and
an edit: a session starts and ends on one day, by 23.59 at the latest."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.keyboards import FlowCB
from storage.models import FlowRun, Training
from tests.bot.test_training import add, cb, coordinator
from tests.support.talk import one, texts


def offered(chat, step: str) -> list[str]:
    """The values of the option buttons of `step` on the newest keyboard."""
    message = chat.last_keyboard_message()
    values = []
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            data = FlowCB.unpack(button.callback_data)
            if data.step == step and data.act == "pick":
                values.append(data.v)
    return values


async def at_start_step(chat) -> None:
    await chat.send("/pelatihan_baru")
    await chat.send("Pembukuan untuk warung")
    await chat.send("Dinas Koperasi Surabaya")
    await chat.choose("finance")
    await chat.send("15/01/2027")


async def test_every_offered_start_and_end_button_works(app, person) -> None:
    chat = await coordinator(app, person)
    await at_start_step(chat)
    starts = offered(chat, "start")
    assert {"19.00", "20.00"} <= set(starts)
    for start in starts:
        said = texts(await chat.choose(start))
        assert "What time does it end?" in said and "Sorry" not in said
        tried: set[str] = set()
        while untried := [e for e in offered(chat, "end") if e not in tried]:
            end = untried[0]  # the kept earlier answer is offered too, while it still fits
            tried.add(end)
            hour, minute = (int(x) for x in end.split("."))
            assert (hour, minute) <= (23, 59) and end > start
            said = texts(await chat.choose(end))
            assert "in person or online" in said, (start, end)
            run = await one(app, FlowRun, FlowRun.flow == "training_edit")
            assert run.step == "mode" and run.answers["end"] == end
            await chat.press("Back")
        await chat.press("Back")
        assert tried, start
        assert (await one(app, FlowRun, FlowRun.flow == "training_edit")).step == "start"


async def test_a_session_at_20_00_is_saved(app, person) -> None:
    chat = await coordinator(app, person)
    await at_start_step(chat)
    await chat.choose("20.00")
    await chat.choose("23.00")
    await chat.choose("online")
    await chat.send("https://zoom.us/j/123456")
    await chat.choose("all")
    await chat.send("25")
    await chat.choose("no")
    assert "Saved" in texts(await chat.choose("yes"))
    saved = await one(app, Training)
    assert saved.starts_at == datetime(2027, 1, 15, 13, 0, tzinfo=UTC)  # 20.00 WIB
    assert saved.ends_at == datetime(2027, 1, 15, 16, 0, tzinfo=UTC)


async def test_a_late_typed_start_still_gets_an_end_and_midnight_is_explained(app, person) -> None:
    chat = await coordinator(app, person)
    await at_start_step(chat)
    said = texts(await chat.send("23.59"))
    assert "no later than 23.58" in said
    await chat.send("23.00")
    assert offered(chat, "end") == ["23.59"]
    said = texts(await chat.send("24.00"))
    assert "by 23.59 at the latest" in said
    assert (await one(app, FlowRun, FlowRun.flow == "training_edit")).step == "end"
    await chat.choose("23.59")
    assert (await one(app, FlowRun, FlowRun.flow == "training_edit")).step == "mode"


async def test_editing_a_session_that_starts_in_the_evening(app, person) -> None:
    evening = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)  # 19.00 WIB to 22.00 WIB
    tid = await add(app, starts_at=evening, ends_at=evening.replace(hour=15))
    chat = await coordinator(app, person)
    await chat.press_data(cb("edit", tid))
    await chat.press("Selling online")
    await chat.press("Disnaker Surabaya")
    await chat.choose("digital")
    await chat.send("10/01/2027")
    said = texts(await chat.choose("19.00"))
    assert "What time does it end?" in said and "22.00" in offered(chat, "end")
    await chat.choose("22.00")
    await chat.choose("place")
    await chat.press("BLK Surabaya")
    await chat.choose("35.78")
    await chat.send("10")
    await chat.choose("no")
    assert "Changes saved" in texts(await chat.choose("yes"))
    saved = await one(app, Training)
    assert saved.starts_at == evening and saved.ends_at == evening.replace(hour=15)
