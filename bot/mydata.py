"""/datasaya in words: every row kept about a person (storage.privacy.kept), section by
section, sensitive numbers masked, packed into messages Telegram accepts."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot import driver
from bot.handlers import training
from bot.handlers.kur import STAGES
from bot.handlers.roles import ROLE_NAMES
from bot.text import day, label, moment, rupiah, t
from flows import kur as kur_flow
from flows import regions, registry
from flows.content import kur as facts
from flows.i18n import N_
from flows.onboarding import COUNTRIES, GOALS, YEARS
from flows.validators import mask_nik, mask_phone
from operations import trainings as training_ops
from storage import repo
from storage.models import (
    Consent,
    FlowRun,
    FoundingStatus,
    LoanStage,
    Person,
    Role,
    RunStatus,
    SubmissionKind,
    SubmissionStatus,
)
from storage.privacy import Kept

RUN_STATUS = {
    RunStatus.ACTIVE: N_("in progress"),
    RunStatus.COMPLETED: N_("finished"),
    RunStatus.CANCELLED: N_("stopped"),
}
SUBMISSION_KINDS = {
    SubmissionKind.JOIN_REQUEST: N_("Request to join a cooperative"),
    SubmissionKind.FOUNDING: N_("Founding a cooperative"),
    SubmissionKind.KUR_READINESS: N_("KUR readiness check"),
    SubmissionKind.TRAINING: N_("Training registration"),
}
SUBMISSION_STATUS = {
    SubmissionStatus.SUBMITTED: N_("waiting for review"),
    SubmissionStatus.APPROVED: N_("approved"),
    SubmissionStatus.REJECTED: N_("not approved"),
    SubmissionStatus.RETURNED: N_("returned to you for correction"),
    SubmissionStatus.WITHDRAWN: N_("withdrawn"),
}
CONSENT_PURPOSES = {
    "profile_and_guidance": N_("Keeping your profile and guiding you through your journeys"),
    repo.ANNOUNCEMENTS: N_("Announcements from coordinators"),
    repo.NO_ANNOUNCEMENTS: N_("Announcements from coordinators"),
}
PLAN_STATUS = {
    FoundingStatus.PLANNING: N_("being planned"),
    FoundingStatus.SUBMITTED: N_("sent to the team"),
    FoundingStatus.APPROVED: N_("approved by the team"),
    FoundingStatus.REJECTED: N_("not approved by the team"),
    FoundingStatus.RETURNED: N_("sent back for a correction"),
    FoundingStatus.CANCELLED: N_("closed"),
}
REMINDER_KINDS = {
    "training_day_before": N_("Training “{title}”, the day before"),
    "training_soon": N_("Training “{title}”, two hours before"),
    "meeting_3_days": N_("Founding meeting of “{name}”, three days before"),
    "meeting_1_day": N_("Founding meeting of “{name}”, the day before"),
    "bank_day_before": N_("Bank visit, the day before"),
    "documents_open": N_("KUR documents still to get ready"),
    "nudge": N_("A nudge to go on where you stopped"),
    "staff_digest": N_("The reviewers' daily summary"),
}


def _day(value: datetime | None, zone: str) -> str:
    return day(value.astimezone(ZoneInfo(zone)).date()) if value else "–"


def _heading(text: str) -> str:
    return "<b>" + text + "</b>"


def _option(options: tuple, value: str | None) -> str:  # type: ignore[type-arg]
    for option in options:
        if option.value == value:
            return label(option)
    return html.escape(value) if value else "–"


def profile_lines(person: Person) -> list[str]:
    """The profile as a person reads it (/profil too); the phone number and NIK masked."""
    region = "–"
    if person.regency_code and regions.get(person.regency_code):
        region = regions.display_name(person.regency_code)
    elif person.province_code and regions.get(person.province_code):
        region = regions.display_name(person.province_code)
    return [
        t("Name: {value}", value=html.escape(person.name or "–")),
        t("Phone: {value}", value=mask_phone(person.phone) if person.phone else "–"),
        t("Home region: {value}", value=region),
        t("Country worked in: {value}", value=_option(COUNTRIES, person.country)),
        t("Years abroad: {value}", value=_option(YEARS, person.years_abroad)),
        t("What I want first: {value}", value=_option(GOALS, person.goal)),
        t("Language: {value}", value="English" if person.locale == "en" else "Bahasa Indonesia"),
        _("Announcements: yes (/berhenti stops them)")
        if person.announcements
        else _("Announcements: no (/langganan starts them)"),
    ] + ([t("NIK: {value}", value=mask_nik(person.nik))] if person.nik else [])


def _profile(kept: Kept) -> str:
    person = kept.person
    lines = profile_lines(person)
    if person.role and person.role != Role.RETURNEE:
        role = t(ROLE_NAMES[Role(person.role)]) if person.role in ROLE_NAMES else person.role
        where = ", ".join(
            regions.display_name(c) if regions.get(c) else html.escape(str(c))
            for c in person.scope_regions or []
        )
        lines.append(t("Role: {role} ({where})", role=role, where=where or _("everywhere")))
    return _heading(_("Your profile")) + "\n" + "\n".join(lines)


def _consent_line(consent: Consent, zone: str) -> str:
    purpose = t(CONSENT_PURPOSES.get(consent.purpose, consent.purpose))
    given = _day(consent.given_at, zone)
    if consent.purpose == repo.NO_ANNOUNCEMENTS:
        state = t("you said no on {date}", date=given)
    elif consent.withdrawn_at is not None:
        state = t(
            "agreed on {date}, withdrawn on {withdrawn}",
            date=given,
            withdrawn=_day(consent.withdrawn_at, zone),
        )
    else:
        state = t("agreed on {date}", date=given)
    return "• " + t(
        "{purpose}: {state} (text version {version})",
        purpose=html.escape(purpose),
        state=state,
        version=html.escape(consent.text_version),
    )


def _answers(run: FlowRun) -> list[str]:
    """The answers a run holds, as the person reads them (masked where a step masks)."""
    if run.flow not in registry.FLOWS:
        return []
    flow = registry.get(run.flow)
    lines = []
    for key in run.history or []:
        try:
            shown = driver.shown_value(run, key)
            prompt = t(flow.step(key).prompt)
        except (KeyError, ValueError, TypeError):
            continue
        if shown:
            lines.append(f"   – {prompt} <b>{html.escape(shown)}</b>")
    return lines


def _runs(kept: Kept, zone: str) -> str | None:
    if not kept.runs:
        return None
    lines = [_heading(_("Your steps, and the answers they hold"))]
    unfinished = [r for r in kept.runs if r.status == RunStatus.ACTIVE]
    for run in unfinished + [r for r in kept.runs if r.status != RunStatus.ACTIVE]:
        title = t(registry.get(run.flow).title) if run.flow in registry.FLOWS else run.flow
        status = RUN_STATUS.get(RunStatus(run.status), RUN_STATUS[RunStatus.CANCELLED])
        lines.append(
            "• "
            + t(
                "{title}: {status}, started {date}",
                title=html.escape(title),
                status=t(status),
                date=_day(run.started_at, zone),
            )
        )
        lines += _answers(run)
    return "\n".join(lines)


def _submission_line(kept: Kept, zone: str) -> Iterable[str]:
    for s in kept.submissions:
        answers = s.answers or {}
        kind = t(SUBMISSION_KINDS.get(SubmissionKind(s.kind), s.kind))
        about = answers.get("cooperative_name") or answers.get("name") or answers.get("title")
        if about:
            kind += " — " + html.escape(str(about))
        yield "• " + t(
            "{kind}: {status}, sent {date}",
            kind=kind,
            status=t(SUBMISSION_STATUS[SubmissionStatus(s.status)]),
            date=_day(s.created_at, zone),
        )


def _reason(code: str) -> str:
    """A stored reason ("documents", or "other: " and what was typed) as the person reads it."""
    if code.startswith("other: "):
        return html.escape(code.removeprefix("other: "))
    found = next((o for o in kur_flow.REASONS if o.value == code), None)
    return label(found) if found else html.escape(code)


def _loans(kept: Kept, zone: str) -> str | None:
    if not kept.loans:
        return None
    lines = [_heading(_("Your KUR loans"))]
    for loan in kept.loans:
        scheme = next((s.name for s in facts.SCHEMES if s.key == loan.scheme), None)
        lines.append(
            "• "
            + t(
                "{scheme}, started {date}: {stage}",
                scheme=scheme or _("KUR loan"),
                date=_day(loan.created_at, zone),
                stage=t(STAGES[LoanStage(loan.stage)]),
            )
        )
        details = [
            t("Amount: {value}", value=rupiah(loan.amount)) if loan.amount else None,
            t("Tenor: {n} months", n=loan.tenor_months) if loan.tenor_months else None,
            t("Bank: {value}", value=html.escape(loan.bank)) if loan.bank else None,
            t("Branch: {value}", value=html.escape(loan.branch)) if loan.branch else None,
            t("Bank visit: {when}", when=moment(loan.appointment_at, zone))
            if loan.appointment_at
            else None,
            t("Documents ticked: {n}", n=len(loan.documents or {})) if loan.documents else None,
            t("Reason the bank gave: {value}", value=_reason(loan.rejection_reason))
            if loan.rejection_reason
            else None,
        ]
        lines += ["   – " + d for d in details if d]
    return "\n".join(lines)


def _trainings(kept: Kept, zone: str) -> str | None:
    if not kept.registrations:
        return None
    lines = [_heading(_("Your training places"))]
    latest = {  # each registration's latest request to the organiser (oldest first: last wins)
        s.ref_id: s for s in kept.submissions if s.kind == SubmissionKind.TRAINING.value
    }
    for seat in kept.registrations:
        submission = latest.get(seat.registration.id)
        standing = training_ops.standing(seat.registration, seat.training, submission)
        status = training.phrase(standing, seat.position)
        if standing == training_ops.Standing.REJECTED and submission and submission.reason:
            status += " (" + html.escape(submission.reason) + ")"
        lines.append(
            "• "
            + t(
                "{title}, {when}: {status}",
                title=html.escape(seat.training.title),
                when=moment(seat.training.starts_at, zone),
                status=status,
            )
        )
    return "\n".join(lines)


def _plans(kept: Kept, zone: str) -> str | None:
    if not kept.plans:
        return None
    lines = [_heading(_("Your founding plans"))]
    for plan, membership, count in kept.plans:
        role = _("you are the founder") if plan.founder_id == kept.person.id else _("co-founder")
        lines.append(
            "• "
            + t(
                "{name}: {role}, joined {date}; {n} founders, {status}",
                name=html.escape(plan.name or "–"),
                role=role,
                date=_day(membership.joined_at, zone),
                n=count,
                status=t(PLAN_STATUS.get(FoundingStatus(plan.status), plan.status)),
            )
        )
    return "\n".join(lines)


def _reminders(kept: Kept, zone: str) -> str | None:
    if not kept.reminders and not kept.reminders_done:
        return None
    lines = [_heading(_("Your reminders"))]
    for reminder in kept.reminders:
        payload = {
            k: html.escape(v) if isinstance(v, str) else v
            for k, v in (reminder.payload or {}).items()
        }
        what = REMINDER_KINDS.get(reminder.kind)
        try:
            label = t(what, **payload) if what else html.escape(reminder.kind)
        except (KeyError, IndexError):
            label = html.escape(reminder.kind)
        lines.append("• " + t("{what}: {when}", what=label, when=moment(reminder.due_at, zone)))
    if kept.reminders_done:
        lines.append(t("Reminders already sent or cancelled: {n}", n=kept.reminders_done))
    return "\n".join(lines)


def _other(kept: Kept, zone: str) -> str | None:
    lines = []
    if kept.deliveries:
        line = t("Announcements for you: {n}", n=kept.deliveries)
        if kept.last_delivery is not None:
            line += " " + t("(the last sent on {date})", date=_day(kept.last_delivery, zone))
        lines.append(line)
    if kept.broadcasts:
        lines.append(t("Announcements you wrote: {n}", n=len(kept.broadcasts)))
    if kept.trainings:
        lines.append(
            t(
                "Training sessions you created: {titles}",
                titles=", ".join(html.escape(x.title) for x in kept.trainings),
            )
        )
    if kept.invites:
        lines.append(t("Role invitation links you made or used: {n}", n=kept.invites))
    if kept.decisions:
        lines.append(t("Sign-ups you decided as a reviewer: {n}", n=kept.decisions))
    if kept.audit_entries:
        lines.append(
            t(
                "Entries in the audit log by you or about you (roles, and what you did with "
                "one; never what you typed): {n}",
                n=kept.audit_entries,
            )
        )
    return (_heading(_("Other records")) + "\n" + "\n".join(lines)) if lines else None


TICKET_STATUS = {
    "new": N_("waiting for an answer"),
    "open": N_("being answered"),
    "waiting": N_("answered"),
    "closed": N_("closed"),
}
QUOTE_MAX = 120  # characters of each message quoted back


def _quote(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > QUOTE_MAX:
        text = text[: QUOTE_MAX - 1] + "…"
    return "“" + html.escape(text) + "”"


def _tickets(kept: Kept, zone: str) -> str | None:
    """The person's questions to the office and every message of them (theirs, and the
    answers they got); notes the office wrote about them are counted, never quoted."""
    if not kept.tickets and not kept.ticket_work:
        return None
    lines = []
    for ticket, messages in kept.tickets:
        lines.append(
            "• "
            + t(
                "Question #{n}, {date}: {status}",
                n=ticket.id,
                date=_day(ticket.created_at, zone),
                status=t(TICKET_STATUS.get(ticket.status, ticket.status)),
            )
        )
        notes = 0
        for message in messages:
            if message.kind == "note":
                notes += 1
                continue
            who = _("you") if message.kind == "person" else _("the office")
            said = _quote(message.text) if message.text else ""
            if message.voice_file_id:
                said = (said + " " if said else "") + _("(a voice note)")
            lines.append("  " + t("{who}: {said}", who=who, said=said or "—"))
        if notes:
            lines.append("  " + t("Notes the office wrote about it: {n}", n=notes))
    if kept.ticket_work:
        lines.append(t("Questions you answered or took as staff: {n}", n=kept.ticket_work))
    return _heading(_("Your questions to the office")) + "\n" + "\n".join(lines)


def sections(kept: Kept) -> list[str]:
    """Everything kept about the person, one section a subject (only those that apply)."""
    zone = regions.zone_of(kept.person.province_code)
    parts: list[str | None] = [
        _heading(_("Everything we keep about you")),
        _profile(kept),
        _heading(_("Your consent"))
        + "\n"
        + "\n".join(_consent_line(c, zone) for c in kept.consents)
        if kept.consents
        else None,
        _runs(kept, zone),
        _heading(_("Your sign-ups and requests")) + "\n" + "\n".join(_submission_line(kept, zone))
        if kept.submissions
        else None,
        _loans(kept, zone),
        _trainings(kept, zone),
        _plans(kept, zone),
        _reminders(kept, zone),
        _tickets(kept, zone),
        _other(kept, zone),
        _(
            "Telegram also gives us your Telegram ID, which we use only to reply to "
            "you. To correct something: /profil. To delete everything: /hapusdata."
        ),
    ]
    return [p for p in parts if p]
