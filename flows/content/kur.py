"""KUR (Kredit Usaha Rakyat) facts, read from `kur.toml` in this folder.

Every figure there has its source, whether that source is official, and an "as of" date; a
figure marked `unconfirmed` is not stated (the bot says "ask the bank" instead). Changing a fact
is editing kur.toml (see README.md here): this module only reads it and offers the figures to
the flows and the bot under stable names. The words around the figures (a scheme's purpose, a
document's name) are msgids here, so they are translated like every other text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import model_validator

from flows.content import facts as schema
from flows.content.facts import Fact, Strict
from flows.i18n import N_

# --- the file's schema -------------------------------------------------------------------------


class Amount(Fact):
    amount: int


class Named(Fact):
    name: str


class Site(Fact):
    site: str


class Flag(Fact):
    value: bool


class Age(Fact):
    years: int
    or_married: bool


class Months(Fact):
    months: int


class Rate(Fact):
    percent: float | None = None

    @model_validator(mode="after")
    def _figure(self) -> Rate:
        if self.unconfirmed is None and self.percent is None:
            raise ValueError("percent is needed (or mark the rate unconfirmed)")
        return self


class Ceiling(Fact):
    above: int = 0
    up_to: int

    @model_validator(mode="after")
    def _order(self) -> Ceiling:
        if not 0 <= self.above < self.up_to:
            raise ValueError("above must be at least 0 and less than up_to")
        return self


class Tenor(Fact):
    working_capital_months: int | None = None
    investment_months: int | None = None


class Collateral(Fact):
    needed: bool


class SchemeEntry(Strict):
    key: str
    name: str
    for_business_at_home: bool
    purpose: Fact | None = None
    ceiling: Ceiling
    rate: Rate
    tenor: Tenor
    collateral: Collateral
    first_kur_only: Flag | None = None
    six_months_alternative: Flag | None = None


class Rules(Strict):
    guideline: Named
    one_rate: Rate
    npwp_above: Amount
    no_collateral_up_to: Amount
    age: Age
    business_months: Months
    spouse_signs: Flag
    placement_registration: Site
    placement_ministry: Named


class DocumentEntry(Fact):
    key: str
    only_above_npwp_limit: bool = False
    only_for_schemes: list[str] = []


class LenderEntry(Fact):
    key: str
    name: str
    kind: Literal["bank", "sharia_bank", "regional_bank", "non_bank"]
    schemes: list[str]


REQUIRED_SCHEMES = ("super_mikro", "mikro", "kecil", "penempatan_pmi")


class KurContent(Strict):
    rules: Rules
    schemes: list[SchemeEntry]
    documents: list[DocumentEntry]
    lenders: list[LenderEntry]

    @model_validator(mode="after")
    def _consistent(self) -> KurContent:
        keys = [s.key for s in self.schemes]
        missing = [k for k in REQUIRED_SCHEMES if k not in keys]
        if missing:
            raise ValueError(f"schemes must include {', '.join(missing)} (the bot relies on them)")
        for name, seen in (
            ("scheme", keys),
            ("document", [d.key for d in self.documents]),
            ("lender", [b.key for b in self.lenders]),
        ):
            doubled = sorted({k for k in seen if seen.count(k) > 1})
            if doubled:
                raise ValueError(f"{name} key used twice: {', '.join(doubled)}")
        unknown_docs = [d.key for d in self.documents if d.key not in DOCUMENT_WORDS]
        if unknown_docs:
            raise ValueError(
                f"unknown document key {', '.join(unknown_docs)}: a new document needs its "
                "name in flows/content/kur.py (DOCUMENT_WORDS) first"
            )
        for entry in [*self.documents, *self.lenders]:
            wrong = [k for k in getattr(entry, "only_for_schemes", getattr(entry, "schemes", []))
                     if k not in keys]  # fmt: skip
            if wrong:
                raise ValueError(f"{entry.key}: unknown scheme {', '.join(wrong)}")
        return self


# Words the bot says around the figures (msgids), by key.
PURPOSES = {
    "super_mikro": N_("Small capital for a new or tiny business."),
    "mikro": N_("Capital for a running business."),
    "kecil": N_("Larger capital for a growing business."),
    "penempatan_pmi": N_(
        "Pays the costs of leaving to work abroad (again). It is not for a business at home."
    ),
}
DOCUMENT_WORDS: dict[str, tuple[str, str | None]] = {
    "ktp": (N_("KTP-el (electronic ID card)"), None),
    "kk": (N_("KK (family card)"), None),
    "spouse_ktp": (
        N_("Your spouse's e-KTP"),
        N_("if you are married: your spouse signs the loan contract too"),
    ),
    "marriage": (
        N_("Marriage or divorce certificate"),
        N_("if you are married or divorced; if not, tick it as not needed"),
    ),
    "permit": (N_("NIB or SKU"), N_("NIB free on oss.go.id; SKU from the village office")),
    "npwp": (N_("NPWP (tax number)"), N_("needed above {limit}")),
    "bpjs_tk": (N_("BPJS Ketenagakerjaan card"), N_("for KUR Kecil")),
    "collateral": (N_("Papers of the collateral (agunan tambahan)"), N_("for KUR Kecil")),
}

PATH_STEM = "kur"
_load = schema.loader(PATH_STEM, KurContent, cautioned=True)


# --- what the flows and the bot use ------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Scheme:
    """A scheme's figures as the bot states them: None where the file marks one unconfirmed."""

    key: str
    name: str
    purpose: str | None  # msgid
    min_amount: int  # exclusive lower bound
    max_amount: int  # inclusive
    rate_pct: float | None
    tenor_working_capital_months: int | None
    tenor_investment_months: int | None
    needs_collateral: bool | None
    for_business_at_home: bool
    first_kur_only: bool
    six_months_alternative: bool
    entry: SchemeEntry

    @property
    def facts(self) -> tuple[Fact, ...]:
        """Every fact of the scheme the bot states (for its source line)."""
        e = self.entry
        found = [e.purpose, e.ceiling, e.rate, e.tenor, e.collateral, e.first_kur_only]
        return tuple(f for f in found if f is not None and f.confirmed)


@dataclass(frozen=True, eq=False)
class Document:
    key: str
    label: str  # msgid
    note: str | None  # msgid (may hold {limit})
    fact: DocumentEntry

    @property
    def source(self) -> str:
        return self.fact.source

    @property
    def as_of(self) -> date:
        return self.fact.as_of


@dataclass(frozen=True, eq=False)
class Bank:
    key: str
    name: str
    kind: str
    fact: LenderEntry

    @property
    def source(self) -> str:
        return self.fact.source

    @property
    def as_of(self) -> date:
        return self.fact.as_of


def _scheme(e: SchemeEntry) -> Scheme:
    def stated(fact: Fact | None) -> bool:
        return fact is not None and fact.confirmed

    return Scheme(
        key=e.key,
        name=e.name,
        purpose=PURPOSES.get(e.key),
        min_amount=e.ceiling.above,
        max_amount=e.ceiling.up_to,
        rate_pct=e.rate.percent if stated(e.rate) else None,
        tenor_working_capital_months=e.tenor.working_capital_months if stated(e.tenor) else None,
        tenor_investment_months=e.tenor.investment_months if stated(e.tenor) else None,
        needs_collateral=e.collateral.needed if stated(e.collateral) else None,
        for_business_at_home=e.for_business_at_home,
        first_kur_only=bool(
            e.first_kur_only and stated(e.first_kur_only) and e.first_kur_only.value
        ),  # fmt: skip
        six_months_alternative=bool(
            e.six_months_alternative
            and stated(e.six_months_alternative)
            and e.six_months_alternative.value
        ),  # fmt: skip
        entry=e,
    )


# Module names the code reads; set by reload() from kur.toml.
CONTENT: KurContent
RULES: Rules
SCHEMES: tuple[Scheme, ...]
BUSINESS_SCHEMES: tuple[Scheme, ...]
SUPER_MIKRO: Scheme
MIKRO: Scheme
KECIL: Scheme
PENEMPATAN_PMI: Scheme
NPWP_ABOVE: int
SIX_MONTHS: int
MIN_AGE: int
DOCUMENTS: tuple[Document, ...]
DOCUMENTS_BY_KEY: dict[str, Document]
LENDERS: tuple[Bank, ...]
BANKS: tuple[Bank, ...]  # confirmed 2026 lenders of business KUR: the bank step's buttons
BANKS_BY_KEY: dict[str, Bank]


def reload() -> KurContent:
    """Read kur.toml (from facts.CONTENT_DIR) again and set this module's names from it."""
    global CONTENT, RULES, SCHEMES, BUSINESS_SCHEMES, SUPER_MIKRO, MIKRO, KECIL, PENEMPATAN_PMI
    global NPWP_ABOVE, SIX_MONTHS, MIN_AGE, DOCUMENTS, DOCUMENTS_BY_KEY, LENDERS, BANKS
    global BANKS_BY_KEY
    content = _load()
    schemes = tuple(_scheme(e) for e in content.schemes)
    by_key = {s.key: s for s in schemes}
    docs = tuple(Document(d.key, *DOCUMENT_WORDS[d.key], fact=d) for d in content.documents)
    lenders = tuple(Bank(b.key, b.name, b.kind, b) for b in content.lenders)
    business = {s.key for s in schemes if s.for_business_at_home}
    CONTENT, RULES, SCHEMES = content, content.rules, schemes
    BUSINESS_SCHEMES = tuple(s for s in schemes if s.for_business_at_home)
    SUPER_MIKRO, MIKRO = by_key["super_mikro"], by_key["mikro"]
    KECIL, PENEMPATAN_PMI = by_key["kecil"], by_key["penempatan_pmi"]
    NPWP_ABOVE = content.rules.npwp_above.amount
    SIX_MONTHS = content.rules.business_months.months
    MIN_AGE = content.rules.age.years
    DOCUMENTS, DOCUMENTS_BY_KEY = docs, {d.key: d for d in docs}
    LENDERS = lenders
    BANKS = tuple(b for b in lenders if b.fact.confirmed and business & set(b.fact.schemes))
    BANKS_BY_KEY = {b.key: b for b in lenders}
    return content


reload()


def scheme_for(amount: int, *, had_kur: bool = False) -> Scheme | None:
    """The business scheme whose ceiling fits an amount; None above every ceiling. Someone who
    has had a KUR before is never offered a first-KUR-only scheme: the next one up instead."""
    for scheme in BUSINESS_SCHEMES:
        if scheme.min_amount < amount <= scheme.max_amount:
            if had_kur and scheme.first_kur_only:
                return next(
                    (s for s in BUSINESS_SCHEMES
                     if not s.first_kur_only and s.min_amount >= scheme.max_amount),
                    None,
                )  # fmt: skip
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


SLIK_SITE = "idebku.ojk.go.id"
NIB_SITE = "oss.go.id"


def documents_for(amount: int | None, scheme_key: str | None) -> tuple[Document, ...]:
    """The papers a KUR application needs: those for everyone, the NPWP only above its limit,
    and those of one scheme (BPJS Ketenagakerjaan and collateral papers for KUR Kecil)."""
    out: list[Document] = []
    for doc in DOCUMENTS:
        f = doc.fact
        if f.only_above_npwp_limit and not (amount is not None and amount > NPWP_ABOVE):
            continue
        if f.only_for_schemes and scheme_key not in f.only_for_schemes:
            continue
        out.append(doc)
    return tuple(out)


def lenders_for(scheme_keys: Sequence[str]) -> tuple[Bank, ...]:
    """The lenders of any of these schemes, confirmed or not (the bot words the difference)."""
    return tuple(b for b in LENDERS if set(b.fact.schemes) & set(scheme_keys))
