"""The one generic driver: renders any flow step and applies any input to it."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiogram import Bot
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.outbox import Outbox
from bot.text import READING_LIMIT, day, label, messages, rupiah, t
from flows import engine, registry
from flows.engine import END, Advanced, Input, Kind, Matches, Rejected, RunState, Stayed
from flows.validators import mask_phone
from storage import repo
from storage.models import FlowRun, Person, Role, RunStatus

MAX_INPUT = 1000
# Steps answered with Telegram's own buttons (share my number, send my location), which only a
# reply keyboard can carry; the keyboard is removed once the answer is in.
REPLY_KEYBOARD_KINDS = (Kind.PHONE, Kind.LOCATION)


@dataclass
class Turn:
    """What a handler hands the driver: the person, their chat, the session and the outbox."""

    session: AsyncSession
    person: Person
    outbox: Outbox
    chat_id: int
    bot: Bot | None = None
    role: Role = Role.RETURNEE  # checked on the server for every privileged action

    def say(self, text: str, markup: Any = None, *, limit: int = READING_LIMIT) -> None:
        """Send a text; one over what a person reads at once goes as several messages, split
        between paragraphs, the buttons under the last. (A staff table paged by its own buttons,
        the audit log or a funnel, passes Telegram's own limit.)"""
        *before, last = messages(text.split("\n\n"), limit) or [text]
        for piece in before:
            self.outbox.add(SendMessage(chat_id=self.chat_id, text=piece))
        self.outbox.add(SendMessage(chat_id=self.chat_id, text=last, reply_markup=markup))

    def put(
        self,
        text: str,
        markup: Any = None,
        pressed: Message | None = None,
        *,
        limit: int = READING_LIMIT,
    ) -> None:
        """Turn the message whose button was pressed into this view, or send it as new (a view
        too long for one message: its first part in place, the rest sent after it)."""
        if pressed is None:
            self.say(text, markup, limit=limit)
            return
        first, *rest = messages(text.split("\n\n"), limit) or [text]
        self.outbox.add(
            EditMessageText(
                chat_id=self.chat_id,
                message_id=pressed.message_id,
                text=first,
                reply_markup=None if rest else markup,
            )
        )
        if rest:
            self.say("\n\n".join(rest), markup, limit=limit)


Finisher = Callable[[Turn, FlowRun], Awaitable[None]]
FINISHERS: dict[str, Finisher] = {}


def on_finish(flow_key: str) -> Callable[[Finisher], Finisher]:
    """Register what happens when a flow is completed (a summary, a submission, ...)."""

    def register(fn: Finisher) -> Finisher:
        FINISHERS[flow_key] = fn
        return fn

    return register


CANCELLERS: dict[str, Finisher] = {}


def on_cancel(flow_key: str) -> Callable[[Finisher], Finisher]:
    """Register what else happens when a person stops a flow halfway (the answers stay)."""

    def register(fn: Finisher) -> Finisher:
        CANCELLERS[flow_key] = fn
        return fn

    return register


def state_of(run: FlowRun) -> RunState:
    return RunState(step=run.step, answers=dict(run.answers or {}), history=list(run.history or []))


def shown_value(run: FlowRun, key: str) -> str | None:
    """A stored answer as a person would recognise it (the option's label, a masked phone)."""
    flow = registry.get(run.flow)
    value = (run.answers or {}).get(key)
    if value is None:
        return None
    step = flow.step(key)
    if step.mask is not None:
        return step.mask(value)
    if step.kind is Kind.PHONE:
        return mask_phone(str(value))
    if step.kind is Kind.LOCATION and isinstance(value, list) and len(value) == 2:
        return f"📍 {value[0]:.4f}, {value[1]:.4f}"
    if step.kind is Kind.MONEY and isinstance(value, int):
        return rupiah(value)
    if step.kind is Kind.DATE and isinstance(value, str):
        try:
            return day(date.fromisoformat(value))
        except ValueError:
            return value
    try:
        options = {o.value: o for o in step.options_for(run.answers)}
    except (KeyError, TypeError):
        options = {}
    if isinstance(value, list):
        return ", ".join(label(options[v]) if v in options else str(v) for v in value)
    return label(options[value]) if value in options else str(value)


def recap(run: FlowRun) -> str:
    """Every answer given on the way here, as the person reads it, for a last look."""
    flow = registry.get(run.flow)
    lines = []
    for key in run.history or []:
        shown = shown_value(run, key)
        if shown:
            lines.append(f"• {t(flow.step(key).prompt)} <b>{html.escape(shown)}</b>")
    return "\n".join(lines)


def hint_text(step: engine.Step) -> str:
    """A step's hint in the person's language, its figures filled in (rupiah as rupiah)."""
    if step.hint_values is None:
        return t(step.hint or "")
    values = {
        k: rupiah(v) if isinstance(v, engine.Money) else v for k, v in step.hint_values().items()
    }
    return t(step.hint or "", **values)


def render(
    run: FlowRun,
    *,
    error: str | None = None,
    page: int = 0,
    matches: tuple[engine.Option, ...] | None = None,
    answered: str | None = None,
) -> tuple[str, Any]:
    """The text and keyboard of the run's current step."""
    flow = registry.get(run.flow)
    step = flow.step(run.step)
    parts = [answered] if answered else []
    if error:
        parts.append("⚠️ " + error)
    parts.append("<i>" + heading(run) + "</i>")
    if step.recap:
        parts.append(recap(run))
    parts.append("<b>" + t(step.prompt) + "</b>")
    if matches and len(matches) == 1:
        parts.append(_("Did you mean this one? Press it to choose it, or type your answer again."))
    elif matches:
        parts.append(_("I found several. Please choose one:"))
    elif step.hint:
        parts.append(hint_text(step))
    current = shown_value(run, step.key)
    if current and step.kind not in (Kind.MULTI_CHOICE, Kind.CHECKLIST):
        parts.append(t("Your answer so far: {answer}", answer=html.escape(current)))
    text = "\n\n".join(parts)
    can_back = bool(run.history)
    if step.kind in REPLY_KEYBOARD_KINDS:
        return text, kb.share(step.kind.value, can_go_back=can_back)
    options = list(matches) if matches else list(step.options_for(run.answers))
    multi = step.kind in (Kind.MULTI_CHOICE, Kind.CHECKLIST)
    markup = kb.step_options(
        flow=run.flow,
        step=step.key,
        options=options,
        page=page,
        page_size=len(options) if matches else step.page_size,
        columns=step.columns,
        can_go_back=can_back,
        done_button=multi,
        chosen=(run.answers or {}).get(step.key) or () if multi else (),
    )
    return text, markup


def progress(run: FlowRun) -> tuple[int, int]:
    """(n, m): the run is at step n of m. A correction counts only the fields sent back, in
    their order (going Back to one counts from it again); a flow counts its person's branch."""
    answers = run.answers or {}
    if FIX in answers:
        fix = list(answers[FIX])
        n = fix.index(run.step) + 1 if run.step in fix else len(fix)
        return n, len(fix)
    return engine.progress(registry.get(run.flow), state_of(run))


def heading(run: FlowRun) -> str:
    """The line above a question: the flow and the step; a correction of one field needs no
    count ("step 1 of 1"), and is marked ✏️."""
    title = t(registry.get(run.flow).title)
    n, m = progress(run)
    if FIX not in (run.answers or {}):
        return t("{title} · step {n} of {m}", title=title, n=n, m=m)
    return "✏️ " + (title if m == 1 else t("{title} · step {n} of {m}", title=title, n=n, m=m))


def show(turn: Turn, run: FlowRun, **kwargs: Any) -> None:
    text, markup = render(run, **kwargs)
    turn.say(text, markup)


async def begin(
    turn: Turn, flow_key: str, answers: dict[str, Any] | None = None, *, step: str | None = None
) -> FlowRun:
    """Start a flow for the person and ask its first question (or `step`). `answers` holds
    what is known beforehand (which cooperative, which training); steps may read it."""
    flow = registry.get(flow_key)
    first = flow.step(step).key if step else flow.first
    run = await repo.start_run(
        turn.session, person_id=turn.person.id, flow=flow.key, step=first, answers=answers
    )
    show(turn, run)
    return run


# A correction: a run whose answers hold FIX (the step keys a reviewer sent back) asks only
# those steps, in order, with every other answer kept; when the last is answered the
# correction finisher runs instead of the flow's own (the review module files it again).
FIX, FIXED = "_fix", "_fixed"
CORRECTION: list[Finisher] = []


def on_correction(fn: Finisher) -> Finisher:
    CORRECTION[:] = [fn]
    return fn


async def correct(turn: Turn, flow_key: str, answers: dict[str, Any], fields: list[str]) -> FlowRun:
    """Ask only `fields` again (keys of `flow_key`'s steps), starting with the first."""
    flow = registry.get(flow_key)
    keep = [f for f in fields if f in flow._index]  # type: ignore[attr-defined]
    if not keep:
        raise ValueError("nothing to correct in this flow")
    return await begin(turn, flow_key, {**answers, FIX: keep, FIXED: []}, step=keep[0])


def _next_fix(state: RunState, answered: str) -> RunState:
    fixed = [*state.answers.get(FIXED, []), answered]
    remaining = [k for k in state.answers[FIX] if k not in fixed]
    return RunState(
        step=remaining[0] if remaining else END,
        answers={**state.answers, FIXED: fixed},
        history=state.history,
    )


async def _save_profile(turn: Turn, flow: engine.Flow, state: RunState, step: engine.Step) -> None:
    """Copy answers to the profile: the language at once (the next question is in it), the rest
    when the flow is finished. Until then the run's answers hold them, so nothing is lost."""
    if not state.done:
        if step.saves_to == "locale":
            await repo.update_person(turn.session, turn.person, locale=state.answers[step.key])
            I18n.get_current().current_locale = state.answers[step.key]
        return
    fields = {
        flow.step(key).saves_to: state.answers[key]
        for key in state.history
        if flow.step(key).saves_to and key in state.answers
    }
    regency = turn.person.regency_code
    province = fields.get("province_code")
    if province and "regency_code" not in fields and regency and not regency.startswith(province):
        fields["regency_code"] = None  # a new province: the old regency no longer fits
    if fields:
        await repo.update_person(turn.session, turn.person, **fields)


async def handle(turn: Turn, run: FlowRun, given: Input, *, pressed: Message | None = None) -> None:
    """Apply one input to the run's current step, save, and say what comes next."""
    if given.text is not None and given.text.strip() in (kb.back_label(), kb.cancel_label()):
        await (go_back(turn, run) if given.text.strip() == kb.back_label() else cancel(turn, run))
        return
    if given.text is not None and len(given.text) > MAX_INPUT:
        show(
            turn,
            run,
            error=t(
                "That message is too long. Please send at most {max} characters.", max=MAX_INPUT
            ),
        )
        return
    flow = registry.get(run.flow)
    step = flow.step(run.step)
    outcome = engine.answer(flow, state_of(run), given, label)
    if isinstance(outcome, Rejected):
        show(turn, run, error=t(outcome.error.msgid, **_escaped(outcome.error.params)))
        return
    if isinstance(outcome, Matches):
        show(turn, run, matches=outcome.options)
        return
    if isinstance(outcome, Stayed):
        await repo.save_run(
            turn.session,
            run,
            step=run.step,
            answers=outcome.state.answers,
            history=outcome.state.history,
            status=RunStatus.ACTIVE,
        )
        if pressed is not None:
            text, markup = render(run)
            turn.put(text, markup, pressed)
        return
    assert isinstance(outcome, Advanced)
    state = outcome.state
    if FIX in state.answers:  # a correction: only the fields sent back
        state = _next_fix(state, step.key)
    status = RunStatus.COMPLETED if state.done else RunStatus.ACTIVE
    if not await repo.save_run(
        turn.session,
        run,
        step=state.step if not state.done else END,
        answers=state.answers,
        history=state.history,
        status=status,
        from_step=step.key,
    ):
        await _overtaken(turn, run, pressed)
        return
    await _save_profile(turn, flow, state, step)
    answer = html.escape(shown_value(run, step.key) or "")
    following = None if state.done else registry.get(run.flow).step(state.step)
    if pressed is not None and following is not None and following.kind not in REPLY_KEYBOARD_KINDS:
        # One call instead of two: the pressed message becomes the next question, headed by
        # the answer just given, so the chat keeps the record and stays short.
        text, markup = render(run, answered=f"✅ {t(step.prompt)} <b>{answer}</b>")
        turn.put(text, markup, pressed)
        return
    _acknowledge(turn, step, answer, pressed)
    if state.done:
        finisher = CORRECTION[0] if FIX in state.answers and CORRECTION else FINISHERS.get(run.flow)
        if finisher:
            await finisher(turn, run)
        return
    show(turn, run)


async def _overtaken(turn: Turn, run: FlowRun, pressed: Message | None) -> None:
    """Another update of this person answered the same step first (a double tap handled at
    the same time on PostgreSQL): it did the work, this one only shows where the run is now."""
    if pressed is not None:
        return  # the press was answered already; the first update edits the message
    now = await repo.run_of(turn.session, run_id=run.id, person_id=turn.person.id)
    if now is not None:
        await turn.session.refresh(now)  # as the other update left it, not as first loaded
    if now is not None and now.status == RunStatus.ACTIVE:
        show(turn, now)


def _escaped(params: dict[str, Any]) -> dict[str, Any]:
    """An error's values as the person reads them: text escaped, dates in their locale's way."""
    return {k: _shown(v) for k, v in params.items()}


def _shown(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, date):
        return day(value)
    return value


def _acknowledge(turn: Turn, step: engine.Step, answer: str, pressed: Message | None) -> None:
    """Show what was understood: on the pressed message, or a short note for a typed phone."""
    if pressed is not None:
        turn.outbox.add(
            EditMessageText(
                chat_id=turn.chat_id,
                message_id=pressed.message_id,
                text=f"<b>{t(step.prompt)}</b>\n✅ {answer}",
                reply_markup=None,
            )
        )
    elif step.kind in REPLY_KEYBOARD_KINDS:
        turn.say(t("Saved: {answer}", answer=answer), ReplyKeyboardRemove())


async def go_back(turn: Turn, run: FlowRun, *, pressed: Message | None = None) -> None:
    state = engine.back(registry.get(run.flow), state_of(run))
    await repo.save_run(
        turn.session,
        run,
        step=state.step,
        answers=state.answers,
        history=state.history,
        status=RunStatus.ACTIVE,
    )
    if pressed is not None:
        turn.outbox.add(pressed.edit_reply_markup(reply_markup=None))
    show(turn, run)


async def _set_status(turn: Turn, run: FlowRun, status: RunStatus) -> None:
    """Stop or resume a run where it is."""
    await repo.save_run(
        turn.session,
        run,
        step=run.step,
        answers=dict(run.answers or {}),
        history=list(run.history or []),
        status=status,
    )


async def cancel(turn: Turn, run: FlowRun, *, pressed: Message | None = None) -> None:
    """Stop the flow; answers stay, so /start (or the progress page) continues it later."""
    await _set_status(turn, run, RunStatus.CANCELLED)
    if run.flow in CANCELLERS:
        await CANCELLERS[run.flow](turn, run)
    if pressed is not None:
        turn.outbox.add(pressed.edit_reply_markup(reply_markup=None))
    text = _("Stopped. What you entered so far is kept; you can continue later.")
    if turn.person.onboarded_at is None:
        turn.say(
            text + "\n" + _("Send /start when you want to continue your profile."),
            ReplyKeyboardRemove(),
        )
        return
    turn.say(text, ReplyKeyboardRemove())
    turn.say(_("What would you like to do?"), kb.main_menu())


async def resume(turn: Turn, run: FlowRun) -> None:
    """Continue a run exactly where it was, even one that was cancelled."""
    if run.status != RunStatus.ACTIVE:
        await repo.stop_other_runs(turn.session, run)  # one active run of a flow at a time
        await _set_status(turn, run, RunStatus.ACTIVE)
    show(turn, run)
