"""Indonesian provinces and regencies/cities: lookup, search and time zones.

The data lives in ``flows/content/regions.csv``: 38 provinces and 514 regencies and
cities (416 kabupaten, 98 kota), coded as in the Kemendagri kode wilayah ("35" Jawa
Timur, "35.78" Kota Surabaya), after Kepmendagri No. 300.2.2-2138 Tahun 2025, as of
2025. The 2022 Papua provinces are 93 Papua Selatan, 94 Papua Tengah, 95 Papua
Pegunungan and 96 Papua Barat Daya; 91 is Papua and 92 Papua Barat. Names are given
as "Kabupaten X" / "Kota X"; DKI Jakarta's administrative cities and regency are
listed as "Kota Jakarta Pusat" etc. and "Kabupaten Kepulauan Seribu".
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

PROVINCE, REGENCY, CITY = "province", "regency", "city"
_KIND_ORDER = {PROVINCE: 0, REGENCY: 1, CITY: 2}

# Words that name the kind of region rather than the region itself.
_PREFIXES = {
    "provinsi": None,
    "prov": None,
    "kabupaten": REGENCY,
    "kab": REGENCY,
    "kota": CITY,
    "administrasi": None,
    "adm": None,
}

# Everyday short names -> region code (matched against the whole normalised query).
_ALIASES: dict[str, str] = dict(
    pair.split("=")
    for pair in (
        "nad=11 sumut=12 sumbar=13 sumsel=16 babel=19 kepri=21 dki=31 dkj=31 jakarta=31"
        " jabar=32 jateng=33 diy=34 jogja=34 jogjakarta=34 yogya=34 yogyakarta=34 jatim=35"
        " ntb=52 ntt=53 kalbar=61 kalteng=62 kalsel=63 kaltim=64 kaltara=65 sulut=71"
        " sulteng=72 sulsel=73 sultra=74 sulbar=76 malut=82 pabar=92 papsel=93 papteng=94"
        " pappeg=95 pbd=96 solo=33.72"
    ).split()
)

_ZONES: dict[str, str] = {
    "WIB": "11 12 13 14 15 16 17 18 19 21 31 32 33 34 35 36 61 62",
    "WITA": "51 52 53 63 64 65 71 72 73 74 75 76",
    "WIT": "81 82 91 92 93 94 95 96",
}
_ZONE_OF = {code: zone for zone, codes in _ZONES.items() for code in codes.split()}
_IANA = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


@dataclass(frozen=True)
class Region:
    """One province, regency (kabupaten) or city (kota)."""

    code: str
    name: str
    kind: str
    province_code: str | None


@cache
def _regions() -> dict[str, Region]:
    """Read the CSV once; code -> Region in file order."""
    text = files(__package__ or "flows").joinpath("content/regions.csv").read_text("utf-8")
    return {
        row["code"]: Region(row["code"], row["name"], row["kind"], row["province_code"] or None)
        for row in csv.DictReader(io.StringIO(text))
    }


def _words(text: str) -> list[str]:
    """Lower-case, accent-free words of ``text`` with punctuation dropped."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return [_SPELLINGS.get(w, w) for w in re.sub(r"[^0-9a-z]+", " ", plain).split()]


# Everyday spellings of words in official names ("Sumatra" for Sumatera, "Jogja" is an alias).
_SPELLINGS = {"sumatra": "sumatera", "sulawesy": "sulawesi"}


def _bare(text: str) -> tuple[str, str | None]:
    """Compact bare name (no kind prefix, no spaces) and the kind the prefix named."""
    words, kind = _words(text), None
    while words and words[0] in _PREFIXES:
        kind = _PREFIXES[words.pop(0)] or kind
    return "".join(words), kind


def _sort_key(region: Region) -> tuple[str, int]:
    """Order by bare name, then province < kabupaten < kota."""
    return _bare(region.name)[0], _KIND_ORDER[region.kind]


def provinces() -> list[Region]:
    """All 38 provinces, sorted by name."""
    return sorted((r for r in _regions().values() if r.kind == PROVINCE), key=lambda r: r.name)


def regencies(province_code: str) -> list[Region]:
    """The kabupaten and kota of a province, sorted by bare name then kind."""
    found = (r for r in _regions().values() if r.province_code == province_code)
    return sorted(found, key=_sort_key)


def get(code: str) -> Region | None:
    """The region with this Kemendagri code, or None."""
    return _regions().get(code.strip())


def search(query: str, within: Sequence[Region]) -> list[Region]:
    """Regions of ``within`` matching ``query``: alias/exact, then prefix, then substring."""
    return [region for _tier, region in _ranked(query, within)]


def lookup(query: str, within: Sequence[Region]) -> tuple[list[Region], list[Region]]:
    """(named, near): the regions ``query`` names outright (the name without its kind, or an
    alias), and those whose name only starts with or contains it; each best first."""
    ranked = _ranked(query, within)
    return [r for tier, r in ranked if tier == 0], [r for tier, r in ranked if tier > 0]


def _ranked(query: str, within: Sequence[Region]) -> list[tuple[int, Region]]:
    """(tier, region) best first: 0 named or an alias, 1 a prefix, 2 a part of the name."""
    q, wanted = _bare(query)
    if not q:
        return []
    alias = _ALIASES.get(q)
    ranked: list[tuple[int, int, tuple[str, int], Region]] = []
    for region in within:
        bare = _bare(region.name)[0]
        if bare == q or (region.code == alias and wanted in (None, region.kind)):
            tier = 0
        elif bare.startswith(q):
            tier = 1
        elif q in bare:
            tier = 2
        else:
            continue
        preferred = 0 if wanted is None or region.kind == wanted else 1
        ranked.append((tier, preferred, _sort_key(region), region))
    ranked.sort(key=lambda t: t[:3])
    return [(t[0], t[3]) for t in ranked]


def timezone(province_code: str) -> str:
    """The Indonesian zone ("WIB", "WITA" or "WIT") of a province (or a region in it)."""
    try:
        return _ZONE_OF[province_code.strip()[:2]]
    except KeyError:
        raise KeyError(f"unknown province code {province_code!r}") from None


def tz_name(province_code: str) -> str:
    """The IANA zone name ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura") of a province."""
    return _IANA[timezone(province_code)]


WIB = "Asia/Jakarta"


def zone_of(code: str | None) -> str:
    """A person's or a place's IANA zone from its province or regency code; WIB, where most
    returnees live, when there is none or it is unknown."""
    try:
        return tz_name(code) if code else WIB
    except KeyError:
        return WIB


def display_name(code: str) -> str:
    """Human name: "Kota Surabaya, Jawa Timur" for a regency, the name for a province."""
    region = get(code)
    if region is None:
        raise KeyError(f"unknown region code {code!r}")
    if region.province_code is None:
        return region.name
    return f"{region.name}, {_regions()[region.province_code].name}"


def inside(code: str | None, scope: Sequence[str] | None) -> bool:
    """A place (province or regency code) inside a scope of regions; None scope: anywhere. A
    place unknown or nationwide (None) is inside only an unscoped reach."""
    if scope is None:
        return True
    if not code:
        return False
    return any(code == r or code.startswith(r + ".") for r in scope)


def reaches(province_code: str, scope: Sequence[str] | None) -> bool:
    """A province with some part inside the scope (the whole of it, or one of its regencies)."""
    return scope is None or any(
        r == province_code or r.startswith(province_code + ".") for r in scope
    )
