"""The whole role matrix: each role × each privileged command and button, forged presses
included, and each region × each action on something placed (a scoped coordinator or reviewer
acting inside and outside their regions). Written out by hand (not read from bot/roles.py), so
a change to who may do what must change this table too."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.methods import SendDocument, SendMessage, SendPhoto
from sqlalchemy import select

from bot.broadcasts import BroadcastCB
from bot.handlers.audit import AuditCB
from bot.handlers.export import ExportCB
from bot.handlers.review import ReviewCB
from bot.handlers.roles import RoleCB
from bot.handlers.stats import StatsCB
from bot.handlers.tickets import TicketCB
from bot.handlers.training import TrainingCB
from bot.offline import OfflineChat
from storage import repo
from storage.models import (
    AuditEntry,
    Broadcast,
    Cooperative,
    FlowRun,
    Founding,
    FoundingMember,
    Person,
    RoleInvite,
    Submission,
    SubmissionKind,
    Training,
    TrainingRegistration,
)
from tests.conftest import ADMIN_ID
from tests.support.talk import count, onboard, one, texts

ROLES = ("returnee", "coordinator", "staff", "admin")
# command -> the roles that may use it
COMMANDS = {
    "/siaran": {"coordinator", "admin"},
    "/pelatihan_baru": {"coordinator", "admin"},
    "/tinjau": {"staff", "admin"},
    "/ekspor": {"coordinator", "staff", "admin"},
    "/statistik": {"coordinator", "staff", "admin"},
    "/peran": {"admin"},
    "/audit": {"admin"},
    "/tiket": {"coordinator", "staff", "admin"},
}
REFUSED = "Sorry, only"
# A press for each privileged keyboard that would change or reveal something, and who may.
BUTTONS = {
    "broadcast": (BroadcastCB(act="go", id=1).pack(), {"coordinator", "admin"}),
    "training": (TrainingCB(act="new").pack(), {"coordinator", "admin"}),
    "review": (ReviewCB(act="ok", id=1, k=0).pack(), {"staff", "admin"}),
    "reveal": (ReviewCB(act="nik", id=1, k=0).pack(), {"staff", "admin"}),
    "export": (ExportCB(act="go").pack(), {"coordinator", "staff", "admin"}),
    "stats": (StatsCB().pack(), {"coordinator", "staff", "admin"}),
    "roles": (RoleCB(act="set", id=1, r="a", v="all").pack(), {"admin"}),
    "invite": (RoleCB(act="pick", r="a", v="all").pack(), {"admin"}),
    "audit": (AuditCB(act="csv").pack(), {"admin"}),
    "tickets": (TicketCB(act="close", id=1).pack(), {"coordinator", "staff", "admin"}),
}


async def someone(app, person, uid: int, role: str):
    chat = person(uid)
    await onboard(chat, lang="en")
    if role in ("coordinator", "staff"):
        async with app.sessionmaker() as session, session.begin():
            found = await repo.person_by_telegram_id(session, telegram_id=uid)
            assert found is not None
            await repo.set_role(session, person_id=found.id, role=role)
    return chat


@pytest.mark.parametrize("role", ROLES)
async def test_every_privileged_command_checks_the_role(app, person, role, caplog) -> None:
    uid = ADMIN_ID if role == "admin" else 9100 + ROLES.index(role)
    chat = await someone(app, person, uid, role)
    caplog.set_level(logging.WARNING)
    for command, allowed in COMMANDS.items():
        caplog.clear()
        said = texts(await chat.send(command))
        if role in allowed:
            assert REFUSED not in said, (role, command, said)
        else:
            assert REFUSED in said, (role, command, said)
            assert "refused" in caplog.text, (role, command)


@pytest.mark.parametrize("role", ("returnee", "coordinator", "staff"))
async def test_forged_buttons_from_people_without_the_role_change_nothing(
    app, person, role, caplog
) -> None:
    chat = await someone(app, person, 9200 + ROLES.index(role), role)
    before = [
        await count(app, model)
        for model in (AuditEntry, Broadcast, RoleInvite, Submission, Training)
    ]
    caplog.set_level(logging.WARNING)
    for name, (data, allowed) in BUTTONS.items():
        if role in allowed:
            continue
        caplog.clear()
        said = texts(await chat.press_data(data))
        assert REFUSED in said, (role, name, said)
        assert "refused" in caplog.text, (role, name)
    after = [
        await count(app, model)
        for model in (AuditEntry, Broadcast, RoleInvite, Submission, Training)
    ]
    assert after == before


@pytest.mark.parametrize("role", ROLES)
async def test_help_lists_exactly_the_commands_of_the_role(app, person, role) -> None:
    uid = ADMIN_ID if role == "admin" else 9300 + ROLES.index(role)
    chat = await someone(app, person, uid, role)
    said = texts(await chat.send("/help"))
    for command, allowed in COMMANDS.items():
        listed = f"{command} –" in said
        assert listed == (role in allowed), (role, command)


# --- region × action -------------------------------------------------------------------------
# A coordinator and a reviewer scoped to Jawa Timur ("35"; both live in Kota Surabaya) act on
# things placed in their region (Kota Surabaya), in another (Kota Jakarta Pusat) and nowhere
# in particular (nationwide). Outside: refused, nothing changes, nobody is told. Inside: it
# works. Each target has a returnee of its own, registered, applying or founding there, who
# would be told of a change.

PLACES = {"own": ("35", "35.78"), "other": ("31", "31.71"), "nationwide": (None, None)}
OUTSIDE = "outside your regions"
SCOPE = ["35"]
SCOPED_COORDINATOR, SCOPED_STAFF = 9601, 9602
START = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


@dataclass
class Target:
    returnee: int  # Telegram id of the returnee placed there
    training: int
    submission: int
    founding: int
    cooperative: int | None  # the directory has no nationwide cooperative


async def world(app) -> dict[str, Target]:
    """For each place: a returnee living there (announcements on), a training session they are
    registered for, their KUR submission waiting for review, a founding plan they started and,
    but nationwide, a cooperative they asked to join."""
    made: dict[str, Target] = {}
    async with app.sessionmaker() as session, session.begin():
        for n, (key, (province, regency)) in enumerate(PLACES.items()):
            uid = 9700 + n
            someone = Person(
                telegram_id=uid,
                locale="en",
                name=f"Returnee {key}",
                province_code=province or "35",  # a nationwide thing's person lives somewhere
                regency_code=regency or "35.78",
                announcements=True,
                onboarded_at=START - timedelta(days=30),
            )
            training = Training(
                title=f"Session {key}",
                organiser="Disnaker",
                topic="digital",
                starts_at=START + timedelta(days=n),
                ends_at=START + timedelta(days=n, hours=3),
                place="Aula",
                province_code=province,
                regency_code=regency,
                seats=10,
            )
            session.add_all([someone, training])
            await session.flush()
            session.add(
                TrainingRegistration(
                    training_id=training.id, person_id=someone.id, status="registered"
                )
            )
            cooperative = None
            if province is not None:
                cooperative = Cooperative(
                    name=f"Koperasi {key}",
                    kind="konsumen",
                    province_code=province,
                    regency_code=regency,
                    village="Desa",
                    description="-",
                    simpanan_pokok=100_000,
                    simpanan_wajib=10_000,
                    requirements="-",
                    benefits="-",
                )
                session.add(cooperative)
                await session.flush()
                session.add(
                    Submission(
                        person_id=someone.id,
                        kind=SubmissionKind.JOIN_REQUEST.value,
                        ref_id=cooperative.id,
                        province_code=province,
                        regency_code=regency,
                        answers={"cooperative_name": cooperative.name},
                        status="approved",
                    )
                )
            founding = Founding(
                founder_id=someone.id,
                code=f"code{key}",
                kind="konsumen",
                purpose="Usaha bersama",
                name=f"Koperasi baru {key}",
                province_code=province,
                regency_code=regency,
            )
            submission = Submission(
                person_id=someone.id,
                kind=SubmissionKind.KUR_READINESS.value,
                province_code=province,
                regency_code=regency,
                answers={"nik": "3578014101900001"},
                status="submitted",
            )
            session.add_all([founding, submission])
            await session.flush()
            session.add(FoundingMember(founding_id=founding.id, person_id=someone.id))
            made[key] = Target(
                uid,
                training.id,
                submission.id,
                founding.id,
                cooperative.id if cooperative else None,
            )
    return made


async def scoped(app, person, uid: int, role: str) -> OfflineChat:
    chat = person(uid)
    await onboard(chat, lang="en")
    async with app.sessionmaker() as session, session.begin():
        found = await repo.person_by_telegram_id(session, telegram_id=uid)
        assert found is not None
        await repo.set_role(session, person_id=found.id, role=role, regions=SCOPE)
    return chat


async def state(app) -> list[Any]:
    """Everything a privileged action could change: sessions, submissions, the audit log,
    broadcasts and the scoped people's flow runs."""
    async with app.sessionmaker() as session:
        rows: list[Any] = []
        for model, columns in (
            (Training, ("id", "title", "cancelled", "seats", "province_code", "regency_code")),
            (Submission, ("id", "status", "reason", "decided_by")),
            (AuditEntry, ("id", "action")),
            (Broadcast, ("id", "status", "segment", "regions")),
            (FlowRun, ("id", "flow", "step", "status")),
        ):
            found = await session.scalars(select(model).order_by(model.id))
            rows.append([tuple(getattr(r, c) for c in columns) for r in found])
        return rows


def told(app, since: int, targets: dict[str, Target]) -> set[int]:
    """The returnees the bot wrote to since the `since`-th call."""
    ids = {t.returnee for t in targets.values()}
    return {
        c.chat_id
        for c in app.bot.session.calls[since:]
        if isinstance(c, SendMessage | SendDocument) and c.chat_id in ids
    }


async def draft_of(app, chat) -> int:
    await chat.send("/siaran")
    await chat.send("Pengumuman pelatihan")
    return (await one(app, Broadcast)).id


# Each action: who acts, and the press it makes on a target (given the draft id, if any).
Press = Callable[[Target, str, int], str]
ACTS: dict[str, tuple[int, Press]] = {
    "training.edit": (
        SCOPED_COORDINATOR,
        lambda t, p, d: TrainingCB(act="edit", id=t.training).pack(),
    ),
    "training.drop": (
        SCOPED_COORDINATOR,
        lambda t, p, d: TrainingCB(act="drop", id=t.training).pack(),
    ),
    "training.dropok": (
        SCOPED_COORDINATOR,
        lambda t, p, d: TrainingCB(act="dropok", id=t.training).pack(),
    ),
    "review.open": (
        SCOPED_STAFF,
        lambda t, p, d: ReviewCB(act="open", id=t.submission, k=2).pack(),
    ),
    "review.reveal": (
        SCOPED_STAFF,
        lambda t, p, d: ReviewCB(act="nik", id=t.submission, k=2).pack(),
    ),
    "review.approve": (
        SCOPED_STAFF,
        lambda t, p, d: ReviewCB(act="ok", id=t.submission, k=2).pack(),
    ),
    "review.reject": (
        SCOPED_STAFF,
        lambda t, p, d: ReviewCB(act="no", id=t.submission, k=2).pack(),
    ),
    "review.return": (
        SCOPED_STAFF,
        lambda t, p, d: ReviewCB(act="retgo", id=t.submission, k=2, m=1).pack(),
    ),
    "review.region": (
        SCOPED_STAFF,
        lambda t, p, d: ReviewCB(act="home", r=PLACES[p][1] or "").pack(),
    ),
    "export.staff": (SCOPED_STAFF, lambda t, p, d: ExportCB(act="go", r=PLACES[p][1] or "").pack()),
    "export.coordinator": (
        SCOPED_COORDINATOR,
        lambda t, p, d: ExportCB(act="go", r=PLACES[p][1] or "").pack(),
    ),
    "stats.staff": (SCOPED_STAFF, lambda t, p, d: StatsCB(r=PLACES[p][1] or "").pack()),
    "stats.coordinator": (SCOPED_COORDINATOR, lambda t, p, d: StatsCB(r=PLACES[p][1] or "").pack()),
    "broadcast.region": (
        SCOPED_COORDINATOR,
        lambda t, p, d: BroadcastCB(act="set", id=d, v=f"r_{PLACES[p][1]}").pack(),
    ),
    "broadcast.cooperative": (
        SCOPED_COORDINATOR,
        lambda t, p, d: BroadcastCB(act="set", id=d, v=f"c_{t.cooperative}").pack(),
    ),
    "broadcast.founding": (
        SCOPED_COORDINATOR,
        lambda t, p, d: BroadcastCB(act="set", id=d, v=f"f_{t.founding}").pack(),
    ),
    "broadcast.training": (
        SCOPED_COORDINATOR,
        lambda t, p, d: BroadcastCB(act="set", id=d, v=f"t_{t.training}").pack(),
    ),
}
# Where a place is not a thing of its own (a region filter or segment: "nationwide" is no
# region to choose, and the directory has no nationwide cooperative), that pair is skipped.
NO_NATIONWIDE = {
    "review.region",
    "export.staff",
    "export.coordinator",
    "stats.staff",
    "stats.coordinator",
    "broadcast.region",
    "broadcast.cooperative",
}
REFUSALS = (
    OUTSIDE,
    "not in your queue",
    "no longer works",
    "not available to you",
    "cannot send to that group",
)


@pytest.mark.parametrize("place", ("other", "nationwide"))
@pytest.mark.parametrize("action", sorted(ACTS))
async def test_a_scoped_actor_is_refused_outside_their_regions(
    app, person, action, place, caplog
) -> None:
    if place == "nationwide" and action in NO_NATIONWIDE:
        pytest.skip("no nationwide target for a region filter")
    targets = await world(app)
    uid, press = ACTS[action]
    chat = await scoped(app, person, uid, "coordinator" if uid == SCOPED_COORDINATOR else "staff")
    draft = await draft_of(app, chat) if action.startswith("broadcast") else 0
    before, since = await state(app), len(app.bot.session.calls)
    caplog.set_level(logging.WARNING)
    said = texts(await chat.press_data(press(targets[place], place, draft)))
    assert any(r in said.lower() for r in REFUSALS), (action, place, said)
    assert "refused" in caplog.text
    assert await state(app) == before, (action, place)
    assert not told(app, since, targets)
    assert not any(
        isinstance(c, SendDocument | SendPhoto) for c in app.bot.session.calls[since:]
    ), (action, place)


@pytest.mark.parametrize("action", sorted(ACTS))
async def test_the_same_scoped_actor_succeeds_inside_their_regions(app, person, action) -> None:
    targets = await world(app)
    uid, press = ACTS[action]
    chat = await scoped(app, person, uid, "coordinator" if uid == SCOPED_COORDINATOR else "staff")
    draft = await draft_of(app, chat) if action.startswith("broadcast") else 0
    before, since = await state(app), len(app.bot.session.calls)
    said = texts(await chat.press_data(press(targets["own"], "own", draft)))
    assert not any(r in said.lower() for r in REFUSALS), (action, said)
    calls = app.bot.session.calls[since:]
    if action.startswith("export"):
        assert any(isinstance(c, SendDocument) for c in calls)
    elif action.startswith("stats") or action in ("review.open", "review.region", "training.drop"):
        assert said  # shown
    else:
        assert await state(app) != before, action  # something changed
    if action in ("training.dropok", "review.approve"):
        assert told(app, since, targets) == {targets["own"].returnee}


async def to_the_region_step(chat) -> list[str]:
    """/pelatihan_baru up to "Who is it for?"; the region buttons offered there."""
    await chat.send("/pelatihan_baru")
    await chat.send("Pembukuan untuk warung")
    await chat.send("Dinas Koperasi")
    await chat.choose("finance")
    await chat.send("15/01/2027")
    await chat.choose("09.00")
    await chat.send("12.30")
    await chat.choose("online")
    await chat.send("https://zoom.us/j/123456")
    message = chat.last_keyboard_message()
    assert message is not None and message.reply_markup is not None
    return [
        (b.callback_data or "").rsplit(":", 1)[-1]
        for row in message.reply_markup.inline_keyboard
        for b in row
    ]


async def forge_answers(app, **answers: Any) -> None:
    """Change the active training flow's answers in the database, as a forged or stale run."""
    async with app.sessionmaker() as session, session.begin():
        run = (
            await session.scalars(
                select(FlowRun).where(FlowRun.flow == "training_edit", FlowRun.status == "active")
            )
        ).one()
        run.answers = {**run.answers, **answers}


async def test_a_scoped_coordinator_is_offered_only_their_regions(app, person) -> None:
    chat = await scoped(app, person, SCOPED_COORDINATOR, "coordinator")
    offered = await to_the_region_step(chat)
    assert "35.78" in offered and "35" in offered and "other" in offered
    assert "all" not in offered  # the whole country: only for an unscoped coordinator
    assert "choose one of the buttons" in texts(
        await chat.press_data("f:training_edit:region:pick:all")
    )
    await chat.choose("other")
    provinces = [b for b in chat.buttons() if "Jawa" in b or "Jakarta" in b or "Bali" in b]
    assert provinces == ["Jawa Timur"]
    assert "could not find" in texts(await chat.send("DKI Jakarta"))  # typed: not inside
    await chat.choose("35")
    assert "The whole province" in chat.buttons() and "Kota Batu" in chat.buttons()


async def test_an_unscoped_coordinator_may_choose_the_whole_country(app, person) -> None:
    chat = await someone(app, person, 9611, "coordinator")
    offered = await to_the_region_step(chat)
    assert "all" in offered and "35.78" in offered


@pytest.mark.parametrize("region", ("31.71", "31", "all"))
async def test_saving_a_session_outside_the_regions_is_refused_at_the_finish(
    app, person, region, caplog
) -> None:
    """The finisher checks the place again: a forged or stale answer saves nothing."""
    chat = await scoped(app, person, SCOPED_COORDINATOR, "coordinator")
    await to_the_region_step(chat)
    await chat.choose("35.78")
    await chat.send("25")
    await chat.choose("no")
    await forge_answers(app, region=region)
    caplog.set_level(logging.WARNING)
    said = texts(await chat.choose("yes"))
    assert OUTSIDE in said and "Nothing was saved" in said
    assert "refused training.manage" in caplog.text
    assert await count(app, Training) == 0


async def test_saving_a_session_inside_the_regions_works(app, person) -> None:
    chat = await scoped(app, person, SCOPED_COORDINATOR, "coordinator")
    await to_the_region_step(chat)
    await chat.choose("35.78")
    await chat.send("25")
    await chat.choose("no")
    assert "Saved" in texts(await chat.choose("yes"))
    saved = await one(app, Training)
    assert (saved.province_code, saved.regency_code) == ("35", "35.78")


@pytest.mark.parametrize("place", ("other", "nationwide"))
async def test_an_edit_of_a_session_outside_the_regions_is_refused_at_the_finish(
    app, person, place
) -> None:
    """An edit begun on their own session whose run is pointed at another's saves nothing and
    tells nobody."""
    targets = await world(app)
    chat = await scoped(app, person, SCOPED_COORDINATOR, "coordinator")
    await chat.press_data(TrainingCB(act="edit", id=targets["own"].training).pack())
    await chat.press("Session own")  # keep each value
    await chat.press("Disnaker")
    await chat.choose("digital")
    await chat.send("20/01/2027")
    await chat.choose("10.00")
    await chat.choose("13.00")
    await chat.choose("place")
    await chat.press("Aula")
    await chat.choose("35.78")
    await chat.send("3")
    await chat.choose("no")
    await forge_answers(app, training_id=targets[place].training)
    before, since = await state(app), len(app.bot.session.calls)
    said = texts(await chat.choose("yes"))
    assert OUTSIDE in said
    trainings_before, trainings_after = before[0], (await state(app))[0]
    assert trainings_after == trainings_before
    assert not told(app, since, targets)


async def test_the_card_offers_edit_and_cancel_only_inside_the_regions(app, person) -> None:
    targets = await world(app)
    chat = await scoped(app, person, SCOPED_COORDINATOR, "coordinator")
    for place, target in targets.items():
        await chat.press_data(TrainingCB(act="show", id=target.training).pack())
        shown = chat.buttons()
        assert ("✏️ Edit" in shown) == (place == "own"), (place, shown)
        assert ("🚫 Cancel session" in shown) == (place == "own"), (place, shown)


@pytest.mark.parametrize("kind", ("cooperative", "founding", "training"))
async def test_announcement_pick_lists_name_only_targets_inside_the_regions(
    app, person, kind
) -> None:
    await world(app)
    chat = await scoped(app, person, SCOPED_COORDINATOR, "coordinator")
    draft = await draft_of(app, chat)
    await chat.press_data(BroadcastCB(act="pick", id=draft, v=kind).pack())
    shown = " ".join(chat.buttons())
    assert "own" in shown and "other" not in shown and "nationwide" not in shown, shown


async def test_a_draft_follows_its_authors_current_regions(app, person) -> None:
    """Regions narrowed after a draft began: the draft reaches only the regions of today."""
    await world(app)
    chat = await someone(app, person, 9612, "coordinator")  # unscoped when the draft begins
    draft = await draft_of(app, chat)
    assert (await one(app, Broadcast)).regions is None
    async with app.sessionmaker() as session, session.begin():
        found = await repo.person_by_telegram_id(session, telegram_id=9612)
        assert found is not None
        await repo.set_role(session, person_id=found.id, role="coordinator", regions=["31"])
    said = texts(await chat.press_data(BroadcastCB(act="card", id=draft).pack()))
    assert (await one(app, Broadcast)).regions == ["31"]
    assert "reaches now: 1" in said  # the returnee of Kota Jakarta Pusat only


async def test_a_review_reason_for_a_submission_outside_the_regions_decides_nothing(
    app, person
) -> None:
    """The reason's finisher checks the submission's place again."""
    targets = await world(app)
    chat = await scoped(app, person, SCOPED_STAFF, "staff")
    await chat.press_data(ReviewCB(act="no", id=targets["own"].submission, k=2).pack())
    async with app.sessionmaker() as session, session.begin():
        run = (await session.scalars(select(FlowRun).where(FlowRun.flow == "review_reason"))).one()
        run.answers = {**run.answers, "submission": targets["other"].submission}
    before, since = await state(app), len(app.bot.session.calls)
    said = texts(await chat.send("Data tidak lengkap"))
    assert "not in your queue" in said
    assert (await state(app))[1:3] == before[1:3]  # submissions and the audit log unchanged
    assert not told(app, since, targets)


async def test_a_coordinator_with_an_empty_scope_adds_nothing(app, person) -> None:
    chat = await scoped(app, person, SCOPED_COORDINATOR, "coordinator")
    async with app.sessionmaker() as session, session.begin():
        found = await repo.person_by_telegram_id(session, telegram_id=SCOPED_COORDINATOR)
        assert found is not None
        await repo.set_role(session, person_id=found.id, role="coordinator", regions=[])
    assert "no regions yet" in texts(await chat.send("/pelatihan_baru"))
    assert await count(app, FlowRun, FlowRun.flow == "training_edit") == 0
