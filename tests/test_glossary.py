"""One term for one thing: no msgstr uses a variant that locales/glossary.toml forbids."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "locales" / "glossary.toml"
# A placeholder reads as a number (so "Rp {max}" is caught), a tag is not text.
PLACEHOLDER = re.compile(r"\{\w*\}")
TAG = re.compile(r"<[^>]+>")


def _terms() -> list[dict]:
    with GLOSSARY.open("rb") as f:
        return tomllib.load(f)["term"]


def _text(msgstr: str) -> str:
    return TAG.sub(" ", PLACEHOLDER.sub("9", msgstr))


def _msgstrs(locale: str) -> list[tuple[str, str]]:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return [(m.id, m.string) for m in read_po(f) if m.id and m.string]


def violations(locale: str, entries: list[tuple[str, str]]) -> list[str]:
    found = []
    for msgid, msgstr in entries:
        text = _text(msgstr)
        for term in _terms():
            for variant in term[f"not_{locale}"]:
                if hit := re.search(variant, text):
                    found.append(f"{msgid!r}: {hit.group(0)!r} (say {term[locale]!r})")
    return found


def test_the_glossary_is_well_formed() -> None:
    terms = _terms()
    assert len(terms) >= 15
    for term in terms:
        assert {"thing", "id", "en", "why", "not_id", "not_en"} <= term.keys(), term
        assert term["not_id"] or term["not_en"], term["thing"]
        for variant in term["not_id"] + term["not_en"]:
            re.compile(variant)


@pytest.mark.parametrize("locale", ["id", "en"])
def test_no_msgstr_uses_a_forbidden_variant(locale: str) -> None:
    found = violations(locale, _msgstrs(locale))
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("locale", "msgstr"),
    [
        ("id", "Bawa KTP-el Anda."),
        ("id", "Silakan ketik nomor telepon Anda."),
        ("id", "Lengkapi dokumen Anda."),
        ("id", "Paling banyak Rp {max}."),
        ("id", "Tekan “Ajukan bergabung”."),
        ("id", "Tolong ketik nama anda."),
        ("id", "Cek BI Checking Anda."),
        ("en", "Bring your papers."),
        ("en", "At most IDR {max}."),
        ("en", "Your mobile number"),
        ("en", "Ask the organizer."),
    ],
)
def test_a_forbidden_variant_is_caught(locale: str, msgstr: str) -> None:
    assert violations(locale, [("probe", msgstr)])


@pytest.mark.parametrize(
    ("locale", "msgstr"),
    [
        ("id", "Bawa e-KTP, KK, dan berkas lain (asli dan fotokopi)."),
        ("id", "SLIK OJK (dulu “BI checking”) adalah catatan pinjaman Anda."),
        ("id", "Silakan ketik nomor HP Anda. Paling banyak Rp{max}."),
        ("en", "Bring your e-KTP, KK and the other documents (originals and a copy)."),
        ("en", "SLIK OJK (formerly “BI checking”) is the record of your loans."),
    ],
)
def test_the_preferred_terms_pass(locale: str, msgstr: str) -> None:
    assert not violations(locale, [("probe", msgstr)])
