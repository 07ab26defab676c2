"""Defects the fuzzers found beyond issue 13's list, each pinned by the input that found it."""

from __future__ import annotations

import itertools

import pytest
from aiogram.methods import AnswerCallbackQuery
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
async def test_a_press_without_a_message_is_answered_with_one_line_and_changes_nothing(
    app, person, who: str, data: str
) -> None:
    """It crashed with an apology (the handlers answered on `callback.message`); now a press on
    an inline message is refused before any handler, as everything outside a private chat is."""
    chat = person(7990)
    if who == "onboarded":
        await onboard(chat, lang="en")
    calls = await _press_inline(chat, data)
    shown = texts(calls)
    assert "something went wrong" not in shown.lower() and "gangguan" not in shown
    assert [type(c) for c in calls] == [AnswerCallbackQuery], calls
    assert calls[0].show_alert and "langsung" in calls[0].text


def test_my_data_of_a_long_time_user_fits_telegrams_messages(harness) -> None:
    """Found by the flow fuzzer: /datasaya lists every step ever started, in one message, so
    after some hundred runs Telegram refused it (message is too long) and the person got
    nothing."""
    from storage import repo
    from storage.models import Person

    async def scenario() -> None:
        chat = harness.person()
        await onboard(chat, lang="en")
        async with harness.app.sessionmaker() as session, session.begin():
            person = await repo.person_by_telegram_id(session, telegram_id=chat.user.id)
            assert isinstance(person, Person)
            for _ in range(150):
                await repo.start_run(
                    session, person_id=person.id, flow="kur_simulator", step="amount"
                )
        since = harness.mark()
        calls = await chat.send("/datasaya")
        harness.check(since, "/datasaya after 150 runs", texts(calls))
        shown = texts(calls)
        assert shown.count("Instalment simulator") >= 150 and "/hapusdata" in shown

    harness.run(scenario())


def test_paragraphs_are_packed_into_messages_within_the_limit() -> None:
    from bot.text import messages

    lines = [f"• line {i} 😀" for i in range(600)]
    parts = ["<b>Head</b>", "\n".join(lines), "tail"]
    found = messages(parts, limit=1000)
    assert all(len(m.encode("utf-16-le")) // 2 <= 1000 for m in found)
    assert "\n".join(found).replace("\n\n", "\n").split("\n") == ["<b>Head</b>", *lines, "tail"]
    assert messages(["a", "b"]) == ["a\n\nb"]


def test_an_announcement_is_measured_as_telegram_measures_it(harness) -> None:
    """Found by the broadcast fuzzer: 2,100 emoji are 2,100 characters to Python but 4,200
    UTF-16 units to Telegram, so the draft was kept and its card, preview and every delivery
    were refused (message is too long). The coordinator is now told at once."""
    from bot.offline import OfflineChat
    from tests.conftest import ADMIN_ID

    async def scenario() -> None:
        admin = OfflineChat(harness.app.bot, harness.app.dp, harness.app.bot.session, ADMIN_ID)
        await onboard(admin, name="Budi Admin", lang="en")
        await admin.send("/siaran")
        since = harness.mark()
        shown = texts(await admin.send("😀" * 2100))
        harness.check(since, "an announcement of 2,100 emoji", shown)
        assert "4,200 characters" in shown and "Please shorten it" in shown

    harness.run(scenario())


def test_nul_never_reaches_an_announcement(harness) -> None:
    """Found by the announcement fuzzer on PostgreSQL, which cannot store NUL in text: a draft
    typed with a NUL failed with DBAPIError and an apology. NUL is dropped from the text (it is
    invisible), and a button label or link with a control character is asked for again."""
    from sqlalchemy import select

    from bot.offline import OfflineChat
    from storage.models import Broadcast
    from tests.conftest import ADMIN_ID

    async def scenario() -> None:
        admin = OfflineChat(harness.app.bot, harness.app.dp, harness.app.bot.session, ADMIN_ID)
        await onboard(admin, name="Budi Admin", lang="en")
        await admin.send("/siaran")
        since = harness.mark()
        shown = texts(await admin.send("Info\x00 pelatihan"))
        await admin.press("Add a link button")
        shown += texts(await admin.send("Daf\x00tar"))
        assert "short label" in shown
        await admin.send("Daftar")
        shown += texts(await admin.send("https://example.org/\x00"))
        assert "not a link" in shown
        harness.check(since, "NUL in a draft, its label and its link", shown)
        async with harness.app.sessionmaker() as session:
            draft = (await session.scalars(select(Broadcast))).one()
        assert draft.text == "Info pelatihan" and draft.button_text == "Daftar"

    harness.run(scenario())
