"""Announcements at the desk: every draft, scheduled, sending and sent one inside the viewer's
regions with its counts; pause, resume and cancel; compose for several regions at once (and
a journey step or an interest, as the bot's /siaran offers), see how many it reaches and a
preview, then send now or schedule it.

The same operations as the bot's /siaran (operations.broadcasts): the sending itself stays the
bot's (bot/broadcasts.py through bot/delivery.py: rows, leases, the bot-wide rate). A draft is
bounded by the regions chosen (`broadcasts.regions`, inside the author's scope), so "these
three regencies, people who stopped at the KUR documents" is one announcement.

Who sees what: a coordinator sees the announcements bounded inside their regions (an unscoped
one and an admin: all), drafts only their own (an admin: all); pause, resume and cancel are
the author's, or any admin's, as in the bot.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from aiohttp import web
from markupsafe import Markup

from bot import roles
from bot.broadcasts import FOOTER_ROOM, TEXT_LIMIT, body, segment_label
from bot.config import Settings
from bot.handlers.broadcast import BUTTON_TEXT_MAX, SCHEDULE_AHEAD, URL_MAX
from bot.text import number, t, utf16_len
from desk.app import (
    DB,
    I18N,
    LOCALE,
    SETTINGS,
    VIEWER,
    Viewer,
    render,
    see_other,
    sign_in_first,
    url,
)
from desk.app import refused as refuse_page
from desk.trainings import place_choices
from flows import clock, regions, registry
from flows import reminders as rules
from flows import segments as specs
from flows.i18n import N_
from flows.validators import visible
from operations import broadcasts as ops
from storage import broadcasts as store
from storage import segments as reach
from storage.models import Broadcast, BroadcastStatus, DeliveryStatus, Role

log = logging.getLogger(__name__)
ACTION = "broadcast"
PAGE = 50
STATUSES = tuple(s.value for s in BroadcastStatus)
STATUS_LABELS = {
    BroadcastStatus.DRAFT: N_("draft"),
    BroadcastStatus.SCHEDULED: N_("scheduled"),
    BroadcastStatus.SENDING: N_("sending"),
    BroadcastStatus.PAUSED: N_("paused"),
    BroadcastStatus.DONE: N_("sent"),
    BroadcastStatus.CANCELLED: N_("cancelled"),
}
BADGES = {"draft": "withdrawn", "scheduled": "submitted", "sending": "submitted",
          "paused": "late", "done": "approved", "cancelled": "rejected"}  # fmt: skip
GOALS = {
    "coop": N_("People interested in cooperatives"),
    "kur": N_("People interested in a KUR loan"),
    "training": N_("People interested in training"),
}
REFUSED = {
    "outside": roles.OUTSIDE,
    "gone": N_("That announcement was sent or discarded already. Nothing was changed."),
    "not_draft": N_("That announcement was sent or discarded already. Nothing was changed."),
    "not_yours": N_("That announcement is not yours."),
    "already": N_("Already done."),
    "past": N_("That time has passed. Please choose a time in the future."),
}
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_ALLOWED_TAGS = re.compile(r"&lt;(/?)(b|i|u|s|strong|em|code|pre)&gt;")


def _sender(request: web.Request) -> Viewer | web.Response:
    viewer: Viewer | None = request.get(VIEWER)  # type: ignore[assignment]
    if viewer is None:
        return sign_in_first(request)
    if not viewer.may(ACTION):
        log.warning("desk: refused %s for role %s", ACTION, viewer.role)
        return refuse_page(request, t(roles.ACTIONS[ACTION][1]), 403)
    return viewer


def _admin(viewer: Viewer) -> bool:
    return viewer.role == Role.ADMIN


def _visible_to(viewer: Viewer, broadcast: Broadcast) -> bool:
    if not ops.inside(broadcast.regions, viewer.scope):
        return False
    if broadcast.status == BroadcastStatus.DRAFT:
        return broadcast.author_id == viewer.person.id or _admin(viewer)
    return True


async def _reachable(request: web.Request, viewer: Viewer, raw: str) -> Broadcast | web.Response:
    found = await store.get(request[DB], int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if found is None or not _visible_to(viewer, found):
        if found is not None:
            log.warning("desk: refused an announcement outside the coordinator's reach")
        return refuse_page(request, t("That announcement is not among yours."), 404)
    return found


def _zone(viewer: Viewer) -> str:
    return regions.zone_of(viewer.person.province_code)


def _counts(counts: dict[str, int]) -> dict[str, int]:
    return {
        "sent": counts[DeliveryStatus.SENT.value],
        "failed": counts[DeliveryStatus.FAILED.value],
        "blocked": counts[DeliveryStatus.BLOCKED.value],
        "pending": counts[DeliveryStatus.PENDING.value] + counts[DeliveryStatus.SENDING.value],
        "skipped": counts[DeliveryStatus.SKIPPED.value],
    }


def _excerpt(text: str, size: int = 90) -> str:
    plain = " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())
    return plain if len(plain) <= size else plain[: size - 1] + "…"


def _regions_label(codes: list[str] | None) -> str:
    if codes is None:
        return t("Everywhere")
    if not codes:
        return t("Nowhere (no regions)")
    return ", ".join(regions.display_name(c) for c in codes)


# --- the list -------------------------------------------------------------------------------


async def listing(request: web.Request) -> web.Response:
    viewer = _sender(request)
    if isinstance(viewer, web.Response):
        return viewer
    status = request.query.get("status", "")
    before = request.query.get("before", "")
    if (status and status not in STATUSES) or (
        before and (not before.isdigit() or len(before) > 12)
    ):
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    db = request[DB]
    found = await store.listing(
        db, statuses=[status] if status else STATUSES,
        drafts_of=None if _admin(viewer) else viewer.person.id,
        before=int(before) if before else None,
    )  # fmt: skip
    shown = [b for b in found if _visible_to(viewer, b)]
    page, more = shown[:PAGE], len(shown) > PAGE or len(found) == 500
    counts = await store.progress_of(db, [b.id for b in page])
    rows = [
        {
            "b": b,
            "status": t(STATUS_LABELS[BroadcastStatus(b.status)]),
            "badge": BADGES.get(b.status, "withdrawn"),
            "excerpt": _excerpt(b.text) or "—",
            "for": Markup(await segment_label(db, b.segment)),  # its names escaped already
            "regions": _regions_label(b.regions),
            "n": _counts(counts[b.id]),
        }
        for b in page
    ]
    return render(
        request,
        "announcements.html",
        {
            "rows": rows,
            "status": status,
            "statuses": [(s, t(STATUS_LABELS[BroadcastStatus(s)])) for s in STATUSES],
            "more": page[-1].id if more and page else None,
            "done": _done(request.query.get("done", "")),
        },
    )


def _done(word: str) -> str:
    said = {
        "saved": N_("Draft saved. Check the count and the preview, then send it."),
        "sent": N_("Sending has started. The counts below grow as it goes."),
        "scheduled": N_("Scheduled. It goes out at the time you chose."),
        "pause": N_("Paused. Nobody else gets it until you resume."),
        "resume": N_("Resumed."),
        "cancel": N_("Cancelled. Nobody who has not got it yet will get it."),
    }
    return t(said[word]) if word in said else ""


# --- one announcement -----------------------------------------------------------------------


def preview_html(message: str) -> str:
    """A message as its recipient reads it (Telegram's HTML), safe in a page: its text shown
    as text, only the plain formatting tags (bold, italics, ...) kept, line breaks kept."""
    escaped = html.escape(
        html.unescape(re.sub(r"<(?!/?(b|i|u|s|strong|em|code|pre)>)[^>]*>", "", message)),
        quote=False,
    )
    escaped = _ALLOWED_TAGS.sub(lambda m: f"<{m.group(1)}{m.group(2)}>", escaped)
    return escaped.replace("\n", "<br>")


async def page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    viewer = _sender(request)
    if isinstance(viewer, web.Response):
        return viewer
    broadcast = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(broadcast, Broadcast):
        return broadcast
    db = request[DB]
    i18n: I18n = request.app[I18N]
    draft = broadcast.status == BroadcastStatus.DRAFT
    mine = broadcast.author_id == viewer.person.id or _admin(viewer)
    settings: Settings = request.app[SETTINGS]
    zone = _zone(viewer)
    tomorrow = (clock.today(ZoneInfo(zone)) + timedelta(days=1)).isoformat()
    return render(
        request,
        "announcement.html",
        {
            "b": broadcast,
            "status_label": t(STATUS_LABELS[BroadcastStatus(broadcast.status)]),
            "badge": BADGES.get(broadcast.status, "withdrawn"),
            "for": Markup(await segment_label(db, broadcast.segment)),
            "regions": _regions_label(broadcast.regions),
            "reach": await reach.count(db, broadcast.segment, broadcast.regions) if draft else 0,
            "n": _counts(await store.progress(db, broadcast.id)),
            "preview": preview_html(body(broadcast, request[LOCALE], i18n)),
            "media": bool(broadcast.photo_file_id or broadcast.document_file_id),
            "draft": draft,
            "mine": mine,
            "night": rules.is_quiet(clock.now(), zone),
            "tomorrow": tomorrow,
            "cap": settings.announcement_weekly_cap,
            "error": error,
            "done": _done(request.query.get("done", "")),
        },
        status=status,
    )


async def control(request: web.Request) -> web.Response:
    """Pause, resume or cancel (a draft: discard), through the operation the bot uses."""
    viewer = _sender(request)
    if isinstance(viewer, web.Response):
        return viewer
    broadcast = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(broadcast, Broadcast):
        return broadcast
    form = await request.post()
    act = str(form.get("act", ""))
    if act not in ops.CONTROLS:
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    done = await ops.control(
        request[DB], broadcast_id=broadcast.id, act=act, actor_id=viewer.person.id,
        any_author=_admin(viewer),
    )  # fmt: skip
    if not done.ok:
        if done.refused == "not_yours":
            log.warning("desk: refused %s on another's announcement", act)
        return await page(request, error=t(REFUSED[done.refused or "gone"]),
                          status=403 if done.refused == "not_yours" else 409)  # fmt: skip
    return see_other(url(request, f"siaran/{broadcast.id}?done={act}"))


def _schedule_time(date_raw: str, time_raw: str, tz: str) -> datetime | str:
    """A date and time in the viewer's zone, as UTC; or what is wrong (the bot's rules)."""
    found = clock.at(date_raw.strip(), time_raw.strip(), tz) if date_raw and time_raw else None
    now = clock.now()
    if found is None:
        return t("Please choose a date and a time.")
    if found <= now + timedelta(minutes=1):
        return t("That time has passed. Please choose a time in the future.")
    if found > now + SCHEDULE_AHEAD:
        return t("Please choose a time within the next 60 days.")
    if rules.is_quiet(found, tz):
        return t("That is at night, when people sleep. Please choose a time in the day.")
    return found.astimezone(UTC)


async def send(request: web.Request) -> web.Response:
    """Send a draft now, or schedule it, through operations.broadcasts.send_broadcast."""
    viewer = _sender(request)
    if isinstance(viewer, web.Response):
        return viewer
    broadcast = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(broadcast, Broadcast):
        return broadcast
    form = await request.post()
    when = str(form.get("when", ""))
    at: datetime | None = None
    if when == "at":
        chosen = _schedule_time(str(form.get("date", ""))[:20], str(form.get("time", ""))[:10],
                                _zone(viewer))  # fmt: skip
        if isinstance(chosen, str):
            return await page(request, error=chosen, status=400)
        at = chosen
    elif when != "now":
        return await page(request, error=t("Please choose: now, or at a time."), status=400)
    if not await reach.count(request[DB], broadcast.segment, broadcast.regions):
        return await page(request, error=t("Nobody can receive it yet: choose other people."),
                          status=400)  # fmt: skip
    settings: Settings = request.app[SETTINGS]
    done = await ops.send_broadcast(
        request[DB], broadcast_id=broadcast.id, author_id=viewer.person.id, now=clock.now(),
        scope=viewer.scope, any_author=_admin(viewer), at=at,
        cap_per_week=settings.announcement_weekly_cap or None,
    )  # fmt: skip
    if not done.ok:
        return await page(request, error=t(REFUSED.get(done.refused or "", REFUSED["gone"])),
                          status=403 if done.refused == "not_yours" else 409)  # fmt: skip
    return see_other(url(request, f"siaran/{broadcast.id}?done={'scheduled' if at else 'sent'}"))


# --- compose --------------------------------------------------------------------------------


def step_choices() -> list[tuple[str, str]]:
    """Every journey step a segment can name, as "flow:step", with the bot's label."""
    found = []
    for _journey, flow_key, step_key in specs.journey_steps():
        if flow_key == specs.KUR_DOCUMENTS_INCOMPLETE:
            found.append((flow_key, t("KUR: documents not complete yet")))
            continue
        flow = registry.get(flow_key)
        prompt = t(flow.step(step_key).prompt).split("\n")[0]
        found.append((f"{flow_key}:{step_key}", f"{t(flow.title)}: {prompt}"[:90]))
    return found


def _segment(form: Any) -> specs.Segment | None:
    """The segment the form chose; None when a choice is not one the form offers."""
    kind = str(form.get("kind", "all"))
    try:
        if kind == "all":
            return specs.Segment(kind=specs.ALL)
        if kind == "step":
            flow, _sep, step = str(form.get("step", "")).partition(":")
            if flow == specs.KUR_DOCUMENTS_INCOMPLETE:
                return specs.Segment(kind=specs.JOURNEY_STEP, flow=flow)
            return specs.Segment(kind=specs.JOURNEY_STEP, flow=flow, step=step or None)
        if kind == "interest":
            return specs.Segment(kind=specs.INTEREST, goal=str(form.get("goal", "")) or None)
    except (ValueError, KeyError):
        return None
    return None


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def _form_values(broadcast: Broadcast | None) -> dict[str, Any]:
    if broadcast is None:
        return {"kind": "all", "regions": []}
    spec = specs.Segment.from_dict(broadcast.segment)
    kind = {specs.JOURNEY_STEP: "step", specs.INTEREST: "interest"}.get(spec.kind, "all")
    step = (f"{spec.flow}:{spec.step}" if spec.step else spec.flow) or ""
    return {
        "text": html.unescape(re.sub(r"<[^>]+>", "", broadcast.text)),
        "button_text": broadcast.button_text or "",
        "button_url": broadcast.button_url or "",
        "kind": kind,
        "step": step,
        "goal": spec.goal or "",
        "regions": list(broadcast.regions or []),
    }


def _compose(request: web.Request, viewer: Viewer, values: dict[str, Any], *,
             broadcast: Broadcast | None = None, errors: dict[str, str] | None = None,
             error: str = "", status: int = 200) -> web.Response:  # fmt: skip
    errors = errors or {}
    return render(
        request,
        "announcement_form.html",
        {
            "b": broadcast,
            "v": values,
            "errors": errors,
            "error": error or (t("Please correct what is marked below.") if errors else ""),
            "places": place_choices(viewer.scope),
            "scoped": viewer.scope is not None,
            "steps": step_choices(),
            "goals": [(k, t(v)) for k, v in GOALS.items()],
            "limit": TEXT_LIMIT - FOOTER_ROOM,
            "button_max": BUTTON_TEXT_MAX,
        },
        status=status,
    )


async def new_form(request: web.Request) -> web.Response:
    viewer = _sender(request)
    if isinstance(viewer, web.Response):
        return viewer
    return _compose(request, viewer, _form_values(None))


async def edit_form(request: web.Request) -> web.Response:
    viewer = _sender(request)
    if isinstance(viewer, web.Response):
        return viewer
    broadcast = await _reachable(request, viewer, request.match_info["id"])
    if not isinstance(broadcast, Broadcast):
        return broadcast
    if broadcast.status != BroadcastStatus.DRAFT or broadcast.author_id != viewer.person.id:
        return refuse_page(request, t(REFUSED["gone"]), 409)
    return _compose(request, viewer, _form_values(broadcast), broadcast=broadcast)


async def save(request: web.Request) -> web.Response:
    """A new draft, or the viewer's draft changed: the text (as typed: it is escaped, so it
    reads as written), an optional link button, who gets it and in which regions."""
    viewer = _sender(request)
    if isinstance(viewer, web.Response):
        return viewer
    broadcast: Broadcast | None = None
    if "id" in request.match_info:
        found = await _reachable(request, viewer, request.match_info["id"])
        if not isinstance(found, Broadcast):
            return found
        broadcast = found
    form = await request.post()
    text = str(form.get("text", "")).replace("\r\n", "\n").replace("\x00", "").strip()
    label = str(form.get("button_text", "")).strip()
    link = str(form.get("button_url", "")).strip()
    chosen = [str(c) for c in form.getall("regions", [])][:200]
    values = {"text": text, "button_text": label, "button_url": link,
              "kind": str(form.get("kind", "all")), "step": str(form.get("step", "")),
              "goal": str(form.get("goal", "")), "regions": chosen}  # fmt: skip
    errors: dict[str, str] = {}
    limit = TEXT_LIMIT - FOOTER_ROOM
    if not visible(text):
        errors["text"] = t(
            "The announcement needs some text: what is it about, and what should people do?"
        )
    elif utf16_len(html.escape(text, quote=False)) > limit:
        errors["text"] = t("That is {n} characters; at most {limit} fit. Please shorten it.",
                           n=number(utf16_len(text)), limit=number(limit))  # fmt: skip
    if label or link:
        if not visible(label) or len(label) > BUTTON_TEXT_MAX or _has_control(label):
            errors["button_text"] = t(
                "Please type a short label for the button, at most {n} characters.",
                n=BUTTON_TEXT_MAX,
            )
        if len(link) > URL_MAX or not _URL.fullmatch(link) or _has_control(link):
            errors["button_url"] = t("That is not a link. Please type one starting with https://")
    segment = _segment(form)
    if segment is None:
        errors["kind"] = t("Please choose one of the options.")
    if any(regions.get(c) is None for c in chosen):
        errors["regions"] = t("Please choose one of the options.")
    if errors or segment is None:
        return _compose(request, viewer, values, broadcast=broadcast, errors=errors, status=400)
    done = await ops.draft(
        request[DB], author_id=viewer.person.id, text=html.escape(text, quote=False),
        segment=segment, chosen=chosen, scope=viewer.scope,
        button=(label, link) if label else None,
        broadcast_id=broadcast.id if broadcast is not None else None,
    )  # fmt: skip
    if not done.ok:
        if done.refused == "outside":
            log.warning("desk: refused a region outside the coordinator's scope")
        return _compose(request, viewer, values, broadcast=broadcast,
                        error=t(REFUSED.get(done.refused or "", REFUSED["gone"])),
                        status=403 if done.refused == "outside" else 409)  # fmt: skip
    return see_other(url(request, f"siaran/{done.broadcast_id}?done=saved"))


def routes(app: web.Application) -> None:
    app.router.add_get("/siaran", listing, name="desk.announcements")
    app.router.add_get("/siaran/baru", new_form, name="desk.announcement.new")
    app.router.add_post("/siaran/baru", save, name="desk.announcement.create")
    app.router.add_get("/siaran/{id}", page, name="desk.announcement")
    app.router.add_get("/siaran/{id}/ubah", edit_form, name="desk.announcement.edit")
    app.router.add_post("/siaran/{id}/ubah", save, name="desk.announcement.save")
    app.router.add_post("/siaran/{id}/kirim", send, name="desk.announcement.send")
    app.router.add_post("/siaran/{id}/kontrol", control, name="desk.announcement.control")
