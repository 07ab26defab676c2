"""A review decision and a correction reach the journey, through the real dispatcher: the queue
marks only corrected submissions, a corrected NIK is the profile's, a founding file corrects
the cooperative's name (never the founder's), /progres shows a return with its reason and
"Correct it now", a one-field correction is not "step 1 of 2", and a rejected KUR check ends
the loan being prepared."""

from __future__ import annotations

from bot.handlers.coop import CoopCB
from bot.handlers.review import KINDS, ReviewCB
from flows.validators import mask_nik
from storage import coops, repo, submissions
from storage.models import (
    Cooperative,
    Founding,
    Loan,
    LoanStage,
    Person,
    Reminder,
    ReminderStatus,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from tests.bot.test_coop_found import sent_to
from tests.bot.test_coop_join import NIK, load_sample, search_home
from tests.bot.test_review import kur_submission, reviewer, to
from tests.support.talk import onboard, one, texts

NEW_NIK = "3578015203900002"


async def progres(chat) -> str:
    """The progress page alone (not a notice delivered to the chat before it)."""
    [page] = [c.text for c in await chat.send("/progres") if "📋" in str(c) or "🏠" in str(c)]
    return page


def k(kind: SubmissionKind) -> int:
    return KINDS.index(kind.value)


async def return_for(staff, sub: Submission, labels: list[str], reason: str) -> None:
    """The reviewer returns `sub`, ticking the fields whose buttons contain these labels."""
    await staff.press_data(ReviewCB(act="ret", id=sub.id, k=k(SubmissionKind(sub.kind))).pack())
    for label in labels:
        await staff.press(label)
    await staff.press("Next: the reason")
    assert "The returnee was told" in texts(await staff.send(reason))


async def decide_with_reason(staff, sub: Submission, act: str, reason: str) -> None:
    await staff.press_data(ReviewCB(act=act, id=sub.id, k=k(SubmissionKind(sub.kind))).pack())
    assert "The returnee was told" in texts(await staff.send(reason))


async def asked_to_join(app, person, uid: int, *, lang: str = "en"):
    await load_sample(app)
    chat = person(uid)
    await onboard(chat, lang=lang)
    await search_home(chat)
    await chat.press("Karyawan Surabaya")
    await chat.press("Ask to join")
    await chat.choose("yes")
    await chat.send(NIK)
    await chat.choose("yes")
    return chat, await one(app, Submission)


# --- a ---------------------------------------------------------------------------------------


async def test_a_new_submission_is_not_marked_corrected_in_the_queue(app, person) -> None:
    await kur_submission(app, person, 8501)
    staff = await reviewer(app, person)
    await staff.send("/tinjau")
    await staff.press("KUR readiness checks")
    assert "#" in str(staff.buttons()) and "✏️" not in str(staff.buttons())


# --- b ---------------------------------------------------------------------------------------


async def test_a_corrected_nik_is_the_profiles_and_the_next_request_uses_it(app, person) -> None:
    returnee, sub = await asked_to_join(app, person, 8502)
    staff = await reviewer(app, person)
    await return_for(staff, sub, ["NIK"], "Angka NIK tidak cocok dengan KTP.")
    said = texts(await returnee.press("Correct it now"))
    assert "NIK" in said and mask_nik(NIK) in said  # the answer it corrects, masked
    said = texts(await returnee.send(NEW_NIK))
    assert "went back to the reviewer" in said
    got = await one(app, Submission)
    assert got.answers["nik"] == NEW_NIK and got.status == SubmissionStatus.SUBMITTED
    assert (await one(app, Person, Person.telegram_id == 8502)).nik == NEW_NIK
    said = texts(await returnee.send("/datasaya"))
    assert f"NIK: {mask_nik(NEW_NIK)}" in said and f"NIK: {mask_nik(NIK)}" not in said
    other = await one(app, Cooperative, Cooperative.name.contains("Sejahtera"))
    said = texts(await returnee.press_data(CoopCB(act="join", id=other.id).pack()))
    assert f"saved in your profile: {mask_nik(NEW_NIK)}" in said


async def test_a_returned_name_and_phone_are_corrected_in_the_profile(app, person) -> None:
    returnee, sub = await asked_to_join(app, person, 8503)
    staff = await reviewer(app, person)
    await return_for(staff, sub, ["Name", "Phone number"], "Mohon sesuai KTP.")
    assert "Name, Phone number" in to(app.bot.session.calls, 8503)
    await returnee.press("Correct it now")
    await returnee.send("Siti Aminah Rahayu")
    said = texts(await returnee.send("0812 9999 8888"))
    assert "went back to the reviewer" in said
    me = await one(app, Person, Person.telegram_id == 8503)
    assert (me.name, me.phone, me.nik) == ("Siti Aminah Rahayu", "+6281299998888", NIK)
    assert (await one(app, Submission)).answers["nik"] == NIK


# --- c ---------------------------------------------------------------------------------------


async def test_a_founding_files_name_correction_renames_the_cooperative_only(app, person) -> None:
    founder, cofounder = person(8504), person(8506)
    await onboard(founder, lang="en", name="Siti Aminah")
    await onboard(cofounder, lang="id", name="Dewi Lestari")
    async with app.sessionmaker() as session, session.begin():
        me = await repo.person_by_telegram_id(session, telegram_id=8504)
        plan = await coops.create_founding(
            session, founder=me, kind="konsumen", purpose="Warung bersama purna PMI", name="Kop S"
        )
        dewi = await repo.person_by_telegram_id(session, telegram_id=8506)
        await coops.add_member(session, founding_id=plan.id, person_id=dewi.id)
        await submissions.create(
            session,
            person=me,
            kind=SubmissionKind.FOUNDING,
            ref_id=plan.id,
            answers={"name": plan.name, "kind": plan.kind, "purpose": plan.purpose},
        )
    sub = await one(app, Submission)
    staff = await reviewer(app, person)
    said = texts(
        await staff.press_data(ReviewCB(act="ret", id=sub.id, k=k(SubmissionKind.FOUNDING)).pack())
    )
    offered = str(staff.buttons())
    assert (
        "Name of the cooperative" in offered
        and "Cooperative type" in offered
        and "Purpose" in offered
    )
    assert "What is your name" not in offered and "Phone" not in offered
    await staff.press("Name of the cooperative")
    await staff.press("Next: the reason")
    await staff.send("Nama koperasi terlalu pendek.")
    said = texts(await founder.press("Correct it now"))
    assert "What name do you propose?" in said and "What is your name?" not in said
    said = texts(await founder.send("Koperasi Sejahtera Bersama"))
    assert "went back to the reviewer" in said
    assert (await one(app, Founding)).name == "Koperasi Sejahtera Bersama"
    assert (await one(app, Submission)).answers["name"] == "Koperasi Sejahtera Bersama"
    assert (await one(app, Person, Person.telegram_id == 8504)).name == "Siti Aminah"
    # The co-founder heard it came back, and now that it went to the team again, in her language
    # and under its new name.
    assert "mengirimnya lagi ke tim" in sent_to(app, 8506)
    assert "Koperasi Sejahtera Bersama" in sent_to(app, 8506)


async def test_a_training_registration_returns_only_the_returnees_name_or_phone(
    app, person
) -> None:
    returnee = person(8505)
    await onboard(returnee, lang="en")
    async with app.sessionmaker() as session, session.begin():
        me = await repo.person_by_telegram_id(session, telegram_id=8505)
        sub = await submissions.create(
            session,
            person=me,
            kind=SubmissionKind.TRAINING,
            ref_id=7,
            answers={"title": "Jahit", "status": "registered"},
        )
    staff = await reviewer(app, person)
    await staff.press_data(ReviewCB(act="ret", id=sub.id, k=k(SubmissionKind.TRAINING)).pack())
    offered = [b for b in staff.buttons() if b.startswith("⬜")]
    assert offered == ["⬜ Name", "⬜ Phone number"]


# --- d ---------------------------------------------------------------------------------------


async def test_progres_shows_a_return_with_its_reason_and_correct_now(app, person) -> None:
    returnee, sub = await kur_submission(app, person, 8506, lang="id")
    staff = await reviewer(app, person)
    await return_for(staff, sub, ["How much"], "Jumlahnya terlalu besar untuk usaha baru.")
    said = await progres(returnee)
    assert "Catatan petugas peninjau: Jumlahnya terlalu besar untuk usaha baru." in said
    assert "✏️ Perbaiki sekarang" in returnee.buttons()
    said = texts(await returnee.press("Perbaiki sekarang"))
    assert "modal" in said.lower()  # "Berapa modal yang Anda butuhkan?"


async def test_progres_shows_a_rejection_with_its_reason(app, person) -> None:
    returnee, sub = await asked_to_join(app, person, 8507)
    staff = await reviewer(app, person)
    await decide_with_reason(staff, sub, "no", "Koperasi ini hanya untuk karyawan.")
    said = await progres(returnee)
    assert "not accepted" in said and "Koperasi ini hanya untuk karyawan." in said
    assert said.count("Karyawan Surabaya") == 1  # one line, not the request and its decision
    assert "Correct it now" not in str(returnee.buttons())


async def test_progres_shows_a_rejected_training_registration_no_journey_lists(app, person) -> None:
    returnee = person(8508)
    await onboard(returnee, lang="en")
    async with app.sessionmaker() as session, session.begin():
        me = await repo.person_by_telegram_id(session, telegram_id=8508)
        sub = await submissions.create(
            session, person=me, kind=SubmissionKind.TRAINING, ref_id=7, answers={"title": "Jahit"}
        )
    staff = await reviewer(app, person)
    await decide_with_reason(staff, sub, "no", "Pelatihan ini untuk wilayah Bali.")
    said = await progres(returnee)
    assert "Your registration for Jahit: not approved" in said
    assert "Pelatihan ini untuk wilayah Bali." in said


def test_decision_lines_list_returns_and_recent_rejections_newest_per_subject() -> None:
    from datetime import timedelta

    from bot.app import build_i18n
    from bot.handlers.review import decision_lines
    from flows import clock

    now = clock.now()

    def sub(i: int, status: SubmissionStatus, ref: int, days: int = 1) -> Submission:
        return Submission(
            id=i,
            kind=SubmissionKind.TRAINING.value,
            ref_id=ref,
            answers={"title": f"T{ref}"},
            status=status.value,
            created_at=now - timedelta(days=days, minutes=i),
            decided_at=now - timedelta(days=days),
        )

    subs = [
        sub(1, SubmissionStatus.RETURNED, 10),
        sub(2, SubmissionStatus.REJECTED, 11),
        sub(3, SubmissionStatus.REJECTED, 12, days=40),  # long ago: gone from the page
        sub(4, SubmissionStatus.APPROVED, 13),
        sub(5, SubmissionStatus.REJECTED, 14, days=3),  # superseded by a newer one
        sub(6, SubmissionStatus.SUBMITTED, 14, days=2),
        sub(7, SubmissionStatus.RETURNED, 15),  # a journey lists it itself
    ]
    with build_i18n("en").context():
        lines = decision_lines(subs, {7}, now)
    assert [(line.submission, line.journey, line.title) for line in lines] == [
        (1, "training", "Your registration for T10"),
        (2, "training", "Your registration for T11"),
    ]


# --- e ---------------------------------------------------------------------------------------


def test_a_corrections_step_count_is_the_fields_sent_back() -> None:
    from bot import driver
    from storage.models import FlowRun

    def run(step: str, fix: list[str] | None, fixed: list[str] = ()) -> FlowRun:
        answers = {"has_nik": False, "commit": "yes"}
        if fix is not None:
            answers |= {driver.FIX: fix, driver.FIXED: list(fixed)}
        return FlowRun(flow="join_request", step=step, answers=answers, history=[])

    assert driver.progress(run("nik", None)) == (1, 2)  # the flow's own count: nik, confirm
    assert driver.progress(run("nik", ["nik"])) == (1, 1)
    assert driver.progress(run("commit", ["commit", "nik"])) == (1, 2)
    assert driver.progress(run("nik", ["commit", "nik"], ["commit"])) == (2, 2)
    assert driver.progress(run("commit", ["commit", "nik"], ["commit"])) == (1, 2)  # Back


async def test_a_correction_counts_only_the_fields_sent_back(app, person) -> None:
    returnee, sub = await asked_to_join(app, person, 8509)
    staff = await reviewer(app, person)
    await return_for(staff, sub, ["NIK"], "Angka NIK tidak cocok dengan KTP.")
    said = texts(await returnee.press("Correct it now"))
    assert "✏️ Your details" in said and "step" not in said  # one field: no "1 of 2"
    await returnee.send(NEW_NIK)
    await staff.press_data(ReviewCB(act="open", id=sub.id, k=k(SubmissionKind.JOIN_REQUEST)).pack())
    await return_for(staff, sub, ["Name", "NIK"], "Nama dan NIK belum sesuai KTP.")
    said = texts(await returnee.press("Correct it now"))
    assert "step 1 of 2" in said
    said = texts(await returnee.send("Siti Aminah Rahayu"))
    assert "step 2 of 2" in said


# --- f ---------------------------------------------------------------------------------------


async def test_a_rejected_kur_check_ends_the_loan_and_progres_offers_a_new_check(
    app, person
) -> None:
    returnee, sub = await kur_submission(app, person, 8510)
    staff = await reviewer(app, person)
    await decide_with_reason(staff, sub, "no", "Usaha belum berjalan enam bulan.")
    assert "start a new check" in to(app.bot.session.calls, 8510)
    loan = await one(app, Loan)
    assert loan.stage == LoanStage.WITHDRAWN
    reminders = {r.status for r in [await one(app, Reminder)]}
    assert reminders == {ReminderStatus.CANCELLED}
    said = await progres(returnee)
    assert "readiness check: the team found you not ready yet" in said
    assert "Usaha belum berjalan enam bulan." in said
    assert "🔄 Start a new check" in returnee.buttons()
    said = texts(await returnee.press("Start a new check"))
    assert "How is your business now?" in said


async def test_an_approved_kur_check_shows_on_progres_with_the_next_step(app, person) -> None:
    returnee, sub = await kur_submission(app, person, 8511)
    said = await progres(returnee)
    assert "readiness check waiting for the team's review" in said
    staff = await reviewer(app, person)
    await staff.press_data(ReviewCB(act="ok", id=sub.id, k=k(SubmissionKind.KUR_READINESS)).pack())
    said = await progres(returnee)
    assert "readiness check seen by the team (not a loan approval)" in said
    assert "Tick your documents" in said
    assert (await one(app, Loan)).stage == LoanStage.PREPARING
