"""Babel extraction of the texts in `flows/content/*.toml` (babel.cfg): the values of the keys
in TEXT_KEYS are English msgids, shown through the catalogs like any text in the code."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from typing import IO, Any

TEXT_KEYS = frozenset({"text", "none_text", "label", "about"})


def texts(data: Any) -> Iterator[str]:
    """Every msgid in a parsed content file, in file order."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in TEXT_KEYS and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(data, list):
        for value in data:
            yield from texts(value)


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel's extraction method: (line, funcname, msgid, comments) for each text."""
    raw = fileobj.read().decode("utf-8")
    lines = raw.splitlines()
    for msgid in texts(tomllib.loads(raw)):
        line = next((n for n, text in enumerate(lines, 1) if msgid in text), 1)
        yield line, "_", msgid, []
