"""Amounts of money in free text: digits with a scale word, "Rp", dotted thousands, and
Indonesian (some Javanese and English) number words; a bare small number is not money."""

from __future__ import annotations

import pytest

from flows.money_words import find_amount


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("25 jt", 25_000_000),
        ("25jt", 25_000_000),
        ("pinjam 25JT buat warung", 25_000_000),
        ("Rp 25.000.000", 25_000_000),
        ("rp25jt", 25_000_000),
        ("Rp. 500.000,-", 500_000),
        ("25.000.000", 25_000_000),
        ("1,5 juta", 1_500_000),
        ("1.5jt", 1_500_000),
        ("500rb", 500_000),
        ("500 ribu", 500_000),
        ("300k", 300_000),
        ("2 miliar", 2_000_000_000),
        ("1,5 M", 1_500_000_000),
        ("10000 rupiah", 10_000),
        ("dua puluh lima juta", 25_000_000),
        ("mau pinjam dua puluh lima juta untuk usaha", 25_000_000),
        ("setengah juta", 500_000),
        ("satu setengah juta", 1_500_000),
        ("dua setengah juta", 2_500_000),
        ("sejuta", 1_000_000),
        ("seratus juta", 100_000_000),
        ("lima ratus ribu", 500_000),
        ("dua belas juta", 12_000_000),
        ("sebelas juta", 11_000_000),
        ("dua juta lima ratus ribu", 2_500_000),
        ("seratus lima puluh juta", 150_000_000),
        ("seribu rupiah", 1_000),
        ("lima puluh ribu rupiah", 50_000),
        ("two million", 2_000_000),
        ("twenty five million", 25_000_000),
        ("selawe juta", 25_000_000),
    ],
)
def test_amounts_are_found(text: str, amount: int) -> None:
    assert find_amount(text) == amount


@pytest.mark.parametrize(
    "text",
    [
        "pinjam modal",
        "anak saya 3",
        "umur 40 tahun",
        "kerja 5 tahun di taiwan",
        "0812 3456 7890",
        "dua tiga orang",
        "juta",
        "satu dua",
        "jam 5 menit",
        "",
        "999999999 miliar",  # beyond what the bot takes as an amount
    ],
)
def test_no_amount_where_there_is_none(text: str) -> None:
    assert find_amount(text) is None
