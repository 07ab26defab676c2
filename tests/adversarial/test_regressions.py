"""Defects the fuzzers found beyond issue 13's list, each pinned by the input that found it."""

from __future__ import annotations

import itertools

import pytest
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery

from tests.support.talk import onboard, texts

_ids = itertools.count(1)


async def _press_inline(chat, data: str):
    """A press on a button of an inline message: Telegram gives no `message`, only its id."""
    query = CallbackQuery(
        id=f"inline-{next(_ids)}", from_user=chat.user, chat_instance="x",
        inline_message_id="AgAAAx", data=data,
    )  # fmt: skip
    chat._callbacks.add(query.id)
    return await chat.feed(callback_query=query)


@pytest.mark.parametrize(
    ("who", "data"),
    [
        ("stranger", "m:coop"),  # menu_item answered on callback.message: AttributeError
        ("stranger", "l:en"),
        ("onboarded", "l:en"),
        ("stranger", "r:continue:1"),
        ("stranger", "c:0:"),
        ("stranger", "e:0"),
        ("onboarded", "e:0"),
    ],
)
async def test_a_press_without_a_message_is_answered_in_the_pressers_chat(
    app, person, who: str, data: str
) -> None:
    chat = person(7990)
    if who == "onboarded":
        await onboard(chat, lang="en")
    calls = await _press_inline(chat, data)
    shown = texts(calls)
    assert "something went wrong" not in shown.lower() and "gangguan" not in shown
    assert any(isinstance(c, SendMessage) and c.chat_id == chat.user.id for c in calls), calls
