"""Private chats only: a command, a mention, a button or a post from a group, supergroup or
channel is never handled as a person's update. It gets at most one short line, the bot leaves,
and nothing about anyone is said there or kept (no person, no flow, no dedup record)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import (
    AnswerCallbackQuery,
    GetMe,
    LeaveChat,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    User,
)
from sqlalchemy import select, update

from bot.handlers.training import TrainingCB
from bot.offline import BOT_USER
from storage.models import FlowRun, Person, ProcessedUpdate
from tests.bot.test_webhook import Running, running  # noqa: F401 - the fixture
from tests.conftest import ADMIN_ID
from tests.support.talk import count, onboard, one

GROUP = Chat(id=-1001234567890, type="supergroup", title="Purna PMI Jatim")
CHANNEL = Chat(id=-1009876543210, type="channel", title="Info Koperasi")
LINE_ID, LINE_EN = (
    "Silakan kirim pesan langsung kepada saya.",
    "Please write to me in a private chat.",
)
SECRETS = ("Siti", "Aminah", "7890", "0812", "Surabaya", "3578")
COMMANDS = (
    "/datasaya@pulang_juragan_bot",
    "/datasaya",
    "/profil",
    "/progres",
    "/tinjau",
    "/ekspor",
    "/start",
    "/hapusdata",
    "/menu",
)


def in_group(chat, text: str, *, where: Chat = GROUP, mid: int = 77) -> Message:
    entities = None
    if text.startswith("/"):
        entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
    elif text.startswith("@"):
        entities = [MessageEntity(type="mention", offset=0, length=len(text.split()[0]))]
    return Message(
        message_id=mid,
        date=datetime.now(UTC),
        chat=where,
        from_user=chat.user,
        text=text,
        entities=entities,
    )


def calls_since(app, since: int) -> list[TelegramMethod[Any]]:
    """What the bot did since the `since`-th call (its getMe, once, aside)."""
    return [c for c in app.bot.session.calls[since:] if not isinstance(c, GetMe)]


def said(calls: list[TelegramMethod[Any]]) -> str:
    return "\n".join(
        str(getattr(c, "text", "") or "")
        for c in calls
        if isinstance(c, SendMessage | AnswerCallbackQuery)
    )


async def snapshot(app) -> tuple[int, int, list[tuple[Any, ...]]]:
    async with app.sessionmaker() as session:
        runs = (await session.execute(select(FlowRun.id, FlowRun.step, FlowRun.status))).all()
    return await count(app, Person), await count(app, ProcessedUpdate), [tuple(r) for r in runs]


async def onboarded_admin(app, person):
    """Someone with every command (an ADMIN_IDS admin) and a profile full of personal data."""
    chat = person(ADMIN_ID)
    await onboard(chat, lang="id")
    return chat


@pytest.mark.parametrize("command", COMMANDS)
async def test_a_command_in_a_supergroup_gets_one_line_and_the_bot_leaves(
    app, person, command
) -> None:
    chat = await onboarded_admin(app, person)
    await chat.send("/profil")  # a flow in the private chat, which the group must not touch
    before, since = await snapshot(app), len(app.bot.session.calls)
    await chat.feed(message=in_group(chat, command))
    calls = calls_since(app, since)
    sent = [c for c in calls if isinstance(c, SendMessage)]
    assert [(c.chat_id, c.text) for c in sent] == [(GROUP.id, LINE_ID)], command
    assert sent[0].reply_parameters is not None and sent[0].reply_parameters.message_id == 77
    assert [c.chat_id for c in calls if isinstance(c, LeaveChat)] == [GROUP.id]
    assert len(calls) == 2  # the line and leaving: nothing else, nothing to the person
    assert not any(s in said(calls) for s in SECRETS)
    assert await snapshot(app) == before  # no person, no dedup record, no flow touched


async def test_the_line_is_in_the_language_of_who_asked(app, person) -> None:
    chat = person(8601, language_code="en")
    since = len(app.bot.session.calls)
    await chat.feed(message=in_group(chat, "/start"))
    assert said(calls_since(app, since)) == LINE_EN
    assert await count(app, Person) == 0  # nobody has a row before consent, nor from a group


async def test_a_mention_gets_the_line_and_plain_group_talk_gets_none(app, person) -> None:
    chat = person(8602)
    since = len(app.bot.session.calls)
    await chat.feed(message=in_group(chat, "Siti Aminah 081234567890", mid=1))
    await chat.feed(message=in_group(chat, "/start@another_bot", mid=2))
    assert not [c for c in calls_since(app, since) if isinstance(c, SendMessage)]
    await chat.feed(message=in_group(chat, "@pulang_juragan_bot halo", mid=3))
    assert said(calls_since(app, since)) == LINE_ID
    assert await snapshot(app) == (0, 0, [])


async def test_an_edited_group_message_gets_nothing(app, person) -> None:
    chat = person(8603)
    since = len(app.bot.session.calls)
    await chat.feed(edited_message=in_group(chat, "/datasaya"))
    assert calls_since(app, since) == []
    assert await snapshot(app) == (0, 0, [])


async def test_a_channel_post_gets_nothing_and_the_bot_leaves(app, person) -> None:
    chat = await onboarded_admin(app, person)
    before, since = await snapshot(app), len(app.bot.session.calls)
    post = in_group(chat, "/datasaya", where=CHANNEL).model_copy(update={"from_user": None})
    await chat.feed(channel_post=post)
    calls = calls_since(app, since)
    assert [type(c) for c in calls] == [LeaveChat] and calls[0].chat_id == CHANNEL.id
    assert await snapshot(app) == before


async def test_a_button_on_a_group_message_changes_nothing(app, person) -> None:
    chat = await onboarded_admin(app, person)
    before, since = await snapshot(app), len(app.bot.session.calls)
    on_group = Message(
        message_id=5, date=datetime.now(UTC), chat=GROUP, from_user=BOT_USER, text="Pelatihan"
    )
    for data in (TrainingCB(act="new").pack(), "f:profile_edit:name:pick:x", "mn:privacy"):
        query = CallbackQuery(
            id=f"q{data}", from_user=chat.user, chat_instance="g", data=data, message=on_group
        )
        await chat.feed(callback_query=query)
    calls = calls_since(app, since)
    answers = [c for c in calls if isinstance(c, AnswerCallbackQuery)]
    assert [a.text for a in answers] == [LINE_ID] * 3
    assert not [c for c in calls if isinstance(c, SendMessage)]
    assert await snapshot(app) == before


async def test_a_button_on_an_inline_message_changes_nothing(app, person) -> None:
    chat = await onboarded_admin(app, person)
    before, since = await snapshot(app), len(app.bot.session.calls)
    query = CallbackQuery(
        id="inline1",
        from_user=chat.user,
        chat_instance="i",
        data=TrainingCB(act="new").pack(),
        inline_message_id="AAA",
    )
    await chat.feed(callback_query=query)
    calls = calls_since(app, since)
    assert [type(c) for c in calls] == [AnswerCallbackQuery] and calls[0].text == LINE_ID
    assert await snapshot(app) == before


def member_update(user: User, chat: Chat, old: str, new: str) -> ChatMemberUpdated:
    status = {"left": ChatMemberLeft(user=BOT_USER), "member": ChatMemberMember(user=BOT_USER)}
    return ChatMemberUpdated(
        chat=chat,
        from_user=user,
        date=datetime.now(UTC),
        old_chat_member=status[old],
        new_chat_member=status[new],
    )


@pytest.mark.parametrize("where", (GROUP, CHANNEL, Chat(id=-555, type="group", title="RT 05")))
async def test_added_to_a_group_or_channel_the_bot_leaves(app, person, where) -> None:
    chat = person(8604)
    since = len(app.bot.session.calls)
    await chat.feed(my_chat_member=member_update(chat.user, where, "left", "member"))
    calls = calls_since(app, since)
    assert [type(c) for c in calls] == [LeaveChat] and calls[0].chat_id == where.id
    assert where.id in app.bot.session.left
    # its own leaving comes back as a my_chat_member too: nothing more to do
    await chat.feed(my_chat_member=member_update(chat.user, where, "member", "left"))
    assert len(calls_since(app, since)) == 1
    assert await snapshot(app) == (0, 0, [])


async def test_a_person_blocking_the_bot_is_not_taken_as_them_coming_back(app, person) -> None:
    """A private my_chat_member (blocked) is no person's message: it unblocks nobody."""
    chat = await onboarded_admin(app, person)
    async with app.sessionmaker() as session, session.begin():
        await session.execute(update(Person).values(blocked_at=datetime.now(UTC)))
    since = len(app.bot.session.calls)
    await chat.feed(my_chat_member=member_update(chat.user, chat.chat, "member", "left"))
    assert calls_since(app, since) == []
    assert (await one(app, Person)).blocked_at is not None


def test_my_chat_member_is_asked_of_telegram(app) -> None:
    assert "my_chat_member" in app.dp.resolve_used_update_types()


async def test_through_the_webhook_the_bot_is_asked_for_my_chat_member_and_leaves(
    running: Running,  # noqa: F811 - the fixture
) -> None:
    """Over HTTP against the fake Bot API: being added to a group ends in leaveChat there."""
    assert "my_chat_member" in running.app.dp.resolve_used_update_types()
    user = {"id": 8605, "is_bot": False, "first_name": "Siti", "language_code": "id"}
    bot = {"id": running.fake.bot_user["id"], "is_bot": True, "first_name": "Pulang Juragan"}
    status = await running.post(
        {
            "update_id": 4001,
            "my_chat_member": {
                "chat": {"id": GROUP.id, "type": "supergroup", "title": "Grup"},
                "from": user,
                "date": int(time.time()),
                "old_chat_member": {"status": "left", "user": bot},
                "new_chat_member": {"status": "member", "user": bot},
            },
        }
    )
    assert status == 200
    assert GROUP.id in running.fake.left
    assert await running.processed() == 0
    group_command = {
        "update_id": 4002,
        "message": {
            "message_id": 9,
            "date": int(time.time()),
            "chat": {"id": GROUP.id, "type": "supergroup", "title": "Grup"},
            "from": user,
            "text": "/datasaya",
            "entities": [{"type": "bot_command", "offset": 0, "length": 9}],
        },
    }
    assert await running.post(group_command) == 200
    [sent] = running.fake.calls_to("sendMessage")
    assert sent.params["chat_id"] == GROUP.id and sent.params["text"] == LINE_ID
    assert await running.processed() == 0
