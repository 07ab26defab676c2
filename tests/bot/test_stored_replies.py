"""Replies stored with the update id in the update's transaction: sent after the commit and
forgotten, sent on a redelivery when the process died before sending them, never for a
duplicate; a question a replay sent again is deleted once its original is pressed."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.client.default import Default
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageText,
    SendDocument,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from sqlalchemy import select

from bot import driver, middlewares
from bot.app import App
from bot.offline import OfflineChat, OfflineSession
from bot.outbox import ReplayedCopies, as_data, from_data
from storage import repo
from storage.models import FlowRun, ProcessedUpdate
from tests.support.talk import onboard, one, restarted, texts

UID = 5301


class Killed(BaseException):
    """The process dying: nothing after it runs, no `except Exception` catches it."""


@contextmanager
def dies_at_first_call(session: OfflineSession, *, taken: bool) -> Iterator[None]:
    """The process dies at its first Bot API call: before Telegram took it, or just after."""
    original = session.make_request

    async def dying(bot: Any, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if taken:
            await original(bot, method, timeout)
        raise Killed

    session.make_request = dying  # type: ignore[method-assign]
    try:
        yield
    finally:
        session.make_request = original  # type: ignore[method-assign]


def typed(chat: OfflineChat, text: str) -> Update:
    """An update of the person typing `text`, kept to be delivered again."""
    return Update(update_id=next(chat._update_ids), message=chat._message(text=text))


async def feed(chat: OfflineChat, update: Update) -> tuple[str, list[TelegramMethod[Any]]]:
    """Feed an update as a front door does: (its outcome, what the bot did in the chat)."""
    report: dict[str, Any] = {}
    await chat.dp.feed_update(chat.bot, update, report=report)
    return report["outcome"], chat.replies()


async def stored(app: App, update_id: int) -> list[Any] | None:
    async with app.sessionmaker() as session:
        return (await session.get(ProcessedUpdate, update_id)).replies


async def at_business_step(app: App, person: Any) -> OfflineChat:
    """Someone onboarded who opened the KUR readiness check and is asked about the business."""
    chat = person(UID)
    await onboard(chat, lang="en")
    await chat.press("KUR loan")
    await chat.choose("running6")
    return chat


async def step(app: App) -> str:
    return (await one(app, FlowRun, FlowRun.flow == "kur_readiness")).step


async def test_replies_are_stored_in_the_transaction_and_forgotten_once_sent(app, person) -> None:
    chat = await at_business_step(app, person)
    seen_at_send: list[Any] = []

    async def look(method: TelegramMethod[Any], _result: Any) -> None:
        if isinstance(method, SendMessage):
            seen_at_send.append(await stored(app, update.update_id))

    chat.session.listeners.append(look)
    update = typed(chat, "Warung sembako")
    outcome, replies = await feed(chat, update)
    assert outcome == "handled" and "21 or older" in texts(replies)
    # Committed with the update id before anything was sent, forgotten after.
    [(name, params)] = seen_at_send[0]
    assert name == "SendMessage" and "21 or older" in params["text"]
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("f:")
    assert await stored(app, update.update_id) is None


async def test_an_update_committed_by_a_process_that_died_before_answering_is_answered(
    app, person, caplog
) -> None:
    chat = await at_business_step(app, person)
    update = typed(chat, "Warung sembako")
    with dies_at_first_call(chat.session, taken=False), pytest.raises(Killed):
        await feed(chat, update)
    assert chat.replies() == [] and await step(app) == "age"  # committed, never answered
    assert await stored(app, update.update_id)

    new = restarted(app)  # Telegram, never told, delivers it again to the next process
    try:
        again = OfflineChat(new.bot, new.dp, new.bot.session, UID)
        with caplog.at_level(logging.DEBUG):
            outcome, replies = await feed(again, update)
        assert outcome == "replayed"
        [question] = replies
        assert isinstance(question, SendMessage) and "21 or older" in question.text
        assert question.parse_mode == Default("parse_mode")  # the bot's default, as at first
        assert await step(app) == "age"  # nothing handled twice
        assert await stored(app, update.update_id) is None
        assert "Warung" not in caplog.text and "21 or older" not in caplog.text
        # Once answered it is a plain duplicate.
        assert await feed(again, update) == ("duplicate", [])
    finally:
        await new.close()


async def test_an_update_whose_replies_went_out_is_not_answered_again(app, person) -> None:
    chat = await at_business_step(app, person)
    update = typed(chat, "Warung sembako")
    assert (await feed(chat, update))[0] == "handled"
    assert await feed(chat, update) == ("duplicate", [])


async def test_two_copies_at_once_in_one_process_are_answered_once(app, person) -> None:
    chat = await at_business_step(app, person)
    update = typed(chat, "Warung sembako")
    reports: list[dict[str, Any]] = [{}, {}]
    await asyncio.gather(*(app.dp.feed_update(app.bot, update, report=r) for r in reports))
    assert sorted(r["outcome"] for r in reports) == ["duplicate", "handled"]
    assert texts(chat.replies()).count("21 or older") == 1


async def test_a_copy_committed_first_elsewhere_rolls_this_one_back(
    app, person, monkeypatch
) -> None:
    """Two instances ran the same update at once (PostgreSQL): the one that records the id
    second finds it taken, keeps nothing and says nothing."""
    chat = await at_business_step(app, person)
    update = typed(chat, "Warung sembako")
    async with app.sessionmaker() as session, session.begin():
        await repo.mark_processed(session, update_id=update.update_id)  # the other one's commit

    async def not_yet(session: Any, *, update_id: int) -> tuple[bool, None]:
        return False, None  # read just before the other one committed

    monkeypatch.setattr(middlewares.repo, "seen_update", not_yet)
    assert await feed(chat, update) == ("duplicate", [])
    assert await step(app) == "business"


async def test_an_apology_is_stored_too(app, person, monkeypatch) -> None:
    """A failed update's apology is its reply: sent on a redelivery should the process die."""
    chat = await at_business_step(app, person)

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    update = typed(chat, "Warung sembako")
    monkeypatch.setattr(driver, "show", explode)
    with dies_at_first_call(chat.session, taken=False), pytest.raises(Killed):
        await feed(chat, update)
    monkeypatch.undo()
    outcome, replies = await feed(chat, update)
    assert outcome == "replayed" and "try again" in texts(replies)
    assert await step(app) == "business"


async def test_a_question_sent_again_goes_when_its_original_is_pressed(app, person) -> None:
    """Telegram took the question, the process died before it could forget it: the next
    process sends it again. The person answers the first one: the copy below it goes."""
    chat = await at_business_step(app, person)
    update = typed(chat, "Warung sembako")
    with dies_at_first_call(chat.session, taken=True), pytest.raises(Killed):
        await feed(chat, update)
    original = chat.last_keyboard_message()
    assert original is not None and "21 or older" in (original.text or "")

    new = restarted(app)
    try:
        again = OfflineChat(new.bot, new.dp, new.bot.session, UID)
        assert (await feed(again, update))[0] == "replayed"
        copy = again.last_keyboard_message()
        assert copy is not None and copy.reply_markup == original.reply_markup
        replies = await again.press_data("f:kur_readiness:age:pick:adult", original)
        assert replies[0] == DeleteMessage(chat_id=UID, message_id=copy.message_id)
        assert isinstance(replies[1], AnswerCallbackQuery) and await step(app) == "ektp"
        # Pressing the original again changes nothing and deletes nothing more.
        replies = await again.press_data("f:kur_readiness:age:pick:adult", original)
        assert not any(isinstance(r, DeleteMessage) for r in replies)
    finally:
        await new.close()


async def test_a_question_sent_again_can_be_answered_itself(app, person) -> None:
    chat = await at_business_step(app, person)
    update = typed(chat, "Warung sembako")
    with dies_at_first_call(chat.session, taken=True), pytest.raises(Killed):
        await feed(chat, update)
    original = chat.last_keyboard_message()
    new = restarted(app)
    try:
        again = OfflineChat(new.bot, new.dp, new.bot.session, UID)
        await feed(again, update)
        copy = again.last_keyboard_message()
        assert copy is not None and original is not None
        replies = await again.press_data("f:kur_readiness:age:pick:adult", copy)
        assert not any(isinstance(r, DeleteMessage) for r in replies)
        assert "e-KTP" in texts(replies) and await step(app) == "ektp"
        # The original is now an earlier question, and says so.
        replies = await again.press_data("f:kur_readiness:age:pick:adult", original)
        assert "earlier question" in texts(replies) and await step(app) == "ektp"
    finally:
        await new.close()


def _message(message_id: int, markup: InlineKeyboardMarkup | None) -> Message:
    return Message(
        message_id=message_id,
        date=datetime.now(UTC),
        chat=Chat(id=UID, type="private"),
        reply_markup=markup,
    )


def _press(message: Message) -> Update:
    user = User(id=UID, is_bot=False, first_name="Siti")
    query = {"id": "q", "from_user": user, "chat_instance": "c", "message": message, "data": "x"}
    return Update(update_id=1, callback_query=query)


def test_copies_are_watched_for_a_while_and_only_for_their_own_buttons(monkeypatch) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Ya", callback_data="f:k:age:pick:adult")]]
    )
    other = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Ya", callback_data="f:k:ektp:pick:yes")]]
    )
    copies = ReplayedCopies()
    method = SendMessage(chat_id=UID, text="?", reply_markup=keyboard)
    copies.add([SendMessage(chat_id=UID, text="no buttons")], [_message(9, None)])
    copies.add([method], [None])  # not sent
    assert not copies  # nothing to watch
    copies.add([method], [_message(9, keyboard)])
    assert copies.redundant(_press(_message(3, other))) == []  # another question
    assert copies.redundant(_press(_message(3, None))) == []
    assert copies.redundant(_press(_message(3, keyboard))) == [
        DeleteMessage(chat_id=UID, message_id=9)
    ]
    assert not copies
    copies.add([method], [_message(9, keyboard)])
    assert copies.redundant(_press(_message(9, keyboard))) == [] and not copies  # the copy
    copies.add([method], [_message(9, keyboard)])
    clock = [0.0]
    monkeypatch.setattr("bot.outbox.time.monotonic", lambda: clock[0] + 1e6)
    assert copies.redundant(_press(_message(3, keyboard))) == []  # long forgotten


def test_replies_as_data_leave_out_button_answers_and_files() -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Ya", callback_data="f:k:age:pick:adult")]]
    )
    methods: list[TelegramMethod[Any]] = [
        AnswerCallbackQuery(callback_query_id="1", text="ok"),
        SendMessage(chat_id=UID, text="<b>Siapa</b>", reply_markup=keyboard),
        SendMessage(chat_id=UID, text="a < b", parse_mode=None),
        SendDocument(chat_id=UID, document=BufferedInputFile(b"x", "a.csv"), caption="file"),
        EditMessageText(chat_id=UID, message_id=4, text="edited"),
    ]
    data = as_data(methods)
    assert data is not None
    back = from_data(json.loads(data))
    assert [type(m).__name__ for m in back] == ["SendMessage", "SendMessage", "EditMessageText"]
    assert [m.model_dump() for m in back] == [m.model_dump() for m in methods[1:3] + methods[4:]]
    assert back[1].parse_mode is None and back[0].parse_mode == Default("parse_mode")
    assert as_data([AnswerCallbackQuery(callback_query_id="1")]) is None


def test_a_stored_call_that_no_longer_fits_is_left_out_without_its_content(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        back = from_data(
            [
                ["NoSuchMethod", {"chat_id": UID, "text": "Siti Aminah"}],
                ["SendMessage", {"chat_id": UID}],
                ["SendMessage", {"chat_id": UID, "text": "ok"}],
            ]
        )
    assert [m.text for m in back] == ["ok"]  # type: ignore[attr-defined]
    assert "NoSuchMethod" in caplog.text and "Siti" not in caplog.text


async def test_a_deletion_forgets_the_replies_stored_for_that_person(app) -> None:
    him, her = SendMessage(chat_id=UID + 1, text="Budi"), SendMessage(chat_id=UID, text="Siti")
    async with app.sessionmaker() as session, session.begin():
        await repo.mark_processed(session, update_id=1, replies=as_data([her]))
        await repo.mark_processed(session, update_id=2, replies=as_data([him]))
        await repo.mark_processed(session, update_id=3, replies=as_data([him, her]))
        await repo.mark_processed(session, update_id=4)
    async with app.sessionmaker() as session, session.begin():
        assert await repo.forget_replies_to(session, chat_id=UID) == 2
    async with app.sessionmaker() as session:
        rows = await session.execute(select(ProcessedUpdate.update_id, ProcessedUpdate.replies))
        kept = {row.update_id: row.replies for row in rows}
    assert kept == {1: None, 2: [["SendMessage", {"chat_id": UID + 1, "text": "Budi"}]], 3: None,
                    4: None}  # fmt: skip
