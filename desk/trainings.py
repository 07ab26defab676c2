"""Training sessions at the desk: the sessions inside a coordinator's regions (upcoming or
past, seats taken and the waitlist), a session's page (participants, the waitlist, attendance
marked on the day, the list downloaded as CSV or Excel, audited), and the form that adds or
changes one, read with the rules of the bot's /pelatihan_baru flow (flows.training.check_form).

Every change is an operation (operations.trainings), as the bot makes it; whoever must be told
(a cancelled or moved session, a seat from the waitlist) is told by the bot's delivery, from
the outbox rows written in the same transaction.
"""

from __future__ import annotations

import csv
import io
import logging
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot import roles
from bot.exports import TEXT_MARK, _clean, _not_kept_as_text
from bot.text import t
from desk.app import DB, VIEWER, Viewer, render, see_other, sign_in_first, url
from desk.app import refused as refuse_page
from flows import clock, regions
from flows.errors import Invalid
from flows.i18n import N_
from flows.training import ALL, FORM_FIELDS, TOPIC_LABELS, TOPICS, check_form, hhmm
from flows.validators import mask_phone
from operations import desk as outbox
from operations import trainings as ops
from operations.trainings import Standing, session_zone, standing
from storage import audit
from storage import trainings as store
from storage.models import RegistrationStatus, Training

log = logging.getLogger(__name__)
PAGE = 50
ACTION = "training.manage"
STANDING_LABELS = {
    Standing.REGISTERED: N_("seat"),
    Standing.AWAITING: N_("seat, waiting for confirmation"),
    Standing.RETURNED: N_("seat, returned for correction"),
    Standing.CONFIRMED: N_("seat, confirmed"),
    Standing.WAITLISTED: N_("waitlist"),
}
REFUSED = {
    "outside": roles.OUTSIDE,
    "same_session": N_("There is already a session with this title starting at that time. "
                       "Nothing was saved. Please use a different title or time."),
    "gone": N_("That session is cancelled or no longer exists. Nothing was changed."),
    "already_cancelled": N_("That session is already cancelled."),
    "too_early": N_("Attendance can be marked from the day of the session."),
}  # fmt: skip


def _manager(request: web.Request) -> Viewer | web.Response:
    viewer: Viewer | None = request.get(VIEWER)  # type: ignore[assignment]
    if viewer is None:
        return sign_in_first(request)
    if not viewer.may(ACTION):
        log.warning("desk: refused %s for role %s", ACTION, viewer.role)
        return refuse_page(request, t(roles.ACTIONS[ACTION][1]), 403)
    return viewer


def place_choices(scope: list[str] | None) -> list[tuple[str, str]]:
    """The provinces and regencies someone with this scope may choose: everywhere's, or
    their own regions and the regencies inside a province of them."""
    found: list[tuple[str, str]] = []
    codes = [r.code for r in regions.provinces()] if scope is None else list(scope)
    for code in codes:
        found.append((code, regions.display_name(code)))
        if "." not in code:
            found += [(r.code, regions.display_name(r.code)) for r in regions.regencies(code)]
    return found


async def _reachable(request: web.Request, viewer: Viewer, raw: str) -> Training | web.Response:
    """The session, if it exists and is inside the viewer's regions (the same answer either
    way, so an address tells nothing about other regions)."""
    found = await store.get(request[DB], int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if found is None or not viewer.may(ACTION, roles.place(found)):
        if found is not None:
            log.warning("desk: refused a training session outside the coordinator's reach")
        return refuse_page(request, t("That session is not among yours."), 404)
    return found


def _zone(viewer: Viewer) -> str:
    return regions.zone_of(viewer.person.province_code)


# --- the list -------------------------------------------------------------------------------


async def listing(request: web.Request) -> web.Response:
    viewer = _manager(request)
    if isinstance(viewer, web.Response):
        return viewer
    query = request.query
    when = query.get("when", "upcoming")
    region = query.get("region", "")
    page = query.get("page", "0")
    if (
        when not in ("upcoming", "past")
        or (region and regions.get(region) is None)
        or not page.isdigit()
        or len(page) > 6
    ):
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    if region and not roles.in_scope(region, viewer.scope):
        log.warning("desk: refused a region outside the coordinator's scope")
        return refuse_page(request, t(roles.OUTSIDE), 403)
    db = request[DB]
    found = await store.desk_list(
        db, scope=viewer.scope, region=region or None, past=when == "past",
        now=clock.now(), page=int(page), size=PAGE,
    )  # fmt: skip
    ids = [s.id for s in found.rows]
    taken, waiting = await store.taken(db, ids), await store.waiting(db, ids)
    rows = [
        {
            "s": s,
            "place": regions.display_name(roles.place(s) or "") if roles.place(s) else "",
            "topic": t(TOPIC_LABELS.get(s.topic, s.topic)),
            "taken": taken.get(s.id, 0),
            "waiting": waiting.get(s.id, 0),
        }
        for s in found.rows
    ]
    return render(
        request,
        "trainings.html",
        {
            "rows": rows,
            "when": when,
            "region": region,
            "region_choices": place_choices(viewer.scope),
            "page": found.number,
            "pages": found.pages,
            "done": _done(query.get("done", "")),
        },
    )


def _done(word: str) -> str:
    said = {
        "created": N_("Saved. People in the region can now find the session and register."),
        "edited": N_("Changes saved. Everyone registered or waiting is told of a new time or place."),
        "cancelled": N_("The session is cancelled. Everyone registered or waiting will be told."),
        "attendance": N_("Attendance saved."),
    }  # fmt: skip
    return t(said[word]) if word in said else ""


# --- one session ----------------------------------------------------------------------------


async def _people(request: web.Request, viewer: Viewer, training: Training) -> list[dict[str, Any]]:
    db = request[DB]
    found = await store.participants(db, training.id)
    submissions = await store.submissions_of(db, [r.id for r, _p in found])
    full = viewer.may("export.full")
    rows, waiting = [], 0
    for registration, person in found:
        where = person.regency_code or person.province_code
        state = standing(registration, training, submissions.get(registration.id))
        seat = registration.status == RegistrationStatus.REGISTERED
        waiting += 0 if seat else 1
        rows.append(
            {
                "id": registration.id,
                "name": person.name or "—",
                "region": regions.display_name(where) if where else "—",
                "phone": (person.phone if full else mask_phone(person.phone))
                if person.phone
                else "",
                "standing": t(STANDING_LABELS.get(state, N_("seat"))),
                "seat": seat,
                "position": 0 if seat else waiting,
                "attended": registration.attended_at is not None,
            }
        )
    return rows


def _day_has_come(training: Training) -> bool:
    zone = ZoneInfo(session_zone(training))
    return training.starts_at.astimezone(zone).date() <= clock.today(zone)


async def session_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    viewer = _manager(request)
    if isinstance(viewer, web.Response):
        return viewer
    training = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(training, Training):
        return training
    people = await _people(request, viewer, training)
    return render(
        request,
        "training.html",
        {
            "s": training,
            "place": regions.display_name(roles.place(training) or "")
            if roles.place(training)
            else t("Whole country (everyone)"),
            "topic": t(TOPIC_LABELS.get(training.topic, training.topic)),
            "seats": [p for p in people if p["seat"]],
            "waitlist": [p for p in people if not p["seat"]],
            "marking": _day_has_come(training) and not training.cancelled,
            "upcoming": training.starts_at > clock.now(),
            "error": error,
            "done": _done(request.query.get("done", "")),
        },
        status=status,
    )


async def attendance(request: web.Request) -> web.Response:
    """Who came, saved: a checkbox per seat holder (unticked: not present)."""
    viewer = _manager(request)
    if isinstance(viewer, web.Response):
        return viewer
    training = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(training, Training):
        return training
    form = await request.post()
    present = {
        int(v)
        for v in form.getall("present", [])
        if isinstance(v, str) and v.isdigit() and len(v) < 12
    }
    zone = ZoneInfo(session_zone(training))
    done = await ops.mark_attendance(
        request[DB], training_id=training.id, present=present, actor_id=viewer.person.id,
        scope=viewer.scope, today=clock.today(zone), now=clock.now(),
    )  # fmt: skip
    if not done.ok:
        return await session_page(request, error=t(REFUSED[done.refused or "gone"]), status=409)
    return see_other(url(request, f"pelatihan/{training.id}?done=attendance"))


async def cancel(request: web.Request) -> web.Response:
    viewer = _manager(request)
    if isinstance(viewer, web.Response):
        return viewer
    training = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(training, Training):
        return training
    form = await request.post()
    if form.get("confirm") != "yes":
        return await session_page(
            request, error=t("Please tick the box to confirm the cancellation."), status=400
        )
    now = clock.now()
    done = await ops.cancel_session(
        request[DB], training_id=training.id, scope=viewer.scope, now=now
    )
    if not done.ok:
        return await session_page(request, error=t(REFUSED[done.refused or "gone"]), status=409)
    await outbox.queue_notices(request[DB], done.notices, now=now)
    return see_other(url(request, f"pelatihan/{training.id}?done=cancelled"))


async def download(request: web.Request) -> web.StreamResponse:
    """The participant list and the waitlist as CSV or Excel, audited as the bot's exports
    are (who, which session, how many rows, the format, whether phones were in full)."""
    viewer = _manager(request)
    if isinstance(viewer, web.Response):
        return viewer
    training = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(training, Training):
        return training
    form = await request.post()
    fmt = str(form.get("format", ""))
    if fmt not in ("csv", "xlsx"):
        return refuse_page(request, t("Please choose CSV or Excel."), 400)
    people = await _people(request, viewer, training)
    full = viewer.may("export.full")
    await audit.audit(
        request[DB], actor_id=viewer.person.id, action="training.export",
        subject=f"training:{training.id}",
        details={"rows": len(people), "format": fmt, "full": full},
    )  # fmt: skip
    header = [t("No."), t("Name"), t("Region"), t("Phone"), t("Registration"), t("Present")]
    body = [
        [
            n,
            p["name"],
            p["region"],
            p["phone"],
            p["standing"] if p["seat"] else t("waitlist, place {n}", n=p["position"]),
            (t("yes") if p["attended"] else t("no")) if p["seat"] else "",
        ]
        for n, p in enumerate(people, start=1)
    ]
    stamp = clock.now().astimezone(ZoneInfo(_zone(viewer))).strftime("%Y%m%d-%H%M")
    name = f"peserta-pelatihan-{training.id}-{stamp}.{fmt}"
    data = _xlsx(header, body) if fmt == "xlsx" else _csv(header, body)
    kind = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return web.Response(
        body=data,
        headers={"Content-Type": kind, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def _kept(value: Any) -> Any:
    """Text a spreadsheet must read as text (never a formula, never a number)."""
    if isinstance(value, str):
        text = _clean(value)
        return TEXT_MARK + text if _not_kept_as_text(text) else text
    return value


def _csv(header: list[str], body: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in body:
        writer.writerow([_kept(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM: Excel reads it as UTF-8


def _xlsx(header: list[str], body: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(t("Participants")[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in body:
        line = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_clean(value) if isinstance(value, str) else value)
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text: never a formula
            line.append(cell)
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- add and change ---------------------------------------------------------------------------


def _values_of(training: Training, tz: str) -> dict[str, str]:
    """A session as its form shows it, times in the coordinator's zone."""
    zone = ZoneInfo(tz)
    start, end = training.starts_at.astimezone(zone), training.ends_at.astimezone(zone)
    return {
        "title": training.title,
        "organiser": training.organiser,
        "topic": training.topic,
        "date": start.date().isoformat(),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "mode": "online" if training.link and not training.place else "place",
        "place": training.place or "",
        "link": training.link or "",
        "region": roles.place(training) or ALL,
        "seats": str(training.seats),
        "approval": "yes" if training.needs_approval else "no",
    }


def _form(
    request: web.Request,
    viewer: Viewer,
    values: dict[str, str],
    *,
    training: Training | None = None,
    errors: dict[str, Invalid] | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    shown = {k: t(e.msgid, **e.params) for k, e in (errors or {}).items()}
    times = dict(values)
    for key in ("start", "end"):  # "09.00" as the time input reads it ("09:00")
        try:
            times[key] = hhmm(values.get(key, "")) if values.get(key) else ""
        except Invalid:
            times[key] = values.get(key, "")
    return render(
        request,
        "training_form.html",
        {
            "s": training,
            "v": times,
            "errors": shown,
            "error": error or (t("Please correct what is marked below.") if shown else ""),
            "topics": [(o.value, t(o.label)) for o in TOPICS],
            "places": ([(ALL, t("Whole country (everyone)"))] if viewer.scope is None else [])
            + place_choices(viewer.scope),
            "zone": _zone(viewer),
            "today": clock.today(ZoneInfo(_zone(viewer))).isoformat(),
        },
        status=status,
    )


async def new_form(request: web.Request) -> web.Response:
    viewer = _manager(request)
    if isinstance(viewer, web.Response):
        return viewer
    if viewer.scope is not None and not viewer.scope:
        return refuse_page(
            request,
            t("Your role has no regions yet, so you cannot add sessions. Please ask an admin."),
            403,
        )
    home = viewer.person.regency_code or viewer.person.province_code or ""
    default = home if home and roles.in_scope(home, viewer.scope) else ""
    values = {"mode": "place", "approval": "no", "seats": "30", "region": default}
    return _form(request, viewer, values)


async def edit_form(request: web.Request) -> web.Response:
    viewer = _manager(request)
    if isinstance(viewer, web.Response):
        return viewer
    training = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(training, Training):
        return training
    if training.cancelled:
        return refuse_page(request, t(REFUSED["gone"]), 409)
    return _form(request, viewer, _values_of(training, _zone(viewer)), training=training)


async def save(request: web.Request) -> web.Response:
    """A new session (no id in the address) or a change to one, through the operation."""
    viewer = _manager(request)
    if isinstance(viewer, web.Response):
        return viewer
    training: Training | None = None
    if "id" in request.match_info:
        found = await _reachable(request, viewer, request.match_info["id"])
        if not isinstance(found, Training):
            return found
        training = found
    form = await request.post()
    raw = {k: str(form.get(k, ""))[:400] for k in FORM_FIELDS}
    values, errors = check_form(raw, tz=_zone(viewer), scope=viewer.scope)
    if errors:
        return _form(request, viewer, raw, training=training, errors=errors, status=400)
    db, now = request[DB], clock.now()
    if training is None:
        done = await ops.create_session(
            db, values=values, created_by=viewer.person.id, scope=viewer.scope, now=now
        )
    else:
        done = await ops.edit_session(
            db, training_id=training.id, values=values, scope=viewer.scope, now=now
        )
    if not done.ok:
        if done.refused == "outside":
            log.warning("desk: refused a session placed outside the coordinator's scope")
        return _form(request, viewer, raw, training=training,
                     error=t(REFUSED.get(done.refused or "", REFUSED["gone"])), status=409)  # fmt: skip
    await outbox.queue_notices(db, done.notices, now=now)
    saved = done.changed["training"][0]
    word = "edited" if training is not None else "created"
    return see_other(url(request, f"pelatihan/{saved}?done={word}"))


def routes(app: web.Application) -> None:
    app.router.add_get("/pelatihan", listing, name="desk.trainings")
    app.router.add_get("/pelatihan/baru", new_form, name="desk.training.new")
    app.router.add_post("/pelatihan/baru", save, name="desk.training.create")
    app.router.add_get("/pelatihan/{id}", session_page, name="desk.training")
    app.router.add_get("/pelatihan/{id}/ubah", edit_form, name="desk.training.edit")
    app.router.add_post("/pelatihan/{id}/ubah", save, name="desk.training.save")
    app.router.add_post("/pelatihan/{id}/hadir", attendance, name="desk.training.attendance")
    app.router.add_post("/pelatihan/{id}/batal", cancel, name="desk.training.cancel")
    app.router.add_post("/pelatihan/{id}/unduh", download, name="desk.training.download")
