"""Paid broadcasts (PAID_BROADCAST): announcements go with allow_paid_broadcast at their own
higher rate, everything else at the free one; the fake Bot API holds each to its limit; the
coordinator sees the estimated cost before sending."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bot.delivery import Delivery, Outcome
from operations.broadcasts import PaidSending, estimate, estimated_cost, paid_sending
from tests.bot.test_broadcast_compose import coordinator, returnees
from tests.bot.test_broadcast_sending import (
    LocalSession,
    author,
    draft,
    live_app,
    now,  # noqa: F401 - a fixture
    people,
    start_now,
    to_people,
    windows_over,
)
from tests.support.fake_bot_api import ApiError, FakeBotAPI
from tests.support.talk import texts


async def test_the_fake_holds_paid_sends_to_1000_and_others_to_30() -> None:
    """Counted as the requests arrive (the fake's own check, without HTTP's pace)."""
    fake = FakeBotAPI()
    fake.rate_limit(30)

    def send(chat: int, **params: object) -> None:
        fake._check_failures("sendMessage", {"chat_id": chat, "text": "x", **params})

    for i in range(30):
        send(100 + i)
    with pytest.raises(ApiError) as free:
        send(999)
    assert free.value.code == 429
    for i in range(1000):  # the free window is full: paid ones have their own
        send(1000 + i, allow_paid_broadcast=True)
    with pytest.raises(ApiError) as paid:
        send(5000, allow_paid_broadcast=True)
    assert paid.value.code == 429


async def test_over_http_a_paid_send_is_not_held_to_30() -> None:
    from aiogram.client.telegram import TelegramAPIServer

    async with FakeBotAPI() as fake:
        fake.rate_limit(30)
        bot = Bot(
            "123456:TEST-token",
            session=LocalSession(api=TelegramAPIServer.from_base(fake.base_url)),
        )
        try:
            for i in range(30):
                await bot.send_message(chat_id=100 + i, text="free")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(chat_id=999, text="one too many")
            await bot.send_message(chat_id=1000, text="paid", allow_paid_broadcast=True)
        finally:
            await bot.session.close()
    assert len([c for c in fake.calls_to("sendMessage") if c.error_code is None]) == 31


async def test_delivery_sends_paid_ones_with_the_flag_at_their_own_rate() -> None:
    from aiogram.client.telegram import TelegramAPIServer

    async with FakeBotAPI() as fake:
        fake.rate_limit(30)
        bot = Bot(
            "123456:TEST-token",
            session=LocalSession(api=TelegramAPIServer.from_base(fake.base_url)),
        )
        delivery = Delivery(bot, rate=25.0, paid_rate=1000.0)
        try:
            paid = await asyncio.gather(
                *(delivery.send(2000 + i, "hi", kind="broadcast", paid=True) for i in range(200))
            )
            free = await delivery.send(3000, "reminder", kind="reminder")
        finally:
            await bot.session.close()
    assert {r.outcome for r in paid} == {Outcome.SENT} and free.outcome is Outcome.SENT
    calls = fake.calls_to("sendMessage")
    assert all(c.params.get("allow_paid_broadcast") is True for c in calls[:-1])
    assert "allow_paid_broadcast" not in calls[-1].params
    times = sorted(c.at for c in calls[:-1])
    assert times[-1] - times[0] < 4.0  # 200 at 1000/s: a fifth of a second; 8 s at 25/s


@pytest.mark.usefixtures("now")
async def test_a_paid_announcement_goes_faster_than_30_a_second(settings) -> None:
    async with FakeBotAPI() as fake:
        fake.rate_limit(30)
        app = live_app(settings, fake, paid_broadcast=True, paid_broadcast_rate=300.0)
        try:
            await people(app, 4000, 150)
            bid = await draft(app, await author(app))
            assert await start_now(app, bid) == 150
            done = await app.sender.drain()
        finally:
            await app.close()
        got = to_people(fake)
    assert done.sent == 150 and done.retried == 0  # no 429: paid sends are under their limit
    assert len({c.params["chat_id"] for c in got}) == 150
    assert all(c.params.get("allow_paid_broadcast") is True for c in got)
    assert windows_over(got) > 30 and windows_over(got) <= 300 + 1


@pytest.mark.usefixtures("now")
async def test_without_the_setting_announcements_are_free_and_at_the_free_rate(settings) -> None:
    async with FakeBotAPI() as fake:
        app = live_app(settings, fake, delivery_rate=30.0)
        try:
            await people(app, 4200, 5)
            bid = await draft(app, await author(app))
            await start_now(app, bid)
            await app.sender.drain()
        finally:
            await app.close()
        got = to_people(fake)
    assert len(got) == 5 and not any("allow_paid_broadcast" in c.params for c in got)


def test_the_estimate_is_the_most_telegram_may_charge() -> None:
    cost = estimate(500_000, PaidSending(rate=1000.0, stars_per_message=0.1))
    assert cost.stars == 50_000 and cost.seconds == 500 and cost.messages == 500_000
    assert estimate(3, PaidSending(rate=980.0, stars_per_message=0.1)).stars == 0.3
    assert paid_sending(on=False, rate=1000, stars_per_message=0.1) is None


async def test_the_cost_is_none_when_paid_sending_is_off(app) -> None:
    me = await author(app)
    await people(app, 4300, 4)
    bid = await draft(app, me)
    async with app.sessionmaker() as session:
        assert await estimated_cost(session, broadcast_id=bid, paid=None) is None
        cost = await estimated_cost(
            session, broadcast_id=bid, paid=PaidSending(rate=1000.0, stars_per_message=0.1)
        )
    assert cost is not None and cost.messages == 4 and cost.stars == 0.4


async def confirmation(app, person, *, paid: bool) -> str:
    app.dp["settings"] = app.settings.model_copy(update={"paid_broadcast": paid})
    await returnees(person, 8001, 3)
    chat = await coordinator(app, person)
    await chat.send("/siaran")
    await chat.send("Pelatihan online Sabtu ini")
    return texts(await chat.press("Send now"))


async def test_the_coordinator_sees_the_cost_before_sending(app, person) -> None:
    said = await confirmation(app, person, paid=True)
    assert "People it reaches: 3" in said
    assert "Fast paid sending is on: 980 messages a second" in said
    assert "at most 0.3 Stars" in said


async def test_no_cost_line_when_paid_sending_is_off(app, person) -> None:
    said = await confirmation(app, person, paid=False)
    assert "People it reaches: 3" in said and "Stars" not in said
