"""A full journey, then /datasaya and /hapusdata, checked against a scan of every column of
every table (read from the models' metadata, so a new table or column is scanned too)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram.methods import SendMessage
from aiogram.types import Voice
from sqlalchemy import select, update

from bot.handlers.announcements import AnnouncementsCB
from bot.handlers.training import TrainingCB
from bot.outbox import as_data
from flows import clock
from storage import audit, repo, roles, submissions
from storage.models import (
    Base,
    Broadcast,
    Founding,
    FoundingMember,
    FoundingStatus,
    Person,
    RegistrationStatus,
    Training,
    TrainingRegistration,
)
from tests.bot.test_coop_join import load_sample, search_home
from tests.support.talk import agree, count, one, texts

SITI = 918273645  # the Telegram id to look for
NAME, NIK = "Siti Aminah", "3578014101900001"
PHONES = ("081234567890", "+6281234567890", "81234567890")
CANARY = "Kambing etawa Zq7x"  # free text typed into purposes and reasons
HEIR, OTHER, WAITER = 918270001, 918270002, 918270003
START = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


async def onboard(chat, *, name: str, phone: str, lang: str = "en") -> None:
    await agree(chat)
    await chat.choose(lang)
    await chat.send(name)
    await chat.send(phone)
    await chat.send("Jawa Timur")
    await chat.send("Kota Surabaya")
    await chat.choose("TW")
    await chat.choose("5to10")
    await chat.choose("kur")


async def readiness(chat, business: str) -> None:
    await chat.choose("running6")
    await chat.send(business)
    for value in ("adult", "yes", "yes", "nib"):
        await chat.choose(value)
    await chat.send("40 juta")
    for value in ("never", "none", "ok", "yes"):
        await chat.choose(value)


async def add_training(app, seats: int = 1) -> int:
    async with app.sessionmaker() as session, session.begin():
        training = Training(
            title="Jualan online",
            organiser="Disnaker Surabaya",
            topic="digital",
            starts_at=START,
            ends_at=START + timedelta(hours=3),
            place="BLK Surabaya",
            province_code="35",
            regency_code="35.78",
            seats=seats,
        )
        session.add(training)
        await session.flush()
        return training.id


async def journey(app, person) -> dict[str, Any]:
    """Onboarding, a join request with the NIK, a founding plan with co-founders and a meeting,
    two KUR loans (one rejected with a typed reason, one with a bank visit), a training seat
    with someone on the waitlist, an announcement written as a coordinator, reminders pending
    and an unfinished flow: everything typed carries a canary."""
    await load_sample(app)
    siti = person(SITI)
    await onboard(siti, name=NAME, phone="0812 3456 7890")
    await siti.press_data(AnnouncementsCB(ok=True).pack())
    heir, other, waiter = person(HEIR), person(OTHER), person(WAITER, language_code="id")
    await onboard(heir, name="Ani Purnama", phone="0813 1111 2222", lang="id")
    await onboard(other, name="Budi Santoso", phone="0813 3333 4444")
    await onboard(waiter, name="Wati Lestari", phone="0813 5555 6666", lang="id")
    await waiter.press_data(AnnouncementsCB(ok=True).pack())

    # a join request with the NIK
    await search_home(siti)
    await siti.press("Karyawan Surabaya")
    await siti.press("Ask to join")
    await siti.choose("yes")
    await siti.send(NIK)
    assert "has been sent" in texts(await siti.choose("yes"))

    # a founding plan, two co-founders, the meeting date (reminders for all three)
    await siti.send("/menu")
    await siti.press("Cooperative")
    await siti.press("Found a new one")
    await siti.choose("simpan_pinjam")
    await siti.send("Simpan pinjam " + CANARY)
    await siti.send("Koperasi Purna Surabaya")
    await siti.choose("yes")
    plan = await one(app, Founding)
    for chat in (heir, other):
        await chat.send(f"/start f-{plan.code}")
        await chat.press("✅")
    await siti.press("Set the meeting date")
    await siti.send("10/01/2030")
    await siti.send("14.30")

    # KUR: one loan rejected with a typed reason, one with a bank visit
    await siti.send("/menu")
    await siti.press("KUR loan")
    await readiness(siti, "Warung " + CANARY)
    await siti.press("Record what happened")
    await siti.press("The bank said no")
    await siti.choose("other")
    await siti.send("Alasan " + CANARY)
    await siti.press("Start a new check")
    await readiness(siti, "Ternak " + CANARY)
    await siti.press("Bank and appointment")
    await siti.choose("other")
    await siti.send("Bank " + CANARY)
    await siti.send("Cabang " + CANARY)
    await siti.send((clock.today() + timedelta(days=10)).strftime("%d/%m/%Y"))
    await siti.choose("0900")

    # a training seat, and someone on its waitlist
    training_id = await add_training(app)
    await siti.press_data(TrainingCB(act="reg", id=training_id).pack())
    await waiter.press_data(TrainingCB(act="reg", id=training_id).pack())

    # a question to the office as a voice note, then typed text added to it
    await siti.send("/tanya")
    voice = Voice(file_id=f"voice{SITI}", file_unique_id="v1", duration=9)
    assert "question #" in texts(await siti.feed(message=siti._message(voice=voice)))
    await siti.send("/tanya")
    assert "Added to your question" in texts(await siti.send(f"Pertanyaan {CANARY}"))

    # a coordinator through an invitation link; an announcement, sent now (to Siti and Wati)
    async with app.sessionmaker() as session, session.begin():
        invite = await roles.create_invite(
            session, role="coordinator", regions=["35"], created_by=None
        )
    assert "coordinator" in texts(await siti.send(f"/start role-{invite.token}"))
    await siti.send("/siaran")
    await siti.send(f"Rapat bersama {NAME} (0812 3456 7890): {CANARY}")
    await siti.press("Send now")
    await siti.press("Yes, send it now")

    # an unfinished flow holding a typed answer
    await siti.send("/menu")
    await siti.press("Cooperative")
    await siti.press("Found a new one")
    await siti.choose("jasa")
    await siti.send("Jasa katering " + CANARY)
    return {"siti": siti, "heir": heir, "other": other, "waiter": waiter, "plan": plan.id}


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


async def scan(app, predicate) -> list[tuple[str, str, Any]]:
    """(table, column, value) of every value anywhere in the database the predicate takes."""
    hits = []
    async with app.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                for column, value in zip(table.columns, row, strict=True):
                    if value is not None and predicate(column, value):
                        hits.append((table.name, column.name, value))
    return hits


def identifies_siti(column, value) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value == SITI
    text = _text(value)
    return any(n in text for n in (NAME, "Aminah", NIK, *PHONES, CANARY, str(SITI)))


async def test_after_deletion_no_row_anywhere_identifies_the_person(app, person) -> None:
    chats = await journey(app, person)
    siti = chats["siti"]
    # A process killed after a commit and before answering her left its replies stored.
    left = SendMessage(chat_id=SITI, text=f"{NAME}, 0812 3456 7890")
    async with app.sessionmaker() as session, session.begin():
        await repo.mark_processed(session, update_id=1, replies=as_data([left]))
    assert await scan(app, identifies_siti)  # the scan finds what is there before

    prompt = texts(await siti.send("/hapusdata"))
    for said in (
        "“Koperasi Purna Surabaya” passes to Ani, the next founder",
        "Request to join a cooperative (Koperasi Konsumen Karyawan Surabaya (CONTOH)), still "
        "waiting: withdrawn",
        "Your seat in “Jualan online”",
        "the first person on the waitlist, if any, gets it and is told",
        "Your KUR loan record (The bank said no)",
        "Your KUR loan record (Bank visit planned)",
        "not sent yet are cancelled: 1",
    ):
        assert said in prompt, prompt
    assert "Yes, delete" in " ".join(siti.buttons())
    await siti.press("Yes, delete")

    assert await scan(app, identifies_siti) == []
    assert await scan(app, lambda c, v: c.name == "chat_id" and v != 0) != []  # Wati's stays
    # the plan passed to Ani, who is told in Indonesian what she can now do
    plan = await one(app, Founding)
    heir = await one(app, Person, Person.telegram_id == HEIR)
    assert (plan.founder_id, plan.status, plan.purpose) == (heir.id, "planning", "–")
    told = texts(chats["heir"].replies())
    assert "Anda sekarang memimpin rencana pendirian “Koperasi Purna Surabaya”" in told
    assert "tanggal rapat pendirian" in told
    assert "Ani now leads the plan" in texts(chats["other"].replies())
    # Wati had the waitlist place: the seat is hers now, and she is told
    waiter = await one(app, Person, Person.telegram_id == WAITER)
    reg = await one(app, TrainingRegistration, TrainingRegistration.person_id == waiter.id)
    assert reg.status == RegistrationStatus.REGISTERED
    assert "Kabar baik" in texts(chats["waiter"].replies())
    broadcast = await one(app, Broadcast)
    assert (broadcast.status, broadcast.text, broadcast.author_id) == ("cancelled", "", None)


async def test_a_lone_founder_deleting_closes_the_plan(app, person) -> None:
    chat = person(SITI)
    await onboard(chat, name=NAME, phone="0812 3456 7890")
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Found a new one")
    await chat.choose("jasa")
    await chat.send("Jasa katering " + CANARY)
    await chat.send("Koperasi Siti Aminah")
    await chat.choose("yes")
    prompt = texts(await chat.send("/hapusdata"))
    assert "has no other founders, so it is closed" in prompt
    assert "passes to" not in prompt and "seat" not in prompt and "KUR" not in prompt
    await chat.press("Yes, delete")
    plan = await one(app, Founding)
    assert plan.status == FoundingStatus.CANCELLED and plan.founder_id is None
    assert await scan(app, identifies_siti) == []


async def test_a_cofounder_deleting_leaves_the_plan_and_the_founder_is_told(app, person) -> None:
    founder, friend = person(HEIR), person(SITI)
    await onboard(founder, name="Ani Purnama", phone="0813 1111 2222")
    await onboard(friend, name=NAME, phone="0812 3456 7890")
    await founder.send("/menu")
    await founder.press("Cooperative")
    await founder.press("Found a new one")
    await founder.choose("jasa")
    await founder.send("Jasa katering untuk hajatan")
    await founder.send("Koperasi Purna Jaya")
    await founder.choose("yes")
    plan = await one(app, Founding)
    await friend.send(f"/start f-{plan.code}")
    await friend.press("✅")
    founder.replies()
    assert "You leave the founding plan “Koperasi Purna Jaya”" in texts(
        await friend.send("/hapusdata")
    )
    await friend.press("Yes, delete")
    said = texts(founder.replies())
    assert "A co-founder left “Koperasi Purna Jaya”" in said
    assert "Founders now: 1 of at least 9" in said
    after = await one(app, Founding)
    assert after.purpose == "Jasa katering untuk hajatan" and after.status == "planning"
    assert await scan(app, identifies_siti) == []


# --- /datasaya against a scan of the database ---------------------------------------------------

# What references a person without a foreign key: ids kept in columns of their own.
PERSON_ID_COLUMNS = {("audit_log", "actor_id"), ("submissions", "decided_by")}


async def rows_of(app, person_id: int, telegram_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that refers to the person: by a foreign key to people.id, by an
    id column without one, or by holding their Telegram id."""
    found: dict[str, list[dict[str, Any]]] = {}
    async with app.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings().all():
                refers = any(
                    row[c.name] == person_id
                    and (
                        any(fk.column.table.name == "people" for fk in c.foreign_keys)
                        or (table.name, c.name) in PERSON_ID_COLUMNS
                        or (table.name == "people" and c.name == "id")
                    )
                    for c in table.columns
                ) or any(
                    row[c.name] == telegram_id
                    for c in table.columns
                    if isinstance(row[c.name], int) and not isinstance(row[c.name], bool)
                )
                if table.name == "audit_log" and row["subject"] == f"person:{person_id}":
                    refers = True  # an entry about them (a role given)
                if refers:
                    found.setdefault(table.name, []).append(dict(row))
    return found


async def test_my_data_shows_every_row_kept_about_the_person(app, person) -> None:
    from bot.mydata import RUN_STATUS, SUBMISSION_KINDS
    from bot.text import moment, rupiah
    from flows import registry
    from storage.models import Loan, RunStatus, Submission, SubmissionKind

    chats = await journey(app, person)
    siti = chats["siti"]
    me = await one(app, Person, Person.telegram_id == SITI)
    async with app.sessionmaker() as session, session.begin():  # a decision of hers, as staff
        budi = await repo.person_by_telegram_id(session, telegram_id=OTHER)
        filed = await submissions.create(
            session, person=budi, kind=SubmissionKind.JOIN_REQUEST, ref_id=1, answers={}
        )
        await session.execute(
            update(Submission)
            .where(Submission.id == filed.id)
            .values(status="approved", decided_by=me.id)
        )
    replies = [c for c in await siti.send("/datasaya") if isinstance(c, SendMessage)]
    assert len(replies) >= 2  # it is long: several messages, each within Telegram's limit
    for reply in replies:
        assert len(reply.text.encode("utf-16-le")) // 2 <= 4096
        assert reply.text.count("<b>") == reply.text.count("</b>")
    shown = "\n".join(r.text for r in replies)
    rows = await rows_of(app, me.id, SITI)
    decided = sum(1 for r in rows["submissions"] if r["decided_by"] == me.id)
    zone = "Asia/Jakarta"
    expected: dict[str, Any] = {
        "people": lambda r: [NAME, "+62 812-****-7890", "3578********0001"],
        "consents": lambda r: [f"(text version {r['text_version']})"],
        "flow_runs": lambda r: [
            f"{registry.get(r['flow']).title}: {RUN_STATUS[RunStatus(r['status'])]}"
        ],
        "submissions": lambda r: (
            [SUBMISSION_KINDS[SubmissionKind(r["kind"])]]
            if r["person_id"] == me.id
            else [f"Sign-ups you decided as a reviewer: {decided}"]
        ),
        "foundings": lambda r: [r["name"]],
        "founding_members": lambda r: ["Koperasi Purna Surabaya: you are the founder"],
        "loans": lambda r: [rupiah(r["amount"], "en")] if r["amount"] else ["The bank said no"],
        "training_registrations": lambda r: ["Jualan online, January 10, 2027"],
        "reminders": lambda r: (
            [moment(r["due_at"].replace(tzinfo=UTC), zone, "en")]
            if r["status"] == "pending"
            else ["Reminders already sent or cancelled"]
        ),
        "deliveries": lambda r: [f"Announcements for you: {len(rows['deliveries'])}"],
        "broadcasts": lambda r: [f"Announcements you wrote: {len(rows['broadcasts'])}"],
        "audit_log": lambda r: [f"never what you typed): {len(rows['audit_log'])}"],
        "role_invites": lambda r: [f"links you made or used: {len(rows['role_invites'])}"],
        "tickets": lambda r: [f"Question #{r['id']}"],
        "ticket_messages": lambda r: [f"Pertanyaan {CANARY}" if r["text"] else "(a voice note)"],
    }
    assert set(rows) <= set(expected), f"/datasaya must show {set(rows) - set(expected)}"
    for table, found in rows.items():
        for row in found:
            for part in expected[table](row):
                assert part in shown, (table, part)
    # details that must be there, and never a number in full
    for part in (
        "Bank " + CANARY,
        "Cabang " + CANARY,
        "Alasan " + CANARY,
        "Jasa katering " + CANARY,  # the unfinished flow's answer
        "Ternak " + CANARY,
        f"Jualan online, {moment(START, zone, 'en')}: registered",
        "Reason the bank gave: Alasan " + CANARY,
        "Koperasi Konsumen Karyawan Surabaya",
        "waiting for review",
        "Keeping your profile and guiding you",
        "Announcements from coordinators: agreed on",
    ):
        assert part in shown, part
    assert NIK not in shown and "81234567890" not in shown
    assert {"role_invites", "audit_log", "deliveries", "broadcasts", "reminders"} <= set(rows)
    assert {"tickets", "ticket_messages"} <= set(rows)
    waiting = texts(await chats["waiter"].send("/datasaya"))
    assert "Jualan online" in waiting and "di daftar tunggu, urutan ke-1" in waiting
    assert rows["loans"] and {r["stage"] for r in rows["loans"]} == {"rejected", "appointment"}
    assert await one(app, Loan, Loan.stage == "appointment")


async def test_refused_and_withdrawn_consents_do_not_read_as_agreed(app, person) -> None:
    refused, withdrawn = person(SITI), person(HEIR)
    await onboard(refused, name=NAME, phone="0812 3456 7890")
    await refused.press_data(AnnouncementsCB(ok=False).pack())
    await onboard(withdrawn, name="Ani Purnama", phone="0813 1111 2222")
    await withdrawn.press_data(AnnouncementsCB(ok=True).pack())
    await withdrawn.send("/berhenti")
    said = texts(await refused.send("/datasaya"))
    assert "Announcements from coordinators: you said no on" in said
    assert "Announcements from coordinators: agreed" not in said
    said = texts(await withdrawn.send("/datasaya"))
    assert "Announcements from coordinators: agreed on" in said and "withdrawn on" in said


def test_long_data_is_packed_into_messages_telegram_takes() -> None:
    from bot.text import MESSAGE_LIMIT
    from bot.text import messages as pack

    parts = [f"<b>Section {n}</b>\n" + "\n".join(f"• line {n}.{i} 🎓" for i in range(90))
             for n in range(6)]  # fmt: skip
    messages = pack(parts)
    assert len(messages) > 1
    for message in messages:
        assert len(message.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT
        assert message.count("<b>") == message.count("</b>")
    joined = "\n".join(messages)
    assert all(f"• line {n}.{i} 🎓" in joined for n in range(6) for i in range(90))
    [one_line] = pack(["x" * 9000])[:1]
    assert len(one_line) <= MESSAGE_LIMIT


async def test_a_founder_and_their_heir_deleting_at_once_leave_the_plan_to_the_third(
    app, person
) -> None:
    """On PostgreSQL the two deletions run at the same time; the plan's row is locked, so the
    second finds the plan as the first left it (SQLite runs them one after the other)."""
    founder, heir, third = person(SITI), person(HEIR), person(OTHER)
    await onboard(founder, name=NAME, phone="0812 3456 7890")
    await onboard(heir, name="Ani Purnama", phone="0813 1111 2222")
    await onboard(third, name="Budi Santoso", phone="0813 3333 4444")
    await founder.send("/menu")
    await founder.press("Cooperative")
    await founder.press("Found a new one")
    await founder.choose("jasa")
    await founder.send("Jasa katering untuk hajatan")
    await founder.send("Koperasi Purna Jaya")
    await founder.choose("yes")
    plan = await one(app, Founding)
    for chat in (heir, third):
        await chat.send(f"/start f-{plan.code}")
        await chat.press("✅")
    await founder.send("/hapusdata")
    await heir.send("/hapusdata")
    asked = founder.last_keyboard_message(), heir.last_keyboard_message()
    await asyncio.gather(
        founder.press("Yes, delete", message=asked[0]),
        heir.press("Yes, delete", message=asked[1]),
    )
    left = await one(app, Person)
    plan = await one(app, Founding)
    assert (left.telegram_id, plan.founder_id, plan.status) == (OTHER, left.id, "planning")
    assert await count(app, FoundingMember) == 1


async def test_a_newcomer_never_takes_the_id_of_someone_who_deleted_their_data(app, person) -> None:
    """SQLite gives a new row the highest id + 1: after the newest person deleted their data, the
    next newcomer would get their id, and the audit log's entries about them."""
    first, gone = person(HEIR), person(SITI)
    await onboard(first, name="Ani Purnama", phone="0813 1111 2222")
    await onboard(gone, name=NAME, phone="0812 3456 7890")
    gone_id = (await one(app, Person, Person.telegram_id == SITI)).id
    async with app.sessionmaker() as session, session.begin():
        await audit.audit(session, actor_id=gone_id, action="export", subject="submissions")
    await gone.send("/hapusdata")
    await gone.press("Yes, delete")
    for uid in (OTHER, WAITER):
        await onboard(person(uid), name="Budi Santoso", phone="0813 3333 4444")
        assert (await one(app, Person, Person.telegram_id == uid)).id > gone_id
    async with app.sessionmaker() as session:
        assert await audit.actor_names(session, [gone_id]) == {}
