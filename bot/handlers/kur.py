"""KUR loan steps: readiness, recommendation, simulator, documents, bank, outcome."""

from __future__ import annotations

import html
from datetime import UTC, date
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

import operations.kur
from bot import driver, journeys, protection, reminders
from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers.common import needs_profile, pressed_message, turn_for
from bot.outbox import Outbox
from bot.text import current_locale, day, moment, number, pack, rupiah, rupiah_text, t
from flows import clock, regions
from flows import kur as flow
from flows import reminders as rules
from flows.content import kur as facts
from flows.content.facts import Fact
from flows.i18n import N_
from storage import loans, repo, submissions
from storage import reminders as reminder_rows
from storage.models import (
    FlowRun,
    Loan,
    LoanStage,
    Person,
    RunStatus,
    SubmissionKind,
    SubmissionStatus,
)


class LoanCB(CallbackData, prefix="k"):
    """A KUR button. `loan` is checked against the presser; `on` is the wanted document state,
    so a double tap of the same button does the same thing twice, not undo it."""

    act: str  # page | new | sim | docs | doc | bank | out | stage | reject
    loan: kb.RowId = 0
    v: str = ""
    on: kb.Small = 0


STAGES = {
    LoanStage.PREPARING: N_("Preparing documents"),
    LoanStage.APPOINTMENT: N_("Bank visit planned"),
    LoanStage.SURVEY: N_("Survey done (the bank visited)"),
    LoanStage.AKAD: N_("Akad: contract signed"),
    LoanStage.CAIR: N_("Cair: money paid out"),
    LoanStage.REJECTED: N_("The bank said no"),
    LoanStage.WITHDRAWN: N_("Withdrawn"),
}
EVENTS = {
    LoanStage.SURVEY: N_("🏠 The bank visited (survey)"),
    LoanStage.AKAD: N_("✍️ Contract signed (akad)"),
    LoanStage.CAIR: N_("💵 Money paid out (cair)"),
    LoanStage.REJECTED: N_("❌ The bank said no"),
}
NEXT = {
    LoanStage.PREPARING: N_("Tick your documents, then choose a bank and a day to go."),
    LoanStage.APPOINTMENT: N_("Go to the bank on the day you chose, then record what happened."),
    LoanStage.SURVEY: N_("Wait for the bank's answer; record the akad when you sign."),
    LoanStage.AKAD: N_("Record when the money is paid out."),
    LoanStage.CAIR: N_("Pay each instalment on time."),
    LoanStage.REJECTED: N_("See the next steps, and start a new check when you are ready."),
    LoanStage.WITHDRAWN: N_("Start a new check when you are ready."),
}
# The team's review of the loan's readiness check (operations/kur.py: what a decision does).
CHECK = {
    SubmissionStatus.SUBMITTED: N_("readiness check waiting for the team's review"),
    SubmissionStatus.APPROVED: N_("readiness check seen by the team (not a loan approval)"),
    SubmissionStatus.RETURNED: N_("readiness check sent back to you for a correction"),
    SubmissionStatus.REJECTED: N_("readiness check: the team found you not ready yet"),
}
REASONS = {o.value: o.label for o in flow.REASONS}
NOT_YOURS = N_("That button is not for you, or it is out of date. Nothing was changed.")


def tz_of(person: Person) -> str:
    return regions.zone_of(person.province_code)


def today_for(person: Person) -> date:
    return clock.today(ZoneInfo(tz_of(person)))


def _sources(urls: list[str]) -> str:
    """Each source as a short link: its site's name, pointing at the page; another page of
    the same site follows it as (2), (3)..."""
    by_site: dict[str, list[str]] = {}
    for url in urls:
        by_site.setdefault(urlsplit(url).netloc.removeprefix("www."), []).append(url)
    links = []
    for site, pages in by_site.items():
        names = [site] + [f"({n})" for n in range(2, len(pages) + 1)]
        links.append(" ".join(f'<a href="{html.escape(url, quote=True)}">{html.escape(name)}</a>'
                              for url, name in zip(pages, names, strict=True)))  # fmt: skip
    return ", ".join(links)


def cite(stated: list[Fact] | tuple[Fact, ...]) -> str:
    """Where the facts said come from and since when (the oldest date, in the person's
    language). An unofficial source is named as news and followed by "check with the bank":
    the caution `juragan content check` relies on for kur.toml (registered cautioned)."""
    shown = [f for f in stated if f.confirmed]
    if not shown:
        return ""
    urls = list(dict.fromkeys(f.source for f in shown))
    when = day(min(f.as_of for f in shown))
    if all(f.official for f in shown):
        text = t("Source: {source}, as of {date}. Check with the bank.",
                 source=_sources(urls), date=when)  # fmt: skip
    else:
        text = t(
            "Source: {source} (news, not an official site), as of {date}. Make sure with the bank.",
            source=_sources(urls),
            date=when,
        )
    return "<i>" + text + "</i>"


def _figures() -> dict[str, str | int]:
    """The figures the readiness texts may name, formatted for the person."""
    return {
        "months": facts.SIX_MONTHS,
        "age": facts.MIN_AGE,
        "limit": rupiah_text(facts.NPWP_ABOVE),
        "ceiling": rupiah_text(facts.SUPER_MIKRO.max_amount),
    }


# --- the loan page -----------------------------------------------------------------------


def _docs_count(loan: Loan) -> tuple[int, int]:
    docs = facts.documents_for(loan.amount, loan.scheme)
    ready = sum(1 for d in docs if d.key in (loan.documents or {}))
    return ready, len(docs)


def _scheme_name(loan: Loan) -> str:
    for scheme in facts.SCHEMES:
        if scheme.key == loan.scheme:
            return scheme.name
    return _("No KUR scheme fits this amount")


def page_text(turn: Turn, loan: Loan) -> str:
    stage = LoanStage(loan.stage)
    lines = ["💰 <b>" + _("Your KUR loan") + "</b>"]
    lines.append(t("Scheme: {scheme}", scheme=_scheme_name(loan)))
    if loan.amount:
        lines.append(t("Amount: {amount}", amount=rupiah(loan.amount)))
    if loan.tenor_months:
        lines.append(t("Tenor: {months} months", months=loan.tenor_months))
    ready, total = _docs_count(loan)
    lines.append(t("Documents: {n} of {m} ready", n=ready, m=total))
    if loan.bank:
        where = html.escape(loan.bank) + (", " + html.escape(loan.branch) if loan.branch else "")
        when = moment(loan.appointment_at, tz_of(turn.person)) if loan.appointment_at else ""
        lines.append(t("Bank: {where}", where=where) + (f" · {when}" if when else ""))
    lines.append(t("Stage: {stage}", stage="<b>" + t(STAGES[stage]) + "</b>"))
    for key in (*loans.ORDER, LoanStage.REJECTED):
        when = (loan.stage_dates or {}).get(key.value)
        if when:
            lines.append(f"  • {t(STAGES[key])}: {day(date.fromisoformat(when))}")
    if stage == LoanStage.REJECTED:
        if loan.rejection_reason:
            lines.append(t("Reason: {reason}", reason=html.escape(_reason(loan))))
        lines.append("")
        lines.append(next_steps_after_no())
    elif stage in NEXT:
        lines.append(t("Next: {step}", step=t(NEXT[stage])))
    return "\n".join(lines)


def _reason(loan: Loan) -> str:
    reason = loan.rejection_reason or ""
    if reason in REASONS:
        return t(REASONS[reason])
    return reason.removeprefix("other: ")


def next_steps_after_no() -> str:
    return _(
        "<b>What you can do next</b>\n"
        "• Check your SLIK record, free, at idebku.ojk.go.id, and settle any problem with the "
        "lender.\n"
        "• Complete your documents (an NIB is free on oss.go.id).\n"
        "• Ask about a smaller amount, or try another bank.\n"
        "When you are ready, start a new check."
    )


def page_markup(loan: Loan) -> InlineKeyboardMarkup:
    buttons: list[tuple[str, CallbackData]] = [
        ("🧮 " + _("Instalment simulator"), LoanCB(act="sim", loan=loan.id)),
        ("📋 " + _("Documents"), LoanCB(act="docs", loan=loan.id)),
    ]
    if loan.stage in loans.IN_PROGRESS:
        buttons.append(("🏦 " + _("Bank and appointment"), LoanCB(act="bank", loan=loan.id)))
        buttons.append(("📝 " + _("Record what happened"), LoanCB(act="out", loan=loan.id)))
    buttons.append(("🔄 " + _("Start a new check"), LoanCB(act="new")))
    buttons.append(("🏠 " + _("Main menu"), kb.MenuCB(item="menu")))
    return kb.buttons_column(buttons)


def show_page(turn: Turn, loan: Loan) -> None:
    turn.say(page_text(turn, loan), page_markup(loan))


# --- documents ---------------------------------------------------------------------------


def checklist(loan: Loan) -> tuple[str, InlineKeyboardMarkup]:
    docs = facts.documents_for(loan.amount, loan.scheme)
    have = loan.documents or {}
    ready, total = _docs_count(loan)
    lines = [
        "📋 <b>" + _("Documents for your KUR application") + "</b>",
        t("{n} of {m} ready", n=ready, m=total),
        "",
    ]
    buttons: list[tuple[str, CallbackData]] = []
    for doc in docs:
        name = t(doc.label)
        note = f" ({t(doc.note, limit=rupiah_text(facts.NPWP_ABOVE))})" if doc.note else ""
        if doc.key in have:
            ticked = day(date.fromisoformat(have[doc.key]))
            lines.append("✅ " + name + note + " – " + t("ready since {date}", date=ticked))
            buttons.append(("✅ " + name, LoanCB(act="doc", loan=loan.id, v=doc.key, on=0)))
        else:
            lines.append("⬜ " + name + note)
            buttons.append(("⬜ " + name, LoanCB(act="doc", loan=loan.id, v=doc.key, on=1)))
    lines.append("")
    lines.append(
        _(
            "Tick each paper when you have it ready (the original and a copy). Do not send "
            "photos of your documents here: bring them to the bank."
        )
    )
    lines.append(cite([d.fact for d in docs]))
    buttons.append(("💰 " + _("My KUR loan"), LoanCB(act="page", loan=loan.id)))
    return "\n".join(lines), kb.buttons_column(buttons)


# --- reminders ---------------------------------------------------------------------------


def _docs_key(loan: Loan) -> str:
    return operations.kur.docs_key(loan.id)


def _bank_key(loan: Loan) -> str:
    return operations.kur.bank_key(loan.id)


async def _remind_documents(session: AsyncSession, loan: Loan, person: Person) -> None:
    """A new loan: if the document list is still open after a few days, say so once."""
    await reminders.remind(
        session,
        person_id=person.id,
        kind=rules.DOCUMENTS_OPEN,
        key=_docs_key(loan),
        due_at=loan.created_at + rules.DOCUMENTS_AFTER,
        tz=tz_of(person),
        payload={"loan_id": loan.id},
    )


async def _remind_bank(session: AsyncSession, loan: Loan, person: Person) -> None:
    """The day before the bank visit (created, or moved to the new appointment)."""
    if loan.appointment_at is None:
        return
    tz = tz_of(person)
    at = loan.appointment_at.astimezone(UTC)
    await reminders.remind(
        session,
        person_id=person.id,
        kind=rules.BANK_DAY_BEFORE,
        key=_bank_key(loan),
        due_at=rules.before(at, tz, days=1),
        tz=tz,
        payload={"bank": loan.bank or "", "branch": loan.branch or "", "at": at.isoformat()},
    )


async def _outcome_recorded(session: AsyncSession, loan: Loan) -> None:
    """After the visit (survey, akad, cair or a no), its reminder has nothing left to say;
    a loan that ended needs no document reminder either."""
    await reminder_rows.cancel(session, keys=[_bank_key(loan)])
    if loan.stage in loans.ENDED:
        await reminder_rows.cancel(session, keys=[_docs_key(loan)])


@reminders.renders(rules.DOCUMENTS_OPEN.key)
async def documents_note(
    session: AsyncSession, claimed: reminder_rows.Claimed, tz: str
) -> reminders.Note | None:
    """Read at sending time: nothing if every paper is ticked or the loan has ended."""
    loan_id = claimed.payload.get("loan_id")
    if not isinstance(loan_id, int):
        return None
    loan = await loans.mine(session, loan_id=loan_id, person_id=claimed.person_id)
    if loan is None or loan.stage in loans.ENDED:
        return None
    ready, total = _docs_count(loan)
    if ready >= total:
        return None
    text = t(rules.DOCUMENTS_OPEN.text, missing=total - ready, total=total)
    markup = kb.single("📋 " + _("Documents"), LoanCB(act="docs", loan=loan.id))
    return reminders.Note(text, markup)


# --- the readiness result ----------------------------------------------------------------


def scheme_text(scheme: facts.Scheme) -> str:
    """A scheme's figures with their source and date, in the current language (built once)."""
    return _scheme_text(scheme, current_locale())


ASK_BANK = N_("not confirmed, ask the bank")


@lru_cache(maxsize=32)
def _scheme_text(scheme: facts.Scheme, locale: str) -> str:
    rate = (
        t("{rate}% a year", rate=number(scheme.rate_pct))
        if scheme.rate_pct is not None
        else t(ASK_BANK)
    )
    tenors = []
    if scheme.tenor_working_capital_months:
        tenors.append(t("working capital up to {n} months", n=scheme.tenor_working_capital_months))
    if scheme.tenor_investment_months:
        tenors.append(t("investment up to {n} months", n=scheme.tenor_investment_months))
    tenor = ", ".join(tenors) if tenors else t(ASK_BANK)
    if scheme.needs_collateral is None:
        collateral = t(ASK_BANK)
    elif scheme.needs_collateral:
        collateral = _("additional collateral (agunan tambahan) is needed")
    else:
        collateral = _("no additional collateral (agunan tambahan)")
    lines = [
        f"<b>{scheme.name}</b>: " + t("up to {amount}", amount=rupiah_text(scheme.max_amount)),
        t("Interest: {rate}", rate=rate),
        t("Tenor: {tenor}", tenor=tenor),
        t("Collateral: {collateral}", collateral=collateral),
    ]
    if scheme.first_kur_only:
        lines.append(_("Only for someone who has never had a KUR."))
    stated = list(scheme.facts)
    if scheme.rate_pct is not None and facts.RULES.one_rate.confirmed:
        lines.append(
            t(
                "Since 1 January 2026 every KUR loan, also a second or a third, has the same "
                "rate: {rate}%.",
                rate=number(facts.RULES.one_rate.percent or 0),
            )
        )
        stated.append(facts.RULES.one_rate)
    lines.append(cite(stated))
    return "\n".join(lines)


def _pmi_text() -> str:
    pmi = facts.PENEMPATAN_PMI
    rules = facts.RULES
    text = f"<b>{pmi.name}</b>: {t(pmi.purpose or '')}"
    stated: list[Fact] = [*pmi.facts]
    if rules.placement_ministry.confirmed and rules.placement_registration.confirmed:
        text += " " + t(
            "Since January 2026 {ministry} runs it, and going abroad officially starts with "
            "registration in SISKOP2MI ({site}).",
            ministry=rules.placement_ministry.name,
            site=rules.placement_registration.site,
        )
        stated += [rules.placement_ministry, rules.placement_registration]
    return text + "\n" + cite(stated)


NOT_APPROVAL = N_(
    "This is not a loan approval: the bank decides after its own checks (SLIK, a visit to "
    "your business, an interview). Nothing was sent to a bank. The programme's staff in your "
    "region see your answers, to help you."
)


def recommendation(result: flow.Assessment) -> list[str]:
    """The recommendation as messages of at most 600 characters each (built once)."""
    return list(_recommendation(result.scheme, result.amount if result.scheme is None else 0,
                                result.notes, current_locale()))  # fmt: skip


@lru_cache(maxsize=128)
def _recommendation(
    scheme: facts.Scheme | None, amount: int, notes: tuple[str, ...], locale: str
) -> tuple[str, ...]:
    """The recommendation for a scheme (or an amount no scheme fits), built once per language."""
    head = "🏦 <b>" + _("Which KUR fits") + "</b>"
    if scheme is None:
        first = t(
            "No KUR scheme fits {amount}: the largest, KUR Kecil, goes up to {ceiling}. You "
            "could ask for {ceiling} or less, or ask the bank about other business credit.",
            amount=rupiah(amount),
            ceiling=rupiah_text(facts.KECIL.max_amount),
        )
        first += "\n" + cite([facts.KECIL.entry.ceiling])
    else:
        first = scheme_text(scheme)
    figures = _figures()
    parts = [head + "\n\n" + first]
    parts += [t(flow.NOTES[n], **figures) for n in notes]
    parts.append(
        _(
            "There is no special KUR for a returnee's own business: it can borrow like any "
            "other micro or small business."
        )
    )
    parts.append(_pmi_text())
    parts.append(t(NOT_APPROVAL))
    return tuple(pack(parts))


def result_text(run: FlowRun, result: flow.Assessment) -> list[str]:
    """The readiness result as messages of at most 600 characters each."""
    figures = _figures()
    rules = facts.RULES
    source = cite([rules.age, rules.business_months, rules.npwp_above])  # the figures named
    title = "📊 <b>" + _("Your KUR readiness") + "</b>"
    if result.stopped:
        parts = [title, "<b>" + _("Fix this first") + "</b>"]
        parts += ["⛔ " + t(flow.STOPS[c], **figures) for c in result.stops]
        parts.append(
            _(
                "You can do it. When it is fixed, start a new check: then I will show you which "
                "KUR fits and where to apply."
            )
        )
        return pack([*parts, source])
    parts = [title]
    if result.ready:
        parts.append("<b>" + _("Ready") + "</b>")
        parts += ["✅ " + t(flow.READY[c], **figures) for c in result.ready]
    if result.todo:
        parts.append("<b>" + _("To do") + "</b>")
        parts += ["📝 " + t(flow.TODO[c], **figures) for c in result.todo]
    else:
        parts.append(
            _("Everything on this list is ready. Next: tick your documents and choose a bank.")
        )
    return pack([*parts, source], sep="\n")


def stopped_markup() -> InlineKeyboardMarkup:
    """After a hard stop: no bank, no loan page; a new check when it is fixed, or the menu."""
    return kb.buttons_column(
        [
            ("🔄 " + _("Start a new check"), LoanCB(act="new")),
            ("🏠 " + _("Main menu"), kb.MenuCB(item="menu")),
        ]
    )


@driver.on_finish("kur_readiness")
async def readiness_done(turn: Turn, run: FlowRun) -> None:
    result = flow.assess(run.answers)
    if result.stopped:  # nothing to recommend yet: no loan, no review, no bank
        messages = result_text(run, result)
        for text in messages[:-1]:
            turn.say(text)
        turn.say(messages[-1], stopped_markup())
        return
    scheme = result.scheme.key if result.scheme else None
    loan = await loans.in_progress(turn.session, person_id=turn.person.id)
    new = loan is None
    if loan is None:
        loan = await loans.create(
            turn.session,
            person_id=turn.person.id,
            scheme=scheme,
            amount=result.amount,
            day=today_for(turn.person),
        )
        await _remind_documents(turn.session, loan, turn.person)
    else:  # a new check of the same loan: no second loan for the same plan
        await loans.update(turn.session, loan, scheme=scheme, amount=result.amount)
    await submissions.create(
        turn.session,
        person=turn.person,
        kind=SubmissionKind.KUR_READINESS,
        ref_id=loan.id,
        answers=dict(run.answers),
        run_id=run.id,
        new_subject=new,
    )
    for text in result_text(run, result):
        turn.say(text)
    protection.show_scam(turn, protection.RESULT)
    messages = recommendation(result)
    for text in messages[:-1]:
        turn.say(text)
    turn.say(messages[-1], page_markup(loan))


# --- simulator, bank, outcome finishers ------------------------------------------------------


@driver.on_finish("kur_simulator")
async def simulator_done(turn: Turn, run: FlowRun) -> None:
    amount, months, rate, monthly, total = flow.simulation(run.answers)
    lines = [
        "🧮 <b>" + _("Instalment simulation") + "</b>",
        t("Amount: {amount}", amount=rupiah(amount)),
        t("Tenor: {months} months", months=months),
        t("Rate: {rate}% a year", rate=number(rate)),
        t("Monthly instalment: {amount}", amount="<b>" + rupiah(monthly) + "</b>"),
        t("Total paid: {amount}", amount=rupiah(total)),
        "",
        _(
            "A simulation only: the bank computes the real schedule, and its rate and costs "
            "may differ."
        ),
    ]
    loan = await loans.in_progress(turn.session, person_id=turn.person.id)
    buttons: list[tuple[str, CallbackData]] = [
        ("🧮 " + _("Simulate again"), LoanCB(act="sim", loan=loan.id if loan else 0))
    ]
    if loan is not None:
        scheme = facts.scheme_for(amount)
        await loans.update(
            turn.session,
            loan,
            amount=amount,
            tenor_months=months,
            scheme=scheme.key if scheme else None,
        )
        lines.append(_("Saved on your loan page."))
        buttons.append(("💰 " + _("My KUR loan"), LoanCB(act="page", loan=loan.id)))
    turn.say("\n".join(lines), kb.buttons_column(buttons))


async def _loan_of_run(turn: Turn, run: FlowRun) -> Loan | None:
    loan_id = (run.answers or {}).get("loan_id")
    if not isinstance(loan_id, int):
        return None
    return await loans.mine(turn.session, loan_id=loan_id, person_id=turn.person.id)


@driver.on_finish("kur_bank")
async def bank_done(turn: Turn, run: FlowRun) -> None:
    loan = await _loan_of_run(turn, run)
    if loan is None:
        turn.say(_("I could not find that loan any more. Nothing was changed."), kb.main_menu())
        return
    if loan.stage not in loans.IN_PROGRESS:  # a visit planned in a run resumed after the end
        turn.say(_("This loan has already ended. Nothing was changed."), page_markup(loan))
        return
    tz = tz_of(turn.person)
    local = flow.appointment_local(run.answers["date"], run.answers["time"], ZoneInfo(tz))
    assert local is not None
    at = local.astimezone(UTC)
    bank = flow.bank_name(run.answers)
    await loans.set_appointment(
        turn.session,
        loan,
        bank=bank,
        branch=str(run.answers["branch"]),
        at=at,
        day=today_for(turn.person),
    )
    await _remind_bank(turn.session, loan, turn.person)
    text = "\n".join(
        [
            "🏦 <b>" + _("Your bank visit") + "</b>",
            t(
                "{bank}, {branch}: {when}",
                bank=html.escape(bank),
                branch=html.escape(str(run.answers["branch"])),
                when=moment(at, tz),
            ),
            "",
            _(
                "Bring your documents (originals and copies). This is your own plan: nothing was "
                "sent to the bank. Only the programme's staff in your region see your KUR "
                "answers. The bank decides after its own checks."
            ),
        ]
    )
    turn.say(text, page_markup(loan))


@driver.on_finish("kur_rejected")
async def rejected_done(turn: Turn, run: FlowRun) -> None:
    loan = await _loan_of_run(turn, run)
    if loan is None:
        turn.say(_("I could not find that loan any more. Nothing was changed."), kb.main_menu())
        return
    moved = await loans.move(
        turn.session,
        loan,
        LoanStage.REJECTED,
        day=today_for(turn.person),
        reason=flow.reason_code(run.answers),
    )
    if not moved:
        turn.say(_("That was already recorded. Nothing was changed."))
    else:
        await _outcome_recorded(turn.session, loan)
        turn.say(_("I am sorry. It is recorded, and it is not the end of the road."))
    show_page(turn, loan)


@driver.on_finish("kur_disbursed")
async def disbursed_done(turn: Turn, run: FlowRun) -> None:
    loan = await _loan_of_run(turn, run)
    if loan is None:
        return
    amount = run.answers.get("amount")
    if isinstance(amount, int):
        await loans.update(turn.session, loan, amount=amount)
    show_page(turn, loan)


# --- entry and progress ------------------------------------------------------------------


def intro() -> str:
    return t(
        "💰 <b>KUR (Kredit Usaha Rakyat)</b> is a government programme of bank loans for small "
        "businesses, with a low interest rate and, up to {limit}, no extra collateral.\n\n"
        "First, a readiness check of about {n} questions shows what is ready and what is still "
        "missing, and which KUR fits. Nothing is sent to a bank. The programme's staff in your "
        "region see your answers, to help you.",
        limit=rupiah_text(facts.RULES.no_collateral_up_to.amount),
        n=len(flow.READINESS.steps) - 1,
    )


async def _unfinished_readiness(turn: Turn) -> FlowRun | None:
    run = await repo.latest_run(turn.session, person_id=turn.person.id, flow=flow.READINESS.key)
    return run if run is not None and run.status != RunStatus.COMPLETED else None


@journeys.entry("kur")
async def open_(turn: Turn) -> None:
    # A new loan is made only when none is in progress, so one in progress is the newest.
    last = await loans.latest(turn.session, person_id=turn.person.id)
    if last is not None and last.stage in loans.IN_PROGRESS:
        show_page(turn, last)
        return
    markup = (
        kb.single("💰 " + _("My last KUR loan"), LoanCB(act="page", loan=last.id))
        if last is not None
        else None
    )
    turn.say(intro(), markup)
    run = await _unfinished_readiness(turn)
    if run is not None:
        await driver.resume(turn, run)
    else:
        await driver.begin(turn, flow.READINESS.key)


@journeys.progress("kur")
async def progress_lines(turn: Turn) -> list[journeys.Line]:
    loan = await loans.latest(turn.session, person_id=turn.person.id)
    if loan is None:
        return []
    stage = LoanStage(loan.stage)
    since = (loan.stage_dates or {}).get(stage.value)
    status = t(STAGES[stage]) + (
        " (" + t("since {date}", date=day(date.fromisoformat(since))) + ")" if since else ""
    )
    check = await submissions.latest(
        turn.session, person_id=turn.person.id, kind=SubmissionKind.KUR_READINESS, ref_id=loan.id
    )
    if check is not None and check.status in CHECK:
        status += "; " + t(CHECK[SubmissionStatus(check.status)])
    button = ("💰 " + _("My KUR loan"), LoanCB(act="page", loan=loan.id))
    if stage == LoanStage.WITHDRAWN:
        button = ("🔄 " + _("Start a new check"), LoanCB(act="new"))
    return [
        journeys.Line(
            journey="kur",
            title=_scheme_name(loan) if loan.scheme else _("KUR loan"),
            status=status,
            next_step=t(NEXT[stage]) if stage in NEXT else None,
            button=button,
            submission=check.id if check is not None else None,
        )
    ]


# --- buttons -----------------------------------------------------------------------------


async def press(
    callback: CallbackQuery,
    callback_data: LoanCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    if needs_profile(callback, person, outbox):
        return
    turn = turn_for(callback, session=session, person=person, outbox=outbox)
    act = callback_data.act
    if act == "new":
        outbox.add(callback.answer())
        await driver.begin(turn, flow.READINESS.key)
        return
    if act == "sim" and callback_data.loan == 0:
        outbox.add(callback.answer())
        await driver.begin(turn, flow.SIMULATOR.key)
        return
    loan = await loans.mine(session, loan_id=callback_data.loan, person_id=person.id)
    if loan is None:
        outbox.add(callback.answer(t(NOT_YOURS), show_alert=True))
        return
    if act == "page":
        outbox.add(callback.answer())
        show_page(turn, loan)
    elif act == "sim":
        outbox.add(callback.answer())
        answers = {"loan_amount": loan.amount} if loan.amount else {}
        await driver.begin(turn, flow.SIMULATOR.key, answers=answers)
    elif act == "docs":
        outbox.add(callback.answer())
        turn.say(*checklist(loan))
    elif act == "doc":
        await _tick(turn, callback, callback_data, loan)
    elif act == "bank" and loan.stage in loans.IN_PROGRESS:
        outbox.add(callback.answer())
        protection.show_scam(turn, protection.BANK)
        await driver.begin(turn, flow.BANK.key, answers={"loan_id": loan.id, "tz": tz_of(person)})
    elif act == "out" and loan.stage in loans.IN_PROGRESS:
        outbox.add(callback.answer())
        buttons: list[tuple[str, CallbackData]] = [
            (t(EVENTS[s]), LoanCB(act="stage", loan=loan.id, v=s.value))
            for s in loans.following(loan.stage)
        ]
        buttons.append(("💰 " + _("My KUR loan"), LoanCB(act="page", loan=loan.id)))
        turn.say(_("What happened? Record it on the day it happens."), kb.buttons_column(buttons))
    elif act == "stage":
        await _record(turn, callback, callback_data.v, loan)
    else:
        outbox.add(callback.answer(t(NOT_YOURS)))


async def _tick(turn: Turn, callback: CallbackQuery, data: LoanCB, loan: Loan) -> None:
    keys = {d.key for d in facts.documents_for(loan.amount, loan.scheme)}
    if data.v not in keys:
        turn.outbox.add(callback.answer(t(NOT_YOURS)))
        return
    changed = await loans.set_document(
        turn.session, loan, data.v, ready=bool(data.on), day=today_for(turn.person)
    )
    turn.outbox.add(callback.answer(_("Saved.") if changed else _("Already so.")))
    if not changed:
        return
    ready, total = _docs_count(loan)
    if ready >= total:  # the last paper: the reminder about open ones is no longer needed
        await reminder_rows.cancel(turn.session, keys=[_docs_key(loan)])
    text, markup = checklist(loan)
    turn.put(text, markup, pressed_message(callback))


async def _record(turn: Turn, callback: CallbackQuery, value: str, loan: Loan) -> None:
    try:
        stage = LoanStage(value)
    except ValueError:
        turn.outbox.add(callback.answer(t(NOT_YOURS)))
        return
    if not loans.can_move(loan.stage, stage):
        turn.outbox.add(callback.answer(_("That was already recorded. Nothing was changed.")))
        return
    turn.outbox.add(callback.answer())
    if stage == LoanStage.REJECTED:
        await driver.begin(turn, flow.REJECTED.key, answers={"loan_id": loan.id})
        return
    if await loans.move(turn.session, loan, stage, day=today_for(turn.person)):
        await _outcome_recorded(turn.session, loan)
    if stage == LoanStage.CAIR:
        turn.say(
            _("Congratulations! Pay each instalment on time: it keeps your SLIK record clean.")
        )
        await driver.begin(turn, flow.DISBURSED.key, answers={"loan_id": loan.id})
        return
    show_page(turn, loan)


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="kur")
    r.callback_query.register(press, LoanCB.filter())
    return r
