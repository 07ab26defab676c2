"""Drives the fake Bot API with aiogram's real HTTP stack to prove it behaves like Telegram."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from .fake_bot_api import NOT_MODIFIED, FakeBotAPI, UploadedFile

USER = 4242
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="Ya", callback_data="consent:yes"),
            InlineKeyboardButton(text="Tidak", callback_data="consent:no"),
        ]
    ]
)


def make_bot(fake: FakeBotAPI, token: str = "123:abc") -> Bot:
    return Bot(token=token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as api:
        yield api


@pytest_asyncio.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = make_bot(fake)
    yield bot
    await bot.session.close()


async def test_get_me_and_token_recorded(fake: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (
        1000,
        "pulang_juragan_bot",
        "Pulang Juragan",
        True,
    )
    assert fake.tokens == {"123:abc"}
    assert [c.method for c in fake.calls_to("getme")] == ["getMe"]


async def test_required_token_rejects_others() -> None:
    async with FakeBotAPI(token="999:right", bot_id=7, username="other_bot") as fake:
        wrong, right = make_bot(fake, "123:wrong"), make_bot(fake, "999:right")
        try:
            with pytest.raises(TelegramUnauthorizedError):
                await wrong.get_me()
            assert (await right.get_me()).username == "other_bot"
        finally:
            await wrong.session.close()
            await right.session.close()


async def test_send_message_then_press_inline_button(fake: FakeBotAPI, bot: Bot) -> None:
    fake.send_text(USER, "halo")  # user messages share the chat's message_id sequence
    sent = await bot.send_message(USER, "Setuju?", reply_markup=KEYBOARD)
    assert sent.message_id == 2 and sent.from_user.id == 1000 and sent.chat.type == "private"
    assert sent.reply_markup.model_dump(exclude_none=True) == KEYBOARD.model_dump(exclude_none=True)
    stored = fake.last_message(USER)
    assert stored["text"] == "Setuju?" and stored["from"]["is_bot"] is True
    assert stored["chat"] == {"id": USER, "type": "private", "first_name": "Siti"}

    update = fake.press(USER, sent.message_id, text="Ya")
    [_, got] = await bot.get_updates(timeout=1)
    assert got.update_id == update["update_id"]
    query = got.callback_query
    assert query.data == "consent:yes" and query.from_user.id == USER
    assert query.message.message_id == sent.message_id and query.chat_instance
    assert await bot.answer_callback_query(query.id, text="Oke")
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(query.id)
    fake.press(USER, sent.message_id, data="consent:no")
    with pytest.raises(AssertionError, match="no button"):
        fake.press(USER, sent.message_id, text="Mungkin")
    with pytest.raises(AssertionError, match="no bot message"):
        fake.press(USER, 99, text="Ya")


async def test_long_poll_returns_promptly_when_update_arrives(fake: FakeBotAPI, bot: Bot) -> None:
    asyncio.get_running_loop().call_later(0.3, fake.send_text, USER, "/start")
    started = time.monotonic()
    updates = await bot.get_updates(timeout=10)
    elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 2
    assert updates[0].message.text == "/start"
    assert updates[0].message.entities[0].type == "bot_command"


async def test_long_poll_times_out_empty(fake: FakeBotAPI, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 3


async def test_offset_drops_confirmed_updates_and_limit(fake: FakeBotAPI, bot: Bot) -> None:
    for text in ("satu", "dua", "tiga"):
        fake.send_text(USER, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first] == ["satu", "dua", "tiga"]
    assert [u.message.text for u in await bot.get_updates(limit=1)] == ["satu"]
    rest = await bot.get_updates(offset=first[1].update_id + 1)
    assert [u.message.text for u in rest] == ["tiga"]
    assert [u.message.text for u in await bot.get_updates()] == ["tiga"]
    assert [u["message"]["text"] for u in fake.pending_updates] == ["tiga"]


async def test_command_entity_and_other_update_kinds(fake: FakeBotAPI, bot: Bot) -> None:
    update = fake.send_text(USER, "/start ref_123", first_name="Budi", language_code="en")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    fake.send_contact(USER, "6281234567890")
    fake.send_contact(USER, "6289876543210", contact_user_id=777)
    fake.send_sticker(USER)
    fake.send_photo(USER, caption="KTP saya")
    fake.send_voice(USER)
    updates = await bot.get_updates()
    messages = [u.message for u in updates]
    assert messages[0].from_user.first_name == "Budi"
    assert messages[0].from_user.language_code == "en"
    assert (messages[1].contact.phone_number, messages[1].contact.user_id) == (
        "6281234567890",
        USER,
    )
    assert messages[2].contact.user_id == 777
    assert messages[3].sticker.file_id and messages[3].from_user.first_name == "Budi"
    assert messages[4].photo[-1].file_id and messages[4].caption == "KTP saya"
    assert messages[5].voice.duration > 0
    assert len({m.message_id for m in messages}) == 6


async def test_reply_keyboard_press(fake: FakeBotAPI, bot: Bot) -> None:
    markup = ReplyKeyboardMarkup(
        keyboard=[
            [
                KeyboardButton(text="Bagikan nomor", request_contact=True),
                KeyboardButton(text="Batal"),
            ]
        ],
        resize_keyboard=True,
    )
    sent = await bot.send_message(USER, "Nomor HP?", reply_markup=markup)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    contact = fake.press_reply(USER, "Bagikan nomor")
    assert contact["message"]["contact"]["user_id"] == USER
    assert fake.press_reply(USER, "Batal")["message"]["text"] == "Batal"
    with pytest.raises(AssertionError, match="no reply button"):
        fake.press_reply(USER, "Lanjut")


async def test_edit_message_text_semantics(fake: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Langkah 1", reply_markup=KEYBOARD)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            "Langkah 1", chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD
        )
    assert NOT_MODIFIED in str(caught.value)
    assert fake.calls_to("editMessageText")[-1].error_code == 400
    edited = await bot.edit_message_text("Langkah 2", chat_id=USER, message_id=sent.message_id)
    assert edited.text == "Langkah 2" and edited.reply_markup is None  # no markup: keyboard gone
    assert [m["text"] for m in fake.sent_to(USER)] == ["Langkah 2"]
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=404)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    again = await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD
    )
    assert again.reply_markup.inline_keyboard[0][1].callback_data == "consent:no"
    assert await bot.delete_message(USER, sent.message_id)
    assert fake.sent_to(USER) == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)


async def test_injected_429_and_500(fake: FakeBotAPI, bot: Bot) -> None:
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "halo")
    assert caught.value.retry_after == 3
    assert "Too Many Requests: retry after 3" in str(caught.value)
    assert (await bot.send_message(USER, "halo")).text == "halo"

    fake.fail_next("sendMessage", code=502, chat_id=USER, times=2)
    assert await bot.send_message(USER + 1, "lain")  # other chat unaffected
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(USER, "halo")
    assert await bot.send_message(USER, "halo")


async def test_block_and_unblock(fake: FakeBotAPI, bot: Bot) -> None:
    fake.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "halo")
    assert await bot.send_message(USER + 1, "halo")
    fake.unblock(USER)
    assert await bot.send_message(USER, "halo")


async def test_send_document_records_upload(fake: FakeBotAPI, bot: Bot) -> None:
    payload = b"nama,telepon\nSiti,62812\n"
    sent = await bot.send_document(
        USER, BufferedInputFile(payload, filename="laporan.csv"), caption="Laporan"
    )
    assert sent.document.file_name == "laporan.csv" and sent.document.file_size == len(payload)
    assert sent.caption == "Laporan"
    upload = fake.calls_to("sendDocument")[0].params["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.file_name, upload.size, upload.content) == ("laporan.csv", len(payload), payload)
    photo = await bot.send_photo(USER, BufferedInputFile(b"\x89PNG" * 100, filename="a.png"))
    assert photo.photo and fake.calls_to("sendPhoto")[0].params["photo"].size == 400


async def test_rate_limit_trips(fake: FakeBotAPI, bot: Bot) -> None:
    fake.rate_limit(5)
    for i in range(5):
        await bot.send_message(USER, f"pesan {i}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "kebanyakan")
    assert caught.value.retry_after == 1
    assert await bot.get_me()  # only sends are limited
    fake.rate_limit(None)
    assert await bot.send_message(USER, "lagi")


async def test_latency_delays_the_answers_to_sends_only(fake: FakeBotAPI, bot: Bot) -> None:
    fake.latency = 60.0  # far longer than this test: a delayed answer never arrives in it
    assert await asyncio.wait_for(bot.get_me(), timeout=10)  # not a sending method: at once
    sending = asyncio.create_task(bot.send_message(USER, "halo"))
    call = await fake.wait_for(lambda c: c.method == "sendMessage")  # recorded on arrival
    assert call.error_code is None and call.result["text"] == "halo"
    done, _ = await asyncio.wait({sending}, timeout=1.0)
    assert not done  # the answer is still on its way
    sending.cancel()
    fake.latency = 0.2
    for chat, blocked in ((USER, False), (USER + 1, True)):
        if blocked:
            fake.block(chat)
        t0 = time.monotonic()
        try:
            await bot.send_message(chat, "halo lagi")
        except TelegramForbiddenError:
            assert blocked
        assert time.monotonic() - t0 >= 0.2  # a 403 takes the round trip too
    assert len(fake.calls_to("sendMessage")) == 3


async def test_commands_webhook_and_unknown_methods(fake: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Mulai")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.delete_my_commands() and await bot.get_my_commands() == []
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.send_chat_action(USER, "typing")
    assert await bot.set_my_description("Asisten pulang kampung")
    assert fake.calls_to("setMyDescription")[0].params["description"] == "Asisten pulang kampung"


async def test_json_form_and_query_encodings(fake: FakeBotAPI) -> None:
    url = f"{fake.base_url}/bot1:x/sendMessage"
    markup = '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": 5, "text": "json"}) as resp:
            assert (await resp.json())["result"]["text"] == "json"
        form = {"chat_id": "5", "text": "123", "reply_markup": markup}
        async with http.post(url, data=form) as resp:
            result = (await resp.json())["result"]
            assert result["text"] == "123" and result["reply_markup"]["inline_keyboard"]
        async with http.get(url, params={"chat_id": "5", "text": "query"}) as resp:
            assert (await resp.json())["result"]["text"] == "query"
        async with http.post(url, json={"chat_id": 5, "text": "  "}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
    assert [c.params["chat_id"] for c in fake.calls_to("sendMessage")] == [5, 5, 5, 5]
    assert fake.calls_to("sendMessage")[1].params["reply_markup"]["inline_keyboard"]


async def test_wait_for_and_clear(fake: FakeBotAPI, bot: Bot) -> None:
    asyncio.get_running_loop().call_later(
        0.1, lambda: asyncio.ensure_future(bot.send_message(USER, "nanti", reply_markup=KEYBOARD))
    )
    call = await fake.wait_for(lambda c: c.method == "sendMessage", timeout=2)
    assert call.params["text"] == "nanti" and call.result["message_id"] == 1
    with pytest.raises(AssertionError, match="no matching call"):
        await fake.wait_for(lambda c: c.method == "sendMessage", timeout=0.2, since=1)
    fake.clear()
    assert fake.calls == [] and fake.sent_to(USER) == []
    assert fake.press(USER, 1, text="Ya")["callback_query"]["data"] == "consent:yes"


async def test_dispatcher_long_polling_end_to_end(fake: FakeBotAPI, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(f"Selamat datang, {message.from_user.first_name}!")

    polling = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=5, handle_signals=False, close_bot_session=False)
    )
    fake.send_text(USER, "/start")
    reply = await fake.wait_for(lambda c: c.method == "sendMessage", timeout=5)
    assert reply.params["chat_id"] == USER
    assert fake.last_message(USER)["text"] == "Selamat datang, Siti!"
    started = time.monotonic()
    await dp.stop_polling()
    await asyncio.wait_for(polling, timeout=5)
    assert time.monotonic() - started < 2  # the pending long poll does not hold shutdown
    assert fake.calls_to("getUpdates")[0].params["timeout"] == 5


async def test_stop_releases_a_pending_long_poll() -> None:
    fake = await FakeBotAPI().start()
    bot = make_bot(fake)
    try:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.sleep(0.2)  # let the request reach the server and start waiting
        started = time.monotonic()
        await fake.stop()
        assert await asyncio.wait_for(poll, timeout=5) == []
        assert time.monotonic() - started < 2
        with pytest.raises(RuntimeError):
            _ = fake.base_url
    finally:
        await bot.session.close()


async def test_leave_chat_leaves_a_group_and_refuses_a_private_chat(
    fake: FakeBotAPI, bot: Bot
) -> None:
    assert await bot.leave_chat(chat_id=-1001234567890) is True
    assert fake.left == {-1001234567890}
    with pytest.raises(TelegramBadRequest, match="private chats"):
        await bot.leave_chat(chat_id=USER)
