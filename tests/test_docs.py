"""The README's settings table and .env.example name every setting the bot reads."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_in_the_readme_table_and_the_example_env() -> None:
    names = {name.upper() for name in Settings.model_fields}
    readme = (ROOT / "README.md").read_text("utf-8")
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))
    example = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text("utf-8"), re.M))
    assert names - table == set(), "missing from README's settings table"
    assert names - example == set(), "missing from .env.example"
    assert table - names == set(), "README documents settings that do not exist"
