"""The schema every fact in `flows/content/*.toml` follows, the loader, and the registry.

A *fact* is any TOML table that has an `as_of` key: it must also name its `source` (an https
address), say whether that source is `official`, and may carry `unconfirmed` (why the figure
could not be confirmed: the bot then states no figure and says "tanyakan ke bank/kantor").
`load(path, model)` reads a TOML file and validates it against a pydantic model; any problem is
reported as `ContentError` naming the file and the line of the offending entry.

The registry (`REGISTRY`) names the model of each known content file. `juragan content check`
(bot/content_check.py) checks every `flows/content/*.toml`, registered or not: an unregistered
file's facts are checked against `Fact` wherever they sit, so a new file is checked without a
code change.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONTENT_DIR = Path(__file__).resolve().parent
STALE_AFTER_MONTHS = 12


class ContentError(ValueError):
    """A content file that cannot be used: each problem with the file name and line."""

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.path = Path(path)
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


class Strict(BaseModel):
    """A content entry: unknown keys are refused (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(Strict):
    """Where a fact comes from and when it was true. Every table with `as_of` is one."""

    source: str = Field(description="the https address of the page that states the fact")
    official: bool = Field(description="true for a government/regulator page, false otherwise")
    as_of: date = Field(description="the date the source says the fact holds (YYYY-MM-DD)")
    unconfirmed: str | None = Field(
        default=None,
        description="why it is not confirmed; the bot then says no figure, only 'ask the bank'",
    )

    @field_validator("source")
    @classmethod
    def _https(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc or " " in value:
            raise ValueError("source must be a full https:// address of the page")
        return value

    @field_validator("unconfirmed")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("unconfirmed must say why (or be left out)")
        return value

    @property
    def confirmed(self) -> bool:
        return self.unconfirmed is None

    @property
    def host(self) -> str:
        """The source's site, as the bot names it ("poskota.co.id")."""
        host = urlsplit(self.source).netloc.lower()
        return host.removeprefix("www.")

    def stale(self, today: date) -> bool:
        """Older than 12 months on `today`."""
        return self.as_of < months_before(today, STALE_AFTER_MONTHS)


class GenericFact(Fact):
    """A fact in a file with no registered model: its other keys (the figure, a text) pass."""

    model_config = ConfigDict(extra="allow", frozen=True)


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day where it is shorter)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- reading a file ------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def read(path: Path | str) -> tuple[dict[str, Any], str]:
    """The TOML table of a file and its text; ContentError (with the line) when it is no TOML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(path, [f"{path.name}: cannot read it: {exc}"]) from exc
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        what = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        line = f"line {where.group(1)}" if where else "somewhere"
        raise ContentError(path, [f"{path.name}, {line}: not valid TOML: {what}"]) from exc


def load(path: Path | str, model: type[M]) -> M:
    """The file validated against `model`; ContentError naming the file and each bad line."""
    path = Path(path)
    data, text = read(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = LineIndex(text)
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            where = lines.line_of(loc)
            field = ".".join(_label(p) for p in loc) or "(top)"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{path.name}, line {where}: {field}: {message}")
        raise ContentError(path, problems) from None


def _label(part: Any) -> str:
    return f"[{part + 1}]" if isinstance(part, int) else str(part)


class LineIndex:
    """Where each table and key of a TOML text starts, to name the line of a bad entry.

    Tracks `[table]`, `[[array.of.tables]]` (counting each entry) and `key = value` lines; a
    location inside a value (an inline table, a multi-line array) points at its key's line.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r'^\s*("[^"]*"|[A-Za-z0-9_\-.]+)\s*=')

    def __init__(self, text: str) -> None:
        self.where: dict[tuple[Any, ...], int] = {}
        counts: dict[tuple[Any, ...], int] = {}
        table: tuple[Any, ...] = ()
        depth = 0  # inside a multi-line array or string, keys are not top-level keys
        for number, line in enumerate(text.splitlines(), start=1):
            if depth == 0:
                header = self._HEADER.match(line)
                if header:
                    names = tuple(_keys(header.group(2)))
                    if header.group(1) == "[[":
                        base = self._resolve(names[:-1], counts)
                        arr = (*base, names[-1])
                        index = counts.get(arr, -1) + 1
                        counts[arr] = index
                        table = (*arr, index)
                        self.where.setdefault(arr, number)
                    else:
                        table = (*self._resolve(names[:-1], counts), names[-1])
                    self.where[table] = number
                    continue
                key = self._KEY.match(line)
                if key:
                    self.where[(*table, *_keys(key.group(1)))] = number
            depth = max(0, depth + _opening(line))

    @staticmethod
    def _resolve(names: tuple[str, ...], counts: Mapping[tuple[Any, ...], int]) -> tuple:
        """A dotted header's parents, each array of tables at its latest entry."""
        path: tuple[Any, ...] = ()
        for name in names:
            path = (*path, name)
            if path in counts:
                path = (*path, counts[path])
        return path

    def line_of(self, loc: tuple[Any, ...]) -> int:
        """The line of the longest known prefix of a pydantic error location (1 if none)."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.where:
                return self.where[loc[:end]]
        return 1


def _keys(dotted: str) -> Iterator[str]:
    for part in re.findall(r'"[^"]*"|[^.]+', dotted):
        yield part.strip().strip('"')


def _opening(line: str) -> int:
    """How much deeper a line leaves the nesting of [ ] and { } (strings and comments aside)."""
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'[^']*'", "''", line)
    line = line.split("#", 1)[0]
    if re.match(r"^\s*[A-Za-z0-9_\-.\"]+\s*=", line):
        line = line.split("=", 1)[1]
    return line.count("[") + line.count("{") - line.count("]") - line.count("}")


# --- finding the facts in any content --------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A fact met in a file: where (a dotted name and a line) and what it says of itself."""

    file: str
    name: str
    line: int
    fact: Fact


def walk(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every table in a TOML value with its location."""
    if isinstance(data, Mapping):
        yield path, data
        for key, value in data.items():
            yield from walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, (*path, index))


def facts_in(path: Path | str) -> list[Found]:
    """Every fact of a content file checked against `Fact` (its model first, if registered);
    ContentError with the lines of all problems."""
    path = Path(path)
    entry = REGISTRY.get(path.stem)
    if entry is not None:
        load(path, entry.model)  # the whole file, with the lines of its problems
    data, text = read(path)
    lines = LineIndex(text)
    found: list[Found] = []
    problems: list[str] = []
    for loc, table in walk(data):
        if "as_of" not in table:
            continue
        name = ".".join(_label(p) for p in loc) or "(top)"
        line = lines.line_of(loc)
        try:
            fact = GenericFact.model_validate(table)
        except ValidationError as exc:
            for error in exc.errors():
                where = lines.line_of((*loc, *error["loc"]))
                field = ".".join(_label(p) for p in (*loc, *error["loc"]))
                message = error["msg"].removeprefix("Value error, ")
                problems.append(f"{path.name}, line {where}: {field}: {message}")
            continue
        found.append(Found(path.name, name, line, fact))
    if problems:
        raise ContentError(path, problems)
    return found


# --- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A content file the code reads: its model, and whether every text the bot makes from an
    unofficial fact of it carries the caution (`cite`: where it comes from, "check with the
    bank/office"). A file not registered is assumed to be shown without the caution."""

    model: type[BaseModel]
    cautioned: bool


REGISTRY: dict[str, Entry] = {}


def register(stem: str, model: type[BaseModel], *, cautioned: bool) -> None:
    """Name the model of `flows/content/<stem>.toml` (called where the file is read)."""
    REGISTRY[stem] = Entry(model, cautioned)


def content_files(directory: Path = CONTENT_DIR) -> list[Path]:
    return sorted(directory.glob("*.toml"))


def loader(stem: str, model: type[M], *, cautioned: bool) -> Callable[[], M]:
    """Register a content file and return a function that loads it (from CONTENT_DIR at call
    time, so a test can point CONTENT_DIR elsewhere)."""
    register(stem, model, cautioned=cautioned)

    def _load() -> M:
        return load(CONTENT_DIR / f"{stem}.toml", model)

    return _load
