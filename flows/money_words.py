"""An amount of money found in free text: "25 jt", "Rp 25.000.000", "dua puluh lima juta",
"setengah juta", "1,5 juta", "sejuta", "two million".

Pure: text in, whole rupiah (or None) out. A bare small number ("3 anak", "umur 40") is not
money: an amount needs a scale word (ribu, juta, miliar...), "Rp"/"rupiah", or thousands
written with dots (25.000.000). Digits go through `validators.money`, the same parser a typed
answer to an amount question uses, so both read "1,5 juta" alike.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flows import validators
from flows.errors import Invalid

_SCALE_WORD = r"(?:jt|juta|jeti|rb|ribu|rebu|k|m|miliar|milyar|million|thousand|billion)"
_DIGITS = re.compile(
    rf"(?<![\w.,])(?P<rp>rp\.?\s*|idr\s*)?(?P<num>\d+(?:[.,]\d+)*)(?:,-)?"
    rf"(?:\s*(?P<unit>{_SCALE_WORD})\b\.?)?(?P<rupiah>\s*rupiah)?"
)
_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_UNIT_ALIASES = {"jeti": "jt", "m": "miliar"}  # "1,5 M" said of money is a miliar, not a million

_ONES = {
    "nol": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
    "delapan": 8, "sembilan": 9, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "siji": 1, "loro": 2, "telu": 3, "papat": 4, "limo": 5,
}  # fmt: skip
_WHOLE = {
    "sepuluh": 10, "sebelas": 11, "seratus": 100, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "selawe": 25, "seket": 50,
}  # fmt: skip
_SCALES = {
    "ribu": 10**3, "rebu": 10**3, "thousand": 10**3, "juta": 10**6, "jt": 10**6,
    "million": 10**6, "miliar": 10**9, "milyar": 10**9, "billion": 10**9,
}  # fmt: skip
_ONE_SCALE = {"seribu": 10**3, "sejuta": 10**6, "semiliar": 10**9, "semilyar": 10**9}
_HALF = frozenset({"setengah", "stengah", "half"})


def _digits_amount(text: str) -> int | None:
    for m in _DIGITS.finditer(text):
        unit, num = m["unit"], m["num"]
        if not (unit or m["rp"] or m["rupiah"] or _GROUPED.fullmatch(num)):
            continue
        unit = _UNIT_ALIASES.get(unit or "", unit or "")
        try:
            return validators.money(f"{num} {unit}".strip())
        except Invalid:
            continue
    return None


def _words_amount(tokens: list[str]) -> int | None:
    """The first run of number words that ends in a scale word (or is followed by "rupiah")."""
    total = group = Decimal(0)
    pending: Decimal | None = None
    started = scaled = False
    for token in [*tokens, ""]:
        if token in _ONES:
            if pending is not None:  # "dua tiga": two numbers, not one
                break
            pending, started = Decimal(_ONES[token]), True
        elif token in _WHOLE:
            group += (pending or 0) + _WHOLE[token]
            pending, started = None, True
        elif token == "belas" and pending is not None:
            group, pending = group + pending + 10, None
        elif token in ("puluh", "ratus", "hundred") and pending is not None:
            group += pending * (10 if token == "puluh" else 100)
            pending = None
        elif token in _HALF:
            group += (pending or 0) + Decimal("0.5")
            pending, started = None, True
        elif token in _SCALES and started:
            total += (group + (pending or 0) or 1) * _SCALES[token]
            group, pending, scaled = Decimal(0), None, True
        elif token in _ONE_SCALE:
            total += (group + (pending or 0) or 1) * _ONE_SCALE[token]
            group, pending, started, scaled = Decimal(0), None, True, True
        elif token == "rupiah" and started:
            total += group + (pending or 0)
            return int(total) if total > 0 else None
        elif started:
            if scaled:
                break
            total = group = Decimal(0)  # number words without a scale: not money; look on
            pending, started = None, False
    if not scaled:
        return None
    total += group + (pending or 0)
    amount = int(total)
    return amount if 0 < amount <= validators.MONEY_MAX else None


def find_amount(text: str) -> int | None:
    """The first amount of money in `text`, in whole rupiah; None when there is none."""
    lowered = " ".join(text.lower().split())
    found = _digits_amount(lowered)
    if found is not None:
        return found
    return _words_amount(re.findall(r"[a-z]+", lowered))
