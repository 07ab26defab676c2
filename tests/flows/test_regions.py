"""The built-in list of provinces and regencies/cities, and its lookups."""

import csv
from collections import Counter
from pathlib import Path

import pytest

from flows import regions
from flows.regions import Region

CSV = Path(regions.__file__).parent / "content" / "regions.csv"


def all_regions() -> list[Region]:
    return [r for p in regions.provinces() for r in [p, *regions.regencies(p.code)]]


def codes(found: list[Region]) -> list[str]:
    return [r.code for r in found]


def test_csv_shape() -> None:
    with CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["code", "name", "kind", "province_code"]
    assert all(len(row) == 4 for row in rows)
    assert not any(row[0].startswith("#") for row in rows)


def test_totals() -> None:
    kinds = Counter(r.kind for r in all_regions())
    assert kinds["province"] == 38
    assert kinds["regency"] + kinds["city"] == 514
    assert kinds["regency"] == 416
    assert kinds["city"] == 98


def test_every_csv_row_is_reachable_from_provinces() -> None:
    with CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 38 + 514
    assert sorted(codes(all_regions())) == sorted(row["code"] for row in rows)


def test_codes_are_unique_and_well_formed() -> None:
    every = all_regions()
    assert len({r.code for r in every}) == len(every)
    for r in every:
        if r.kind == "province":
            assert len(r.code) == 2 and r.code.isdigit()
            assert r.province_code is None
        else:
            assert r.kind in {"regency", "city"}
            assert len(r.code) == 5 and r.code[2] == "."
            assert r.code.startswith(r.province_code + ".")
            assert regions.get(r.province_code).kind == "province"
            # Kemendagri: kota are numbered from 71, kabupaten below.
            assert (int(r.code[3:]) >= 71) == (r.kind == "city")


def test_names_follow_the_kind() -> None:
    for r in all_regions():
        if r.kind == "regency":
            assert r.name.startswith("Kabupaten ")
        elif r.kind == "city":
            assert r.name.startswith("Kota ")
        assert r.name == r.name.strip() and "  " not in r.name


def test_names_unique_within_a_province() -> None:
    names = [p.name for p in regions.provinces()]
    assert len(set(names)) == len(names)
    for p in regions.provinces():
        names = [r.name for r in regions.regencies(p.code)]
        assert len(set(names)) == len(names), p.name


@pytest.mark.parametrize(
    ("code", "name", "province"),
    [
        ("35.78", "Kota Surabaya", "35"),
        ("35.15", "Kabupaten Sidoarjo", "35"),
        ("35.73", "Kota Malang", "35"),
        ("35.07", "Kabupaten Malang", "35"),
        ("51.71", "Kota Denpasar", "51"),
        ("31.74", "Kota Jakarta Selatan", "31"),
        ("31.01", "Kabupaten Kepulauan Seribu", "31"),
        ("34.71", "Kota Yogyakarta", "34"),
        ("33.72", "Kota Surakarta", "33"),
        ("52.03", "Kabupaten Lombok Timur", "52"),
        ("53.71", "Kota Kupang", "53"),
        ("64.74", "Kota Bontang", "64"),
        ("73.26", "Kabupaten Toraja Utara", "73"),
        ("91.71", "Kota Jayapura", "91"),
        ("92.02", "Kabupaten Manokwari", "92"),
        ("93.01", "Kabupaten Merauke", "93"),
        ("94.04", "Kabupaten Mimika", "94"),
        ("95.01", "Kabupaten Jayawijaya", "95"),
        ("96.71", "Kota Sorong", "96"),
    ],
)
def test_spot_checks(code: str, name: str, province: str) -> None:
    assert regions.get(code) == Region(
        code, name, "city" if name[:4] == "Kota" else "regency", province
    )


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("11", "Aceh"),
        ("19", "Kepulauan Bangka Belitung"),
        ("21", "Kepulauan Riau"),
        ("31", "DKI Jakarta"),
        ("34", "DI Yogyakarta"),
        ("35", "Jawa Timur"),
        ("65", "Kalimantan Utara"),
        ("76", "Sulawesi Barat"),
        ("91", "Papua"),
        ("92", "Papua Barat"),
        ("93", "Papua Selatan"),
        ("94", "Papua Tengah"),
        ("95", "Papua Pegunungan"),
        ("96", "Papua Barat Daya"),
    ],
)
def test_province_codes(code: str, name: str) -> None:
    assert regions.get(code) == Region(code, name, "province", None)


def test_ordering() -> None:
    names = [p.name for p in regions.provinces()]
    assert names == sorted(names)
    assert names[0] == "Aceh"
    jatim = [r.name for r in regions.regencies("35")]
    assert len(jatim) == 38
    assert jatim.index("Kabupaten Malang") + 1 == jatim.index("Kota Malang")
    assert jatim.index("Kabupaten Sumenep") + 1 == jatim.index("Kota Surabaya")  # bare names
    assert regions.regencies("99") == []


def test_get_unknown() -> None:
    assert regions.get("99") is None
    assert regions.get("35.99") is None


def test_display_name() -> None:
    assert regions.display_name("35.78") == "Kota Surabaya, Jawa Timur"
    assert regions.display_name("35") == "Jawa Timur"
    with pytest.raises(KeyError):
        regions.display_name("00")


def test_search_kind_prefixes_rank() -> None:
    jatim = regions.regencies("35")
    assert codes(regions.search("kota malang", jatim))[:2] == ["35.73", "35.07"]
    assert codes(regions.search("kab malang", jatim))[:2] == ["35.07", "35.73"]
    assert codes(regions.search("Kab. Malang", jatim))[:2] == ["35.07", "35.73"]
    assert codes(regions.search("kabupaten malang", jatim))[:2] == ["35.07", "35.73"]
    assert set(codes(regions.search("malang", jatim))) == {"35.07", "35.73"}


def test_search_is_case_accent_and_punctuation_insensitive() -> None:
    jatim = regions.regencies("35")
    assert codes(regions.search("  SURABAYA!! ", jatim)) == ["35.78"]
    assert codes(regions.search("surabayá", jatim)) == ["35.78"]
    assert codes(regions.search("Tulung-agung", jatim)) == ["35.04"]
    ntt = regions.regencies("53")
    assert codes(regions.search("timor tengah  selatan", ntt))[0] == "53.02"


def test_search_exact_then_prefix_then_substring() -> None:
    jabar = regions.regencies("32")
    found = codes(regions.search("bandung", jabar))
    assert found[:2] == ["32.04", "32.73"]  # exact: Kabupaten, then Kota Bandung
    assert found[2] == "32.17"  # prefix: Kabupaten Bandung Barat
    sumsel = regions.regencies("16")
    found = codes(regions.search("komering", sumsel))
    assert set(found) == {"16.01", "16.02", "16.08", "16.09"}
    found = codes(regions.search("jaya", all_regions()))
    assert found[:3] == ["91.03", "91.71", "95.01"]  # Jayapura x2, Jayawijaya: prefixes
    assert {"11.14", "11.18", "94.02", "94.07"} <= set(found[3:])  # Aceh Jaya, ...: inside
    found = codes(regions.search("puncak", regions.regencies("94")))
    assert found == ["94.05", "94.02"]  # Kabupaten Puncak, then Puncak Jaya
    assert regions.search("", sumsel) == []
    assert regions.search("kota", sumsel) == []
    assert regions.search("xyzzy", sumsel) == []


def test_search_only_within() -> None:
    assert regions.search("surabaya", regions.regencies("33")) == []
    assert codes(regions.search("surabaya", all_regions())) == ["35.78"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("jatim", "35"),
        ("jateng", "33"),
        ("jabar", "32"),
        ("ntb", "52"),
        ("NTT", "53"),
        ("DIY", "34"),
        ("jogja", "34"),
        ("Yogya", "34"),
        ("kalbar", "61"),
        ("sumut", "12"),
        ("kepri", "21"),
        ("babel", "19"),
        ("sulsel", "73"),
        ("jakarta", "31"),
        ("Jawa Timur", "35"),
        ("provinsi jawa timur", "35"),
        ("bangka belitung", "19"),
        ("papua", "91"),
        ("papua barat", "92"),
        ("papua barat daya", "96"),
    ],
)
def test_search_provinces(query: str, code: str) -> None:
    assert codes(regions.search(query, regions.provinces()))[0] == code


def test_search_papua_prefixes() -> None:
    found = codes(regions.search("papua", regions.provinces()))
    assert found[0] == "91"
    assert set(found) == {"91", "92", "93", "94", "95", "96"}


@pytest.mark.parametrize(
    ("province", "zone", "iana"),
    [
        ("35", "WIB", "Asia/Jakarta"),
        ("31", "WIB", "Asia/Jakarta"),
        ("61", "WIB", "Asia/Jakarta"),
        ("62", "WIB", "Asia/Jakarta"),
        ("51", "WITA", "Asia/Makassar"),
        ("53", "WITA", "Asia/Makassar"),
        ("63", "WITA", "Asia/Makassar"),
        ("65", "WITA", "Asia/Makassar"),
        ("75", "WITA", "Asia/Makassar"),
        ("81", "WIT", "Asia/Jayapura"),
        ("82", "WIT", "Asia/Jayapura"),
        ("96", "WIT", "Asia/Jayapura"),
    ],
)
def test_timezone(province: str, zone: str, iana: str) -> None:
    assert regions.timezone(province) == zone
    assert regions.tz_name(province) == iana


def test_every_province_has_a_timezone() -> None:
    zones = Counter(regions.timezone(p.code) for p in regions.provinces())
    assert zones == {"WIB": 18, "WITA": 12, "WIT": 8}
    assert {regions.tz_name(p.code) for p in regions.provinces()} == {
        "Asia/Jakarta",
        "Asia/Makassar",
        "Asia/Jayapura",
    }
    with pytest.raises(KeyError):
        regions.timezone("99")


def test_zone_of_a_code_falls_back_to_wib() -> None:
    assert regions.zone_of("91") == "Asia/Jayapura"
    assert regions.zone_of("73.71") == "Asia/Makassar"
    assert regions.zone_of(None) == regions.zone_of("") == regions.zone_of("99") == "Asia/Jakarta"
