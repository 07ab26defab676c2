"""/audit: the audit log for admins (newest first, pages, filters, the viewer's language and
zone), its CSV export (itself audited, free of sensitive values), refusals for everyone else
(commands and forged buttons), and that nothing in the code updates or deletes an entry."""

from __future__ import annotations

import ast
import csv
import gettext
import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument, SendMessage
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.app import LOCALES_DIR
from bot.handlers import audit as viewer
from bot.handlers.announcements import AnnouncementsCB
from bot.handlers.audit import AuditCB
from flows import clock
from storage import audit as store
from storage import repo
from storage.db import create_engine
from storage.models import AuditEntry, Person
from tests.conftest import ADMIN_ID
from tests.support.talk import count, onboard, texts

ROOT = Path(__file__).resolve().parents[2]
BASE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 08.00 WIB, 10.00 WIT
OTHER = 4242  # a person id nobody has (as after someone deleted their data)
NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
PHONE = re.compile(r"(?:\+?62|(?<!\d)0)8\d(?:[\s.-]?\d){6,11}")


def in_id(msgid: str) -> str:
    """The Indonesian the bot shows for a msgid (the msgid itself until the catalog has it)."""
    return gettext.translation("messages", LOCALES_DIR, ["id"], fallback=True).gettext(msgid)


async def admin_chat(app, person, *, lang: str = "en", uid: int = ADMIN_ID):
    chat = person(uid, first_name="Rina")
    await onboard(chat, name="Rina Wati", lang=lang)
    async with app.sessionmaker() as session:
        me = await repo.person_by_telegram_id(session, telegram_id=uid)
    assert me is not None
    return chat, me


async def seed(app, rows: list[tuple[datetime, int | None, str, str, dict[str, Any]]]) -> None:
    """Audit entries at given moments, through the one way entries are written."""
    ticking = clock._now
    try:
        async with app.sessionmaker() as session, session.begin():
            for at, actor, action, subject, details in rows:
                clock.set_clock(lambda at=at: at)
                await store.audit(
                    session, actor_id=actor, action=action, subject=subject, details=details
                )
    finally:
        clock.set_clock(ticking)


ACTIONS = ("broadcast.send", "role.set", "review.approve", "export", "training.create")


def mixed(n: int, me: int) -> list[tuple[datetime, int | None, str, str, dict[str, Any]]]:
    """n entries an hour apart; entry i is ACTIONS[i % 5] on "thing:i"."""
    actors = {"role.set": None, "training.create": OTHER}
    return [
        (
            BASE + timedelta(hours=i),
            actors.get(ACTIONS[i % 5], me),
            ACTIONS[i % 5],
            f"thing:{i}",
            {"n": i},
        )
        for i in range(n)
    ]


def lines(calls) -> list[str]:
    return [x for x in texts(calls).splitlines() if x.startswith("• ")]


def subjects(calls) -> list[int]:
    return [int(re.search(r"thing:(\d+)", x).group(1)) for x in lines(calls)]  # type: ignore[union-attr]


async def entries(app) -> list[AuditEntry]:
    async with app.sessionmaker() as session:
        return await store.newest(session, limit=100_000)


# --- the viewer ------------------------------------------------------------------------------


async def test_newest_first_ten_a_page_with_filters_in_english(app, person) -> None:
    chat, me = await admin_chat(app, person)
    await seed(app, mixed(23, me.id))
    shown = await chat.send("/audit")
    said = texts(shown)
    assert "Audit log: All kinds, page 1 of 3 (23 entries)" in said
    assert subjects(shown) == list(range(22, 12, -1))
    found = lines(shown)
    # who, when in the admin's zone (Surabaya: WIB), what, on what, details
    assert found[2] == (
        f"• November 21, 2026, 4:00\u202fAM WIB · Rina (#{me.id}) · <b>Announcement sent now</b>"
        " · thing:20 · n=20"
    )
    assert (
        found[1]
        == "• November 21, 2026, 5:00\u202fAM WIB · system · <b>Role set</b> · thing:21 · n=21"
    )
    assert "· #4242 · <b>training.create</b> · thing:19" in found[3]
    assert "Sign-up approved" in found[0] and "List exported" in found[4]
    assert "Newer" not in " ".join(chat.buttons())
    older = await chat.press("Older")
    assert isinstance(older[-1], EditMessageText)
    assert "page 2 of 3" in texts(older) and subjects(older) == list(range(12, 2, -1))
    last = await chat.press("Older")
    assert "page 3 of 3" in texts(last) and subjects(last) == [2, 1, 0]
    assert "Older" not in " ".join(chat.buttons())
    assert subjects(await chat.press("Newer")) == list(range(12, 2, -1))
    announcements = await chat.press("Announcements")
    assert "Announcements, page 1 of 1 (5 entries)" in texts(announcements)
    assert subjects(announcements) == [20, 15, 10, 5, 0]
    assert all("Announcement sent now" in x for x in lines(announcements))
    assert "✅ Announcements" in chat.buttons()
    assert subjects(await chat.press("Roles")) == [21, 16, 11, 6, 1]
    assert subjects(await chat.press("Reviews")) == [22, 17, 12, 7, 2]
    assert subjects(await chat.press("Exports")) == [18, 13, 8, 3]
    assert subjects(await chat.press("All kinds"))[:2] == [22, 21]


async def test_in_indonesian_and_the_admins_own_zone(app, person) -> None:
    chat, me = await admin_chat(app, person, lang="id")
    async with app.sessionmaker() as session, session.begin():
        await repo.update_person(session, me, province_code="91", regency_code="91.71")  # Papua
    await seed(app, mixed(12, me.id))
    shown = await chat.send("/audit")
    head = in_id("Audit log: {kind}, page {page} of {pages} ({n} entries)").format(
        kind=in_id("All kinds"), page=1, pages=2, n=12
    )
    assert head in texts(shown)
    assert subjects(shown) == list(range(11, 1, -1))
    assert lines(shown)[1] == (
        f"• 20 November 2026, 20.00 WIT · Rina (#{me.id}) · "
        f"<b>{in_id('Announcement sent now')}</b> · thing:10 · n=10"
    )
    assert f"· {in_id('system')} · <b>{in_id('Role set')}</b> · thing:11" in lines(shown)[0]
    assert subjects(await chat.press(in_id("Older"))) == [1, 0]
    shown = await chat.press(in_id("Reviews"))
    assert subjects(shown) == [7, 2]
    assert all(in_id("Sign-up approved") in x for x in lines(shown))


async def test_an_empty_log_and_an_admin_by_role(app, person) -> None:
    chat = person(7001)
    await onboard(chat, lang="en")
    async with app.sessionmaker() as session, session.begin():
        me = await repo.person_by_telegram_id(session, telegram_id=7001)
        assert me is not None
        await repo.set_role(session, person_id=me.id, role="admin")
    said = texts(await chat.send("/audit"))
    assert "page 1 of 1 (0 entries)" in said and "Nothing here yet." in said
    assert not any("Older" in b or "Newer" in b for b in chat.buttons())


def test_details_are_short_key_value_pairs() -> None:
    assert viewer.details_line({"recipients": 3, "segment": {"kind": "all"}, "regions": None}) == (
        'recipients=3, segment={"kind":"all"}, regions=null'
    )
    assert viewer.details_line({"a": "x" * 100}) == "a=" + "x" * 39 + "…"
    assert len(viewer.details_line({str(i): "y" * 30 for i in range(20)})) == viewer.DETAILS_MAX
    assert viewer.details_line({}) == "" and viewer.details_line(None) == ""


async def test_a_page_always_fits_one_message(app, person) -> None:
    chat, me = await admin_chat(app, person)
    heavy = {"a": "&" * 200, "b": "<" * 50, "c": list(range(100))}
    await seed(app, [(BASE, me.id, "broadcast.send", "s" * 80, heavy) for _ in range(10)])
    [page] = [c for c in await chat.send("/audit") if isinstance(c, SendMessage)]
    assert len(page.text) <= 4096 and len(lines([page])) == 10


# --- the export ------------------------------------------------------------------------------


def opened(calls, chat_id: int) -> tuple[str, list[dict[str, str]], SendDocument]:
    [doc] = [c for c in calls if isinstance(c, SendDocument)]
    assert doc.chat_id == chat_id and doc.document.filename.endswith(".csv")  # type: ignore[union-attr]
    raw = doc.document.data.decode("utf-8")  # type: ignore[union-attr]
    return raw, list(csv.DictReader(io.StringIO(raw))), doc


async def test_the_csv_export_is_the_filtered_log_without_sensitive_values(app, person) -> None:
    # real entries: a coordinator sends an announcement whose text carries a phone and a NIK
    reader = person(7101)
    await onboard(reader, lang="en")
    await reader.press_data(AnnouncementsCB(ok=True).pack())
    async with app.sessionmaker() as session, session.begin():
        someone = await repo.person_by_telegram_id(session, telegram_id=7101)
        assert someone is not None
        await repo.update_person(session, someone, nik="3578010101010001")
    coord = person(7102)
    await onboard(coord, lang="en")
    await coord.press_data(AnnouncementsCB(ok=False).pack())
    async with app.sessionmaker() as session, session.begin():
        c = await repo.person_by_telegram_id(session, telegram_id=7102)
        assert c is not None
        await repo.set_role(session, person_id=c.id, role="coordinator")
    await coord.send("/siaran")
    await coord.send("Hubungi Pak Budi 0812 3456 7890, NIK 3578010101010001")
    await coord.press("Send now")
    await coord.press("Yes, send it now")
    chat, me = await admin_chat(app, person)
    await seed(app, mixed(7, me.id))
    before = await entries(app)
    assert any(e.action == "broadcast.send" for e in before)
    page = texts(await chat.send("/audit"))
    assert "Announcement sent now" in page
    calls = await chat.press("Export CSV")
    raw, rows, doc = opened(calls, ADMIN_ID)
    assert f"All kinds, {len(before)} entries" in (doc.caption or "")
    assert list(rows[0]) == ["id", "at", "actor_id", "action", "subject", "details"]
    assert [int(r["id"]) for r in rows] == [e.id for e in before]  # newest first, all of them
    for row, entry in zip(rows, before, strict=True):
        at = datetime.fromisoformat(row["at"])
        assert at.utcoffset() == timedelta(0) and at == entry.at
        assert row["actor_id"] == ("" if entry.actor_id is None else str(entry.actor_id))
        assert (row["action"], row["subject"]) == (entry.action, entry.subject)
        assert json.loads(row["details"]) == entry.details
    for shown in (raw, page):
        assert not NIK.search(shown) and not PHONE.search(shown)
        assert "Hubungi" not in shown and "Budi" not in shown
    assert "Rina" not in raw  # names stay in the chat, never in the file
    # the export is itself audited: who, which filter, how many rows
    newest = (await entries(app))[0]
    assert (newest.action, newest.subject, newest.actor_id) == ("audit.export", "audit_log", me.id)
    assert newest.details == {"filter": "all", "rows": len(before)}
    # a filtered export has only that kind
    await chat.press("Exports")
    _raw, rows, _doc = opened(await chat.press("Export CSV"), ADMIN_ID)
    assert [r["action"] for r in rows] == ["audit.export", "export"]
    assert (await entries(app))[0].details == {"filter": "exp", "rows": 2}


async def test_the_export_takes_the_newest_rows_up_to_the_limit(app, person, monkeypatch) -> None:
    monkeypatch.setattr(viewer, "EXPORT_LIMIT", 4)
    chat, me = await admin_chat(app, person)
    await seed(app, mixed(9, me.id))
    await chat.send("/audit")
    _raw, rows, _doc = opened(await chat.press("Export CSV"), ADMIN_ID)
    assert [r["subject"] for r in rows] == ["thing:8", "thing:7", "thing:6", "thing:5"]
    assert (await entries(app))[0].details == {"filter": "all", "rows": 4}


# --- refusals and forged buttons -------------------------------------------------------------


@pytest.mark.parametrize("role", ["returnee", "staff", "coordinator"])
async def test_everyone_but_admins_is_refused(app, person, caplog, role) -> None:
    caplog.set_level(logging.WARNING)
    chat = person(7201)
    await onboard(chat, lang="en")
    async with app.sessionmaker() as session, session.begin():
        me = await repo.person_by_telegram_id(session, telegram_id=7201)
        assert me is not None
        if role != "returnee":
            await repo.set_role(session, person_id=me.id, role=role)
    await seed(app, mixed(3, me.id))
    [reply] = await chat.send("/audit")
    assert isinstance(reply, SendMessage) and reply.text == "Sorry, only admins can do that."
    for data in (
        AuditCB(act="v", k="all"),
        AuditCB(act="v", k="bc", p=1),
        AuditCB(act="csv", k="all"),
        AuditCB(act="csv", k="exp"),
    ):
        [reply] = await chat.press_data(data.pack())
        assert isinstance(reply, AnswerCallbackQuery)
        assert reply.text == "Sorry, only admins can do that." and reply.show_alert
    assert caplog.text.count(f"refused audit for role {role}") == 5
    assert await count(app, AuditEntry) == 3


async def test_forged_data_from_an_admin_changes_nothing(app, person, caplog) -> None:
    caplog.set_level(logging.WARNING)
    chat, me = await admin_chat(app, person)
    await seed(app, mixed(12, me.id))
    await chat.send("/audit")
    for data in (
        AuditCB(act="zap", k="all"),
        AuditCB(act="csv", k="nope"),
        AuditCB(act="v", k="all;"),
    ):
        [reply] = await chat.press_data(data.pack())
        assert isinstance(reply, AnswerCallbackQuery) and "no longer works" in (reply.text or "")
    assert caplog.text.count("refused an audit button") == 3
    shown = await chat.press_data(AuditCB(act="v", k="all", p=10_000).pack())
    assert "page 2 of 2" in texts(shown) and subjects(shown) == [1, 0]  # past the end: the last
    for data in ("au:csv:all:99999", "au:csv:all:-1", "au:v"):  # does not even parse
        assert not any(isinstance(c, SendDocument) for c in await chat.press_data(data))
    assert await count(app, AuditEntry) == 12


async def test_an_admin_by_id_who_never_started_is_asked_to(app, person) -> None:
    chat = person(ADMIN_ID)
    assert "/start" in texts(await chat.send("/audit"))
    assert "/start" in texts(await chat.press_data(AuditCB(act="csv", k="all").pack()))
    assert await count(app, AuditEntry) == 0
    assert await count(app, Person) == 0


# --- append-only -----------------------------------------------------------------------------

AUDIT_NAMES = {"AuditEntry", "_A", "audit_log"}
SQL_CHANGE = re.compile(r"\b(update|delete\s+from|truncate(\s+table)?)\s+\"?audit_log\b", re.I)


def _names(node: ast.AST) -> set[str]:
    """The names an expression mentions (AuditEntry, AuditEntry.__table__, _A, "audit_log")."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.add(sub.value)
    return found


def changes_to_the_log(source: str) -> list[int]:
    """Lines that update or delete audit rows: update()/delete() of the table or model, the
    table's own .update()/.delete(), the ORM's session.delete(entry) of an AuditEntry, or SQL
    text that updates, deletes from or truncates audit_log."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in ("update", "delete") and any(AUDIT_NAMES & _names(a) for a in node.args):
                hits.append(node.lineno)
            elif (
                name in ("update", "delete")
                and isinstance(func, ast.Attribute)
                and AUDIT_NAMES & _names(func.value)
            ):
                hits.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL_CHANGE.search(node.value):
                hits.append(node.lineno)
    return hits


def test_the_check_for_changes_can_fail() -> None:
    for bad in (
        "update(_A).values(action='x')",
        "delete(AuditEntry).where(AuditEntry.id == 1)",
        "AuditEntry.__table__.delete()",
        "_A.update().values(subject='')",
        "sa.delete(_A)",
        "text('DELETE FROM audit_log')",
        "text('update audit_log set details = null')",
    ):
        assert changes_to_the_log(bad), bad
    assert not changes_to_the_log("insert(_A).values(action='x'); update(Person)")


def test_no_code_path_updates_or_deletes_audit_entries() -> None:
    """Append-only: outside migrations (schema, not rows), nothing changes or removes an entry,
    but the one deletion of expired rows (storage/retention.py: a batch older than the
    retention, which the database lets through only past its floor of a year, 0023)."""
    checked = 0
    pruning = ROOT / "storage" / "retention.py"
    for folder in ("storage", "bot", "flows"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            checked += 1
            found = changes_to_the_log(path.read_text())
            if path == pruning:
                assert len(found) == 1, found  # the batch of expired rows, nothing else
                continue
            assert not found, path.relative_to(ROOT)
    assert checked > 30
    for path in (ROOT / "storage" / "migrations").rglob("*.py"):
        assert not SQL_CHANGE.search(path.read_text()), path.relative_to(ROOT)


async def test_the_log_is_append_only_by_its_own_word_or_by_a_trigger(database_url) -> None:
    """storage/audit.py states the rule on every backend. PostgreSQL could enforce it with a
    trigger (migration 0009 adds one); where there is one, it must refuse."""
    assert store.__doc__ and "append-only" in store.__doc__
    if not database_url.startswith("postgresql"):
        return
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            triggers = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_trigger"
                    " WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal"
                )
            )
            if not triggers:
                return
            await conn.execute(
                text(
                    "INSERT INTO audit_log (action, subject, details, at)"
                    " VALUES ('x', 'y', '{}', now())"
                )
            )
            with pytest.raises(DBAPIError):
                await conn.execute(text("UPDATE audit_log SET subject = 'z'"))
            await conn.rollback()
    finally:
        await engine.dispose()
