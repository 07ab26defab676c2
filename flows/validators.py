"""Pure validators: a raw reply in, a normalised value out, or ``Invalid``."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import phonenumbers

from flows.errors import Invalid
from flows.i18n import N_

TEXT_EMPTY = N_("Please type your answer; it cannot be empty.")
TEXT_TOO_SHORT = N_("Please type at least {min} characters.")
TEXT_TOO_LONG = N_("Please keep it to {max} characters or fewer.")
TEXT_CONTROL = N_("That text has characters that cannot be used. Please type it again.")
NAME_INVALID = N_("Please type your name in letters, like Siti Aminah or Muh. Rizal.")
NAME_LINK = N_("Please type your name, not a link or a username.")
COUNTRY_INVALID = N_("Please type the country's name in letters, like Taiwan or Arab Saudi.")
PHONE_INVALID = N_(
    "That does not look like a phone number. "
    "Please type it like 0812 3456 7890 or +62 812 3456 7890."
)
PHONE_NOT_INDONESIAN = N_(
    "Please give an Indonesian phone number, starting with 08 or +62, "
    "so we can reach you now that you are home."
)
NIK_LENGTH = N_("A NIK has exactly 16 digits. Please type the number on your KTP.")
NIK_IMPLAUSIBLE = N_("That NIK does not look right. Please check it against your KTP.")
MONEY_INVALID = N_("Please type the amount in rupiah, like 15000000, 15.000.000 or 15 juta.")
MONEY_NOT_POSITIVE = N_("Please type an amount greater than zero.")
MONEY_TOO_LARGE = N_("That amount is too large. Please type at most Rp{billions} billion.")
DATE_INVALID = N_("Please type a date like 17/08/2026, 17 Agustus 2026 or besok.")
DATE_IMPOSSIBLE = N_("That date does not exist. Please check the day and the month.")
DATE_TOO_EARLY = N_("Please choose a date on or after {date}.")
DATE_TOO_LATE = N_("Please choose a date on or before {date}.")
DATE_PAST = N_("That day has passed. Please choose a day from {start} to {end}.")
DATE_TOO_FAR = N_("That is too far ahead. Please choose a day from {start} to {end}.")
DATE_OUTSIDE = N_("Please choose a day from {start} to {end}.")
NUMBER_INVALID = N_("Please type a number, like 3.")
NUMBER_NOT_WHOLE = N_("Please type a whole number, like 3.")
NUMBER_RANGE = N_("Please type a number from {min} to {max}.")
TIME_INVALID = N_("Please type a time like 09.00, 14:30 or 2 siang.")
YEARS_INVALID = N_("Please type how many years you worked abroad, like 3 or 3 tahun.")
YEARS_RANGE = N_("Please type a number of years from 0 to {max}.")
MONTHS_INVALID = N_(
    "Please type a whole number of months, like 18 or 18 bulan, or years, like 2 tahun."
)
MONTHS_RANGE = N_("Please choose from {min} to {max} months.")

MONEY_MAX = 100_000_000_000  # 100 miliar
YEARS_MAX = 60

_ALLOWED_CONTROLS = frozenset("\t\n\r\v\f")
# Removed wherever they are: zero-width space, word joiner, BOM, soft hyphen, direction marks
# (LRM, RLM, ALM) and the Mongolian vowel separator show nothing and carry nothing in a name,
# a purpose or a title. Zero-width (non-)joiners stay inside text (emoji, Indic and Persian
# scripts need them) but never count as something typed.
_DROPPED = frozenset("\u200b\u2060\ufeff\u00ad\u200e\u200f\u061c\u180e")
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u200c\u200d\u2061\u2062\u2063\u2064"
    "\u2800\u3164\uffa0\U0001d159\U0001d173\U0001d174\U0001d175\U0001d176\U0001d177"
    "\U0001d178\U0001d179\U0001d17a"
)  # joiners, invisible operators, Hangul and braille fillers, musical format characters
_UNSEEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
_COUNTRY_PUNCT = frozenset(" .,-'()\u2019")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAME_PUNCT = frozenset(" .,-'\u2019\u02bc")
_LINKISH = re.compile(r"https?:|www\.|@|\.(?:com|net|org|id|co|io|me|info|biz|xyz|ly)\b", re.I)
_PHONE_CHARS = re.compile(r"\+?[0-9\s\-().\/]+")
_PROVINCES = frozenset(
    [*range(11, 20), 21, *range(31, 37), *range(51, 54), *range(61, 66), *range(71, 77)]
    + [81, 82, *range(91, 97)]
)
_NUMBER = r"[0-9][0-9.,]*"
_MONEY = re.compile(
    rf"(?P<neg>-)?\s*(?:rp\.?|idr)?\s*(?P<neg2>-)?\s*(?P<num>{_NUMBER})(?:,-)?"
    r"\s*(?P<unit>[a-z]+)?\.?(?:\s*rupiah)?"
)
_MONEY_UNITS = {
    "rp": 1, "idr": 1, "rupiah": 1,
    "k": 10**3, "rb": 10**3, "ribu": 10**3, "rebu": 10**3, "thousand": 10**3,
    "jt": 10**6, "juta": 10**6, "million": 10**6,
    "m": 10**9, "miliar": 10**9, "milyar": 10**9, "billion": 10**9,
    "t": 10**12, "triliun": 10**12, "trilyun": 10**12, "trillion": 10**12,
}  # fmt: skip
_WORDS = r"[^\W\d_]+(?:\s+[^\W\d_]+)*"
_QUANTITY = re.compile(rf"(?P<neg>-)?\s*(?P<num>{_NUMBER})\s*(?P<unit>{_WORDS})?\.?")
_YEAR_UNITS = frozenset({"tahun", "thn", "th", "taun", "year", "years", "yr", "yrs"})
_MONTH_UNITS = frozenset({"bulan", "bln", "bl", "month", "months", "mo", "mos"})
_RELATIVE_DAYS = {
    "hari ini": 0, "today": 0, "sekarang": 0, "besok": 1, "tomorrow": 1,
    "lusa": 2, "day after tomorrow": 2, "kemarin": -1, "yesterday": -1,
}  # fmt: skip
_MONTH_NAMES = (
    ("januari", "january", "jan"),
    ("februari", "pebruari", "february", "feb", "peb"),
    ("maret", "march", "mar"),
    ("april", "apr"),
    ("mei", "may"),
    ("juni", "june", "jun"),
    ("juli", "july", "jul"),
    ("agustus", "august", "agu", "agt", "agus", "ags", "aug"),
    ("september", "sep", "sept"),
    ("oktober", "october", "okt", "oct"),
    ("november", "nopember", "nov", "nop"),
    ("desember", "december", "des", "dec"),
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
_SEP = r"[-/.]"
_YMD = re.compile(rf"(?P<y>\d{{4}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})")
_DMY = re.compile(
    rf"(?P<d>\d{{1,2}})(?P<s>{_SEP})(?P<m>\d{{1,2}})(?:(?P=s)(?P<y>\d{{4}}|\d{{2}}))?"
)
_D_MONTH_Y = re.compile(
    r"(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s/.-]*(?P<name>[a-z]+)\.?(?:[\s/.-]*(?P<y>\d{4}|\d{2}))?"
)
_MONTH_D_Y = re.compile(r"(?P<name>[a-z]+)\.?\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:\s+(?P<y>\d{4}))?")


def text(raw: str, *, min_len: int = 1, max_len: int = 200) -> str:
    """Strip, collapse whitespace to single spaces, reject control characters, check length.
    Text that shows nothing (zero-width and format characters, fillers) counts as empty, and
    only what shows counts towards `min_len`."""
    raw = unicodedata.normalize("NFC", "".join(ch for ch in raw if ch not in _DROPPED))
    for ch in raw:
        if ch in _BIDI_CONTROLS or (
            unicodedata.category(ch) in ("Cc", "Cs") and ch not in _ALLOWED_CONTROLS
        ):
            raise Invalid(TEXT_CONTROL)
    value = " ".join(raw.split())
    shown = sum(1 for ch in value if shows(ch))
    if not shown:
        raise Invalid(TEXT_EMPTY)
    if shown + value.count(" ") < min_len:
        raise Invalid(TEXT_TOO_SHORT, min=min_len)
    if len(value) > max_len:
        raise Invalid(TEXT_TOO_LONG, max=max_len)
    return value


def shows(ch: str) -> bool:
    """True for a character that draws something: not a space, a format or control character,
    a lone combining mark, or a filler some fonts draw blank."""
    return ch not in _INVISIBLE and unicodedata.category(ch) not in _UNSEEN


def visible(value: str) -> bool:
    """True when the text shows at least one character (not only spaces and zero-widths)."""
    return any(shows(ch) for ch in value)


def person_name(raw: str) -> str:
    """A name in any script; ALL CAPS or all lower case comes back in title case."""
    value = text(raw, min_len=2, max_len=100)
    if _LINKISH.search(value):
        raise Invalid(NAME_LINK)
    allowed = all(
        (ch.isalpha() and ch not in _INVISIBLE) or ch in _NAME_PUNCT or _is_mark(ch) for ch in value
    )
    if not allowed or sum(ch.isalpha() and ch not in _INVISIBLE for ch in value) < 2:
        raise Invalid(NAME_INVALID)
    return _title(value) if value.islower() or value.isupper() else value


def country(raw: str) -> str:
    """A country's name in letters ("Taiwan", "Arab Saudi", "Côte d'Ivoire"), never digits."""
    value = text(raw, min_len=2, max_len=60)
    if _LINKISH.search(value):
        raise Invalid(COUNTRY_INVALID)
    letters = sum(ch.isalpha() and ch not in _INVISIBLE for ch in value)
    allowed = all(
        (ch.isalpha() and ch not in _INVISIBLE) or ch in _COUNTRY_PUNCT or _is_mark(ch)
        for ch in value
    )
    if not allowed or letters < 2:
        raise Invalid(COUNTRY_INVALID)
    return value


def _is_mark(ch: str) -> bool:
    """True for combining marks (vowel signs in Devanagari, Thai, Javanese script, ...)."""
    return unicodedata.category(ch).startswith("M")


def _title(value: str) -> str:
    """Upper-case the first letter of each word (after space, dot, comma or hyphen)."""
    out, start = [], True
    for ch in value:
        if ch.isalpha():
            out.append(ch.upper() if start else ch.lower())
            start = False
        else:
            out.append(ch)
            start = start or ch in " .,-"
    return "".join(out)


def phone(raw: str) -> str:
    """An Indonesian phone number in E.164, e.g. "+6281234567890"."""
    value = raw.strip()
    if not _PHONE_CHARS.fullmatch(value):
        raise Invalid(PHONE_INVALID)
    if value.startswith("00"):
        value = "+" + value[2:]
    elif value.startswith("62"):  # "62812..." is +62 812..., not a landline 0628...
        value = "+" + value
    try:
        number = phonenumbers.parse(value, "ID")
    except phonenumbers.NumberParseException:
        raise Invalid(PHONE_INVALID) from None
    if number.country_code != 62:
        raise Invalid(PHONE_NOT_INDONESIAN)
    if not phonenumbers.is_valid_number(number):
        raise Invalid(PHONE_INVALID)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """Mask a stored number as "+62 812-****-7890"."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", e164)
        return "*" * max(len(digits) - 4, 0) + digits[-4:]
    nsn = phonenumbers.national_significant_number(number)
    if len(nsn) < 8:
        return f"+{number.country_code} {'*' * (len(nsn) - 2)}{nsn[-2:]}"
    return f"+{number.country_code} {nsn[:3]}-{'*' * (len(nsn) - 7)}-{nsn[-4:]}"


def nik(raw: str) -> str:
    """A 16-digit NIK with a real province code, birth date (day +40 for women) and serial."""
    digits = re.sub(r"[\s.\-]", "", raw)
    if not re.fullmatch(r"[0-9]{16}", digits):
        raise Invalid(NIK_LENGTH)
    day, month, year = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    day = day - 40 if day > 40 else day
    if (
        int(digits[:2]) not in _PROVINCES
        or digits[12:] == "0000"
        or not any(_date_or_none(century + year, month, day) for century in (1900, 2000))
    ):
        raise Invalid(NIK_IMPLAUSIBLE)
    return digits


def mask_nik(value: str) -> str:
    """Show only the first and last four digits: "3578********0001"."""
    return value[:4] + "*" * max(len(value) - 8, 0) + value[-4:]


def _decimal(value: str) -> Decimal:
    """Read "15.000.000", "15,000,000", "1,5", "2.5" or "1.500,50" (a lone separator
    before exactly three digits groups thousands; otherwise it is the decimal point)."""
    seps = re.findall(r"[.,]", value)
    if not seps:
        return Decimal(value)
    last = seps[-1]
    head, _, tail = value.rpartition(last)
    if len(set(seps)) == 2 or (len(seps) == 1 and len(tail) != 3):
        if seps.count(last) > 1 or not tail.isdigit():
            raise ValueError(value)
        return Decimal(_ungroup(head) + "." + tail)
    return Decimal(_ungroup(value))


def _ungroup(value: str) -> str:
    """Remove thousands separators, insisting on groups of three digits."""
    groups = re.split(r"[.,]", value)
    if not groups[0] or (len(groups[0]) > 3 and len(groups) > 1):
        raise ValueError(value)
    if len(set(re.findall(r"[.,]", value))) > 1 or any(len(g) != 3 for g in groups[1:]):
        raise ValueError(value)
    return "".join(groups)


def money(raw: str) -> int:
    """Whole rupiah from "15.000.000", "Rp 15jt", "1,5 juta", "500rb", "2 miliar" and the like."""
    match = _MONEY.fullmatch(" ".join(raw.strip().lower().replace("\u2212", "-").split()))
    if not match or (match["unit"] or "") not in {"", *_MONEY_UNITS}:
        raise Invalid(MONEY_INVALID)
    try:
        amount = _decimal(match["num"]) * _MONEY_UNITS.get(match["unit"] or "", 1)
    except ValueError:
        raise Invalid(MONEY_INVALID) from None
    if match["neg"] or match["neg2"]:
        raise Invalid(MONEY_NOT_POSITIVE)
    if amount > MONEY_MAX:
        raise Invalid(MONEY_TOO_LARGE, billions=MONEY_MAX // 10**9)
    rupiah = int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if rupiah <= 0:
        raise Invalid(MONEY_NOT_POSITIVE)
    return rupiah


def date_id(
    raw: str, *, today: date, not_before: date | None = None, not_after: date | None = None
) -> date:
    """A date typed in Indonesian or English, e.g. "besok", "17/8/2026", "17 Agustus"."""
    value = " ".join(raw.strip().lower().replace(",", " ").split())
    value = re.sub(r"^(?:tanggal|tgl\.?)\s*", "", value)
    result = _parse_date(value, today)
    if not_before is not None and not_after is not None:
        if result < not_before:
            raise Invalid(
                DATE_PAST if result < today else DATE_OUTSIDE, start=not_before, end=not_after
            )
        if result > not_after:
            raise Invalid(DATE_TOO_FAR, start=not_before, end=not_after)
    if not_before is not None and result < not_before:
        raise Invalid(DATE_TOO_EARLY, date=not_before)
    if not_after is not None and result > not_after:
        raise Invalid(DATE_TOO_LATE, date=not_after)
    return result


def future_date(raw: str, *, today: date, months: int) -> date:
    """A day from today up to `months` ahead (a visit, a meeting): never past, never years off."""
    return date_id(raw, today=today, not_before=today, not_after=add_months(today, months))


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it is shorter: 31/8 + 6 = 28/2)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        found = _date_or_none(year, month + 1, min(day.day, last))
        if found is not None:
            return found
    raise ValueError(day)  # unreachable: every month has a 28th


def _parse_date(value: str, today: date) -> date:
    """Turn normalised text into a date; no year means the next such day from today."""
    if value in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[value])
    for pattern in (_YMD, _DMY, _D_MONTH_Y, _MONTH_D_Y):
        match = pattern.fullmatch(value)
        if match:
            break
    else:
        raise Invalid(DATE_INVALID)
    groups = match.groupdict()
    month = _MONTHS.get(groups["name"]) if "name" in groups else int(groups["m"])
    if month is None:
        raise Invalid(DATE_INVALID)
    day, year = int(match["d"]), match["y"]
    if year is None:
        for candidate_year in range(today.year, today.year + 9):
            candidate = _date_or_none(candidate_year, month, day)
            if candidate is not None and candidate >= today:
                return candidate
        raise Invalid(DATE_IMPOSSIBLE)
    full_year = int(year)
    if len(year) == 2:  # "5/3/85" is 1985, "1/2/27" is 2027: at most ten years ahead
        full_year += 2000 if 2000 + full_year <= today.year + 10 else 1900
    result = _date_or_none(full_year, month, day)
    if result is None:
        raise Invalid(DATE_IMPOSSIBLE)
    return result


def _date_or_none(year: int, month: int, day: int) -> date | None:
    """``date(year, month, day)``, or None if no such day exists."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _quantity(raw: str) -> tuple[Decimal, str]:
    """Split "2,5 tahun" into (Decimal("2.5"), "tahun"); the unit may be empty."""
    match = _QUANTITY.fullmatch(" ".join(raw.strip().lower().replace("\u2212", "-").split()))
    if not match:
        raise ValueError(raw)
    amount = _decimal(match["num"])
    return (-amount if match["neg"] else amount), match["unit"] or ""


def number(raw: str, *, min_value: float, max_value: float) -> float:
    """A number such as "2,5", "2.5" or "3 tahun", within [min_value, max_value]."""
    try:
        amount, _ = _quantity(raw)
    except ValueError:
        raise Invalid(NUMBER_INVALID) from None
    if not min_value <= amount <= max_value:
        raise Invalid(NUMBER_RANGE, min=min_value, max=max_value)
    return float(amount)


def integer(raw: str, *, min_value: int, max_value: int) -> int:
    """A whole number such as "3", "3 tahun" or "3 years", within [min_value, max_value]."""
    try:
        amount, _ = _quantity(raw)
    except ValueError:
        raise Invalid(NUMBER_INVALID) from None
    if amount != amount.to_integral_value():
        raise Invalid(NUMBER_NOT_WHOLE)
    if not min_value <= amount <= max_value:
        raise Invalid(NUMBER_RANGE, min=min_value, max=max_value)
    return int(amount)


def months(raw: str, *, min_value: int, max_value: int) -> int:
    """A whole number of months from "18", "18 bulan", "2 tahun" or "1,5 years"."""
    try:
        amount, unit = _quantity(raw)
    except ValueError:
        raise Invalid(MONTHS_INVALID) from None
    if unit in _YEAR_UNITS:
        amount *= 12
    elif unit and unit not in _MONTH_UNITS:
        raise Invalid(MONTHS_INVALID)
    if amount != amount.to_integral_value():
        raise Invalid(MONTHS_INVALID)
    if not min_value <= amount <= max_value:
        raise Invalid(MONTHS_RANGE, min=min_value, max=max_value)
    return int(amount)


# Years abroad as buckets that never overlap: (code, upper bound, included). Less than 1 year;
# 1 to 3 years; more than 3, up to 5; more than 5, up to 10; more than 10. The labels of the
# onboarding step (flows/onboarding.py YEARS) say the same.
YEAR_BUCKETS = (("lt1", 1, False), ("1to3", 3, True), ("3to5", 5, True), ("5to10", 10, True))
YEARS_OVER = "gt10"


def years_abroad(raw: str) -> str:
    """Bucket a typed time abroad ("3", "2,5 tahun", "6 bulan") into lt1/1to3/3to5/5to10/gt10."""
    value = " ".join(raw.strip().lower().split())
    value = re.sub(r"\b(?:setengah|half(?: an?)?)\b", "0,5", value)
    value = re.sub(r"^se(tahun|bulan)$", r"1 \1", value)
    try:
        amount, unit = _quantity(value)
    except ValueError:
        raise Invalid(YEARS_INVALID) from None
    if unit in _MONTH_UNITS:
        amount /= 12
    elif unit and unit not in _YEAR_UNITS:
        raise Invalid(YEARS_INVALID)
    if not 0 <= amount <= YEARS_MAX:
        raise Invalid(YEARS_RANGE, max=YEARS_MAX)
    for bucket, upper, included in YEAR_BUCKETS:
        if amount < upper or (included and amount == upper):
            return bucket
    return YEARS_OVER


_TIME = re.compile(
    r"(?:jam|pukul|pkl\.?)?\s*(?P<h>\d{1,2})(?:[.:](?P<m>\d{2}))?\s*"
    r"(?P<part>pagi|siang|sore|malam|am|pm|a\.m\.|p\.m\.)?\s*(?:wib|wita|wit)?"
)


def time_of_day(raw: str) -> str:
    """A clock time as "HH:MM" from "14.30", "14:30", "jam 9", "2 siang" or "7 pm"."""
    match = _TIME.fullmatch(" ".join(raw.strip().lower().split()))
    if not match:
        raise Invalid(TIME_INVALID)
    hour, minute = int(match["h"]), int(match["m"] or 0)
    part = (match["part"] or "").replace(".", "")
    if part and not 1 <= hour <= 12:
        raise Invalid(TIME_INVALID)
    if part in ("pm", "siang", "sore", "malam") and hour < 12:
        if not (part == "siang" and hour >= 10):  # "11 siang" is 11:00, "1 siang" is 13:00
            hour += 12
    elif part in ("am", "pagi") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise Invalid(TIME_INVALID)
    return f"{hour:02d}:{minute:02d}"
