"""The catalogs: the template matches the code, Indonesian is complete, placeholders agree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _ids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_template_is_not_stale(tmp_path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "t",
            "-k",
            "__",
            "--no-location",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    missing = _ids(_catalog(fresh)) - _ids(_catalog(LOCALES / "messages.pot"))
    extra = _ids(_catalog(LOCALES / "messages.pot")) - _ids(_catalog(fresh))
    assert not missing and not extra, f"run `make i18n`: new {missing}, gone {extra}"


@pytest.mark.parametrize("locale", ["id", "en"])
def test_every_template_entry_is_in_the_catalog(locale: str) -> None:
    template = _ids(_catalog(LOCALES / "messages.pot"))
    assert template <= _ids(_catalog(LOCALES / locale / "LC_MESSAGES" / "messages.po"))


@pytest.mark.parametrize("locale", ["id", "en"])
def test_the_catalog_is_complete_and_not_fuzzy(locale: str) -> None:
    """English too has its own msgstr: the msgid is the code's key, not what a person reads."""
    catalog = _catalog(LOCALES / locale / "LC_MESSAGES" / "messages.po")
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated and not fuzzy


@pytest.mark.parametrize("locale", ["id", "en"])
def test_placeholders_and_markup_agree_with_the_msgid(locale: str) -> None:
    for m in _catalog(LOCALES / locale / "LC_MESSAGES" / "messages.po"):
        if not m.id or not m.string:
            continue
        assert set(PLACEHOLDER.findall(m.id)) == set(PLACEHOLDER.findall(m.string)), m.id
        for tag in ("<b>", "</b>", "<i>", "</i>"):
            assert m.id.count(tag) == m.string.count(tag), m.id
        for command in re.findall(r"/[a-z]+", m.id):
            assert command in m.string, (m.id, command)
