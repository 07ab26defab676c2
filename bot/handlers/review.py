"""/tinjau: the review queue. Staff see what waits by kind, oldest first, filtered by region;
open one to read every answer (the NIK and phone masked until revealed, and the reveal is
audited); approve, reject with a reason, or return it for correction naming the fields. The
decision and the correction are operations (operations/decisions.py: audited, the kind's
effects on its journey, one "review.decided" notice, rendered here in the returnee's language);
a return takes the returnee straight to those fields, and the corrected submission comes back
to the queue. Of two reviewers deciding at once, the first wins and the second is told.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, journeys, notices, roles
from bot import keyboards as kb
from bot.config import Settings
from bot.driver import Turn
from bot.handlers.common import pressed_message, turn_for
from bot.outbox import Outbox
from bot.text import moment, number, shown, t
from flows import clock, regions, registry, snapshots
from flows.engine import Kind
from flows.i18n import N_
from flows.review import TEMPLATE, overdue_since
from flows.validators import mask_phone
from operations import decisions, reasons
from storage import audit, coops, repo
from storage import reviews as store
from storage.models import FlowRun, Person, Role, Submission, SubmissionKind, SubmissionStatus

log = logging.getLogger(__name__)

KINDS = store.KINDS
KIND_LABELS = {
    SubmissionKind.JOIN_REQUEST.value: N_("Join requests"),
    SubmissionKind.FOUNDING.value: N_("Founding files"),
    SubmissionKind.KUR_READINESS.value: N_("KUR readiness checks"),
    SubmissionKind.TRAINING.value: N_("Training registrations"),
}
KIND_ONE = {
    SubmissionKind.JOIN_REQUEST.value: N_("Join request"),
    SubmissionKind.FOUNDING.value: N_("Founding file"),
    SubmissionKind.KUR_READINESS.value: N_("KUR readiness check"),
    SubmissionKind.TRAINING.value: N_("Training registration"),
}
PROFILE_FIELDS = ("name", "phone")  # what a return can name when no flow made the submission
PAGE = 8


class ReviewCB(CallbackData, prefix="rv"):
    """act: home | list | open | nik | ok | no | ret | retgo. k: index in KINDS; m: the
    fields chosen for a return, as bits of the correctable fields' order."""

    act: str
    id: kb.RowId = 0
    k: kb.Small = 0
    p: kb.Small = 0
    r: str = ""
    m: kb.Small = 0


class FixCB(CallbackData, prefix="fx"):
    """The returnee's "Correct now" under a return for correction."""

    id: kb.RowId


def _overdue_before(settings: Settings) -> Any:
    """Waiting since before this is overdue: REVIEW_OVERDUE_DAYS working days, as the desk
    and the digest count them (flows.review.overdue_since)."""
    return overdue_since(clock.now(), settings.review_overdue_days)


def _region_ok(code: str, scope: list[str] | None) -> bool:
    return not code or (regions.get(code) is not None and roles.in_scope(code, scope))


# --- the queue -------------------------------------------------------------------------------


async def home(turn: Turn, settings: Settings, region: str = "") -> tuple[str, Any]:
    scope = roles.scope(turn.person, turn.role)
    found = await store.counts(
        turn.session, regions=scope, overdue_before=_overdue_before(settings), region=region or None
    )
    where = regions.display_name(region) if region else _("all your regions")
    lines = ["📋 " + _("Review queue: {where}").format(where=html.escape(where)), ""]
    buttons = []
    for i, c in enumerate(found):
        label = t(KIND_LABELS[c.kind])
        late = (
            " ⚠️ "
            + _("{n} waiting over {days} working days").format(
                n=number(c.overdue), days=settings.review_overdue_days
            )
            if c.overdue
            else ""
        )
        lines.append(f"• {label}: {number(c.waiting)}{late}")
        if c.waiting:
            buttons.append((f"{label} ({number(c.waiting)})", ReviewCB(act="list", k=i, r=region)))
    if not any(c.waiting for c in found):
        lines += ["", _("Nothing waits. Thank you!")]
    provinces = await store.regions_waiting(turn.session, regions=scope)
    markup = kb.buttons_column(buttons)
    if len(provinces) > 1 or region:
        row = [kb._button(_("All regions"), ReviewCB(act="home"))] if region else []
        row += [
            kb._button(regions.display_name(code), ReviewCB(act="home", r=code))
            for code in provinces[:6]
            if code != region
        ]
        markup.inline_keyboard += [row[i : i + 2] for i in range(0, len(row), 2)]
    return "\n".join(lines), markup


async def command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    settings: Settings,
    role: Role = Role.RETURNEE,
) -> None:
    if not roles.gate(outbox, "review", person, role, message=message):
        return
    turn = turn_for(message, session=session, person=person, outbox=outbox, role=role)
    text, markup = await home(turn, settings)
    turn.say(text, markup)


async def list_page(turn: Turn, settings: Settings, data: ReviewCB) -> tuple[str, Any]:
    kind = KINDS[data.k]
    scope = roles.scope(turn.person, turn.role)
    rows = await store.waiting(
        turn.session,
        kind=kind,
        regions=scope,
        region=data.r or None,
        limit=PAGE + 1,
        offset=data.p * PAGE,
    )
    late = _overdue_before(settings)
    buttons = []
    for w in rows[:PAGE]:
        days = max(0, (clock.now() - w.created_at).days)
        place = (
            regions.display_name(w.regency_code or w.province_code or "")
            if (w.regency_code or w.province_code)
            else "—"
        )
        flag = "⚠️ " if w.created_at < late else ""
        fixed = " ✏️" if w.corrected else ""
        buttons.append(
            (
                f"{flag}#{w.id} · " + _("{n} d").format(n=days) + f" · {place}{fixed}",
                ReviewCB(act="open", id=w.id, k=data.k, p=data.p, r=data.r),
            )
        )
    markup = kb.buttons_column(buttons)
    nav = []
    if data.p:
        nav.append(
            kb._button("⬅️ " + _("Newer"), ReviewCB(act="list", k=data.k, p=data.p - 1, r=data.r))
        )
    if len(rows) > PAGE:
        nav.append(
            kb._button(_("Older") + " ➡️", ReviewCB(act="list", k=data.k, p=data.p + 1, r=data.r))
        )
    if nav:
        markup.inline_keyboard.append(nav)
    markup.inline_keyboard.append([kb._button("⬅️ " + _("Back"), ReviewCB(act="home", r=data.r))])
    title = t(KIND_LABELS[kind])
    text = (
        f"📋 {title}: " + _("oldest first. ⚠️ waiting too long, ✏️ corrected after a return.")
        if rows
        else _("Nothing of this kind waits.")
    )
    return text, markup


# --- one submission --------------------------------------------------------------------------


def _flow_of(submission: Submission, run: FlowRun | None) -> str | None:
    """The flow whose answers the snapshot is (the KUR check's); None: a snapshot of its own."""
    if (
        submission.kind == SubmissionKind.KUR_READINESS.value
        and run is not None
        and run.flow in registry.FLOWS
    ):
        return run.flow
    return None


def answer_lines(submission: Submission, flow_key: str | None, *, reveal: bool) -> list[str]:
    """Every answer as a person reads it (flows/snapshots.py: labels and coded values by kind),
    times in the submission's own zone; the NIK masked unless revealed. `flow_key` is kept for
    callers: the kind alone says how a snapshot reads, with or without the run that made it."""
    answers = dict(submission.answers or {})
    tz = regions.zone_of(submission.province_code)
    lines = [
        f"• {t(item.label)}: <b>{html.escape(shown(value, tz=tz, reveal=reveal))}</b>"
        for item, value in snapshots.readable(submission.kind, answers)
        if item.type != snapshots.ID
    ]
    lines += [
        f"• {html.escape(key)}: <b>{html.escape(value)}</b>"
        for key, value in snapshots.unlabelled(submission.kind, answers)
    ]
    return lines


async def card(
    turn: Turn, settings: Settings, submission: Submission, data: ReviewCB, *, reveal: bool = False
) -> tuple[str, Any]:
    person = await coops.person(turn.session, submission.person_id)
    run = (
        await turn.session.get(FlowRun, submission.run_id)
        if submission.run_id is not None
        else None
    )
    flow_key = _flow_of(submission, run)
    days = max(0, (clock.now() - submission.created_at).days)
    late = submission.created_at < _overdue_before(settings)
    place_code = submission.regency_code or submission.province_code
    lines = [
        f"🧾 <b>{t(KIND_ONE[submission.kind])} #{submission.id}</b>"
        + (" ⚠️ " + _("waiting {n} days").format(n=days) if late else ""),
        _("Status: {status}").format(status=status_label(submission.status)),
        _("From: {name}").format(
            name=html.escape(person.name or "—") if person else _("(deleted)")
        ),
        _("Region: {place}").format(
            place=html.escape(regions.display_name(place_code)) if place_code else "—"
        ),
    ]
    if person is not None and person.phone:
        lines.append(
            _("Phone: {phone}").format(phone=person.phone if reveal else mask_phone(person.phone))
        )
    lines.append(
        _("Sent: {when}").format(
            when=moment(submission.created_at, regions.zone_of(turn.person.province_code))
        )
    )
    if submission.returned_fields:
        lines.append("✏️ " + _("Corrected after a return."))
    lines += ["", *answer_lines(submission, flow_key, reveal=reveal)]
    if reveal:
        lines += ["", "👁 " + _("Shown in full for you. This was recorded.")]
    buttons: list[tuple[str, ReviewCB]] = []
    i = submission.id
    if submission.status == SubmissionStatus.SUBMITTED:
        has_secret = (person is not None and person.phone) or (submission.answers or {}).get("nik")
        if (
            has_secret
            and not reveal
            and roles.may(turn.person, turn.role, "reveal", roles.place(submission))
        ):
            buttons.append(
                (
                    "👁 " + _("Show NIK and phone in full"),
                    ReviewCB(act="nik", id=i, k=data.k, p=data.p, r=data.r),
                )
            )
        buttons += [
            ("✅ " + _("Approve"), ReviewCB(act="ok", id=i, k=data.k, p=data.p, r=data.r)),
            (
                "✖️ " + _("Reject with a reason"),
                ReviewCB(act="no", id=i, k=data.k, p=data.p, r=data.r),
            ),
            (
                "↩️ " + _("Return for correction"),
                ReviewCB(act="ret", id=i, k=data.k, p=data.p, r=data.r),
            ),
        ]
    buttons.append(
        ("⬅️ " + _("Back to the list"), ReviewCB(act="list", k=data.k, p=data.p, r=data.r))
    )
    return "\n".join(lines), kb.buttons_column(buttons)


def status_label(status: str) -> str:
    labels = {
        SubmissionStatus.SUBMITTED.value: _("waiting for review"),
        SubmissionStatus.APPROVED.value: _("approved"),
        SubmissionStatus.REJECTED.value: _("not approved"),
        SubmissionStatus.RETURNED.value: _("returned for correction"),
        SubmissionStatus.WITHDRAWN.value: _("withdrawn"),
    }
    return labels.get(status, status)


# What a return can name, by kind: a flow whose steps ask those fields again (in correction
# mode, bot/driver.py `correct`) and the fields. A founding file's are the plan's own (its name,
# type, purpose: never the profile's "What is your name?"); a join request's and a training
# registration's are the returnee's details (operations/corrections.py writes them back). A KUR
# check is its flow's answers (`_correction_of`).
CORRECTABLE = {
    SubmissionKind.JOIN_REQUEST.value: ("fix_details", ("name", "phone", "nik")),
    SubmissionKind.FOUNDING.value: ("found_coop", ("name", "kind", "purpose")),
    SubmissionKind.TRAINING.value: ("fix_details", PROFILE_FIELDS),
}
# Short labels of the fields, for the reviewer's choice and the returnee's notice.
FIELD_LABELS = {
    "fix_details": {"name": N_("Name"), "phone": N_("Phone number"), "nik": N_("NIK")},
    "found_coop": {
        key: snapshots.field_label(SubmissionKind.FOUNDING.value, key) or key
        for key in ("name", "kind", "purpose")
    },
}


async def _correction_of(session: AsyncSession, submission: Submission) -> tuple[str, list[str]]:
    """(flow key, field keys) a return of this submission can name, in the flow's order."""
    if submission.kind in CORRECTABLE:
        flow_key, keys = CORRECTABLE[submission.kind]
        return flow_key, list(keys)
    run = await session.get(FlowRun, submission.run_id) if submission.run_id is not None else None
    if run is not None and run.flow in registry.FLOWS:
        answered = [
            s.key
            for s in registry.get(run.flow).steps
            if s.kind is not Kind.CONFIRM and s.key in (run.answers or {})
        ]
        if answered:
            return run.flow, answered
    return "fix_details", list(PROFILE_FIELDS)


def field_label(flow_key: str, key: str) -> str:
    """A field as the reviewer chooses it and the returnee reads it, in the current language."""
    labels = FIELD_LABELS.get(flow_key, {})
    if key in labels:
        return t(labels[key])
    flow = registry.FLOWS.get(flow_key)
    if flow is None or key not in {s.key for s in flow.steps}:
        return key
    return t(flow.step(key).prompt).splitlines()[0][:40]


async def correctable(turn: Turn, submission: Submission) -> tuple[str, list[tuple[str, str]]]:
    """(flow key, [(field key, label)]) a return can name."""
    flow_key, keys = await _correction_of(turn.session, submission)
    return flow_key, [(k, field_label(flow_key, k)) for k in keys]


# --- buttons ---------------------------------------------------------------------------------


async def pressed(
    callback: CallbackQuery,
    callback_data: ReviewCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    settings: Settings,
    role: Role = Role.RETURNEE,
) -> None:
    """Every queue button; the role is checked first, then the scope of the submission."""
    if person is None or not roles.check(outbox, "review", role, callback=callback):
        return
    data = callback_data
    if data.k >= len(KINDS) or not _region_ok(data.r, roles.scope(person, role)):
        log.warning("refused a review button with forged data")
        outbox.add(
            callback.answer(_("This button no longer works. Send /tinjau."), show_alert=True)
        )
        return
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    message = pressed_message(callback)
    if data.act == "home":
        outbox.add(callback.answer())
        turn.put(*await home(turn, settings, data.r), message)
        return
    if data.act == "list":
        outbox.add(callback.answer())
        turn.put(*await list_page(turn, settings, data), message)
        return
    submission = await store.get(session, data.id)
    if submission is None or not roles.may(person, role, "review", roles.place(submission)):
        log.warning("refused a review button on a submission outside the reviewer's reach")
        outbox.add(callback.answer(_("That submission is not in your queue."), show_alert=True))
        return
    if data.act == "open":
        outbox.add(callback.answer())
        turn.put(*await card(turn, settings, submission, data), message)
    elif data.act == "nik":
        if not roles.check(
            outbox, "reveal", role, person=person, region=roles.place(submission), callback=callback
        ):
            return
        outbox.add(callback.answer())
        await audit.audit(
            session,
            actor_id=person.id,
            action="review.reveal",
            subject=f"submission:{submission.id}",
            details={"kind": submission.kind},
        )
        turn.put(*await card(turn, settings, submission, data, reveal=True), message)
    elif data.act == "ok":
        await _decide(turn, callback, submission, SubmissionStatus.APPROVED, None, None)
        fresh = await store.get(session, submission.id)
        assert fresh is not None
        turn.put(*await card(turn, settings, fresh, data), message)
    elif data.act == "no":
        if submission.status != SubmissionStatus.SUBMITTED:
            await _too_late(turn, callback, submission)
            return
        outbox.add(callback.answer())
        await driver.begin(
            turn,
            "review_reason",
            {"submission": submission.id, "decision": "rejected",
             "templates": await _templates(turn, submission, "reject")},
        )  # fmt: skip
    elif data.act in ("ret", "retgo"):
        if submission.status != SubmissionStatus.SUBMITTED:
            await _too_late(turn, callback, submission)
            return
        _flow_key, fields = await correctable(turn, submission)
        chosen = [key for bit, (key, _label) in enumerate(fields) if data.m & (1 << bit)]
        if data.act == "retgo":
            if not chosen:
                outbox.add(callback.answer(_("Please choose at least one field."), show_alert=True))
                return
            outbox.add(callback.answer())
            await driver.begin(
                turn,
                "review_reason",
                {"submission": submission.id, "decision": "returned", "fields": chosen,
                 "templates": await _templates(turn, submission, "return")},
            )  # fmt: skip
            return
        outbox.add(callback.answer())
        buttons = [
            (("☑️ " if data.m & (1 << bit) else "⬜ ") + label,
             ReviewCB(act="ret", id=submission.id, k=data.k, p=data.p, r=data.r, m=data.m ^ (1 << bit)))
            for bit, (_key, label) in enumerate(fields[:13])
        ]  # fmt: skip
        buttons.append(
            (
                "➡️ " + _("Next: the reason"),
                ReviewCB(act="retgo", id=submission.id, k=data.k, p=data.p, r=data.r, m=data.m),
            )
        )
        buttons.append(
            ("⬅️ " + _("Back"), ReviewCB(act="open", id=submission.id, k=data.k, p=data.p, r=data.r))
        )
        turn.put(
            _("Which answers should the returnee correct? Choose one or more."),
            kb.buttons_column(buttons),
            message,
        )
    else:
        log.warning("unknown review button %r", data.act)
        outbox.add(callback.answer())


TEMPLATES_SHOWN = 6


async def _templates(turn: Turn, submission: Submission, action: str) -> list[list[Any]]:
    """The office's reasons for this decision that fit the submission and the reviewer's
    regions, as [id, title] for the reason's buttons: those in the returnee's language, else
    every one (the desk keeps them; operations.reasons decides which apply)."""
    found = reasons.offered(
        await reasons.usable(turn.session, roles.scope(turn.person, turn.role)),
        action=action,
        place=roles.place(submission),
    )
    owner = await coops.person(turn.session, submission.person_id)
    locale = owner.locale if owner is not None and owner.locale else "id"
    theirs = [tpl for tpl in found if tpl.locale == locale] or found
    return [[tpl.id, tpl.title] for tpl in theirs[:TEMPLATES_SHOWN]]


async def _too_late(turn: Turn, callback: CallbackQuery | None, submission: Submission) -> None:
    text = _("Someone decided first: it is now “{status}”.").format(
        status=status_label(submission.status)
    )
    if callback is not None:
        turn.outbox.add(callback.answer(text, show_alert=True))
    else:
        turn.say(text)


async def _decide(
    turn: Turn,
    callback: CallbackQuery | None,
    submission: Submission,
    status: SubmissionStatus,
    reason: str | None,
    fields: list[str] | None,
) -> bool:
    """Decide through the operation; the returnee's notice goes out after the commit."""
    done = await decisions.decide(
        turn.session,
        submission_id=submission.id,
        reviewer_id=turn.person.id,
        status=status,
        reason=reason,
        fields=fields,
        now=clock.now(),
    )
    if not done.ok:
        fresh = await store.get(turn.session, submission.id)
        await _too_late(turn, callback, fresh or submission)
        return False
    if callback is not None:
        turn.outbox.add(
            callback.answer(_("Done: {status}.").format(status=status_label(status.value)))
        )
    await notices.deliver(turn.session, turn.outbox, done.notices)
    return True


def _what(submission: Submission, *, escape: bool = True) -> str:
    """The submission as its person knows it, in the current (their) language (HTML-escaped,
    unless `escape` is False for a caller that escapes it)."""
    a = submission.answers or {}
    q = html.escape if escape else str
    if submission.kind == SubmissionKind.JOIN_REQUEST.value and a.get("cooperative_name"):
        return _("Your request to join {name}").format(name=q(str(a["cooperative_name"])))
    if submission.kind == SubmissionKind.FOUNDING.value and a.get("name"):
        return _("The founding file of {name}").format(name=q(str(a["name"])))
    if submission.kind == SubmissionKind.TRAINING.value and a.get("title"):
        return _("Your registration for {title}").format(title=q(str(a["title"])))
    return _("Your KUR readiness check")


# What follows a rejection on the kind's journey, said in the one message its person gets.
AFTER_REJECTION = {
    SubmissionKind.TRAINING.value: N_("Your place in it is released."),
    SubmissionKind.KUR_READINESS.value: N_(
        "When you are ready, you can start a new check from the KUR menu."
    ),
}


# A reviewer's decision on a KUR readiness check is not the bank's: never worded as a loan
# approval or refusal.
KUR_CHECKED = {
    SubmissionStatus.APPROVED.value: N_(
        "✅ A staff member has checked your KUR readiness check. This is not a loan approval: "
        "the bank decides, after its own checks. The next steps are on /progres."
    ),
    SubmissionStatus.REJECTED.value: N_(
        "✖️ A staff member has checked your KUR readiness check and thinks you are not ready "
        "to apply yet. This is not the bank's answer."
    ),
}


@notices.renders("review.decided")
async def decided_notice(
    session: AsyncSession, person: Person, args: dict[str, Any]
) -> tuple[str, Any] | None:
    """The returnee hears the decision: approved, not approved (why, and what follows), or
    returned (why, which fields, and a button straight to them)."""
    submission = await store.get(session, int(args["submission"]))
    if submission is None:
        return None
    what = _what(submission)
    reason = html.escape(str(args.get("reason") or ""))
    status = args.get("status")
    kur = submission.kind == SubmissionKind.KUR_READINESS.value
    if kur and status == SubmissionStatus.APPROVED.value:
        return t(KUR_CHECKED[status]), None
    if status == SubmissionStatus.APPROVED.value:
        text = (
            "✅ "
            + _("{what} was approved.").format(what=what)
            + "\n"
            + _("The next steps are on /progres.")
        )
        return text, None
    if status == SubmissionStatus.REJECTED.value:
        after = AFTER_REJECTION.get(submission.kind)
        lines = [
            t(KUR_CHECKED[status])
            if kur
            else "✖️ " + _("{what} was not approved.").format(what=what),
            _("The reviewer wrote: {reason}").format(reason=reason),
            t(after) if after else _("You can ask your coordinator about it, or try again later."),
        ]
        return "\n".join(lines), None
    flow_key, _keys = await _correction_of(session, submission)
    names = ", ".join(field_label(flow_key, f) for f in args.get("fields") or [])
    text = (
        "↩️ "
        + _("{what} needs a small correction: {fields}").format(
            what=what, fields=html.escape(names)
        )
        + "\n"
        + _("The reviewer wrote: {reason}").format(reason=reason)
    )
    return text, kb.single("✏️ " + _("Correct it now"), FixCB(id=submission.id))


# --- the returnee's progress page ---------------------------------------------------------

JOURNEY_OF = {
    SubmissionKind.JOIN_REQUEST.value: "coop",
    SubmissionKind.FOUNDING.value: "coop",
    SubmissionKind.KUR_READINESS.value: "kur",
    SubmissionKind.TRAINING.value: "training",
}
REJECTION_SHOWN = timedelta(days=30)  # a rejection stays on /progres this long after it


async def decision_note(
    session: AsyncSession, submission: Submission
) -> tuple[list[str], tuple[str, CallbackData] | None]:
    """Below a returned or rejected submission on /progres: the reviewer's reason, the fields
    to correct, and the button that starts the correction (nothing for the others)."""
    reason = html.escape(submission.reason or "")
    if submission.status == SubmissionStatus.REJECTED:
        return ["✖️ " + _("The reviewer wrote: {reason}").format(reason=reason)], None
    if submission.status != SubmissionStatus.RETURNED:
        return [], None
    flow_key, _keys = await _correction_of(session, submission)
    names = ", ".join(field_label(flow_key, f) for f in submission.returned_fields or [])
    return (
        [
            "↩️ " + _("The reviewer wrote: {reason}").format(reason=reason),
            _("To correct: {fields}").format(fields=html.escape(names)),
        ],
        ("✏️ " + _("Correct it now"), FixCB(id=submission.id)),
    )


def decision_lines(
    submissions: list[Submission], listed: set[int], now: datetime
) -> list[journeys.Line]:
    """/progres lines for the person's returned submissions, and those rejected lately, that no
    journey lists itself: the newest of each subject (a newer one supersedes it)."""
    seen: set[tuple[str, int | None]] = set()
    found = []
    for sub in sorted(submissions, key=lambda s: (s.created_at, s.id), reverse=True):
        subject = (sub.kind, sub.ref_id)
        if subject in seen:
            continue
        seen.add(subject)
        recent = sub.decided_at is not None and sub.decided_at >= now - REJECTION_SHOWN
        if sub.id in listed or sub.kind not in JOURNEY_OF:
            continue
        if sub.status == SubmissionStatus.RETURNED or (
            sub.status == SubmissionStatus.REJECTED and recent
        ):
            found.append(
                journeys.Line(
                    journey=JOURNEY_OF[sub.kind],
                    title=_what(sub, escape=False),
                    status=status_label(sub.status),
                    submission=sub.id,
                )
            )
    return found


# --- the reviewer's reason, and the returnee's correction -------------------------------------


@driver.on_finish("review_reason")
async def reason_done(turn: Turn, run: FlowRun) -> None:
    """The reason is typed: decide now (the role is checked again: it may have been revoked)."""
    answers = run.answers or {}
    if not roles.can(turn.role, "review"):
        roles.refuse(turn.outbox, "review", turn.role)
        turn.say(_("Sorry, only reviewers can do that."))
        return
    submission = await store.get(turn.session, int(answers.get("submission") or 0))
    if submission is None or not roles.may(
        turn.person, turn.role, "review", roles.place(submission)
    ):
        log.warning("refused a review decision on a submission outside the reviewer's reach")
        turn.say(_("That submission is not in your queue."))
        return
    status = (
        SubmissionStatus.REJECTED
        if answers.get("decision") == "rejected"
        else SubmissionStatus.RETURNED
    )
    fields = list(answers.get("fields") or []) if status == SubmissionStatus.RETURNED else None
    action = "reject" if status == SubmissionStatus.REJECTED else "return"
    reason = str(answers.get("reason") or "")
    if reason.startswith(TEMPLATE):  # a template pressed: its words, if it still applies
        raw = reason.removeprefix(TEMPLATE)
        template = None
        if raw.isdigit() and len(raw) < 12:
            template = await reasons.applicable(
                turn.session, int(raw), scope=roles.scope(turn.person, turn.role),
                action=action, places=[roles.place(submission)],
            )  # fmt: skip
        if template is None:  # retired meanwhile: ask again, decide nothing
            turn.say(_("That reason template cannot be used here. Please choose another one."))
            kept = {k: answers[k] for k in ("submission", "decision", "fields") if k in answers}
            kept["templates"] = await _templates(turn, submission, action)
            await driver.begin(turn, "review_reason", kept)
            return
        reason = template.body
    if await _decide(turn, None, submission, status, reason, fields):
        turn.say(
            _("Done: {status}. The returnee was told.").format(status=status_label(status.value)),
            kb.single(
                "📋 " + _("Back to the queue"), ReviewCB(act="list", k=KINDS.index(submission.kind))
            ),
        )


async def fix_pressed(
    callback: CallbackQuery,
    callback_data: FixCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """The returnee starts their correction: only the fields sent back, answers kept."""
    if person is None:
        outbox.add(callback.answer(_("Please send /start to begin."), show_alert=True))
        return
    submission = await store.get(session, callback_data.id)
    if (
        submission is None
        or submission.person_id != person.id
        or submission.status != SubmissionStatus.RETURNED
    ):
        outbox.add(
            callback.answer(_("There is nothing to correct here any more."), show_alert=True)
        )
        return
    outbox.add(callback.answer())
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    fields = list(submission.returned_fields or [])
    run = (
        await repo.run_of(session, run_id=submission.run_id, person_id=person.id)
        if submission.run_id is not None
        else None
    )
    flow_key, _keys = await _correction_of(session, submission)
    if not any(f in _steps(flow_key) for f in fields):  # returned before the kinds had their own
        legacy = run.flow if run is not None and run.flow in registry.FLOWS else "profile_edit"
        flow_key = legacy if any(f in _steps(legacy) for f in fields) else "profile_edit"
    await driver.correct(turn, flow_key, _known(submission, run, person, flow_key), fields)


def _steps(flow_key: str) -> set[str]:
    return {s.key for s in registry.get(flow_key).steps}


def _known(
    submission: Submission, run: FlowRun | None, person: Person, flow_key: str
) -> dict[str, Any]:
    """What the correction run starts from: the flow's answers as the submission has them now
    (the run's, then the snapshot's, which holds the corrections since), and the profile's
    details; so each question shows the answer it corrects, and choices read earlier answers."""
    steps = _steps(flow_key)
    known: dict[str, Any] = (
        dict(run.answers or {}) if run is not None and run.flow == flow_key else {}
    )
    known.update({k: v for k, v in (submission.answers or {}).items() if k in steps})
    for key in ("name", "phone", "nik"):
        if key in steps and known.get(key) is None and getattr(person, key) is not None:
            known[key] = getattr(person, key)
    known = {k: v for k, v in known.items() if not k.startswith("_")}
    return {**known, "_submission": submission.id}


@driver.on_correction
async def corrected(turn: Turn, run: FlowRun) -> None:
    """The last field sent back is answered: the correction operation files it again (the
    snapshot, and the profile or plan the fields belong to)."""
    answers = run.answers or {}
    fixed = [k for k in answers.get(driver.FIXED, []) if k in answers]
    done = await decisions.correct(
        turn.session,
        submission_id=int(answers.get("_submission") or 0),
        person_id=turn.person.id,
        answers={k: answers[k] for k in fixed},
        now=clock.now(),
    )
    if not done.ok:
        turn.say(_("There is nothing to correct here any more."), kb.main_menu())
        return
    await notices.deliver(turn.session, turn.outbox, done.notices)
    turn.say("✅ " + _("Thank you! Your correction went back to the reviewer."), kb.main_menu())


def router() -> Router:
    r = Router(name="review")
    r.message.register(command, Command("tinjau", "review"))
    r.callback_query.register(pressed, ReviewCB.filter())
    r.callback_query.register(fix_pressed, FixCB.filter())
    return r
