"""Forged and stale button data from the review: nothing breaks, nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.handlers.kur import LoanCB
from bot.handlers.training import TrainingCB
from flows import clock
from flows.kur import bank_name
from storage.models import Person, Training, TrainingRegistration
from tests.support.talk import onboard, one, texts


async def test_ids_beyond_a_database_integer_are_refused_politely(app, person) -> None:
    chat = person(7901)
    await onboard(chat, lang="en")
    for data in (
        "co:card:99999999999999999999:::0",
        "k:page:99999999999999999999::0",
        "tr:show:99999999999999999999:all:0:",
        "r:continue:99999999999999999999",
        "co:res:1:::-5",
    ):
        shown = texts(await chat.press_data(data))
        assert "something went wrong" not in shown.lower(), data


async def test_a_forged_long_region_on_the_training_list_is_ignored(app, person) -> None:
    chat = person(7902)
    await onboard(chat, lang="en")
    shown = texts(await chat.press_data("tr:list:0:all:0:" + "x" * 48))
    assert "something went wrong" not in shown.lower()
    assert "Training" in shown or "training" in shown


def test_a_typed_bank_wins_over_an_older_other_bank_answer() -> None:
    assert bank_name({"bank": "Bank Sumut", "bank_other": "Bank Jatim"}) == "Bank Sumut"
    assert bank_name({"bank": "other", "bank_other": "Bank Jatim"}) == "Bank Jatim"
    assert bank_name({"bank": "bri"}).startswith("BRI")


async def test_kur_buttons_wait_for_the_profile(app, person) -> None:
    chat = person(7903)
    await chat.send("/start")
    await chat.press("Setuju")  # consent given, profile not yet filled in
    shown = texts(await chat.press_data(LoanCB(act="new").pack()))
    assert "/start" in shown
    assert (await one(app, Person)).onboarded_at is None


async def test_no_promotion_into_a_session_already_under_way(app, person) -> None:
    start = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
    clock.set_clock(lambda: start - timedelta(days=1))
    async with app.sessionmaker() as session, session.begin():
        training = Training(
            title="Selling online", organiser="Disnaker", topic="digital", starts_at=start,
            ends_at=start + timedelta(hours=3), place="BLK Surabaya", province_code="35",
            regency_code="35.78", seats=1,
        )  # fmt: skip
        session.add(training)
        await session.flush()
        tid = training.id
    seated, waiting = person(7904), person(7905)
    await onboard(seated, lang="en")
    await onboard(waiting, lang="en")
    await seated.press_data(TrainingCB(act="reg", id=tid).pack())
    await waiting.press_data(TrainingCB(act="reg", id=tid).pack())
    clock.set_clock(lambda: start + timedelta(hours=1))  # the session has begun
    mine = await one(app, TrainingRegistration, TrainingRegistration.status == "registered")
    await seated.press_data(TrainingCB(act="unreg", id=mine.id).pack())
    late = await one(app, TrainingRegistration, TrainingRegistration.person_id != mine.person_id)
    assert late.status == "waitlisted"
