"""Second-order: the longest hostile text every free-text step accepts (HTML specials, quotes,
emoji, RTL marks) is stored, then shown again wherever the bot shows it (recaps, /datasaya,
/progres, a plan's and a loan's page, the reviewer's queue and cards, the training list, the
audit log): always escaped, always within Telegram's limits, never in a log line."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.handlers.coop import CoopCB
from bot.handlers.kur import LoanCB
from bot.handlers.review import ReviewCB
from bot.handlers.training import TrainingCB
from bot.offline import OfflineChat
from storage.models import Founding, Loan, Submission, Training
from tests.adversarial.conftest import Harness
from tests.adversarial.walk import build_world
from tests.conftest import ADMIN_ID
from tests.support.talk import texts

VIEWS = ("/datasaya", "/progres", "/profil", "/menu", "/pengingat", "/help")
STAFF_VIEWS = ("/tinjau", "/audit", "/peran", "/statistik", "/ekspor", "/siaran")


async def _ids(h: Harness, model: Any) -> list[int]:
    async with h.app.sessionmaker() as session:
        return list((await session.scalars(select(model.id).order_by(model.id))).all())


async def _look(h: Harness, chat: OfflineChat, what: str) -> None:
    since = h.mark()
    calls = await (chat.send(what) if what.startswith("/") else chat.press_data(what))
    h.check(since, f"showing {what!r} after hostile answers", texts(calls))


def test_hostile_answers_are_shown_safely_everywhere(harness: Harness) -> None:
    async def scenario() -> None:
        since = harness.mark()
        world = await build_world(harness, ADMIN_ID, hostile=True)
        harness.check(since, "walking every flow with hostile answers")
        for view in VIEWS:
            await _look(harness, world.victim, view)
        for view in STAFF_VIEWS:
            await _look(harness, world.admin, view)
        for plan in await _ids(harness, Founding):
            await _look(harness, world.victim, CoopCB(act="plan", id=plan).pack())
        for loan in await _ids(harness, Loan):
            for act in ("page", "docs"):
                await _look(harness, world.victim, LoanCB(act=act, loan=loan).pack())
                await _look(harness, world.admin, LoanCB(act=act, loan=loan).pack())
        for submission in await _ids(harness, Submission):
            for act in ("open", "nik"):
                await _look(harness, world.admin, ReviewCB(act=act, id=submission).pack())
        await _look(harness, world.admin, ReviewCB(act="list").pack())
        for training in await _ids(harness, Training):
            await _look(harness, world.victim, TrainingCB(act="show", id=training).pack())
            await _look(harness, world.admin, TrainingCB(act="show", id=training).pack())
        await _look(harness, world.victim, TrainingCB(act="list").pack())
        await _look(harness, world.victim, TrainingCB(act="mine").pack())

    harness.run(scenario())
