"""Every last button of every flow pressed twice at the same moment (two updates, distinct ids,
the same callback data, fed to the dispatcher at once): one effect, two friendly answers.

On PostgreSQL the two updates run in two transactions side by side, which is where a check made
before a write (is there a person yet? is the run still at this step?) let both through; SQLite
has one writer, so there they run one after the other and must end the same way.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy import select, update

from bot.handlers.announcements import AnnouncementsCB
from bot.handlers.coop import CoopCB
from bot.handlers.training import TrainingCB
from bot.offline import OfflineChat
from storage import repo
from storage.models import (
    AuditEntry,
    Broadcast,
    BroadcastStatus,
    Consent,
    Cooperative,
    Delivery,
    FlowRun,
    Founding,
    FoundingMember,
    Loan,
    Person,
    RunStatus,
    Submission,
    SubmissionKind,
    Training,
    TrainingRegistration,
)
from tests.support.talk import agree, count, onboard, one, texts

APOLOGIES = ("Maaf, ada gangguan", "something went wrong")
_ids = itertools.count(7_000_000_000)


def _data_of(message: Message, *, text: str | None, value: str | None) -> str:
    for row in message.reply_markup.inline_keyboard:  # type: ignore[union-attr]
        for button in row:
            data = button.callback_data or ""
            if (text is not None and text in button.text) or (
                value is not None and data.endswith(f":{value}")
            ):
                return data
    raise AssertionError(f"no button {text or value!r} on the latest keyboard")


@contextmanager
def both_read_first(chat: OfflineChat) -> Iterator[None]:
    """On PostgreSQL, hold each update after it read the person and their run until the other
    has read them too (at most a second), so the two always see the same state, as two taps
    a few milliseconds apart do in production. SQLite runs one update after the other."""
    if chat.dp["transactions"].sqlite:
        yield
        return
    real = repo.person_and_active_run
    arrived = 0
    both = asyncio.Event()

    async def read_then_wait(session: Any, *, telegram_id: int) -> Any:
        nonlocal arrived
        found = await real(session, telegram_id=telegram_id)
        arrived += 1
        if arrived >= 2:
            both.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), timeout=1.0)
        return found

    repo.person_and_active_run = read_then_wait  # type: ignore[assignment]
    try:
        yield
    finally:
        repo.person_and_active_run = real  # type: ignore[assignment]


async def twice(
    chat: OfflineChat, *, text: str | None = None, value: str | None = None, data: str = ""
) -> list[TelegramMethod[Any]]:
    """Press one button twice at once: two updates fed concurrently; what the bot did.

    Each press must be answered (its callback query), and neither with an apology."""
    message = chat.last_keyboard_message()
    if not data:
        assert message is not None
        data = _data_of(message, text=text, value=value)
    message = message or chat._message(text="?")
    presses = []
    for _ in range(2):
        callback_id = str(next(_ids))
        chat._callbacks.add(callback_id)
        presses.append(
            Update(
                update_id=next(_ids),
                callback_query=CallbackQuery(
                    id=callback_id,
                    from_user=chat.user,
                    chat_instance="offline",
                    data=data,
                    message=message,
                ),
            )
        )
    with both_read_first(chat):
        await asyncio.gather(*(chat.dp.feed_update(chat.bot, u) for u in presses))
    calls = chat.replies()
    shown = texts(calls)
    assert not any(apology in shown for apology in APOLOGIES), shown
    answered = {c.callback_query_id for c in calls if isinstance(c, AnswerCallbackQuery)}
    assert answered == {u.callback_query.id for u in presses}, "every press gets an answer"  # type: ignore[union-attr]
    return calls


def said(calls: list[TelegramMethod[Any]], part: str) -> int:
    """How many of these calls show `part` (a message, an edit or an alert)."""
    return sum(part in texts([c]) for c in calls)


async def test_consent(app, person) -> None:
    chat = person(9101)
    await chat.send("/start")
    calls = await twice(chat, text="Setuju")
    assert await count(app, Person) == 1
    assert await count(app, Consent) == 1
    assert await count(app, FlowRun) == 1
    assert said(calls, "langkah 1 dari") == 1


async def test_onboarding(app, person) -> None:
    chat = person(9102)
    await agree(chat)
    await chat.choose("en")
    for typed in ("Siti Aminah", "0812 3456 7890", "Jawa Timur", "Kota Surabaya"):
        await chat.send(typed)
    await chat.choose("TW")
    await chat.choose("5to10")
    calls = await twice(chat, value="kur")
    assert said(calls, "Your profile is saved") == 1
    assert said(calls, "May coordinators send you announcements") == 1
    assert (await one(app, FlowRun)).status == RunStatus.COMPLETED


async def test_announcement_opt_in_and_refusal(app, person) -> None:
    yes, no = person(9103), person(9104)
    await onboard(yes, lang="en")
    await onboard(no, lang="en")
    await twice(yes, data=AnnouncementsCB(ok=True).pack())
    await twice(no, data=AnnouncementsCB(ok=False).pack())
    assert await count(app, Consent, Consent.purpose == repo.ANNOUNCEMENTS) == 1
    assert await count(app, Consent, Consent.purpose == repo.NO_ANNOUNCEMENTS) == 1


async def _load_a_cooperative(app) -> int:
    async with app.sessionmaker() as session, session.begin():
        coop = Cooperative(
            name="Koperasi Konsumen Karyawan Surabaya",
            kind="konsumen",
            province_code="35",
            regency_code="35.78",
            village="Genteng",
            description="Simpan pinjam dan toko untuk anggota",
            simpanan_pokok=100_000,
            simpanan_wajib=20_000,
            requirements="KTP",
            benefits="Belanja lebih murah",
            sample=True,
        )
        session.add(coop)
        await session.flush()
        return coop.id


async def test_join_request(app, person) -> None:
    coop_id = await _load_a_cooperative(app)
    chat = person(9105)
    await onboard(chat, lang="en")
    await chat.press_data(CoopCB(act="join", id=coop_id).pack())
    await chat.choose("yes")
    await chat.send("3578014101900001")
    calls = await twice(chat, value="yes")
    assert await count(app, Submission, Submission.kind == SubmissionKind.JOIN_REQUEST) == 1
    assert said(calls, "has been sent") == 1


async def _found(chat: OfflineChat) -> None:
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Found a new one")
    await chat.choose("simpan_pinjam")
    await chat.send("Simpan pinjam untuk purna PMI di Surabaya")
    await chat.send("Koperasi Purna Migran Surabaya")


async def test_founding_plan_and_a_cofounder_joining(app, person) -> None:
    founder, friend = person(9106), person(9107)
    await onboard(founder, lang="en")
    await _found(founder)
    calls = await twice(founder, value="yes")
    assert await count(app, Founding) == 1
    assert said(calls, "Your founding plan is started") == 1
    plan = await one(app, Founding)
    await onboard(friend, lang="en")
    await twice(friend, data=CoopCB(act="fj", k=plan.code).pack())
    assert await count(app, FoundingMember, FoundingMember.founding_id == plan.id) == 2


async def test_kur_readiness_makes_one_loan_and_one_submission(app, person) -> None:
    chat = person(9108)
    await onboard(chat, lang="en")
    await chat.press("KUR loan")
    await chat.choose("running6")
    await chat.send("Warung sembako")
    for value in ("adult", "yes", "yes", "nib"):
        await chat.choose(value)
    await chat.send("40 juta")
    await chat.choose("never")
    await chat.choose("none")
    await chat.choose("ok")
    calls = await twice(chat, value="yes")
    assert said(calls, "Your KUR readiness") == 1
    assert await count(app, Loan) == 1
    assert await count(app, Submission, Submission.kind == SubmissionKind.KUR_READINESS) == 1


async def _training(app, **fields: Any) -> int:
    start = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
    async with app.sessionmaker() as session, session.begin():
        training = Training(
            title="Selling online",
            organiser="Disnaker Surabaya",
            topic="digital",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            place="BLK Surabaya",
            province_code="35",
            regency_code="35.78",
            seats=10,
            **fields,
        )
        session.add(training)
        await session.flush()
        return training.id


async def test_training_registration(app, person) -> None:
    tid = await _training(app, needs_approval=True)
    chat = person(9109)
    await onboard(chat, lang="en")
    await twice(chat, data=TrainingCB(act="reg", id=tid).pack())
    assert await count(app, TrainingRegistration) == 1
    assert await count(app, Submission, Submission.kind == SubmissionKind.TRAINING) == 1


async def _make(app, uid: int, role: str) -> None:
    async with app.sessionmaker() as session, session.begin():
        await session.execute(update(Person).where(Person.telegram_id == uid).values(role=role))


async def test_a_coordinator_creating_a_training_session(app, person) -> None:
    chat = person(9110)
    await onboard(chat, lang="en")
    await _make(app, 9110, "coordinator")
    await chat.send("/pelatihan_baru")
    for typed in ("Pembukuan untuk warung", "Dinas Koperasi Surabaya"):
        await chat.send(typed)
    await chat.choose("finance")
    await chat.send("15/01/2027")
    await chat.choose("09.00")
    await chat.send("12.30")
    await chat.choose("online")
    await chat.send("https://zoom.us/j/123456")
    await chat.choose("35.78")
    await chat.send("25")
    await chat.choose("no")
    calls = await twice(chat, value="yes")
    assert said(calls, "Saved!") == 1
    assert await count(app, Training) == 1


async def _draft(app, person) -> OfflineChat:
    for uid in (9120, 9121):
        reader = person(uid)
        await onboard(reader, lang="en")
        await reader.press_data(AnnouncementsCB(ok=True).pack())
    chat = person(9111)
    await onboard(chat, lang="en")
    await _make(app, 9111, "coordinator")
    await chat.send("/siaran")
    await chat.send("Rapat koperasi hari Sabtu")
    return chat


async def _audited(app, action: str) -> int:
    async with app.sessionmaker() as session:
        return len(
            list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        )


async def test_an_announcement_sent_now(app, person) -> None:
    chat = await _draft(app, person)
    await chat.press("Send now")
    await twice(chat, text="Yes, send it now")
    assert await count(app, Delivery) == 2
    assert await _audited(app, "broadcast.send") == 1


async def test_an_announcement_scheduled(app, person) -> None:
    chat = await _draft(app, person)
    await chat.press("Schedule")
    await chat.send("besok 08.00")
    await twice(chat, text="Yes, schedule it")
    assert (await one(app, Broadcast)).status == BroadcastStatus.SCHEDULED
    assert await _audited(app, "broadcast.schedule") == 1


async def test_a_new_draft_instead_of_this_one(app, person) -> None:
    chat = await _draft(app, person)
    draft = await one(app, Broadcast)
    from bot.handlers.broadcast import BroadcastCB

    await twice(chat, data=BroadcastCB(act="new", id=draft.id).pack())
    assert await count(app, Broadcast, Broadcast.status == BroadcastStatus.DRAFT) == 1


async def test_a_menu_entry_that_starts_a_flow(app, person) -> None:
    chat = person(9112)
    await onboard(chat, lang="en")
    await twice(chat, text="KUR loan")
    active = FlowRun.status == RunStatus.ACTIVE
    assert await count(app, FlowRun, FlowRun.flow == "kur_readiness", active) == 1


async def test_resuming_an_older_run_stops_the_newer_one_of_the_same_flow(app, person) -> None:
    """One active run of a flow per person holds when an older, stopped one is continued."""
    from bot.keyboards import ResumeCB

    chat = person(9113)
    await onboard(chat, lang="en")
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Found a new one")
    older = await one(app, FlowRun, FlowRun.flow == "found_coop")
    await chat.press("Cancel")
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Found a new one")
    shown = texts(await chat.press_data(ResumeCB(act="continue", run=older.id).pack()))
    assert not any(apology in shown for apology in APOLOGIES)
    active = await one(
        app, FlowRun, FlowRun.flow == "found_coop", FlowRun.status == RunStatus.ACTIVE
    )
    assert active.id == older.id


async def test_an_admin_making_an_invitation_link(app, person) -> None:
    from bot.handlers.roles import EVERYWHERE, RoleCB
    from storage.models import RoleInvite
    from tests.conftest import ADMIN_ID

    admin = person(ADMIN_ID)
    await onboard(admin, lang="en")
    calls = await twice(admin, data=RoleCB(act="pick", id=0, r="c", v=EVERYWHERE).pack())
    invite = await one(app, RoleInvite)  # one live link, not two
    assert said(calls, invite.token) == 2  # both presses show it
    assert await _audited(app, "role.invite") == 1
