"""The matcher on messages written the way returnees write (tests/data/intents.csv: slang,
typos, abbreviations, some Javanese, Sundanese and English, and off-topic messages whose
expected intent is "none"): top-1 accuracy of at least 90% (issue 18).

tests/data/intents_holdout.csv was written after the phrase data was tuned on the first set and
never tuned on; it keeps the figure honest (bench/intents.py reports both).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from flows import intents

DATA = Path(__file__).resolve().parent.parent / "data"
SETS = {"intents.csv": 0.90, "intents_holdout.csv": 0.85}


def rows(name: str) -> list[tuple[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return [(r["text"], r["intent"]) for r in csv.DictReader(f)]


def accuracy(name: str) -> tuple[float, list[str]]:
    misses = []
    found = rows(name)
    for text, expected in found:
        got = intents.understand(text).best or "none"
        if got != expected:
            misses.append(f"{text!r}: expected {expected}, got {got}")
    return 1 - len(misses) / len(found), misses


def test_the_set_is_large_and_covers_every_intent() -> None:
    found = rows("intents.csv")
    assert len(found) >= 300
    expected = {intent for _, intent in found}
    assert expected == set(intents.matcher().intents) | {"none"}
    assert sum(1 for _, intent in found if intent == "none") >= 25


@pytest.mark.parametrize("name", SETS)
def test_top_1_accuracy(name: str) -> None:
    score, misses = accuracy(name)
    assert score >= SETS[name], "\n".join(misses)
