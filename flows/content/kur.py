"""KUR (Kredit Usaha Rakyat) schemes as data, each figure with its source and "as of" date.

Program rules change every year: the bot quotes these only with their date and tells people to
check with the bank. Figures the sources did not confirm are None, never guessed. Gathered in
../shared/DOMAIN.md (stored copies of public pages); re-check before the yearly update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flows.i18n import N_


@dataclass(frozen=True)
class Scheme:
    key: str
    name: str
    purpose: str  # msgid
    min_amount: int  # rupiah, exclusive lower bound (0 for the smallest scheme)
    max_amount: int  # rupiah, inclusive
    rate_pct: float | None  # effective per year, first access; None where unconfirmed
    tenor_working_capital_months: int | None  # KMK
    tenor_investment_months: int | None  # KI
    needs_collateral: bool  # agunan tambahan
    for_business_at_home: bool
    sources: tuple[str, ...]
    as_of: date


SUPER_MIKRO = Scheme(
    key="super_mikro",
    name="KUR Super Mikro",
    purpose=N_("Small capital for a new or tiny business, up to Rp10 million."),
    min_amount=0,
    max_amount=10_000_000,
    rate_pct=3.0,
    tenor_working_capital_months=None,
    tenor_investment_months=None,
    needs_collateral=False,
    for_business_at_home=True,
    sources=("https://voi.id/fr/amp/265328", "https://semarang-id.com/perbedaan-kur-bank/"),
    as_of=date(2023, 1, 1),
)

MIKRO = Scheme(
    key="mikro",
    name="KUR Mikro",
    purpose=N_("Capital for a running business, from Rp10 million up to Rp100 million."),
    min_amount=10_000_000,
    max_amount=100_000_000,
    rate_pct=6.0,
    tenor_working_capital_months=36,
    tenor_investment_months=60,
    needs_collateral=False,
    for_business_at_home=True,
    sources=(
        "https://rbtv.disway.id/amp/40465/syarat-dan-cara-pengajuan-kur-mandiri-2024-dapatkan-modal-usaha-tanpa-beban-bunga-yang-tinggi/16",
        "https://jabarekspres.com/berita/2024/07/24/cara-pengajuan-beserta-tabel-angsuran-kur-bri-2024-plafon-hingga-rp100-juta/2",
    ),
    as_of=date(2024, 7, 24),
)

KECIL = Scheme(
    key="kecil",
    name="KUR Kecil",
    purpose=N_("Larger capital, from Rp100 million up to Rp500 million; collateral is needed."),
    min_amount=100_000_000,
    max_amount=500_000_000,
    rate_pct=None,
    tenor_working_capital_months=48,
    tenor_investment_months=60,
    needs_collateral=True,
    for_business_at_home=True,
    sources=(
        "https://rbtv.disway.id/amp/40465/syarat-dan-cara-pengajuan-kur-mandiri-2024-dapatkan-modal-usaha-tanpa-beban-bunga-yang-tinggi/16",
        "https://kur.jogjaprov.go.id/profile-kur",
    ),
    as_of=date(2024, 1, 1),
)

PENEMPATAN_PMI = Scheme(
    key="penempatan_pmi",
    name="KUR Penempatan PMI",
    purpose=N_(
        "Pays the costs of leaving to work abroad (again). It is not for a business at home."
    ),
    min_amount=0,
    max_amount=100_000_000,
    rate_pct=6.0,
    tenor_working_capital_months=None,
    tenor_investment_months=None,
    needs_collateral=False,
    for_business_at_home=False,
    sources=("https://jaripmi.info/informasi-pelindungan/informasi-kur.html",),
    as_of=date(2025, 8, 29),
)

SCHEMES = (SUPER_MIKRO, MIKRO, KECIL, PENEMPATAN_PMI)
BUSINESS_SCHEMES = tuple(s for s in SCHEMES if s.for_business_at_home)


def scheme_for(amount: int) -> Scheme | None:
    """The business scheme whose ceiling fits an amount; None above every ceiling."""
    for scheme in BUSINESS_SCHEMES:
        if scheme.min_amount < amount <= scheme.max_amount:
            return scheme
    return None


def monthly_instalment(amount: int, rate_pct: float, months: int) -> int:
    """Equal monthly instalment (annuity) in whole rupiah, rounded half up.

    A simulation only: banks compute their own schedule (effective or flat rate, fees).
    """
    if amount <= 0 or months <= 0 or rate_pct < 0:
        raise ValueError("amount and months must be positive, the rate not negative")
    principal = Decimal(amount)
    if rate_pct == 0:
        payment = principal / months
    else:
        r = Decimal(str(rate_pct)) / Decimal(1200)
        payment = principal * r / (1 - (1 + r) ** -months)
    return int(payment.quantize(Decimal(1), rounding=ROUND_HALF_UP))
