"""/start: greeting, consent under UU 27/2022, then onboarding; /start again resumes."""

from __future__ import annotations

import html
import logging
import re

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, journeys
from bot import keyboards as kb
from bot.handlers import announcements
from bot.handlers.common import IsCommand, pressed_message, reply, turn_for
from bot.outbox import Outbox
from bot.text import t
from flows import registry
from storage import repo
from storage.models import FlowRun, Person, Role, RunStatus, utcnow

log = logging.getLogger(__name__)

CONSENT_PURPOSE = "profile_and_guidance"
CONSENT_VERSION = "2026-11"
PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


ROLE_PAYLOAD = "role-"  # a role invitation's one-time token follows: a secret


def checked_payload(given: str | None) -> str:
    """A deep-link payload as Telegram allows it (1-64 of A-Z a-z 0-9 _ -, here at most 40),
    or "" for anything else: the same check for `/start <payload>` and for the consent button,
    whose data a client can forge."""
    payload = (given or "").strip()
    if payload and not PAYLOAD.match(payload):
        log.info("ignored a malformed start payload")
        return ""
    return payload


def greeting() -> str:
    return _(
        "Hello! I am <b>Pulang Juragan</b>, a free assistant for Indonesian migrant workers "
        "who have come home.\n\n"
        "I can help you step by step to:\n"
        "• join or found a <b>cooperative</b> (koperasi);\n"
        "• prepare a <b>KUR loan</b> (Kredit Usaha Rakyat, a government-backed business loan);\n"
        "• sign up for <b>training</b>."
    )


def consent_text() -> str:
    return _(
        "Before we begin, please read this.\n\n"
        "<b>What we keep:</b> your name, phone number, home region, where and how long you "
        "worked abroad, and your answers in the steps you choose.\n"
        "<b>Why:</b> to guide you, remind you of your next step, and pass your sign-ups to "
        "the people who handle them.\n"
        "<b>Who sees it:</b> only the Pulang Juragan team and the coordinators or staff "
        "handling your sign-up. We never sell it.\n"
        "<b>Your rights:</b> /datasaya shows everything we keep, /profil lets you correct it, "
        "and /hapusdata deletes it at once.\n\n"
        "This follows the Personal Data Protection Law (UU No. 27 Tahun 2022). "
        "Do you agree?"
    )


async def start(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    active_run: FlowRun | None = None,
    role: Role = Role.RETURNEE,
) -> None:
    """Greet a newcomer with the consent question; welcome back anyone else."""
    payload = checked_payload(command.args)
    if person is None:
        outbox.add(message.answer(greeting()))
        outbox.add(message.answer(consent_text(), reply_markup=kb.consent(payload)))
        return
    if payload:
        await repo.update_person(session, person, start_payload=payload)
    turn = turn_for(message, session=session, person=person, outbox=outbox, role=role)
    invited = journeys.invitation(payload)
    if invited is not None and person.onboarded_at is not None:
        handler, code = invited
        await handler(turn, code)
        return
    run = active_run
    if run is None and person.onboarded_at is None:
        run = await _last_run(session, person, "onboarding")
    if run is not None:
        n, m = driver.progress(run)
        turn.say(
            t(
                "Welcome back! You were at step {n} of {m} of “{title}”.",
                n=n,
                m=m,
                title=t(registry.get(run.flow).title),
            ),
            kb.resume(run.id, restart=run.flow == "onboarding"),
        )
        return
    if person.onboarded_at is None:
        await driver.begin(turn, "onboarding")
        return
    turn.say(
        t("Welcome back, {name}! What would you like to do?", name=_name(person)), kb.main_menu()
    )


def _name(person: Person) -> str:
    return html.escape(person.name or "")


async def _last_run(session: AsyncSession, person: Person, flow: str) -> FlowRun | None:
    runs = [r for r in await repo.runs_of(session, person_id=person.id) if r.flow == flow]
    return runs[-1] if runs and runs[-1].status != RunStatus.COMPLETED else None


async def consent(
    callback: CallbackQuery,
    callback_data: kb.ConsentCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    locale: str,
) -> None:
    """Agree: the person's record begins here. Refuse: nothing is kept."""
    outbox.add(callback.answer())
    pressed = pressed_message(callback)
    if pressed is not None:
        outbox.add(pressed.edit_reply_markup(reply_markup=None))
    if not callback_data.ok:
        if person is None:
            outbox.add(
                reply(
                    callback,
                    _(
                        "That is fine, we respect your choice. We have not kept anything about you. "
                        "If you change your mind, just send /start."
                    ),
                )
            )
        return
    if person is not None:  # a double tap, or consent given on another device
        return
    person = await repo.create_person_if_new(
        session,
        telegram_id=callback.from_user.id,
        locale=locale,
        start_payload=checked_payload(callback_data.p) or None,
    )
    if person is None:  # a double tap handled at the same time: the other press made the record
        return
    await repo.give_consent(
        session, person=person, purpose=CONSENT_PURPOSE, text_version=CONSENT_VERSION
    )
    turn = turn_for(callback, session=session, person=person, outbox=outbox)
    turn.say(_("Thank you! Let us fill in a short profile. It takes about two minutes."))
    await driver.begin(turn, "onboarding")


async def resume(
    callback: CallbackQuery,
    callback_data: kb.ResumeCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
    role: Role = Role.RETURNEE,
) -> None:
    """Continue a run where it was, or start the profile over."""
    outbox.add(callback.answer())
    if person is None:
        outbox.add(reply(callback, _("Please send /start to begin.")))
        return
    run = await repo.run_of(session, run_id=callback_data.run, person_id=person.id)
    pressed = pressed_message(callback)
    if pressed is not None:
        outbox.add(pressed.edit_reply_markup(reply_markup=None))
    turn = turn_for(callback, session=session, person=person, outbox=outbox, role=role)
    if run is None or run.status == RunStatus.COMPLETED:
        turn.say(_("That is already finished. What would you like to do?"), kb.main_menu())
        return
    if callback_data.act == "restart" and run.flow == "onboarding":
        await driver.begin(turn, "onboarding")
        return
    await driver.resume(turn, run)


@driver.on_finish("onboarding")
async def onboarding_done(turn: driver.Turn, run: FlowRun) -> None:
    if turn.person.onboarded_at is None:
        await repo.update_person(turn.session, turn.person, onboarded_at=utcnow())
    turn.say(
        t(
            "Thank you, {name}! Your profile is saved. You can see or change it any time "
            "with /profil.",
            name=_name(turn.person),
        )
    )
    await announcements.ask_once(turn)
    invited = journeys.invitation(turn.person.start_payload)
    if invited is not None:  # they came through an invitation: show it now
        handler, code = invited
        await handler(turn, code)
        return
    turn.say(_("What would you like to do?"), kb.main_menu())


@driver.on_cancel("onboarding")
async def onboarding_stopped(turn: driver.Turn, run: FlowRun) -> None:
    """A profile left halfway forgets a role invitation's token (a secret): the link can be
    opened again. The token is also forgotten once used (bot.handlers.roles) and, untouched,
    when it can no longer be valid (storage.repo.forget_role_payloads)."""
    if (turn.person.start_payload or "").startswith(ROLE_PAYLOAD):
        await repo.update_person(turn.session, turn.person, start_payload=None)


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="start")
    r.message.filter(IsCommand())
    r.message.register(start, CommandStart())
    r.callback_query.register(consent, kb.ConsentCB.filter())
    r.callback_query.register(resume, kb.ResumeCB.filter())
    return r
