"""The bot-wide rate limiter hands out slots one interval apart, even after a stall."""

from __future__ import annotations

import asyncio
import time

from bot.delivery import LATE_WAKE_UP, RateLimiter


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


async def test_a_slot_woken_a_millisecond_late_does_not_push_the_next_back() -> None:
    """At 980/s the event loop's millisecond wake-ups are an interval each: the next slot
    counts from when this one was due, or a quarter of the rate is lost."""
    limiter = RateLimiter(980.0)
    due = time.monotonic() - 0.001  # the sleeper woke a millisecond after its slot
    limiter.next_slot = due
    await limiter.wait()
    assert abs(limiter.next_slot - (due + limiter.interval)) < 1e-9


async def test_after_a_stall_at_a_high_rate_only_a_few_go_at_once() -> None:
    limiter = RateLimiter(980.0)
    before = time.monotonic()
    limiter.next_slot = before - 0.5  # the loop stalled half a second
    await limiter.wait()
    assert limiter.next_slot >= before - LATE_WAKE_UP + limiter.interval
    at_once = 0
    while limiter.next_slot <= time.monotonic():  # slots due already: they would go at once
        await limiter.wait()
        at_once += 1
    assert at_once <= LATE_WAKE_UP / limiter.interval + 1
