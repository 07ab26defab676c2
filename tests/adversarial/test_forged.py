"""Forged button data for every CallbackData class of the bot (found by introspection): other
people's real buttons replayed, and fields packed with other people's ids, out-of-range ids and
unknown values. Nothing breaks, and a press by someone without the right changes nothing of
anyone else's; a press needing a role changes nothing at all."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.handlers.training import TrainingCB
from bot.offline import OfflineChat
from storage.models import Base, Person, Training
from tests.adversarial.conftest import Harness, World, budget
from tests.adversarial.hostile import callback_classes, forged_data, known_values
from tests.support.talk import onboard, texts

CLASSES = callback_classes()
# Buttons whose every press needs a role (bot/roles.py); a training's new/edit/drop too.
PRIVILEGED = frozenset({"bc", "rv", "ex", "au", "rl", "st"})
PRIVILEGED_TRAINING = frozenset({"new", "edit", "drop", "dropok"})
OWNER_COLUMNS = ("person_id", "author_id", "actor_id", "founder_id", "created_by")
Snapshot = dict[str, list[tuple[Any, ...]]]


def privileged(data: str) -> bool:
    prefix, _, rest = data.partition(":")
    return prefix in PRIVILEGED or (prefix == "tr" and rest.split(":")[0] in PRIVILEGED_TRAINING)


async def snapshot(h: Harness, attacker: int | None) -> Snapshot:
    """Every row of every table but the dedup record; without the attacker's own rows when
    `attacker` (a person id) is given."""
    found: Snapshot = {}
    async with h.app.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "processed_updates":
                continue
            rows = (await session.execute(select(table))).all()
            keep = []
            for row in rows:
                values = row._mapping
                if attacker is not None and (
                    any(values.get(c) == attacker for c in OWNER_COLUMNS)
                    or (table.name == "people" and values["id"] == attacker)
                ):
                    continue
                keep.append(tuple(repr(v) for v in row))
            found[table.name] = sorted(keep)
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    found = []
    for name in before:
        gone = set(before[name]) - set(after[name])
        new = set(after[name]) - set(before[name])
        if gone or new:
            found.append(f"{name}: -{sorted(gone)[:2]} +{sorted(new)[:2]}")
    return found


async def person_id(h: Harness, chat: OfflineChat) -> int:
    async with h.app.sessionmaker() as session:
        found = await session.scalar(select(Person.id).where(Person.telegram_id == chat.user.id))
        assert found is not None
        return int(found)


async def forge(h: Harness, attacker: OfflineChat, data: str) -> None:
    """Press `data` as the attacker from their own newest message: no problem, and nothing of
    anyone else (for a role's button: nothing at all) changed."""
    me = await person_id(h, attacker)
    owner = None if privileged(data) else me
    before = await snapshot(h, owner)
    since = h.mark()
    shown = texts(await attacker.press_data(data))
    h.check(since, f"forged press {data!r}", shown)
    changed = changes(before, await snapshot(h, owner))
    assert not changed, f"forged press {data!r} changed: {changed}"


@pytest.fixture
def attacker(harness: Harness, world: World) -> OfflineChat:
    chat = harness.person(first_name="Mallory")
    harness.run(onboard(chat, name="Mallory Jahat", lang="id"))
    return chat


def test_every_class_is_found_by_introspection() -> None:
    prefixes = {c.__prefix__ for c in CLASSES}
    assert {"c", "f", "r", "m", "l", "e", "co", "k", "tr", "rv", "bc", "rl", "au"} <= prefixes


def test_other_peoples_buttons_replayed(harness: Harness, world: World, attacker) -> None:
    """Every real button the victim and the admin got (flow buttons act on the presser's own
    run, so one of each step is enough), pressed by a returnee with nothing of theirs."""
    seen: set[str] = set()
    for data in dict.fromkeys(world.packed):
        prefix, _, rest = data.partition(":")
        kind = (
            prefix + ":" + ":".join(rest.split(":")[:2] if prefix == "f" else rest.split(":")[:1])
        )
        if prefix in ("e", "c") or kind in seen:  # consent and erasure act on the presser
            continue
        seen.add(kind)
        harness.run(forge(harness, attacker, data))


def test_fuzz_forged_presses(harness: Harness, world: World, attacker) -> None:
    seen = known_values(world.packed, CLASSES)

    @budget(40)
    @given(data=st.sampled_from(CLASSES).flatmap(lambda c: forged_data(c, world.ids, seen)))
    def run(data: str) -> None:
        prefix = data.partition(":")[0]
        if prefix == "e":  # /hapusdata's confirmation erases the presser, by design
            return
        harness.run(forge(harness, attacker, data))

    run()


@pytest.mark.xfail(
    reason="issue 13 point 1: a coordinator limited to a region edits and cancels sessions "
    "anywhere",
    strict=True,
)
def test_a_scoped_coordinator_cannot_touch_a_nationwide_session(
    harness: Harness, world: World
) -> None:
    async def scenario() -> None:
        coordinator = harness.person(first_name="Koordinator")
        await onboard(coordinator, name="Koordinator Jatim", lang="en")
        async with harness.app.sessionmaker() as session, session.begin():
            person = (
                await session.scalars(
                    select(Person).where(Person.telegram_id == coordinator.user.id)
                )
            ).one()
            person.role, person.scope_regions = "coordinator", ["35.73"]  # Kota Malang only
            nationwide = (
                await session.scalars(select(Training).where(Training.regency_code.is_(None)))
            ).first()
            assert nationwide is not None
        for act in ("edit", "drop", "dropok"):
            before = await snapshot(harness, None)
            await coordinator.press_data(TrainingCB(act=act, id=nationwide.id).pack())
            assert not changes(before, await snapshot(harness, None)), act

    harness.run(scenario())
