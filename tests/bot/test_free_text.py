"""Free text outside a flow step (issue 18): "Did you mean ...?" with buttons, nothing started
without a press, a press opens the page; inside a flow a typed text stays the answer."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from bot.intent_routes import ROUTES, IntentCB
from bot.text import rupiah_text
from flows import intents
from flows.content import kur as facts
from storage.models import Base, FlowRun, Loan, Person, RunStatus
from tests.support.talk import count, onboard, one, texts

SET = Path(__file__).resolve().parent.parent / "data" / "intents.csv"


def typed_set() -> list[str]:
    with SET.open(encoding="utf-8", newline="") as f:
        return [r["text"] for r in csv.DictReader(f)]


async def runs(app) -> int:
    return await count(app, FlowRun, FlowRun.flow != "onboarding")


async def test_a_loan_wish_is_offered_with_its_amount_and_starts_nothing(app, person) -> None:
    chat = person(18001)
    await onboard(chat, lang="id")
    shown = texts(await chat.send("halo, saya mau pinjam uang 25 jt buat buka warung"))
    assert "Maksud Anda" in shown
    buttons = chat.buttons()
    assert any("KUR" in b and "25.000.000" in b for b in buttons), buttons
    assert any("Menu" in b for b in buttons)
    assert await runs(app) == 0

    shown = texts(await chat.press("Pinjaman KUR"))
    run = await one(app, FlowRun, FlowRun.flow == "kur_readiness")
    assert run.status == RunStatus.ACTIVE and "KUR" in shown


async def test_the_amount_is_carried_into_the_simulator(app, person) -> None:
    chat = person(18002)
    await onboard(chat, lang="en")
    await chat.send("berapa cicilan kalau pinjam dua puluh lima juta")
    shown = texts(await chat.press("Instalment simulator"))
    assert "How much would you borrow?" in shown
    assert any("25.000.000" in b for b in chat.buttons())
    await chat.choose("25000000")
    run = await one(app, FlowRun, FlowRun.flow == "kur_simulator")
    assert str(run.answers["amount"]) == "25000000" and run.step == "tenor"


async def test_a_training_topic_is_named_on_the_button_and_filters_the_list(app, person) -> None:
    chat = person(18003)
    await onboard(chat, lang="en")
    await chat.send("sy pengen belajar jahit")
    assert any("Training: Vocational skills" in b for b in chat.buttons())
    shown = texts(await chat.press("Training: Vocational skills"))
    assert "Topic: Vocational skills" in shown


async def test_nonsense_gets_a_warm_reply_and_the_menu(app, person) -> None:
    chat = person(18004)
    await onboard(chat, lang="en")
    shown = texts(await chat.send("qwerty zxcv"))
    assert "did not understand" in shown
    assert chat.buttons() == ["🙋 Ask a staff member", "🏠 Menu"]  # a person, or the menu
    await chat.press("Menu")
    assert any("KUR loan" in b for b in chat.buttons())  # the main menu
    assert await runs(app) == 0


async def test_a_greeting_is_answered_by_name(app, person) -> None:
    chat = person(18005)
    await onboard(chat, name="Siti Aminah", lang="id")
    shown = texts(await chat.send("Assalamualaikum"))
    assert "Siti Aminah" in shown and "Maksud Anda" not in shown


async def test_inside_a_flow_a_typed_text_stays_the_answer(app, person) -> None:
    chat = person(18006)
    await onboard(chat, lang="en")
    await chat.send("/menu")
    await chat.press("KUR loan")
    await chat.choose("running6")  # now at "what is your business"
    shown = texts(await chat.send("pinjam uang koperasi"))
    assert "Did you mean" not in shown
    run = await one(app, FlowRun, FlowRun.flow == "kur_readiness")
    assert run.answers["business"] == "pinjam uang koperasi"


async def test_delete_my_data_is_only_offered_and_asks_again(app, person) -> None:
    chat = person(18007)
    await onboard(chat, lang="en")
    await chat.send("hapus data saya")
    assert await count(app, Person) == 1
    shown = texts(await chat.press("Delete my data"))
    assert "Delete your data?" in shown and await count(app, Person) == 1
    assert any("Yes, delete" in b for b in chat.buttons())


async def test_a_fact_page_and_a_person_wish_lead_to_true_pages(app, person) -> None:
    chat = person(18008)
    await onboard(chat, lang="en")
    await chat.send("apa itu kur")
    shown = texts(await chat.press("What is KUR?"))
    assert "no fee" in shown and "calo" in shown
    # Its figures and lenders are kur.toml's (a fact changed there changes the page), with
    # where they come from; a lender the file leaves unconfirmed is not named.
    assert f"up to {rupiah_text(facts.MIKRO.max_amount, 'en')}" in shown
    assert all(bank.name in shown for bank in facts.BANKS)
    assert "BTN" not in shown and "news, not an official site" in shown
    await chat.send("mau ngobrol sama petugas")
    calls = await chat.press("Talk to a person")
    shown = texts(calls)
    assert "0-800-1000" in shown and "157" in shown
    [ask] = [c for c in calls if getattr(c, "text", None) == "Ask your question here:"]
    assert ask.reply_markup.inline_keyboard[0][0].text == "🙋 Ask a staff member"  # first


async def test_forged_and_stale_intent_buttons_change_nothing(app, person) -> None:
    chat = person(18009)
    await onboard(chat, lang="en")
    shown = texts(await chat.press_data(IntentCB(name="nosuch").pack()))
    assert "no longer works" in shown
    texts(await chat.press_data("i:kur::99999999999999999"))  # an amount out of range
    assert await runs(app) == 0 and await count(app, Loan) == 0


async def test_someone_without_a_profile_is_sent_to_start(app, person) -> None:
    chat = person(18010)
    shown = texts(await chat.press_data(IntentCB(name="kur").pack()))
    assert "/start" in shown
    async with app.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(FlowRun)) == 0


def test_every_intent_of_the_data_has_a_route_and_every_route_an_intent() -> None:
    data = set(intents.matcher().intents) - intents.SOCIAL
    assert data == set(ROUTES)


async def test_no_journey_starts_without_a_press_for_the_test_set(app, person) -> None:
    """A quarter of tests/data/intents.csv (every intent and "none" among them), sent as typed
    by one onboarded person: each gets a question with buttons or the menu, and nothing is
    started, written or deleted."""
    chat = person(18011)
    await onboard(chat, lang="id")

    async def rows_per_table() -> dict[str, int]:
        async with app.sessionmaker() as session:
            return {
                t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables
                if t.name not in ("processed_updates", "id_watermarks")
            }

    before = await rows_per_table()
    sample = typed_set()[::4]
    for text in sample:
        shown = texts(await chat.send(text))
        assert shown, text
        assert chat.buttons(), text  # "Maksud Anda" with buttons, or the menu
    assert await rows_per_table() == before
    assert await count(app, FlowRun, FlowRun.status == RunStatus.ACTIVE) == 0
