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


# --- What a person needs, where to get it, and who lends (each with its source and date) ---

NPWP_ABOVE = 50_000_000  # an NPWP is needed when the loan is above this
SIX_MONTHS = 6  # months a business must have run (Super Mikro: training or mentoring instead)
MIN_AGE = 21  # or married; some banks accept 18 if married

REQUIREMENTS_SOURCES = (
    "https://kur.jogjaprov.go.id/profile-kur",
    "https://babel.kupasonline.com/2024/08/14/cara-mudah-mendapatkan-pinjaman-kur-dari-bank-bca-dengan-bunga-terendah/2",
    "https://betv.disway.id/amp/14566/punya-bpjs-kesehatan-bisa-ajukan-pinjaman-kur-bri-hingga-rp5000000000-cek-di-sini-persyaratannya/16",
)
REQUIREMENTS_AS_OF = date(2024, 8, 14)

NIB_SOURCES = (
    "https://limbangantengah.id/cara-mengurus-nib-online-2026-syarat-kredit-usaha-lengkap",
    "https://satoeasa.com/7-menit-daftar-nib-pakai-aplikasi-oss/",
)
SLIK_SOURCES = (
    "https://rsjmenur.id/berita-pinjaman-online/488/cara-cek-bi-checking-online-sendiri-lewat-slik-ojk-di-hp-dan-aplikasi-idebku",
    "https://www.jabungonline.com/2025/11/bi-checking-resmi-diganti-kini-mengecek.html",
)
SLIK_SITE = "idebku.ojk.go.id"
NIB_SITE = "oss.go.id"


@dataclass(frozen=True)
class Document:
    key: str
    label: str  # msgid
    note: str | None  # msgid: when it is needed
    source: str
    as_of: date


_DOCS_SOURCE = "https://rbtv.disway.id/amp/40465/syarat-dan-cara-pengajuan-kur-mandiri-2024-dapatkan-modal-usaha-tanpa-beban-bunga-yang-tinggi/16"
_DOCS_AS_OF = date(2024, 1, 1)

KTP = Document("ktp", N_("KTP-el (electronic ID card)"), None, _DOCS_SOURCE, _DOCS_AS_OF)
KK = Document("kk", N_("KK (family card)"), None, _DOCS_SOURCE, _DOCS_AS_OF)
MARRIAGE = Document(
    "marriage",
    N_("Marriage or divorce certificate"),
    N_("if you are married or divorced; if not, tick it as not needed"),
    _DOCS_SOURCE,
    _DOCS_AS_OF,
)
PERMIT = Document(
    "permit",
    N_("NIB or SKU"),
    N_("NIB free on oss.go.id; SKU from the village office"),
    _DOCS_SOURCE,
    _DOCS_AS_OF,
)
NPWP = Document(
    "npwp", N_("NPWP (tax number)"), N_("needed above Rp50 million"), _DOCS_SOURCE, _DOCS_AS_OF
)
BPJS_TK = Document(
    "bpjs_tk",
    N_("BPJS Ketenagakerjaan card"),
    N_("for KUR Kecil"),
    "https://rbtv.disway.id/amp/40465/syarat-dan-cara-pengajuan-kur-mandiri-2024-dapatkan-modal-usaha-tanpa-beban-bunga-yang-tinggi/16",
    _DOCS_AS_OF,
)
COLLATERAL = Document(
    "collateral",
    N_("Papers of the collateral (agunan tambahan)"),
    N_("for KUR Kecil"),
    "https://kur.jogjaprov.go.id/profile-kur",
    _DOCS_AS_OF,
)
DOCUMENTS = (KTP, KK, MARRIAGE, PERMIT, NPWP, BPJS_TK, COLLATERAL)


def documents_for(amount: int | None, scheme_key: str | None) -> tuple[Document, ...]:
    """The papers a KUR application needs for this amount: NPWP only above Rp50 juta,
    BPJS Ketenagakerjaan and collateral papers only for KUR Kecil."""
    docs = [KTP, KK, MARRIAGE, PERMIT]
    if amount is not None and amount > NPWP_ABOVE:
        docs.append(NPWP)
    if scheme_key == KECIL.key:
        docs += [BPJS_TK, COLLATERAL]
    return tuple(docs)


@dataclass(frozen=True)
class Bank:
    key: str
    name: str
    source: str
    as_of: date


_BIG_THREE = "https://koranbumn.com/hingga-15-september-2020-realisasi-penyaluran-kur-telah-capai-rp-10728-triliun"
_BCA_BTN = "https://babel.kupasonline.com/2024/08/12/cara-mudah-mengajukan-kur-di-bank-btn-syarat-ketentuan-dan-dokumen-yang-dibutuhkan/2"

BANKS = (
    Bank("bri", "BRI", _BIG_THREE, date(2020, 9, 15)),
    Bank("bni", "BNI", _BIG_THREE, date(2020, 9, 15)),
    Bank("mandiri", "Mandiri", _BIG_THREE, date(2020, 9, 15)),
    Bank("bca", "BCA", _BCA_BTN, date(2024, 8, 12)),
    Bank("btn", "BTN", _BCA_BTN, date(2024, 8, 12)),
)
BANKS_BY_KEY = {b.key: b for b in BANKS}
