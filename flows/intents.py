"""What a typed message most likely means: the intent data (flows/content/intents.toml),
checked with pydantic, and a fuzzy matcher (rapidfuzz) over it.

Pure: no aiogram, no database. The bot (bot/intent_routes.py) routes each intent to a page and
never starts anything without a press; this module only says what was probably meant, how sure
it is, and the amount of money or training topic the message named.

A message is normalised (lowercase, no punctuation or emoji, "pinjaaam" -> "pinjam",
abbreviations and synonyms rewritten, fillers dropped), then each word is compared with every
word of every phrase; a phrase scores the mean of its words' best similarity, an intent its best
phrase, with a small bonus for a longer phrase, so "gabung koperasi" beats "koperasi".
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from flows import money_words
from flows.training import TOPIC_KEYS

PATH = Path(__file__).resolve().parent / "content" / "intents.toml"
CONFIDENT = 80.0  # a best score at or above this is offered as "Did you mean ...?"
ALSO = 12.0  # other intents within this of the best are offered beside it
SOCIAL = frozenset({"greeting", "thanks", "menu"})  # answered at once, never beat a real intent
SOCIAL_WORDS = 3  # a greeting or thanks is short: in a longer message it is not the point
MAX_OFFERED = 3

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=20)]
Phrase = Annotated[str, StringConstraints(min_length=1, max_length=80)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PhraseSet(_Strict):
    phrases: list[Phrase] = Field(min_length=1)


class Normalise(_Strict):
    abbreviations: dict[str, str] = {}
    synonyms: dict[str, str] = {}
    fillers: list[str] = []


class IntentData(_Strict):
    normalise: Normalise = Normalise()
    intents: dict[Key, PhraseSet] = Field(min_length=1)
    topics: dict[Key, PhraseSet] = {}


class IntentDataError(ValueError):
    """The intent file is wrong; the message names the file and line."""


# --- normalising ----------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")  # three or more of a letter: "pinjaaam" -> "pinjam"
_REDUPLICATED = re.compile(r"\b([a-z]{3,})2\b")  # "kursus2" -> "kursus"


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _REDUPLICATED.sub(r"\1", text.replace("-", " "))
    return _REPEATS.sub(r"\1", _NOT_WORD.sub(" ", text))


def _rewrite(words: list[str], rules: Normalise, known: frozenset[str] = frozenset()) -> list[str]:
    out = []
    for word in words:
        word = rules.abbreviations.get(word, word)
        if word.endswith("nya") and word not in known and word[:-3] in known:
            word = word[:-3]  # "pinjamannya" -> "pinjaman", but "bertanya" stays
        out.append(rules.synonyms.get(word, word))
    return out


# --- loading --------------------------------------------------------------------------------


def _line_of(text: str, loc: tuple[Any, ...]) -> int:
    """The line of the innermost table or key named in a pydantic error location."""
    lines = text.splitlines()
    line, start = 1, 0
    parts = [str(p) for p in loc if not isinstance(p, int)]
    for depth in range(len(parts), 0, -1):
        header = "[" + ".".join(parts[:depth]) + "]"
        for i, raw in enumerate(lines):
            if raw.strip() == header:
                line, start = i + 1, i + 1
                rest = parts[depth:]
                if rest:
                    key = re.compile(rf"^\s*{re.escape(rest[0])}\s*=")
                    for j in range(start, len(lines)):
                        if lines[j].startswith("["):
                            break
                        if key.match(lines[j]):
                            return j + 1
                return line
    return line


@dataclass(frozen=True)
class Matcher:
    """The loaded phrase set, ready to match."""

    rules: Normalise
    fillers: frozenset[str]
    vocabulary: tuple[str, ...]  # every distinct word of every phrase
    phrases: tuple[tuple[str, tuple[int, ...]], ...]  # (intent, its words' vocabulary indexes)
    by_word: tuple[tuple[int, ...], ...]  # vocabulary index -> indexes of phrases using it
    topics: dict[str, tuple[tuple[int, ...], ...]]  # topic -> its phrases as vocabulary indexes
    intents: tuple[str, ...]
    known: frozenset[str]  # words a "-nya" may be taken off to find: vocabulary and synonyms

    def words(self, text: str) -> list[str]:
        """The message as the matcher sees it."""
        words = _rewrite(_fold(text).split(), self.rules, self.known)
        return [w for w in words if w not in self.fillers]

    def _similar(self, words: list[str]) -> dict[int, float]:
        """Vocabulary index -> similarity (0-100) of the closest message word, for the words
        close enough (`_close`)."""
        best: dict[int, float] = {}
        for word in dict.fromkeys(words):
            for _, score, index in process.extract(
                word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=75, limit=None
            ):
                if score > best.get(index, 0.0) and _close(word, self.vocabulary[index], score):
                    best[index] = score
        return best

    def match(self, text: str) -> Understood:
        words = self.words(text)
        best = self._similar(words)
        scores: dict[str, float] = {}
        covered: dict[str, set[int]] = {}
        for index in {p for w in best for p in self.by_word[w]}:
            intent, tokens = self.phrases[index]
            score = sum(best.get(t, 0.0) for t in tokens) / len(tokens)
            if score >= CONFIDENT:
                score += min(8.0, 4.0 * (len(tokens) - 1))
                covered.setdefault(intent, set()).update(tokens)
            if score > scores.get(intent, 0.0):
                scores[intent] = score
        # Best score first; on a tie, the intent whose phrases cover more of the message.
        ranked = tuple(
            sorted(scores.items(), key=lambda kv: (-kv[1], -len(covered.get(kv[0], ())), kv[0]))
        )
        sure = {index for index, score in best.items() if score >= CONFIDENT}
        topic = next(
            (name for name, phrases in self.topics.items() if any(map(sure.issuperset, phrases))),
            None,
        )  # the first topic with a phrase whose every word is in the message for sure
        return Understood(ranked, money_words.find_amount(text), topic, len(words))


def _close(word: str, known: str, ratio: float) -> bool:
    """A typo of `known`: exact for short words, one letter off (added or dropped for words of
    four or five letters) up to eight letters, two beyond."""
    if len(known) <= 3 or known.isdigit():
        return word == known
    distance = Levenshtein.distance(word, known)
    if len(known) <= 5:
        return distance <= 1 and ratio >= 85
    return distance <= (1 if len(known) <= 8 else 2)


def _phrase_line(text: str, section: str, phrase: str) -> int | None:
    lines = text.splitlines()
    header = next((i for i, raw in enumerate(lines) if raw.strip() == f"[{section}]"), 0)
    quoted = '"' + phrase + '"'
    return next((i + 1 for i in range(header, len(lines)) if quoted in lines[i]), None)


def build(data: IntentData, *, where: str = "intents", text: str = "") -> Matcher:
    """The matcher for checked data; a phrase that cannot work is an IntentDataError naming
    the file (`where`) and, given the file's `text`, the line."""
    rules = data.normalise

    def at(owner: str, phrase: str) -> str:
        line = _phrase_line(text, owner, phrase) if text else None
        return f"{where}:{line}" if line else where

    fillers = frozenset(rules.fillers)
    vocabulary: dict[str, int] = {}
    phrases: list[tuple[str, tuple[int, ...]]] = []
    seen: dict[tuple[str, ...], str] = {}

    def indexes(owner: str, phrase: str) -> tuple[int, ...]:
        words = tuple(_rewrite(_fold(phrase).split(), rules))
        if not words:
            raise IntentDataError(f"{at(owner, phrase)}: {owner}: phrase {phrase!r} has no words")
        dropped = [w for w in words if w in fillers]
        if dropped:
            raise IntentDataError(
                f"{at(owner, phrase)}: {owner}: phrase {phrase!r} uses the filler(s) {dropped}, which are "
                "dropped from every message; take them out of the phrase or of the fillers"
            )
        return tuple(vocabulary.setdefault(w, len(vocabulary)) for w in words)

    for intent, entry in data.intents.items():
        for phrase in entry.phrases:
            tokens = indexes(f"intents.{intent}", phrase)
            key = tuple(sorted(tokens))
            if key in seen:
                raise IntentDataError(
                    f"{at('intents.' + intent, phrase)}: intents.{intent}: phrase {phrase!r} is the same, once "
                    f"normalised, as one of intents.{seen[key]}"
                )
            seen[key] = intent
            phrases.append((intent, tokens))
    topics: dict[str, tuple[tuple[int, ...], ...]] = {}
    for topic, entry in data.topics.items():
        if topic not in TOPIC_KEYS:
            raise IntentDataError(
                f"{where}: topics.{topic}: not a training topic ({', '.join(sorted(TOPIC_KEYS))})"
            )
        topics[topic] = tuple(indexes(f"topics.{topic}", p) for p in entry.phrases)
    words = tuple(vocabulary)
    by_word: list[list[int]] = [[] for _ in words]
    for n, (_, tokens) in enumerate(phrases):
        for t in set(tokens):
            by_word[t].append(n)
    return Matcher(
        rules=rules,
        fillers=fillers,
        vocabulary=words,
        phrases=tuple(phrases),
        by_word=tuple(tuple(p) for p in by_word),
        topics=topics,
        intents=tuple(data.intents),
        known=frozenset(words) | frozenset(rules.synonyms) | frozenset(rules.abbreviations),
    )


def load(path: Path = PATH) -> Matcher:
    """Read, check and build; every error names the file and line."""
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise IntentDataError(f"{path}: {exc}") from None
    try:
        data = IntentData.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        line = _line_of(text, first["loc"])
        raise IntentDataError(f"{path}:{line}: {where}: {first['msg']}") from None
    return build(data, where=str(path), text=text)


@lru_cache(maxsize=1)
def matcher() -> Matcher:
    return load()


@dataclass(frozen=True)
class Understood:
    """What a message probably means: intents with scores (best first), an amount, a topic."""

    ranked: tuple[tuple[str, float], ...]
    amount: int | None = None
    topic: str | None = None
    words: int = 0  # how many words the matcher read (fillers left out)

    def offered(self) -> tuple[str, ...]:
        """The intents to offer as buttons (up to three), those close to the best score; a
        clearly better greeting or thanks ("mulai dari awal") leaves out a weak real one."""
        if not self.ranked:
            return ()
        top = self.ranked[0][1]
        floor = max(CONFIDENT, top - ALSO)
        return tuple(i for i, s in self.ranked if i not in SOCIAL and s >= floor)[:MAX_OFFERED]

    @property
    def social(self) -> str | None:
        """A greeting, thanks or "menu", when nothing real was said in a short message."""
        if self.offered() or self.words > SOCIAL_WORDS:
            return None
        return next((i for i, s in self.ranked if i in SOCIAL and s >= CONFIDENT), None)

    @property
    def best(self) -> str | None:
        """The one intent a test set expects: the first offered, else the social one."""
        offered = self.offered()
        return offered[0] if offered else self.social


def understand(text: str) -> Understood:
    return matcher().match(text)
