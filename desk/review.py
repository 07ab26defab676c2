"""The review queue at the desk: a table of submissions inside the reviewer's regions, filters
(kind, status, region, period, overdue), search (a name, the last four digits of a phone or NIK,
a whole NIK), sorts, pages by keyset; bulk decisions through `operations.decisions.decide` as
the bot's /tinjau makes them, the notices queued for the bot to send in the same transaction.
One submission's page and its decision are in desk/review_item.py.

Searches are posted, never put in the address: a name or a NIK stays out of URLs, browser
history and proxy logs. The other filters (codes and dates) ride in the address, so "next in
queue" after a decision follows the same filtered queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from bot import roles
from bot.config import Settings
from bot.handlers import review as bot_review
from bot.text import t
from desk import reasons
from desk.app import DB, SETTINGS, VIEWER, Viewer, render, see_other, sign_in_first, url
from desk.app import refused as refuse_page
from flows import clock, regions, validators
from flows.errors import Invalid
from flows.review import REASON_MAX, overdue_since
from operations import decisions
from operations import desk as outbox
from operations.reasons import offered
from storage import desk_queue
from storage import reviews as store
from storage.models import SubmissionKind, SubmissionStatus

log = logging.getLogger(__name__)
PAGE = 50
BULK_MAX = 200
STATUSES = tuple(s.value for s in SubmissionStatus)
DECISIONS = {
    "approve": SubmissionStatus.APPROVED,
    "reject": SubmissionStatus.REJECTED,
    "return": SubmissionStatus.RETURNED,
}


def _sorts() -> list[tuple[str, str]]:
    labels = {
        "oldest": t("Waiting longest first"),
        "newest": t("Newest first"),
        "name": t("Name (A to Z)"),
        "region": t("Region"),
    }
    return [(key, labels[key]) for key in desk_queue.SORTS]


def reviewer(request: web.Request) -> Viewer | web.Response:
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
    """The queue a reviewer asked for; every field but `q` and `after` may ride in an address."""

    kind: str = ""
    status: str = SubmissionStatus.SUBMITTED.value
    region: str = ""
    since: str = ""  # a day, YYYY-MM-DD, in the reviewer's zone
    until: str = ""
    overdue: bool = False
    sort: str = "oldest"
    q: str = ""
    after: int | None = None

    def address(self) -> str:
        """The filters as a query string (no search, no page), "" when all are the defaults."""
        pairs = [
            (name, value)
            for name, value, default in (
                ("kind", self.kind, ""),
                ("status", self.status, SubmissionStatus.SUBMITTED.value),
                ("region", self.region, ""),
                ("since", self.since, ""),
                ("until", self.until, ""),
                ("overdue", "1" if self.overdue else "", ""),
                ("sort", self.sort, "oldest"),
            )
            if value != default
        ]
        return urlencode(pairs)

    def hidden(self) -> list[tuple[str, str]]:
        """The same as hidden inputs of a form."""
        return parse_qsl(self.address())


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def parse_filters(values: Any, *, posted: bool) -> Filters | None:
    """The filters asked for; None when one is not a value the page offers (forged)."""
    found = Filters(
        kind=str(values.get("kind", "")),
        status=str(values.get("status", SubmissionStatus.SUBMITTED.value)),
        region=str(values.get("region", "")),
        since=str(values.get("since", ""))[:10],
        until=str(values.get("until", ""))[:10],
        overdue=str(values.get("overdue", "")) == "1",
        sort=str(values.get("sort", "oldest")),
        q=str(values.get("q", ""))[:100] if posted else "",
    )
    after = str(values.get("after", ""))
    if found.kind and found.kind not in store.KINDS:
        return None
    if found.status not in (*STATUSES, "all"):
        return None
    if found.region and regions.get(found.region) is None:
        return None
    if found.sort not in desk_queue.SORTS:
        return None
    if any(raw and _day(raw) is None for raw in (found.since, found.until)):
        return None
    if after:
        if not after.isdigit() or len(after) > 12:
            return None
        found.after = int(after)
    return found


def check_filters(request: web.Request, viewer: Viewer, filters: Filters) -> web.Response | None:
    """A refusal for filters the reviewer may not use, or None."""
    if filters.region and not roles.in_scope(filters.region, viewer.scope):
        log.warning("desk: refused a region outside the reviewer's scope")
        return refuse_page(request, t(roles.OUTSIDE), 403)
    since, until = _day(filters.since), _day(filters.until)
    if since and until and until < since:
        return refuse_page(request, t("The period ends before it starts. Please choose the "
                                      "dates again."), 400)  # fmt: skip
    return None


def query_of(request: web.Request, viewer: Viewer, filters: Filters,
             *, search: bool = True) -> desk_queue.Query:  # fmt: skip
    """The storage query for these filters: days in the reviewer's zone, overdue in working
    days (REVIEW_OVERDUE_DAYS)."""
    zone = ZoneInfo(regions.zone_of(viewer.person.province_code))
    since, until = _day(filters.since), _day(filters.until)
    settings: Settings = request.app[SETTINGS]
    return desk_queue.Query(
        regions=viewer.scope,
        kind=filters.kind or None,
        status=None if filters.status == "all" else filters.status,
        region=filters.region or None,
        search=filters.q if search else "",
        since=datetime.combine(since, time(), zone) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), zone) if until else None,
        overdue_before=overdue_since(clock.now(), settings.review_overdue_days)
        if filters.overdue
        else None,
        sort=filters.sort,
    )


def late_before(request: web.Request) -> datetime:
    settings: Settings = request.app[SETTINGS]
    return overdue_since(clock.now(), settings.review_overdue_days)


async def queue(request: web.Request) -> web.Response:
    viewer = reviewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    posted = request.method == "POST"
    values = await request.post() if posted else request.query
    filters = parse_filters(values, posted=posted)
    if filters is None:
        log.warning("desk: refused a queue filter that the page does not offer")
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    refused = check_filters(request, viewer, filters)
    if refused is not None:
        return refused
    settings: Settings = request.app[SETTINGS]
    rows = await desk_queue.page(
        request[DB], query_of(request, viewer, filters), after=filters.after, limit=PAGE + 1
    )
    now, late = clock.now(), late_before(request)
    address = filters.address()
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
            "link": f"tinjau/{r.id}" + (f"?{address}" if address else ""),
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
            "sorts": _sorts(),
            "sort_label": dict(_sorts())[filters.sort],
            "done": done_message(request.query),
            "overdue_days": settings.review_overdue_days,
            "templates": offered(await reasons.usable(request[DB], viewer), action="reject"),
        },
    )


def done_message(query: Any) -> str:
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


def reason_of(raw: str) -> str:
    return validators.text(raw, min_len=5, max_len=REASON_MAX)


async def bulk(request: web.Request) -> web.Response:
    """Many at once: approve, or reject with one reason (typed, or a template's); each decided
    through the operation, the first reviewer winning each one."""
    viewer = reviewer(request)
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
    db, now = request[DB], clock.now()
    places = []
    for submission_id in ids:  # all checked before any is decided: all or nothing
        submission = await store.get(db, submission_id)
        if submission is None or not viewer.may("review", roles.place(submission)):
            log.warning("desk: refused a bulk item outside the reviewer's reach")
            return refuse_page(request, t("That submission is not in your queue."), 404)
        places.append(roles.place(submission))
    reason = None
    if status == SubmissionStatus.REJECTED:
        try:
            reason = await reasons.chosen(
                db, viewer, form, action="reject", places=places, validate=reason_of
            )
        except Invalid as exc:
            return refuse_page(request, t(exc.msgid, **exc.params), 400)
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
    filters = parse_filters(form, posted=False) or Filters()
    address = replace(filters, q="").address()
    return see_other(url(request, f"tinjau?done=bulk&n={decided}&late={late}"
                                  + (f"&{address}" if address else "")))  # fmt: skip


def routes(app: web.Application) -> None:
    from desk import review_item

    app.router.add_get("/tinjau", queue, name="desk.queue")
    app.router.add_post("/tinjau", queue, name="desk.queue.search")
    app.router.add_post("/tinjau/massal", bulk, name="desk.bulk")
    reasons.routes(app)
    review_item.routes(app)
