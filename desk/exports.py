"""Exports at the desk: the submissions /ekspor exports, downloaded in the browser instead of
landing in a chat history. The same filters (kind, status, region inside the exporter's scope,
period), the same files (CSV or XLSX, built by bot.exports), the same audit row as the bot's,
and full phone numbers, NIKs and amounts only for those who may ("export.full").

The form is posted, so nothing of it reaches the address; the file comes back as an
attachment that no cache keeps (the guard's `Cache-Control: no-store`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from aiohttp import web

from bot import exports as files
from bot import roles
from bot.handlers.export import KINDS, PERIODS, STATUSES, audit_details, period_range
from bot.text import t
from desk.app import (
    DB,
    I18N,
    LOCALE,
    SAFE_HEADERS,
    SESSIONMAKER,
    VIEWER,
    Viewer,
    render,
    sign_in_first,
)
from desk.app import refused as refuse_page
from flows import clock, regions
from storage import audit
from storage import exports as store

log = logging.getLogger(__name__)
DEFAULT_PERIOD = "30"
TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
}


@dataclass(frozen=True)
class Choice:
    """A checked form: codes of bot.handlers.export's KINDS and STATUSES ("" all), a period
    code, a region inside the scope ("" all of it), the format, full numbers or not."""

    kind: str = ""
    status: str = ""
    period: str = DEFAULT_PERIOD
    region: str = ""
    fmt: str = "xlsx"
    full: bool = False


def _choice(form: Any) -> Choice | None:
    """The form's values; None when one is not a value the form offers (forged)."""
    found = Choice(
        kind=str(form.get("kind", "")),
        status=str(form.get("status", "")),
        period=str(form.get("period", DEFAULT_PERIOD)),
        region=str(form.get("region", "")),
        fmt=str(form.get("format", "xlsx")),
        full=form.get("full") == "1",
    )
    if found.kind and found.kind not in KINDS:
        return None
    if found.status and found.status not in STATUSES:
        return None
    if found.period not in PERIODS or found.fmt not in ("xlsx", "csv"):
        return None
    if found.region and regions.get(found.region) is None:
        return None
    return found


def region_choices(viewer: Viewer) -> list[tuple[str, str]]:
    if viewer.scope is None:
        return [(r.code, r.name) for r in regions.provinces()]
    found: list[tuple[str, str]] = []
    for code in viewer.scope:
        if regions.get(code) is None:
            continue
        found.append((code, regions.display_name(code)))
        if "." not in code:
            found += [(r.code, regions.display_name(r.code)) for r in regions.regencies(code)]
    return found


def filters_of(choice: Choice, scope: list[str] | None, tz: str) -> store.Filters:
    since, until = period_range(choice.period, clock.now(), tz)
    return store.Filters(
        kinds=(KINDS[choice.kind],) if choice.kind else (),
        statuses=(STATUSES[choice.status],) if choice.status else (),
        since=since,
        until=until,
        scope=tuple(scope) if scope is not None else None,
        region=choice.region or None,
    )


def _exporter(request: web.Request) -> Viewer | web.Response:
    viewer: Viewer | None = request.get(VIEWER)  # type: ignore[assignment]
    if viewer is None:
        return sign_in_first(request)
    if not viewer.may("export"):
        log.warning("desk: refused export for role %s", viewer.role)
        return refuse_page(request, t(roles.ACTIONS["export"][1]), 403)
    return viewer


def _form(request: web.Request, viewer: Viewer, choice: Choice, *, message: str = "",
          status: int = 200) -> web.Response:  # fmt: skip
    return render(
        request,
        "exports.html",
        {
            "choice": choice,
            "kinds": [(code, t(files.KIND_LABELS[kind])) for code, kind in KINDS.items()],
            "statuses": [(code, t(files.STATUS_LABELS[s])) for code, s in STATUSES.items()],
            "periods": [(code, t(label)) for code, label in PERIODS.items()],
            "region_choices": region_choices(viewer),
            "everywhere": viewer.scope is None,
            "may_full": viewer.may("export.full"),
            "message": message,
        },
        status=status,
    )


async def form_page(request: web.Request) -> web.Response:
    viewer = _exporter(request)
    if isinstance(viewer, web.Response):
        return viewer
    return _form(request, viewer, Choice())


async def download(request: web.Request) -> web.StreamResponse:
    """Check every field, query, audit like /ekspor, and answer the file as an attachment."""
    viewer = _exporter(request)
    if isinstance(viewer, web.Response):
        return viewer
    choice = _choice(await request.post())
    if choice is None:
        log.warning("desk: refused an export form with a value the form does not offer")
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    if choice.region and not viewer.may("export", choice.region):
        log.warning("desk: refused an export of a region outside the exporter's scope")
        return refuse_page(request, t(roles.OUTSIDE), 403)
    if choice.full and not viewer.may("export.full"):
        log.warning("desk: refused full numbers for role %s", viewer.role)
        return refuse_page(request, t(roles.ACTIONS["export.full"][1]), 403)
    tz = regions.zone_of(viewer.person.province_code)
    filters = filters_of(choice, viewer.scope, tz)
    db = request[DB]
    counted = await store.counted(db, filters)
    kind = KINDS[choice.kind] if choice.kind else None
    fmt = files.file_format(xlsx=choice.fmt == "xlsx", kind=kind, rows=counted.total)
    await audit.audit(
        db,
        actor_id=viewer.person.id,
        action="export.full" if choice.full else "export",  # full numbers stand out
        subject="submissions",
        details=audit_details(choice, filters, viewer.scope, fmt, counted),
    )
    if not counted.total:
        return _form(request, viewer, choice, message=t(
            "Nothing matches these filters, so there is no file. "
            "Try a longer period or all types and statuses."))  # fmt: skip
    # The audit row is committed before the file is read: the file is read a page at a time in
    # sessions of its own (SQLite's one writer is not held meanwhile), written to a temporary
    # file and streamed out (bot.exports.exported: memory the same for 100 rows or 300,000).
    await db.commit()
    stamp = clock.now().astimezone(ZoneInfo(tz)).strftime("%Y%m%d-%H%M")
    stem = files.file_stem(kind, t) if fmt == files.CSV else t("submissions")
    name = f"{stem}-{stamp}.{fmt}"
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    sessionmaker = request.app[SESSIONMAKER]
    i18n: I18n = request.app[I18N]
    async with files.exported(
        sessionmaker, filters, fmt=fmt, full=choice.full, locale=request.get(LOCALE, "id"),
        tz=tz, i18n=i18n, counted=counted,
    ) as built:  # fmt: skip
        response = web.StreamResponse(
            headers={
                "Content-Disposition": f'attachment; filename="{ascii_name}"; '
                f"filename*=UTF-8''{quote(name)}",
                "Content-Type": TYPES[fmt],
                "Content-Length": str(built.path.stat().st_size),
                "X-Export-Rows": str(counted.total),
                **SAFE_HEADERS,
            }
        )
        await response.prepare(request)
        with open(built.path, "rb") as source:  # noqa: ASYNC230 - reads go to threads
            while piece := await asyncio.to_thread(source.read, 64 * 1024):
                await response.write(piece)
        await response.write_eof()
    return response


def routes(app: web.Application) -> None:
    app.router.add_get("/ekspor", form_page, name="desk.exports")
    app.router.add_post("/ekspor", download, name="desk.exports.download")
