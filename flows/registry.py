"""Every flow by key, so a stored run finds its definition again."""

from __future__ import annotations

from flows import found_coop, join_coop, kur, review, training
from flows.engine import Flow
from flows.onboarding import ONBOARDING, PROFILE_EDIT

FLOWS: dict[str, Flow] = {
    f.key: f
    for f in (
        ONBOARDING,
        PROFILE_EDIT,
        *join_coop.FLOWS,
        *found_coop.FLOWS,
        *kur.FLOWS,
        *training.FLOWS,
        *review.FLOWS,
    )
}


def get(key: str) -> Flow:
    return FLOWS[key]
