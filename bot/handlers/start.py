"""/start: greeting, consent under UU 27/2022, then onboarding; /start again resumes."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart, Filter
from aiogram.types import CallbackQuery, Message, TelegramObject
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

CONSENT_PURPOSE = repo.PROFILE_CONSENT
# The version of the notice in consent_texts(). A new text gets a new version; whoever agreed to
# an older one is asked again at their next visit, before anything else (ConsentOutdated).
CONSENT_VERSION = "2026-12"
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


def consent_texts() -> list[str]:
    """The consent notice (version CONSENT_VERSION), in three short messages: what we keep,
    why and who sees it, the person's rights and the question. The buttons go under the last."""
    return [
        _(
            "Before we begin, please read this.\n\n"
            "<b>What we keep</b>\n"
            "• Your profile: name, phone number, home region, country and years abroad, what "
            "you want to do first, your language.\n"
            "• Your Telegram ID, to reply to you.\n"
            "• Your answers in the steps you choose. The KUR check asks about money: the "
            "capital you need, your other loans, your SLIK record. The law counts these as "
            "sensitive (specific) personal data.\n"
            "• Your NIK, only if you ask to join a cooperative. We always show it masked."
        ),
        _(
            "<b>Why we keep it</b>\n"
            "• To guide you step by step and show your progress.\n"
            "• To remind you of your next step.\n"
            "• To pass your sign-ups (a join request, a KUR check, a founding plan, a "
            "training) to the people who handle them.\n"
            "• To count, without names, how far people get, so the programme gets better.\n\n"
            "<b>Who sees it:</b> the Pulang Juragan team, and the programme's staff and "
            "coordinators in your region who handle your sign-up. A cooperative's board sees "
            "your request to join it. Nothing goes to a bank. We never sell your data."
        ),
        _(
            "<b>Your rights:</b> /datasaya shows everything we keep, /profil corrects it, "
            "and /hapusdata deletes it at once.\n\n"
            "This follows the Personal Data Protection Law (UU No. 27 Tahun 2022). "
            "Do you agree?"
        ),
    ]


def ask_consent(answer: Callable[..., Any], payload: str = "") -> list[Any]:
    """The notice's messages, the last with Agree / Do not agree (`answer`: message.answer)."""
    texts = consent_texts()
    return [answer(text) for text in texts[:-1]] + [
        answer(texts[-1], reply_markup=kb.consent(payload))
    ]


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
        for method in ask_consent(message.answer, payload):
            outbox.add(method)
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


def outdated_consent(person: Person) -> bool:
    """They agreed to an older version of the notice (and not yet to this one)."""
    version = repo.consent_version(person)
    return version is not None and version != CONSENT_VERSION


async def _carry_on(turn: driver.Turn, run: FlowRun | None) -> None:
    """After renewed consent: the profile if unfinished, the step they were at, or the menu."""
    if turn.person.onboarded_at is None and run is None:
        await driver.begin(turn, "onboarding")
    elif run is not None:
        n, m = driver.progress(run)
        turn.say(
            t(
                "You were at step {n} of {m} of “{title}”.",
                n=n,
                m=m,
                title=t(registry.get(run.flow).title),
            ),
            kb.resume(run.id, restart=run.flow == "onboarding"),
        )
    else:
        turn.say(_("What would you like to do?"), kb.main_menu())


class ConsentOutdated(Filter):
    """Passes for anything from someone who agreed to an older notice, except their answer to
    it and their rights (/datasaya, /hapusdata and its buttons), which work at any time."""

    async def __call__(self, event: TelegramObject, person: Person | None = None) -> bool:
        if person is None or not outdated_consent(person):
            return False
        if isinstance(event, CallbackQuery):
            data = event.data or ""
            return not data.startswith(("c:", "e:"))
        if isinstance(event, Message):
            words = (event.text or "").split(maxsplit=1)  # a sticker or a photo: none
            return not words or words[0].split("@")[0].lower() not in RIGHTS
        return False


RIGHTS = ("/datasaya", "/mydata", "/hapusdata", "/deletemydata")


async def ask_again(event: TelegramObject, outbox: Outbox) -> None:
    """Someone who agreed to an older notice: the new one, before anything else."""
    if isinstance(event, CallbackQuery):
        outbox.add(event.answer())
        answer: Callable[..., Any] = lambda text, **kw: reply(event, text, **kw)  # noqa: E731
    else:
        assert isinstance(event, Message)
        answer = event.answer
    outbox.add(
        answer(
            _(
                "We have updated this notice: it now names all the data we keep and why. "
                "What you gave us is kept as it was. Please read it and tell us if you agree."
            )
        )
    )
    for method in ask_consent(answer):
        outbox.add(method)


def gate() -> Router:
    """Before every other router: a renewed notice comes before anything else."""
    r = Router(name="consent_gate")
    r.message.register(ask_again, ConsentOutdated())
    r.callback_query.register(ask_again, ConsentOutdated())
    return r


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
    active_run: FlowRun | None = None,
) -> None:
    """Agree: the person's record begins here (or, asked again after a new notice, their
    consent is renewed). Refuse: nothing is kept."""
    outbox.add(callback.answer())
    pressed = pressed_message(callback)
    if pressed is not None:
        outbox.add(pressed.edit_reply_markup(reply_markup=None))
    outdated = person is not None and outdated_consent(person)
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
        elif outdated:  # asked again after a new notice: nothing new is kept, nothing deleted
            outbox.add(
                reply(
                    callback,
                    _(
                        "That is fine, we respect your choice. We keep nothing new about you. "
                        "What you gave us before stays until you delete it with /hapusdata. "
                        "If you change your mind, just send /start."
                    ),
                )
            )
        return
    if person is not None:
        if outdated:  # agreed to the new notice: carry on where they were
            await repo.give_consent(
                session, person=person, purpose=CONSENT_PURPOSE, text_version=CONSENT_VERSION
            )
            person.__dict__.pop("_consent_version", None)
            turn = turn_for(callback, session=session, person=person, outbox=outbox)
            turn.say(_("Thank you! Your answer is saved."))
            await _carry_on(turn, active_run)
        return  # else a double tap, or consent given on another device
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
