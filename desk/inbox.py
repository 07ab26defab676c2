"""The help desk's shared inbox at the desk (/tiket): tabs new, mine, open, waiting for the
person, closed; one ticket with its messages, the person's name, region and journeys (never
the NIK); assign to me, reply, internal note, close, through operations/tickets.py as the bot's
/tiket does, the notices queued for the bot to send in the same transaction. Canned answers the
office keeps fill the reply box (a link: no JavaScript needed); staff and admins edit them.

Every page and form checks the role and the ticket's region (`Viewer.may("tickets", ...)`),
and answers "not in your inbox" alike for a ticket elsewhere and one that does not exist.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot import roles
from bot.handlers.tickets import staff as bot_tickets
from bot.text import t
from desk.app import DB, VIEWER, Viewer, render, see_other, sign_in_first, url
from desk.app import refused as refuse_page
from desk.review import region_choices
from flows import clock, regions
from flows.i18n import N_
from operations import desk as outbox
from operations import tickets as ops
from storage import tickets as store
from storage.models import CannedAnswer, Person, Ticket, TicketStatus

log = logging.getLogger(__name__)
ACTION, CANNED = "tickets", "tickets.canned"
TABS = {
    "new": bot_tickets.TABS["new"],
    "mine": bot_tickets.TABS["mine"],
    "open": bot_tickets.STATUS["open"],
    "waiting": bot_tickets.TABS["waiting"],
    "closed": bot_tickets.STATUS["closed"],
}
TITLE_MAX = 80
DONE = {
    "assigned": N_("It is yours now."),
    "replied": N_("Sent. The person gets it in the bot."),
    "noted": N_("Note saved. Only the office sees it."),
    "closed": N_("Closed. The person is asked to rate the answer."),
    "saved": N_("Saved."),
    "deleted": N_("Deleted."),
}


def _viewer(request: web.Request, action: str = ACTION) -> Viewer | web.Response:
    viewer: Viewer | None = request.get(VIEWER)  # type: ignore[assignment]
    if viewer is None:
        return sign_in_first(request)
    if not viewer.may(action):
        log.warning("desk: refused %s for role %s", action, viewer.role)
        return refuse_page(request, t(roles.ACTIONS[action][1]), 403)
    return viewer


def _done(query: Any) -> str:
    word = query.get("done", "")
    return t(DONE[word]) if word in DONE else ""


async def inbox(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    tab = request.query.get("tab", "new")
    if tab not in TABS:
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    db, now = request[DB], clock.now()
    found = await store.inbox(db, tab=tab, viewer_id=viewer.person.id, scope=viewer.scope)
    counts = await store.counts(db, viewer_id=viewer.person.id, scope=viewer.scope)
    rows = [
        {
            "id": r.ticket.id,
            "name": r.name or t("(deleted)"),
            "region": _where(r.ticket),
            "first": (r.first_text or "")[:120] or "🎤",
            "assignee": r.assignee or "—",
            "status": r.ticket.status,
            "status_label": t(bot_tickets.STATUS[r.ticket.status]),
            "updated": r.ticket.updated_at,
            "overdue": ops.is_overdue(r.ticket, now),
        }
        for r in found
    ]
    tabs = [(key, t(label), counts.get(key)) for key, label in TABS.items()]
    return render(
        request,
        "tickets.html",
        {"rows": rows, "tab": tab, "tabs": tabs, "done": _done(request.query),
         "can_edit": viewer.may(CANNED)},
    )  # fmt: skip


def _where(ticket: Ticket) -> str:
    code = ticket.regency_code or ticket.province_code
    return regions.display_name(code) if code else "—"


async def _reachable(request: web.Request, viewer: Viewer) -> Ticket | web.Response:
    raw = request.match_info["id"]
    ticket = await store.get(request[DB], int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if ticket is None or not viewer.may(ACTION, ticket.queue_region):
        if ticket is not None:
            log.warning("desk: refused a ticket outside the viewer's reach")
        return refuse_page(request, t("That question is not in your inbox."), 404)
    return ticket


async def item(
    request: web.Request, *, error: str = "", status: int = 200, draft: str = ""
) -> web.Response:
    viewer = _viewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    ticket = await _reachable(request, viewer)
    if not isinstance(ticket, Ticket):
        return ticket
    db = request[DB]
    person = await db.get(Person, ticket.person_id) if ticket.person_id else None
    authors: dict[int, str] = {}
    messages = []
    for m in await store.messages(db, ticket.id):
        if m.author_id is not None and m.author_id not in authors:
            who = await db.get(Person, m.author_id)
            authors[m.author_id] = (who.name or "") if who else ""
        messages.append(
            {
                "kind": m.kind,
                "who": authors.get(m.author_id or 0) or t("(deleted)"),
                "at": m.created_at,
                "text": m.text or "",
                "voice": m.voice_seconds if m.voice_file_id else None,
                "voice_gone": m.voice_file_id is None and m.voice_seconds is not None,
            }
        )
    canned = await store.canned_for(db, place=ticket.regency_code or ticket.province_code)
    chosen = request.query.get("jawaban", "")
    if not draft and chosen.isdigit():
        draft = next((c.text for c in canned if str(c.id) == chosen), "")
    assignee = await db.get(Person, ticket.assignee_id) if ticket.assignee_id else None
    return render(
        request,
        "ticket.html",
        {
            "tk": ticket,
            "name": (person.name or "—") if person else t("(deleted)"),
            "region": _where(ticket),
            "journeys": await bot_tickets.journey_lines(db, person.id) if person else [],
            "status_label": t(bot_tickets.STATUS[ticket.status]),
            "overdue": ops.is_overdue(ticket, clock.now()),
            "open": ticket.status != TicketStatus.CLOSED,
            "mine": ticket.assignee_id == viewer.person.id,
            "assignee": (assignee.name or "—") if assignee else "",
            "messages": messages,
            "canned": canned,
            "draft": draft,
            "error": error,
            "done": _done(request.query),
            "rating": {5: "👍", 1: "👎"}.get(ticket.rating or 0, str(ticket.rating or "")),
        },
        status=status,
    )


REFUSALS = {
    "closed": N_("This question is already closed."),
    "not_found": N_("This question no longer exists."),
    "too_long": N_("That is too long: at most {n} characters."),
    "empty": N_("Please write something first."),
}


async def act(request: web.Request) -> web.Response:
    """One action on a ticket: assign to me, reply, internal note, close."""
    viewer = _viewer(request)
    if isinstance(viewer, web.Response):
        return viewer
    ticket = await _reachable(request, viewer)
    if not isinstance(ticket, Ticket):
        return ticket
    form = await request.post()
    what = request.match_info["act"]
    text = str(form.get("text", ""))
    db, now, me = request[DB], clock.now(), viewer.person.id
    if what == "ambil":
        done = await ops.assign(db, ticket_id=ticket.id, staff_id=me, now=now)
        word = "assigned"
    elif what == "balas":
        done = await ops.reply(db, ticket_id=ticket.id, staff_id=me, text=text, now=now)
        word = "replied"
    elif what == "catatan":
        done = await ops.note(db, ticket_id=ticket.id, staff_id=me, text=text, now=now)
        word = "noted"
    elif what == "tutup":
        done = await ops.close(db, ticket_id=ticket.id, staff_id=me, now=now)
        word = "closed"
    else:
        raise web.HTTPNotFound()
    if not done.ok:
        why = REFUSALS.get(done.refused or "", REFUSALS["closed"])
        code = 409 if done.refused == "closed" else 400
        return await item(request, error=t(why, n=ops.REPLY_MAX), status=code, draft=text)
    await outbox.queue_notices(db, done.notices, now=now)
    return see_other(url(request, f"tiket/{ticket.id}?done={word}"))


# --- canned answers -----------------------------------------------------------------------------


def _regions_for(viewer: Viewer) -> list[tuple[str, str]]:
    """Where a canned answer may be kept: nationwide (unscoped only) and the viewer's regions."""
    found = [("", t("Nationwide"))] if viewer.scope is None else []
    return found + region_choices(viewer)


async def canned_page(
    request: web.Request, *, error: str = "", status: int = 200, form: Any = None
) -> web.Response:
    viewer = _viewer(request, CANNED)
    if isinstance(viewer, web.Response):
        return viewer
    answers = await store.canned_in(request[DB], scope=viewer.scope)
    return render(
        request,
        "canned.html",
        {
            "answers": [
                {"c": c, "where": regions.display_name(c.region) if c.region else t("Nationwide")}
                for c in answers
            ],
            "region_choices": _regions_for(viewer),
            "error": error,
            "form": form or {},
            "done": _done(request.query),
        },
        status=status,
    )


async def canned_save(request: web.Request) -> web.Response:
    """Add a canned answer (no id) or change or delete one (its id), inside the viewer's
    regions; a nationwide one only without a scope."""
    viewer = _viewer(request, CANNED)
    if isinstance(viewer, web.Response):
        return viewer
    form = await request.post()
    db, now = request[DB], clock.now()
    raw = request.match_info.get("cid", "")
    existing: CannedAnswer | None = None
    if raw:
        existing = await store.canned(db, int(raw)) if raw.isdigit() and len(raw) < 12 else None
        if existing is None or not viewer.may(CANNED, existing.region):
            log.warning("desk: refused a canned answer outside the viewer's reach")
            return refuse_page(request, t("That answer is not one you keep."), 404)
        if form.get("delete") == "1":
            await store.delete_canned(db, existing.id)
            return see_other(url(request, "tiket/jawaban?done=deleted"))
    region = str(form.get("region", "")) or None
    title = str(form.get("title", "")).strip()
    text = str(form.get("text", "")).strip()
    if region is not None and regions.get(region) is None:
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    if not viewer.may(CANNED, region):
        log.warning("desk: refused a canned answer's region outside the viewer's scope")
        return refuse_page(request, t(roles.OUTSIDE), 403)
    if not title or len(title) > TITLE_MAX or not text or len(text) > ops.REPLY_MAX:
        return await canned_page(
            request,
            error=t("Please give a title (at most {n} characters) and the answer's text.",
                    n=TITLE_MAX),
            status=400,
            form={"title": title, "text": text, "region": region or ""},
        )  # fmt: skip
    if existing is not None:
        existing.title, existing.text, existing.region = title, text, region
        existing.updated_by, existing.updated_at = viewer.person.id, now
        await db.flush()
    else:
        await store.save_canned(
            db, title=title, text=text, region=region, updated_by=viewer.person.id, updated_at=now
        )
    return see_other(url(request, "tiket/jawaban?done=saved"))


def routes(app: web.Application) -> None:
    app.router.add_get("/tiket", inbox, name="desk.tickets")
    app.router.add_get("/tiket/jawaban", canned_page, name="desk.canned")
    app.router.add_post("/tiket/jawaban", canned_save, name="desk.canned.add")
    app.router.add_post("/tiket/jawaban/{cid}", canned_save, name="desk.canned.save")
    app.router.add_get("/tiket/{id}", item, name="desk.ticket")
    app.router.add_post("/tiket/{id}/{act}", act, name="desk.ticket.act")
