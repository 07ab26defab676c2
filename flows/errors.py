"""The validation contract: a validator returns a value or raises ``Invalid``."""

from __future__ import annotations

from typing import Any


class Invalid(ValueError):
    """Input that a step cannot accept.

    ``msgid`` is an untranslated message (marked with ``N_``); ``params`` fill its
    named placeholders when the bot translates it, e.g.
    ``Invalid(N_("Please enter at most {max} characters."), max=100)``.
    """

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params

    def __repr__(self) -> str:
        return f"Invalid({self.msgid!r}, {self.params!r})"
