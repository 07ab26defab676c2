"""The README's desk screenshots: each one the README shows is in docs/screenshots/, made by
`make screenshots` (tests/desk/screenshots.py), small, and named after a browser test's shot."""

from __future__ import annotations

import re

from PIL import Image

from tests.desk import screenshots

README = (screenshots.ROOT / "README.md").read_text(encoding="utf-8")


def test_every_screenshot_is_shown_in_the_readme_and_small() -> None:
    shown = set(re.findall(r"docs/screenshots/([\w-]+\.png)", README))
    kept = {p.name for p in screenshots.DOCS.glob("*.png")}
    assert shown == kept == {f"{name}.png" for name in screenshots.SHOTS}
    for name in kept:
        assert (screenshots.DOCS / name).stat().st_size <= screenshots.LIMIT, name


def test_a_shot_is_made_a_small_palette_png_and_a_missing_one_is_said(tmp_path, capsys) -> None:
    source, target = tmp_path / "out", tmp_path / "docs"
    source.mkdir()
    gradient = Image.linear_gradient("L").resize((600, 400)).convert("RGB")
    gradient.save(source / "queue-desktop.png")
    assert screenshots.main(source, target) == 2  # the three others are missing
    assert "item-desktop.png is missing" in capsys.readouterr().err
    with Image.open(target / "queue-desktop.png") as made:
        assert made.mode == "P" and len(made.getcolors() or []) <= screenshots.COLOURS
        assert made.size == (600, 400)  # reduced in colours, never scaled
