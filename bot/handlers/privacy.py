"""The person's own data: /profil (see and edit), /datasaya (all we keep), /hapusdata (delete)."""

from __future__ import annotations

import functools
import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver
from bot import keyboards as kb
from bot.handlers.common import IsCommand, pressed_message
from bot.handlers.common import reply as reply_to
from bot.outbox import Outbox
from bot.text import day, label, messages, t
from flows import regions, registry
from flows.i18n import N_
from flows.onboarding import COUNTRIES, GOALS, YEARS
from flows.validators import mask_nik, mask_phone
from storage import repo, submissions
from storage.models import FlowRun, Person, RunStatus, SubmissionKind, SubmissionStatus

STATUS = {
    RunStatus.ACTIVE: N_("in progress"),
    RunStatus.COMPLETED: N_("finished"),
    RunStatus.CANCELLED: N_("stopped"),
}
SUBMISSION_KINDS = {
    SubmissionKind.JOIN_REQUEST: N_("Request to join a cooperative"),
    SubmissionKind.FOUNDING: N_("Founding a cooperative"),
    SubmissionKind.KUR_READINESS: N_("KUR readiness check"),
    SubmissionKind.TRAINING: N_("Training registration"),
}
SUBMISSION_STATUS = {
    SubmissionStatus.SUBMITTED: N_("waiting for review"),
    SubmissionStatus.APPROVED: N_("approved"),
    SubmissionStatus.REJECTED: N_("not approved"),
    SubmissionStatus.RETURNED: N_("returned to you for correction"),
    SubmissionStatus.WITHDRAWN: N_("withdrawn"),
}


def _option(options: tuple, value: str | None) -> str:  # type: ignore[type-arg]
    for option in options:
        if option.value == value:
            return label(option)
    return html.escape(value) if value else "–"


def profile_lines(person: Person) -> list[str]:
    """The profile as a person reads it; the phone number masked."""
    region = "–"
    if person.regency_code and regions.get(person.regency_code):
        region = regions.display_name(person.regency_code)
    elif person.province_code and regions.get(person.province_code):
        region = regions.display_name(person.province_code)
    return [
        t("Name: {value}", value=html.escape(person.name or "–")),
        t("Phone: {value}", value=mask_phone(person.phone) if person.phone else "–"),
        t("Home region: {value}", value=region),
        t("Country worked in: {value}", value=_option(COUNTRIES, person.country)),
        t("Years abroad: {value}", value=_option(YEARS, person.years_abroad)),
        t("What I want first: {value}", value=_option(GOALS, person.goal)),
        t("Language: {value}", value="English" if person.locale == "en" else "Bahasa Indonesia"),
        _("Announcements: yes (/berhenti stops them)")
        if person.announcements
        else _("Announcements: no (/langganan starts them)"),
    ] + ([t("NIK: {value}", value=mask_nik(person.nik))] if person.nik else [])


async def profile(message: Message, person: Person | None, outbox: Outbox) -> None:
    if person is None:
        outbox.add(message.answer(_("We do not keep anything about you. Send /start to begin.")))
        return
    text = "<b>" + _("Your profile") + "</b>\n\n" + "\n".join(profile_lines(person))
    outbox.add(
        message.answer(
            text,
            reply_markup=kb.single("✏️ " + _("Change something"), kb.MenuCB(item="edit_profile")),
        )
    )


@driver.on_finish("profile_edit")
async def profile_edited(turn: driver.Turn, run: FlowRun) -> None:
    turn.say(
        "<b>" + _("Saved. Your profile now:") + "</b>\n\n" + "\n".join(profile_lines(turn.person)),
        kb.single("✏️ " + _("Change something else"), kb.MenuCB(item="edit_profile")),
    )


async def my_data(
    message: Message, session: AsyncSession, person: Person | None, outbox: Outbox
) -> None:
    """Everything we keep about the person; sensitive numbers masked."""
    if person is None:
        outbox.add(message.answer(_("We do not keep anything about you. Send /start to begin.")))
        return
    parts = ["<b>" + _("Everything we keep about you") + "</b>", "\n".join(profile_lines(person))]
    consents = await repo.consents_of(session, person_id=person.id)
    parts.append(
        "<b>"
        + _("Your consent")
        + "</b>\n"
        + "\n".join(
            t(
                "Agreed on {date} (text version {version})",
                date=day(c.given_at.date()),
                version=c.text_version,
            )
            for c in consents
        )
    )
    runs = await repo.runs_of(session, person_id=person.id)
    if runs:
        parts.append(
            "<b>"
            + _("Your steps")
            + "</b>\n"
            + "\n".join(
                t(
                    "{title}: {status}, started {date}",
                    title=t(registry.get(r.flow).title),
                    status=t(STATUS[RunStatus(r.status)]),
                    date=day(r.started_at.date()),
                )
                for r in runs
                if r.flow in registry.FLOWS
            )
        )
    filed = await submissions.of_person(session, person_id=person.id)
    if filed:
        parts.append(
            "<b>"
            + _("Your sign-ups")
            + "</b>\n"
            + "\n".join(
                t(
                    "{kind}: {status}, sent {date}",
                    kind=t(SUBMISSION_KINDS[SubmissionKind(s.kind)]),
                    status=t(SUBMISSION_STATUS[SubmissionStatus(s.status)]),
                    date=day(s.created_at.date()),
                )
                for s in reversed(filed)
            )
        )
    parts.append(
        _(
            "Telegram also gives us your account number, which we use only to reply to "
            "you. To correct something: /profil. To delete everything: /hapusdata."
        )
    )
    for text in messages(parts):  # years of steps outgrow one message
        outbox.add(message.answer(text))


async def erase_ask(message: Message, person: Person | None, outbox: Outbox) -> None:
    if person is None:
        outbox.add(message.answer(_("We do not keep anything about you. Send /start to begin.")))
        return
    outbox.add(
        message.answer(
            _(
                "This deletes your name, phone number, region, answers and consent record now. "
                "It cannot be undone.\n\nWe keep only anonymous counts (for example, how many people "
                "finished the profile), which say nothing about who you are.\n\nDelete your data?"
            ),
            reply_markup=kb.erase(),
        )
    )


async def erase(
    callback: CallbackQuery,
    callback_data: kb.EraseCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """Delete at once after one confirmation; a second tap finds nothing to delete."""
    outbox.add(callback.answer())
    pressed = pressed_message(callback)
    if pressed is not None:
        outbox.add(pressed.edit_reply_markup(reply_markup=None))
    reply = functools.partial(reply_to, callback)
    if not callback_data.ok:
        outbox.add(reply(_("Nothing was deleted. Your data stays as it was.")))
        return
    if person is None:
        outbox.add(reply(_("We do not keep anything about you. Send /start to begin.")))
        return
    await repo.delete_person(session, person=person)
    outbox.add(
        reply(
            _(
                "Done. Everything personal we kept about you is deleted. We kept only anonymous counts. "
                "Thank you, and all the best! If you want to use Pulang Juragan again, send /start."
            )
        )
    )


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="privacy")
    r.message.filter(IsCommand())
    r.message.register(profile, Command("profil", "profile"))
    r.message.register(my_data, Command("datasaya", "mydata"))
    r.message.register(erase_ask, Command("hapusdata", "deletemydata"))
    r.callback_query.register(erase, kb.EraseCB.filter())
    return r
