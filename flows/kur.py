"""The KUR loan journey as data: readiness check, instalment simulator, bank visit, outcome.

`assess(answers)` turns the readiness answers into what is ready, what is still to do and
which scheme fits; the bot words and formats them. Facts come from `flows.content.kur`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flows import clock, validators
from flows.content import kur as facts
from flows.engine import END, Answers, Flow, Kind, Money, Option, Step
from flows.errors import Invalid
from flows.i18n import N_

YES_NO = (Option("yes", N_("Yes")), Option("no", N_("No")))

# --- readiness check ---------------------------------------------------------------------

STATUS = (
    Option("running6", N_("Running 6 months or more")),
    Option("running_less", N_("Running less than 6 months")),
    Option("plan", N_("Only a plan so far")),
)
AGE = (
    Option("adult", N_("Yes, 21 or older")),
    Option("married", N_("Married, under 21")),
    Option("neither", N_("Neither")),
)
PERMITS = (
    Option("nib", N_("NIB")),
    Option("sku", N_("SKU from the village office")),
    Option("none", N_("Neither yet")),
)
HAD_KUR = (
    Option("never", N_("No, never")),
    Option("before", N_("Yes, I have had a KUR")),
)
CREDIT = (
    Option("none", N_("None")),
    Option("consumer_ok", N_("Only consumer credit, paid on time")),
    Option("business", N_("Yes, another business loan")),
    Option("late", N_("I have late payments")),
)
SLIK = (
    Option("ok", N_("Done, all current")),
    Option("problems", N_("Done, some problems")),
    Option("not_yet", N_("Not yet")),
)
CONFIRM = (Option("yes", N_("Show my result")),)

BUSINESS_TOO_LONG = 100


def _business(raw: str, _: Answers) -> str:
    return validators.text(raw, min_len=3, max_len=BUSINESS_TOO_LONG)


def _money(raw: str, _: Answers) -> int:
    return validators.money(raw)


def _after_amount(answers: Answers) -> str:
    return "npwp" if needs_npwp(answers) else "had_kur"


def _months() -> dict[str, object]:
    return {"months": facts.SIX_MONTHS}


def _age() -> dict[str, object]:
    return {"age": facts.MIN_AGE}


def _npwp_limit() -> dict[str, object]:
    return {"limit": Money(facts.NPWP_ABOVE)}


def _super_mikro() -> dict[str, object]:
    return {"ceiling": Money(facts.SUPER_MIKRO.max_amount)}


def needs_npwp(answers: Answers) -> bool:
    amount = answers.get("amount")
    return isinstance(amount, int) and amount > facts.NPWP_ABOVE


READINESS = Flow(
    key="kur_readiness",
    title=N_("KUR readiness check"),
    journey="kur",
    steps=(
        Step(
            "status",
            N_("How is your business now?"),
            Kind.CHOICE,
            options=STATUS,
            hint=N_("Banks usually ask that a business has run for at least {months} months."),
            hint_values=_months,
        ),
        Step(
            "business",
            N_("What is your business, in a few words?"),
            Kind.TEXT,
            validate=_business,
            hint=N_("For example: selling fried snacks, a small grocery shop, raising goats."),
        ),
        Step(
            "age",
            N_("Are you 21 or older, or married?"),
            Kind.CHOICE,
            options=AGE,
            hint=N_("KUR is for people aged at least {age}, or married."),
            hint_values=_age,
        ),
        Step(
            "ektp",
            N_("Do you have an e-KTP (electronic ID card)?"),
            Kind.CHOICE,
            options=YES_NO,
            columns=2,
        ),
        Step(
            "kk", N_("Do you have your KK (family card)?"), Kind.CHOICE, options=YES_NO, columns=2
        ),
        Step(
            "permit",
            N_("Does your business have an NIB or an SKU?"),
            Kind.CHOICE,
            options=PERMITS,
            hint=N_(
                "An NIB (Nomor Induk Berusaha) is your business ID number. It is free on "
                "oss.go.id or the OSS app, with your NIK, email and phone number; for a "
                "low-risk business it is issued in minutes. An SKU (Surat Keterangan Usaha) "
                "is a business letter from the village office."
            ),
        ),
        Step(
            "amount",
            N_("How much capital do you need?"),
            Kind.MONEY,
            validate=_money,
            next=_after_amount,
            hint=N_("Type the amount in rupiah, like 15 juta or 15000000."),
        ),
        Step(
            "npwp",
            N_("Do you have an NPWP (tax number)?"),
            Kind.CHOICE,
            options=YES_NO,
            columns=2,
            hint=N_("Banks ask for an NPWP (tax number) when the loan is above {limit}."),
            hint_values=_npwp_limit,
        ),
        Step(
            "had_kur",
            N_("Have you had a KUR before?"),
            Kind.CHOICE,
            options=HAD_KUR,
            hint=N_(
                "KUR Super Mikro (up to {ceiling}) is only for someone who has never had a KUR. "
                "A KUR paid off long ago counts too."
            ),
            hint_values=_super_mikro,
        ),
        Step(
            "credit",
            N_("Do you have other loans now?"),
            Kind.CHOICE,
            options=CREDIT,
            hint=N_(
                "KUR is not given next to another business loan. Consumer credit (a house, "
                "a motorbike, a credit card) is fine if it is paid on time."
            ),
        ),
        Step(
            "slik",
            N_("Have you checked your SLIK record?"),
            Kind.CHOICE,
            options=SLIK,
            hint=N_(
                "SLIK OJK (formerly “BI checking”) is the record of your loans that every bank "
                "looks at. You can check it yourself, free, at idebku.ojk.go.id."
            ),
        ),
        Step(
            "confirm",
            N_("That is all. Ready to see your result?"),
            Kind.CONFIRM,
            options=CONFIRM,
            recap=True,
            hint=N_(
                "Press Back to change an answer. Nothing is sent to a bank. The programme's "
                "staff in your region see your answers, to help you get ready."
            ),
        ),
    ),
)


@dataclass(frozen=True)
class Assessment:
    """What is ready and what is to do (codes the bot words), and the scheme that fits.

    `stops` are hard stops (under 21 and unmarried, no e-KTP, late payments): while one holds,
    there is no scheme and no bank to go to, only what to fix first."""

    ready: tuple[str, ...]
    todo: tuple[str, ...]
    scheme: facts.Scheme | None
    amount: int
    notes: tuple[str, ...] = field(default=())
    stops: tuple[str, ...] = field(default=())

    @property
    def stopped(self) -> bool:
        return bool(self.stops)


READY = {
    "running6": N_("Your business has run for {months} months or more."),
    "age": N_("You meet the age rule ({age} or older, or married)."),
    "ektp": N_("You have an e-KTP."),
    "kk": N_("You have a KK (family card)."),
    "nib": N_("You have an NIB."),
    "sku": N_("You have an SKU from the village office."),
    "npwp": N_("You have an NPWP."),
    "credit": N_("No other business loan."),
    "slik": N_("Your SLIK record is current."),
}

TODO = {
    "running_less": N_(
        "Banks usually need a business that has run for {months} months. Until then, keep "
        "simple records of what you sell and spend."
    ),
    "plan": N_(
        "You have only a plan: banks usually need a business that has run for {months} months. "
        "Start small and keep simple records of what you sell and spend."
    ),
    "kk": N_("Get your KK (family card): every KUR application needs it."),
    "permit": N_(
        "Get an NIB: free on oss.go.id or the OSS app, with your NIK, email and phone number; "
        "a low-risk NIB is issued in minutes. Or ask the village office for an SKU."
    ),
    "npwp": N_(
        "Your amount is above {limit}, so the bank will ask for an NPWP (tax number). Get one "
        "first, or ask for {limit} or less."
    ),
    "business_loan": N_(
        "KUR is not given next to another business loan. Finish paying that one first."
    ),
    "slik_problems": N_(
        "Your SLIK record shows problems. Settle them with the lender and ask them to update "
        "the record; the bank will check it."
    ),
    "slik_not_yet": N_(
        "Check your SLIK record yourself, free, at idebku.ojk.go.id (the OJK site asks for "
        "your KTP photo and a selfie there; never send them in a chat)."
    ),
}

# What to fix first, in this order, when a hard stop holds.
STOPS = {
    "age": N_(
        "KUR is for people aged at least {age}, or married. Until then, a bank cannot give you "
        "a KUR. Use the time well: start small, save, and keep simple records. This check will "
        "be here when you can apply."
    ),
    "ektp": N_(
        "Every KUR application needs your e-KTP (electronic ID card). Ask the Dukcapil office "
        "of your regency or city to make it first, then do this check again."
    ),
    "late": N_(
        "You have late payments. Banks see them in your SLIK record (your loan record at OJK) "
        "and usually stop a KUR there. First talk to the lender, pay what is late and keep the "
        "proof. Then check SLIK yourself, free, at idebku.ojk.go.id."
    ),
}

NOTES = {
    "try_super_mikro": N_(
        "Your business is new or still a plan: KUR Super Mikro (up to {ceiling}) is meant for "
        "small beginnings, and it is only for someone who has never had a KUR."
    ),
    "six_months_alternative": N_(
        "For KUR Super Mikro, mentoring, training or a business group can stand in for the "
        "{months} months."
    ),
    "six_months_ask": N_(
        "Ask the bank whether training or mentoring can count instead of the {months} months "
        "for KUR Super Mikro."
    ),
    "repeat_small": N_(
        "You have had a KUR before, so KUR Super Mikro is not for you. KUR Mikro starts above "
        "{ceiling}: ask the bank whether it can lend you less."
    ),
}


def assess(answers: Answers) -> Assessment:
    """The readiness check's result for these answers."""
    ready: list[str] = []
    todo: list[str] = []
    stops: list[str] = []
    status = answers.get("status")
    if status == "running6":
        ready.append("running6")
    elif status in ("running_less", "plan"):
        todo.append(status)
    if answers.get("age") in ("adult", "married"):
        ready.append("age")
    else:
        stops.append("age")
    if answers.get("ektp") == "yes":
        ready.append("ektp")
    else:
        stops.append("ektp")
    (ready if answers.get("kk") == "yes" else todo).append("kk")
    permit = answers.get("permit")
    if permit in ("nib", "sku"):
        ready.append(permit)
    else:
        todo.append("permit")
    if needs_npwp(answers):
        (ready if answers.get("npwp") == "yes" else todo).append("npwp")
    credit = answers.get("credit")
    if credit in ("none", "consumer_ok"):
        ready.append("credit")
    elif credit == "business":
        todo.append("business_loan")
    elif credit == "late":
        stops.append("late")
    slik = answers.get("slik")
    if slik == "ok":
        ready.append("slik")
    elif slik == "problems":
        todo.append("slik_problems")
    else:
        todo.append("slik_not_yet")
    amount = int(answers.get("amount") or 0)
    had_kur = answers.get("had_kur") == "before"
    if stops:
        return Assessment(tuple(ready), tuple(todo), None, amount, (), tuple(stops))
    scheme = facts.scheme_for(amount, had_kur=had_kur) if amount > 0 else None
    notes: list[str] = []
    new_business = status in ("running_less", "plan")
    if new_business and not had_kur:
        if scheme is not facts.SUPER_MIKRO:
            notes.append("try_super_mikro")
        alternative = facts.SUPER_MIKRO.six_months_alternative
        notes.append("six_months_alternative" if alternative else "six_months_ask")
    if had_kur and 0 < amount <= facts.SUPER_MIKRO.max_amount:
        notes.append("repeat_small")
    return Assessment(tuple(ready), tuple(todo), scheme, amount, tuple(notes))


# --- instalment simulator ----------------------------------------------------------------

TENORS = (
    Option("12", N_("12 months (1 year)")),
    Option("24", N_("24 months (2 years)")),
    Option("36", N_("36 months (3 years)")),
    Option("48", N_("48 months (4 years)")),
    Option("60", N_("60 months (5 years)")),
)
MAX_TENOR = 60
MAX_RATE = 30


def idr(amount: int) -> str:
    """Rupiah the Indonesian way for a button (a proper number, shown as is in both languages)."""
    return "Rp" + f"{amount:,}".replace(",", ".")


def max_tenor(scheme: facts.Scheme | None) -> int:
    """The longest tenor a scheme allows where the sources say so (KI, investment), else 60."""
    if scheme is None:
        return MAX_TENOR
    known = [m for m in (scheme.tenor_working_capital_months, scheme.tenor_investment_months) if m]
    return max(known) if known else MAX_TENOR


def simulated_amount(answers: Answers) -> int | None:
    value = answers.get("amount")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _scheme_of(answers: Answers) -> facts.Scheme | None:
    amount = simulated_amount(answers)
    return facts.scheme_for(amount) if amount else None


def _amount_options(answers: Answers) -> Sequence[Option]:
    known = answers.get("loan_amount")
    return (Option(str(known), idr(known), literal=True),) if isinstance(known, int) else ()


def _tenor_options(answers: Answers) -> Sequence[Option]:
    limit = max_tenor(_scheme_of(answers))
    return tuple(o for o in TENORS if int(o.value) <= limit)


def _tenor(raw: str, answers: Answers) -> int:
    return validators.months(raw, min_value=1, max_value=max_tenor(_scheme_of(answers)))


def _rate_options(answers: Answers) -> Sequence[Option]:
    scheme = _scheme_of(answers)
    if scheme is None or scheme.rate_pct is None:
        return ()
    return (Option(f"{scheme.rate_pct:g}", f"{scheme.rate_pct:g}%", literal=True),)


def _rate(raw: str, _: Answers) -> float:
    return validators.number(raw.replace("%", " "), min_value=0, max_value=MAX_RATE)


SIMULATOR = Flow(
    key="kur_simulator",
    title=N_("Instalment simulator"),
    journey="kur",
    steps=(
        Step(
            "amount",
            N_("How much would you borrow?"),
            Kind.CHOICE,
            options=_amount_options,
            validate=_money,
            typed=Kind.MONEY,
            hint=N_("Press the button, or type an amount like 25 juta."),
        ),
        Step(
            "tenor",
            N_("Over how many months would you pay it back?"),
            Kind.CHOICE,
            options=_tenor_options,
            validate=_tenor,
            typed=Kind.NUMBER,
            columns=2,
            hint=N_("Choose below, or type a number of months."),
        ),
        Step(
            "rate",
            N_("What interest rate a year?"),
            Kind.CHOICE,
            options=_rate_options,
            validate=_rate,
            typed=Kind.NUMBER,
            hint=N_(
                "The button shows the rate of the scheme for this amount. Or type another "
                "number from 0 to 30, like 6. If no button shows, the rate is not confirmed: "
                "ask the bank."
            ),
        ),
    ),
)


def simulation(answers: Answers) -> tuple[int, int, float, int, int]:
    """(amount, months, rate, monthly instalment, total paid) of a finished simulator run."""
    amount = simulated_amount(answers) or 0
    months = int(answers["tenor"])
    rate = float(answers["rate"])
    monthly = facts.monthly_instalment(amount, rate, months)
    return amount, months, rate, monthly, monthly * months


# --- bank and appointment ----------------------------------------------------------------


def _names(banks: Sequence[facts.Bank]) -> str:
    return ", ".join(b.name for b in banks) or "-"


def _lender_names() -> dict[str, object]:
    regional = [b for b in facts.LENDERS if b.kind == "regional_bank"]
    return {
        "lenders": _names(facts.BANKS),
        "sharia": _names([b for b in facts.BANKS if b.kind == "sharia_bank"]),
        "regional": _names(regional),
    }


def _bank_options(_: Answers) -> Sequence[Option]:
    """The 2026 lenders of business KUR in flows/content/kur.toml, read when shown."""
    return (
        *(Option(b.key, b.name, literal=True) for b in facts.BANKS),
        Option("other", N_("Another bank")),
    )


TIMES = tuple(Option(f"{h:02d}00", f"{h:02d}.00", literal=True) for h in (8, 9, 10, 11, 13, 14))
TIME_PASSED = N_("That time has already passed today. Please choose a later time.")


def _zone(answers: Answers) -> ZoneInfo:
    return ZoneInfo(str(answers.get("tz") or "Asia/Jakarta"))


def _today(answers: Answers) -> date:
    return clock.today(_zone(answers))


VISIT_WITHIN_MONTHS = 6  # a bank visit is planned for the coming weeks, not years ahead


def _date(raw: str, answers: Answers) -> str:
    today = _today(answers)
    return validators.future_date(raw, today=today, months=VISIT_WITHIN_MONTHS).isoformat()


def _is_past(answers: Answers, hhmm: str) -> bool:
    when = appointment_local(str(answers.get("date")), hhmm, _zone(answers))
    return when is not None and when < clock.now()


def appointment_local(day: str, hhmm: str, zone: ZoneInfo) -> datetime | None:
    """The appointment as an aware datetime in the person's zone."""
    return clock.at(day, hhmm, zone)


def _time_options(answers: Answers) -> Sequence[Option]:
    return tuple(o for o in TIMES if not _is_past(answers, o.value))


def _time(raw: str, answers: Answers) -> str:
    value = validators.time_of_day(raw)
    if _is_past(answers, value):
        raise Invalid(TIME_PASSED)
    return value


def _bank_name(raw: str, _: Answers) -> str:
    return validators.text(raw, min_len=2, max_len=30)


def _branch(raw: str, _: Answers) -> str:
    return validators.text(raw, min_len=2, max_len=120)


BANK = Flow(
    key="kur_bank",
    title=N_("Bank and appointment"),
    journey="kur",
    steps=(
        Step(
            "bank",
            N_("Which bank will you go to?"),
            Kind.CHOICE,
            options=_bank_options,
            validate=_bank_name,
            next=lambda a: "bank_other" if a.get("bank") == "other" else "branch",
            columns=3,
            hint=N_(
                "News pages name these lenders of KUR in 2026: {lenders} (sharia: {sharia}). "
                "Regional banks (BPD) such as {regional}: ask the branch if it offers KUR. "
                "Press “Another bank” or type its name."
            ),
            hint_values=_lender_names,
        ),
        Step(
            "bank_other",
            N_("What is the name of the bank?"),
            Kind.TEXT,
            validate=_bank_name,
        ),
        Step(
            "branch",
            N_("Which branch (kantor cabang or unit)?"),
            Kind.TEXT,
            validate=_branch,
            hint=N_("For example: BRI Unit Wonokromo."),
        ),
        Step(
            "date",
            N_("On which day will you go?"),
            Kind.DATE,
            validate=_date,
            hint=N_("Type a day within the next 6 months: besok, lusa, or DD/MM/YYYY."),
        ),
        Step(
            "time",
            N_("At what time?"),
            Kind.CHOICE,
            options=_time_options,
            validate=_time,
            typed=Kind.TIME,
            columns=3,
            hint=N_("Choose below, or type a time like 09.30."),
        ),
    ),
)


def bank_name(answers: Answers) -> str:
    """The bank chosen: a listed one, the one typed after "Another bank", or one typed in place
    of a button (an older "Another bank" answer kept from before Back does not count then)."""
    key = str(answers.get("bank") or "")
    if key == "other":
        return str(answers.get("bank_other") or key)
    if key in facts.BANKS_BY_KEY:
        return facts.BANKS_BY_KEY[key].name
    return key


# --- outcome: rejected, paid out ---------------------------------------------------------

REASONS = (
    Option("slik", N_("A problem in my SLIK record")),
    Option("documents", N_("Documents incomplete")),
    Option("too_new", N_("Business too new")),
    Option("other", N_("Another reason")),
)


def _reason(raw: str, _: Answers) -> str:
    return validators.text(raw, min_len=2, max_len=300)


REJECTED = Flow(
    key="kur_rejected",
    title=N_("The bank said no"),
    journey="kur",
    steps=(
        Step(
            "reason",
            N_("What reason did the bank give?"),
            Kind.CHOICE,
            options=REASONS,
            next=lambda a: "reason_other" if a.get("reason") == "other" else END,
        ),
        Step(
            "reason_other",
            N_("Please type the reason in a few words."),
            Kind.TEXT,
            validate=_reason,
        ),
    ),
)

SKIP = "skip"


def _disbursed(raw: str, _: Answers) -> int:
    return validators.money(raw)


DISBURSED = Flow(
    key="kur_disbursed",
    title=N_("Money paid out"),
    journey="kur",
    steps=(
        Step(
            "amount",
            N_("How much was paid out to you?"),
            Kind.CHOICE,
            options=(Option(SKIP, N_("I would rather not say")),),
            validate=_disbursed,
            typed=Kind.MONEY,
            hint=N_("Type the amount, like 25 juta. It is only for you to see."),
        ),
    ),
)


def reason_code(answers: Answers) -> str:
    reason = str(answers.get("reason") or "other")
    if reason == "other":
        return "other: " + str(answers.get("reason_other") or "")
    return reason


FLOWS: tuple[Flow, ...] = (READINESS, SIMULATOR, BANK, REJECTED, DISBURSED)
