"""Translating and formatting for the person's locale (gettext via aiogram, numbers via Babel)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, gettext
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal

from flows import snapshots
from flows.engine import Option
from flows.validators import mask_nik

BABEL_LOCALES = {"id": "id_ID", "en": "en_US"}
# What Indonesians call their zones, in either language (Babel has no English names for them).
ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def t(msgid: str, **params: Any) -> str:
    """Translate a msgid marked elsewhere (e.g. with N_ in flows/) and fill its placeholders."""
    text = gettext(msgid)
    return text.format(**params) if params else text


def t_for(locale: str | None, msgid: str, **params: Any) -> str:
    """Translate for someone else (a message to another person goes in *their* language)."""
    i18n = I18n.get_current()
    with i18n.use_locale(locale if locale in i18n.available_locales else i18n.default_locale):
        return t(msgid, **params)


def label(option: Option) -> str:
    return option.label if option.literal else gettext(option.label)


def current_locale() -> str:
    return I18n.get_current().current_locale


def rupiah(amount: int | float, locale: str | None = None) -> str:
    """An exact amount, whole rupiah: Rp15.000.000 in Indonesian, Rp15,000,000 in English
    (locales/glossary.toml: one money format, "Rp" joined to the number)."""
    loc = BABEL_LOCALES.get(locale or current_locale(), "id_ID")
    return "Rp" + format_decimal(round(amount), format="#,##0", locale=loc)


# Round amounts in running text: "Rp25 juta", "Rp1,5 miliar" (English: million, billion).
_WORDS = {"id": ("juta", "miliar"), "en": ("million", "billion")}


def rupiah_text(amount: int | float, locale: str | None = None) -> str:
    """An amount in running text, "Rp25 juta" / "Rp25 million", when it is a round number of
    millions or billions (at most one decimal); any other amount exactly, as `rupiah`."""
    lang = locale or current_locale()
    million, billion = _WORDS.get(lang, _WORDS["id"])
    loc = BABEL_LOCALES.get(lang, "id_ID")
    for unit, word in ((10**9, billion), (10**6, million)):
        if amount >= unit and (amount * 10) % unit == 0:
            return f"Rp{format_decimal(amount / unit, format='#,##0.#', locale=loc)} {word}"
    return rupiah(amount, lang)


def number(value: int | float, locale: str | None = None) -> str:
    return format_decimal(value, locale=BABEL_LOCALES.get(locale or current_locale(), "id_ID"))


def day(value: date, locale: str | None = None) -> str:
    return format_date(value, "long", locale=BABEL_LOCALES.get(locale or current_locale(), "id_ID"))


def moment(value: datetime, tz: str, locale: str | None = None) -> str:
    """A date and time in the person's own zone, e.g. "17 Agustus 2026, 10.00 WIB"."""
    loc = BABEL_LOCALES.get(locale or current_locale(), "id_ID")
    zone = ZoneInfo(tz)
    when = format_date(value.astimezone(zone), "long", locale=loc)
    clock = format_time(value, "short", tzinfo=zone, locale=loc)
    label = ZONE_LABELS.get(tz) or format_datetime(value, "zzz", tzinfo=zone, locale=loc)
    return f"{when}, {clock} {label}"


def short_moment(value: datetime, tz: str, locale: str | None = None) -> str:
    """A date and time in a zone named elsewhere (a column's header): "24 Nov 2026 09.00"."""
    loc = BABEL_LOCALES.get(locale or current_locale(), "id_ID")
    zone = ZoneInfo(tz)
    when = format_date(value.astimezone(zone), "medium", locale=loc)
    return f"{when} {format_time(value, 'short', tzinfo=zone, locale=loc)}"


def shown(
    value: snapshots.Shown,
    *,
    tz: str,
    locale: str | None = None,
    tr: Callable[[str], str] = t,
    reveal: bool = False,
    moments: Callable[[datetime, str, str | None], str] = moment,
) -> str:
    """A snapshot's value (flows/snapshots.py) as a person reads it in `locale`: an option's
    label, a date and time in `tz`, rupiah, the legal steps done; a NIK masked unless revealed.
    `tr` translates (an export in a worker thread passes its own)."""
    kind, raw = value.type, value.value
    if kind == snapshots.CHOICE:
        return raw.label if raw.literal else tr(raw.label)
    if kind == snapshots.MOMENT:
        return moments(raw, tz, locale)
    if kind == snapshots.DATE:
        return day(raw, locale)
    if kind == snapshots.MONEY:
        return rupiah(raw, locale)
    if kind == snapshots.COUNT:
        return number(raw, locale)
    if kind == snapshots.NIK:
        return raw if reveal else mask_nik(raw)
    if kind == snapshots.STEPS:
        return "; ".join(tr(msgid) for msgid in raw)
    return str(raw)


MESSAGE_LIMIT = 4096  # Telegram's limit for a message's text, in UTF-16 code units
# What a person reads on a phone at once (issue 15): a longer text the bot builds is split.
READING_LIMIT = 600


def utf16_len(text: str) -> int:
    """A text's length as Telegram counts it against its limits: UTF-16 code units (an emoji
    outside the Basic Multilingual Plane is two)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def messages(parts: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Paragraphs joined into as few messages as fit Telegram's limit (a longer message is
    refused whole); a paragraph too long alone is cut between its lines (each line is whole
    HTML), a line too long is cut as plain text. Counted on the HTML source, which is never
    shorter than what Telegram counts."""
    found: list[str] = []
    current = ""
    for part in parts:
        for piece in [part] if utf16_len(part) <= limit else _cut(part, limit):
            joined = current + "\n\n" + piece if current else piece
            if utf16_len(joined) <= limit:
                current = joined
            else:
                found.append(current)
                current = piece
    if current:
        found.append(current)
    return found


def _cut(part: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for line in part.split("\n"):
        if utf16_len(line) > limit:
            pieces += [current] if current else []
            chunks = _plain_chunks(line, limit // 4)
            pieces += chunks[:-1]
            current, line = "", chunks[-1]
        joined = current + "\n" + line if current else line
        if utf16_len(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = line
    if current:
        pieces.append(current)
    return pieces


def _plain_chunks(line: str, size: int) -> list[str]:
    """A line too long for a message, without its tags, in escaped chunks."""
    plain = html.unescape(re.sub(r"<[^>]*>", "", line))
    return [html.escape(plain[i : i + size]) for i in range(0, len(plain), size)]


READ_LIMIT = 600  # characters a person reads in one message on a phone (issue 15)


def visible(text: str) -> str:
    """What a person sees of an HTML message: tags dropped, entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def pack(parts: list[str], limit: int = READ_LIMIT, sep: str = "\n\n") -> list[str]:
    """Paragraphs joined into as few messages as fit `limit` visible characters each; a
    paragraph is never cut (one longer than the limit goes alone)."""
    messages: list[str] = []
    for part in parts:
        if messages and len(visible(messages[-1] + sep + part)) <= limit:
            messages[-1] += sep + part
        else:
            messages.append(part)
    return messages
