"""The KUR flows as data: branches, the assessment, the simulator's limits (no bot, no SQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flows import clock, engine
from flows import kur as flow
from flows.content import kur as facts
from flows.engine import END, Advanced, Input, Rejected

GOOD = {
    "status": "running6",
    "business": "Warung",
    "age": "adult",
    "ektp": "yes",
    "kk": "yes",
    "permit": "nib",
    "amount": 40_000_000,
    "had_kur": "never",
    "credit": "none",
    "slik": "ok",
}


def walk(f: engine.Flow, inputs: list[Input], answers: dict | None = None) -> engine.RunState:
    state = engine.RunState(step=f.first, answers=dict(answers or {}))
    for given in inputs:
        outcome = engine.answer(f, state, given)
        assert isinstance(outcome, Advanced), outcome
        state = outcome.state
    return state


def test_every_kur_flow_belongs_to_the_journey_and_has_about_ten_readiness_steps() -> None:
    assert {f.journey for f in flow.FLOWS} == {"kur"}
    assert 10 <= len(flow.READINESS.steps) <= 12


@pytest.mark.parametrize(("amount", "npwp"), [(50_000_000, False), (50_000_001, True)])
def test_npwp_only_above_fifty_juta(amount: int, npwp: bool) -> None:
    following = flow.READINESS.following("amount", {**GOOD, "amount": amount})
    assert following == ("npwp" if npwp else "had_kur")


def test_a_whole_walk_by_buttons_and_typing() -> None:
    c = Input
    state = walk(
        flow.READINESS,
        [
            c(choice="plan"),
            c(text="Jualan kopi"),
            c(choice="married"),
            c(choice="yes"),
            c(choice="no"),
            c(choice="sku"),
            c(text="75 juta"),
            c(choice="no"),
            c(choice="never"),
            c(choice="consumer_ok"),
            c(choice="not_yet"),
            c(choice="yes"),
        ],
    )
    assert state.done and state.answers["amount"] == 75_000_000
    result = flow.assess(state.answers)
    assert result.scheme is facts.MIKRO
    assert "plan" in result.todo and "kk" in result.todo and "npwp" in result.todo
    assert "slik_not_yet" in result.todo and "sku" in result.ready and "credit" in result.ready
    assert "try_super_mikro" in result.notes and "six_months_ask" in result.notes
    assert not result.stopped


@pytest.mark.parametrize(
    ("changed", "stop"),
    [({"age": "neither"}, "age"), ({"ektp": "no"}, "ektp"), ({"credit": "late"}, "late")],
)
def test_a_hard_stop_gives_no_scheme(changed: dict, stop: str) -> None:
    result = flow.assess({**GOOD, **changed})
    assert result.stopped and result.stops == (stop,)
    assert result.scheme is None and result.notes == ()
    assert stop not in result.todo


def test_married_under_21_is_no_stop_and_slik_problems_are_a_to_do() -> None:
    result = flow.assess({**GOOD, "age": "married", "slik": "problems"})
    assert not result.stopped and result.scheme is facts.MIKRO
    assert "slik_problems" in result.todo


def test_a_repeat_borrower_is_not_pointed_to_super_mikro() -> None:
    result = flow.assess({**GOOD, "amount": 5_000_000, "had_kur": "before", "status": "plan"})
    assert result.scheme is facts.MIKRO
    assert "repeat_small" in result.notes and "try_super_mikro" not in result.notes


@pytest.mark.parametrize("bad", ["lots", "0", "-1", "Rp", "15 apples"])
def test_a_bad_amount_is_rejected(bad: str) -> None:
    state = engine.RunState(step="amount", answers=dict(GOOD))
    assert isinstance(engine.answer(flow.READINESS, state, Input(text=bad)), Rejected)


def test_an_old_npwp_answer_does_not_count_once_the_amount_is_lower() -> None:
    result = flow.assess({**GOOD, "amount": 20_000_000, "npwp": "no"})
    assert "npwp" not in result.todo and "npwp" not in result.ready


@pytest.mark.parametrize(
    ("amount", "scheme"),
    [(5_000_000, "super_mikro"), (40_000_000, "mikro"), (300_000_000, "kecil"), (6 * 10**8, None)],
)
def test_the_scheme_follows_the_amount(amount: int, scheme: str | None) -> None:
    result = flow.assess({**GOOD, "amount": amount})
    assert (result.scheme.key if result.scheme else None) == scheme


def test_everything_ready_leaves_nothing_to_do() -> None:
    result = flow.assess(GOOD)
    assert result.todo == () and not result.notes


def test_documents_follow_the_amount_and_scheme() -> None:
    assert [d.key for d in facts.documents_for(40_000_000, "mikro")] == [
        "ktp",
        "kk",
        "spouse_ktp",
        "marriage",
        "permit",
    ]
    assert "npwp" in [d.key for d in facts.documents_for(60_000_000, "mikro")]
    kecil = [d.key for d in facts.documents_for(200_000_000, "kecil")]
    assert {"npwp", "bpjs_tk", "collateral"} <= set(kecil)
    assert all(d.source.startswith("https://") for d in facts.DOCUMENTS)


def test_banks_have_sources() -> None:
    assert [b.name for b in facts.BANKS] == ["BRI", "BNI", "Mandiri", "BCA", "BSI", "Pegadaian"]
    assert all(b.source.startswith("https://") and b.as_of.year >= 2026 for b in facts.BANKS)
    assert [o.label for o in flow._bank_options({})][:6] == [b.name for b in facts.BANKS]


def test_simulator_limits_the_tenor_to_the_scheme() -> None:
    assert flow.max_tenor(facts.MIKRO) == 60 and flow.max_tenor(None) == 60
    assert flow.max_tenor(facts.SUPER_MIKRO) == 60  # unconfirmed: no limit of our own
    state = engine.RunState(step="tenor", answers={"amount": 40_000_000})
    assert isinstance(engine.answer(flow.SIMULATOR, state, Input(text="61")), Rejected)
    assert engine.answer(flow.SIMULATOR, state, Input(text="18")).value == 18  # type: ignore[union-attr]


def test_simulator_offers_the_rate_only_where_known() -> None:
    assert [o.value for o in flow._rate_options({"amount": 40_000_000})] == ["6"]
    assert [o.value for o in flow._rate_options({"amount": 200_000_000})] == ["6"]
    assert flow._rate_options({"amount": 5_000_000}) == ()  # Super Mikro: unconfirmed


def test_simulation_matches_the_annuity() -> None:
    state = walk(
        flow.SIMULATOR,
        [Input(choice="40000000"), Input(choice="36"), Input(choice="6")],
        {"loan_amount": 40_000_000},
    )
    amount, months, rate, monthly, total = flow.simulation(state.answers)
    assert (amount, months, rate) == (40_000_000, 36, 6.0)
    assert monthly == facts.monthly_instalment(40_000_000, 6.0, 36) and total == monthly * 36


def test_an_appointment_cannot_be_in_the_past() -> None:
    clock.set_clock(lambda: datetime(2026, 11, 25, 3, 0, tzinfo=UTC))  # 12.00 WIT
    try:
        answers = {"tz": "Asia/Jayapura", "date": "2026-11-25"}
        times = [o.value for o in flow._time_options(answers)]
        assert times == ["1300", "1400"]
        state = engine.RunState(step="time", answers=answers)
        assert isinstance(engine.answer(flow.BANK, state, Input(text="10.00")), Rejected)
        state = engine.RunState(step="date", answers={"tz": "Asia/Jayapura"})
        assert isinstance(engine.answer(flow.BANK, state, Input(text="24/11/2026")), Rejected)
    finally:
        clock.set_clock(None)
    local = flow.appointment_local("2026-12-01", "0900", ZoneInfo("Asia/Jayapura"))
    assert local is not None and local.astimezone(UTC).hour == 0


def test_rejection_reasons() -> None:
    state = walk(flow.REJECTED, [Input(choice="other"), Input(text="Usaha belum tercatat")])
    assert state.step == END
    assert flow.reason_code(state.answers) == "other: Usaha belum tercatat"
    assert flow.reason_code({"reason": "slik"}) == "slik"
