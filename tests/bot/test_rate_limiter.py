"""The bot-wide rate limiter hands out slots one interval apart, even after a stall."""

from __future__ import annotations

import asyncio
import time

from bot.delivery import RateLimiter


async def test_a_stalled_event_loop_does_not_release_the_waiting_sends_at_once() -> None:
    limiter = RateLimiter(25.0)
    released: list[float] = []

    async def send() -> None:
        await limiter.wait()
        released.append(time.monotonic())

    sends = [asyncio.create_task(send()) for _ in range(8)]  # the sender's concurrency
    await asyncio.sleep(0)  # each takes its turn
    time.sleep(0.4)  # noqa: ASYNC251 - the loop stalls (a starved CPU, a long GC)
    await asyncio.gather(*sends)
    gaps = [b - a for a, b in zip(released, released[1:], strict=False)]
    assert min(gaps) >= limiter.interval - 0.001, [round(g * 1000, 1) for g in gaps]


async def test_a_429_pause_holds_the_next_send() -> None:
    limiter = RateLimiter(100.0)
    await limiter.wait()
    limiter.pause(0.3)
    started = time.monotonic()
    await limiter.wait()
    assert time.monotonic() - started >= 0.29
