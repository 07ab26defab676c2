"""Founding a cooperative with fellow returnees: the plan, the founders, the legal steps.

Facts (flows/content/coop.toml, from DOMAIN.md section 0): a primary cooperative needs at least
9 founders since UU Cipta Kerja (it was 20); the Dinas Koperasi's information session, the
AD/ART, the founding meeting, proof of paid simpanan, the business plan, the deed by a Notaris
Pembuat Akta Koperasi, legal entity through AHU Online (Kemenkum), NIB, NPWP and a bank account
in the cooperative's name; the NIK Koperasi comes after the first RAT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows import clock, validators
from flows.content.help import coop as coop_content
from flows.engine import END, Answers, Flow, Kind, Option, Step
from flows.i18n import N_
from flows.join_coop import KINDS


@dataclass(frozen=True)
class Milestone:
    key: str
    label: str  # short, for buttons and lists (a msgid)
    about: str  # what to do, shown for the next step only (a msgid)


# The steps and the minimum are data: flows/content/coop.toml (DOMAIN.md section 0).
_COOP = coop_content()
MIN_FOUNDERS = _COOP.min_founders
MEETING = _COOP.meeting
MILESTONES = tuple(Milestone(s.key, s.label, s.about) for s in _COOP.steps)
MILESTONE_KEYS = tuple(m.key for m in MILESTONES)
BY_KEY = {m.key: m for m in MILESTONES}


def next_milestone(done: Mapping[str, Any]) -> Milestone | None:
    """The first step not yet marked done, in order."""
    return next((m for m in MILESTONES if m.key not in done), None)


def ready_to_submit(founders: int, done: Mapping[str, Any]) -> bool:
    """Enough founders and the founding meeting held: the plan goes to the team."""
    return founders >= MIN_FOUNDERS and MEETING in done


def _purpose(raw: str, _: Answers) -> str:
    return validators.text(raw, min_len=10, max_len=300)


def _name(raw: str, _: Answers) -> str:
    return validators.text(raw, min_len=3, max_len=120)


YES, NO = "yes", "no"

FOUND = Flow(
    key="found_coop",
    title=N_("Found a cooperative"),
    journey="coop",
    steps=(
        Step(
            "kind",
            N_("What type of cooperative do you want to found?"),
            Kind.CHOICE,
            options=KINDS,
            hint=N_(
                "Simpan pinjam: members save and borrow. Konsumen: buying daily needs together. "
                "Produsen: making products together. Pemasaran: selling members' products. "
                "Jasa: offering a service together."
            ),
        ),
        Step(
            "purpose",
            N_("What will the cooperative do, and for whom?"),
            Kind.TEXT,
            validate=_purpose,
            hint=N_(
                "A sentence or two, for example: savings and loans for returning migrant "
                "workers in our village, to start small businesses."
            ),
        ),
        Step(
            "name",
            N_("What name do you propose?"),
            Kind.TEXT,
            validate=_name,
            hint=N_(
                "For example: Koperasi Purna Migran Sejahtera. The founding meeting decides "
                "the final name."
            ),
        ),
        Step(
            "confirm",
            N_("Start this founding plan?"),
            Kind.CONFIRM,
            options=(Option(YES, N_("Yes, start the plan")), Option(NO, N_("No, not now"))),
            next=END,
            hint=N_(
                "You get an invitation link to send to fellow returnees. A primary cooperative "
                "needs at least 9 founders."
            ),
        ),
    ),
)

# Values use a dot ("09.00"): a colon cannot travel in callback data. time_of_day reads both.
COMMON_TIMES = tuple(
    Option(hhmm, hhmm, literal=True)
    for hhmm in ("08.00", "09.00", "10.00", "13.00", "14.00", "15.00", "19.00", "20.00")
)


MEETING_WITHIN_MONTHS = 12  # a founding meeting is planned within the year


def _meeting_date(raw: str, _: Answers) -> str:
    today = clock.today()
    return validators.future_date(raw, today=today, months=MEETING_WITHIN_MONTHS).isoformat()


def _time(raw: str, _: Answers) -> str:
    return validators.time_of_day(raw)


MEETING_FLOW = Flow(
    key="found_meeting",
    title=N_("Founding meeting date"),
    journey="coop",
    steps=(
        Step(
            "date",
            N_("On what date is the founding meeting?"),
            Kind.DATE,
            validate=_meeting_date,
            hint=N_("Type a day within the next 12 months: besok, lusa, or DD/MM/YYYY."),
        ),
        Step(
            "time",
            N_("At what time does it start?"),
            Kind.CHOICE,
            options=COMMON_TIMES,
            validate=_time,
            typed=Kind.TIME,
            columns=4,
            next=END,
            hint=N_(
                "Choose below, or type a time like 14.30. Your home region's time zone is used."
            ),
        ),
    ),
)

FLOWS: tuple[Flow, ...] = (FOUND, MEETING_FLOW)
