"""Every step of every flow, through the real dispatcher, takes hostile input without an error,
a refused Bot API call, an apology or a canary in the logs: typed junk, every update kind,
commands in the middle of a flow, and double taps on the step's buttons."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.offline import OfflineChat
from flows import registry
from flows.engine import Kind
from storage.models import Person
from tests.adversarial.conftest import Harness, World, budget
from tests.adversarial.hostile import (
    COMMANDS,
    HOSTILE_TEXTS,
    UPDATE_KIND_NAMES,
    feed_kind,
    hostile_text,
)
from tests.adversarial.walk import active_run, flow_buttons, seed_run, walk
from tests.support.talk import texts

STEPS = [(f.key, s.key) for f in registry.FLOWS.values() for s in f.steps]
KINDS = list(UPDATE_KIND_NAMES)

action = st.one_of(
    st.tuples(st.just("text"), hostile_text),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("kind"), st.sampled_from(KINDS), hostile_text),
    st.tuples(st.just("double"), st.integers(0, 30)),
)


async def owner(h: Harness, world: World, flow: str) -> OfflineChat:
    """The person whose run of `flow` the world holds (its answers point at their rows)."""
    person_id = world.templates[flow][0]
    async with h.app.sessionmaker() as session:
        telegram_id = await session.scalar(select(Person.telegram_id).where(Person.id == person_id))
    return world.admin if telegram_id == world.admin.user.id else world.victim


async def act(chat: OfflineChat, flow: str, step: str, what: tuple[Any, ...]) -> str:
    """One hostile action by the person at this step; what they were shown."""
    kind = what[0]
    if kind == "text":
        return texts(await chat.send(what[1]))
    if kind == "command":
        return texts(await chat.send(what[1]))
    if kind == "kind":
        return texts(await feed_kind(chat, what[1], what[2]))
    buttons = flow_buttons(chat, flow, step) or flow_buttons(chat, flow, step, "page")
    if not buttons:
        return ""
    data = buttons[what[1] % len(buttons)]
    message = chat.last_keyboard_message()
    shown = texts(await chat.press_data(data, message))
    return shown + texts(await chat.press_data(data, message))  # the same message, twice


async def attack(
    h: Harness, world: World, flow: str, step: str, actions: list[Any], *, finish: bool = False
) -> None:
    """Hostile actions at a step; with `finish`, the run (if still going) is then answered
    well to its end: hostile input leaves nothing stuck."""
    chat = await owner(h, world, flow)
    await seed_run(h, chat, world, flow, step)
    for what in actions:
        since = h.mark()
        shown = await act(chat, flow, step, what)
        h.check(since, f"{what!r:.200} at {flow}:{step}", shown)
    if finish:
        since = h.mark()
        run = await active_run(chat, h.app)
        if run is not None and run.flow == flow:
            await walk(h, chat, flow)
        h.check(since, f"finishing {flow} after {actions!r:.200} at {step}")


def test_every_step_takes_hostile_texts_update_kinds_commands_and_double_taps(
    harness: Harness, world: World
) -> None:
    """A sweep: every step gets hostile texts, an update kind, a command and a double tap, in
    turn, so each text, kind and command meets several steps."""
    n = len(HOSTILE_TEXTS)
    for i, (flow, step) in enumerate(STEPS):
        actions: list[Any] = [("text", HOSTILE_TEXTS[(i * 3 + j) % n]) for j in range(3)]
        actions.append(("kind", KINDS[i % len(KINDS)], HOSTILE_TEXTS[i % n]))
        actions.append(("double", i))
        harness.run(attack(harness, world, flow, step, actions))
        command = [("command", COMMANDS[i % len(COMMANDS)])]
        harness.run(attack(harness, world, flow, step, command))


def test_fuzz_flows(harness: Harness, world: World) -> None:
    @budget(12)
    @given(step=st.sampled_from(STEPS), actions=st.lists(action, min_size=1, max_size=4))
    def run(step: tuple[str, str], actions: list[Any]) -> None:
        harness.run(attack(harness, world, *step, actions, finish=True))

    run()


def _datas(message: Any) -> set[str]:
    markup = message.reply_markup
    rows = markup.inline_keyboard if markup is not None else []
    return {b.callback_data for row in rows for b in row if b.callback_data}


def test_every_button_the_owner_got_double_tapped(harness: Harness, world: World) -> None:
    """Every kind of button on every message the victim and the admin got, old or new, pressed
    twice by its owner on the message it is on (a double tap on a stale message)."""

    async def scenario() -> None:
        session = harness.app.bot.session
        owners = {world.victim.user.id: world.victim, world.admin.user.id: world.admin}
        seen: set[tuple[int, str]] = set()
        for (chat_id, _mid), first in sorted(session.messages.items()):  # type: ignore[attr-defined]
            chat = owners.get(chat_id)
            if chat is None or first.reply_markup is None:
                continue
            for row in first.reply_markup.inline_keyboard:
                for button in row:
                    data = button.callback_data or ""
                    prefix, _, rest = data.partition(":")
                    kind = (chat_id, prefix + ":" + ":".join(rest.split(":")[:2]))
                    if not data or prefix == "e" or kind in seen:  # e: erases the presser
                        continue
                    message = session.messages[(chat_id, _mid)]  # as it is now
                    if data not in _datas(message):  # gone with an edit: nobody can press it
                        continue
                    seen.add(kind)
                    since = harness.mark()
                    shown = texts(await chat.press_data(data, message))
                    found.extend(f"{data}: {p}" for p in harness.problems(since, shown))
                    since = harness.mark()
                    shown = texts(await chat.press_data(data, message))
                    problems = harness.problems(since, shown, second_tap=True)
                    found.extend(f"{data} (again): {p}" for p in problems)

    found: list[str] = []
    harness.run(scenario())
    assert not found, "\n".join(found)


def test_every_message_kind_at_the_steps_telegram_buttons_answer(
    harness: Harness, world: World
) -> None:
    """The phone and location steps take a shared contact or place: any other contact, a
    place, a sticker or a document there is refused politely."""
    steps = [
        (f.key, s.key)
        for f in registry.FLOWS.values()
        for s in f.steps
        if s.kind in (Kind.PHONE, Kind.LOCATION)
    ]
    assert steps
    kinds = [k for k in KINDS if k.startswith("message:")]
    for flow, step in steps:
        for i, kind in enumerate(kinds):
            text = HOSTILE_TEXTS[i % len(HOSTILE_TEXTS)]
            harness.run(attack(harness, world, flow, step, [("kind", kind, text)]))
