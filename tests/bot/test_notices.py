"""Every notice an operation can make has a renderer in the bot."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.app  # noqa: F401 - registers every handler module, and with them the renderers
import operations
from bot import notices


def _messages_made() -> set[str]:
    """Message ids passed to Done.tell(...) or Notice(message=...) anywhere in operations/."""
    made = set()
    for path in Path(operations.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "tell" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                made.add(node.args[1].value)
            if name == "Notice":
                made |= {
                    k.value.value
                    for k in node.keywords
                    if k.arg == "message" and isinstance(k.value, ast.Constant)
                }
    return made


def test_every_notice_has_a_renderer() -> None:
    missing = _messages_made() - set(notices.RENDERERS)
    assert not missing, f"notices without a renderer in the bot: {sorted(missing)}"
