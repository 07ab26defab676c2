"""The operations layer is the domain, not a front door: it imports no web or Telegram code."""

from __future__ import annotations

import ast
from pathlib import Path

import operations

FORBIDDEN = ("aiogram", "aiohttp", "jinja2", "aiohttp_jinja2", "bot", "desk")


def test_no_front_door_imports() -> None:
    root = Path(operations.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert found == []
