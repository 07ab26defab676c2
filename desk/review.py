"""The review queue at the desk: a table of submissions inside the reviewer's regions, filters,
search (a name, the last four digits of a phone or NIK, a whole NIK), pages by keyset; one
submission with every answer as its person reads it and its history; decisions one by one and
in bulk, through `operations.decisions.decide` as the bot's /tinjau makes them, the notices
queued for the bot to send in the same transaction.

Searches are posted, never put in the address: a name or a NIK stays out of URLs, browser
history and proxy logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import roles
from bot.config import Settings
from bot.handlers import review as bot_review
from bot.text import shown, t
from desk.app import DB, SETTINGS, VIEWER, Viewer, render, see_other, sign_in_first, url
from desk.app import refused as refuse_page
from flows import clock, regions, snapshots, validators
from flows.errors import Invalid
from flows.review import REASON_MAX
from flows.validators import mask_nik, mask_phone
from operations import decisions
from operations import desk as outbox
from storage import audit, coops, desk_queue
from storage import reviews as store
from storage.models import Submission, SubmissionKind, SubmissionStatus

log = logging.getLogger(__name__)
PAGE = 50
BULK_MAX = 200
STATUSES = tuple(s.value for s in SubmissionStatus)
DECISIONS = {
    "approve": SubmissionStatus.APPROVED,
    "reject": SubmissionStatus.REJECTED,
    "return": SubmissionStatus.RETURNED,
}


def _reviewer(request: web.Request) -> Viewer | web.Response:
    viewer: Viewer | None = request.get(VIEWER)  # type: ignore[assignment]
    if viewer is None:
        return sign_in_first(request)
    if not viewer.may("review"):
        log.warning("desk: refused review for role %s", viewer.role)
        return refuse_page(request, t("Sorry, only reviewers can do that."), 403)
    return viewer


def about(kind: str, answers: dict[str, Any]) -> str:
    """What a submission is about: the cooperative, the plan, the session, the scheme."""
    for key in ("cooperative_name", "name", "title", "business", "scheme", "purpose"):
        if kind == SubmissionKind.FOUNDING.value or key != "name":
            value = answers.get(key)
            if isinstance(value, str) and value:
                return value
    return "—"


def waited(created_at: datetime, now: datetime) -> str:
    hours = max(0, int((now - created_at).total_seconds() // 3600))
    if hours < 48:
        return t("{n} hours", n=hours)
    return t("{n} days", n=hours // 24)


def region_choices(viewer: Viewer) -> list[tuple[str, str]]:
    """The regions a reviewer may filter by: everywhere's provinces, or their own scope and the
    regencies inside a province of it."""
    if viewer.scope is None:
        return [(r.code, r.name) for r in regions.provinces()]
    found: list[tuple[str, str]] = []
    for code in viewer.scope:
        found.append((code, regions.display_name(code)))
        if "." not in code:
            found += [(r.code, regions.display_name(r.code)) for r in regions.regencies(code)]
    return found


@dataclass
class Filters:
    kind: str = ""
    status: str = SubmissionStatus.SUBMITTED.value
    region: str = ""
    q: str = ""
    after: int | None = None


def _filters(values: Any, *, posted: bool) -> Filters | None:
    """The filters asked for; None when one is not a value the page offers (forged)."""
    found = Filters(
        kind=str(values.get("kind", "")),
        status=str(values.get("status", SubmissionStatus.SUBMITTED.value)),
        region=str(values.get("region", "")),
        q=str(values.get("q", ""))[:100] if posted else "",
    )
    after = str(values.get("after", ""))
    if found.kind and found.kind not in store.KINDS:
        return None
    if found.status not in (*STATUSES, "all"):
        return None
    if found.region and regions.get(found.region) is None:
        return None
    if after:
        if not after.isdigit() or len(after) > 12:
            return None
        found.after = int(after)
    return found


async def queue(request: web.Request) -> web.Response:
    viewer = _reviewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    posted = request.method == "POST"
    values = await request.post() if posted else request.query
    filters = _filters(values, posted=posted)
    if filters is None:
        log.warning("desk: refused a queue filter that the page does not offer")
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    if filters.region and not roles.in_scope(filters.region, viewer.scope):
        log.warning("desk: refused a region outside the reviewer's scope")
        return refuse_page(request, t(roles.OUTSIDE), 403)
    settings: Settings = request.app[SETTINGS]
    rows = await desk_queue.page(
        request[DB],
        regions=viewer.scope,
        kind=filters.kind or None,
        status=None if filters.status == "all" else filters.status,
        region=filters.region or None,
        search=filters.q,
        after=filters.after,
        limit=PAGE + 1,
    )
    now = clock.now()
    late = now - timedelta(days=settings.review_overdue_days)
    table = [
        {
            "id": r.id,
            "name": r.name or t("(deleted)"),
            "kind": t(bot_review.KIND_ONE[r.kind]) if r.kind in bot_review.KIND_ONE else r.kind,
            "about": about(r.kind, r.answers),
            "region": regions.display_name(r.regency_code or r.province_code or "")
            if (r.regency_code or r.province_code)
            else "—",
            "waited": waited(r.created_at, now),
            "overdue": r.status == SubmissionStatus.SUBMITTED.value and r.created_at < late,
            "corrected": r.corrected,
            "status": r.status,
            "status_label": bot_review.status_label(r.status),
        }
        for r in rows[:PAGE]
    ]
    return render(
        request,
        "queue.html",
        {
            "rows": table,
            "more": rows[PAGE - 1].id if len(rows) > PAGE else None,
            "filters": filters,
            "kinds": [(k, t(bot_review.KIND_LABELS[k])) for k in store.KINDS],
            "statuses": [(s, bot_review.status_label(s)) for s in STATUSES],
            "region_choices": region_choices(viewer),
            "done": _done_message(request.query),
            "overdue_days": settings.review_overdue_days,
        },
    )


def _done_message(query: Any) -> str:
    """What the last decision did, said on the page it led to (the address holds no names)."""
    done = query.get("done", "")
    if done in DECISIONS:
        return t("Done: {status}. The returnee will be told.",
                 status=bot_review.status_label(DECISIONS[done].value))  # fmt: skip
    if done == "bulk":
        n, late = query.get("n", "0"), query.get("late", "0")
        if n.isdigit() and late.isdigit():
            text = t("{n} decided; each returnee will be told.", n=n)
            if int(late):
                text += " " + t("{n} were already decided by someone else.", n=late)
            return text
    return ""


async def _reachable(request: web.Request, viewer: Viewer, raw: str) -> Submission | web.Response:
    """The submission, if it exists and is inside the reviewer's regions (else the same "not
    in your queue" either way, so an address tells nothing about other regions)."""
    submission = await store.get(request[DB], int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if submission is None or not viewer.may("review", roles.place(submission)):
        if submission is not None:
            log.warning("desk: refused a submission outside the reviewer's reach")
        return refuse_page(request, t("That submission is not in your queue."), 404)
    return submission


async def _history(db: AsyncSession, submission: Submission) -> list[dict[str, Any]]:
    entries = await audit.audit_of(db, subject=f"submission:{submission.id}")
    said = {
        "review.approve": t("approved"),
        "review.reject": t("not approved"),
        "review.return": t("returned for correction"),
        "review.reveal": t("shown in full"),
    }
    found = [{"at": submission.created_at, "what": t("submitted"), "who": ""}]
    for entry in entries:
        if entry.action not in said:
            continue
        who = await coops.person(db, entry.actor_id) if entry.actor_id else None
        found.append(
            {"at": entry.at, "what": said[entry.action], "who": (who.name or "") if who else ""}
        )
    return found


async def item(request: web.Request, *, error: str = "", status: int = 200,
               reason: str = "") -> web.Response:  # fmt: skip
    viewer = _reviewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    submission = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(submission, Submission):
        return submission
    db = request[DB]
    person = await coops.person(db, submission.person_id) if submission.person_id else None
    tz = regions.zone_of(submission.province_code)
    answers = [
        (t(field.label), shown(value, tz=tz, reveal=False))
        for field, value in snapshots.readable(submission.kind, dict(submission.answers or {}))
        if field.type != snapshots.ID
    ] + list(snapshots.unlabelled(submission.kind, dict(submission.answers or {})))
    flow_key, keys = await bot_review._correction_of(db, submission)
    settings: Settings = request.app[SETTINGS]
    late = submission.created_at < clock.now() - timedelta(days=settings.review_overdue_days)
    return render(
        request,
        "item.html",
        {
            "s": submission,
            "kind": t(bot_review.KIND_ONE.get(submission.kind, submission.kind)),
            "name": (person.name or "—") if person else t("(deleted)"),
            "phone": mask_phone(person.phone) if person and person.phone else "",
            "nik": mask_nik(person.nik) if person and person.nik else "",
            "region": regions.display_name(roles.place(submission) or "")
            if roles.place(submission)
            else "—",
            "status_label": bot_review.status_label(submission.status),
            "waiting": submission.status == SubmissionStatus.SUBMITTED.value,
            "overdue": late and submission.status == SubmissionStatus.SUBMITTED.value,
            "corrected": submission.returned_fields is not None,
            "answers": answers,
            "fields": [(k, bot_review.field_label(flow_key, k)) for k in keys],
            "history": await _history(db, submission),
            "error": error,
            "reason": reason,
            "done": _done_message(request.query),
        },
        status=status,
    )


def _reason(raw: str) -> str:
    return validators.text(raw, min_len=5, max_len=REASON_MAX)


async def decide(request: web.Request) -> web.Response:
    """One decision: approve, or reject or return with a reason (a return names fields)."""
    viewer = _reviewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    submission = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(submission, Submission):
        return submission
    form = await request.post()
    status = DECISIONS.get(str(form.get("decision", "")))
    raw_reason = str(form.get("reason", ""))
    if status is None:
        return await item(request, error=t("Please choose a decision."), status=400,
                          reason=raw_reason)  # fmt: skip
    reason: str | None = None
    fields: list[str] | None = None
    if status != SubmissionStatus.APPROVED:
        try:
            reason = _reason(raw_reason)
        except Invalid as exc:
            return await item(request, error=t(exc.msgid, **exc.params), status=400,
                              reason=raw_reason)  # fmt: skip
    if status == SubmissionStatus.RETURNED:
        _flow, keys = await bot_review._correction_of(request[DB], submission)
        fields = [f for f in form.getall("fields", []) if f in keys]
        if not fields:
            return await item(request, error=t("Please choose at least one field."), status=400,
                              reason=raw_reason)  # fmt: skip
    now = clock.now()
    done = await decisions.decide(
        request[DB],
        submission_id=submission.id,
        reviewer_id=viewer.person.id,
        status=status,
        reason=reason,
        fields=fields,
        now=now,
    )
    if not done.ok:
        fresh = await store.get(request[DB], submission.id)
        return await item(
            request,
            error=t("Someone decided first: it is now “{status}”.",
                    status=bot_review.status_label((fresh or submission).status)),
            status=409,
        )  # fmt: skip
    await outbox.queue_notices(request[DB], done.notices, now=now)
    word = next(k for k, v in DECISIONS.items() if v == status)
    if form.get("next") == "1":
        following = await desk_queue.next_waiting(
            request[DB], regions=viewer.scope, after=submission.id
        )
        if following is not None:
            return see_other(url(request, f"tinjau/{following}?done={word}"))
    return see_other(url(request, f"tinjau?done={word}"))


async def bulk(request: web.Request) -> web.Response:
    """Many at once: approve, or reject with one reason; each decided through the operation,
    the first reviewer winning each one."""
    viewer = _reviewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    form = await request.post()
    raw = form.getall("ids", [])
    ids = sorted({int(i) for i in raw if isinstance(i, str) and i.isdigit() and len(i) < 12})
    status = DECISIONS.get(str(form.get("decision", "")))
    if not ids:
        return refuse_page(request, t("Please choose at least one submission."), 400)
    if status not in (SubmissionStatus.APPROVED, SubmissionStatus.REJECTED):
        return refuse_page(request, t("Please choose a decision."), 400)
    if len(ids) > BULK_MAX:
        return refuse_page(request, t("At most {n} at once, please.", n=BULK_MAX), 400)
    reason = None
    if status == SubmissionStatus.REJECTED:
        try:
            reason = _reason(str(form.get("reason", "")))
        except Invalid as exc:
            return refuse_page(request, t(exc.msgid, **exc.params), 400)
    db, now = request[DB], clock.now()
    for submission_id in ids:  # all checked before any is decided: all or nothing
        submission = await store.get(db, submission_id)
        if submission is None or not viewer.may("review", roles.place(submission)):
            log.warning("desk: refused a bulk item outside the reviewer's reach")
            return refuse_page(request, t("That submission is not in your queue."), 404)
    decided = late = 0
    for submission_id in ids:
        done = await decisions.decide(
            db, submission_id=submission_id, reviewer_id=viewer.person.id, status=status,
            reason=reason, fields=None, now=now,
        )  # fmt: skip
        if not done.ok:
            late += 1
            continue
        decided += 1
        await outbox.queue_notices(db, done.notices, now=now)
    return see_other(url(request, f"tinjau?done=bulk&n={decided}&late={late}"))


def routes(app: web.Application) -> None:
    app.router.add_get("/tinjau", queue, name="desk.queue")
    app.router.add_post("/tinjau", queue, name="desk.queue.search")
    app.router.add_post("/tinjau/massal", bulk, name="desk.bulk")
    app.router.add_get("/tinjau/{id}", item, name="desk.item")
    app.router.add_post("/tinjau/{id}", decide, name="desk.decide")
