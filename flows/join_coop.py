"""Finding a cooperative and asking to join it.

`coop_search` asks where (near home, or another province and regency) and what type; the bot
shows the matching cooperatives when it is done. `join_request` asks only what is missing to
ask to join one: the commitment to the savings and the AD/ART, the NIK if none is saved, and a
last confirmation. Answers known beforehand: `home` (the person's regency code) for the search;
`cooperative_id` and `has_nik` for the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from flows import validators
from flows.engine import END, Answers, Flow, Kind, Option, Step
from flows.i18n import N_
from flows.onboarding import PROVINCE, REGENCY, _regencies

# The cooperative types of UU 25/1992 practice (the values of storage.models.CoopKind).
KINDS = (
    Option("simpan_pinjam", N_("Savings and loans (simpan pinjam)")),
    Option("konsumen", N_("Consumer (konsumen)")),
    Option("produsen", N_("Producer (produsen)")),
    Option("pemasaran", N_("Marketing (pemasaran)")),
    Option("jasa", N_("Services (jasa)")),
)
KIND_VALUES = frozenset(o.value for o in KINDS)

# Search filters: any type, one type, or the two groups people ask for by name.
ANY, MERAH_PUTIH, MIGRANT, ALL_OF_PROVINCE = "any", "merah_putih", "migrant", "all"
FILTERS = (
    Option(ANY, N_("Any type")),
    Option(MERAH_PUTIH, N_("🇮🇩 Koperasi Desa/Kelurahan Merah Putih")),
    Option(MIGRANT, N_("✈️ For migrant workers and their families")),
    *KINDS,
)
FILTER_VALUES = frozenset(o.value for o in FILTERS)

HOME, OTHER = "home", "other"


def _where(answers: Answers) -> Sequence[Option]:
    other = Option(OTHER, N_("Another region"))
    if answers.get("home"):
        return (Option(HOME, N_("Near my home")), other)
    return (other,)


@lru_cache(maxsize=64)
def _with_whole_province(regencies: tuple[Option, ...]) -> tuple[Option, ...]:
    return (Option(ALL_OF_PROVINCE, N_("The whole province")), *regencies)


def _regencies_or_all(answers: Answers) -> Sequence[Option]:
    return _with_whole_province(tuple(_regencies(answers)))


SEARCH = Flow(
    key="coop_search",
    title=N_("Find a cooperative"),
    journey="coop",
    steps=(
        Step(
            "where",
            N_("Where should I look for a cooperative?"),
            Kind.CHOICE,
            options=_where,
            next=lambda a: "kind" if a.get("where") == HOME else "province",
            hint=N_("“Near my home” searches the regency or city in your profile."),
        ),
        replace(PROVINCE, prompt=N_("Which province?"), saves_to=None),
        replace(
            REGENCY,
            prompt=N_("Which regency or city?"),
            options=_regencies_or_all,
            saves_to=None,
            hint=N_(
                "Choose below, or type its name to search. You can also search the whole province."
            ),
        ),
        Step(
            "kind",
            N_("What type of cooperative?"),
            Kind.CHOICE,
            options=FILTERS,
            next=END,
            hint=N_(
                "Koperasi Desa/Kelurahan Merah Putih are the new village cooperatives (Inpres "
                "9/2025). Some cooperatives are run by and for returning migrant workers."
            ),
        ),
    ),
)


def search_place(answers: Answers) -> tuple[str, str]:
    """("regency" or "province", code) that a finished search looks in."""
    if answers.get("where") == HOME and answers.get("home"):
        return "regency", str(answers["home"])
    if answers.get("regency") and answers["regency"] != ALL_OF_PROVINCE:
        return "regency", str(answers["regency"])
    return "province", str(answers.get("province") or "")


# --- Asking to join ---------------------------------------------------------------------------

YES, NOT_YET = "yes", "no"
COMMIT_OPTIONS = (
    Option(YES, N_("Yes, I can pay them and I agree")),
    Option(NOT_YET, N_("Not yet")),
)


def _after_commit(answers: Answers) -> str:
    if answers.get("commit") == NOT_YET:
        return END
    return "confirm" if answers.get("has_nik") else "nik"


def _nik(raw: str, _: Answers) -> str:
    return validators.nik(raw)


JOIN = Flow(
    key="join_request",
    title=N_("Ask to join a cooperative"),
    journey="coop",
    steps=(
        Step(
            "commit",
            N_(
                "Can you pay the simpanan pokok and simpanan wajib, and do you agree to follow "
                "the cooperative's AD/ART?"
            ),
            Kind.CHOICE,
            options=COMMIT_OPTIONS,
            next=_after_commit,
            hint=N_(
                "Simpanan pokok is paid once, when you join. Simpanan wajib is paid regularly, "
                "for example every month. Neither can be withdrawn while you are a member. "
                "The AD/ART (Anggaran Dasar and Anggaran Rumah Tangga) are the cooperative's "
                "rules; every member agrees to follow them. Nothing is paid through this bot."
            ),
        ),
        Step(
            "nik",
            N_("What is your NIK (the 16-digit number on your KTP)?"),
            Kind.TEXT,
            validate=_nik,
            mask=validators.mask_nik,
            next="confirm",
            hint=N_(
                "The cooperative's pengurus (board) need it to check that you may become a "
                "member. It is kept safe, shown only masked, and passed only to the people who "
                "handle your request. Please type the number; do not send a photo of your KTP."
            ),
        ),
        Step(
            "confirm",
            N_("Send your request to join now?"),
            Kind.CONFIRM,
            options=(Option(YES, N_("Yes, send it")), Option(NOT_YET, N_("No, not now"))),
            next=END,
            recap=True,
            hint=N_(
                "We pass your name, phone number, home region and NIK to the cooperative's "
                "pengurus, who check them and decide."
            ),
        ),
    ),
)

FLOWS: tuple[Flow, ...] = (SEARCH, JOIN)
