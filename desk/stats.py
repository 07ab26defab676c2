"""Statistics at the desk: the funnels of /statistik (storage.funnel, bot.stats) with the same
filters (journey, period, region inside the viewer's scope), each drawn as an SVG bar chart in
the page (server-side, no script) beside a real table, with a caption and headers, that a
screen reader reads: every stage, how many, their share of all who started, and the drop-off.

The filters are plain choices, no personal data, so they ride in the address (a GET form).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from babel.numbers import format_percent

from bot import roles
from bot import stats as charts
from bot.handlers.stats import PERIODS, period
from bot.text import BABEL_LOCALES, number, t
from desk.app import DB, LOCALE, VIEWER, Viewer, render, sign_in_first
from desk.app import refused as refuse_page
from flows import regions
from storage import funnel as store

log = logging.getLogger(__name__)
ALL = "all"
DEFAULT_PERIOD = "30"
WIDTH, LABEL_H, BAR_H, GAP = 420, 22, 22, 10  # the chart's units (it scales to the page)


def region_choices(viewer: Viewer) -> list[tuple[str, str]]:
    """Everywhere's provinces, or the viewer's own regions and the regencies inside a province
    of them."""
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


@dataclass(frozen=True)
class Choice:
    journey: str = ALL
    period: str = DEFAULT_PERIOD
    region: str = ""


def _choice(query: Any) -> Choice | None:
    """The filters asked for; None when one is not a value the page offers."""
    found = Choice(
        journey=str(query.get("j", ALL)) or ALL,
        period=str(query.get("p", DEFAULT_PERIOD)) or DEFAULT_PERIOD,
        region=str(query.get("r", "")),
    )
    if found.journey != ALL and found.journey not in store.JOURNEYS:
        return None
    if found.period not in PERIODS:
        return None
    if found.region and regions.get(found.region) is None:
        return None
    return found


def _percent(value: float | None, locale: str) -> str:
    if value is None:
        return "–"
    return format_percent(value, locale=BABEL_LOCALES.get(locale, "id_ID"))


def _drop(row: charts.Row, locale: str) -> str:
    """How many fewer than the stage before (or the named stage it follows); "" for the first."""
    if row.drop is None:
        return ""
    if row.drop < 0:
        return t(charts.RISE, n=number(-row.drop, locale))
    share = _percent(row.drop_share, locale)
    if row.base_label is not None:
        return t(charts.DROP_FROM, n=number(row.drop, locale), share=share, stage=row.base_label)
    return t(charts.DROP, n=number(row.drop, locale), share=share)


COLOURS = {"start": "#57606a", "step": "#0b5cad", "done": "#116329", "bank": "#9a4f00"}


def _tone(stage: store.Stage) -> str:
    if stage.key == store.STARTED:
        return "start"
    if stage.step is not None or stage.key == store.SEAT:
        return "step"
    if stage.key in (store.SUBMITTED, store.APPROVED):
        return "done"
    return "bank"


def chart(funnel: store.Funnel, locale: str) -> dict[str, Any]:
    """One funnel ready for the template: its title, rows for the table, and the chart's bars
    (label above each bar, the count and share at its end), in the chart's own units."""
    shown = charts.rows(funnel, locale)
    most = max((r.stage.count for r in shown), default=0) or 1
    usable = WIDTH - 120  # room at the bar's end for "1.234 (56%)"
    bars, y = [], 0
    for row in shown:
        width = round(usable * row.stage.count / most) if row.stage.count else 0
        bars.append(
            {
                "label": row.label,
                "label_y": y + 16,
                "y": y + LABEL_H,
                "width": max(width, 2),
                "text_x": max(width, 2) + 8,
                "text_y": y + LABEL_H + 16,
                "total": t(
                    charts.CHART_TOTAL,
                    count=number(row.stage.count, locale),
                    share=_percent(row.share, locale),
                ),  # fmt: skip
                "colour": COLOURS[_tone(row.stage)],
            }
        )
        y += LABEL_H + BAR_H + GAP
    table = [
        {
            "label": row.label,
            "count": number(row.stage.count, locale),
            "share": _percent(row.share, locale),
            "drop": _drop(row, locale),
        }
        for row in shown
    ]
    return {
        "journey": funnel.journey,
        "title": t(charts.JOURNEY_TITLES[funnel.journey]),
        "started": funnel.started,
        "bars": bars,
        "height": max(y, 1),
        "width": WIDTH,
        "table": table,
    }


async def page(request: web.Request) -> web.Response:
    viewer: Viewer | None = request.get(VIEWER)  # type: ignore[assignment]
    if viewer is None:
        return sign_in_first(request)
    if not viewer.may("stats"):
        log.warning("desk: refused stats for role %s", viewer.role)
        return refuse_page(request, t(roles.ACTIONS["stats"][1]), 403)
    choice = _choice(request.query)
    if choice is None:
        log.warning("desk: refused a statistics filter that the page does not offer")
        return refuse_page(request, t("That filter is not one the page offers."), 400)
    if choice.region and not viewer.may("stats", choice.region):
        log.warning("desk: refused statistics of a region outside the viewer's scope")
        return refuse_page(request, t(roles.OUTSIDE), 403)
    locale = request.get(LOCALE, "id")
    zone = regions.zone_of(viewer.person.province_code)
    since, until = period(choice.period, zone)
    chosen = [choice.region] if choice.region else viewer.scope
    journeys = store.JOURNEYS if choice.journey == ALL else (choice.journey,)
    funnels = [
        await store.funnel(request[DB], j, since=since, until=until, regions=chosen, zone=zone)
        for j in journeys
    ]
    first = funnels[0]
    return render(
        request,
        "stats.html",
        {
            "choice": choice,
            "journeys": [(j, t(charts.JOURNEY_TITLES[j])) for j in store.JOURNEYS],
            "periods": [(p, t(label)) for p, label in PERIODS.items()],
            "region_choices": region_choices(viewer),
            "everywhere": viewer.scope is None,
            "period_label": charts.period_label(first, locale),
            "region_label": charts.region_label(first.regions, locale),
            "charts": [chart(f, locale) for f in funnels],
            "legend": t(charts.LEGEND),
            "nobody": t(charts.NOBODY),
        },
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/statistik", page, name="desk.stats")
