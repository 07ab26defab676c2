"""The whole role matrix: each role × each privileged command and button, forged presses
included. Written out by hand (not read from bot/roles.py), so a change to who may do what
must change this table too."""

from __future__ import annotations

import logging

import pytest

from bot.broadcasts import BroadcastCB
from bot.handlers.audit import AuditCB
from bot.handlers.export import ExportCB
from bot.handlers.review import ReviewCB
from bot.handlers.roles import RoleCB
from bot.handlers.stats import StatsCB
from bot.handlers.training import TrainingCB
from storage import repo
from storage.models import AuditEntry, Broadcast, RoleInvite, Submission, Training
from tests.conftest import ADMIN_ID
from tests.support.talk import count, onboard, texts

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
