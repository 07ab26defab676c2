"""The first conversation: language, then a short profile. Consent comes before it, in the bot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache, lru_cache

from flows import regions, validators
from flows.engine import END, Answers, Flow, Found, Kind, Option, Step
from flows.errors import Invalid
from flows.i18n import N_

LANGUAGES = (Option("id", "Bahasa Indonesia", literal=True), Option("en", "English", literal=True))

COUNTRIES = (
    Option("TW", N_("Taiwan")),
    Option("HK", N_("Hong Kong")),
    Option("MY", N_("Malaysia")),
    Option("SG", N_("Singapore")),
    Option("SA", N_("Saudi Arabia")),
    Option("JP", N_("Japan")),
    Option("KR", N_("South Korea")),
    Option("AE", N_("United Arab Emirates")),
    Option("BN", N_("Brunei")),
    Option("QA", N_("Qatar")),
    Option("KW", N_("Kuwait")),
    Option("OM", N_("Oman")),
)

YEARS = (
    Option("lt1", N_("Less than 1 year")),
    Option("1to3", N_("1 to 3 years")),
    Option("3to5", N_("More than 3, up to 5 years")),
    Option("5to10", N_("More than 5, up to 10 years")),
    Option("gt10", N_("More than 10 years")),
)  # the buckets of validators.years_abroad (YEAR_BUCKETS): none overlaps another

GOALS = (
    Option("coop", N_("Join or found a cooperative")),
    Option("kur", N_("Business capital (KUR loan)")),
    Option("training", N_("Training")),
)


@cache
def _province_options() -> tuple[Option, ...]:
    return tuple(Option(r.code, r.name, literal=True) for r in regions.provinces())


@lru_cache(maxsize=64)
def _regency_options(province_code: str) -> tuple[Option, ...]:
    return tuple(Option(r.code, r.name, literal=True) for r in regions.regencies(province_code))


def _provinces(_: Answers) -> Sequence[Option]:
    return _province_options()


def _regencies(answers: Answers) -> Sequence[Option]:
    return _regency_options(answers["province"])


def _found(named: list[regions.Region], near: list[regions.Region]) -> Found:
    return Found(exact=[r.code for r in named], near=[r.code for r in near])


def _find_province(text: str, _: Answers) -> Found:
    return _found(*regions.lookup(text, regions.provinces()))


def _find_regency(text: str, answers: Answers) -> Found:
    named, near = regions.lookup(text, regions.regencies(answers["province"]))
    if not named and not near:  # perhaps it is in another province: say which, not "not found"
        elsewhere = regions.search(text, _all_regencies())
        if elsewhere and regions.get(elsewhere[0].province_code or ""):
            raise Invalid(
                IN_OTHER_PROVINCE,
                place=elsewhere[0].name,
                province=regions.get(elsewhere[0].province_code or "").name,  # type: ignore[union-attr]
            )
    return _found(named, near)


IN_OTHER_PROVINCE = N_("{place} is in {province}. Press Back to choose that province.")


@cache
def _all_regencies() -> tuple[regions.Region, ...]:
    return tuple(r for p in regions.provinces() for r in regions.regencies(p.code))


def _country(raw: str, _: Answers) -> str:
    return validators.country(raw)


LANGUAGE = Step(
    "language",
    N_("Which language do you prefer?"),
    Kind.CHOICE,
    options=LANGUAGES,
    saves_to="locale",
    columns=2,
)
NAME = Step(
    "name",
    N_("What is your name?"),
    Kind.TEXT,
    validate=lambda raw, _: validators.person_name(raw),
    saves_to="name",
    hint=N_("Type the name you use every day, for example: Siti Aminah."),
)
PHONE = Step(
    "phone",
    N_("What is your phone number?"),
    Kind.PHONE,
    validate=lambda raw, _: validators.phone(raw),
    saves_to="phone",
    hint=N_(
        "Press “Share my number” below, or type it like 0812 3456 7890. "
        "Coordinators use it to contact you about your plans."
    ),
)
PROVINCE = Step(
    "province",
    N_("Which province is your home?"),
    Kind.CHOICE,
    options=_provinces,
    saves_to="province_code",
    searchable=True,
    finder=_find_province,
    page_size=10,
    columns=2,
    hint=N_("Choose below, or type its name to search, e.g. Jawa Timur."),
)
REGENCY = Step(
    "regency",
    N_("Which regency or city?"),
    Kind.CHOICE,
    options=_regencies,
    saves_to="regency_code",
    searchable=True,
    finder=_find_regency,
    page_size=10,
    columns=2,
    hint=N_("Choose below, or type its name to search, e.g. Malang."),
)
COUNTRY = Step(
    "country",
    N_("Which country did you work in (the last one)?"),
    Kind.CHOICE,
    options=COUNTRIES,
    validate=_country,
    saves_to="country",
    columns=2,
    hint=N_("Not in the list? Type the country's name."),
)
YEARS_ABROAD = Step(
    "years",
    N_("How long did you work abroad, in total?"),
    Kind.CHOICE,
    options=YEARS,
    validate=lambda raw, _: validators.years_abroad(raw),
    typed=Kind.NUMBER,
    saves_to="years_abroad",
    hint=N_("Choose below, or type a number of years."),
)
GOAL = Step(
    "goal",
    N_("What would you like to start with?"),
    Kind.CHOICE,
    options=GOALS,
    saves_to="goal",
    hint=N_("You can do the others later too."),
)

ONBOARDING = Flow(
    key="onboarding",
    title=N_("Your profile"),
    steps=(LANGUAGE, NAME, PHONE, PROVINCE, REGENCY, COUNTRY, YEARS_ABROAD, GOAL),
)

# Editing one part of the profile: pick the part, answer it, done (a new province asks the regency).
PROFILE_FIELDS = (
    Option("name", N_("Name")),
    Option("phone", N_("Phone number")),
    Option("province", N_("Home region")),
    Option("country", N_("Country worked in")),
    Option("years", N_("Years abroad")),
    Option("goal", N_("What I want first")),
    Option("language", N_("Language")),
)

PROFILE_EDIT = Flow(
    key="profile_edit",
    title=N_("Edit profile"),
    steps=(
        Step(
            "field",
            N_("What would you like to change?"),
            Kind.CHOICE,
            options=PROFILE_FIELDS,
            next=lambda a: a["field"],
            columns=2,
        ),
        *(replace(s, next=END) for s in (NAME, PHONE)),
        replace(PROVINCE, next="regency"),
        replace(REGENCY, next=END),
        *(replace(s, next=END) for s in (COUNTRY, YEARS_ABROAD, GOAL, LANGUAGE)),
    ),
)
