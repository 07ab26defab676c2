"""Training sessions: finding one, and coordinators adding or editing them.

Topics are data here, so the list filter, the coordinator's flow and the CSV importer agree.
Times are typed in the coordinator's own zone (answers["tz"], given when the flow starts) and
turned into UTC with `starts_utc` / `ends_utc`; the bot shows them in each reader's zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flows import clock, regions, validators
from flows.engine import Answers, Flow, Found, Kind, Option, Step
from flows.errors import Invalid
from flows.i18n import N_
from flows.onboarding import _find_province, _find_regency, _provinces, _regencies

ALL = "all"
TOPICS = (
    Option("business", N_("Business and entrepreneurship")),
    Option("finance", N_("Financial literacy")),
    Option("digital", N_("Digital marketing")),
    Option("coop", N_("Cooperatives")),
    Option("vocational", N_("Vocational skills")),
    Option("agri", N_("Agriculture and fisheries")),
)
TOPIC_FILTERS = (Option(ALL, N_("All topics")), *TOPICS)
TOPIC_KEYS = frozenset(o.value for o in TOPICS)
TOPIC_LABELS = {o.value: o.label for o in TOPICS}

WIB = "Asia/Jakarta"
KEEP = "="  # the button that keeps the current value when editing a session
COMMON_TIMES = ("08.00", "09.00", "10.00", "13.00", "14.00", "15.30", "19.00", "20.00")
SEATS_MAX = 1000
WITHIN_MONTHS = 24  # a session is announced at most two years ahead

URL_INVALID = N_("Please send a full link that starts with https://, like https://zoom.us/j/123.")
END_NOT_AFTER_START = N_("The end must be after the start ({start}). Please choose a later time.")
TIME_PASSED = N_("That time has already passed today. Please choose a later time.")
START_TOO_LATE = N_(
    "A session ends on the day it starts, by 23.59 at the latest. "
    "Please choose a start no later than {latest}."
)
END_SAME_DAY = N_(
    "A session ends on the day it starts: after {start} and by {latest} at the latest. "
    "Please choose another time."
)

# A session starts and ends on one day (a date and two clock times): it ends by 23.59.
LAST_MINUTE = 23 * 60 + 59
END_AFTER = (60, 120, 180, 240, 480)  # minutes after the start offered as end times

_URL = re.compile(r"https?://[^\s/$.?#][^\s]*\.[^\s]{2,}", re.I)


def tz_of(answers: Answers) -> str:
    return str(answers.get("tz") or WIB)


def hhmm(value: str) -> str:
    """A stored time ("09.00") as the clock time the engine validators read ("09:00")."""
    return validators.time_of_day(value)


def _clock(raw: str) -> str:
    """Times are kept as "HH.MM" (a colon cannot ride in button data)."""
    return validators.time_of_day(raw).replace(":", ".")


def url(raw: str) -> str:
    """An http(s) link, as typed (a bare "zoom.us/..." gets https:// in front)."""
    value = validators.text(raw, min_len=8, max_len=300)
    if " " in value:
        raise Invalid(URL_INVALID)
    if not re.match(r"https?://", value, re.I):
        if "://" in value or not re.match(r"[\w-]+(\.[\w-]+)+(/|$)", value):
            raise Invalid(URL_INVALID)
        value = "https://" + value
    if not _URL.fullmatch(value):
        raise Invalid(URL_INVALID)
    return value


def _today(answers: Answers) -> date:
    return clock.today(ZoneInfo(tz_of(answers)))


def _date(raw: str, answers: Answers) -> str:
    today = _today(answers)
    return validators.future_date(raw, today=today, months=WITHIN_MONTHS).isoformat()


def _at(answers: Answers, key: str) -> datetime:
    """The answer `key` ("start" or "end") on the chosen date, in UTC."""
    local = clock.at(str(answers["date"]), hhmm(str(answers[key])), tz_of(answers))
    if local is None:
        raise ValueError(f"no {key} time on a date")
    return local.astimezone(UTC)


def starts_utc(answers: Answers) -> datetime:
    return _at(answers, "start")


def ends_utc(answers: Answers) -> datetime:
    return _at(answers, "end")


def _minutes(value: str) -> int:
    hour, minute = hhmm(value).split(":")
    return int(hour) * 60 + int(minute)


def _not_passed(answers: Answers, value: str) -> bool:
    if answers.get("date") != _today(answers).isoformat():
        return True
    now = clock.now().astimezone(ZoneInfo(tz_of(answers)))
    return _minutes(value) > now.hour * 60 + now.minute


def _start(raw: str, answers: Answers) -> str:
    value = _clock(raw)
    if _minutes(value) >= LAST_MINUTE:
        raise Invalid(START_TOO_LATE, latest=_hhmm(LAST_MINUTE - 1))
    if not _not_passed(answers, value):
        raise Invalid(TIME_PASSED)
    return value


def _end(raw: str, answers: Answers) -> str:
    start = str(answers.get("start") or "00.00")
    if _is_midnight(raw):
        raise Invalid(END_SAME_DAY, start=start, latest=_hhmm(LAST_MINUTE))
    value = _clock(raw)
    if _minutes(value) <= _minutes(start):
        raise Invalid(END_NOT_AFTER_START, start=start)
    return value


_MIDNIGHT = re.compile(r"(?:jam|pukul|pkl\.?)?\s*24(?:[.:]00)?\s*(?:wib|wita|wit)?", re.I)


def _is_midnight(raw: str) -> bool:
    """ "24.00" or "24:00": the end of the day, which a session cannot reach (it ends by 23.59)."""
    return _MIDNIGHT.fullmatch(raw.strip()) is not None


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}.{minutes % 60:02d}"


def _time_options(values: Sequence[str]) -> tuple[Option, ...]:
    return tuple(Option(v, v, literal=True) for v in values)


def _start_options(answers: Answers) -> Sequence[Option]:
    values = [v for v in COMMON_TIMES if _not_passed(answers, v)]
    current = answers.get("start")
    if (
        isinstance(current, str)
        and current not in values
        and _minutes(current) < LAST_MINUTE
        and _not_passed(answers, current)
    ):
        values.append(current)
    return _time_options(sorted(values, key=_minutes))


def _end_options(answers: Answers) -> Sequence[Option]:
    """One to eight hours after the start, on the same day; 23.59 when none of those fits."""
    start = _minutes(str(answers.get("start") or "00.00"))
    values = [_hhmm(start + d) for d in END_AFTER if start + d <= LAST_MINUTE]
    if not values and start < LAST_MINUTE:
        values = [_hhmm(LAST_MINUTE)]
    current = answers.get("end")
    if isinstance(current, str) and current not in values and _minutes(current) > start:
        values.append(current)
    return _time_options(sorted(set(values), key=_minutes))


def _keep(key: str) -> Callable[[Answers], Sequence[Option]]:
    """When editing, one button keeps the current value; typing replaces it."""

    def options(answers: Answers) -> Sequence[Option]:
        current = (answers.get("orig") or {}).get(key)
        return (Option(KEEP, "✔️ " + current[:60], literal=True),) if current else ()

    return options


def _no_search(_text: str, _answers: Answers) -> Found:
    return (
        Found()
    )  # only the exact current value matches the keep button; anything else is new text


def value(answers: Answers, key: str) -> str | None:
    """An answer with the keep button resolved to the value it kept."""
    found = answers.get(key)
    if found == KEEP:
        return (answers.get("orig") or {}).get(key)
    return found


def _text(min_len: int, max_len: int) -> Callable[[str, Answers], str]:
    return lambda raw, _: validators.text(raw, min_len=min_len, max_len=max_len)


MODES = (Option("place", N_("In person")), Option("online", N_("Online")))


def _scope(answers: Answers) -> list[str] | None:
    """The coordinator's regions (given when the flow starts); None: anywhere."""
    scope = answers.get("scope")
    return [str(code) for code in scope] if isinstance(scope, list) else None


def _regions(answers: Answers) -> Sequence[Option]:
    """Home, the session's current place and the coordinator's own regions, inside their
    scope; the whole country only for a coordinator without one."""
    scope = _scope(answers)
    candidates = [answers.get(k) for k in ("home_regency", "home_province", "current_region")]
    found: list[Option] = []
    for code in [*candidates, *(scope or [])]:
        if (
            code
            and code != ALL
            and regions.get(code)
            and regions.inside(code, scope)
            and all(o.value != code for o in found)
        ):
            found.append(Option(code, regions.display_name(code), literal=True))
    if scope is None:
        found.append(Option(ALL, N_("Whole country (everyone)")))
    found.append(Option("other", N_("Another region…")))
    return found


def _scoped_provinces(answers: Answers) -> Sequence[Option]:
    scope = _scope(answers)
    return [o for o in _provinces(answers) if regions.reaches(o.value, scope)]


def _regencies_or_whole(answers: Answers) -> Sequence[Option]:
    scope = _scope(answers)
    whole = (
        (Option("whole", N_("The whole province")),)
        if regions.inside(answers.get("province"), scope)
        else ()
    )
    return (*whole, *(o for o in _regencies(answers) if regions.inside(o.value, scope)))


def region_of(answers: Answers) -> tuple[str | None, str | None]:
    """(province_code, regency_code) of the session; (None, None) means open to everyone."""
    chosen = answers.get("region")
    if chosen == "other":
        province = answers.get("province")
        regency = answers.get("regency")
        return province, (regency if regency and regency != "whole" else None)
    if not chosen or chosen == ALL:
        return None, None
    region = regions.get(chosen)
    if region is None:
        return None, None
    return (region.province_code or region.code), (region.code if region.province_code else None)


TRAINING_EDIT = Flow(
    key="training_edit",
    title=N_("Training session"),
    journey="training",
    steps=(
        Step(
            "title",
            N_("What is the session called?"),
            Kind.CHOICE,
            options=_keep("title"),
            validate=_text(5, 150),
            finder=_no_search,
            hint=N_("Type the title, for example: Selling online for small shops."),
        ),
        Step(
            "organiser",
            N_("Who organises it?"),
            Kind.CHOICE,
            options=_keep("organiser"),
            validate=_text(2, 150),
            finder=_no_search,
            hint=N_("For example: Disnaker Kota Surabaya or BP3MI Jawa Timur."),
        ),
        Step("topic", N_("What is it about?"), Kind.CHOICE, options=TOPICS, columns=2),
        Step(
            "date",
            N_("On which day does it start?"),
            Kind.DATE,
            validate=_date,
            hint=N_("Type a day within the next 2 years, as DD/MM/YYYY, like 17/08/2027."),
        ),
        Step(
            "start",
            N_("What time does it start?"),
            Kind.CHOICE,
            options=_start_options,
            validate=_start,
            typed=Kind.TIME,
            columns=4,
            hint=N_("Choose, or type another time like 09.30. Use your own time zone."),
        ),
        Step(
            "end",
            N_("What time does it end?"),
            Kind.CHOICE,
            options=_end_options,
            validate=_end,
            typed=Kind.TIME,
            columns=3,
            hint=N_("Choose, or type another time like 16.00."),
        ),
        Step(
            "mode",
            N_("Is it in person or online?"),
            Kind.CHOICE,
            options=MODES,
            next=lambda a: "place" if a["mode"] == "place" else "link",
            columns=2,
        ),
        Step(
            "place",
            N_("Where is it held?"),
            Kind.CHOICE,
            options=_keep("place"),
            validate=_text(3, 200),
            finder=_no_search,
            next="region",
            hint=N_(
                "The building and street, for example: Aula BLK Surabaya, Jl. Dukuh Menanggal 124."
            ),
        ),
        Step(
            "link",
            N_("What is the link to join online?"),
            Kind.CHOICE,
            options=_keep("link"),
            validate=lambda raw, _: url(raw),
            finder=_no_search,
            hint=N_("For example: https://zoom.us/j/123456789"),
        ),
        Step(
            "region",
            N_("Who is it for?"),
            Kind.CHOICE,
            options=_regions,
            next=lambda a: "province" if a["region"] == "other" else "seats",
            hint=N_("People see sessions of their regency, their province and the whole country."),
        ),
        Step(
            "province",
            N_("Which province?"),
            Kind.CHOICE,
            options=_scoped_provinces,
            searchable=True,
            finder=_find_province,
            page_size=10,
            columns=2,
            hint=N_("Choose below, or type its name to search, e.g. Jawa Tengah."),
        ),
        Step(
            "regency",
            N_("Which regency or city?"),
            Kind.CHOICE,
            options=_regencies_or_whole,
            searchable=True,
            finder=_find_regency,
            page_size=10,
            columns=2,
            hint=N_("Choose below, type its name to search, or choose the whole province."),
        ),
        Step(
            "seats",
            N_("How many seats are there?"),
            Kind.NUMBER,
            validate=lambda raw, _: validators.integer(raw, min_value=1, max_value=SEATS_MAX),
            hint=N_("Type a number from 1 to 1000. When it is full, people join a waitlist."),
        ),
        Step(
            "approval",
            N_("Must the organiser confirm each registration?"),
            Kind.CONFIRM,
            hint=N_("Choose Yes if the organiser checks each person before they get a seat."),
        ),
        Step(
            "confirm",
            N_("Save this session with these details?"),
            Kind.CONFIRM,
            options=(Option("yes", N_("Yes, save it")), Option("no", N_("No, do not save"))),
            hint=N_("Your answers are above. Press Back to change one."),
            recap=True,
        ),
    ),
)

FLOWS: tuple[Flow, ...] = (TRAINING_EDIT,)


# --- the desk's session form: the same rules, every field at once -------------------------------

CHOOSE_ONE = N_("Please choose one of the options.")
FORM_FIELDS = (
    *("title", "organiser", "topic", "date", "start", "end", "mode", "place", "link"),
    *("region", "seats", "approval"),
)


def region_allowed(code: str, scope: list[str] | None) -> bool:
    """A session's place a coordinator may choose: the whole country only without a scope,
    else a known province or regency inside it."""
    if code == ALL:
        return scope is None
    return regions.get(code) is not None and regions.inside(code, scope)


def check_form(
    raw: dict[str, str], *, tz: str, scope: list[str] | None
) -> tuple[dict[str, object], dict[str, Invalid]]:
    """A session as the desk's form gives it (times in the coordinator's zone `tz`), read
    with the rules of the bot's /pelatihan_baru flow: (the values for operations.trainings,
    which are complete only without errors; the error of each field that has one)."""
    answers: Answers = {"tz": tz}
    if scope is not None:
        answers["scope"] = list(scope)
    errors: dict[str, Invalid] = {}

    def read(key: str, check: Callable[[str], object]) -> None:
        try:
            answers[key] = check(raw.get(key, "").strip())
        except Invalid as exc:
            errors[key] = exc

    def choose(options: Sequence[str]) -> Callable[[str], str]:
        def pick(value: str) -> str:
            if value not in options:
                raise Invalid(CHOOSE_ONE)
            return value

        return pick

    read("title", lambda v: validators.text(v, min_len=5, max_len=150))
    read("organiser", lambda v: validators.text(v, min_len=2, max_len=150))
    read("topic", choose(sorted(TOPIC_KEYS)))
    read("date", lambda v: _date(v, answers))
    if "date" in answers:
        read("start", lambda v: _start(v, answers))
    if "start" in answers:
        read("end", lambda v: _end(v, answers))
    read("mode", choose(("place", "online")))
    if answers.get("mode") == "online":
        read("link", url)
    else:
        read("place", lambda v: validators.text(v, min_len=3, max_len=200))

    def place_of(value: str) -> str:
        if not region_allowed(value, scope):
            raise Invalid(CHOOSE_ONE)
        return value

    read("region", place_of)
    read("seats", lambda v: validators.integer(v, min_value=1, max_value=SEATS_MAX))
    read("approval", choose(("yes", "no")))
    if errors:
        return {}, errors
    online = answers["mode"] == "online"
    province, regency = region_of(answers)
    return {
        "title": answers["title"],
        "organiser": answers["organiser"],
        "topic": answers["topic"],
        "starts_at": starts_utc(answers),
        "ends_at": ends_utc(answers),
        "place": None if online else answers["place"],
        "link": answers["link"] if online else None,
        "province_code": province,
        "regency_code": regency,
        "seats": int(answers["seats"]),  # type: ignore[call-overload]
        "needs_approval": answers["approval"] == "yes",
    }, errors
