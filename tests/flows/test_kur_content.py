"""KUR facts as data (kur.toml): every figure has a source and a date, an unconfirmed one is
not stated; the simulator is the usual annuity."""

from __future__ import annotations

import pytest

from flows.content import kur


def test_every_scheme_names_its_sources_and_date() -> None:
    for scheme in kur.SCHEMES:
        assert scheme.facts and all(f.source.startswith("https://") for f in scheme.facts)
        assert all(f.as_of.year >= 2025 for f in scheme.facts)


def test_the_2026_rules() -> None:
    """DOMAIN.md section 0: Permenko 1/2026, 6% for every loan, NPWP above Rp50 juta, Super
    Mikro only for a first KUR, the spouse signs, KUR Penempatan PMI under KemenP2MI."""
    rules = kur.RULES
    assert rules.guideline.name == "Permenko Perekonomian 1/2026"
    assert rules.one_rate.percent == 6 and kur.NPWP_ABOVE == 50_000_000
    assert kur.SUPER_MIKRO.first_kur_only and not kur.MIKRO.first_kur_only
    assert (
        kur.SUPER_MIKRO.tenor_working_capital_months,
        kur.SUPER_MIKRO.tenor_investment_months,
    ) == (36, 60)
    assert rules.spouse_signs.value and "spouse_ktp" in kur.DOCUMENTS_BY_KEY
    assert rules.placement_ministry.name == "KemenP2MI"
    assert rules.placement_registration.site == "siskop2mi.bp2mi.go.id"
    kinds = {b.key: b.kind for b in kur.LENDERS}
    assert kinds["bsi"] == "sharia_bank" and kinds["pegadaian"] == "non_bank"
    assert kinds["bjb"] == kinds["bank_jakarta"] == "regional_bank"


def test_an_unconfirmed_figure_is_never_stated() -> None:
    # Super Mikro's 2026 rate: sources disagree (3% or 6%)
    assert kur.SUPER_MIKRO.entry.rate.unconfirmed and kur.SUPER_MIKRO.rate_pct is None
    assert kur.SUPER_MIKRO.entry.rate not in kur.SUPER_MIKRO.facts
    # lenders without a 2026 source are not offered as a button
    assert {"btn", "bjb", "bank_jakarta"}.isdisjoint(b.key for b in kur.BANKS)


@pytest.mark.parametrize(
    ("amount", "key"),
    [
        (5_000_000, "super_mikro"),
        (10_000_000, "super_mikro"),
        (10_000_001, "mikro"),
        (40_000_000, "mikro"),
        (100_000_000, "mikro"),
        (100_000_001, "kecil"),
        (500_000_000, "kecil"),
    ],
)
def test_the_scheme_follows_the_ceilings(amount: int, key: str) -> None:
    assert kur.scheme_for(amount).key == key


def test_nothing_above_the_largest_ceiling_and_never_the_departure_scheme() -> None:
    assert kur.scheme_for(500_000_001) is None
    assert kur.PENEMPATAN_PMI not in kur.BUSINESS_SCHEMES
    assert all(kur.scheme_for(a).key != "penempatan_pmi" for a in (1, 10**7, 10**8))


def test_only_kur_kecil_needs_collateral_and_its_rate_is_six() -> None:
    assert [s.key for s in kur.SCHEMES if s.needs_collateral] == ["kecil"]
    assert kur.KECIL.rate_pct == 6


def test_a_repeat_borrower_is_never_given_super_mikro() -> None:
    assert kur.scheme_for(5_000_000, had_kur=True) is kur.MIKRO
    assert kur.scheme_for(40_000_000, had_kur=True) is kur.MIKRO
    assert kur.scheme_for(5_000_000) is kur.SUPER_MIKRO


def test_monthly_instalment_is_the_standard_annuity() -> None:
    # Rp50 juta at 6% a year over 36 months: 1,521,097 a month (any loan table agrees).
    assert kur.monthly_instalment(50_000_000, 6.0, 36) == 1_521_097
    assert kur.monthly_instalment(12_000_000, 0.0, 12) == 1_000_000
    with pytest.raises(ValueError):
        kur.monthly_instalment(0, 6.0, 12)
