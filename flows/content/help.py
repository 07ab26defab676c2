"""Protection and official help, and the cooperative founding steps, read from
`flows/content/help.toml` and `flows/content/coop.toml` and checked on load.

Texts in the files are English msgids (`make i18n` extracts them, flows/content/tomltext.py);
the bot translates them when it shows them. A fact whose source is not official is shown with
where it comes from and "check with the office" (bot/protection.py).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from flows.content import facts

HELP_FILE = facts.CONTENT_DIR / "help.toml"
COOP_FILE = facts.CONTENT_DIR / "coop.toml"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Sourced = facts.Fact  # source, official, as_of, unconfirmed (flows/content/facts.py)


class Fact(Sourced):
    """A fact that is a text to show (an English msgid), its placeholders filled from its own
    keys (a phone number, a site)."""

    text: str
    phone: str | None = None
    abroad: str | None = None
    whatsapp: str | None = None
    site: str | None = None
    filled_later: ClassVar[frozenset[str]] = frozenset()  # placeholders the bot fills itself

    @model_validator(mode="after")
    def _placeholders(self) -> Fact:
        for name in PLACEHOLDER.findall(self.text):
            if name not in self.filled_later and getattr(self, name, None) in (None, ""):
                raise ValueError(f"text uses {{{name}}} but the entry has no {name}")
        return self

    def values(self) -> dict[str, str]:
        """The entry's own values for the placeholders of its text (and of `none_text`)."""
        names = ("phone", "abroad", "whatsapp", "site")
        return {k: str(getattr(self, k)) for k in names if getattr(self, k) is not None}


class Warning(Fact):
    key: str


class Programme(Fact):
    key: str


class Scam(Strict):
    triggers: tuple[str, ...] = Field(min_length=1)
    warnings: tuple[Warning, ...] = Field(min_length=1)

    @field_validator("triggers")
    @classmethod
    def _words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for word in value:
            if not re.fullmatch(r"[a-z]{3,20}", word):
                raise ValueError(f"trigger {word!r}: one lowercase word of 3-20 letters")
        return value


class Bp3mi(Fact):
    filled_later: ClassVar[frozenset[str]] = frozenset({"office", "province"})
    none_text: str
    offices: dict[str, str]

    @field_validator("offices")
    @classmethod
    def _provinces(cls, value: dict[str, str]) -> dict[str, str]:
        for code, name in value.items():
            if not re.fullmatch(r"\d{2}", code) or not name.strip():
                raise ValueError(f"office {code!r}: a 2-digit province code and a name")
        return value


class Help(Strict):
    scam: Scam
    kp2mi: Fact
    ojk: Fact
    dinas_koperasi: Fact
    nib_help: Fact
    training: Fact
    bp3mi: Bp3mi
    programmes: tuple[Programme, ...]

    def programme(self, key: str) -> Programme:
        return next(p for p in self.programmes if p.key == key)


class Step(Sourced):
    key: str = Field(pattern=r"^[a-z_]{2,20}$")
    label: str
    about: str


class Coop(Strict):
    min_founders: int = Field(ge=2)
    meeting: str
    min_founders_fact: Sourced
    steps: tuple[Step, ...] = Field(min_length=1)
    simpan_pinjam: Fact

    @model_validator(mode="after")
    def _keys(self) -> Coop:
        keys = [s.key for s in self.steps]
        if len(set(keys)) != len(keys):
            raise ValueError("two steps have the same key")
        if self.meeting not in keys:
            raise ValueError(f"meeting names {self.meeting!r}, which is no step's key")
        return self


_help = facts.loader("help", Help, cautioned=True)  # bot/protection.py cites each source
_coop = facts.loader("coop", Coop, cautioned=True)


def load_help(path: Path = HELP_FILE) -> Help:
    return facts.load(path, Help)


def load_coop(path: Path = COOP_FILE) -> Coop:
    return facts.load(path, Coop)


@cache
def helps() -> Help:
    """help.toml, read once."""
    return _help()


@cache
def coop() -> Coop:
    """coop.toml, read once."""
    return _coop()
