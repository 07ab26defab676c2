"""The KUR journey through the real dispatcher: readiness, result, simulator, documents,
bank visit, outcomes, forged buttons and restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import OFFLINE_TOKEN, build_app
from bot.handlers.kur import LoanCB
from bot.offline import OfflineChat, OfflineSession
from bot.text import rupiah
from flows import clock
from flows.content import kur as facts
from storage.models import FlowRun, Loan, LoanStage, Person, Submission, SubmissionKind
from tests.support.talk import agree, count, onboard, one, texts


def en(amount: int) -> str:
    return rupiah(amount, "en")


async def open_kur(chat) -> list:
    await onboard(chat, lang="en")
    return await chat.press("KUR loan")


async def answer_readiness(
    chat,
    *,
    status: str = "running6",
    age: str = "adult",
    ektp: str = "yes",
    kk: str = "yes",
    permit: str = "nib",
    amount: str = "40 juta",
    npwp: str | None = None,
    had_kur: str = "never",
    credit: str = "none",
    slik: str = "ok",
) -> list:
    await chat.choose(status)
    await chat.send("Warung sembako")
    await chat.choose(age)
    await chat.choose(ektp)
    await chat.choose(kk)
    await chat.choose(permit)
    await chat.send(amount)
    if npwp is not None:
        await chat.choose(npwp)
    await chat.choose(had_kur)
    await chat.choose(credit)
    await chat.choose(slik)
    return await chat.choose("yes")


async def readiness_run(app, chat) -> FlowRun:
    person = await one(app, Person, Person.telegram_id == chat.user.id)
    return await one(app, FlowRun, FlowRun.person_id == person.id, FlowRun.flow == "kur_readiness")


async def loan_of(app, chat) -> Loan:
    person = await one(app, Person, Person.telegram_id == chat.user.id)
    return await one(app, Loan, Loan.person_id == person.id)


async def test_menu_entry_explains_and_starts_the_check(app, person) -> None:
    chat = person()
    replies = await open_kur(chat)
    said = texts(replies)
    assert "Nothing is sent to a bank" in said and "about 11 questions" in said
    assert "How is your business now?" in said
    assert (await readiness_run(app, chat)).step == "status"


@pytest.mark.parametrize(
    ("amount", "asked"),
    [("50 juta", False), ("50.000.001", True), ("60jt", True), ("5 juta", False)],
)
async def test_npwp_is_asked_only_above_50_juta(app, person, amount, asked) -> None:
    chat = person()
    await open_kur(chat)
    await chat.choose("running6")
    await chat.send("Warung sembako")
    for value in ("adult", "yes", "yes", "nib"):
        await chat.choose(value)
    replies = await chat.send(amount)
    run = await readiness_run(app, chat)
    assert run.step == ("npwp" if asked else "had_kur")
    assert ("NPWP" in texts(replies)) is asked


@pytest.mark.parametrize(
    ("status", "ready_text", "todo_text"),
    [
        ("running6", "Your business has run for 6 months or more.", None),
        ("running_less", None, "a business that has run for 6 months"),
        ("plan", None, "You have only a plan"),
    ],
)
async def test_each_business_status(app, person, status, ready_text, todo_text) -> None:
    chat = person()
    await open_kur(chat)
    said = texts(await answer_readiness(chat, status=status, amount="40 juta"))
    if ready_text:
        assert ready_text in said
    if todo_text:
        assert todo_text in said
        assert "KUR Super Mikro" in said
        # only a 2024 page says training can stand in for the 6 months: the bot asks the bank
        assert "Ask the bank whether training or mentoring can count instead" in said


@pytest.mark.parametrize(
    ("amount", "typed", "scheme", "shown"),
    [
        (
            5_000_000,
            "5 juta",
            "super_mikro",
            ["KUR Super Mikro", "Interest: not confirmed, ask the bank", "never had a KUR"],
        ),
        (
            40_000_000,
            "Rp 40.000.000",
            "mikro",
            ["KUR Mikro", "6% a year", "up to 36 months", "has the same rate: 6%"],
        ),
        (
            200_000_000,
            "200jt",
            "kecil",
            [
                "KUR Kecil",
                "6% a year",
                "Loan term: not confirmed, ask the bank",
                "collateral (agunan tambahan) is needed",
            ],
        ),
        (600_000_000, "600 juta", None, ["No KUR scheme fits"]),
    ],
)
async def test_the_recommendation_follows_the_amount(
    app, person, amount, typed, scheme, shown
) -> None:
    chat = person()
    await open_kur(chat)
    npwp = "yes" if amount > facts.NPWP_ABOVE else None
    said = texts(await answer_readiness(chat, amount=typed, npwp=npwp))
    for text in shown:
        assert text in said
    assert "news, not an official site" in said and "Make sure with the bank" in said
    assert "as of" in said and "https://" in said
    assert "KUR Penempatan PMI" in said and "not for a business at home" in said
    assert "KemenP2MI" in said and "SISKOP2MI" in said
    assert "not a loan approval" in said
    assert "staff in your region see your answers" in said  # who sees them, besides no bank
    loan = await loan_of(app, chat)
    assert (loan.scheme, loan.amount, loan.stage) == (scheme, amount, LoanStage.PREPARING)
    submission = await one(app, Submission)
    assert submission.kind == SubmissionKind.KUR_READINESS and submission.ref_id == loan.id
    assert submission.answers["amount"] == amount and submission.answers["business"]


async def test_the_to_do_list_names_what_is_missing(app, person) -> None:
    chat = person()
    await open_kur(chat)
    said = texts(
        await answer_readiness(
            chat,
            kk="no",
            permit="none",
            amount="60 juta",
            npwp="no",
            slik="not_yet",
        )
    )
    for text in (
        "Get your KK",
        "oss.go.id",
        "in minutes",
        "above Rp50 million, so the bank will ask for an NPWP",
        "idebku.ojk.go.id",
        "Which KUR fits",
    ):
        assert text in said, text


async def test_the_last_step_shows_every_answer_for_a_last_look(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await chat.choose("running6")
    await chat.send("Warung sembako")
    for value in ("adult", "yes", "yes", "nib"):
        await chat.choose(value)
    await chat.send("60 juta")
    for value in ("yes", "never", "none"):
        await chat.choose(value)
    said = texts(await chat.choose("ok"))
    assert "Ready to see your result?" in said
    assert "Warung sembako" in said and en(60_000_000) in said and "Done, all paid on time" in said
    assert "Nothing is sent to a bank" in said


async def test_other_loans_and_slik_problems_are_to_dos(app, person) -> None:
    chat = person()
    await open_kur(chat)
    said = texts(await answer_readiness(chat, credit="business", slik="problems", permit="sku"))
    assert "not given to someone who has another business loan" in said
    assert "SLIK record shows problems" in said
    assert "You have an SKU" in said


async def test_wrong_answers_at_the_typed_steps_are_explained(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await chat.choose("running6")
    for bad, expected in (
        (None, "only read typed text"),
        ("   ", "cannot be empty"),
        ("x" * 150, "100 characters"),
        ("y" * 5000, "too long"),
    ):
        replies = await (chat.sticker() if bad is None else chat.send(bad))
        assert expected in texts(replies)
        assert (await readiness_run(app, chat)).step == "business"
    await chat.send("Warung sembako")
    for value in ("adult", "yes", "yes", "nib"):
        await chat.choose(value)
    for bad, expected in (
        ("banyak sekali", "amount in rupiah"),
        ("0", "greater than zero"),
        ("-5 juta", "greater than zero"),
        (None, "only read typed text"),
        ("", "amount in rupiah"),
    ):
        replies = await (chat.sticker() if bad is None else chat.send(bad))
        assert expected in texts(replies), bad
        run = await readiness_run(app, chat)
        assert run.step == "amount" and "amount" not in run.answers
    await chat.send("15 juta")
    assert (await readiness_run(app, chat)).answers["amount"] == 15_000_000


async def test_a_restart_in_the_middle_resumes_at_the_same_step(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await chat.choose("running6")
    await chat.send("Warung sembako")
    app2 = build_app(app.settings, session=OfflineSession(), token=OFFLINE_TOKEN)
    try:
        chat2 = OfflineChat(app2.bot, app2.dp, app2.bot.session, chat.user.id)  # type: ignore[arg-type]
        replies = await chat2.send("Yes, 21 or older")
        assert "Do you have an e-KTP" in texts(replies)
        run = await readiness_run(app, chat)
        assert run.step == "ektp" and run.answers["business"] == "Warung sembako"
        for value in ("yes", "yes", "nib"):
            await chat2.choose(value)
        await chat2.send("20 juta")
        for value in ("never", "none", "ok", "yes"):
            await chat2.choose(value)
        assert (await loan_of(app, chat)).amount == 20_000_000
    finally:
        await app2.close()


async def test_the_submission_and_loan_are_created_once(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, status="running6", amount="20 juta", slik="ok", credit="none")
    # a double tap on the last button: the old message is pressed again
    run = await readiness_run(app, chat)
    assert run.status == "completed"
    await chat.press_data("f:kur_readiness:confirm:pick:yes")
    assert await count(app, Submission) == 1 and await count(app, Loan) == 1
    # a new check of the same plan updates it rather than adding a loan
    await chat.press("Start a new check")
    await answer_readiness(chat, amount="30 juta")
    assert await count(app, Submission) == 1 and await count(app, Loan) == 1
    assert (await loan_of(app, chat)).amount == 30_000_000
    assert (await one(app, Submission)).answers["amount"] == 30_000_000


async def test_menu_entry_with_a_loan_shows_its_page(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="40 juta")
    replies = await chat.send("/menu")
    replies = await chat.press("KUR loan")
    said = texts(replies)
    assert "Your KUR loan" in said and "KUR Mikro" in said and en(40_000_000) in said
    assert "Documents: 0 of 5 ready" in said and "Preparing documents" in said
    replies = await chat.send("/progres")
    assert "Preparing documents" in texts(replies)
    assert any("My KUR loan" in b for b in chat.buttons())


@pytest.mark.parametrize(
    ("typed", "months", "rate"),
    [(None, "36", "6"), ("25 juta", "18", "7,5")],
)
async def test_the_simulator_matches_the_annuity(app, person, typed, months, rate) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Instalment simulator")
    if typed is None:
        await chat.choose("40000000")
        amount = 40_000_000
    else:
        await chat.send(typed)
        amount = 25_000_000
    if months == "36":
        await chat.choose(months)
    else:
        await chat.send(months)
    replies = await (chat.choose(rate) if typed is None else chat.send(rate))
    monthly = facts.monthly_instalment(amount, float(rate.replace(",", ".")), int(months))
    said = texts(replies)
    assert en(monthly) in said and en(monthly * int(months)) in said
    assert "A simulation only" in said
    loan = await loan_of(app, chat)
    assert (loan.amount, loan.tenor_months) == (amount, int(months))


async def test_the_simulator_refuses_bad_tenors_and_rates(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Instalment simulator")
    await chat.choose("40000000")
    replies = await chat.send("120")
    assert "from 1 to 60" in texts(replies)
    await chat.send("24")
    replies = await chat.send("45")
    assert "from 0 to 30" in texts(replies)
    replies = await chat.sticker()
    assert "only read typed text" in texts(replies)
    person_row = await one(app, Person)
    run = await one(
        app, FlowRun, FlowRun.person_id == person_row.id, FlowRun.flow == "kur_simulator"
    )
    assert run.step == "rate"


async def test_document_ticks_keep_their_dates_across_a_restart(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="60 juta", npwp="yes")
    replies = await chat.press("Documents")
    assert "0 of 6 ready" in texts(replies)
    replies = await chat.press("e-KTP")
    replies += await chat.press("NPWP")
    today = clock.today().isoformat()
    loan = await loan_of(app, chat)
    assert loan.documents == {"ktp": today, "npwp": today}
    assert "2 of 6 ready" in texts(replies)
    # untick, and a double tap of the same (stale) button changes nothing more
    message = chat.last_keyboard_message()
    untick = LoanCB(act="doc", loan=loan.id, v="npwp", on=0).pack()
    await chat.press_data(untick, message)
    await chat.press_data(untick, message)
    assert (await loan_of(app, chat)).documents == {"ktp": today}
    app2 = build_app(app.settings, session=OfflineSession(), token=OFFLINE_TOKEN)
    try:
        chat2 = OfflineChat(app2.bot, app2.dp, app2.bot.session, chat.user.id)  # type: ignore[arg-type]
        replies = await chat2.press_data(LoanCB(act="docs", loan=loan.id).pack())
        said = texts(replies)
        assert "1 of 6 ready" in said and "ready since" in said
        assert "photos" in said  # never asks for them
    finally:
        await app2.close()


async def onboard_in_papua(chat) -> None:
    await agree(chat)
    await chat.choose("en")
    await chat.send("Yohana Wenda")
    await chat.send("0812 3456 7890")
    await chat.send("Papua")
    await chat.send("Kota Jayapura")
    await chat.choose("TW")
    await chat.choose("5to10")
    await chat.choose("kur")


async def test_bank_appointment_is_stored_in_utc_for_a_wit_person(app, person) -> None:
    chat = person()
    await onboard_in_papua(chat)
    assert (await one(app, Person)).province_code == "91"
    await chat.press("KUR loan")
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Bank and appointment")
    await chat.choose("bri")
    await chat.send("BRI Unit Abepura")
    replies = await chat.send("kemarin")
    assert "has passed" in texts(replies)
    when = clock.today() + timedelta(days=30)
    await chat.send(when.strftime("%d/%m/%Y"))
    replies = await chat.choose("0900")
    loan = await loan_of(app, chat)
    assert loan.appointment_at == datetime(when.year, when.month, when.day, 0, 0, tzinfo=UTC)
    assert (loan.bank, loan.branch, loan.stage) == ("BRI", "BRI Unit Abepura", "appointment")
    assert "WIT" in texts(replies) and "9:00" in texts(replies)


async def test_another_bank_and_a_typed_time(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Bank and appointment")
    await chat.choose("other")
    await chat.send("Bank Jatim")
    await chat.send("Cabang Surabaya")
    when = clock.today() + timedelta(days=3)
    await chat.send(when.isoformat())
    replies = await chat.send("jam 25")
    assert "like 09.00" in texts(replies)
    await chat.send("14.30")
    loan = await loan_of(app, chat)
    assert loan.bank == "Bank Jatim"
    assert loan.appointment_at == datetime(when.year, when.month, when.day, 7, 30, tzinfo=UTC)


async def test_outcomes_move_forward_in_order(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Record what happened")
    await chat.press("survey")
    assert (await loan_of(app, chat)).stage == "survey"
    await chat.press("Record what happened")
    assert not any("survey" in b for b in chat.buttons())  # only what can still happen
    await chat.press("akad")
    await chat.press("Record what happened")
    replies = await chat.press("cair")
    assert "How much was paid out" in texts(replies)
    await chat.send("35 juta")
    loan = await loan_of(app, chat)
    assert loan.stage == "cair" and loan.amount == 35_000_000
    assert set(loan.stage_dates) == {"preparing", "survey", "akad", "cair"}
    # a forged press back to an earlier stage, or to rejected after the money came, does nothing
    for stage in ("survey", "preparing", "rejected", "bogus"):
        await chat.press_data(LoanCB(act="stage", loan=loan.id, v=stage).pack())
    after = await loan_of(app, chat)
    assert (after.stage, after.stage_dates) == ("cair", loan.stage_dates)


async def test_rejected_with_a_reason_offers_next_steps(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Record what happened")
    await chat.press("The bank said no")
    replies = await chat.choose("documents")
    said = texts(replies)
    loan = await loan_of(app, chat)
    assert (loan.stage, loan.rejection_reason) == ("rejected", "documents")
    assert "rejected" in loan.stage_dates
    assert "What you can do next" in said and "idebku.ojk.go.id" in said
    assert "a smaller amount" in said and "Documents incomplete" in said
    # starting again makes a new loan; the rejected one stays as it was
    await chat.press("Start a new check")
    await answer_readiness(chat, amount="8 juta")
    assert await count(app, Loan) == 2
    assert await count(app, Loan, Loan.stage == "rejected") == 1


async def test_rejected_with_a_typed_reason(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Record what happened")
    await chat.press("The bank said no")
    await chat.choose("other")
    replies = await chat.send("<b>Usaha</b> belum tercatat")
    loan = await loan_of(app, chat)
    assert loan.rejection_reason == "other: <b>Usaha</b> belum tercatat"
    assert "&lt;b&gt;Usaha" in texts(replies)


async def test_someone_elses_loan_cannot_be_touched(app, person) -> None:
    owner, other = person(5001), person(5002)
    await open_kur(owner)
    await answer_readiness(owner, amount="40 juta")
    await open_kur(other)
    loan = await loan_of(app, owner)
    before = (loan.stage, loan.documents, loan.stage_dates)
    for data in (
        LoanCB(act="stage", loan=loan.id, v="survey"),
        LoanCB(act="stage", loan=loan.id, v="rejected"),
        LoanCB(act="doc", loan=loan.id, v="ktp", on=1),
        LoanCB(act="page", loan=loan.id),
        LoanCB(act="bank", loan=loan.id),
        LoanCB(act="docs", loan=loan.id),
    ):
        replies = await other.press_data(data.pack())
        assert "not for you" in texts(replies)
        assert en(40_000_000) not in texts(replies)
    # the owner's own bogus values change nothing either
    await owner.press_data(LoanCB(act="doc", loan=loan.id, v="passport", on=1).pack())
    await owner.press_data(LoanCB(act="stage", loan=loan.id, v="preparing").pack())
    await owner.press_data("k:zz:notanumber")
    after = await loan_of(app, owner)
    assert (after.stage, after.documents, after.stage_dates) == before


async def test_a_double_tap_on_an_outcome_records_it_once(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Record what happened")
    message = chat.last_keyboard_message()
    await chat.press("survey", message=message)
    first = (await loan_of(app, chat)).stage_dates
    replies = await chat.press("survey", message=message)
    assert "already recorded" in texts(replies)
    assert (await loan_of(app, chat)).stage_dates == first


async def test_a_bank_visit_resumed_after_the_loan_ended_changes_nothing(app, person) -> None:
    from bot.keyboards import ResumeCB
    from storage.models import Reminder

    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Bank and appointment")
    await chat.choose("bri")
    await chat.send("BRI Unit Wonokromo")
    bank_run = await one(app, FlowRun, FlowRun.flow == "kur_bank")
    loan = await loan_of(app, chat)
    await chat.press_data(LoanCB(act="stage", loan=loan.id, v="cair").pack())
    await chat.send("25 juta")  # the amount paid out
    assert (await loan_of(app, chat)).stage == "cair"
    await chat.press_data(ResumeCB(act="continue", run=bank_run.id).pack())
    await chat.send((clock.today() + timedelta(days=3)).isoformat())
    shown = texts(await chat.choose("0900"))
    assert "already ended" in shown
    loan = await loan_of(app, chat)
    reminders = await count(
        app, Reminder, Reminder.dedupe_key == f"bank:{loan.id}:day", Reminder.status == "pending"
    )
    assert loan.appointment_at is None and reminders == 0


# --- issue 15: hard stops, a KUR before, messages a phone can hold ---------------------------


@pytest.mark.parametrize(
    ("answers", "fix"),
    [
        ({"age": "neither"}, "KUR is for people aged at least 21, or married"),
        ({"ektp": "no"}, "needs your e-KTP (electronic ID card)"),
        ({"credit": "late"}, "You have late payments"),
    ],
)
async def test_a_hard_stop_says_what_to_fix_and_recommends_nothing(
    app, person, answers, fix
) -> None:
    chat = person()
    await open_kur(chat)
    replies = await answer_readiness(chat, **answers)
    said = texts(replies)
    assert "Fix this first" in said and fix in said and "start a new check" in said
    assert "news, not an official site" in said and "Make sure with the bank" in said
    # no scheme, no bank, no loan page: nothing to recommend yet
    for absent in ("Which KUR fits", "KUR Mikro", "KUR Super Mikro", "Bank and appointment"):
        assert absent not in said, absent
    assert not any("Bank" in b or "My KUR loan" in b for b in chat.buttons())
    assert any("Start a new check" in b for b in chat.buttons())
    assert await count(app, Loan) == 0 and await count(app, Submission) == 0


async def test_every_hard_stop_is_named_at_once(app, person) -> None:
    chat = person()
    await open_kur(chat)
    said = texts(await answer_readiness(chat, age="neither", ektp="no", credit="late"))
    assert said.count("⛔") == 3
    assert "Which KUR fits" not in said and await count(app, Loan) == 0


async def test_the_check_asks_about_a_kur_before(app, person) -> None:
    chat = person()
    await open_kur(chat)
    await chat.choose("running6")
    await chat.send("Warung sembako")
    for value in ("adult", "yes", "yes", "nib"):
        await chat.choose(value)
    replies = await chat.send("5 juta")
    said = texts(replies)
    assert "Have you had a KUR before?" in said and "step 8 of 11" in said
    assert f"KUR Super Mikro (up to {en(10_000_000)}) is only for someone who has never" in said
    assert {"No, never", "Yes, I have had a KUR"} <= set(chat.buttons())


async def test_super_mikro_only_for_someone_who_never_had_a_kur(app, person) -> None:
    chat = person()
    await open_kur(chat)
    said = texts(await answer_readiness(chat, amount="5 juta", had_kur="before"))
    assert "KUR Super Mikro is not for you" in said and "KUR Mikro" in said
    assert (await loan_of(app, chat)).scheme == "mikro"
    other = person(5002)
    await open_kur(other)
    said = texts(await answer_readiness(other, status="plan", amount="40 juta", had_kur="before"))
    assert "KUR Super Mikro (up to" not in said  # not suggested to a repeat borrower


@pytest.mark.parametrize("lang", ["en", "id"])
async def test_result_and_recommendation_messages_fit_a_phone(app, person, lang) -> None:
    from bot.text import visible

    chat = person()
    await onboard(chat, lang=lang)
    await chat.press("KUR loan" if lang == "en" else "Pinjaman KUR")
    replies = await answer_readiness(
        chat, status="plan", kk="no", permit="none", amount="60 juta", npwp="no", slik="not_yet"
    )
    sent = [r for r in replies if getattr(r, "text", None)]
    assert len(sent) >= 3  # split, not one wall of text
    for reply in sent:
        assert len(visible(reply.text)) <= 600, reply.text


async def test_a_changed_fact_in_the_file_changes_what_the_bot_says(
    app, person, tmp_path, monkeypatch
) -> None:
    """A non-developer edits kur.toml only: the bot states the new figures and date."""
    from flows.content import facts as schema

    text = (schema.CONTENT_DIR / "kur.toml").read_text(encoding="utf-8")
    text = text.replace(
        'up_to = 100_000_000\nsource = "https://www.poskota.co.id/2026/01/23',
        'up_to = 150_000_000\nsource = "https://www.poskota.co.id/2026/01/23',
    )
    text = text.replace(
        "[rules.npwp_above]\namount = 50_000_000", "[rules.npwp_above]\namount = 75_000_000"
    )
    text = text.replace('''[schemes.rate]
percent = 6
source = "https://www.poskota.co.id/2026/01/16/modal-usaha-makin-mudah-syarat-kur-2026-dan-plafon-terbaru-untuk-umkm-cek-selengkapnya"
official = false
as_of = 2026-01-16

[schemes.tenor]
working_capital_months = 36''', '''[schemes.rate]
percent = 5.5
source = "https://www.poskota.co.id/2026/01/16/modal-usaha-makin-mudah-syarat-kur-2026-dan-plafon-terbaru-untuk-umkm-cek-selengkapnya"
official = false
as_of = 2026-03-01

[schemes.tenor]
working_capital_months = 36''')  # fmt: skip
    (tmp_path / "kur.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(schema, "CONTENT_DIR", tmp_path)
    facts.reload()
    try:
        assert facts.MIKRO.max_amount == 150_000_000 and facts.NPWP_ABOVE == 75_000_000
        chat = person()
        await open_kur(chat)
        said = texts(await answer_readiness(chat, amount="60 juta"))  # no NPWP asked now
        assert "up to Rp150 million" in said and "5.5% a year" in said
        assert "as of January 1, 2026" in said  # the oldest date of what is said
    finally:
        monkeypatch.undo()
        facts.reload()
    assert facts.MIKRO.max_amount == 100_000_000
