"""Retention (storage/retention.py, bot/retention.py), on both backends: old rows pruned in
batches, young ones kept, an announcement still going keeps its deliveries, and the audit
log lets go of expired rows only (the database refuses every other change)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.retention import Pruner, Retention
from bot.scheduler import _retain
from storage import retention
from storage.db import Transactions, create_engine, create_sessionmaker
from storage.models import (
    AuditEntry,
    AuditPrune,
    Broadcast,
    BroadcastStatus,
    Delivery,
    ProcessedUpdate,
)

NOW = datetime.now(UTC)  # the audit log's floor (a year) counts from the database's clock


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(database_url)
    yield made
    await made.dispose()


async def count(engine: AsyncEngine, table: type, *where: object) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(table.__table__)  # type: ignore[attr-defined]
        return int(await connection.scalar(query.where(*where)) or 0)


async def batches(engine: AsyncEngine, step, **kwargs: object) -> list[int]:  # noqa: ANN001
    """Run one kind's batches, each in its own transaction, until one deletes nothing."""
    done = []
    while True:
        async with engine.begin() as connection:
            done.append(await step(connection, **kwargs))
        if not done[-1] or len(done) > 20:
            return done


async def test_old_update_ids_go_in_batches_young_ones_stay(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(ProcessedUpdate),
            [{"update_id": i, "processed_at": days_ago(3 + i / 100)} for i in range(12)]
            + [{"update_id": 100 + i, "processed_at": days_ago(1)} for i in range(3)],
        )
    done = await batches(engine, retention.update_ids, before=days_ago(2), batch=5)
    assert done == [5, 5, 2, 0]
    async with engine.connect() as connection:
        left = (await connection.execute(select(ProcessedUpdate.update_id))).scalars().all()
    assert sorted(left) == [100, 101, 102]


async def broadcast(engine: AsyncEngine, status: str, finished: datetime | None, **more) -> int:  # noqa: ANN003
    async with engine.begin() as connection:
        made = await connection.execute(
            insert(Broadcast)
            .values(text="Halo", status=status, finished_at=finished, **more)
            .returning(Broadcast.id)
        )
        bid = made.scalar_one()
        await connection.execute(
            insert(Delivery),
            [
                {"broadcast_id": bid, "chat_id": 5000 + i, "status": "sent",
                 "created_at": days_ago(200), "sent_at": days_ago(200)}
                for i in range(7)
            ],
        )  # fmt: skip
    return bid


async def test_deliveries_of_long_finished_announcements_go_in_batches(engine) -> None:
    old = await broadcast(engine, BroadcastStatus.DONE.value, days_ago(100))
    cancelled = await broadcast(engine, BroadcastStatus.CANCELLED.value, days_ago(120))
    going = await broadcast(engine, BroadcastStatus.SENDING.value, None)
    paused = await broadcast(engine, BroadcastStatus.PAUSED.value, None)
    unreported = await broadcast(
        engine, BroadcastStatus.DONE.value, days_ago(100), stage="report"
    )  # its report is still to be sent
    recent = await broadcast(engine, BroadcastStatus.DONE.value, days_ago(10))
    done = await batches(engine, retention.deliveries, before=days_ago(90), batch=3)
    assert done == [3, 3, 1, 3, 3, 1, 0]  # the older one first, a batch at a time
    for bid in (old, cancelled):
        assert await count(engine, Delivery, Delivery.broadcast_id == bid) == 0
        assert await count(engine, Broadcast, Broadcast.id == bid) == 1  # the row stays
    for bid in (going, paused, unreported, recent):
        assert await count(engine, Delivery, Delivery.broadcast_id == bid) == 7


async def audit_rows(engine: AsyncEngine, *ages: float) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(AuditEntry),
            [
                {"actor_id": 1, "action": "export", "subject": f"age:{age}", "details": {},
                 "at": days_ago(age)}
                for age in ages
            ],
        )  # fmt: skip


async def subjects(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(AuditEntry.subject).order_by(AuditEntry.at))
        return list(rows.scalars())


async def test_expired_audit_rows_go_the_rest_stays_append_only(engine) -> None:
    await audit_rows(engine, 900, 800, 800, 400, 100)
    done = await batches(engine, retention.audit, before=days_ago(730), batch=2)
    assert done == [2, 1, 0]
    assert await subjects(engine) == ["age:400", "age:100"]
    assert await count(engine, AuditPrune) == 0  # the cut-off never outlives its batch
    for statement in (
        "DELETE FROM audit_log",  # no cut-off
        "UPDATE audit_log SET action = 'x'",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))
    # A cut-off in the future (a bug, or someone by hand) still cannot reach a row younger
    # than the database's floor of a year.
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await retention.audit(connection, before=NOW + timedelta(days=1), batch=10)
    assert await subjects(engine) == ["age:400", "age:100"]


async def test_the_pruner_runs_every_kind_and_only_on_the_leader(database_url, engine) -> None:
    await audit_rows(engine, 800, 10)
    async with engine.begin() as connection:
        await connection.execute(
            insert(ProcessedUpdate),
            [{"update_id": i, "processed_at": days_ago(5)} for i in range(7)],
        )
    await broadcast(engine, BroadcastStatus.DONE.value, days_ago(100))
    transactions = Transactions(engine)
    pruner = Pruner(
        transactions=transactions,
        sessionmaker=create_sessionmaker(engine),
        retention=Retention(batch=3),
        pause=0,
    )

    class Follower:
        async def hold(self) -> bool:
            return False

    try:
        await _retain(pruner, Follower())  # type: ignore[arg-type]
        assert await count(engine, ProcessedUpdate) == 7  # another instance leads: nothing
        done = await pruner.run(now=NOW)
    finally:
        await transactions.close()
    assert done.finished and done.rows == {
        "role_payloads": 0, "update_ids": 7, "deliveries": 7, "audit": 1,
    }  # fmt: skip
    assert done.batches == 3 + 4 + 1  # 3+3+1 and an empty one; 3+3+1 and an empty one; 1
    assert await count(engine, ProcessedUpdate) == 0 and await count(engine, Delivery) == 0
    assert await subjects(engine) == ["age:10"]
