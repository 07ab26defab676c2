"""An update's replies are stored with its update id in its transaction, sent when the update is
delivered again before they went out (the process died between the commit and the send), and
forgotten once they were sent, before the update is confirmed to Telegram: by `juragan run`
before the getUpdates carrying the next offset, by `juragan webhook` before the 200."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from sqlalchemy import select

from bot import middlewares
from bot.app import App, build_app
from bot.config import Settings
from bot.outbox import BuiltFile, Outbox, StoredReplies, as_data, from_data
from bot.polling import Poller
from storage import repo
from storage.models import ProcessedUpdate
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.talk import agree, restarted

UID = 7301
_ids = itertools.count(int(time.time() * 1000) + 5_000_000)


class Killed(BaseException):
    """The process dies here: nothing after this point runs (SIGKILL)."""


def start_update(uid: int = UID) -> Update:
    user = User(id=uid, is_bot=False, first_name="Siti", language_code="id")
    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=uid, type="private", first_name="Siti"),
        from_user=user,
        text="/start",
        entities=[MessageEntity(type="bot_command", offset=0, length=6)],
    )
    return Update(update_id=next(_ids), message=message)


async def stored_or_none(app: App, update_id: int) -> dict[str, Any] | None:
    async with app.sessionmaker() as session:
        row = await session.get(ProcessedUpdate, update_id)
        return row.replies if row is not None else None


async def stored(app: App, update_id: int) -> dict[str, Any] | None:
    async with app.sessionmaker() as session:
        row = await session.get(ProcessedUpdate, update_id)
        assert row is not None, "the update id was not recorded"
        return row.replies


def dumped(methods: list[TelegramMethod[Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(type(m).__name__, m.model_dump(mode="json", exclude_defaults=True)) for m in methods]


def sent_to(app: App, uid: int = UID) -> list[TelegramMethod[Any]]:
    return [c for c in app.bot.session.calls if getattr(c, "chat_id", None) == uid]  # type: ignore[attr-defined]


@pytest.fixture
def killed_before_sending(monkeypatch: pytest.MonkeyPatch) -> list[TelegramMethod[Any]]:
    """The next outbox to be sent is not: the process dies after the commit. Returns what it
    was about to send."""
    lost: list[TelegramMethod[Any]] = []

    async def die(self: Outbox, bot: Bot) -> None:
        lost.extend(self.methods)
        monkeypatch.undo()
        raise Killed

    monkeypatch.setattr(Outbox, "flush", die)
    return lost


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL a copy waits SENDER_PATIENCE (10 s) for young replies another instance
    stored; a test's dead instance died a moment ago."""
    monkeypatch.setattr(middlewares, "SENDER_PATIENCE", 0.5)
    monkeypatch.setattr(middlewares, "RECHECK_EVERY", 0.05)


async def test_an_update_committed_but_not_answered_gets_its_replies_when_delivered_again(
    app: App, killed_before_sending: list[TelegramMethod[Any]], impatient: None
) -> None:
    update = start_update()
    with pytest.raises(Killed):
        await app.dp.feed_update(app.bot, update)
    assert sent_to(app) == [] and len(killed_before_sending) == 2  # welcome, consent question
    kept = await stored(app, update.update_id)
    assert kept is not None and [name for name, _ in kept["calls"]] == ["SendMessage"] * 2

    after = restarted(app)  # the next process; Telegram delivers the update again
    try:
        report: dict[str, Any] = {}
        await after.dp.feed_update(after.bot, update, report=report)
        assert report == {"outcome": "replayed", "sent_replies": True}
        assert dumped(sent_to(after)) == dumped(killed_before_sending)  # the same, once
        # Still stored until the front door forgets them, before it confirms the update.
        assert await stored(app, update.update_id) is not None
        assert await after.dp["stored_replies"].clear([update.update_id])
        assert await stored(app, update.update_id) is None
    finally:
        await after.close()

    again = restarted(app)  # delivered once more (confirmation lost): nothing to send
    try:
        report = {}
        await again.dp.feed_update(again.bot, update, report=report)
        assert report == {"outcome": "duplicate"} and sent_to(again) == []
    finally:
        await again.close()


async def test_replies_sent_and_forgotten_are_not_sent_again(app: App, impatient: None) -> None:
    update = start_update()
    report: dict[str, Any] = {}
    await app.dp.feed_update(app.bot, update, report=report)
    assert report == {"outcome": "handled", "sent_replies": True} and len(sent_to(app)) == 2
    await app.dp["stored_replies"].clear([update.update_id])
    after = restarted(app)
    try:
        report = {}
        await after.dp.feed_update(after.bot, update, report=report)
        assert report == {"outcome": "duplicate"} and sent_to(after) == []
    finally:
        await after.close()


async def test_a_copy_reaching_another_instance_still_sending_waits_and_sends_nothing(
    app: App, monkeypatch
) -> None:
    """PostgreSQL, two instances: a retry of an update meets the original, which committed and
    is sending its replies. The copy waits (without holding the row) until they are forgotten,
    and sends nothing. (On SQLite there is one process: another one's replies are a dead one's.)"""
    if app.dp["transactions"].sqlite:
        pytest.skip("SQLite has one process by design")
    monkeypatch.setattr(middlewares, "RECHECK_EVERY", 0.05)
    committed, sending = asyncio.Event(), asyncio.Event()
    flush = Outbox.flush

    async def slow_on_first(self: Outbox, bot: Bot) -> None:
        if bot is app.bot:
            committed.set()  # the outbox is sent after the commit
            await sending.wait()  # the first instance's sends take a while
        await flush(self, bot)

    monkeypatch.setattr(Outbox, "flush", slow_on_first)
    update = start_update()
    report: dict[str, Any] = {}
    first = asyncio.create_task(app.dp.feed_update(app.bot, update, report=report))
    await committed.wait()
    assert await stored_or_none(app, update.update_id) is not None
    other = restarted(app)
    try:
        copy: dict[str, Any] = {}
        second = asyncio.create_task(other.dp.feed_update(other.bot, update, report=copy))
        await asyncio.sleep(0.5)
        assert not second.done()  # waiting for the first to send
        sending.set()
        await first
        assert report["sent_replies"]
        await app.dp["stored_replies"].clear_soon(update.update_id)  # as its front door does
        await asyncio.wait_for(second, timeout=5)
        assert copy == {"outcome": "duplicate"} and sent_to(other) == []
        assert len(sent_to(app)) == 2
    finally:
        await other.close()


async def test_a_copy_reaching_another_instance_whose_sender_died_sends_them_after_a_while(
    app: App, killed_before_sending: list[TelegramMethod[Any]], monkeypatch
) -> None:
    if app.dp["transactions"].sqlite:
        pytest.skip("SQLite has one process by design: no waiting there")
    monkeypatch.setattr(middlewares, "SENDER_PATIENCE", 1.0)
    monkeypatch.setattr(middlewares, "RECHECK_EVERY", 0.1)
    update = start_update()
    with pytest.raises(Killed):
        await app.dp.feed_update(app.bot, update)
    other = restarted(app)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        report: dict[str, Any] = {}
        await other.dp.feed_update(other.bot, update, report=report)
        assert loop.time() - started >= 0.8  # it waited for a live sender, then sent them
        assert report["outcome"] == "replayed" and len(sent_to(other)) == 2
    finally:
        await other.close()


async def test_a_copy_reaching_the_process_that_sends_the_replies_sends_nothing(app: App) -> None:
    """Two copies of one update in one process (two webhook posts at once): the second finds
    the replies the first stored and is sending, and leaves them to it."""
    update = start_update()
    await app.dp.feed_update(app.bot, update)
    report: dict[str, Any] = {}
    await app.dp.feed_update(app.bot, update, report=report)  # not forgotten yet
    assert report == {"outcome": "duplicate"} and len(sent_to(app)) == 2


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[str]]:
    """What each update stored: update id -> the calls' names (OfflineChat, like the front
    doors, forgets them once sent)."""
    kept: dict[int, list[str]] = {}
    store = repo.store_replies

    async def spied(session: Any, *, update_id: int, replies: dict[str, Any]) -> None:
        kept[update_id] = [name for name, _ in replies["calls"]]
        await store(session, update_id=update_id, replies=replies)

    monkeypatch.setattr(repo, "store_replies", spied)
    return kept


def app_chat(app: App, uid: int = UID) -> Any:
    from bot.offline import OfflineChat

    return OfflineChat(app.bot, app.dp, app.bot.session, uid)  # type: ignore[arg-type]


async def newest_update(app: App) -> ProcessedUpdate:
    async with app.sessionmaker() as session:
        query = select(ProcessedUpdate).order_by(ProcessedUpdate.update_id.desc()).limit(1)
        return (await session.scalars(query)).one()


async def test_an_offline_chat_forgets_the_replies_it_was_sent(app: App, stores) -> None:
    chat = app_chat(app)
    await chat.send("/start")
    row = await newest_update(app)
    assert stores[row.update_id] == ["SendMessage", "SendMessage"] and row.replies is None


async def test_a_failed_update_stores_nothing(app: App, stores, monkeypatch) -> None:
    from bot import driver

    chat = app_chat(app)
    await agree(chat)
    await chat.choose("id")

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(driver, "show", explode)
    assert "coba lagi" in str(await chat.send("Siti Aminah"))  # apologised for
    row = await newest_update(app)
    assert row.update_id not in stores and row.replies is None
    assert len(stores) == 3  # /start, the consent, the language


async def test_a_button_press_answer_is_sent_but_not_stored(app: App, stores) -> None:
    chat = app_chat(app)
    await chat.send("/start")
    replies = await chat.press("Setuju")
    assert any(isinstance(r, AnswerCallbackQuery) for r in replies)
    names = stores[(await newest_update(app)).update_id]
    assert names and "AnswerCallbackQuery" not in names
    assert len(names) == len([r for r in replies if not isinstance(r, AnswerCallbackQuery)])


async def test_an_export_file_is_sent_but_not_stored(app: App, person, stores) -> None:
    from tests.bot.test_export import STAFF, exporter, seed

    await seed(app)
    chat = await exporter(app, person, STAFF, "staff")
    await chat.send("/ekspor")
    replies = await chat.press("📤 Export")
    assert any(isinstance(r, SendDocument) for r in replies)
    names = stores.get((await newest_update(app)).update_id, [])
    assert "SendDocument" not in names and "AnswerCallbackQuery" not in names


def test_files_and_button_answers_are_never_stored() -> None:
    file = BufferedInputFile(b"a;b\n", filename="export.csv")
    calls = [
        AnswerCallbackQuery(callback_query_id="1", text="ok"),
        SendDocument(chat_id=UID, document=file, caption="Ekspor"),
        SendDocument(chat_id=UID, document=BuiltFile(lambda: b"x", "ekspor.xlsx")),
        SendPhoto(chat_id=UID, photo=BuiltFile(lambda: b"png", "statistik.png")),
        SendMediaGroup(chat_id=UID, media=[InputMediaDocument(media=file)]),
        SendPhoto(chat_id=UID, photo="AgACAgIAAxkBAAI", caption="by file id"),  # kept
        SendMessage(chat_id=UID, text="Berkas siap."),  # kept
    ]
    assert [name for name, _ in as_data(calls)] == ["SendPhoto", "SendMessage"]


@pytest.mark.parametrize(
    "method",
    [
        SendMessage(chat_id=UID, text="<b>Halo</b>"),  # parse_mode: the bot's default (HTML)
        SendMessage(chat_id=UID, text="1 < 2", parse_mode=None),  # no parse mode, on purpose
        SendMessage(
            chat_id=UID,
            text="Pilih:",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Ya", callback_data="f:x:y:1")]]
            ),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        SendMessage(
            chat_id=UID,
            text="Nomor HP?",
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text="Kirim nomor", request_contact=True)]],
                resize_keyboard=True,
                one_time_keyboard=True,
            ),
        ),
        SendMessage(chat_id=UID, text="Oke", reply_markup=ReplyKeyboardRemove()),
        EditMessageText(chat_id=UID, message_id=42, text="Langkah 2 dari 8"),
    ],
    ids=["default-parse-mode", "no-parse-mode", "inline", "reply-keyboard", "remove", "edit"],
)
def test_a_stored_call_is_made_again_exactly(method: TelegramMethod[Any]) -> None:
    import json

    data = json.loads(json.dumps(as_data([method])))  # through the database's JSON
    (again,) = from_data(data)
    assert type(again) is type(method) and again == method
    assert again.model_fields_set <= method.model_fields_set


def test_a_stored_call_this_aiogram_does_not_know_is_left_out(caplog) -> None:
    calls = from_data([["SendTelepathy", {"chat_id": 1}], ["SendMessage", {"chat_id": 1}]])
    assert calls == []  # the first unknown, the second invalid (no text)
    assert "SendTelepathy" in caplog.text and "SendMessage" in caplog.text


async def test_concurrent_clears_share_one_update(app: App, monkeypatch) -> None:
    statements: list[int] = []
    clear = repo.clear_replies

    async def counted(session: Any, *, update_ids: Any) -> int:
        statements.append(len(update_ids))
        await asyncio.sleep(0.01)
        return await clear(session, update_ids=update_ids)

    monkeypatch.setattr(repo, "clear_replies", counted)
    updates = [start_update(UID + n) for n in range(10)]
    for update in updates:
        await app.dp.feed_update(app.bot, update)
    replies: StoredReplies = app.dp["stored_replies"]
    assert all(await asyncio.gather(*(replies.clear_soon(u.update_id) for u in updates)))
    assert sum(statements) == 10 and len(statements) <= 2  # the first, then all the others
    for update in updates:
        assert await stored(app, update.update_id) is None


async def test_a_clear_the_database_refuses_is_reported_not_raised(app: App, monkeypatch) -> None:
    async def refuse(session: Any, *, update_ids: Any) -> int:
        raise ConnectionError("gone")

    monkeypatch.setattr(repo, "clear_replies", refuse)
    assert await app.dp["stored_replies"].clear([1, 2]) is False


async def test_replies_never_cleared_go_with_the_update_ids_after_two_days(app: App) -> None:
    update = start_update()
    await app.dp.feed_update(app.bot, update)
    assert await stored(app, update.update_id) is not None
    assert await app.ticker.prune(keep=timedelta(days=2)) == 0
    assert await app.ticker.prune(keep=timedelta(seconds=-60)) == 1  # as two days later
    async with app.sessionmaker() as session:
        assert await session.get(ProcessedUpdate, update.update_id) is None


# --------------------------------------------------------------------------- the front doors


def webhook_settings(settings: Settings, fake: FakeBotAPI) -> Settings:
    return settings.model_copy(
        update={"telegram_api_url": fake.base_url, "webhook_url": "https://x.test/tg"}
    )


def workflow(app: App) -> dict[str, Any]:
    """What bot.polling.poll hands the Poller."""
    data = {"dispatcher": app.dp, "bots": [app.bot], **app.dp.workflow_data}
    data.pop("bot", None)
    return data


async def test_polling_forgets_sent_replies_before_the_getupdates_that_confirms(
    settings: Settings,
) -> None:
    async with FakeBotAPI() as fake:
        app = build_app(webhook_settings(settings, fake), token="123456:TEST-token")
        cleared: list[tuple[set[int], int]] = []  # (update ids, calls the fake had by then)
        replies: StoredReplies = app.dp["stored_replies"]
        clear = replies.clear

        async def spied(update_ids: Any) -> bool:
            done = await clear(update_ids)
            cleared.append((set(update_ids), len(fake.calls)))
            return done

        replies.clear = spied  # type: ignore[method-assign]
        try:
            update_id = fake.send_text(UID, "halo")["update_id"]
            poller = Poller(app.dp, app.bot, timeout=1, **workflow(app))
            task = asyncio.create_task(poller.run())
            await fake.wait_until(lambda: not fake.pending_updates, timeout=10)
            poller.stop()
            await asyncio.wait_for(task, timeout=10)
            assert await stored(app, update_id) is None
        finally:
            await app.close()
    assert any("Kirim /start" in c.params["text"] for c in fake.calls_to("sendMessage"))
    ((_ids, calls_then),) = [c for c in cleared if update_id in c[0]]
    confirming = [
        n
        for n, c in enumerate(fake.calls)
        if c.method == "getUpdates" and int(c.params.get("offset") or 0) > update_id
    ]
    assert confirming and confirming[0] >= calls_then  # forgotten, then confirmed


async def test_polling_sends_the_replies_a_killed_process_left_and_confirms(
    settings: Settings, impatient: None
) -> None:
    async with FakeBotAPI() as fake:
        app = build_app(webhook_settings(settings, fake), token="123456:TEST-token")
        try:
            update_id = fake.send_text(UID, "halo")["update_id"]
            async with app.sessionmaker() as session, session.begin():  # as the dead one left it
                await repo.mark_processed(session, update_id=update_id)
                calls = as_data([SendMessage(chat_id=UID, text="Jawaban yang tertunda")])
                await repo.store_replies(
                    session, update_id=update_id, replies={"by": "gone", "calls": calls}
                )
            poller = Poller(app.dp, app.bot, timeout=1, **workflow(app))
            task = asyncio.create_task(poller.run())
            await fake.wait_until(lambda: not fake.pending_updates, timeout=10)
            poller.stop()
            await asyncio.wait_for(task, timeout=10)
            assert await stored(app, update_id) is None
        finally:
            await app.close()
    assert [c.params["text"] for c in fake.calls_to("sendMessage")] == ["Jawaban yang tertunda"]
