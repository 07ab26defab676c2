"""The strict in-process Bot API refuses what Telegram refuses, and the harness sees every kind
of problem the fuzzers look for (a suite that cannot fail proves nothing)."""

from __future__ import annotations

import logging

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument, SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.offline import OfflineSession
from tests.adversarial.conftest import Harness
from tests.adversarial.hostile import CANARY
from tests.support.strict_api import Refused, StrictRules, parse_html

GOOD_HTML = [
    "plain",
    "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>",
    '<del>d</del><span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>',
    '<a href="https://example.com/?a=1&amp;b=2">link</a> <code>c</code> <pre>p</pre>',
    '<blockquote>q</blockquote> <tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
    "<b><i>nested</i></b> &lt;tag&gt; &amp; &quot; &#65; &#x41; a > b",
    "<B>upper</B>",
]
BAD_HTML = [
    "<b>",
    "</i>",
    "<b>x</i>",
    "<b><i>x</b></i>",
    "<br>",
    "<script>x</script>",
    "a < b",
    "<>",
    "AT&T",
    "&nbsp;",
    "<span>x</span>",
    '<span class="x">x</span>',
    "<b",
    "&#0;",
]


@pytest.mark.parametrize("text", GOOD_HTML)
def test_telegram_html_is_parsed(text: str) -> None:
    parse_html(text)


@pytest.mark.parametrize("text", BAD_HTML)
def test_html_telegram_cannot_parse_is_refused(text: str) -> None:
    with pytest.raises(Refused, match="can't parse entities"):
        parse_html(text)


def test_entities_are_counted_in_utf16_after_parsing() -> None:
    plain, entities = parse_html("😀<b>ab</b>&amp;")
    assert plain == "😀ab&"
    assert entities == (("b", 2, 2, ""),)


def _bot(rules: StrictRules) -> Bot:
    return Bot(
        "1:offline",
        session=OfflineSession(strict=rules),
        default=DefaultBotProperties(parse_mode="HTML"),
    )


def _keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


REFUSED = [
    (SendMessage(chat_id=1, text="<b>x"), "can't parse entities"),
    (SendMessage(chat_id=1, text="x" * 4097), "message is too long"),
    (SendMessage(chat_id=1, text="😀" * 2049), "message is too long"),
    (SendMessage(chat_id=1, text=" \n "), "message text is empty"),
    (SendMessage(chat_id=1, text="<b></b>"), "message text is empty"),
    (
        SendMessage(
            chat_id=1,
            text="x",
            reply_markup=_keyboard(InlineKeyboardButton(text="a", callback_data="x" * 65)),
        ),
        "BUTTON_DATA_INVALID",
    ),
    (
        SendMessage(
            chat_id=1,
            text="x",
            reply_markup=_keyboard(InlineKeyboardButton(text=" ", callback_data="x")),
        ),
        "BUTTON_TEXT_EMPTY",
    ),
    (
        SendMessage(
            chat_id=1,
            text="x",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="a", callback_data="x")]] * 101
            ),
        ),
        "reply markup is too long",
    ),
    (
        SendDocument(
            chat_id=1, document=BufferedInputFile(b"x", filename="x.csv"), caption="x" * 1025
        ),
        "caption is too long",
    ),
    (AnswerCallbackQuery(callback_query_id="1", text="x" * 201), "MESSAGE_TOO_LONG"),
]


@pytest.mark.parametrize(("method", "why"), REFUSED, ids=[w for _m, w in REFUSED])
async def test_what_telegram_refuses_is_refused(method, why: str) -> None:
    rules = StrictRules()
    with pytest.raises(TelegramBadRequest, match=why):
        await _bot(rules)(method)
    assert rules.refused and why in rules.refused[0][1]


async def test_the_limits_themselves_are_accepted() -> None:
    rules = StrictRules()
    bot = _bot(rules)
    await bot(SendMessage(chat_id=1, text="<b>" + "x" * 4096 + "</b>"))
    await bot(
        SendMessage(
            chat_id=1,
            text="x",
            reply_markup=_keyboard(InlineKeyboardButton(text="a", callback_data="x" * 64)),
        )
    )
    await bot(AnswerCallbackQuery(callback_query_id="1", text="x" * 200))
    assert rules.refused == []


async def test_an_edit_to_the_same_content_is_not_modified_and_a_query_is_answered_once() -> None:
    rules = StrictRules()
    bot = _bot(rules)
    sent = await bot(SendMessage(chat_id=1, text="<b>a</b>"))
    await bot(EditMessageText(chat_id=1, message_id=sent.message_id, text="<b>b</b>"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot(EditMessageText(chat_id=1, message_id=sent.message_id, text="<strong>b</strong>"))
    await bot(AnswerCallbackQuery(callback_query_id="7"))
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot(AnswerCallbackQuery(callback_query_id="7"))


def test_the_harness_sees_refusals_errors_canaries_and_apologies(harness: Harness) -> None:
    chat = harness.person()
    since = harness.mark()

    async def misbehave() -> None:
        try:
            await harness.app.bot(SendMessage(chat_id=chat.user.id, text="<b>unclosed"))
        except TelegramBadRequest:
            pass
        logging.getLogger("bot.somewhere").debug("typed: %s", CANARY)
        logging.getLogger("bot.somewhere").info("person %s", chat.user.id)
        logging.getLogger("bot.somewhere").error("boom")

    harness.run(misbehave())
    found = "\n".join(harness.problems(since, "Maaf, ada gangguan di pihak kami"))
    assert "refused SendMessage" in found
    assert "ERROR logged by bot.somewhere" in found
    assert "3578014101900001" in found and str(chat.user.id) in found
    assert "told: Maaf, ada gangguan" in found
