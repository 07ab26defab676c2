"""/statistik: the funnel counts (people walking journeys for real, plus rows for volume),
drop-offs, region scoping, periods, the PNG chart for real data, the text in both languages,
and refusals (a returnee's command, forged and revoked buttons)."""

from __future__ import annotations

import io
import random
import time
from datetime import UTC, datetime, timedelta

from aiogram.methods import EditMessageText, SendMessage, SendPhoto
from sqlalchemy import event, insert, select, update

from bot import driver
from bot.handlers.stats import StatsCB, period
from bot.handlers.training import TrainingCB
from bot.keyboards import EraseCB
from bot.outbox import BuiltFile
from bot.stats import funnel_png, funnel_text
from flows import clock, registry
from flows.engine import END
from storage import funnel as fn
from storage import repo
from storage.models import (
    FlowRun,
    Loan,
    Person,
    Submission,
    SubmissionKind,
    SubmissionStatus,
    Training,
)
from tests.conftest import ADMIN_ID
from tests.support.talk import onboard, one, texts

PNG = b"\x89PNG\r\n\x1a\n"
KUR_STEPS = [s.key for s in registry.get("kur_readiness").steps]
FOUND_STEPS = [s.key for s in registry.get("found_coop").steps]
COORD, STAFF, RETURNEE = 7701, 7702, 7703


# --- helpers -----------------------------------------------------------------------------------


async def set_role(app, uid: int, role: str, regions: list[str] | None = None) -> None:
    async with app.sessionmaker() as session, session.begin():
        found = await repo.person_by_telegram_id(session, telegram_id=uid)
        assert found is not None
        await repo.set_role(session, person_id=found.id, role=role, regions=regions)


async def viewer(app, person, uid: int, role: str, regions=None, lang: str = "en"):
    chat = person(uid)
    await onboard(chat, lang=lang)
    await set_role(app, uid, role, regions)
    return chat


async def onboard_in(chat, regency: str = "Kota Malang", search: str = "malang") -> None:
    await chat.send("/start")
    await chat.press("Setuju")
    await chat.choose("en")
    await chat.send("Dewi Lestari")
    await chat.send("0812 3456 7890")
    await chat.send("Jawa Timur")
    await chat.send(search)
    await chat.press(regency, exact=True)
    await chat.choose("TW")
    await chat.choose("5to10")
    await chat.choose("kur")


async def readiness(chat, *, upto: str | None = None) -> None:
    """Answer the KUR readiness check, stopping before the step `upto` (None: to the end)."""
    answers = [
        ("status", "running6"),
        ("business", "Warung sembako"),
        ("age", "adult"),
        ("ektp", "yes"),
        ("kk", "yes"),
        ("permit", "nib"),
        ("amount", "40 juta"),  # no NPWP question for 40 juta
        ("had_kur", "never"),
        ("credit", "none"),
        ("slik", "ok"),
        ("confirm", "yes"),
    ]
    await chat.send("/menu")
    await chat.press("KUR loan")
    for key, value in answers:
        if key == upto:
            return
        if key in ("business", "amount"):
            await chat.send(value)
        else:
            await chat.choose(value)


async def funnel_of(app, journey: str, *, since=None, until=None, regions=None) -> fn.Funnel:
    async with app.sessionmaker() as session:
        return await fn.funnel(
            session, journey, since=since, until=until or clock.now(), regions=regions
        )


def counts(f: fn.Funnel) -> dict[str, int]:
    return {s.key: s.count for s in f.stages}


def photos(calls) -> list[SendPhoto]:
    return [c for c in calls if isinstance(c, SendPhoto)]


async def png_of(call: SendPhoto) -> bytes:
    """The chart, drawn as the outbox would draw it when sending (outside the update)."""
    assert isinstance(call.photo, BuiltFile)
    return await call.photo.content()


def blue_pixels(png: bytes) -> int:
    """Pixels of the step bars' colour (#2d7dd2): none when no bar is drawn."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(n for n, colour in image.getcolors(maxcolors=1 << 20) if colour == (45, 125, 210))


async def add_people(app, rows: list[dict]) -> list[int]:
    now = clock.now()
    async with app.sessionmaker() as session, session.begin():
        ids = []
        for i, row in enumerate(rows):
            values = {"telegram_id": 10_000_000 + i, "onboarded_at": now, **row}
            ids.append(
                (await session.execute(insert(Person).values(values).returning(Person.id))).scalar()
            )
        return ids


def run(pid, flow: str, step: str, *history: str, at, status: str = "active", **extra) -> dict:
    """A flow run row: at `step` after answering `history`."""
    row = {"person_id": pid, "flow": flow, "step": step, "history": list(history)}
    return {**row, "status": status, "started_at": at, **extra}


async def add_runs(app, rows: list[dict]) -> None:
    now = clock.now()
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            insert(FlowRun),
            [
                {"answers": {}, "history": [], "status": "active", "updated_at": now, **row}
                for row in rows
            ],
        )


# --- counts from people walking the KUR journey for real --------------------------------------


async def test_kur_funnel_from_real_conversations(app, person) -> None:
    """Surabaya: A finishes (then the bank's survey), B stops at the amount, C cancels at the
    second question; Malang: E finishes; F finishes and deletes their data."""
    a, b, c = person(7801), person(7802), person(7803)
    for chat in (a, b, c):
        await onboard(chat, lang="en")
    await readiness(a)
    await readiness(b, upto="amount")
    await readiness(c, upto="business")
    await c.send("/batal")
    e = person(7804)
    await onboard_in(e)
    await readiness(e)
    f = person(7805)
    await onboard(f, lang="en")
    await readiness(f)
    await f.send("/hapusdata")
    await f.press_data(EraseCB(ok=True).pack())
    await a.press("Record what happened")
    await a.press("survey")
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Submission)
            .where(Submission.person_id == (await one(app, Person, Person.telegram_id == 7801)).id)
            .values(status=SubmissionStatus.APPROVED)
        )

    everywhere = counts(await funnel_of(app, fn.KUR))
    # A, E, F reached every step (F's history is gone, but the run finished); B got to the
    # amount; C to the business. No NPWP question for 40 juta: going past it counts.
    reached = {
        "status": 5,
        "business": 5,
        "age": 4,
        "ektp": 4,
        "kk": 4,
        "permit": 4,
        "amount": 4,
        "npwp": 3,
        "had_kur": 3,
        "credit": 3,
        "slik": 3,
        "confirm": 3,
    }
    assert everywhere == {
        "started": 5,
        **{fn.STEP + k: n for k, n in reached.items()},
        "submitted": 3,
        "approved": 1,
        "survey": 1,
        "akad": 0,
        "cair": 0,
    }
    surabaya = await funnel_of(app, fn.KUR, regions=["35.78"])
    assert counts(surabaya)["started"] == 3  # A, B, C: not Malang, not the deleted F
    assert counts(surabaya)[fn.STEP + "confirm"] == 1
    assert counts(surabaya)["submitted"] == 1 and counts(surabaya)["survey"] == 1
    assert counts(await funnel_of(app, fn.KUR, regions=["35"]))["started"] == 4
    assert counts(await funnel_of(app, fn.KUR, regions=["52"]))["started"] == 0
    # drop-offs: from the line before, and the survey from the submitted checks
    by = surabaya.by_key
    assert surabaya.drop(by["started"]) is None
    assert surabaya.drop(by[fn.STEP + "age"]) == 1  # C stopped at the business
    assert surabaya.drop(by[fn.STEP + "npwp"]) == 1  # B stopped at the amount
    assert by["survey"].base == "submitted" and surabaya.drop(by["survey"]) == 0


async def test_the_coordinator_sees_text_and_chart_of_their_regency(app, person) -> None:
    a, b = person(7811), person(7812)
    for chat in (a, b):
        await onboard(chat, lang="en")
    await readiness(a)
    await readiness(b, upto="age")
    m = person(7813)
    await onboard_in(m)
    await readiness(m)
    coord = await viewer(app, person, COORD, "coordinator", ["35.78"])
    calls = await coord.send("/statistik")
    said = texts([c for c in calls if isinstance(c, SendMessage)])
    assert "KUR loan" in said and "Kota Surabaya, Jawa Timur" in said
    assert "Started: <b>2</b> · 100%" in said  # a and b, not Malang
    assert "Business status: <b>2</b> · 100% · −0 (0%)" in said
    assert "Age: <b>2</b> · 100% · −0 (0%)" in said  # b is at the age question
    assert "e-KTP: <b>1</b> · 50% · −1 (50%)" in said
    assert "Submitted: <b>1</b> · 50% · −0 (0%)" in said
    assert "Survey (the bank visited): <b>0</b> · 0% · −1 (100%) from “Submitted”" in said
    [photo] = photos(calls)
    png = await png_of(photo)
    assert png.startswith(PNG) and len(png) > 10_000
    from PIL import Image

    assert Image.open(io.BytesIO(png)).size == (800, 500)
    assert blue_pixels(png) > 500  # the step bars are drawn
    assert "Kota Surabaya" in photo.caption
    # a regency-scoped coordinator has nothing narrower to pick
    assert not any("Region:" in b for b in coord.buttons())


# --- the other journeys, from rows ------------------------------------------------------------


async def test_join_found_and_training_funnels(app, person) -> None:
    now = clock.now()
    ids = await add_people(app, [{"province_code": "35", "regency_code": "35.78"}] * 4)
    day = now - timedelta(days=1)
    join = "join_request"
    await add_runs(
        app,
        [
            # declined at the first question: reached only that one
            run(ids[0], join, END, "commit", status="completed", at=day),
            # NIK saved, so no NIK question: went past it
            run(ids[1], join, END, "commit", "confirm", status="completed", at=day),
            run(ids[2], join, "nik", "commit", at=day),
            # a reviewer's correction is not a new journey
            run(ids[3], join, "nik", at=day, answers={fn.CORRECTION: ["nik"]}),
            run(ids[0], "found_coop", "purpose", "kind", status="cancelled", at=day),
            run(ids[1], "found_coop", END, *FOUND_STEPS, status="completed", at=day),
        ],
    )
    async with app.sessionmaker() as session, session.begin():
        query = select(FlowRun.person_id, FlowRun.id).where(FlowRun.flow == join)
        run_ids = dict((await session.execute(query)).all())
        approved, asked = SubmissionStatus.APPROVED, SubmissionKind.JOIN_REQUEST
        await session.execute(
            insert(Submission),
            [
                {"person_id": ids[1], "kind": asked, "run_id": run_ids[ids[1]], "status": approved},
                {"person_id": ids[1], "kind": SubmissionKind.FOUNDING},
                # a founding file of someone with no found_coop run in the period
                {"person_id": ids[2], "kind": SubmissionKind.FOUNDING},
            ],
        )
    assert getattr(driver, "FIX", fn.CORRECTION) == fn.CORRECTION
    joined = counts(await funnel_of(app, fn.JOIN))
    assert joined == {
        "started": 3,
        "step:commit": 3,
        "step:nik": 2,
        "step:confirm": 1,
        "submitted": 1,
        "approved": 1,
    }
    assert counts(await funnel_of(app, fn.FOUND)) == {
        "started": 2,
        "step:kind": 2,
        "step:purpose": 2,
        "step:name": 1,
        "step:confirm": 1,
        "submitted": 1,
        "approved": 0,
    }
    # training, for real: a session the organiser confirms; one seat, so the second waits
    async with app.sessionmaker() as session, session.begin():
        starts = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)
        training = Training(
            title="Jualan online",
            organiser="Disnaker",
            topic="digital",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            place="BLK",
            province_code="35",
            regency_code="35.78",
            seats=1,
            needs_approval=True,
        )
        session.add(training)
        await session.flush()
        training_id = training.id
    first, second = person(7821), person(7822)
    for chat in (first, second):
        await onboard(chat, lang="en")
        await chat.press_data(TrainingCB(act="reg", id=training_id).pack())
    assert counts(await funnel_of(app, fn.TRAINING)) == {
        "started": 2,
        "seat": 1,
        "submitted": 1,
        "approved": 0,
    }
    assert counts(await funnel_of(app, fn.TRAINING, regions=["52"]))["started"] == 0


# --- periods ---------------------------------------------------------------------------------


async def test_periods_through_the_buttons(app, person) -> None:
    now = clock.now()
    [pid] = await add_people(app, [{"province_code": "35", "regency_code": "35.78"}])
    ages = (2, 10, 40, 100, 400)  # days ago: 7 days → 1, 30 → 2, 90 → 3, this year → 4, all → 5
    await add_runs(
        app,
        [
            run(pid, "kur_readiness", "age", "status", "business", at=now - timedelta(days=d))
            for d in ages
        ],
    )
    staff = await viewer(app, person, STAFF, "staff")
    await staff.send("/stats")
    view = staff.last_keyboard_message()
    for label, started in (
        ("7 days", 1),
        ("30 days", 2),
        ("90 days", 3),
        ("This year", 4),
        ("Everything", 5),
    ):
        calls = await staff.press(label, message=view)
        [edit] = [c for c in calls if isinstance(c, EditMessageText)]
        assert f"Started: <b>{started}</b>" in edit.text, label
        assert not photos(calls)  # the chart only comes when asked for
        view = staff.last_keyboard_message()
        assert any(b.startswith("✅ " + label) for b in staff.buttons())
    # "this year" starts on 1 January in the viewer's zone (WIB)
    since, until = period("year", "Asia/Jakarta")
    assert since == datetime(2025, 12, 31, 17, 0, tzinfo=UTC) and until <= clock.now()
    # the chart for the chosen period
    calls = await staff.press("Send as a chart", message=view)
    [photo] = photos(calls)
    assert (await png_of(photo)).startswith(PNG) and "Everything until" in photo.caption


async def test_an_unscoped_viewer_narrows_to_one_province(app, person) -> None:
    now = clock.now()
    ids = await add_people(
        app,
        [
            {"province_code": "35", "regency_code": "35.78"},
            {"province_code": "52", "regency_code": "52.71"},
        ],
    )
    await add_runs(
        app,
        [
            run(ids[0], "kur_readiness", "status", at=now),
            run(ids[1], "kur_readiness", "status", at=now),
            run(None, "kur_readiness", END, status="completed", at=now),  # deleted their data
        ],
    )
    admin = person(ADMIN_ID)
    await onboard(admin, lang="en")
    said = texts(await admin.send("/statistik"))
    assert "Started: <b>3</b>" in said and "All regions" in said  # the deleted one too
    assert "Which region?" in texts(await admin.press("Region:"))
    while "Nusa Tenggara Barat" not in " ".join(admin.buttons()):
        await admin.press("More")
    calls = await admin.press("Nusa Tenggara Barat")
    said = texts(calls)
    assert "Started: <b>1</b>" in said and "📍 Nusa Tenggara Barat" in said
    said = texts(await admin.press_data(StatsCB(r="35.78").pack()))  # a regency: inside too
    assert "Started: <b>1</b>" in said and "Kota Surabaya" in said


# --- the chart and the text ------------------------------------------------------------------


async def test_png_and_text_in_both_languages(app, person) -> None:
    now = clock.now()
    ids = await add_people(app, [{"province_code": "35", "regency_code": "35.78"}] * 3)
    without_npwp = [k for k in KUR_STEPS if k != "npwp"]
    await add_runs(
        app,
        [
            # no NPWP question (index 7): went past it
            run(ids[0], "kur_readiness", END, *without_npwp, status="completed", at=now),
            run(ids[1], "kur_readiness", "kk", *KUR_STEPS[:4], at=now),
            run(ids[2], "kur_readiness", "status", at=now),
        ],
    )
    f = await funnel_of(app, fn.KUR, since=now - timedelta(days=30))
    with app.i18n.context():
        indonesian = funnel_text(f, "id")
        english = funnel_text(f, "en")
        png = funnel_png(f, "id")
        empty = funnel_png(await funnel_of(app, fn.KUR, regions=["52"]), "en")
    assert "Pinjaman KUR" in indonesian and "Semua wilayah" in indonesian
    assert "Dimulai: <b>3</b> · 100%" in indonesian
    assert "Status usaha: <b>3</b> · 100% · −0 (0%)" in indonesian
    assert "KK (Kartu Keluarga): <b>2</b> · 67% · −0 (0%)" in indonesian
    assert "Jenis usaha: <b>2</b> · 67% · −1 (33%)" in indonesian
    assert "NIB atau SKU: <b>1</b> · 33% · −1 (50%)" in indonesian
    assert "26 Okt 2025" not in indonesian and "26 Okt 2026" in indonesian
    assert "KUR loan" in english and "Started: <b>3</b> · 100%" in english
    assert "KK (family card): <b>2</b> · 67% · −0 (0%)" in english
    assert "Oct 26, 2026" in english
    assert png.startswith(PNG) and len(png) > 10_000 and blue_pixels(png) > 500
    assert empty.startswith(PNG) and blue_pixels(empty) == 0  # no bars, a "no data" note
    with app.i18n.context():
        assert "Nobody started" in funnel_text(await funnel_of(app, fn.KUR, regions=[]), "en")


async def test_an_indonesian_coordinator_reads_it_in_indonesian(app, person) -> None:
    coord = await viewer(app, person, COORD, "coordinator", ["35", "52"], lang="id")
    calls = await coord.send("/statistik")
    said = texts(calls)
    assert "Pinjaman KUR" in said and "Jawa Timur, Nusa Tenggara Barat" in said
    assert "Belum ada yang memulai" in said
    [photo] = photos(calls)
    assert (await png_of(photo)).startswith(PNG)
    # two provinces in scope: either can be picked, nothing else
    assert "Wilayah mana?" in texts(await coord.press("Wilayah:"))
    assert coord.buttons() == [
        "✅ 🌏 Semua wilayah saya",
        "Jawa Timur",
        "Nusa Tenggara Barat",
        "⬅️ Kembali",
    ]


# --- refusals --------------------------------------------------------------------------------


async def test_a_returnee_is_refused_for_the_command_and_every_button(app, person) -> None:
    chat = person(RETURNEE)
    await onboard(chat, lang="en")
    for command in ("/statistik", "/stats"):
        calls = await chat.send(command)
        assert "only staff and coordinators can see the statistics" in texts(calls)
        assert not photos(calls)
    for data in (StatsCB(), StatsCB(act="png"), StatsCB(act="reg"), StatsCB(j="join", r="35")):
        calls = await chat.press_data(data.pack())
        assert "only staff and coordinators" in texts(calls)
        assert not photos(calls) and not [c for c in calls if isinstance(c, EditMessageText)]


async def test_forged_and_revoked_buttons_are_refused(app, person) -> None:
    coord = await viewer(app, person, COORD, "coordinator", ["35.78"])
    await coord.send("/statistik")
    view = coord.last_keyboard_message()
    for forged in (
        StatsCB(r="52"),  # another province
        StatsCB(r="35"),  # the whole province around their regency
        StatsCB(r="35.73"),  # a neighbouring regency
        StatsCB(r="99.99"),  # no such place
        StatsCB(j="onboarding"),
        StatsCB(p="3650"),
        StatsCB(act="drop"),
    ):
        calls = await coord.press_data(forged.pack(), view)
        assert "not available to you" in texts(calls), forged
        assert not photos(calls) and not [c for c in calls if isinstance(c, EditMessageText)]
    calls = await coord.press_data(StatsCB(r="35.78", j="found").pack(), view)
    assert "Founding a cooperative" in texts(calls)
    await set_role(app, COORD, "returnee")
    calls = await coord.press("Training", message=coord.last_keyboard_message())
    assert "only staff and coordinators" in texts(calls) and not photos(calls)


# --- volume: 10,000 runs, few queries ---------------------------------------------------------

LOAN_DATES = {  # a loan's stage and the stage dates it holds (akad may be recorded without survey)
    "preparing": ("preparing",),
    "survey": ("preparing", "survey"),
    "akad": ("preparing", "survey", "akad"),
    "akad_direct": ("preparing", "akad"),
    "cair": ("preparing", "survey", "akad", "cair"),
    "rejected": ("preparing", "survey", "rejected"),
}


def oracle(runs, places_of, links, since, regions) -> dict[str, int]:
    """The same counts, one run at a time in Python, from the rows as stored."""
    index = {k: i for i, k in enumerate(KUR_STEPS)}
    got = {"started": 0, **{fn.STEP + k: 0 for k in KUR_STEPS}}
    got.update(submitted=0, approved=0, survey=0, akad=0, cair=0)
    for run_id, pid, step, history, started_at in runs:
        if since is not None and started_at < since:
            continue
        if regions is not None and (pid is None or not set(places_of[pid]) & set(regions)):
            continue
        got["started"] += 1
        if step == END:
            pos = index[history[-1]] if history else len(KUR_STEPS) - 1
        else:
            pos = index[step]
        for key in KUR_STEPS[: pos + 1]:
            got[fn.STEP + key] += 1
        if run_id in links:
            dates, status = links[run_id]
            got["submitted"] += 1
            got["approved"] += status == "approved"
            got["survey"] += bool({"survey", "akad", "cair"} & set(dates))
            got["akad"] += bool({"akad", "cair"} & set(dates))
            got["cair"] += "cair" in dates
    return got


async def test_ten_thousand_runs_in_a_few_grouped_queries(app, capsys) -> None:
    rng = random.Random(7)
    now = clock.now()
    places = [("35", "35.78"), ("35", "35.73"), ("52", "52.71")]
    chosen = [rng.choice(places) for _ in range(400)]
    people = await add_people(app, [{"province_code": p, "regency_code": r} for p, r in chosen])
    places_of = dict(zip(people, chosen, strict=True))
    last = len(KUR_STEPS) - 1
    rows = []
    for _ in range(10_000):
        pid = rng.choice(people) if rng.random() > 0.05 else None  # 5%: data deleted
        path = [
            k for k in KUR_STEPS[: rng.randint(0, last) + 1] if k != "npwp" or rng.random() < 0.5
        ]
        if rng.random() < 0.3:
            history, step, status = ([] if pid is None else path), END, "completed"
        else:
            history, step, status = path[:-1], path[-1], rng.choice(("active", "cancelled"))
        at = now - timedelta(days=rng.randint(0, 120))
        rows.append(run(pid, "kur_readiness", step, *history, status=status, at=at))
    rows.append(run(people[0], "kur_simulator", "tenor", at=now))  # not the funnel's flow
    t0 = time.perf_counter()
    await add_runs(app, rows)
    inserted = time.perf_counter() - t0
    async with app.sessionmaker() as session, session.begin():
        columns = (FlowRun.id, FlowRun.person_id, FlowRun.step, FlowRun.history, FlowRun.started_at)
        query = select(*columns).where(FlowRun.flow == "kur_readiness")
        stored = (await session.execute(query)).all()
        links, loans, subs = {}, [], []
        for run_id, pid, step, _history, _at in stored:
            if step != END:
                continue
            stage = rng.choice(list(LOAN_DATES))
            dates = {s: "2026-10-01" for s in LOAN_DATES[stage]}
            loan_id = len(loans) + 1
            stage = stage.removesuffix("_direct")
            loans.append({"id": loan_id, "person_id": pid, "stage": stage, "stage_dates": dates})
            status = rng.choice(("submitted", "approved", "rejected"))
            sub = {"person_id": pid, "kind": "kur_readiness", "ref_id": loan_id}
            subs.append({**sub, "run_id": run_id, "status": status})
            links[run_id] = (dates, status)
        await session.execute(insert(Loan), loans)
        await session.execute(insert(Submission), subs)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    timings = {}
    event.listen(app.engine.sync_engine, "before_cursor_execute", seen)
    try:
        for name, since, regions in (
            ("everything, all regions", None, None),
            ("30 days, province 35", now - timedelta(days=30), ["35"]),
            ("90 days, two regencies", now - timedelta(days=90), ["35.78", "52.71"]),
        ):
            statements.clear()
            t0 = time.perf_counter()
            until = now + timedelta(hours=1)
            got = await funnel_of(app, fn.KUR, since=since, until=until, regions=regions)
            timings[name] = time.perf_counter() - t0
            assert counts(got) == oracle(stored, places_of, links, since, regions), name
            # the summary's day (none kept: all live), runs, submissions with their loans
            assert len(statements) <= 3, statements
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", seen)
    assert counts(got)["started"] > 1000 and counts(got)["cair"] > 0
    with app.i18n.context():
        everything = await funnel_of(app, fn.KUR, until=now + timedelta(hours=1))
        t0 = time.perf_counter()
        png = funnel_png(everything, "en")
        chart = time.perf_counter() - t0
    assert png.startswith(PNG) and blue_pixels(png) > 1000
    with capsys.disabled():
        print(
            f"\n[{app.engine.dialect.name}] 10,000 runs inserted in {inserted:.2f} s; funnel: "
            + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items())
            + f"; chart {chart * 1000:.0f} ms"
        )
