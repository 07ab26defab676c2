"""decide() and correct(): one decision, audited, its kind's effects, one notice to its person;
a correction writes the snapshot only where it was returned, and the profile or the plan only
with the keys that are theirs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flows import clock
from operations import decisions
from operations.notices import Done, Notice
from storage import coops, repo, submissions
from storage import reviews as store
from storage.db import create_engine, create_sessionmaker
from storage.models import (
    AuditEntry,
    Founding,
    Person,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)

NIK, NEW_NIK = "3578014101900001", "3578014101900002"


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def _person(session: AsyncSession, telegram_id: int, **fields: Any) -> Person:
    person = await repo.create_person(session, telegram_id=telegram_id, locale="id")
    await repo.update_person(
        session, person, province_code="35", regency_code="35.78", name="Siti Aminah", **fields
    )
    return person


async def _filed(
    sessions: async_sessionmaker[AsyncSession],
    kind: SubmissionKind,
    answers: dict[str, Any],
    ref_id: int | None = 7,
    **profile: Any,
) -> tuple[int, int, int]:
    """(person id, reviewer id, submission id) of a fresh submission and a reviewer."""
    async with sessions() as session, session.begin():
        person = await _person(session, 501, **profile)
        reviewer = await _person(session, 502)
        sub = await submissions.create(
            session, person=person, kind=kind, ref_id=ref_id, answers=answers
        )
        return person.id, reviewer.id, sub.id


async def _decide(sessions, sub_id: int, reviewer_id: int, status: str, **kw: Any) -> Done:
    async with sessions() as session, session.begin():
        return await decisions.decide(
            session,
            submission_id=sub_id,
            reviewer_id=reviewer_id,
            status=status,
            reason=kw.get("reason"),
            fields=kw.get("fields"),
            now=clock.now(),
        )


async def _correct(sessions, sub_id: int, person_id: int, answers: dict[str, Any]) -> Done:
    async with sessions() as session, session.begin():
        return await decisions.correct(
            session, submission_id=sub_id, person_id=person_id, answers=answers, now=clock.now()
        )


async def _get(sessions, model: Any, row_id: int) -> Any:
    async with sessions() as session:
        return await session.get(model, row_id)


# --- decide ----------------------------------------------------------------------------------


async def test_an_approval_is_audited_and_tells_its_person_once(sessions) -> None:
    person_id, reviewer_id, sub_id = await _filed(sessions, SubmissionKind.TRAINING, {"t": 1})
    done = await _decide(sessions, sub_id, reviewer_id, "approved")
    assert done.ok and done.changed["submission"] == [sub_id]
    assert done.notices == [
        Notice(
            person_id,
            "review.decided",
            {"submission": sub_id, "status": "approved", "reason": None, "fields": []},
        )
    ]
    sub = await _get(sessions, Submission, sub_id)
    assert (sub.status, sub.decided_by) == (SubmissionStatus.APPROVED, reviewer_id)
    async with sessions() as session:
        [entry] = (await session.scalars(select(AuditEntry))).all()
    assert (entry.action, entry.actor_id, entry.subject) == (
        "review.approve",
        reviewer_id,
        f"submission:{sub_id}",
    )


async def test_the_second_decision_is_refused_too_late_and_changes_nothing(sessions) -> None:
    _person_id, reviewer_id, sub_id = await _filed(sessions, SubmissionKind.TRAINING, {})
    await _decide(sessions, sub_id, reviewer_id, "rejected", reason="Kuota penuh.")
    again = await _decide(sessions, sub_id, reviewer_id, "approved")
    assert (again.ok, again.refused, again.notices) == (False, "too_late", [])
    assert (await _get(sessions, Submission, sub_id)).status == SubmissionStatus.REJECTED
    gone = await _decide(sessions, sub_id + 99, reviewer_id, "approved")
    assert gone.refused == "not_found"


async def test_a_return_names_its_fields_and_the_notice_carries_them(sessions) -> None:
    person_id, reviewer_id, sub_id = await _filed(
        sessions, SubmissionKind.JOIN_REQUEST, {"nik": NIK, "cooperative_name": "KSP Maju"}
    )
    done = await _decide(
        sessions, sub_id, reviewer_id, "returned", reason="NIK salah.", fields=["nik"]
    )
    [notice] = done.notices
    assert (notice.to, notice.args["status"], notice.args["fields"]) == (
        person_id,
        "returned",
        ["nik"],
    )
    assert (await _get(sessions, Submission, sub_id)).returned_fields == ["nik"]
    with pytest.raises(ValueError):
        await _decide(sessions, sub_id, reviewer_id, "returned", reason="x", fields=[])


async def test_the_kinds_effect_is_merged_but_never_tells_the_decided_person(
    sessions, monkeypatch
) -> None:
    person_id, reviewer_id, sub_id = await _filed(sessions, SubmissionKind.TRAINING, {})

    async def effect(session, submission, status, reason, now) -> Done:
        done = Done(changed={"registration": [submission.ref_id]})
        done.tell(person_id, "training.decided", registration=submission.ref_id)  # not theirs
        done.tell(person_id + 1000, "training.promoted", registration=99)  # someone else
        return done

    monkeypatch.setitem(decisions.EFFECTS, SubmissionKind.TRAINING.value, effect)
    done = await _decide(sessions, sub_id, reviewer_id, "rejected", reason="Kuota penuh.")
    assert done.changed == {"submission": [sub_id], "registration": [7]}
    assert [(n.to, n.message) for n in done.notices] == [
        (person_id + 1000, "training.promoted"),
        (person_id, "review.decided"),
    ]


def test_a_kind_has_one_effect_and_one_correction() -> None:
    decisions.load_kinds()

    async def other(*args: Any) -> Done:
        return Done()

    for kind in decisions.CORRECTIONS:
        with pytest.raises(RuntimeError, match="two handlers"):
            decisions.on_corrected(kind)(other)


# --- a: returned_fields is SQL NULL until a return -------------------------------------------


async def test_a_new_submission_is_not_marked_corrected_until_it_comes_back(sessions) -> None:
    person_id, reviewer_id, sub_id = await _filed(sessions, SubmissionKind.TRAINING, {})
    async with sessions() as session:
        raw = await session.scalar(
            text("SELECT count(*) FROM submissions WHERE returned_fields IS NULL")
        )
        [waiting] = await store.waiting(session, kind=SubmissionKind.TRAINING.value, regions=None)
    assert raw == 1 and not waiting.corrected
    await _decide(sessions, sub_id, reviewer_id, "returned", reason="Nama?", fields=["name"])
    await _correct(sessions, sub_id, person_id, {"name": "Siti Aminah Rahayu"})
    async with sessions() as session:
        [waiting] = await store.waiting(session, kind=SubmissionKind.TRAINING.value, regions=None)
    assert waiting.corrected


async def test_migration_0014_turns_json_null_into_sql_null(database_url: str) -> None:
    from alembic import command

    from storage.migrate import alembic_config

    engine = create_engine(database_url)
    null_json = "CAST('null' AS JSON)" if "postgresql" in database_url else "'null'"
    fields = "CAST('[\"nik\"]' AS JSON)" if "postgresql" in database_url else "'[\"nik\"]'"
    cfg = alembic_config(database_url)
    await _run(command.downgrade, cfg, "0013")
    try:
        async with engine.begin() as conn:
            for i, value in ((1, null_json), (2, fields), (3, "NULL")):
                await conn.execute(
                    text(
                        "INSERT INTO submissions (id, kind, answers, status, returned_fields, "
                        "created_at, updated_at) VALUES "
                        f"({i}, 'training', '{{}}', 'submitted', {value}, :now, :now)"
                    ),
                    {"now": clock.now()},
                )
            assert await conn.scalar(text(_CORRECTED)) == 2  # the bug: 'null' counts
    finally:
        await _run(command.upgrade, cfg, "head")
    async with engine.connect() as conn:
        assert await conn.scalar(text(_CORRECTED)) == 1
        kept = await conn.scalar(text("SELECT returned_fields FROM submissions WHERE id = 2"))
    assert kept in (["nik"], '["nik"]')
    await engine.dispose()


_CORRECTED = "SELECT count(*) FROM submissions WHERE returned_fields IS NOT NULL"


async def _run(fn: Any, *args: Any) -> None:
    """Alembic runs its own event loop (env.py): in a thread, off this test's loop."""
    import asyncio

    await asyncio.to_thread(fn, *args)


# --- b: a correction writes back to the profile ----------------------------------------------


async def test_a_corrected_nik_is_the_profiles_nik(sessions) -> None:
    person_id, reviewer_id, sub_id = await _filed(
        sessions,
        SubmissionKind.JOIN_REQUEST,
        {"cooperative_id": 7, "cooperative_name": "KSP Maju", "nik": NIK},
        nik=NIK,
    )
    await _decide(sessions, sub_id, reviewer_id, "returned", reason="NIK?", fields=["nik"])
    done = await _correct(sessions, sub_id, person_id, {"nik": NEW_NIK, "cooperative_name": "Lain"})
    assert done.ok and done.changed == {"submission": [sub_id], "person": [person_id]}
    sub = await _get(sessions, Submission, sub_id)
    assert sub.status == SubmissionStatus.SUBMITTED
    assert sub.answers == {"cooperative_id": 7, "cooperative_name": "KSP Maju", "nik": NEW_NIK}
    me = await _get(sessions, Person, person_id)
    assert (me.nik, me.name) == (NEW_NIK, "Siti Aminah")


async def test_a_name_and_phone_correction_writes_only_the_profile(sessions) -> None:
    person_id, reviewer_id, sub_id = await _filed(
        sessions, SubmissionKind.TRAINING, {"title": "Jahit", "status": "registered"}
    )
    await _decide(
        sessions, sub_id, reviewer_id, "returned", reason="Sesuai KTP.", fields=["name", "phone"]
    )
    await _correct(
        sessions,
        sub_id,
        person_id,
        {"name": "Siti Aminah Rahayu", "phone": "+6281299998888", "nik": NEW_NIK},
    )
    me = await _get(sessions, Person, person_id)
    assert (me.name, me.phone, me.nik) == ("Siti Aminah Rahayu", "+6281299998888", None)
    sub = await _get(sessions, Submission, sub_id)
    assert sub.answers == {"title": "Jahit", "status": "registered"}  # no profile keys in it


async def test_a_correction_is_refused_to_others_and_when_not_returned(sessions) -> None:
    person_id, reviewer_id, sub_id = await _filed(sessions, SubmissionKind.TRAINING, {})
    assert (await _correct(sessions, sub_id, person_id, {"name": "X"})).refused == "closed"
    await _decide(sessions, sub_id, reviewer_id, "returned", reason="Nama?", fields=["name"])
    assert (await _correct(sessions, sub_id, reviewer_id, {"name": "X"})).refused == "not_yours"
    assert (await _get(sessions, Person, person_id)).name == "Siti Aminah"


# --- c: a founding file's name is the plan's, never the founder's ----------------------------


async def test_a_founding_files_name_correction_renames_the_plan_not_the_founder(
    sessions,
) -> None:
    async with sessions() as session, session.begin():
        founder = await _person(session, 511)
        reviewer = await _person(session, 512)
        plan = await coops.create_founding(
            session,
            founder=founder,
            kind="konsumen",
            purpose="Warung bersama",
            name="Kop Sejahtera",
        )
        snapshot = {"name": plan.name, "kind": "konsumen", "purpose": "Warung bersama"}
        sub = await submissions.create(
            session, person=founder, kind=SubmissionKind.FOUNDING, ref_id=plan.id, answers=snapshot
        )
        ids = founder.id, reviewer.id, sub.id, plan.id
    founder_id, reviewer_id, sub_id, plan_id = ids
    await _decide(sessions, sub_id, reviewer_id, "returned", reason="Nama?", fields=["name"])
    done = await _correct(sessions, sub_id, founder_id, {"name": "Koperasi Sejahtera Bersama"})
    assert done.changed == {"submission": [sub_id], "founding": [plan_id]}
    assert (await _get(sessions, Submission, sub_id)).answers["name"] == (
        "Koperasi Sejahtera Bersama"
    )
    assert (await _get(sessions, Founding, plan_id)).name == "Koperasi Sejahtera Bersama"
    assert (await _get(sessions, Person, founder_id)).name == "Siti Aminah"


async def test_no_time_passes_unnoticed(sessions) -> None:
    """`now` is the caller's: the decision's time is the one given, not the clock's."""
    _person_id, reviewer_id, sub_id = await _filed(sessions, SubmissionKind.TRAINING, {})
    then = clock.now() - timedelta(hours=5)
    async with sessions() as session, session.begin():
        await decisions.decide(
            session,
            submission_id=sub_id,
            reviewer_id=reviewer_id,
            status="approved",
            reason=None,
            fields=None,
            now=then,
        )
    assert (await _get(sessions, Submission, sub_id)).decided_at == then
