"""KUR facts as data: every figure has a source and a date; the simulator is the usual annuity."""

from __future__ import annotations

import pytest

from flows.content import kur


def test_every_scheme_names_its_sources_and_date() -> None:
    for scheme in kur.SCHEMES:
        assert scheme.sources and all(s.startswith("https://") for s in scheme.sources)
        assert scheme.as_of.year >= 2023


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


def test_only_kur_kecil_needs_collateral_and_its_rate_is_not_guessed() -> None:
    assert [s.key for s in kur.SCHEMES if s.needs_collateral] == ["kecil"]
    assert kur.KECIL.rate_pct is None


def test_monthly_instalment_is_the_standard_annuity() -> None:
    # Rp50 juta at 6% a year over 36 months: 1,521,097 a month (any loan table agrees).
    assert kur.monthly_instalment(50_000_000, 6.0, 36) == 1_521_097
    assert kur.monthly_instalment(12_000_000, 0.0, 12) == 1_000_000
    with pytest.raises(ValueError):
        kur.monthly_instalment(0, 6.0, 12)
