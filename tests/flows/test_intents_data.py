"""The intent data loads and is checked (errors name file and line); the normaliser reads the
way returnees type; the matcher ranks a longer phrase first and keeps the amount and topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import intents
from flows.intents import IntentDataError, load


def test_the_shipped_data_loads() -> None:
    matcher = load()
    assert {"kur", "coop_join", "coop_found", "training", "fact_scam", "erase"} <= set(
        matcher.intents
    )


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("Pinjaaaam DUIT!!! 😀😀", ["pinjam", "uang"]),
        ("sy pengen gabung koprasi yg deket", ["saya", "gabung", "koperasi", "yang", "deket"]),
        ("gmn caranya?", []),
        ("kursus2 gratis", ["pelatihan", "gratis"]),
        ("Matur nuwun, Mbak", ["makasih", "makasih"]),
        ("pinjamannya", ["pinjam"]),
        ("bertanya", ["bertanya"]),  # a "-nya" is only taken off a word the data knows
        ("hapus-data", ["hapus", "data"]),
        ("café koperasi", ["cafe", "koperasi"]),
    ],
)
def test_normalising(typed: str, seen: list[str]) -> None:
    assert intents.matcher().words(typed) == seen


def test_a_longer_phrase_beats_a_shorter_one() -> None:
    understood = intents.understand("mau gabung koperasi")
    assert understood.offered()[:2] == ("coop_join", "coop")


def test_amount_and_topic_are_kept() -> None:
    assert intents.understand("pinjam dua puluh lima juta").amount == 25_000_000
    assert intents.understand("pengen belajar jahit").topic == "vocational"
    assert intents.understand("pelatihan").topic is None


def test_a_greeting_in_a_long_message_is_not_the_point() -> None:
    assert intents.understand("halo saya mau pinjam uang").best == "kur"
    assert intents.understand("halo").best == "greeting"
    assert intents.understand("hasil bola tadi malam sama siapa").best is None


def test_nothing_is_offered_for_nonsense() -> None:
    understood = intents.understand("asdf qwer zxcv")
    assert understood.offered() == () and understood.best is None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intents.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_wrong_type_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[intents.kur]\nphrases = ["kur"]\n\n[intents.coop]\nphrases = 3\n')
    with pytest.raises(IntentDataError, match=rf"{path}:5: intents\.coop\.phrases"):
        load(path)


def test_a_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[intents.kur]\nphrases = ["kur",, "x"]\n')
    with pytest.raises(IntentDataError, match=rf"{path}: .*line 2"):
        load(path)


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[intents.kur]\nphrases = ["kur"]\nphrase = ["x"]\n')
    with pytest.raises(IntentDataError, match=rf"{path}:3: intents\.kur\.phrase"):
        load(path)


def test_a_phrase_in_two_intents_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[normalise.synonyms]\nduit = "uang"\n\n[intents.kur]\nphrases = ["pinjam uang"]\n\n'
        '[intents.coop]\nphrases = ["koperasi", "pinjam duit"]\n',
    )
    with pytest.raises(IntentDataError, match=rf"{path}:8: intents\.coop: .*intents\.kur"):
        load(path)


def test_a_filler_in_a_phrase_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[normalise]\nfillers = ["mau"]\n\n[intents.kur]\nphrases = ["mau pinjam"]\n'
    )
    with pytest.raises(IntentDataError, match=rf"{path}:5: .*filler"):
        load(path)


def test_an_unknown_training_topic_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[intents.kur]\nphrases = ["kur"]\n\n[topics.dancing]\nphrases = ["joget"]\n'
    )
    with pytest.raises(IntentDataError, match="not a training topic"):
        load(path)
