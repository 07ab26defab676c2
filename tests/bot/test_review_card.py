"""The review card shows every value of a snapshot as a person reads it, in the reviewer's
language: "Tempat: Terdaftar", not "registered"; a KUR answer by its option's label, also when
the run that made it is gone; the founding's type and legal steps by name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from bot.handlers.review import ReviewCB
from storage import repo, submissions
from storage import reviews as store
from storage.models import Submission, SubmissionKind
from tests.bot.test_kur import answer_readiness, open_kur
from tests.support.talk import onboard, texts

STAFF = 8601
NIK = "3578011508900001"
RAW_CODES = ("registered", "waitlisted", "running_less", "married", "consumer_ok", "sku", "jasa")


async def staff(app, person, lang: str = "id"):
    chat = person(STAFF)
    await onboard(chat, lang=lang)  # lives in Kota Surabaya: WIB
    async with app.sessionmaker() as session, session.begin():
        me = await repo.person_by_telegram_id(session, telegram_id=STAFF)
        await repo.set_role(session, person_id=me.id, role="staff")
    return chat


async def filed(app, kind: SubmissionKind, answers: dict[str, Any], region="51.71") -> int:
    """A submission of someone in Kota Denpasar (WITA), as the journeys file them."""
    async with app.sessionmaker() as session, session.begin():
        someone = await repo.create_person(session, telegram_id=7301, locale="id")
        await repo.update_person(
            session, someone, name="Made Wirawan", province_code=region[:2], regency_code=region
        )
        made = await submissions.create(
            session, person=someone, kind=kind, ref_id=None, answers=answers, new_subject=True
        )
        return made.id


async def card(chat, sid: int, kind: SubmissionKind) -> str:
    k = store.KINDS.index(kind.value)
    return texts(await chat.press_data(ReviewCB(act="open", id=sid, k=k).pack()))


async def test_a_training_registration_reads_terdaftar_not_registered(app, person) -> None:
    sid = await filed(
        app,
        SubmissionKind.TRAINING,
        {
            "training_id": 4,
            "title": "Pemasaran digital",
            "starts_at": "2026-12-02T01:00:00+00:00",
            "status": "registered",
        },
    )
    said = await card(await staff(app, person), sid, SubmissionKind.TRAINING)
    assert "• Tempat: <b>Terdaftar</b>" in said
    assert "• Pelatihan: <b>Pemasaran digital</b>" in said
    assert "• Mulai: <b>2 Desember 2026, 09.00 WITA</b>" in said  # the training's own zone
    assert "training_id" not in said and "registered" not in said


async def test_a_waitlisted_place_and_an_english_reviewer(app, person) -> None:
    sid = await filed(
        app, SubmissionKind.TRAINING, {"title": "Literasi keuangan", "status": "waitlisted"}
    )
    said = await card(await staff(app, person, lang="en"), sid, SubmissionKind.TRAINING)
    assert "• Place: <b>On the waitlist</b>" in said and "waitlisted" not in said


async def test_a_founding_file_reads_its_type_and_steps_by_name(app, person) -> None:
    sid = await filed(
        app,
        SubmissionKind.FOUNDING,
        {
            "name": "Koperasi Pulang Jaya",
            "kind": "jasa",
            "purpose": "Jasa servis motor untuk purna PMI",
            "founders": 9,
            "meeting_at": "2026-11-22T03:00:00+00:00",
            "milestones": {"adart": "2026-11-01", "meeting": "2026-11-22"},
        },
    )
    said = await card(await staff(app, person), sid, SubmissionKind.FOUNDING)
    assert "• Nama koperasi: <b>Koperasi Pulang Jaya</b>" in said
    assert "• Jenis koperasi: <b>Jasa</b>" in said
    assert "• Pendiri: <b>9</b>" in said
    assert "• Rapat pendirian: <b>22 November 2026, 11.00 WITA</b>" in said
    assert "• Langkah yang sudah selesai: <b>AD/ART disusun; Rapat pendirian diadakan</b>" in said
    assert "{" not in said and "adart" not in said  # never Python's repr of the steps


async def test_a_join_request_masks_the_nik_until_revealed(app, person) -> None:
    sid = await filed(
        app,
        SubmissionKind.JOIN_REQUEST,
        {"cooperative_id": 7, "cooperative_name": "Koperasi Maju Bersama", "nik": NIK},
    )
    chat = await staff(app, person)
    said = await card(chat, sid, SubmissionKind.JOIN_REQUEST)
    assert "• Koperasi: <b>Koperasi Maju Bersama</b>" in said
    assert "• NIK: <b>3578********0001</b>" in said and NIK not in said
    k = store.KINDS.index(SubmissionKind.JOIN_REQUEST.value)
    said = texts(await chat.press_data(ReviewCB(act="nik", id=sid, k=k).pack()))
    assert f"• NIK: <b>{NIK}</b>" in said


async def test_a_kur_check_reads_its_options_with_or_without_its_run(app, person) -> None:
    returnee = person(8602)
    await open_kur(returnee)
    await answer_readiness(
        returnee, status="running_less", age="married", credit="consumer_ok", permit="sku"
    )
    chat = await staff(app, person)
    async with app.sessionmaker() as session:
        [waiting] = await store.waiting(
            session, kind=SubmissionKind.KUR_READINESS.value, regions=None
        )
    expected = (
        "• Keadaan usaha: <b>Berjalan kurang dari 6 bulan</b>",
        "• Usaha: <b>Warung sembako</b>",
        "• Modal yang dibutuhkan: <b>Rp40.000.000</b>",
    )
    said = await card(chat, waiting.id, SubmissionKind.KUR_READINESS)
    assert all(line in said for line in expected), said
    assert not any(f"<b>{code}</b>" in said for code in RAW_CODES)
    # The run gone (its person deleted their answers, a restart of the journey): the snapshot
    # alone still reads the same, never "Tempat: running_less".
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Submission).where(Submission.id == waiting.id).values(run_id=None)
        )
    said = await card(chat, waiting.id, SubmissionKind.KUR_READINESS)
    assert all(line in said for line in expected), said
    assert "Tempat" not in said and "running_less" not in said
