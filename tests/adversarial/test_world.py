"""The world the fuzzers attack is built through the real bot without a single problem."""

from __future__ import annotations

from flows import registry
from tests.adversarial.walk import build_world
from tests.conftest import ADMIN_ID


def test_every_flow_is_walked_with_good_answers_and_nothing_goes_wrong(harness) -> None:
    since = harness.mark()
    world = harness.run(build_world(harness, ADMIN_ID))
    assert set(world.templates) == set(registry.FLOWS)
    harness.check(since, "building the world")
