"""`juragan run` killed (SIGKILL) at random moments while 30 people type, and started again:
every message is answered, and a message is answered twice only if it was in flight at a kill.

Long polling confirms an update to Telegram with the next getUpdates' offset. The bot confirms
one only after it was handled, committed and answered (bot.polling), so a killed process leaves
the rest queued at Telegram (the fake keeps them, as Telegram does) and the next process gets
them again. Each update's replies are committed with its id and forgotten once sent
(bot.middlewares.UpdateContext): a redelivered update whose replies were sent is a no-op, one
whose replies were not is answered from them. Nothing is lost.

Sending to Telegram and recording that it was sent can never be one act: a process killed
after Telegram took a reply and before the reply was forgotten sends it again after the
restart. So "none twice" holds everywhere but there, and this test asserts exactly that much:
a chat gets more answers than messages only for messages it had in flight at a kill (handed
out before the kill and again after it), at most one more per such message and kill; the
counts are printed. The fallback's answer is the same text for every message, so answers are
counted per chat (a replayed answer may arrive while the person waits for the next one).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from contextlib import suppress

from sqlalchemy import select

from storage.db import create_engine
from storage.models import ProcessedUpdate
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.process import Spawned

PEOPLE = 30
MESSAGES = 4  # each, 120 in all
KILLS = 2
FIRST_UID = 61_000
ANSWER = "Kirim /start"  # what someone new hears, whatever they type (bot.handlers.fallback)


async def launch(fake: FakeBotAPI, database_url: str, cwd) -> Spawned:
    """`juragan run` against the fake, returned once its start-up is done (it polls next)."""
    env = {
        "BOT_TOKEN": "123456:TEST-token",
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "FLOOD_LIMIT": "1000",
        "LOG_LEVEL": "WARNING",
    }
    since = len(fake.calls)
    process = Spawned(await Spawned.spawn(env, cwd))
    await process.until(
        fake.wait_for(
            lambda c: c.method == "setMyCommands" and "scope" in c.params, timeout=30, since=since
        )
    )
    return process


class Answers:
    """Replies the bot sent, by chat, read from the fake's calls as they come (once each)."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake, self.seen, self.by_chat = fake, 0, Counter[int]()

    def __call__(self, uid: int) -> int:
        calls = self.fake.calls
        for call in calls[self.seen :]:
            if call.method == "sendMessage" and call.error_code is None:
                if ANSWER in str(call.params.get("text")):
                    self.by_chat[int(call.params["chat_id"])] += 1
        self.seen = len(calls)
        return self.by_chat[uid]


async def one_message(fake: FakeBotAPI, answers: Answers, uid: int, text: str) -> tuple[int, int]:
    """Write, and wait for the answer (or until Telegram no longer holds the update, which
    was confirmed, and a second more has passed): (update id, answers it got)."""
    loop = asyncio.get_running_loop()
    before = answers(uid)
    update_id = fake.send_text(uid, text)["update_id"]
    confirmed_at: float | None = None

    def settled() -> bool:
        nonlocal confirmed_at
        if answers(uid) > before:
            return True
        if confirmed_at is None and all(u["update_id"] != update_id for u in fake.pending_updates):
            confirmed_at = loop.time()
        return confirmed_at is not None and loop.time() - confirmed_at > 1.0

    while not settled():
        with suppress(AssertionError):
            await fake.wait_until(settled, timeout=0.5)
    await asyncio.sleep(0.05)  # a second answer to the same message would show by now
    return update_id, answers(uid) - before


async def person_types(
    fake: FakeBotAPI,
    answers: Answers,
    uid: int,
    rng: random.Random,
    got: dict[int, int],
    owner: dict[int, int],
) -> None:
    """One person writes 4 messages, each after the answer to the one before, as in a chat;
    `got` maps each message's update id to the answers that came while it was the newest."""
    for n in range(MESSAGES):
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        update_id, answered = await one_message(fake, answers, uid, f"halo {n}")
        got[update_id], owner[update_id] = answered, uid


async def test_killed_at_random_moments_every_message_is_answered_and_only_once_if_it_could(
    database_url: str, tmp_path
) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    got: dict[int, int] = {}
    owner: dict[int, int] = {}
    async with FakeBotAPI() as fake:
        answers = Answers(fake)
        process = await launch(fake, database_url, tmp_path)
        people = asyncio.gather(
            *(
                person_types(fake, answers, FIRST_UID + n, random.Random(seed + n), got, owner)
                for n in range(PEOPLE)
            )
        )
        killed, kills = 0, []
        try:
            while killed < KILLS and not people.done():
                # Kill while it is busy: once it has answered something since it started.
                start = len(fake.calls)
                with suppress(AssertionError):
                    await process.until(
                        fake.wait_for(lambda c: c.method == "sendMessage", timeout=20, since=start)
                    )
                await asyncio.sleep(rng.uniform(0.0, 0.3))
                kills.append(time.monotonic())
                await process.kill()
                killed += 1
                process = await launch(fake, database_url, tmp_path)
            await asyncio.wait_for(people, timeout=60)
        finally:
            people.cancel()
            await process.stop()
        assert process.proc.returncode == 0, process.log

        await asyncio.sleep(1.0)  # a late replay shows by now
        ids = list(got)
        assert len(ids) == PEOPLE * MESSAGES and killed == KILLS
        assert not fake.pending_updates, f"seed {seed}: updates never confirmed"
        engine = create_engine(database_url)
        async with engine.connect() as connection:
            rows = (await connection.execute(select(ProcessedUpdate))).all()
        await engine.dispose()
        done = {row.update_id for row in rows}
        lost = [i for i in ids if i not in done]
        assert not lost, f"seed {seed}: {len(lost)} messages confirmed but never handled"
        unsent = [row.update_id for row in rows if row.replies is not None]
        assert not unsent, f"seed {seed}: {len(unsent)} updates' replies never sent"
        unanswered = [i for i in ids if got[i] == 0]
        assert not unanswered, f"seed {seed}: {len(unanswered)} messages never answered"

        def spanned(update_id: int) -> int:
            """The kills this update was in flight at: handed out before, and again after."""
            handed = fake.handed_out[update_id]
            return sum(1 for k in kills if handed[0] < k < handed[-1])

        extra, allowed, in_flight = 0, 0, 0
        for n in range(PEOPLE):
            uid = FIRST_UID + n
            mine = [i for i in ids if owner[i] == uid]
            more = answers(uid) - MESSAGES
            may = sum(spanned(i) for i in mine)
            assert 0 <= more <= may, (
                f"seed {seed}: chat {uid} got {more} answers more than its {MESSAGES} "
                f"messages, with {may} of them in flight at a kill"
            )
            extra, allowed = extra + more, allowed + may
            in_flight += sum(1 for i in mine if spanned(i))
        print(
            f"seed {seed}: {PEOPLE * MESSAGES} messages, {KILLS} kills, {in_flight} messages in "
            f"flight at a kill, {extra} answered twice (at most {allowed} could be)"
        )
