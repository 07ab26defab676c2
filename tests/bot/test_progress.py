"""Progres saya: every journey, where it stands, what comes next, and a button to continue."""

from __future__ import annotations

from storage.models import FlowRun, RunStatus
from tests.support.talk import onboard, one, texts


async def test_a_newcomer_sees_every_journey_not_started_with_a_way_in(app, person) -> None:
    chat = person(7301)
    await onboard(chat, lang="en")
    shown = texts(await chat.send("/progres"))
    assert "Your progress" in shown
    for heading in ("Cooperative", "KUR loan", "Training"):
        assert heading in shown
    assert shown.count("Not started yet.") == 3
    buttons = chat.buttons()
    assert any("Cooperative" in b for b in buttons) and any("Main menu" in b for b in buttons)


async def test_a_stopped_journey_shows_its_step_and_continues_exactly_there(app, person) -> None:
    chat = person(7302)
    await onboard(chat, lang="en")
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Find a cooperative")
    await chat.choose("other")  # now at the province question
    await chat.send("/batal")
    stopped = await one(app, FlowRun, FlowRun.flow == "coop_search")
    assert stopped.status == RunStatus.CANCELLED and stopped.step == "province"

    shown = texts(await chat.press("My progress") if "My progress" in " ".join(chat.buttons())
                  else await chat.send("/progres"))  # fmt: skip
    assert "Find a cooperative: step 2 of" in shown and "stopped" in shown
    assert "Next: Which province?" in shown
    assert shown.count("Not started yet.") == 2  # KUR and training

    resumed = texts(await chat.press("Find a cooperative"))
    assert "Which province?" in resumed
    run = await one(app, FlowRun, FlowRun.flow == "coop_search")
    assert run.id == stopped.id and run.status == RunStatus.ACTIVE and run.step == "province"
    await chat.send("Jawa Tengah")
    assert (await one(app, FlowRun, FlowRun.flow == "coop_search")).step == "regency"


async def test_the_menu_button_opens_the_same_page(app, person) -> None:
    chat = person(7303)
    await onboard(chat, lang="en")
    await chat.send("/menu")
    shown = texts(await chat.press("My progress"))
    assert "Your progress" in shown and shown.count("Not started yet.") == 3


async def test_progress_needs_a_profile_first(app, person) -> None:
    chat = person(7304)
    assert "/start" in texts(await chat.send("/progres"))
