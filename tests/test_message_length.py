"""No message over 600 characters (issue 15, point 5): what a person reads on a phone at once.

Every msgstr of both catalogs is checked with plausible long values in its placeholders, with no
exception; the messages the bot builds from several msgids are checked in
tests/bot/test_message_length.py (which holds the one list of pages split elsewhere).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.text import READING_LIMIT

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TAG = re.compile(r"<[^>]+>")

NAMES = "Siti Nur Aminah, Budi Santoso, Ani Purnama, Wati Lestari, Dewi Kartika, Rudi Hartono"
# Plausible long values, by placeholder name: what a real person, place or typed reason is like
# at its longer end (not the validators' maximum, which no one types).
LONG = {
    "name": "Koperasi Produsen Purna Migran Sejahtera Bersama",
    "plan": "Koperasi Produsen Purna Migran Sejahtera Bersama",
    "founder": "Siti Nur Aminah Rahmawati",
    "person": "Siti Nur Aminah Rahmawati",
    "lead": "Siti Nur Aminah Rahmawati",
    "heir": "Siti Nur Aminah Rahmawati",
    "names": NAMES + ", Joko Susilo, Rina Wulandari, Agus Salim",
    "title": "Jualan online untuk warung kecil dan usaha rumahan (tingkat dasar)",
    "reason": (
        "Nomor HP yang ditulis tidak aktif, dan nama usaha belum jelas. Mohon tulis nama usaha "
        "sesuai SKU dari kantor desa, lalu kirim lagi supaya bisa kami teruskan ke pengurus."
    ),
    "purpose": (
        "Simpan pinjam untuk purna PMI di desa kami, untuk memulai usaha kecil seperti warung, "
        "ternak kambing dan jualan online, dan untuk belanja bersama kebutuhan sehari-hari."
    ),
    "text": (
        "Anggota menabung bersama setiap bulan dan bisa meminjam untuk modal usaha kecil. "
        "Koperasi juga membeli pupuk dan bibit bersama, lalu menjual hasil panen anggota ke "
        "pasar kabupaten. Rapat anggota tahunan setiap bulan Maret."
    ),
    "when": "Kamis, 17 Desember 2026, 14.30 WITA",
    "where": "Aula BLK Surabaya, Jl. Dukuh Menanggal 124, Kota Surabaya",
    "place": "Kabupaten Kepulauan Seribu, DKI Jakarta",
    "village": "Desa Sumberejo Kulon",
    "regency": "Kabupaten Kepulauan Seribu",
    "province": "Kepulauan Bangka Belitung",
    "region": "Kabupaten Kepulauan Seribu, DKI Jakarta",
    "regions": "Jawa Timur, Kota Surabaya, Kabupaten Sidoarjo, Kabupaten Malang",
    "fields": "Nama usaha, Modal yang dibutuhkan, Nomor HP, Daerah asal",
    "link": "https://zoom.us/j/12345678901?pwd=abcdefghijklmnopqrstuv",
    "url": "https://zoom.us/j/12345678901?pwd=abcdefghijklmnopqrstuv",
    "answer": "Warung sembako dan jualan gorengan di depan rumah",
    "source": "kur.ekon.go.id, ojk.go.id, peraturan.go.id",
    "step": "Akta dari Notaris Pembuat Akta Koperasi (NPAK)",
    "counts": "Pendaftaran anggota: 120, Cek kesiapan KUR: 340, Pendaftaran pelatihan: 95",
    "titles": "Jualan online untuk warung kecil; Literasi keuangan keluarga; Ternak kambing",
}
NUMBERS = {"n", "m", "min", "max", "id", "count", "days", "seats", "x", "y", "total", "missing"}
OTHER = "Kabupaten Kepulauan Seribu"  # any other placeholder: a longer region's name


def visible(text: str) -> str:
    """What the reader sees: tags out, entities read."""
    return html.unescape(TAG.sub("", text))


def filled(msgstr: str) -> str:
    return PLACEHOLDER.sub(
        lambda m: "1000" if m.group(1) in NUMBERS else LONG.get(m.group(1), OTHER), msgstr
    )


def _entries(locale: str) -> list[tuple[str, str]]:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return [(m.id, m.string) for m in read_po(f) if m.id and m.string]


@pytest.mark.parametrize("locale", ["id", "en"])
def test_no_msgstr_is_over_the_limit(locale: str) -> None:
    over = [
        f"{len(visible(filled(msgstr)))}: {msgid[:60]!r}"
        for msgid, msgstr in _entries(locale)
        if len(visible(filled(msgstr))) > READING_LIMIT
    ]
    assert not over, "\n".join(over)


def test_the_check_sees_a_long_message_and_fills_placeholders() -> None:
    assert READING_LIMIT == 600
    assert len(visible(filled("<b>{name}</b> " + "x" * 560))) > READING_LIMIT
    assert visible(filled("<b>{n}</b> &amp; {reason}")).startswith("1000 & Nomor HP")
