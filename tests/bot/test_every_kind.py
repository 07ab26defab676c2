"""The one generic driver renders and accepts every input kind the engine knows, through the
real dispatcher: a flow made only for this test, with one step of each kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.types import ReplyKeyboardMarkup

from flows import clock, registry, validators
from flows.engine import Flow, Kind, Option, Step
from storage import repo
from storage.models import FlowRun, RunStatus
from tests.support.talk import onboard, one, texts

DOCS = (Option("ktp", "KTP", literal=True), Option("kk", "KK", literal=True))
KINDS = Flow(
    key="every_kind",
    title="Every kind",
    journey="kur",
    steps=(
        Step("choice", "Pick one", Kind.CHOICE, options=DOCS),
        Step("multi", "Pick some", Kind.MULTI_CHOICE, options=DOCS),
        Step("text", "Type words", Kind.TEXT, validate=lambda r, _: validators.text(r)),
        Step(
            "number",
            "Type a number",
            Kind.NUMBER,
            validate=lambda r, _: validators.integer(r, min_value=1, max_value=60),
        ),
        Step("money", "Type money", Kind.MONEY, validate=lambda r, _: validators.money(r)),
        Step(
            "date",
            "Type a date",
            Kind.DATE,
            validate=lambda r, _: validators.date_id(r, today=clock.today()).isoformat(),
        ),
        Step("phone", "Your number", Kind.PHONE, validate=lambda r, _: validators.phone(r)),
        Step("place", "Where are you", Kind.LOCATION),
        Step("sure", "Sure?", Kind.CONFIRM, recap=True),
        Step("docs", "Tick papers", Kind.CHECKLIST, options=DOCS),
    ),
)


@pytest.fixture
def every_kind(monkeypatch: pytest.MonkeyPatch) -> Flow:
    monkeypatch.setitem(registry.FLOWS, KINDS.key, KINDS)
    return KINDS


async def _begin(app, chat) -> str:
    async with app.sessionmaker() as session, session.begin():
        person = await repo.person_by_telegram_id(session, telegram_id=chat.user.id)
        await repo.start_run(session, person_id=person.id, flow=KINDS.key, step="choice")
    await chat.send("/start")
    return texts(await chat.press("Continue"))


async def _at(app) -> str:
    return (await one(app, FlowRun, FlowRun.flow == KINDS.key)).step


async def test_every_kind_is_asked_rejected_and_answered(app, person, every_kind) -> None:
    chat = person(7601)
    await onboard(chat, lang="en")
    assert "Every kind · step 1 of 10" in await _begin(app, chat)

    assert "buttons" in texts(await chat.send("something else")).lower()
    await chat.choose("ktp")
    # multi-choice: toggles stay on the step, Done goes on
    await chat.choose("kk")
    await chat.choose("ktp")
    await chat.choose("ktp")
    assert await _at(app) == "multi"
    await chat.press("Done")
    assert await _at(app) == "text"
    assert "cannot be empty" in texts(await chat.send("   "))
    await chat.send("Warung sembako")
    assert "from 1 to 60" in texts(await chat.send("99"))
    await chat.send("12")
    assert "rupiah" in texts(await chat.send("lots"))
    await chat.send("Rp 15 juta")
    assert "like 17/08/2026" in texts(await chat.send("someday"))
    await chat.send("besok")
    shown = await chat.sticker()
    assert any(isinstance(getattr(c, "reply_markup", None), ReplyKeyboardMarkup) for c in shown)
    await chat.share_contact("+6281234567890")
    assert await _at(app) == "place"
    location_keyboard = chat.reply_keyboard
    assert location_keyboard is not None
    assert any(b.request_location for row in location_keyboard.keyboard for b in row)
    assert "send your location" in texts(await chat.sticker()) and await _at(app) == "place"
    recap = texts(await chat.share_location(-7.2575, 112.7521))
    assert "📍 -7.2575, 112.7521" in recap and "15,000,000" in recap and "KK" in recap
    await chat.choose("yes")
    await chat.choose("kk")
    await chat.press("Done")

    run = await one(app, FlowRun, FlowRun.flow == KINDS.key)
    assert run.status == RunStatus.COMPLETED
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    assert run.answers == {
        "choice": "ktp",
        "multi": ["kk"],
        "text": "Warung sembako",
        "number": 12,
        "money": 15_000_000,
        "date": tomorrow,
        "phone": "+6281234567890",
        "place": [-7.2575, 112.7521],
        "sure": "yes",
        "docs": ["kk"],
    }
