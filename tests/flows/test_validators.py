"""Tests for flows.validators: examples for each accepted and rejected form, plus properties."""

from __future__ import annotations

import ast
import re
import unicodedata
from datetime import date, timedelta
from decimal import Decimal

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows import validators as v
from flows.errors import Invalid

TODAY = date(2026, 3, 10)
PROVINCES = [
    *range(11, 20), 21, *range(31, 37), *range(51, 54), *range(61, 66), *range(71, 77),
    81, 82, *range(91, 96 + 1),
]  # fmt: skip
ID_MONTHS = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
]  # fmt: skip
EN_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
DIGITS = "0123456789"


def rejects(func, raw, msgid, **kwargs):
    """Assert ``func(raw, **kwargs)`` raises Invalid with ``msgid``; return the error."""
    with pytest.raises(Invalid) as caught:
        func(raw, **kwargs)
    assert caught.value.msgid == msgid, (raw, caught.value)
    return caught.value


def test_msgids_are_literal_and_use_named_placeholders():
    tree = ast.parse(open(v.__file__, encoding="utf-8").read())
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_"
    ]
    assert len(calls) >= 20
    for call in calls:
        assert len(call.args) == 1 and isinstance(call.args[0], ast.Constant), ast.dump(call)
        msgid = call.args[0].value
        assert isinstance(msgid, str) and "{}" not in msgid and not re.search(r"\{\d", msgid)
        assert msgid.strip() == msgid and msgid[0].isupper() and msgid.endswith("."), msgid


def test_flows_stays_pure():
    source = open(v.__file__, encoding="utf-8").read()
    assert "aiogram" not in source and "sqlalchemy" not in source


# --- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  halo  ", "halo"),
        ("Saya   mau\n\tbuka  warung", "Saya mau buka warung"),
        ("\u200bhalo\ufeff", "halo"),
        ("e\u0301", "\u00e9"),  # NFC
        ("Warung 👨\u200d👩\u200d👧", "Warung 👨\u200d👩\u200d👧"),
    ],
)
def test_text_normalises(raw, expected):
    assert v.text(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\n\t ", "\u200b"])
def test_text_rejects_empty(raw):
    rejects(v.text, raw, v.TEXT_EMPTY)


@pytest.mark.parametrize("raw", ["a\x00b", "bell\x07", "esc\x1b[31m", "del\x7f", "a\u202eb"])
def test_text_rejects_control_characters(raw):
    rejects(v.text, raw, v.TEXT_CONTROL)


def test_text_length_limits():
    assert v.text("x" * 200) == "x" * 200
    assert rejects(v.text, "x" * 201, v.TEXT_TOO_LONG).params == {"max": 200}
    assert rejects(v.text, "abcdef", v.TEXT_TOO_LONG, max_len=5).params == {"max": 5}
    assert v.text("  " + "y" * 5 + "  ", max_len=5) == "yyyyy"  # counted after stripping
    assert rejects(v.text, "ab", v.TEXT_TOO_SHORT, min_len=3).params == {"min": 3}


@given(
    st.lists(st.text(st.characters(categories=["L", "N", "P"]), min_size=1), min_size=1),
    st.lists(st.sampled_from([" ", "  ", "\n", "\t", " \r\n "]), min_size=1),
)
def test_text_property_collapses_any_whitespace(words, gaps):
    raw = gaps[0] + "".join(w + gaps[i % len(gaps)] for i, w in enumerate(words))
    expected = unicodedata.normalize("NFC", " ".join(words))
    assume(len(expected) <= 200)
    assert v.text(raw) == expected


# --- person_name ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Siti Aminah", "Siti Aminah"),
        ("  Ni Luh   Putu Ayu ", "Ni Luh Putu Ayu"),
        ("Muh. Rizal", "Muh. Rizal"),
        ("Dewi S.", "Dewi S."),
        ("siti aminah", "Siti Aminah"),
        ("NI LUH PUTU AYU", "Ni Luh Putu Ayu"),
        ("muh. rizal", "Muh. Rizal"),
        ("DEWI S.", "Dewi S."),
        ("ma'ruf", "Ma'ruf"),
        ("siti-aminah", "Siti-Aminah"),
        ("McDonald bin Yusuf", "McDonald bin Yusuf"),  # mixed case kept as typed
        ("dr. Budi Santoso, M.Si.", "dr. Budi Santoso, M.Si."),
        ("Nguyễn Thị Lan", "Nguyễn Thị Lan"),
        ("王秀英", "王秀英"),
        ("सीता देवी", "सीता देवी"),  # combining vowel signs
        ("Jo", "Jo"),
    ],
)
def test_person_name_accepts(raw, expected):
    assert v.person_name(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "Siti 2", "Siti_Aminah", "Siti!", "A.", "--", "😀😀"])
def test_person_name_rejects_non_names(raw):
    rejects(v.person_name, raw, v.NAME_INVALID)


@pytest.mark.parametrize(
    "raw", ["@siti_aminah", "siti@gmail.com", "https://t.me/siti", "www.siti.id", "siti.com"]
)
def test_person_name_rejects_links_and_handles(raw):
    rejects(v.person_name, raw, v.NAME_LINK)


def test_person_name_length():
    rejects(v.person_name, "A", v.TEXT_TOO_SHORT)
    assert v.person_name("A" + "a" * 99) == "A" + "a" * 99
    assert rejects(v.person_name, "a" * 101, v.TEXT_TOO_LONG).params == {"max": 100}


# --- phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0812-3456-7890",
        "0812 3456 7890",
        "+62 812 3456 7890",
        "+62-812-3456-7890",
        "6281234567890",
        "62 812 3456 7890",
        "+62 0812 3456 7890",
        "0062 812 3456 7890",
        "081234567890",
        " 0812.3456.7890 ",
    ],
)
def test_phone_normalises_to_e164(raw):
    assert v.phone(raw) == "+6281234567890"


def test_phone_more_forms():
    assert v.phone("(0812) 3456789") == "+628123456789"
    assert v.phone("021 5551234") == "+62215551234"  # a valid Jakarta landline is fine
    # Read as a national number, "62812345678" would be a valid landline 0628-12345678:
    assert v.phone("62812345678") == "+62812345678"
    assert v.phone("62 812 345 678") == "+62812345678"


@pytest.mark.parametrize(
    "raw",
    ["", "abc", "0812", "0812345", "0840 1234 5678", "0812-CALL-ME", "08123456789012345", "12+34"],
)
def test_phone_rejects_invalid(raw):
    rejects(v.phone, raw, v.PHONE_INVALID)


@pytest.mark.parametrize(
    "raw", ["+60 12-345 6789", "+65 8123 4567", "+852 9123 4567", "0065 8123 4567"]
)
def test_phone_rejects_foreign_numbers(raw):
    rejects(v.phone, raw, v.PHONE_NOT_INDONESIAN)


def test_mask_phone():
    assert v.mask_phone("+6281234567890") == "+62 812-****-7890"
    assert v.mask_phone("+628123456789") == "+62 812-***-6789"
    assert v.mask_phone("+62812345678901") == "+62 812-*****-8901"


@st.composite
def mobile_nsn(draw):
    """National significant numbers of Indonesian mobiles: 8, operator digit, 8-11 more digits."""
    operator = draw(st.sampled_from("1235789"))  # 084x is unassigned: is_valid_number is False
    return "8" + operator + draw(st.text(DIGITS, min_size=8, max_size=10))


def _group(digits: str, sep: str) -> str:
    return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))


@settings(deadline=None)
@given(mobile_nsn(), st.sampled_from([" ", "-", ".", ""]))
def test_phone_property_mobiles_normalise_to_e164(nsn, sep):
    expected = "+62" + nsn
    assert phonenumbers.is_valid_number(phonenumbers.parse(expected))  # the generator is honest
    for raw in (
        "0" + nsn,
        "+62" + nsn,
        "62" + nsn,
        _group("0" + nsn, sep),
        "+62 " + _group(nsn, sep),
    ):
        assert v.phone(raw) == expected, raw
    masked = v.mask_phone(expected)
    assert masked == f"+62 {nsn[:3]}-{'*' * (len(nsn) - 7)}-{nsn[-4:]}"


@settings(deadline=None)
@given(st.text(DIGITS, min_size=8, max_size=10))
def test_phone_property_rejects_084(rest):
    rejects(v.phone, "084" + rest, v.PHONE_INVALID)


# --- NIK ------------------------------------------------------------------------------------


def test_nik_examples():
    assert v.nik("3578010112850001") == "3578010112850001"
    assert v.nik("3578 0101 1285 0001") == "3578010112850001"
    assert v.nik("35.78.01.011285.0001") == "3578010112850001"
    assert v.nik("3578-01-011285-0001") == "3578010112850001"
    assert v.nik("3578015112850001") == "3578015112850001"  # woman born 11 Dec 1985
    assert v.nik("3578017112850001") == "3578017112850001"  # woman born 31 Dec
    assert v.nik("3578012902000001") == "3578012902000001"  # 29 Feb 2000 (not 1900) existed
    assert v.mask_nik("3578010112850001") == "3578********0001"


@pytest.mark.parametrize(
    "raw", ["", "357801011285000", "35780101128500012", "3578O10112850001", "3578/0101/1285/0001"]
)
def test_nik_rejects_wrong_length(raw):
    rejects(v.nik, raw, v.NIK_LENGTH)


@pytest.mark.parametrize(
    "raw",
    [
        "1078010112850001",  # province 10 does not exist
        "2078010112850001",
        "9778010112850001",
        "3578010112850000",  # serial 0000
        "3578010012850001",  # day 00
        "3578013212850001",  # day 32
        "3578014012850001",  # day 40
        "3578017212850001",  # day 72 (32 + 40)
        "3578010100850001",  # month 00
        "3578010113850001",  # month 13
        "3578013104850001",  # 31 April
        "3578017104850001",  # 31 April, woman
        "3578012902010001",  # 29 Feb 1901 / 2001
    ],
)
def test_nik_rejects_implausible(raw):
    rejects(v.nik, raw, v.NIK_IMPLAUSIBLE)


@st.composite
def plausible_nik(draw):
    """A NIK with a real province, a real birth date (+40 for women) and a non-zero serial."""
    born = draw(st.dates(date(1900, 1, 1), date(2099, 12, 31)))
    day = born.day + (40 if draw(st.booleans()) else 0)
    return "".join(
        [
            f"{draw(st.sampled_from(PROVINCES)):02d}",
            f"{draw(st.integers(0, 99)):02d}{draw(st.integers(0, 99)):02d}",
            f"{day:02d}{born.month:02d}{born.year % 100:02d}",
            f"{draw(st.integers(1, 9999)):04d}",
        ]
    )


@given(plausible_nik(), st.sampled_from(["", " ", ".", "-", " - "]))
def test_nik_property_plausible_round_trips(value, sep):
    assert v.nik(value) == value
    assert v.nik(sep.join([value[:6], value[6:12], value[12:]])) == value
    assert v.nik(f"  {_group(value, sep)} ") == value
    assert v.mask_nik(value) == value[:4] + "*" * 8 + value[-4:]


@given(plausible_nik(), st.integers(0, 99).filter(lambda code: code not in PROVINCES))
def test_nik_property_bad_province_rejected(value, code):
    rejects(v.nik, f"{code:02d}" + value[2:], v.NIK_IMPLAUSIBLE)


@given(plausible_nik())
def test_nik_property_zero_serial_rejected(value):
    rejects(v.nik, value[:12] + "0000", v.NIK_IMPLAUSIBLE)


@given(st.text(DIGITS).filter(lambda s: len(s) != 16))
def test_nik_property_non_16_digits_rejected(raw):
    rejects(v.nik, raw, v.NIK_LENGTH)


@given(st.text())
def test_nik_property_anything_not_16_digits_rejected(raw):
    assume(not re.fullmatch(r"[0-9]{16}", re.sub(r"[\s.\-]", "", raw)))
    rejects(v.nik, raw, v.NIK_LENGTH)


# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15000000", 15_000_000),
        ("15.000.000", 15_000_000),
        ("15,000,000", 15_000_000),
        ("Rp 15.000.000", 15_000_000),
        ("Rp. 15.000.000,-", 15_000_000),
        ("Rp 15.000.000,00", 15_000_000),
        ("IDR 15.000.000", 15_000_000),
        ("15.000.000 rupiah", 15_000_000),
        ("Rp15jt", 15_000_000),
        ("15jt", 15_000_000),
        ("15 JT", 15_000_000),
        ("15 juta", 15_000_000),
        ("15 juta rupiah", 15_000_000),
        ("15,5 juta", 15_500_000),
        ("15.5 juta", 15_500_000),
        ("15.500 juta", 15_500_000_000),  # "." before exactly three digits groups thousands
        ("1,5 jt", 1_500_000),
        ("0,5 jt", 500_000),
        ("2 miliar", 2_000_000_000),
        ("2 milyar", 2_000_000_000),
        ("2 M", 2_000_000_000),
        ("2m", 2_000_000_000),
        ("1,25 miliar", 1_250_000_000),
        ("500rb", 500_000),
        ("500 ribu", 500_000),
        ("500k", 500_000),
        ("500K", 500_000),
        ("1.500,50", 1_501),  # rounds half up to whole rupiah
        ("100 miliar", 100_000_000_000),
    ],
)
def test_money_accepts(raw, expected):
    assert v.money(raw) == expected


@pytest.mark.parametrize("raw", ["-5000", "Rp -5.000", "-Rp 5.000", "−15 juta", "0", "Rp 0", "0,4"])
def test_money_rejects_zero_and_negative(raw):
    rejects(v.money, raw, v.MONEY_NOT_POSITIVE)


@pytest.mark.parametrize("raw", ["100.000.000.001", "101 miliar", "1 triliun", "9" * 40])
def test_money_rejects_absurd(raw):
    assert rejects(v.money, raw, v.MONEY_TOO_LARGE).params == {"billions": 100}


@pytest.mark.parametrize(
    "raw",
    [
        "", "abc", "Rp", "juta", "15 kambing", "1e6", "15..000", "15.00.000", "1.5.5",
        "15,000.000,5", "15.", "1234.567", "15 000 000", "15 jt 500 rb", "0x10",
    ],
)  # fmt: skip
def test_money_rejects_garbage(raw):
    rejects(v.money, raw, v.MONEY_INVALID)


def _dotted(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@given(st.integers(1, 10**11))
def test_money_property_plain_and_grouped_round_trip(n):
    for raw in (str(n), _dotted(n), f"{n:,}", "Rp " + _dotted(n), "Rp" + _dotted(n) + ",-"):
        assert v.money(raw) == n, raw


@given(st.integers(1, 999))
def test_money_property_juta_and_ribu(k):
    for raw in (f"{k} juta", f"{k}jt", f"Rp {k} jt", f"{k} JUTA"):
        assert v.money(raw) == k * 10**6, raw
    for raw in (f"{k} ribu", f"{k}rb", f"{k}k"):
        assert v.money(raw) == k * 10**3, raw


@given(st.integers(0, 99), st.integers(1, 9), st.sampled_from([",", "."]))
def test_money_property_decimal_juta(whole, tenth, sep):
    assert v.money(f"{whole}{sep}{tenth} juta") == whole * 10**6 + tenth * 10**5


@given(st.integers(10**11 + 1, 10**18))
def test_money_property_above_max_rejected(n):
    rejects(v.money, _dotted(n), v.MONEY_TOO_LARGE)


@given(st.integers(1, 10**11))
def test_money_property_negative_rejected(n):
    rejects(v.money, "-" + _dotted(n), v.MONEY_NOT_POSITIVE)


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hari ini", TODAY),
        ("Hari  Ini", TODAY),
        ("today", TODAY),
        ("besok", TODAY + timedelta(days=1)),
        ("Tomorrow", TODAY + timedelta(days=1)),
        ("lusa", TODAY + timedelta(days=2)),
        ("12/01/2026", date(2026, 1, 12)),
        ("12-01-2026", date(2026, 1, 12)),
        ("12.01.2026", date(2026, 1, 12)),
        ("2/1/26", date(2026, 1, 2)),
        ("5/3/85", date(1985, 3, 5)),  # two-digit years more than ten years ahead are 19xx
        ("1/2/36", date(2036, 2, 1)),
        ("1/2/37", date(1937, 2, 1)),
        ("12 Januari 2026", date(2026, 1, 12)),
        ("12 jan 2026", date(2026, 1, 12)),
        ("12-Jan-2026", date(2026, 1, 12)),
        ("tgl 17 agt 2026", date(2026, 8, 17)),
        ("17 Agus 2026", date(2026, 8, 17)),
        ("17 Agu. 2026", date(2026, 8, 17)),
        ("3 Sept 2026", date(2026, 9, 3)),
        ("3 Okt 2026", date(2026, 10, 3)),
        ("25 Des 2026", date(2026, 12, 25)),
        ("1 Mei 2026", date(2026, 5, 1)),
        ("1 May 2026", date(2026, 5, 1)),
        ("January 12, 2026", date(2026, 1, 12)),
        ("Oct 3 2026", date(2026, 10, 3)),
        ("2026-01-12", date(2026, 1, 12)),
        ("12 Agustus", date(2026, 8, 12)),  # no year: next occurrence on or after today
        ("10 Maret", TODAY),
        ("9 Maret", date(2027, 3, 9)),
        ("29 Februari", date(2028, 2, 29)),
        ("25/12", date(2026, 12, 25)),
    ],
)
def test_date_id_accepts(raw, expected):
    assert v.date_id(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    "raw",
    ["31/02/2026", "29/02/2027", "31 April 2026", "31 April", "0/1/2026", "12/13/2026", "30 Feb"],
)
def test_date_id_rejects_impossible(raw):
    rejects(v.date_id, raw, v.DATE_IMPOSSIBLE, today=TODAY)


@pytest.mark.parametrize(
    "raw", ["", "kapan-kapan", "12 Foo 2026", "12/01-2026", "12/01/202", "2026", "Januari", "1e6"]
)
def test_date_id_rejects_garbage(raw):
    rejects(v.date_id, raw, v.DATE_INVALID, today=TODAY)


def test_date_id_bounds():
    bounds = {"not_before": TODAY, "not_after": date(2026, 12, 31)}
    assert v.date_id("hari ini", today=TODAY, **bounds) == TODAY
    assert v.date_id("31/12/2026", today=TODAY, **bounds) == date(2026, 12, 31)
    early = rejects(v.date_id, "9/3/2026", v.DATE_PAST, today=TODAY, **bounds)
    assert early.params == {"start": TODAY, "end": date(2026, 12, 31)}  # the whole range
    late = rejects(v.date_id, "1/1/2027", v.DATE_TOO_FAR, today=TODAY, **bounds)
    assert late.params == {"start": TODAY, "end": date(2026, 12, 31)}
    early = rejects(v.date_id, "9/3/2026", v.DATE_TOO_EARLY, today=TODAY, not_before=TODAY)
    assert early.params == {"date": TODAY}
    late = rejects(
        v.date_id, "1/1/2027", v.DATE_TOO_LATE, today=TODAY, not_after=date(2026, 12, 31)
    )
    assert late.params == {"date": date(2026, 12, 31)}


any_day = st.dates(date(2020, 1, 1), date(2035, 12, 31))


@given(any_day, any_day)
def test_date_id_property_numeric_and_indonesian_names_round_trip(day, today):
    forms = [
        f"{day.day:02d}/{day.month:02d}/{day.year}",
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}-{day.month:02d}-{day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
        day.isoformat(),
        f"{day.day} {ID_MONTHS[day.month - 1]} {day.year}",
        f"{day.day} {ID_MONTHS[day.month - 1].upper()} {day.year}",
        f"{day.day} {ID_MONTHS[day.month - 1][:3].lower()} {day.year}",
        f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}",
        f"{EN_MONTHS[day.month - 1]} {day.day}, {day.year}",
    ]
    for raw in forms:
        assert v.date_id(raw, today=today) == day, raw


@given(any_day, any_day)
def test_date_id_property_no_year_is_next_occurrence(day, today):
    expected = today
    while (expected.month, expected.day) != (day.month, day.day):
        expected += timedelta(days=1)
    assert v.date_id(f"{day.day} {ID_MONTHS[day.month - 1]}", today=today) == expected


@given(any_day, any_day, any_day, any_day)
def test_date_id_property_bounds(day, today, low, high):
    raw = f"{day.day:02d}/{day.month:02d}/{day.year}"
    if day < low:
        past = v.DATE_PAST if day < today else v.DATE_OUTSIDE
        err = rejects(v.date_id, raw, past, today=today, not_before=low, not_after=high)
        assert err.params == {"start": low, "end": high}
    elif day > high:
        err = rejects(v.date_id, raw, v.DATE_TOO_FAR, today=today, not_before=low, not_after=high)
        assert err.params == {"start": low, "end": high}
    else:
        assert v.date_id(raw, today=today, not_before=low, not_after=high) == day


@given(st.integers(2020, 2035), st.integers(1, 12), st.integers(29, 31))
def test_date_id_property_impossible_days_rejected(year, month, day):
    try:
        date(year, month, day)
    except ValueError:
        rejects(v.date_id, f"{day}/{month}/{year}", v.DATE_IMPOSSIBLE, today=TODAY)
    else:
        assert v.date_id(f"{day}/{month}/{year}", today=TODAY) == date(year, month, day)


# --- integer, number, years_abroad -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3), (" 3 ", 3), ("3 tahun", 3), ("3 years", 3), ("0", 0), ("10", 10)],
)
def test_integer_accepts(raw, expected):
    assert v.integer(raw, min_value=0, max_value=10) == expected


def test_integer_rejects():
    rejects(v.integer, "2,5", v.NUMBER_NOT_WHOLE, min_value=0, max_value=10)
    rejects(v.integer, "2.5", v.NUMBER_NOT_WHOLE, min_value=0, max_value=10)
    for raw in ("", "tiga", "3x2", "--3", "3 4"):
        rejects(v.integer, raw, v.NUMBER_INVALID, min_value=0, max_value=10)
    for raw in ("11", "-1", "1.000"):
        err = rejects(v.integer, raw, v.NUMBER_RANGE, min_value=0, max_value=10)
        assert err.params == {"min": 0, "max": 10}
    assert v.integer("-3", min_value=-5, max_value=5) == -3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3.0), ("2,5", 2.5), ("2.5", 2.5), ("2,5 tahun", 2.5), ("0,25", 0.25)],
)
def test_number_accepts(raw, expected):
    assert v.number(raw, min_value=0, max_value=10) == expected


def test_number_rejects():
    for raw in ("", "abc", "2,5,5", "2.5.5"):
        rejects(v.number, raw, v.NUMBER_INVALID, min_value=0, max_value=10)
    err = rejects(v.number, "10,5", v.NUMBER_RANGE, min_value=0.5, max_value=10)
    assert err.params == {"min": 0.5, "max": 10}
    rejects(v.number, "0,4", v.NUMBER_RANGE, min_value=0.5, max_value=10)


@given(st.integers(-1000, 1000), st.integers(-1000, 0), st.integers(0, 1000))
def test_integer_property(n, low, high):
    if low <= n <= high:
        assert v.integer(str(n), min_value=low, max_value=high) == n
        assert v.integer(f"{n} tahun", min_value=low, max_value=high) == n
    else:
        rejects(v.integer, str(n), v.NUMBER_RANGE, min_value=low, max_value=high)


@given(st.integers(0, 999), st.integers(0, 99), st.sampled_from([",", "."]))
def test_number_property_decimal_comma_and_point(whole, cents, sep):
    assert v.number(f"{whole}{sep}{cents:02d}", min_value=0, max_value=1000) == float(
        Decimal(f"{whole}.{cents:02d}")
    )


@pytest.mark.parametrize(
    ("raw", "bucket"),
    [
        ("0", "lt1"), ("0,5", "lt1"), ("setengah tahun", "lt1"), ("half a year", "lt1"),
        ("6 bulan", "lt1"), ("6 months", "lt1"), ("11 bulan", "lt1"), ("0.99", "lt1"),
        ("1", "1to3"), ("setahun", "1to3"), ("12 bulan", "1to3"), ("2,99", "1to3"),
        ("2 thn", "1to3"), ("3", "1to3"), ("3 tahun", "1to3"), ("3,5", "3to5"),
        ("4.99", "3to5"), ("5", "3to5"), ("5 years", "3to5"), ("5,5", "5to10"),
        ("9,99", "5to10"), ("10", "5to10"), ("10,5", "gt10"), ("11", "gt10"),
        ("15 tahun", "gt10"), ("60", "gt10"),
    ],
)  # fmt: skip
def test_years_abroad_buckets(raw, bucket):
    assert v.years_abroad(raw) == bucket


def test_years_abroad_rejects():
    for raw in ("", "lama", "3 kg", "tiga tahun"):
        rejects(v.years_abroad, raw, v.YEARS_INVALID)
    for raw in ("61", "60,5", "-1", "1000 bulan"):
        assert rejects(v.years_abroad, raw, v.YEARS_RANGE).params == {"max": 60}


def _bucket(years: Decimal) -> str:
    """The specified buckets, written out independently of the implementation: less than 1;
    1 to 3; more than 3, up to 5; more than 5, up to 10; more than 10 (the step's labels)."""
    if years < 1:
        return "lt1"
    if years <= 3:
        return "1to3"
    if years <= 5:
        return "3to5"
    return "5to10" if years <= 10 else "gt10"


@given(st.integers(0, 6000), st.sampled_from(["", " tahun", " years", " thn"]), st.booleans())
def test_years_abroad_property(hundredths, unit, comma):
    years = Decimal(hundredths) / 100
    raw = f"{years:.2f}" + unit
    assert v.years_abroad(raw.replace(".", ",") if comma else raw) == _bucket(years)


@given(st.integers(0, 720), st.sampled_from([" bulan", " bln", " months", "bulan"]))
def test_years_abroad_property_months(months, unit):
    assert v.years_abroad(f"{months}{unit}") == _bucket(Decimal(months) / 12)


# --------------------------------------------------------------------------- time of day


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("14.30", "14:30"),
        ("14:30", "14:30"),
        ("09.00", "09:00"),
        ("jam 9", "09:00"),
        ("pukul 08.00 WIB", "08:00"),
        ("2 siang", "14:00"),
        ("11 siang", "11:00"),
        ("12 siang", "12:00"),
        ("4 sore", "16:00"),
        ("7 malam", "19:00"),
        ("9 pagi", "09:00"),
        ("7 pm", "19:00"),
        ("12 am", "00:00"),
        ("  Jam  10.15  ", "10:15"),
    ],
)
def test_time_of_day_accepts(raw, expected):
    assert v.time_of_day(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "25:00", "12:60", "13 pm", "0 pagi", "9.5", "besok"])
def test_time_of_day_rejects(raw):
    with pytest.raises(Invalid) as caught:
        v.time_of_day(raw)
    assert caught.value.msgid == v.TIME_INVALID


@given(st.integers(0, 23), st.integers(0, 59), st.sampled_from([".", ":"]), st.booleans())
def test_time_of_day_property_24_hour_clock_round_trips(hour, minute, sep, pad):
    raw = f"{hour:02d}{sep}{minute:02d}" if pad else f"{hour}{sep}{minute:02d}"
    assert v.time_of_day(raw) == f"{hour:02d}:{minute:02d}"


@given(st.integers(1, 11), st.sampled_from(["pm", "malam", "sore"]))
def test_time_of_day_property_afternoon_words_add_twelve(hour, word):
    assert v.time_of_day(f"{hour} {word}") == f"{hour + 12:02d}:00"


# --- junk that shows nothing, countries, dates with a range ---------------------------------

INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u061c", "\u180e",
    "\u00ad", "\u034f", "\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\u2061", "\u00a0",
    "\u2003", "\u3000", "\u202f", "\u205f", "\u0301", "\U000e0041", "\u2028",
]  # fmt: skip


@given(st.lists(st.sampled_from(INVISIBLE + [" ", "\n"]), min_size=1, max_size=30))
def test_text_that_shows_nothing_is_empty(chars):
    raw = "".join(chars)
    for check in (lambda r: v.text(r), lambda r: v.text(r, min_len=10), v.person_name, v.country):
        rejects(check, raw, v.TEXT_EMPTY)


@given(st.text(st.characters(categories=["Cf", "Zs", "Mn", "Me"]), min_size=1, max_size=20))
def test_format_spaces_and_lone_marks_only_are_empty(raw):
    with pytest.raises(Invalid) as caught:
        v.text(raw)
    assert caught.value.msgid in (v.TEXT_EMPTY, v.TEXT_CONTROL)  # bidi embeddings: refused


def test_invisible_characters_do_not_count_towards_the_minimum():
    rejects(v.text, "ab" + "\u200d" * 20, v.TEXT_TOO_SHORT, min_len=10)
    rejects(v.person_name, "S\u3164", v.TEXT_TOO_SHORT)
    rejects(v.person_name, "Siti\u3164Aminah", v.NAME_INVALID)
    assert v.person_name("Siti\u200e Aminah\u200f") == "Siti Aminah"


@pytest.mark.parametrize("raw", ["123", "T4iwan", "62", "https://x.com", "Taiwan 2019", "!!"])
def test_country_refuses_digits_and_links(raw):
    rejects(v.country, raw, v.COUNTRY_INVALID)


@pytest.mark.parametrize("raw", ["Taiwan", "Arab Saudi", "Côte d'Ivoire", "Hong Kong (SAR)"])
def test_country_takes_names(raw):
    assert v.country(raw) == raw


def test_future_date_is_within_its_months_and_says_the_range():
    today = date(2026, 11, 25)
    assert v.future_date("25/05/2027", today=today, months=6) == date(2027, 5, 25)
    err = rejects(v.future_date, "26/05/2027", v.DATE_TOO_FAR, today=today, months=6)
    assert err.params == {"start": today, "end": date(2027, 5, 25)}
    err = rejects(v.future_date, "31/12/9999", v.DATE_TOO_FAR, today=today, months=12)
    assert err.params == {"start": today, "end": date(2027, 11, 25)}
    err = rejects(v.future_date, "kemarin", v.DATE_PAST, today=today, months=24)
    assert err.params == {"start": today, "end": date(2028, 11, 25)}
    rejects(v.future_date, "1/1/0001", v.DATE_PAST, today=today, months=6)


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.integers(0, 36))
def test_add_months_keeps_the_day_or_takes_the_months_last(day, months):
    later = v.add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == day.day or (later.day < day.day and (later + timedelta(days=1)).day == 1)
