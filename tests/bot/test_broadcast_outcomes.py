"""The sender's group commit (bot.broadcasts.OutcomeWriter): the outcomes that come together
are written in one transaction, and each send is let go only once its outcome is committed
(what keeps a kill from repeating more than the sends in flight)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest

from bot import broadcasts as module
from bot.broadcasts import OutcomeWriter
from storage import broadcasts as store


class Transactions:
    """Stands in for Sender._write: runs `work` on no session, records each batch written,
    and holds a write until `go` is set (when `hold`)."""

    def __init__(self, *, hold: bool = False, fail: bool = False) -> None:
        self.batches: list[store.Outcomes] = []
        self.go = asyncio.Event()
        if not hold:
            self.go.set()
        self.fail = fail

    async def __call__(self, work) -> None:
        marked: list[store.Outcomes] = []

        async def mark(session, outcomes, *, now=None) -> None:
            marked.append(outcomes)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store, "mark", mark)
            await work(None)
        await self.go.wait()
        if self.fail:
            raise RuntimeError("the database went away")
        self.batches.extend(marked)


@pytest.fixture(autouse=True)
def no_linger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "FLUSH_EVERY", 0.0)


async def test_outcomes_that_come_together_are_one_write() -> None:
    write = Transactions()
    writer = OutcomeWriter(write)
    when = datetime(2027, 1, 10, tzinfo=UTC)
    await asyncio.gather(
        *(writer.sent(i, 100 + i) for i in range(10)),
        writer.blocked(11),
        writer.retry(12, when, "429"),
        writer.failed(13, "400 Bad Request"),
    )
    assert len(write.batches) == 1
    (batch,) = write.batches
    assert batch.sent == [(i, 100 + i) for i in range(10)]
    assert (batch.blocked, batch.retry, batch.failed) == (
        [11],
        [(12, when, "429")],
        [(13, "400 Bad Request")],
    )


async def test_a_send_is_let_go_only_once_its_outcome_is_committed() -> None:
    write = Transactions(hold=True)
    writer = OutcomeWriter(write)
    first = asyncio.create_task(writer.sent(1, 11))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(writer.sent(2, 12))  # comes while the first is being written
    await asyncio.sleep(0.01)
    assert not first.done() and not second.done()
    write.go.set()
    await asyncio.gather(first, second)
    assert [b.sent for b in write.batches] == [[(1, 11)], [(2, 12)]]


async def test_a_failed_write_fails_every_send_it_held() -> None:
    writer = OutcomeWriter(Transactions(fail=True))
    results = await asyncio.gather(writer.sent(1, 11), writer.blocked(2), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]


async def test_a_waiter_stopped_does_not_stop_the_others_write() -> None:
    write = Transactions(hold=True)
    writer = OutcomeWriter(write)
    stopped = asyncio.create_task(writer.sent(1, 11))
    kept = asyncio.create_task(writer.sent(2, 12))
    await asyncio.sleep(0.01)
    stopped.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stopped
    write.go.set()
    await kept
    assert [b.sent for b in write.batches] == [[(1, 11), (2, 12)]]


async def test_closed_mid_write_leaves_the_outcomes_unwritten() -> None:
    write = Transactions(hold=True)
    writer = OutcomeWriter(write)
    waiting = asyncio.create_task(writer.sent(1, 11))
    await asyncio.sleep(0.01)
    await writer.close()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert write.batches == []
