"""The person's own data: /profil (see and edit), /datasaya (all we keep), /hapusdata (delete)."""

from __future__ import annotations

import functools
import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, mydata, notices
from bot import keyboards as kb
from bot.handlers.common import IsCommand, pressed_message
from bot.handlers.common import reply as reply_to
from bot.handlers.kur import STAGES
from bot.mydata import SUBMISSION_KINDS, profile_lines
from bot.outbox import Outbox
from bot.text import READING_LIMIT, messages, moment, t
from flows import clock, regions
from flows.i18n import N_
from operations.people import delete_person
from storage import coops
from storage import privacy as store
from storage.models import (
    FlowRun,
    LoanStage,
    Person,
    RegistrationStatus,
    SubmissionKind,
)

NOTHING_KEPT = N_("We do not keep anything about you. Send /start to begin.")


async def profile(message: Message, person: Person | None, outbox: Outbox) -> None:
    if person is None:
        outbox.add(message.answer(t(NOTHING_KEPT)))
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
    """Everything we keep about the person, sensitive numbers masked, in as many messages as
    it takes."""
    if person is None:
        outbox.add(message.answer(t(NOTHING_KEPT)))
        return
    kept = await store.kept(session, person=person)
    for text in messages(mydata.sections(kept), READING_LIMIT):
        outbox.add(message.answer(text, disable_web_page_preview=True))


def consequence_lines(found: store.Consequences, zone: str) -> list[str]:
    """What deleting also changes, only what applies to this person, each as a line."""
    lines = []
    for fate in found.plans:
        name = html.escape(fate.plan.name)
        if fate.founder and fate.heir is not None:
            heir = html.escape(coops.first_names([fate.heir])[0])
            lines.append(
                t(
                    "Your founding plan “{name}” passes to {heir}, the next founder, who is told. "
                    "The purpose you wrote is deleted.",
                    name=name,
                    heir=heir,
                )
            )
        elif fate.founder:
            lines.append(
                t("Your founding plan “{name}” has no other founders, so it is closed.", name=name)
            )
        else:
            lines.append(t("You leave the founding plan “{name}”; its founder is told.", name=name))
    for request in found.requests:
        answers = request.answers or {}
        about = answers.get("cooperative_name") or answers.get("title")
        kind = t(SUBMISSION_KINDS.get(SubmissionKind(request.kind), request.kind))
        lines.append(
            t(
                "{kind}{about}, still waiting: withdrawn.",
                kind=kind,
                about=" (" + html.escape(str(about)) + ")" if about else "",
            )
        )
    for seat in found.seats:
        title = html.escape(seat.training.title)
        when = moment(seat.training.starts_at, zone)
        if seat.registration.status == RegistrationStatus.REGISTERED:
            lines.append(
                t(
                    "Your seat in “{title}” ({when}) is freed: the first person on the waitlist, "
                    "if any, gets it and is told.",
                    title=title,
                    when=when,
                )
            )
        else:
            lines.append(
                t("Your waitlist place in “{title}” ({when}) is given up.", title=title, when=when)
            )
    for loan in found.loans:
        lines.append(
            t(
                "Your KUR loan record ({stage}) stays only as an anonymous count: its amount, "
                "bank, branch, visit and reasons are deleted.",
                stage=t(STAGES[LoanStage(loan.stage)]),
            )
        )
    if found.unsent_broadcasts:
        lines.append(
            t(
                "Announcements you wrote that are not sent yet are cancelled: {n}.",
                n=found.unsent_broadcasts,
            )
        )
    if found.written_broadcasts:
        lines.append(
            t(
                "The text of every announcement you wrote is deleted ({n}); only their counts "
                "stay.",
                n=found.written_broadcasts,
            )
        )
    return ["• " + line for line in lines]


async def erase_ask(
    message: Message, session: AsyncSession, person: Person | None, outbox: Outbox
) -> None:
    """Say what deleting will do, to the person's data and to what they share with others."""
    if person is None:
        outbox.add(message.answer(t(NOTHING_KEPT)))
        return
    found = await store.consequences(session, person_id=person.id)
    parts = [
        _(
            "This deletes your name, phone number, NIK, region, answers and consent records now. "
            "It cannot be undone."
        )
    ]
    lines = consequence_lines(found, regions.zone_of(person.province_code))
    if lines:
        parts.append("<b>" + _("What else happens:") + "</b>\n" + "\n".join(lines))
    parts.append(
        _(
            "We keep only anonymous counts (for example, how many people finished the profile), "
            "which say nothing about who you are."
        )
    )
    parts.append(_("Delete your data?"))
    *before, last = messages(parts)
    for text in before:
        outbox.add(message.answer(text))
    outbox.add(message.answer(last, reply_markup=kb.erase()))


async def erase(
    callback: CallbackQuery,
    callback_data: kb.EraseCB,
    session: AsyncSession,
    person: Person | None,
    outbox: Outbox,
) -> None:
    """Delete at once after one confirmation; a second tap finds nothing to delete. The people
    it concerns (a plan's new founder, its other founders, the waitlist) are told."""
    outbox.add(callback.answer())
    pressed = pressed_message(callback)
    if pressed is not None:
        outbox.add(pressed.edit_reply_markup(reply_markup=None))
    reply = functools.partial(reply_to, callback)
    if not callback_data.ok:
        outbox.add(reply(_("Nothing was deleted. Your data stays as it was.")))
        return
    if person is None:
        outbox.add(reply(t(NOTHING_KEPT)))
        return
    done = await delete_person(session, person_id=person.id, now=clock.now())
    if not done.ok:
        outbox.add(reply(t(NOTHING_KEPT)))
        return
    outbox.add(
        reply(
            _(
                "Done. Everything personal we kept about you is deleted. We kept only anonymous counts. "
                "Thank you, and all the best! If you want to use Pulang Juragan again, send /start."
            )
        )
    )
    await notices.deliver(session, outbox, done.notices)


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="privacy")
    r.message.filter(IsCommand())
    r.message.register(profile, Command("profil", "profile"))
    r.message.register(my_data, Command("datasaya", "mydata"))
    r.message.register(erase_ask, Command("hapusdata", "deletemydata"))
    r.callback_query.register(erase, kb.EraseCB.filter())
    return r
