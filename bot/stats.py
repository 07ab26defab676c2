"""A journey's funnel (storage.funnel) as people read it: a short text and a PNG bar chart,
in the viewer's language, numbers formatted with Babel."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_percent

from bot.text import BABEL_LOCALES, number, t_for
from flows import regions, registry
from flows.i18n import N_
from storage import funnel as fn
from storage.funnel import Funnel, Stage

JOURNEY_TITLES = {
    fn.JOIN: N_("Joining a cooperative"),
    fn.FOUND: N_("Founding a cooperative"),
    fn.KUR: N_("KUR loan"),
    fn.TRAINING: N_("Training"),
}

# Short names of the steps (the questions themselves are too long for a chart).
STEP_LABELS = {
    ("join_request", "commit"): N_("Savings and AD/ART"),
    ("join_request", "nik"): N_("NIK"),
    ("join_request", "confirm"): N_("Last look before sending"),
    ("found_coop", "kind"): N_("Type of cooperative"),
    ("found_coop", "purpose"): N_("Purpose"),
    ("found_coop", "name"): N_("Proposed name"),
    ("found_coop", "confirm"): N_("Last look before starting"),
    ("kur_readiness", "status"): N_("Business status"),
    ("kur_readiness", "business"): N_("The business"),
    ("kur_readiness", "age"): N_("Age"),
    ("kur_readiness", "ektp"): N_("e-KTP"),
    ("kur_readiness", "kk"): N_("KK (family card)"),
    ("kur_readiness", "permit"): N_("NIB or SKU"),
    ("kur_readiness", "amount"): N_("Amount needed"),
    ("kur_readiness", "npwp"): N_("NPWP"),
    ("kur_readiness", "credit"): N_("Other loans"),
    ("kur_readiness", "slik"): N_("SLIK record"),
    ("kur_readiness", "confirm"): N_("Last look at the answers"),
}

# Stage names; a journey may word one its own way.
STAGE_LABELS = {
    fn.STARTED: N_("Started"),
    fn.SUBMITTED: N_("Submitted"),
    fn.APPROVED: N_("Approved"),
    fn.SURVEY: N_("Survey (the bank visited)"),
    fn.AKAD: N_("Akad (contract signed)"),
    fn.CAIR: N_("Cair (money paid out)"),
}
JOURNEY_STAGE_LABELS = {
    (fn.FOUND, fn.SUBMITTED): N_("Sent to the team (9 founders, meeting held)"),
    (fn.TRAINING, fn.STARTED): N_("Signed up (waitlist too)"),
    (fn.TRAINING, fn.SEAT): N_("Got a seat"),
    (fn.TRAINING, fn.SUBMITTED): N_("Sent to the organiser to confirm"),
    (fn.TRAINING, fn.APPROVED): N_("Confirmed by the organiser"),
}

ALL_REGIONS = N_("All regions")
NO_REGION = N_("No region")
PERIOD_ALL = N_("Everything until {until}")
PERIOD_RANGE = N_("{since} to {until}")
LINE = N_("{stage}: <b>{count}</b> · {share}")
DROP = N_("−{n} ({share})")
DROP_FROM = N_("−{n} ({share}) from “{stage}”")
RISE = N_("+{n}")
LEGEND = N_(
    "Each line: how many got that far, their share of all who started, and how many dropped "
    "off since the line before. These are journeys started in the period (one person can "
    "start twice), by the home region in each profile."
)
NOBODY = N_("Nobody started this in this period and region.")
CHART_TOTAL = N_("{count} ({share})")
CHART_EMPTY = N_("No data for this period and region")
TITLE_PLACE_MAX = 60  # characters of the region(s) in the chart's title


@dataclass(frozen=True)
class Row:
    """A stage ready to show: its label, count, share of started and drop-off."""

    stage: Stage
    label: str
    share: float | None  # of started; None when nobody started
    drop: int | None
    drop_share: float | None  # of the base stage
    base_label: str | None  # the base stage's label when it is not the line before


def stage_label(journey: str, stage: Stage, locale: str) -> str:
    """A stage's short name in `locale`."""
    step = stage.step
    if step is not None:
        flow_key = fn.MAIN_FLOW[journey]
        msgid = STEP_LABELS.get((flow_key, step))
        if msgid is None:  # a step added to the flow later: its question, as a fallback
            msgid = registry.get(flow_key).step(step).prompt
        return t_for(locale, msgid)
    msgid = JOURNEY_STAGE_LABELS.get((journey, stage.key)) or STAGE_LABELS[stage.key]
    return t_for(locale, msgid)


def rows(funnel: Funnel, locale: str) -> list[Row]:
    """Every stage with its label in `locale`, share of started and drop-off."""
    started = funnel.started
    found: list[Row] = []
    labels = {s.key: stage_label(funnel.journey, s, locale) for s in funnel.stages}
    previous: str | None = None
    for stage in funnel.stages:
        drop = funnel.drop(stage)
        base = funnel.count(stage.base) if stage.base is not None else 0
        found.append(
            Row(
                stage=stage,
                label=labels[stage.key],
                share=stage.count / started if started else None,
                drop=drop,
                drop_share=drop / base if drop is not None and base else None,
                base_label=labels[stage.base] if stage.base not in (None, previous) else None,
            )
        )
        previous = stage.key
    return found


def _percent(value: float | None, locale: str) -> str:
    if value is None:
        return "–"
    return format_percent(value, locale=BABEL_LOCALES.get(locale, "id_ID"))


def period_label(funnel: Funnel, locale: str) -> str:
    loc = BABEL_LOCALES.get(locale, "id_ID")
    zone = ZoneInfo(funnel.zone)

    def shown(when: datetime) -> str:
        return format_date(when.astimezone(zone), "medium", locale=loc)

    if funnel.since is None:
        return t_for(locale, PERIOD_ALL, until=shown(funnel.until))
    return t_for(locale, PERIOD_RANGE, since=shown(funnel.since), until=shown(funnel.until))


def region_label(codes: list[str] | None, locale: str) -> str:
    if codes is None:
        return t_for(locale, ALL_REGIONS)
    if not codes:
        return t_for(locale, NO_REGION)
    names = []
    for code in codes:
        try:
            names.append(regions.display_name(code))
        except KeyError:
            names.append(code)
    return ", ".join(names)


def _drop_text(row: Row, locale: str) -> str:
    """How many fewer than the line before (or a named stage), e.g. −3 (20%); +2 for more."""
    assert row.drop is not None
    if row.drop < 0:
        return t_for(locale, RISE, n=number(-row.drop, locale))
    share = _percent(row.drop_share, locale)
    if row.base_label is not None:
        return t_for(
            locale,
            DROP_FROM,
            n=number(row.drop, locale),
            share=share,
            stage=html.escape(row.base_label),
        )
    return t_for(locale, DROP, n=number(row.drop, locale), share=share)


def funnel_text(funnel: Funnel, locale: str) -> str:
    """A short text (Telegram HTML): title, period, region, one line per stage."""
    head = [
        "📊 <b>" + html.escape(t_for(locale, JOURNEY_TITLES[funnel.journey])) + "</b>",
        "🗓 " + html.escape(period_label(funnel, locale)),
        "📍 " + html.escape(region_label(funnel.regions, locale)),
    ]
    if not funnel.started:
        return "\n".join(head) + "\n\n" + t_for(locale, NOBODY)
    lines = []
    for row in rows(funnel, locale):
        line = t_for(
            locale,
            LINE,
            stage=html.escape(row.label),
            count=number(row.stage.count, locale),
            share=_percent(row.share, locale),
        )
        lines.append(line if row.drop is None else line + " · " + _drop_text(row, locale))
    legend = "<i>" + html.escape(t_for(locale, LEGEND)) + "</i>"
    return "\n".join(head) + "\n\n" + "\n".join(lines) + "\n\n" + legend


def _colour(stage: Stage) -> str:
    if stage.key == fn.STARTED:
        return "#7f8c8d"
    if stage.step is not None or stage.key == fn.SEAT:
        return "#2d7dd2"
    if stage.key in (fn.SUBMITTED, fn.APPROVED):
        return "#27ae60"
    return "#e67e22"  # the bank's stages


def funnel_png(funnel: Funnel, locale: str) -> bytes:
    """A horizontal bar chart (about 800×500 px): one bar per stage, top to bottom, its count
    and share of started at its end; the title names the journey, period and region. CPU-bound:
    call it through asyncio.to_thread from a handler."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = rows(funnel, locale)
    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(shown)))
    counts = [r.stage.count for r in shown]
    bars = axes.barh(positions, counts, color=[_colour(r.stage) for r in shown], height=0.7)
    axes.set_yticks(positions, [r.label for r in shown], fontsize=8)
    axes.invert_yaxis()  # started on top
    most = max(counts) if counts else 0
    axes.set_xlim(0, most * 1.25 if most else 1)
    for bar, row in zip(bars, shown, strict=True):
        total = t_for(
            locale,
            CHART_TOTAL,
            count=number(row.stage.count, locale),
            share=_percent(row.share, locale),
        )
        axes.text(
            bar.get_width() + (most or 1) * 0.01,
            bar.get_y() + bar.get_height() / 2,
            total,
            va="center",
            fontsize=8,
        )
    if not most:
        axes.text(
            0.5,
            0.5,
            t_for(locale, CHART_EMPTY),
            transform=axes.transAxes,
            ha="center",
            va="center",
            fontsize=11,
            color="#555555",
        )
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    title = t_for(locale, JOURNEY_TITLES[funnel.journey])
    place = region_label(funnel.regions, locale)
    if len(place) > TITLE_PLACE_MAX:
        place = place[: TITLE_PLACE_MAX - 1] + "…"
    axes.set_title(
        f"{title}\n{period_label(funnel, locale)} · {place}",
        fontsize=10,
        loc="left",
    )
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=100)
    return out.getvalue()
