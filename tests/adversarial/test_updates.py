"""Every kind of update Telegram delivers, with hostile contents, from a stranger, a person
halfway through the consent, and a person with a profile: nothing breaks, nothing is refused,
nothing leaks into the logs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.adversarial.conftest import Harness, budget
from tests.adversarial.hostile import HOSTILE_TEXTS, feed_kind, hostile_text
from tests.adversarial.test_flows import KINDS
from tests.support.talk import agree, onboard, texts

STAGES = ("stranger", "consented", "onboarded")


async def someone(h: Harness, stage: str):
    chat = h.person()
    if stage == "consented":
        await agree(chat)
    elif stage == "onboarded":
        await onboard(chat, lang="en")
    return chat


async def send(h: Harness, stage: str, kind: str, text: str) -> str:
    chat = await someone(h, stage)
    since = h.mark()
    shown = texts(await feed_kind(chat, kind, text))
    h.check(since, f"{kind} with {text!r:.80} from a {stage} person", shown)
    return shown


def test_every_update_kind_from_everyone(harness: Harness) -> None:
    """Each kind from a stranger (new for each), and from one person who has only agreed and
    one with a profile (the same two throughout, as a person sends many things)."""

    async def scenario() -> None:
        known = {"consented": await someone(harness, "consented")}
        known["onboarded"] = await someone(harness, "onboarded")
        for i, kind in enumerate(KINDS):
            for j, stage in enumerate(STAGES):
                chat = known.get(stage) or harness.person()
                text = HOSTILE_TEXTS[(i * 3 + j) % len(HOSTILE_TEXTS)]
                since = harness.mark()
                shown = texts(await feed_kind(chat, kind, text))
                harness.check(since, f"{kind} with {text!r:.80} from a {stage} person", shown)

    harness.run(scenario())


@pytest.mark.parametrize("kind", ["group_message"])
def test_groups_and_channels_get_at_most_one_short_line(harness: Harness, kind: str) -> None:
    async def scenario() -> None:
        chat = await someone(harness, "onboarded")
        calls = harness.app.bot.session.calls  # type: ignore[attr-defined]
        for command in ("/datasaya@pulang_juragan_bot", "/profil", "/progres"):
            before = len(calls)
            await feed_kind(chat, kind, command)
            public = [c for c in calls[before:] if getattr(c, "chat_id", 0) < 0]
            shown = texts(public)
            assert "Siti" not in shown and "****" not in shown, shown
            assert len(public) <= 1, shown

    harness.run(scenario())


def test_fuzz_update_kinds(harness: Harness) -> None:
    @budget(25)
    @given(stage=st.sampled_from(STAGES), kind=st.sampled_from(KINDS), text=hostile_text)
    def run(stage: str, kind: str, text: str) -> None:
        harness.run(send(harness, stage, kind, text))

    run()


def test_hostile_start_payloads_then_consent(harness: Harness) -> None:
    """A deep link's payload rides in the consent button and lands on the person's row."""

    async def scenario() -> None:
        payloads = [*HOSTILE_TEXTS[:20], "f-" + "x" * 60, "r-\x00", "f-<b>", "r-" + "9" * 40]
        for text in payloads:
            chat = harness.person()
            since = harness.mark()
            shown = texts(await chat.send(f"/start {text}"))
            if any("Setuju" in b for b in chat.buttons()):
                shown += texts(await chat.press("Setuju"))
            harness.check(since, f"/start {text!r:.60} and consent", shown)

    harness.run(scenario())
