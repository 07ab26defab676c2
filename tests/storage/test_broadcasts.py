"""Segments as SQL and the broadcast data layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flows.content import kur as facts
from flows.segments import KUR_DOCUMENTS_INCOMPLETE, Segment
from storage import broadcasts, loans, repo, segments
from storage.broadcasts import Outcomes
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    AuditEntry,
    Broadcast,
    Delivery,
    FlowRun,
    Founding,
    FoundingMember,
    Person,
    Submission,
    Training,
    TrainingRegistration,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
SURABAYA, MALANG, JATIM, BALI_DENPASAR = "35.78", "35.73", "35", "51.71"


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def add_person(
    session: AsyncSession,
    tid: int,
    *,
    announcements: bool = True,
    blocked: bool = False,
    regency: str | None = SURABAYA,
    goal: str | None = None,
) -> int:
    return await repo._insert(
        session,
        Person.__table__,
        {
            "telegram_id": tid,
            "locale": "id",
            "role": "returnee",
            "nudges": True,
            "announcements": announcements,
            "blocked_at": NOW - timedelta(days=1) if blocked else None,
            "province_code": regency.split(".")[0] if regency else None,
            "regency_code": regency,
            "goal": goal,
            "created_at": NOW,
            "updated_at": NOW,
        },
    )


async def reached(
    session: AsyncSession, spec: dict[str, Any], within: list[str] | None = None
) -> set[int]:
    connection = await repo._connection(session)
    rows = await connection.execute(segments.recipients_query(spec, within_regions=within))
    people = [row.telegram_id for row in rows]
    assert len(people) == len(set(people)), "a person was selected twice"
    assert await segments.count(session, spec, within) == len(people)
    return set(people)


async def _insert(session: AsyncSession, model: Any, **values: Any) -> int:
    return await repo._insert(session, model.__table__, values)


async def test_every_kind_selects_exactly_its_people(sessions) -> None:
    async with sessions() as s, s.begin():
        a = await add_person(s, 1, goal="kur")
        b = await add_person(s, 2, regency=MALANG, goal="coop")
        c = await add_person(s, 3, regency=BALI_DENPASAR, goal="kur")
        quiet = await add_person(s, 4, announcements=False, goal="kur")
        blocked = await add_person(s, 5, blocked=True, goal="kur")
        nowhere = await add_person(s, 6, regency=None)

        # journeys: a is at the permit step, b finished it, quiet and blocked are there too
        await repo.start_run(s, person_id=a, flow="kur_readiness", step="permit")
        run_b = await repo.start_run(s, person_id=b, flow="kur_readiness", step="permit")
        await s.execute(update(FlowRun).where(FlowRun.id == run_b.id).values(status="completed"))
        await repo.start_run(s, person_id=c, flow="kur_readiness", step="amount")
        for p in (quiet, blocked):
            await repo.start_run(s, person_id=p, flow="kur_readiness", step="permit")

        # KUR documents: a misses some, b has all basics, c (Kecil) lacks BPJS papers
        basics = {k: "2026-11-20" for k in ("ktp", "kk", "spouse_ktp", "marriage", "permit")}
        for pid, scheme, amount, docs in (
            (a, "mikro", 20_000_000, {"ktp": "2026-11-20"}),
            (b, "mikro", 20_000_000, basics),
            (c, facts.KECIL.key, 40_000_000, basics),
            (nowhere, "mikro", 80_000_000, basics),  # above the NPWP limit, no NPWP
            (blocked, "mikro", 20_000_000, {}),
        ):
            loan = await loans.create(
                s, person_id=pid, scheme=scheme, amount=amount, day=NOW.date()
            )
            for key in docs:
                await loans.set_document(s, loan, key, ready=True, day=date(2026, 11, 20))

        # cooperatives: a asked to join 7, b's request was withdrawn, c founds plan f
        await _insert(
            s,
            Submission,
            person_id=a,
            kind="join_request",
            ref_id=7,
            status="submitted",
            answers={},
            created_at=NOW,
            updated_at=NOW,
        )
        await _insert(
            s,
            Submission,
            person_id=b,
            kind="join_request",
            ref_id=7,
            status="withdrawn",
            answers={},
            created_at=NOW,
            updated_at=NOW,
        )
        await _insert(
            s,
            Submission,
            person_id=c,
            kind="join_request",
            ref_id=8,
            status="approved",
            answers={},
            created_at=NOW,
            updated_at=NOW,
        )
        f = await _insert(
            s,
            Founding,
            founder_id=c,
            code="abc",
            kind="jasa",
            purpose="p",
            name="Kop",
            milestones={},
            status="planning",
            created_at=NOW,
            updated_at=NOW,
        )
        for pid in (c, nowhere, quiet):
            await _insert(s, FoundingMember, founding_id=f, person_id=pid, joined_at=NOW)

        # training: a registered, b waitlisted, c cancelled
        t = await _insert(
            s,
            Training,
            title="T",
            organiser="O",
            topic="digital",
            starts_at=NOW + timedelta(days=3),
            ends_at=NOW + timedelta(days=3, hours=2),
            seats=2,
            needs_approval=False,
            cancelled=False,
            sample=False,
            created_at=NOW,
            updated_at=NOW,
        )
        for pid, status in (
            (a, "registered"),
            (b, "waitlisted"),
            (c, "cancelled"),
            (quiet, "registered"),
        ):
            await _insert(s, TrainingRegistration, training_id=t, person_id=pid, status=status,
                          created_at=NOW, updated_at=NOW)  # fmt: skip

        assert await reached(s, {"kind": "all"}) == {1, 2, 3, 6}
        assert await reached(s, {"kind": "region", "region": JATIM}) == {1, 2}
        assert await reached(s, {"kind": "region", "region": MALANG}) == {2}
        assert await reached(
            s, {"kind": "journey_step", "flow": "kur_readiness", "step": "permit"}
        ) == {1}
        assert await reached(s, {"kind": "journey_step", "flow": KUR_DOCUMENTS_INCOMPLETE}) == {
            1, 3, 6,
        }  # fmt: skip
        assert await reached(s, {"kind": "interest", "goal": "kur"}) == {1, 3}
        assert await reached(s, {"kind": "interest", "goal": "training"}) == set()
        assert await reached(s, {"kind": "cooperative", "cooperative_id": 7}) == {1}
        assert await reached(s, {"kind": "cooperative", "cooperative_id": 8}) == {3}
        assert await reached(s, {"kind": "cooperative", "founding_id": f}) == {3, 6}
        assert await reached(s, {"kind": "training", "training_id": t}) == {1, 2}


async def test_region_scoping_limits_any_segment(sessions) -> None:
    async with sessions() as s, s.begin():
        await add_person(s, 1)
        await add_person(s, 2, regency=MALANG)
        await add_person(s, 3, regency=BALI_DENPASAR)
        await add_person(s, 4, regency=None)
        assert await reached(s, {"kind": "all"}, [SURABAYA]) == {1}
        assert await reached(s, {"kind": "all"}, [JATIM]) == {1, 2}
        assert await reached(s, {"kind": "all"}, [SURABAYA, "51"]) == {1, 3}
        assert await reached(s, {"kind": "region", "region": "51"}, [JATIM]) == set()
        assert await reached(s, {"kind": "all"}, []) == set()


async def _draft(s: AsyncSession, spec: dict | None = None, **kw: Any) -> int:
    return await broadcasts.create_draft(
        s, author_id=None, text="<b>Halo</b>", segment=spec or {"kind": "all"}, **kw
    )


async def _deliveries(s: AsyncSession, bid: int) -> list[Any]:
    connection = await repo._connection(s)
    rows = await connection.execute(
        select(Delivery.__table__).where(Delivery.broadcast_id == bid).order_by(Delivery.id)
    )
    return rows.all()


async def test_start_writes_one_row_per_recipient_once(sessions) -> None:
    async with sessions() as s, s.begin():
        for tid in range(1, 31):
            await add_person(s, tid, announcements=tid != 30, blocked=tid == 29)
        bid = await _draft(s)
        assert await broadcasts.start(s, bid, now=NOW) == 28
        assert await broadcasts.start(s, bid, now=NOW) is None  # already sending
        await broadcasts.write_deliveries(s, bid, now=NOW)  # again: nobody twice
        rows = await _deliveries(s, bid)
        assert len(rows) == 28 and {r.chat_id for r in rows} == set(range(1, 29))
        assert {r.status for r in rows} == {"pending"}
        b = await broadcasts.get(s, bid)
        assert b.status == "sending" and b.recipients == 28 and b.started_at == NOW


async def test_start_keeps_the_authors_region_scope(sessions) -> None:
    async with sessions() as s, s.begin():
        await add_person(s, 1)
        await add_person(s, 2, regency=MALANG)
        await add_person(s, 3, regency=BALI_DENPASAR)
        bid = await _draft(s, regions=[JATIM])
        assert await broadcasts.start(s, bid, now=NOW, within_regions=[MALANG, "51"]) == 1
        assert [r.chat_id for r in await _deliveries(s, bid)] == [2]


async def test_the_weekly_cap_skips_people_who_had_enough(sessions) -> None:
    async with sessions() as s, s.begin():
        for tid in (1, 2, 3):
            await add_person(s, tid)
        # person 1 got two announcements this week, person 2 one this week and one older
        for days_ago, chats in ((1, [1, 2]), (3, [1]), (8, [2])):
            old = await _draft(s)
            await broadcasts.start(s, old, now=NOW - timedelta(days=days_ago))
            claimed = await broadcasts.claim(s, old, now=NOW - timedelta(days=days_ago))
            await broadcasts.mark(
                s,
                Outcomes(
                    sent=[(c.id, 100) for c in claimed if c.chat_id in chats],
                    failed=[(c.id, "x") for c in claimed if c.chat_id not in chats],
                ),
                now=NOW - timedelta(days=days_ago),
            )
        bid = await _draft(s)
        assert await broadcasts.start(s, bid, now=NOW, cap_per_week=2) == 2
        rows = {r.chat_id: r for r in await _deliveries(s, bid)}
        assert rows[1].status == "skipped" and rows[1].error == broadcasts.WEEKLY_CAP
        assert rows[2].status == rows[3].status == "pending"
        assert (await broadcasts.progress(s, bid))["skipped"] == 1


async def test_claim_mark_and_progress(sessions) -> None:
    async with sessions() as s, s.begin():
        for tid in range(1, 11):
            await add_person(s, tid)
        bid = await _draft(s)
        await broadcasts.start(s, bid, now=NOW)
        first = await broadcasts.claim(s, bid, now=NOW, limit=6)
        assert [c.chat_id for c in first] == [1, 2, 3, 4, 5, 6]
        assert all(c.attempts == 1 and c.announcements and not c.blocked for c in first)
        again = await broadcasts.claim(s, bid, now=NOW, limit=6)
        assert [c.chat_id for c in again] == [7, 8, 9, 10]
        await broadcasts.mark(
            s,
            Outcomes(
                sent=[(first[0].id, 501), (first[1].id, 502)],
                failed=[(first[2].id, "Bad Request: chat not found")],
                blocked=[first[3].id],
                retry=[(first[4].id, NOW + timedelta(seconds=30), "502 Bad Gateway")],
                skipped=[(first[5].id, "opted_out")],
            ),
            now=NOW,
        )
        counts = await broadcasts.progress(s, bid)
        assert counts == {"pending": 1, "sending": 4, "sent": 2, "failed": 1, "blocked": 1,
                          "skipped": 1}  # fmt: skip
        rows = {r.chat_id: r for r in await _deliveries(s, bid)}
        assert rows[1].message_id == 501 and rows[1].sent_at == NOW
        blocked_at = (
            await s.execute(select(Person.blocked_at).where(Person.telegram_id == 4))
        ).scalar_one()
        assert blocked_at == NOW
        # the retry waits for its time, then goes again
        assert await broadcasts.claim(s, bid, now=NOW + timedelta(seconds=10)) == []
        retried = await broadcasts.claim(s, bid, now=NOW + timedelta(seconds=31))
        assert [(c.chat_id, c.attempts) for c in retried] == [(5, 2)]
        # marking a row no longer sending changes nothing
        await broadcasts.mark(s, Outcomes(sent=[(first[2].id, 999)]), now=NOW)
        assert {r.chat_id: r for r in await _deliveries(s, bid)}[3].status == "failed"
        assert [(f.chat_id, f.status) for f in await broadcasts.failures(s, bid)] == [
            (3, "failed"),
            (4, "blocked"),
        ]


async def test_an_expired_lease_is_claimed_again(sessions) -> None:
    async with sessions() as s, s.begin():
        for tid in (1, 2):
            await add_person(s, tid)
        bid = await _draft(s)
        await broadcasts.start(s, bid, now=NOW)
        lease = timedelta(minutes=2)
        taken = await broadcasts.claim(s, bid, now=NOW, lease=lease)
        assert len(taken) == 2
        assert await broadcasts.claim(s, bid, now=NOW + timedelta(minutes=1)) == []
        again = await broadcasts.claim(s, bid, now=NOW + timedelta(minutes=3), lease=lease)
        assert [(c.chat_id, c.attempts) for c in again] == [(1, 2), (2, 2)]


async def test_two_sessions_never_claim_the_same_delivery(sessions, database_url) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: concurrent claims cannot happen there")
    async with sessions() as s, s.begin():
        for tid in range(1, 41):
            await add_person(s, tid)
        bid = await _draft(s)
        await broadcasts.start(s, bid, now=NOW)

    gate = asyncio.Event()
    claimed = [asyncio.Event(), asyncio.Event()]

    async def claimer(n: int) -> list[int]:
        async with sessions() as s, s.begin():
            got = [c.id for c in await broadcasts.claim(s, bid, now=NOW, limit=15)]
            claimed[n].set()
            await gate.wait()  # both hold their row locks at once
            return got

    first = asyncio.create_task(claimer(0))
    second = asyncio.create_task(claimer(1))
    try:  # without SKIP LOCKED the second would wait for the first's locks: a timeout here
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in claimed)), timeout=10)
    finally:
        gate.set()
    a, b = await first, await second
    assert len(a) == len(b) == 15 and not set(a) & set(b)


async def test_status_changes_are_guarded_and_cancel_skips_the_rest(sessions) -> None:
    async with sessions() as s, s.begin():
        for tid in range(1, 6):
            await add_person(s, tid)
        bid = await _draft(s)
        assert not await broadcasts.set_status(s, bid, "paused")  # a draft cannot pause
        assert not await broadcasts.set_status(s, bid, "sending")  # only start() sends
        assert not await broadcasts.set_status(s, bid, "done")
        assert await broadcasts.schedule(s, bid, at=NOW + timedelta(hours=1))
        assert await broadcasts.due(s, now=NOW) == []
        assert await broadcasts.due(s, now=NOW + timedelta(hours=1)) == [bid]
        await broadcasts.start(s, bid, now=NOW)
        assert await broadcasts.set_status(s, bid, "paused")
        assert await broadcasts.claim(s, bid, now=NOW) == []  # paused: nothing to claim
        assert not await broadcasts.set_status(s, bid, "paused")
        assert await broadcasts.set_status(s, bid, "sending")
        taken = await broadcasts.claim(s, bid, now=NOW, limit=2)
        await broadcasts.mark(s, Outcomes(sent=[(taken[0].id, 1)]), now=NOW)
        assert not await broadcasts.finish(s, bid, now=NOW)  # still pending ones
        assert await broadcasts.set_status(s, bid, "cancelled")
        assert await broadcasts.progress(s, bid) == {"pending": 0, "sending": 1, "sent": 1,
                                                     "failed": 0, "blocked": 0, "skipped": 3}  # fmt: skip
        assert not await broadcasts.set_status(s, bid, "sending")
        assert not await broadcasts.set_status(s, bid, "cancelled")
        b = await broadcasts.get(s, bid)
        assert b.status == "cancelled" and b.finished_at is not None


async def test_a_broadcast_is_done_when_nothing_is_left(sessions) -> None:
    async with sessions() as s, s.begin():
        await add_person(s, 1)
        bid = await _draft(s)
        await broadcasts.start(s, bid, now=NOW)
        taken = await broadcasts.claim(s, bid, now=NOW)
        assert not await broadcasts.finish(s, bid, now=NOW)  # in flight
        await broadcasts.mark(s, Outcomes(sent=[(taken[0].id, 9)]), now=NOW)
        assert await broadcasts.finish(s, bid, now=NOW)
        assert not await broadcasts.set_status(s, bid, "cancelled")
        assert (await broadcasts.get(s, bid)).status == "done"


async def test_audit_entries_are_written_without_sensitive_values(sessions) -> None:
    async with sessions() as s, s.begin():
        author = await add_person(s, 1)
        bid = await _draft(s)
        await broadcasts.audit(
            s, actor_id=author, action="broadcast.start", subject=f"broadcast:{bid}",
            details={"segment": {"kind": "all"}, "recipients": 1},
        )  # fmt: skip
        with pytest.raises(ValueError):
            await broadcasts.audit(
                s, actor_id=author, action="x", subject="person:1", details={"NIK": "3578"}
            )
        entries = await broadcasts.audit_of(s, subject=f"broadcast:{bid}")
        assert [(e.actor_id, e.action, e.details["recipients"]) for e in entries] == [
            (author, "broadcast.start", 1)
        ]
    async with sessions() as s:
        assert (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one() == 1
        assert (await s.execute(select(func.count()).select_from(Broadcast))).scalar_one() == 1


async def test_a_draft_needs_a_valid_segment_and_a_whole_button(sessions) -> None:
    async with sessions() as s, s.begin():
        with pytest.raises(ValueError):
            await _draft(s, {"kind": "region", "region": "99"})
        with pytest.raises(ValueError):
            await _draft(s, button_text="Daftar")
        bid = await _draft(s, Segment(kind="interest", goal="kur").to_dict(),
                           button_text="Daftar", button_url="https://example.org")  # fmt: skip
        assert (await broadcasts.get(s, bid)).segment == {"kind": "interest", "goal": "kur"}
