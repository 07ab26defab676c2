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
from tests.support.talk import agree, onboard, texts

CLASSES = callback_classes()
# Buttons whose every press needs a role (bot/roles.py); a training's new/edit/drop too.
PRIVILEGED = frozenset({"bc", "rv", "ex", "au", "rl", "st"})
PRIVILEGED_TRAINING = frozenset({"new", "edit", "drop", "dropok"})
OWNER_COLUMNS = ("person_id", "author_id", "actor_id", "founder_id", "created_by")
Row = tuple[frozenset[Any], tuple[str, ...]]  # (the person ids owning it, its values)
Snapshot = dict[str, list[Row]]


def privileged(data: str) -> bool:
    prefix, _, rest = data.partition(":")
    return prefix in PRIVILEGED or (prefix == "tr" and rest.split(":")[0] in PRIVILEGED_TRAINING)


async def snapshot(h: Harness) -> Snapshot:
    """Every row of every table but the dedup record, with the people owning it."""
    found: Snapshot = {}
    async with h.app.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "processed_updates":
                continue
            rows = []
            for row in (await session.execute(select(table))).all():
                values = row._mapping
                owners = {values.get(c) for c in OWNER_COLUMNS}
                if table.name == "people":
                    owners.add(values["id"])
                rows.append((frozenset(owners - {None}), tuple(repr(v) for v in row)))
            found[table.name] = rows
    return found


def changes(before: Snapshot, after: Snapshot, mine: int | None = None) -> list[str]:
    """What changed, leaving out rows owned by person `mine` (their own doings are theirs)."""
    found = []
    for name in before:
        old = {v for o, v in before[name] if mine is None or mine not in o}
        new = {v for o, v in after[name] if mine is None or mine not in o}
        if old != new:
            found.append(f"{name}: -{sorted(old - new)[:2]} +{sorted(new - old)[:2]}")
    return found


async def person_id(h: Harness, chat: OfflineChat) -> int | None:
    async with h.app.sessionmaker() as session:
        found = await session.scalar(select(Person.id).where(Person.telegram_id == chat.user.id))
        return None if found is None else int(found)


async def forge(h: Harness, attacker: OfflineChat, data: str) -> None:
    """Press `data` as the attacker from their own newest message: no problem, and nothing of
    anyone else (for a role's button: nothing at all) changed."""
    before = await snapshot(h)
    since = h.mark()
    shown = texts(await attacker.press_data(data))
    h.check(since, f"forged press {data!r}", shown)
    mine = None if privileged(data) else await person_id(h, attacker)
    changed = changes(before, await snapshot(h), mine)
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
    @given(
        data=st.sampled_from(CLASSES).flatmap(lambda c: forged_data(c, world.ids, seen)),
        who=st.sampled_from(["returnee", "stranger", "consented"]),
    )
    def run(data: str, who: str) -> None:
        prefix = data.partition(":")[0]
        if prefix == "e":  # /hapusdata's confirmation erases the presser, by design
            return
        chat = attacker if who == "returnee" else harness.person()
        if who == "consented":
            harness.run(agree(chat))
        harness.run(forge(harness, chat, data))

    run()


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
            before = await snapshot(harness)
            await coordinator.press_data(TrainingCB(act=act, id=nationwide.id).pack())
            assert not changes(before, await snapshot(harness)), act

    harness.run(scenario())


async def junk_from_the_rightful(h: Harness, chat: OfflineChat, data: str) -> None:
    """Someone with every right presses junk: it may change what is theirs to change, but
    nothing breaks."""
    since = h.mark()
    shown = texts(await chat.press_data(data))
    h.check(since, f"a junk press {data!r} by someone with the right", shown)


def test_fuzz_junk_presses_by_the_admin_and_the_owner(harness: Harness, world: World) -> None:
    seen = known_values(world.packed, CLASSES)

    @budget(40)
    @given(
        data=st.sampled_from(CLASSES).flatmap(lambda c: forged_data(c, world.ids, seen)),
        who=st.sampled_from(["admin", "victim"]),
    )
    def run(data: str, who: str) -> None:
        if data.partition(":")[0] == "e":  # /hapusdata's confirmation erases the presser
            return
        harness.run(junk_from_the_rightful(harness, getattr(world, who), data))

    run()
