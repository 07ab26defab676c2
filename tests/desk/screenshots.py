"""The README's desk screenshots: the browser tests' own (test-output/desk/), made small.

`make screenshots` runs the tests that take them, then this: each PNG is reduced to a
palette of 64 colours (text and flat colours survive it; nothing is scaled) and written to
docs/screenshots/, which the README's "Staff desk" section shows. A file that would still be
over LIMIT bytes stops it, so the README stays light.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.desk.chromium import OUTPUT

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "screenshots"
LIMIT = 150_000
COLOURS = 64
# name -> the test that writes it (kept in step with the README's note)
SHOTS = {
    "queue-desktop": "tests/desk/test_browser.py::test_a_reviewers_day_sign_in_search_return_correct_bulk_approve_and_export",
    "item-desktop": "tests/desk/test_browser.py::test_a_reviewers_day_sign_in_search_return_correct_bulk_approve_and_export",
    "queue-phone": "tests/desk/test_browser.py::test_it_reads_on_a_360_pixel_phone",
    "stats-desktop": "tests/desk/test_office_browser.py::test_the_statistics_table_is_read_as_a_table",
}  # fmt: skip


def small(source: Path, target: Path) -> int:
    """`source` as a 64-colour PNG at `target`; its size in bytes."""
    from PIL import Image

    with Image.open(source) as image:
        quantized = image.convert("RGB").quantize(
            colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    quantized.save(target, "PNG", optimize=True)
    return target.stat().st_size


def main(source: Path = OUTPUT, target: Path = DOCS) -> int:
    problems = 0
    for name in SHOTS:
        found = source / f"{name}.png"
        if not found.exists():
            print(f"screenshots: {found} is missing (run {SHOTS[name]})", file=sys.stderr)
            problems += 1
            continue
        size = small(found, target / found.name)
        print(f"screenshots: {target / found.name}: {size // 1024} KB")
        if size > LIMIT:
            print(f"screenshots: {found.name} is over {LIMIT // 1000} KB", file=sys.stderr)
            problems += 1
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
