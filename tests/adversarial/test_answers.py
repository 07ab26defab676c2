"""What a typed answer may become: junk never becomes an answer, a typed number is the number
typed, and a coordinator's command is never swallowed."""

from __future__ import annotations

from bot.handlers.training import TrainingCB
from flows import registry
from flows.engine import Kind
from tests.adversarial.conftest import Harness, World
from tests.adversarial.hostile import INVISIBLE
from tests.adversarial.test_flows import owner
from tests.adversarial.walk import active_run, flow_buttons, seed_run
from tests.support.talk import texts

TYPED = [
    (f.key, s.key)
    for f in registry.FLOWS.values()
    for s in f.steps
    if s.kind is Kind.TEXT or (s.kind is Kind.CHOICE and s.validate is not None)
]


async def _junk_taken(harness: Harness, world: World, steps: list[tuple[str, str]]) -> list[str]:
    """The steps (of these) where invisible-only text became an answer."""
    taken = []
    for step in steps:
        chat = await owner(harness, world, step[0])
        for junk in ("".join(INVISIBLE[:4]), "\u200c", "\u2060 \u200d"):
            run = await seed_run(harness, chat, world, *step)
            since = harness.mark()
            shown = texts(await chat.send(junk))
            harness.check(since, f"{junk!r} at {step}", shown)
            after = await active_run(chat, harness.app)
            if after is None or (after.id, after.step) != (run.id, run.step):
                taken.append(f"{':'.join(step)} took {junk!r}")
                break
    return taken


def test_invisible_only_text_is_never_an_answer(harness: Harness, world: World) -> None:
    assert harness.run(_junk_taken(harness, world, TYPED)) == []


def test_a_typed_tenor_is_the_number_typed(harness: Harness, world: World) -> None:
    async def scenario() -> None:
        chat = await owner(harness, world, "kur_simulator")
        for typed in ("1", "2", "6"):
            await seed_run(harness, chat, world, "kur_simulator", "tenor")
            await chat.send(typed)
            run = await active_run(chat, harness.app)
            assert run is not None and run.answers.get("tenor") in (int(typed), typed), typed

    harness.run(scenario())


def test_every_offered_start_time_can_be_chosen(harness: Harness, world: World) -> None:
    async def scenario() -> None:
        for i in range(len(registry.get("training_edit").step("start").options_for({}) or [1])):
            await seed_run(harness, world.admin, world, "training_edit", "start")
            buttons = flow_buttons(world.admin, "training_edit", "start")
            if i >= len(buttons):
                break
            since = harness.mark()
            shown = texts(await world.admin.press_data(buttons[i]))
            harness.check(since, f"start time {buttons[i]}", shown)
            if i == 0:  # the first start time leads to its end times: each can be chosen
                for end in flow_buttons(world.admin, "training_edit", "end"):
                    await seed_run(harness, world.admin, world, "training_edit", "start")
                    await world.admin.press_data(buttons[i])
                    since = harness.mark()
                    harness.check(since, end, texts(await world.admin.press_data(end)))

    harness.run(scenario())


def test_commands_keep_their_meaning_while_a_draft_waits(harness: Harness, world: World) -> None:
    async def scenario() -> None:
        await world.admin.send("/siaran")  # the world's draft has its text: start another
        await world.admin.press("Start a new one")
        shown = texts(await world.admin.send("/help"))
        assert "/start" in shown and "/batal" in shown, shown

    harness.run(scenario())


def test_a_forged_edit_of_a_session_by_its_coordinator_is_in_reach(
    harness: Harness, world: World
) -> None:
    """The admin's own edit button works (the forgers' refusals are not refusals of everyone)."""

    async def scenario() -> None:
        from sqlalchemy import select

        from storage.models import Training

        async with harness.app.sessionmaker() as session:
            training_id = await session.scalar(select(Training.id).order_by(Training.id))
        since = harness.mark()
        shown = texts(await world.admin.press_data(TrainingCB(act="edit", id=training_id).pack()))
        harness.check(since, "the admin's edit", shown)
        run = await active_run(world.admin, harness.app)
        assert run is not None and run.flow == "training_edit"

    harness.run(scenario())
