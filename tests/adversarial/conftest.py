"""The adversarial suite's harness: the real app on the strict in-process Bot API, its own log
setup capturing every line at DEBUG in both formats, and a world of people with something to
attack (plans, loans, registrations, submissions, drafts).

Hypothesis drives async scenarios from sync tests on one event loop of the test's own (the
`Harness`), so examples share the app and its database; each example uses new people.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import os
import re
import warnings
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import select

from bot import logs
from bot.app import OFFLINE_TOKEN, App, build_app
from bot.config import Settings
from bot.offline import OfflineChat, OfflineSession
from storage.models import Cooperative, Training
from tests.adversarial.hostile import CANARY_VALUES
from tests.conftest import ADMIN_ID
from tests.support.strict_api import NOT_MODIFIED, StrictRules

T = TypeVar("T")
# `make test` runs a few examples of each fuzzer; `make fuzz` sets JURAGAN_FUZZ_EXAMPLES.
EXAMPLES = int(os.environ.get("JURAGAN_FUZZ_EXAMPLES") or 0)
APOLOGIES = ("something went wrong on our side", "Maaf, ada gangguan")


def budget(default: int) -> hypothesis_settings:
    """Hypothesis settings for one fuzzer: `default` examples, or JURAGAN_FUZZ_EXAMPLES."""
    return hypothesis_settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        derandomize=not EXAMPLES,  # the standing suite is repeatable; `make fuzz` explores
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        print_blob=True,
    )


class Captured(logging.Handler):
    """Every record at or above ERROR, whatever logger wrote it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Harness:
    """The app on a strict session, the loop it lives on, and what it wrote."""

    app: App
    loop: asyncio.AbstractEventLoop
    rules: StrictRules
    text_log: io.StringIO
    json_log: io.StringIO
    errors: Captured
    warned: list[warnings.WarningMessage]
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(2_718_281_801))
    made: list[int] = field(default_factory=list)

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def person(self, user_id: int | None = None, **kwargs: Any) -> OfflineChat:
        """A person talking to the app; their Telegram id must never reach a log line."""
        user_id = user_id or next(self.ids)
        self.made.append(user_id)
        return OfflineChat(self.app.bot, self.app.dp, self.app.bot.session, user_id, **kwargs)  # type: ignore[arg-type]

    def mark(self) -> tuple[int, int, int, int, int]:
        return (
            len(self.rules.refused), len(self.errors.records), len(self.text_log.getvalue()),
            len(self.json_log.getvalue()), len(self.warned),
        )  # fmt: skip

    def problems(
        self, since: tuple[int, int, int, int, int], shown: str = "", *, second_tap: bool = False
    ) -> list[str]:
        """Everything wrong since `since`: refused calls, errors, canaries in logs, apologies.
        The second tap of a double tap may be told "message is not modified": its callback
        carries the message as it was before the first tap's edit, so the bot cannot know, and
        that is Telegram's answer to every real double tap (the outbox lets it pass)."""
        refused, errors, text, json_, warned = since
        found = [
            f"refused {name}: {why}"
            for name, why in self.rules.refused[refused:]
            if not (second_tap and why == NOT_MODIFIED)
        ]
        for record in self.errors.records[errors:]:
            found.append(f"ERROR logged by {record.name}: {record.getMessage()[:200]}")
        logged = self.text_log.getvalue()[text:] + self.json_log.getvalue()[json_:]
        logged += "".join(str(w.message) for w in self.warned[warned:])
        for value in CANARY_VALUES:
            if value in logged:
                at = logged.index(value)
                found.append(f"log carries {value!r}: …{logged[max(0, at - 120) : at + 40]!r}")
        for user_id in [*self.made, ADMIN_ID]:  # a whole number, not digits inside an update id
            if m := re.search(rf"(?<![0-9]){user_id}(?![0-9])", logged):
                at = m.start()
                found.append(f"log carries {user_id}: …{logged[max(0, at - 120) : at + 40]!r}")
        for apology in APOLOGIES:
            if apology.lower() in shown.lower():
                found.append(f"the person was told: {apology}")
        return found

    def check(self, since: tuple[int, int, int, int, int], what: str, shown: str = "") -> None:
        found = self.problems(since, shown)
        assert not found, f"after {what}:\n" + "\n".join(found)


@pytest.fixture
def harness(settings: Settings) -> Iterator[Harness]:
    loop = asyncio.new_event_loop()
    rules = StrictRules()

    async def make() -> App:
        return build_app(settings, session=OfflineSession(strict=rules), token=OFFLINE_TOKEN)

    app = loop.run_until_complete(make())
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    streams = []
    for fmt in ("text", "json"):  # the app's own log setup, both formats, at DEBUG
        logs.setup("DEBUG", fmt)
        handler = next(h for h in root.handlers if h.get_name() == "juragan")
        stream = io.StringIO()
        handler.setStream(stream)  # type: ignore[attr-defined]
        handler.set_name(f"adversarial-{fmt}")
        streams.append(stream)
    errors = Captured()
    root.addHandler(errors)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        logging.captureWarnings(True)
        try:
            yield Harness(app, loop, rules, streams[0], streams[1], errors, warned)
        finally:
            logging.captureWarnings(False)
            loop.run_until_complete(app.close())
            loop.close()
            for handler in [h for h in root.handlers if h not in before]:
                root.removeHandler(handler)
            root.setLevel(level)


@pytest.fixture
def world(harness: Harness) -> World:
    """Every flow walked once through the real bot (tests.adversarial.walk); building it must
    itself raise no problem."""
    from tests.adversarial.walk import build_world

    since = harness.mark()
    built = harness.run(build_world(harness, ADMIN_ID))
    harness.check(since, "building the world with good answers")
    return built


# --- a world to attack -----------------------------------------------------------------------


@dataclass
class World:
    """People and rows made through the real bot, whose ids forgers will try."""

    victim: OfflineChat
    admin: OfflineChat
    ids: list[int]
    packed: list[str]  # every callback data the bot put on a button so far
    templates: dict[str, tuple[int, dict[str, Any], list[str]]]  # flow -> actor, answers, history


async def seed_places(app: App) -> None:
    """A cooperative near the people's home and two training sessions (one nationwide)."""
    start = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
    async with app.sessionmaker() as session, session.begin():
        session.add(
            Cooperative(
                name="Koperasi Contoh Sejahtera", kind="simpan_pinjam", province_code="35",
                regency_code="35.78", village="Darmo", description="Simpan pinjam anggota",
                simpanan_pokok=100_000, simpanan_wajib=20_000, requirements="KTP",
                benefits="Pinjaman lunak",
            )
        )  # fmt: skip
        for regency in ("35.78", None):
            session.add(
                Training(
                    title=f"Jualan online {regency or 'nasional'}", organiser="Disnaker",
                    topic="digital",
                    starts_at=start, ends_at=start + timedelta(hours=3), place="BLK Surabaya",
                    province_code="35" if regency else None, regency_code=regency, seats=1,
                )
            )  # fmt: skip


async def row_ids(app: App) -> list[int]:
    from storage.models import Base

    found: set[int] = set()
    async with app.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if "id" in table.c:
                found.update(int(i) for i in (await session.scalars(select(table.c.id))).all())
    return sorted(found)
