"""Walk any flow through the real dispatcher with good answers, and build the world the
fuzzers attack: a returnee who went through every journey, an admin who added a session
and rejected a submission, so every flow has a run whose answers can seed any of its steps."""

from __future__ import annotations

from typing import Any

from aiogram.methods import TelegramMethod
from sqlalchemy import select

from bot.handlers.coop import CoopCB
from bot.handlers.kur import LoanCB
from bot.handlers.review import FixCB, ReviewCB
from bot.handlers.training import TrainingCB
from bot.keyboards import FlowCB, MenuCB
from bot.offline import OfflineChat
from flows import registry
from flows.engine import Kind
from storage import repo, submissions
from storage.models import (
    Cooperative,
    FlowRun,
    Founding,
    Loan,
    RunStatus,
    Submission,
    SubmissionKind,
    Training,
)
from tests.adversarial.conftest import Harness, World, row_ids, seed_places
from tests.support.talk import onboard

# Typed answers a careful person gives, by (flow, step), then by kind.
GOOD: dict[tuple[str, str], str] = {
    ("onboarding", "name"): "Siti Aminah",
    ("profile_edit", "name"): "Siti Aminah",
    ("join_request", "nik"): "3578014101900001",
    ("found_coop", "purpose"): "Usaha bersama warung sembako",
    ("found_coop", "name"): "Koperasi Purna Migran Sejahtera",
    ("kur_readiness", "business"): "Warung sembako",
    ("kur_bank", "bank_other"): "Bank Jatim",
    ("kur_bank", "branch"): "Cabang Surabaya Darmo",
    ("kur_rejected", "reason_other"): "Dokumen belum lengkap",
    ("training_edit", "title"): "Jualan online untuk warung",
    ("training_edit", "organiser"): "Disnaker Kota Surabaya",
    ("training_edit", "place"): "Aula BLK Surabaya, Jl. Dukuh Menanggal 124",
    ("training_edit", "link"): "https://zoom.us/j/123456789",
    ("review_reason", "reason"): "Mohon lengkapi data usaha Anda.",
    ("fix_details", "name"): "Siti Aminah",
    ("fix_details", "nik"): "3578014101900001",
}
BY_KIND = {
    Kind.TEXT: "Warung sembako",
    Kind.DATE: "15/01/2027",
    Kind.NUMBER: "20",
    Kind.MONEY: "5000000",
    Kind.PHONE: "0812 3456 7890",
}


async def active_run(chat: OfflineChat, app: Any) -> FlowRun | None:
    async with app.sessionmaker() as session:
        _person, run = await repo.person_and_active_run(session, telegram_id=chat.user.id)
        return run


def flow_buttons(chat: OfflineChat, flow: str, step: str, act: str = "pick") -> list[str]:
    """Callback data of this step's buttons of kind `act` on the newest keyboard."""
    message = chat.last_keyboard_message()
    if message is None or message.reply_markup is None:
        return []
    found = []
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            data = button.callback_data or ""
            if data.startswith("f:"):
                cb = FlowCB.unpack(data)
                if cb.flow == flow and cb.step == step and cb.act == act:
                    found.append(data)
    return found


def _needs_buttons(step: Any) -> bool:
    return step.kind in (Kind.CHOICE, Kind.CONFIRM, Kind.MULTI_CHOICE, Kind.CHECKLIST)


def _resume_button(chat: OfflineChat) -> str | None:
    message = chat.last_keyboard_message()
    if message is None or message.reply_markup is None:
        return None
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            if (button.callback_data or "").startswith("r:continue:"):
                return button.callback_data
    return None


async def answer(chat: OfflineChat, flow: str, step_key: str, pick: int = 0) -> list[Any]:
    """One good answer to the step the person is at."""
    step = registry.get(flow).step(step_key)
    picks = flow_buttons(chat, flow, step_key)
    if not picks and _needs_buttons(step) and (flow, step_key) not in GOOD:
        # The step's buttons are not the newest (a /menu came between): /start offers to go
        # on where they were, as a person would do.
        if not _resume_button(chat):
            await chat.send("/start")
        if resume := _resume_button(chat):
            await chat.press_data(resume)
            picks = flow_buttons(chat, flow, step_key)
    if step.kind is Kind.CONFIRM and picks:
        yes = [p for p in picks if p.endswith(":yes")]
        return await chat.press_data((yes or picks)[0])
    if step.kind in (Kind.MULTI_CHOICE, Kind.CHECKLIST) and picks:
        await chat.press_data(picks[pick % len(picks)])
        done = flow_buttons(chat, flow, step_key, "done")
        return await chat.press_data(done[0])
    if (flow, step_key) in GOOD and not picks:
        return await chat.send(GOOD[(flow, step_key)])
    if picks:
        return await chat.press_data(picks[pick % len(picks)])
    if step.kind is Kind.LOCATION:
        return await chat.share_location(-7.25, 112.75)
    return await chat.send(GOOD.get((flow, step_key)) or BY_KIND.get(step.kind, FALLBACK[0]))


# Typed answers tried in turn at a step whose buttons and kind gave no good answer.
FALLBACK = ("Warung sembako", "25 juta", "12", "6", "15/01/2027", "09.00")
# Valid but hostile free text, longest first: what is stored is shown again later (recaps,
# cards for staff, /datasaya, lists), where it must still be escaped and fit.
_SPICE = "A&B <i>Warung</i> \"Bu\" 'Siti' ☕ 🇮🇩 عربي &amp; </b> "
HOSTILE_VALID = tuple((_SPICE * 40)[:n].strip() for n in (1000, 500, 300, 200, 150, 120, 100, 60))
HOSTILE_VALID += ("Siti O'Brien-Ñuñez & Co", "A&B <b>")


def free_text(flow: str, step_key: str) -> bool:
    """A step that keeps what is typed as it is (not a number, date, phone, NIK or link)."""
    step = registry.get(flow).step(step_key)
    if step_key in ("nik", "link"):
        return False
    return step.kind is Kind.TEXT or (step.kind is Kind.CHOICE and (flow, step_key) in GOOD)


def _moved(run: FlowRun, after: FlowRun | None, flow: str) -> bool:
    return after is None or after.flow != flow or after.step != run.step or after.id != run.id


async def walk(
    h: Harness,
    chat: OfflineChat,
    flow: str,
    picks: list[int] | None = None,
    limit: int = 30,
    *,
    hostile: bool = False,
) -> list[str]:
    """Answer the person's active run of `flow` until it ends; the steps it went through.
    `hostile`: free text gets the longest hostile answer the step takes."""
    seen: list[str] = []
    for i in range(limit):
        run = await active_run(chat, h.app)
        if run is None or run.flow != flow:
            return seen
        seen.append(run.step)
        if hostile and free_text(flow, run.step) and not flow_buttons(chat, flow, run.step):
            for typed in HOSTILE_VALID:
                await chat.send(typed)
                if _moved(run, await active_run(chat, h.app), flow):
                    break
            if _moved(run, await active_run(chat, h.app), flow):
                continue
        await answer(chat, flow, run.step, (picks or [0])[i % len(picks or [0])])
        for typed in FALLBACK:
            if _moved(run, await active_run(chat, h.app), flow):
                break
            await chat.send(typed)
        else:
            raise AssertionError(f"{flow}:{run.step} did not take a good answer")
    raise AssertionError(f"{flow} did not end after {limit} answers")


walk_flow = walk


async def _first(h: Harness, model: Any, *where: Any) -> Any:
    async with h.app.sessionmaker() as session:
        return (await session.scalars(select(model).where(*where).order_by(model.id))).first()


def _packed(calls: list[TelegramMethod[Any]]) -> list[str]:
    found = []
    for call in calls:
        markup = getattr(call, "reply_markup", None)
        for row in getattr(markup, "inline_keyboard", None) or []:
            found += [b.callback_data for b in row if b.callback_data]
    return found


async def _filed_for(h: Harness, chat: OfflineChat, training: Training) -> Submission:
    """A registration of this person's waiting for review (as one that needs approval files)."""
    async with h.app.sessionmaker() as session, session.begin():
        me = await repo.person_by_telegram_id(session, telegram_id=chat.user.id)
        return await submissions.create(
            session,
            person=me,
            kind=SubmissionKind.TRAINING,
            ref_id=-training.id,  # its own subject: never the open one of a real registration
            answers={"title": training.title, "status": "registered"},
        )


async def build_world(h: Harness, admin_id: int, *, hostile: bool = False) -> World:
    """Every flow walked once through the real bot, and what it left behind; `hostile`: every
    free-text answer is the longest hostile text its step takes."""

    async def walk(
        h: Harness, chat: OfflineChat, flow: str, picks: list[int] | None = None
    ) -> None:
        await walk_flow(h, chat, flow, picks, hostile=hostile)

    await seed_places(h.app)
    admin = OfflineChat(h.app.bot, h.app.dp, h.app.bot.session, admin_id, first_name="Admin")
    victim = h.person(first_name="Siti")
    await onboard(admin, name="Budi Admin", lang="en")
    await onboard(victim, lang="en")
    coop = await _first(h, Cooperative)
    await victim.press_data(CoopCB(act="find").pack())
    await walk(h, victim, "coop_search")
    await victim.press_data(CoopCB(act="join", id=coop.id).pack())
    await walk(h, victim, "join_request")
    await victim.press_data(CoopCB(act="found").pack())
    await walk(h, victim, "found_coop")
    plan = await _first(h, Founding)
    await victim.press_data(CoopCB(act="meet", id=plan.id).pack())
    await walk(h, victim, "found_meeting")
    await victim.press_data(LoanCB(act="new").pack())
    await walk(h, victim, "kur_readiness")
    await victim.press_data(LoanCB(act="sim").pack())
    await walk(h, victim, "kur_simulator")
    loan = await _first(h, Loan)
    await victim.press_data(LoanCB(act="bank", loan=loan.id).pack())
    await walk(h, victim, "kur_bank", picks=[-1])  # the last bank: "another bank", typed
    await victim.press_data(LoanCB(act="stage", loan=loan.id, v="rejected").pack())
    await walk(h, victim, "kur_rejected", picks=[-1])
    await victim.press_data(MenuCB(item="edit_profile").pack())
    await walk(h, victim, "profile_edit")
    training = await _first(h, Training)
    await victim.press_data(TrainingCB(act="reg", id=training.id).pack())
    await admin.send("/pelatihan_baru")
    await walk(h, admin, "training_edit")
    submission = await _first(h, Submission)
    await admin.press_data(ReviewCB(act="no", id=submission.id).pack())
    await walk(h, admin, "review_reason")
    returned = await _filed_for(h, victim, training)  # returned for the name: a correction
    await admin.press_data(ReviewCB(act="retgo", id=returned.id, k=3, m=1).pack())
    await walk(h, admin, "review_reason")
    await victim.press_data(FixCB(id=returned.id).pack())
    await walk(h, victim, "fix_details")
    await admin.press_data(LoanCB(act="new").pack())
    await walk(h, admin, "kur_readiness")
    own = await _first(h, Loan, Loan.id != loan.id)
    await admin.press_data(LoanCB(act="stage", loan=own.id, v="cair").pack())
    await walk(h, admin, "kur_disbursed")
    await admin.send("/siaran")
    await admin.send("Pelatihan jualan online minggu depan")
    templates: dict[str, tuple[int, dict[str, Any], list[str]]] = {}
    async with h.app.sessionmaker() as session:
        runs = (await session.scalars(select(FlowRun).order_by(FlowRun.id))).all()
        for run in runs:
            if run.status == RunStatus.COMPLETED or run.flow not in templates:
                templates[run.flow] = (run.person_id, dict(run.answers), list(run.history))
    missing = set(registry.FLOWS) - set(templates)
    assert not missing, f"the world has no run of {sorted(missing)}"
    return World(
        victim=victim,
        admin=admin,
        ids=await row_ids(h.app),
        packed=_packed(list(h.app.bot.session.calls)),  # type: ignore[attr-defined]
        templates=templates,
    )


async def seed_run(h: Harness, chat: OfflineChat, world: World, flow: str, step: str) -> FlowRun:
    """Put this person's active run of `flow` at `step`, with the answers of the world's run
    of it (so a step that reads earlier answers finds them), and show the step."""
    _owner, answers, history = world.templates[flow]
    order = [s.key for s in registry.get(flow).steps]
    before = [k for k in history if order.index(k) < order.index(step)] if step in order else []
    # A step off the world's path (a regency after "another province") may read answers that
    # path never gave: take them from the other flows' runs (same key, same meaning).
    pool = {k: v for _o, a, _h in world.templates.values() for k, v in a.items()}
    answers = {**{k: pool[k] for k in order[: order.index(step)] if k in pool}, **answers}
    async with h.app.sessionmaker() as session, session.begin():
        person, _run = await repo.person_and_active_run(session, telegram_id=chat.user.id)
        assert person is not None
        run = await repo.start_run(
            session, person_id=person.id, flow=flow, step=step, answers=dict(answers)
        )
        await repo.save_run(
            session, run, step=step, answers=dict(answers), history=before,
            status=RunStatus.ACTIVE,
        )  # fmt: skip
    from bot.keyboards import ResumeCB

    await chat.press_data(ResumeCB(act="continue", run=run.id).pack())
    return run
