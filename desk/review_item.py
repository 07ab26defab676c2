"""One submission at the desk: every answer as its person reads it, the history (submitted,
decided with the reason and by whom, returned with the fields asked, corrected with each
field before and after), the NIK and phone masked until an audited reveal (a POST, shown on
that one answer), and the decision, with the office's reason templates, keyboard shortcuts
(desk/static/desk.js) and "next in queue" after it: the next submission of the same filtered,
sorted queue (its filters ride in the address; a search never does).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import roles
from bot.handlers import review as bot_review
from bot.text import shown, t
from desk import reasons
from desk.app import DB, Viewer, render, see_other, url
from desk.app import refused as refuse_page
from desk.review import (
    DECISIONS,
    Filters,
    check_filters,
    done_message,
    late_before,
    parse_filters,
    query_of,
    reason_of,
    reviewer,
)
from flows import clock, regions, snapshots
from flows.errors import Invalid
from flows.validators import mask_nik, mask_phone
from operations import decisions
from operations import desk as outbox
from operations.reasons import offered
from storage import audit, coops, desk_queue, review_history
from storage import reviews as store
from storage.models import Person, Submission, SubmissionStatus

log = logging.getLogger(__name__)


async def _reachable(request: web.Request, viewer: Viewer, raw: str) -> Submission | web.Response:
    """The submission, if it exists and is inside the reviewer's regions (else the same "not
    in your queue" either way, so an address tells nothing about other regions)."""
    submission = await store.get(request[DB], int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if submission is None or not viewer.may("review", roles.place(submission)):
        if submission is not None:
            log.warning("desk: refused a submission outside the reviewer's reach")
        return refuse_page(request, t("That submission is not in your queue."), 404)
    return submission


def _value(kind: str, key: str, value: Any, *, tz: str, reveal: bool) -> str:
    """A corrected field's value as a person reads it; a NIK and a phone masked unless revealed."""
    if value is None or value == "":
        return "—"
    if key == "phone" and isinstance(value, str):
        return value if reveal else mask_phone(value)
    field = snapshots.field(kind, key)
    found = snapshots.read(field, value) if field is not None else None
    if found is not None:
        return shown(found, tz=tz, reveal=reveal)
    if key == "nik" and isinstance(value, str):
        return value if reveal else mask_nik(value)
    return str(value)


async def _history(db: AsyncSession, submission: Submission, flow_key: str, *,
                   reveal: bool) -> list[dict[str, Any]]:  # fmt: skip
    said = {
        "approved": t("approved"),
        "rejected": t("not approved"),
        "returned": t("returned for correction"),
        "corrected": t("corrected by the returnee"),
    }
    tz = regions.zone_of(submission.province_code)
    names: dict[int, str] = {}

    async def who(actor_id: int | None) -> str:
        if actor_id is None or actor_id == submission.person_id:
            return ""
        if actor_id not in names:
            person = await coops.person(db, actor_id)
            names[actor_id] = (person.name or "") if person else ""
        return names[actor_id]

    found: list[dict[str, Any]] = [{"at": submission.created_at, "what": t("submitted")}]
    for event in await review_history.of(db, submission.id):
        changes = dict(event.changes or {})
        found.append({
            "at": event.at,
            "what": said.get(event.action, event.action),
            "who": await who(event.actor_id),
            "reason": event.reason or "",
            "asked": [bot_review.field_label(flow_key, k) for k in changes.get("fields", [])],
            "changes": [
                (bot_review.field_label(flow_key, key),
                 _value(submission.kind, key, pair.get("before"), tz=tz, reveal=reveal),
                 _value(submission.kind, key, pair.get("after"), tz=tz, reveal=reveal))
                for key, pair in dict(changes.get("values", {})).items()
            ],
        })  # fmt: skip
    for entry in await audit.audit_of(db, subject=f"submission:{submission.id}"):
        if entry.action == "review.reveal":
            found.append(
                {"at": entry.at, "what": t("NIK and phone shown in full"),
                 "who": await who(entry.actor_id)}
            )  # fmt: skip
    return sorted(found, key=lambda h: h["at"])


def _filters(request: web.Request) -> Filters:
    """The queue this submission was opened from (its filters in the address), else the
    default queue."""
    return parse_filters(request.query, posted=False) or Filters()


async def item(request: web.Request, *, error: str = "", status: int = 200, reason: str = "",
               reveal: bool = False) -> web.Response:  # fmt: skip
    viewer = reviewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    submission = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(submission, Submission):
        return submission
    db = request[DB]
    person = await coops.person(db, submission.person_id) if submission.person_id else None
    place = roles.place(submission)
    tz = regions.zone_of(submission.province_code)
    snapshot = dict(submission.answers or {})
    answers = [
        (t(field.label), shown(value, tz=tz, reveal=reveal))
        for field, value in snapshots.readable(submission.kind, snapshot)
        if field.type != snapshots.ID
    ] + list(snapshots.unlabelled(submission.kind, snapshot))
    flow_key, keys = await bot_review._correction_of(db, submission)
    filters = _filters(request)
    if check_filters(request, viewer, filters) is not None:
        filters = Filters()
    address = filters.address()
    following = await desk_queue.next_after(
        db, query_of(request, viewer, filters, search=False), after=submission.id
    )
    waiting = submission.status == SubmissionStatus.SUBMITTED.value
    templates = offered(await reasons.usable(db, viewer), place=place)
    mine = person.locale if person else "id"
    templates.sort(key=lambda tpl: tpl.locale != mine)  # the returnee's language first
    has_secret = bool(person and (person.nik or person.phone)) or any(
        field.type == snapshots.NIK for field, _v in snapshots.readable(submission.kind, snapshot)
    )
    return render(
        request,
        "item.html",
        {
            "s": submission,
            "kind": t(bot_review.KIND_ONE.get(submission.kind, submission.kind)),
            "name": (person.name or "—") if person else t("(deleted)"),
            "phone": _secret(person, "phone", reveal),
            "nik": _secret(person, "nik", reveal),
            "revealed": reveal,
            "may_reveal": has_secret and not reveal and viewer.may("reveal", place),
            "region": regions.display_name(place) if place else "—",
            "status_label": bot_review.status_label(submission.status),
            "waiting": waiting,
            "overdue": waiting and submission.created_at < late_before(request),
            "corrected": submission.returned_fields is not None,
            "answers": answers,
            "fields": [(k, bot_review.field_label(flow_key, k)) for k in keys],
            "history": await _history(db, submission, flow_key, reveal=reveal),
            "reject_templates": [tpl for tpl in templates if tpl.action == "reject"],
            "return_templates": [tpl for tpl in templates if tpl.action == "return"],
            "chosen_template": str((await request.post()).get("template", ""))
            if request.method == "POST"
            else "",
            "error": error,
            "reason": reason,
            "done": done_message(request.query),
            "query": f"?{address}" if address else "",
            "next": f"tinjau/{following}" + (f"?{address}" if address else "") if following else "",
        },
        status=status,
    )


def _secret(person: Person | None, what: str, reveal: bool) -> str:
    value = getattr(person, what, None) if person is not None else None
    if not value:
        return ""
    if reveal:
        return str(value)
    return mask_phone(value) if what == "phone" else mask_nik(value)


async def reveal(request: web.Request) -> web.Response:
    """The NIK and phone in full, on this one answer (a POST, never an address), audited."""
    viewer = reviewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    submission = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(submission, Submission):
        return submission
    if not viewer.may("reveal", roles.place(submission)):
        log.warning("desk: refused a reveal for role %s", viewer.role)
        return refuse_page(request, t("Sorry, only reviewers can do that."), 403)
    await audit.audit(
        request[DB], actor_id=viewer.person.id, action="review.reveal",
        subject=f"submission:{submission.id}", details={"kind": submission.kind, "via": "desk"},
    )  # fmt: skip
    return await item(request, reveal=True)


async def decide(request: web.Request) -> web.Response:
    """One decision: approve, or reject or return with a reason (typed, or a template's, edited
    or not; a return names fields); then the next of the same queue, if asked."""
    viewer = reviewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    submission = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(submission, Submission):
        return submission
    db = request[DB]
    form = await request.post()
    status = DECISIONS.get(str(form.get("decision", "")))
    raw_reason = str(form.get("reason", ""))

    async def again(error: str, code: int = 400) -> web.Response:
        return await item(request, error=error, status=code, reason=raw_reason)

    if status is None:
        return await again(t("Please choose a decision."))
    reason: str | None = None
    fields: list[str] | None = None
    if status != SubmissionStatus.APPROVED:
        action = "reject" if status == SubmissionStatus.REJECTED else "return"
        try:
            reason = await reasons.chosen(db, viewer, form, action=action,
                                          places=[roles.place(submission)], validate=reason_of)  # fmt: skip
        except Invalid as exc:
            return await again(t(exc.msgid, **exc.params))
    if status == SubmissionStatus.RETURNED:
        _flow, keys = await bot_review._correction_of(db, submission)
        fields = [f for f in form.getall("fields", []) if f in keys]
        if not fields:
            return await again(t("Please choose at least one field."))
    now = clock.now()
    done = await decisions.decide(
        db, submission_id=submission.id, reviewer_id=viewer.person.id, status=status,
        reason=reason, fields=fields, now=now,
    )  # fmt: skip
    if not done.ok:
        fresh = await store.get(db, submission.id)
        return await again(
            t("Someone decided first: it is now “{status}”.",
              status=bot_review.status_label((fresh or submission).status)),
            409,
        )  # fmt: skip
    await outbox.queue_notices(db, done.notices, now=now)
    word = next(k for k, v in DECISIONS.items() if v == status)
    filters = _filters(request)
    address = filters.address()
    tail = f"?done={word}" + (f"&{address}" if address else "")
    if form.get("next") == "1":
        following = await desk_queue.next_after(
            db, query_of(request, viewer, filters, search=False), after=submission.id
        )
        if following is not None:
            return see_other(url(request, f"tinjau/{following}{tail}"))
    return see_other(url(request, f"tinjau{tail}"))


def routes(app: web.Application) -> None:
    app.router.add_get("/tinjau/{id}", item, name="desk.item")
    app.router.add_post("/tinjau/{id}", decide, name="desk.decide")
    app.router.add_post("/tinjau/{id}/nik", reveal, name="desk.reveal")
