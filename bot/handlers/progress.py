"""/progres ("Progres saya"): every journey, where it stands, what comes next, and a button
that continues exactly where the person left off."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import driver, journeys
from bot import keyboards as kb
from bot.driver import Turn
from bot.handlers import review
from bot.handlers.common import IsCommand, turn_for
from bot.outbox import Outbox
from bot.text import t
from flows import clock, registry
from flows.i18n import N_
from storage import repo, submissions
from storage.models import FlowRun, Person, RunStatus

HEADINGS = {
    "coop": N_("Cooperative"),
    "kur": N_("KUR loan"),
    "training": N_("Training"),
}
ICONS = {"coop": "🤝", "kur": "💰", "training": "🎓"}


def unfinished(runs: list[FlowRun]) -> list[FlowRun]:
    """The newest run of each journey flow, if it is not finished (in progress or stopped)."""
    newest: dict[str, FlowRun] = {}
    for run in runs:  # oldest first
        flow = registry.FLOWS.get(run.flow)
        if flow is not None and flow.journey is not None:
            newest[run.flow] = run
    return [r for r in newest.values() if r.status != RunStatus.COMPLETED]


def _run_line(run: FlowRun) -> journeys.Line:
    flow = registry.get(run.flow)
    n, m = driver.progress(run)
    status = (
        t("step {n} of {m}, in progress", n=n, m=m)
        if run.status == RunStatus.ACTIVE
        else t("step {n} of {m}, stopped", n=n, m=m)
    )
    return journeys.Line(
        journey=flow.journey or "",
        title=t(flow.title),
        status=status,
        next_step=t(flow.step(run.step).prompt),
        button=("▶️ " + t(flow.title), kb.ResumeCB(act="continue", run=run.id)),
    )


async def page(turn: Turn) -> tuple[str, InlineKeyboardMarkup]:
    """The progress page: text and buttons."""
    runs = await repo.runs_of(turn.session, person_id=turn.person.id)
    lines = [_run_line(r) for r in unfinished(runs)]
    for journey in journeys.JOURNEYS:
        provider = journeys.PROGRESS.get(journey)
        if provider is not None:
            lines += await provider(turn)
    mine = await submissions.of_person(turn.session, person_id=turn.person.id)
    listed = {line.submission for line in lines if line.submission is not None}
    lines += review.decision_lines(mine, listed, clock.now())
    decided = {s.id: s for s in mine}
    parts = ["<b>" + _("Your progress") + "</b>"]
    buttons: list[tuple[str, kb.CallbackData]] = []
    for journey in journeys.JOURNEYS:
        ours = [line for line in lines if line.journey == journey]
        block = [f"{ICONS[journey]} <b>{t(HEADINGS[journey])}</b>"]
        if not ours:
            block.append(_("Not started yet."))
            buttons.append((f"{ICONS[journey]} " + t(HEADINGS[journey]), kb.MenuCB(item=journey)))
        for line in ours:
            block.append(f"• {html.escape(line.title)}: {line.status}")
            note, fix = [], None
            if line.submission in decided:
                note, fix = await review.decision_note(turn.session, decided[line.submission])
            block += ["  " + n for n in note]
            if line.next_step:
                block.append("  " + t("Next: {step}", step=line.next_step))
            if fix:
                buttons.append(fix)
            if line.button:
                buttons.append(line.button)
        parts.append("\n".join(block))
    ask = ("🙋 " + _("Ask a staff member"), kb.AskCB(act="ask"))
    markup = kb.buttons_column(buttons + [ask, ("🏠 " + _("Main menu"), kb.MenuCB(item="menu"))])
    return "\n\n".join(parts), markup


async def show(turn: Turn) -> None:
    text, markup = await page(turn)
    turn.say(text, markup)


async def progress_command(
    message: Message, session: AsyncSession, person: Person | None, outbox: Outbox
) -> None:
    if person is None:
        outbox.add(message.answer(_("Please send /start to begin.")))
        return
    await show(turn_for(message, session=session, person=person, outbox=outbox))


def router() -> Router:
    """This module's handlers, in the order they are tried."""
    r = Router(name="progress")
    r.message.filter(IsCommand())
    r.message.register(progress_command, Command("progres", "progress"))
    return r
