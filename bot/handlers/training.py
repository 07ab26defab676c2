"""Training sessions: list, register, waitlist, cancel; coordinators add and edit."""

from __future__ import annotations

import html
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from babel.dates import format_time
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, journeys, notices, protection, roles
from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers.common import IsCommand, needs_profile, pressed_message, turn_for
from bot.handlers.review import FixCB
from bot.outbox import Outbox
from bot.text import BABEL_LOCALES, current_locale, label, moment, t, t_for
from flows import clock, regions
from flows.i18n import N_
from flows.training import (
    ALL,
    TOPIC_FILTERS,
    TOPIC_LABELS,
    ends_utc,
    region_of,
    starts_utc,
    value,
)
from operations import trainings as ops
from operations.trainings import Standing
from storage import trainings
from storage.models import (
    FlowRun,
    Person,
    RegistrationStatus,
    Role,
    Submission,
    Training,
    TrainingRegistration,
)

PAGE_SIZE = 5
LAST_PAGE = 10_000  # the highest page number a button carries (kb.Small)


class TrainingCB(CallbackData, prefix="tr"):
    """act: list | regions | show | reg | mine | unreg | new | edit | drop | dropok."""

    act: str
    id: kb.RowId = 0
    topic: str = ALL
    page: kb.Small = 0
    region: str = ""


def _tz(person: Person) -> str:
    return regions.zone_of(person.province_code)


def _can_manage(role: Role | str | None) -> bool:
    return roles.can(role, "training.manage")


def _may_manage(person: Person | None, role: Role | str | None, training: Training) -> bool:
    """The role, and the session inside the coordinator's regions (a nationwide session:
    only an unscoped coordinator or an admin)."""
    return roles.may(person, role, "training.manage", roles.place(training))


def _tr(locale: str | None):  # noqa: ANN202 - a small translator for someone's language
    def tr(msgid: str, **params: Any) -> str:
        return t_for(locale or current_locale(), msgid, **params)

    return tr


def block(training: Training, taken: int, tz: str, locale: str | None = None) -> str:
    """A session as people read it: title, organiser, when (in their zone), where, seats."""
    tr = _tr(locale)
    loc = locale or current_locale()
    end = format_time(
        training.ends_at, "short", tzinfo=ZoneInfo(tz), locale=BABEL_LOCALES.get(loc, "id_ID")
    )
    lines = [
        f"<b>{html.escape(training.title)}</b>",
        tr(N_("Organiser: {name}"), name=html.escape(training.organiser)),
        "🗓 " + tr(N_("{start} to {end}"), start=moment(training.starts_at, tz, loc), end=end),
    ]
    if training.place:
        lines.append("📍 " + html.escape(training.place))
    if training.link:
        lines.append("💻 " + tr(N_("Online: {link}"), link=html.escape(training.link)))
    left = training.seats - taken
    if left > 0:
        lines.append("🪑 " + tr(N_("Seats left: {n}"), n=left))
    else:
        lines.append("🪑 " + tr(N_("Full — join the waitlist")))
    return "\n".join(lines)


def _home(person: Person, region: str) -> tuple[str | None, str | None, str]:
    """(province, regency, name) of the region to list: the person's own, or the one chosen."""
    chosen = regions.get(region) if region else None
    if chosen is not None:
        if chosen.province_code is None:
            return chosen.code, None, chosen.name
        return chosen.province_code, chosen.code, regions.display_name(chosen.code)
    if person.regency_code and regions.get(person.regency_code):
        return person.province_code, person.regency_code, regions.display_name(person.regency_code)
    if person.province_code and regions.get(person.province_code):
        return person.province_code, None, regions.display_name(person.province_code)
    return None, None, _("all of Indonesia")


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return kb._button(text, data)


def _short(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


async def list_page(
    turn: Turn, *, role: Role | str | None, topic: str = ALL, page: int = 0, region: str = ""
) -> tuple[str, InlineKeyboardMarkup]:
    """The upcoming sessions for a region and topic, a page at a time, with filter buttons."""
    topic = topic if topic in TOPIC_LABELS else ALL
    region = region if region and regions.get(region) else ""  # forged data goes no further
    province, regency, place = _home(turn.person, region)
    found = await trainings.upcoming(
        turn.session,
        province_code=province,
        regency_code=regency,
        topic=None if topic == ALL else topic,
        page=page,
        size=PAGE_SIZE,
    )
    pages, page, shown = found.pages, found.number, found.rows
    taken = await trainings.taken(turn.session, [tr.id for tr in shown])
    tz = _tz(turn.person)
    chosen = next(o for o in TOPIC_FILTERS if o.value == topic)
    parts = [
        "🎓 <b>" + _("Upcoming training for {place}").format(place=html.escape(place)) + "</b>",
        _("Topic: {topic}").format(topic=label(chosen)),
    ]
    if not found.total:
        parts.append(
            _(
                "No upcoming sessions here for this topic yet. "
                "Try all topics or another region, or look again in a few days."
            )
        )
        parts.append(protection.training_elsewhere(turn.person.province_code))
    for n, training in enumerate(shown, start=page * PAGE_SIZE + 1):
        parts.append(f"{n}. " + block(training, taken.get(training.id, 0), tz))
    if found.total:
        parts.append(_("Press a session to see it and register."))
    rows: list[list[InlineKeyboardButton]] = []
    for n, training in enumerate(shown, start=page * PAGE_SIZE + 1):
        rows.append(
            [
                _button(
                    f"{n}. {_short(training.title)}",
                    TrainingCB(act="show", id=training.id, topic=topic, region=region),
                )
            ]
        )
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(
                _button("◀️", TrainingCB(act="list", topic=topic, page=page - 1, region=region))
            )
        nav.append(
            _button(
                f"{page + 1}/{pages}", TrainingCB(act="list", topic=topic, page=page, region=region)
            )
        )
        if page < min(pages - 1, LAST_PAGE):
            nav.append(
                _button("▶️", TrainingCB(act="list", topic=topic, page=page + 1, region=region))
            )
        rows.append(nav)
    topics = [
        _button(
            ("• " if o.value == topic else "") + label(o),
            TrainingCB(act="list", topic=o.value, region=region),
        )
        for o in TOPIC_FILTERS
    ]
    rows += [topics[i : i + 2] for i in range(0, len(topics), 2)]
    places = [_button("🗺 " + _("Another region"), TrainingCB(act="regions", topic=topic))]
    if region:
        places.append(_button("🏠 " + _("My region"), TrainingCB(act="list", topic=topic)))
    rows.append(places)
    rows.append([_button("📋 " + _("My trainings"), TrainingCB(act="mine"))])
    if _can_manage(role):
        rows.append([_button("➕ " + _("New session"), TrainingCB(act="new"))])
    rows.append([_button("🏠 " + _("Main menu"), kb.MenuCB(item="menu"))])
    return "\n\n".join(parts), InlineKeyboardMarkup(inline_keyboard=rows)


@journeys.entry("training")
async def open_(turn: Turn) -> None:
    """The main menu's "Training": sessions near the person."""
    text, markup = await list_page(turn, role=turn.role)
    turn.say(text, markup)


async def _card(
    turn: Turn, training: Training, *, role: Role | str | None, topic: str, region: str
):  # noqa: ANN202
    taken = (await trainings.taken(turn.session, [training.id])).get(training.id, 0)
    parts = [block(training, taken, _tz(turn.person))]
    mine = await trainings.registration_of(
        turn.session, training_id=training.id, person_id=turn.person.id
    )
    rows: list[list[InlineKeyboardButton]] = []
    if training.cancelled:
        parts.append("🚫 " + _("This session was cancelled."))
    elif mine is not None and mine.status == RegistrationStatus.REGISTERED:
        parts.append("✅ " + _("You are registered."))
        rows.append([_button("✖️ " + _("Cancel my place"), TrainingCB(act="unreg", id=mine.id))])
    elif mine is not None and mine.status == RegistrationStatus.WAITLISTED:
        n = await trainings.position(turn.session, mine)
        parts.append("⏳ " + _("You are on the waitlist, place {n}.").format(n=n))
        rows.append([_button("✖️ " + _("Leave the waitlist"), TrainingCB(act="unreg", id=mine.id))])
    elif mine is not None and mine.status == RegistrationStatus.REJECTED:
        submission = (await trainings.submissions_of(turn.session, [mine.id])).get(mine.id)
        parts.append("\n".join(x for x in (head(Standing.REJECTED), reason_line(submission)) if x))
    else:
        text = "✅ " + _("Register") if taken < training.seats else "⏳ " + _("Join the waitlist")
        rows.append([_button(text, TrainingCB(act="reg", id=training.id))])
    if training.needs_approval and not training.cancelled:
        parts.append(_("The organiser confirms each registration."))
    if _may_manage(turn.person, role, training) and not training.cancelled:
        rows.append(
            [
                _button("✏️ " + _("Edit"), TrainingCB(act="edit", id=training.id)),
                _button("🚫 " + _("Cancel session"), TrainingCB(act="drop", id=training.id)),
            ]
        )
    rows.append(
        [_button("⬅️ " + _("Back to the list"), TrainingCB(act="list", topic=topic, region=region))]
    )
    return "\n\n".join(parts), InlineKeyboardMarkup(inline_keyboard=rows)


def _regions_keyboard(topic: str) -> InlineKeyboardMarkup:
    buttons = [
        _button(r.name, TrainingCB(act="list", topic=topic, region=r.code))
        for r in regions.provinces()
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button("🏠 " + _("My region"), TrainingCB(act="list", topic=topic))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


# --- notices: what others are told, in their own language -------------------------------------


async def _taken(session: AsyncSession, training: Training) -> int:
    return (await trainings.taken(session, [training.id])).get(training.id, 0)


def _mine_button() -> InlineKeyboardMarkup:
    return kb.single("📋 " + _("My trainings"), TrainingCB(act="mine"))


@notices.renders("training.promoted")
async def _promoted(session: AsyncSession, person: Person, args: dict[str, Any]) -> Any:
    """A seat from the waitlist is now theirs."""
    reg = await trainings.registration(session, int(args["registration"]))
    training = await trainings.get(session, reg.training_id) if reg is not None else None
    if reg is None or training is None or reg.status != RegistrationStatus.REGISTERED:
        return None
    text = (
        "🎉 "
        + _("Good news! A seat in this training is now yours:")
        + "\n\n"
        + block(training, await _taken(session, training), _tz(person))
    )
    if training.needs_approval:
        text += "\n\n" + _("The organiser confirms each registration.")
    return text, _mine_button()


@notices.renders("training.cancelled")
async def _cancelled(session: AsyncSession, person: Person, args: dict[str, Any]) -> Any:
    """Their session is cancelled, and with it their seat or waitlist place."""
    training = await trainings.get(session, int(args["training"]))
    if training is None:
        return None
    text = "🚫 " + _(
        "Sorry, this training has been cancelled by the organiser: {title}, {when}. "
        "Your place is released; you do not need to do anything."
    ).format(title=html.escape(training.title), when=moment(training.starts_at, _tz(person)))
    return text, None


CHANGED = {
    ("time",): N_("The organiser changed the time of this training:"),
    ("place",): N_("The organiser changed the place of this training:"),
    ("place", "time"): N_("The organiser changed the time and place of this training:"),
}


@notices.renders("training.changed")
async def _changed(session: AsyncSession, person: Person, args: dict[str, Any]) -> Any:
    """Their session has a new time or place; their seat or waitlist place stays."""
    training = await trainings.get(session, int(args["training"]))
    what = tuple(sorted(args.get("what") or ()))
    if training is None or training.cancelled or what not in CHANGED:
        return None
    text = (
        "🗓 "
        + t(CHANGED[what])
        + "\n\n"
        + block(training, await _taken(session, training), _tz(person))
        + "\n\n"
        + _(
            "Your place stays as it was. If this no longer suits you, you can cancel it "
            "under “My trainings”."
        )
    )
    return text, _mine_button()


async def tell_promoted(turn: Turn, promoted: list[TrainingRegistration]) -> None:
    """Seats given from the waitlist elsewhere (a deletion freed them): each gets its
    reminders and its person is told, in their own language (operations.trainings.seated)."""
    done = await ops.seated(turn.session, promoted, now=clock.now())
    await notices.deliver(turn.session, turn.outbox, done.notices)


# --- a person's own registration ---------------------------------------------------------------


async def _register(turn: Turn, callback: CallbackQuery, training_id: int) -> None:
    done = await ops.register(
        turn.session, training_id=training_id, person_id=turn.person.id, now=clock.now()
    )
    if done.refused == "rejected":
        turn.outbox.add(
            callback.answer(
                _(
                    "Your registration for this session was not approved, so you cannot "
                    "register again. Please ask your coordinator."
                ),
                show_alert=True,
            )
        )
        return
    if not done.ok:
        turn.outbox.add(
            callback.answer(_("This session is no longer open for registration."), show_alert=True)
        )
        return
    training = await trainings.get(turn.session, training_id)
    assert training is not None
    title = html.escape(training.title)
    when = moment(training.starts_at, _tz(turn.person))
    if done.already:
        turn.outbox.add(
            callback.answer(
                _("You are already registered.")
                if done.status == RegistrationStatus.REGISTERED
                else _("You are already on the waitlist, place {n}.").format(n=done.position)
            )
        )
        return
    turn.outbox.add(callback.answer())
    if done.status == RegistrationStatus.REGISTERED:
        text = "✅ " + _("You are registered for {title} on {when}.").format(title=title, when=when)
        if training.needs_approval:
            text += "\n\n" + _(
                "The organiser confirms each registration. Until then your place is not final; "
                "you can check it under “My trainings”."
            )
        else:
            text += "\n\n" + _("Please come on time. You can cancel under “My trainings”.")
    else:
        text = "⏳ " + _(
            "{title} is full. You are on the waitlist, place {n}. If a seat frees up, it goes "
            "to you automatically and I will send you a message."
        ).format(title=title, n=done.position)
    markup = kb.buttons_column(
        [
            ("📋 " + _("My trainings"), TrainingCB(act="mine")),
            ("🎓 " + _("Other sessions"), TrainingCB(act="list")),
        ]
    )
    turn.say(text, markup)
    await notices.deliver(turn.session, turn.outbox, done.notices)


# Where a registration stands, as "My trainings" heads it (see operations.trainings.standing).
HEADS = {
    Standing.REGISTERED: ("✅", N_("Registered")),
    Standing.AWAITING: ("⏳", N_("Registered, waiting for the organiser's confirmation")),
    Standing.RETURNED: ("↩️", N_("Registered, returned to you for a correction")),
    Standing.CONFIRMED: ("✅", N_("Registered and confirmed by the organiser")),
    Standing.REJECTED: ("✖️", N_("Not approved")),
}
# ... and as /progres and /datasaya say it, within a sentence.
PHRASES = {
    Standing.REGISTERED: N_("registered"),
    Standing.AWAITING: N_("registered, waiting for the organiser's confirmation"),
    Standing.RETURNED: N_("registered, returned to you for a correction"),
    Standing.CONFIRMED: N_("registered and confirmed by the organiser"),
    Standing.WAITLISTED: N_("on the waitlist, place {n}"),
    Standing.REJECTED: N_("not approved"),
    Standing.CANCELLED: N_("you cancelled"),
    Standing.SESSION_CANCELLED: N_("the session was cancelled"),
}


def head(standing: Standing, position: int = 0) -> str:
    """The standing as a line of its own ("My trainings")."""
    if standing == Standing.WAITLISTED:
        return "⏳ " + _("On the waitlist, place {n}").format(n=position)
    icon, msgid = HEADS[standing]
    return f"{icon} {t(msgid)}"


def phrase(standing: Standing, position: int = 0) -> str:
    """The standing within a sentence (/progres, /datasaya)."""
    return t(PHRASES[standing], n=position)


def reason_line(submission: Submission | None) -> str | None:
    """What the reviewer wrote, for a rejection or a return."""
    if submission is None or not submission.reason:
        return None
    return _("The reviewer wrote: {reason}").format(reason=html.escape(submission.reason))


async def _journey(
    turn: Turn,
) -> list[tuple[TrainingRegistration, Training, Submission | None, Standing, int]]:
    """The person's places in sessions still to come (not approved ones too), with where
    each stands: (registration, session, its latest submission, standing, waitlist place)."""
    rows = await trainings.of_person(
        turn.session,
        person_id=turn.person.id,
        now=clock.now(),
        statuses=(*ops.ACTIVE, RegistrationStatus.REJECTED.value),
    )
    latest = await trainings.submissions_of(turn.session, [reg.id for reg, _t in rows])
    found = []
    for reg, training in rows:
        submission = latest.get(reg.id)
        standing = ops.standing(reg, training, submission)
        n = await trainings.position(turn.session, reg)
        found.append((reg, training, submission, standing, n))
    return found


async def mine_page(turn: Turn) -> tuple[str, InlineKeyboardMarkup]:
    """The person's registrations and waitlist places, each with a cancel button; a place not
    approved says so, with the reviewer's reason."""
    rows = await _journey(turn)
    parts = ["📋 <b>" + _("My trainings") + "</b>"]
    buttons: list[tuple[str, CallbackData]] = []
    if not rows:
        parts.append(_("You have not registered for any session yet."))
    tz = _tz(turn.person)
    for reg, training, submission, standing, n in rows:
        when = moment(training.starts_at, tz)
        lines = [f"<b>{html.escape(training.title)}</b>", f"🗓 {when}", head(standing, n)]
        if standing in (Standing.REJECTED, Standing.RETURNED):
            lines.append(reason_line(submission) or "")
        parts.append("\n".join(line for line in lines if line))
        if standing == Standing.RETURNED and submission is not None:
            buttons.append(("✏️ " + _("Correct it now"), FixCB(id=submission.id)))
        if standing != Standing.REJECTED:
            buttons.append(
                ("✖️ " + _("Cancel: {title}").format(title=_short(training.title, 30)),
                 TrainingCB(act="unreg", id=reg.id))
            )  # fmt: skip
    buttons.append(("🎓 " + _("Find sessions"), TrainingCB(act="list")))
    buttons.append(("🏠 " + _("Main menu"), kb.MenuCB(item="menu")))
    return "\n\n".join(parts), kb.buttons_column(buttons)


async def _unregister(turn: Turn, callback: CallbackQuery, registration_id: int) -> None:
    registration = await trainings.registration(turn.session, registration_id)
    done = await ops.cancel(
        turn.session, registration_id=registration_id, person_id=turn.person.id, now=clock.now()
    )
    if not done.ok or registration is None:
        turn.outbox.add(callback.answer(_("That place is already cancelled.")))
        return
    turn.outbox.add(callback.answer())
    training = await trainings.get(turn.session, registration.training_id)
    title = html.escape(training.title if training else "")
    turn.say("✖️ " + _("Your place in {title} is cancelled.").format(title=title))
    await notices.deliver(turn.session, turn.outbox, done.notices)
    text, markup = await mine_page(turn)
    turn.say(text, markup)


def _edit_answers(
    person: Person, training: Training | None = None, scope: list[str] | None = None
) -> dict[str, Any]:
    """What the coordinator flow knows when it starts: their zone, home and regions (the only
    places it offers; none given: anywhere), and when editing, the session's current values
    (times in the coordinator's zone)."""
    answers: dict[str, Any] = {
        "tz": _tz(person),
        "home_province": person.province_code,
        "home_regency": person.regency_code,
    }
    if scope is not None:
        answers["scope"] = list(scope)
    if training is None:
        return answers
    zone = ZoneInfo(answers["tz"])
    start, end = training.starts_at.astimezone(zone), training.ends_at.astimezone(zone)
    current = training.regency_code or training.province_code or ALL
    answers.update(
        training_id=training.id,
        orig={
            k: v
            for k, v in (
                ("title", training.title),
                ("organiser", training.organiser),
                ("place", training.place),
                ("link", training.link),
            )
            if v
        },
        title=training.title,
        organiser=training.organiser,
        topic=training.topic,
        date=start.date().isoformat(),
        start=start.strftime("%H.%M"),
        end=end.strftime("%H.%M"),
        mode="online" if training.link and not training.place else "place",
        place=training.place,
        link=training.link,
        region=current,
        current_region=current,
        seats=training.seats,
        approval="yes" if training.needs_approval else "no",
    )
    return {k: v for k, v in answers.items() if v is not None}


async def _start_edit(turn: Turn, training: Training | None) -> None:
    scope = roles.scope(turn.person, turn.role)
    if scope is not None and not scope:
        turn.say(
            _("Your role has no regions yet, so you cannot add sessions. Please ask an admin.")
        )
        return
    answers = _edit_answers(turn.person, training, scope)
    await driver.begin(turn, "training_edit", answers=answers)


@driver.on_finish("training_edit")
async def edit_done(turn: Turn, run: FlowRun) -> None:
    """Create or update the session (operations.trainings): more seats go to the waitlist
    at once, and a new time or place is told to everyone in it."""
    answers = dict(run.answers or {})
    if answers.get("confirm") != "yes":
        turn.say(_("Not saved. Nothing was changed."), kb.main_menu())
        return
    if not _can_manage(turn.role):  # the role is checked again: it may have been revoked
        roles.refuse(turn.outbox, "training.manage", turn.role)
        turn.say(_("Sorry, only coordinators can add or change training sessions."))
        return
    online = answers.get("mode") == "online"
    province, regency = region_of(answers)
    training_id = int(answers.get("training_id") or 0)
    values = {
        "title": value(answers, "title"),
        "organiser": value(answers, "organiser"),
        "topic": answers["topic"],
        "starts_at": starts_utc(answers),
        "ends_at": ends_utc(answers),
        "place": None if online else value(answers, "place"),
        "link": value(answers, "link") if online else None,
        "province_code": province,
        "regency_code": regency,
        "seats": int(answers["seats"]),
        "needs_approval": answers.get("approval") == "yes",
    }
    # The regions are checked again by the operation: the chosen place and, when editing, the
    # session's own (either may be outside the coordinator's regions by now, or forged).
    scope = roles.scope(turn.person, turn.role)
    if training_id:
        done = await ops.edit_session(
            turn.session, training_id=training_id, values=values, scope=scope, now=clock.now()
        )
    else:
        done = await ops.create_session(
            turn.session, values=values, created_by=turn.person.id, scope=scope, now=clock.now()
        )
    if done.refused == "outside":
        roles.refuse(turn.outbox, "training.manage", turn.role, outside=True)
        turn.say(
            _("Sorry, that is outside your regions. Nothing was saved."),
            kb.single("🎓 " + _("Training"), TrainingCB(act="list")),
        )
        return
    if done.refused == "same_session":
        turn.say(
            _(
                "There is already a session called {title} starting at that time. "
                "Nothing was saved. Please use a different title or time."
            ).format(title=html.escape(values["title"])),
            kb.single(
                "🎓 " + _("Training"), TrainingCB(act="show", id=done.changed["training"][0])
            ),
        )
        return
    if not done.ok:
        turn.say(_("That session no longer exists. Nothing was changed."), kb.main_menu())
        return
    training = await trainings.get(turn.session, done.changed["training"][0])
    assert training is not None
    notes: list[str] = []
    registered = await trainings.registered_count(turn.session, training.id)
    if training_id:
        if registered > training.seats:
            notes.append(
                _(
                    "{n} people are already registered, more than the {seats} seats. "
                    "They keep their places; nobody new gets a seat until some cancel."
                ).format(n=registered, seats=training.seats)
            )
        promoted = done.changed.get("promoted", [])
        if promoted:
            notes.append(
                _("{n} people from the waitlist got a seat and were told.").format(n=len(promoted))
            )
        moved = {n.to for n in done.notices if n.message == "training.changed"}
        if moved:
            notes.append(
                _("{n} people registered or waiting were told of the change.").format(n=len(moved))
            )
        top = "✅ " + _("Changes saved.")
    else:
        top = "✅ " + _("Saved! People in the region can now find the session and register.")
    text = "\n\n".join([top, block(training, registered, _tz(turn.person)), *notes])
    markup = kb.buttons_column(
        [
            ("🎓 " + _("See the session"), TrainingCB(act="show", id=training.id)),
            ("🏠 " + _("Main menu"), kb.MenuCB(item="menu")),
        ]
    )
    turn.say(text, markup)
    await notices.deliver(turn.session, turn.outbox, done.notices)


async def _cancel_session(turn: Turn, training_id: int) -> None:
    done = await ops.cancel_session(
        turn.session,
        training_id=training_id,
        scope=roles.scope(turn.person, turn.role),
        now=clock.now(),
    )
    if done.refused == "outside":
        roles.refuse(turn.outbox, "training.manage", turn.role, outside=True)
        return
    if not done.ok:
        turn.say(_("That session is already cancelled."))
        return
    told = {n.to for n in done.notices}
    turn.say(
        "🚫 " + _("The session is cancelled. {n} people were told.").format(n=len(told)),
        kb.single("🎓 " + _("Training"), TrainingCB(act="list")),
    )
    await notices.deliver(turn.session, turn.outbox, done.notices)


async def pressed(
    callback: CallbackQuery,
    callback_data: TrainingCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """Every training button. Ids are checked (they can be forged); coordinator acts check
    the role, and the session's region, on the server."""
    if needs_profile(callback, person, outbox):
        return
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    message = pressed_message(callback)
    act, data = callback_data.act, callback_data
    if act in ("new", "edit", "drop", "dropok") and not _can_manage(role):
        roles.refuse(outbox, "training.manage", role, callback=callback)
        return
    if act == "list":
        outbox.add(callback.answer())
        text, markup = await list_page(
            turn, role=role, topic=data.topic, page=data.page, region=data.region
        )
        turn.put(text, markup, message)
    elif act == "regions":
        outbox.add(callback.answer())
        turn.put(_("Which province would you like to see?"), _regions_keyboard(data.topic), message)
    elif act == "mine":
        outbox.add(callback.answer())
        text, markup = await mine_page(turn)
        turn.say(text, markup)
    elif act == "reg":
        await _register(turn, callback, data.id)
    elif act == "unreg":
        await _unregister(turn, callback, data.id)
    elif act == "new":
        outbox.add(callback.answer())
        await _start_edit(turn, None)
    else:
        training = await trainings.get(session, data.id)
        if training is None:
            outbox.add(callback.answer(_("That session is not available."), show_alert=True))
            return
        if act == "show":
            outbox.add(callback.answer())
            text, markup = await _card(
                turn, training, role=role, topic=data.topic, region=data.region
            )
            turn.say(text, markup)
        elif act in ("edit", "drop", "dropok") and not roles.check(
            outbox,
            "training.manage",
            role,
            person=person,
            region=roles.place(training),
            callback=callback,
        ):
            return
        elif training.cancelled:
            outbox.add(callback.answer(_("That session is already cancelled.")))
        elif act == "edit":
            outbox.add(callback.answer())
            await _start_edit(turn, training)
        elif act == "drop":
            outbox.add(callback.answer())
            turn.say(
                _(
                    "Cancel this session? Everyone registered or waiting is told at once."
                ) + "\n\n" + block(training, 0, _tz(person)),
                kb.buttons_column(
                    [
                        ("🚫 " + _("Yes, cancel the session"), TrainingCB(act="dropok", id=training.id)),
                        ("⬅️ " + _("No, keep it"), TrainingCB(act="show", id=training.id)),
                    ]
                ),
            )  # fmt: skip
        elif act == "dropok":
            outbox.add(callback.answer())
            await _cancel_session(turn, training.id)
        else:
            outbox.add(
                callback.answer(_("This button no longer works. Send /menu to see the menu."))
            )


async def new_command(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """/pelatihan_baru: a coordinator adds a session."""
    if not roles.gate(outbox, "training.manage", person, role, message=message):
        return
    await _start_edit(
        turn_for(message, session=session, person=person, outbox=outbox, role=role), None
    )


@journeys.progress("training")
async def lines(turn: Turn) -> list[journeys.Line]:
    """Each upcoming registration or waitlist place, with its date, where it stands (not
    approved: with the reviewer's reason) and what comes next."""
    found: list[journeys.Line] = []
    tz = _tz(turn.person)
    offered = False  # "My trainings", once
    for _reg, training, submission, standing, n in await _journey(turn):
        when = moment(training.starts_at, tz)
        status = _("{status}, {when}").format(status=phrase(standing, n), when=when)
        reason = reason_line(submission)
        if standing in (Standing.REJECTED, Standing.RETURNED) and reason:
            status += ". " + reason
        button: tuple[str, CallbackData] | None = None
        if standing == Standing.WAITLISTED:
            step = _("wait: if a seat frees up, it is yours and I will tell you")
        elif standing == Standing.AWAITING:
            step = _("the organiser confirms your place")
        elif standing == Standing.RETURNED and submission is not None:
            step = _("correct what the reviewer asked; your seat is held until then")
            button = ("✏️ " + _("Correct it now"), FixCB(id=submission.id))
        elif standing == Standing.REJECTED:
            step = _("ask your coordinator about it, or choose another session")
            button = ("🎓 " + _("Other sessions"), TrainingCB(act="list"))
        else:
            step = _("come to the session on time")
        if button is None and not offered:
            button, offered = ("📋 " + _("My trainings"), TrainingCB(act="mine")), True
        found.append(
            journeys.Line(
                journey="training",
                title=training.title,
                status=status,
                next_step=step,
                button=button,
            )
        )
    return found


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="training")
    r.message.filter(IsCommand())
    r.message.register(new_command, Command("pelatihan_baru"))
    r.callback_query.register(pressed, TrainingCB.filter())
    return r
