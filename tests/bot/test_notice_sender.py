"""The desk's notices reach people through the bot: rows claimed under a lease, rendered in
each person's language, sent through the shared delivery (the bot-wide rate), recorded."""

from __future__ import annotations

from datetime import timedelta

from aiogram.methods import SendMessage
from sqlalchemy import select, update

from flows import clock
from operations import desk as outbox
from operations.notices import Notice
from storage import desk as store
from storage.models import OutboxNotice, Person
from tests.desk.support import returnees


def sent_to(app, uid: int) -> list[str]:
    return [
        c.text for c in app.bot.session.calls if isinstance(c, SendMessage) and c.chat_id == uid
    ]


async def queue(app, person_id: int, submission: int, status: str = "approved") -> None:
    async with app.sessionmaker() as session, session.begin():
        await outbox.queue_notices(
            session,
            [Notice(to=person_id, message="review.decided",
                    args={"submission": submission, "status": status, "reason": None, "fields": []})],
            now=clock.now(),
        )  # fmt: skip


async def person_of(app, submission: int) -> Person:
    async with app.sessionmaker() as session:
        from storage.models import Submission

        sub = await session.get(Submission, submission)
        return await session.get(Person, sub.person_id)


async def test_a_queued_notice_is_sent_once_in_the_persons_language(app) -> None:
    [sid] = await returnees(app, 1, start=730000)
    who = await person_of(app, sid)
    await queue(app, who.id, sid)
    done = await app.notices.work()
    assert done.sent == 1
    [said] = sent_to(app, 730000)  # in Indonesian, and never read as a loan approval
    assert said.startswith("✅ Petugas sudah memeriksa cek kesiapan KUR Anda.")
    assert "bukan persetujuan pinjaman" in said
    assert (await app.notices.work()).claimed == 0  # sent once
    async with app.sessionmaker() as session:
        row = (await session.scalars(select(OutboxNotice))).one()
    assert row.status == "sent" and row.sent_at is not None


async def test_a_claimed_notice_waits_for_its_lease_before_another_sender_takes_it(app) -> None:
    [sid] = await returnees(app, 1, start=731000)
    await queue(app, (await person_of(app, sid)).id, sid)
    now = clock.now()
    async with app.sessionmaker() as session, session.begin():
        assert len(await store.claim_notices(session, now=now, limit=10)) == 1
    async with app.sessionmaker() as session, session.begin():
        assert await store.claim_notices(session, now=now, limit=10) == []  # held
    async with app.sessionmaker() as session, session.begin():
        later = now + store.LEASE + timedelta(seconds=1)
        assert len(await store.claim_notices(session, now=later, limit=10)) == 1  # died: again


async def test_someone_who_blocked_the_bot_is_skipped(app) -> None:
    [sid] = await returnees(app, 1, start=732000)
    who = await person_of(app, sid)
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Person).where(Person.id == who.id).values(blocked_at=clock.now())
        )
    await queue(app, who.id, sid)
    done = await app.notices.work()
    assert done.skipped == 1 and sent_to(app, 732000) == []


def test_the_notices_share_the_bot_wide_delivery(app) -> None:
    assert app.notices.delivery is app.sender.delivery is app.ticker.delivery
    assert app.notices.leader is app.sender.leader  # only the instance that sends, sends
