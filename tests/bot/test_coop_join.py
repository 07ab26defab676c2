"""Finding a cooperative and asking to join it, through the real dispatcher."""

from __future__ import annotations

from pathlib import Path

from bot.app import OFFLINE_TOKEN, build_app
from bot.offline import OfflineChat, OfflineSession
from storage.importers import load_cooperatives, parse_cooperatives
from storage.models import Cooperative, FlowRun, Person, RunStatus, Submission, SubmissionKind
from tests.support.talk import count, onboard, one, texts

CSV = Path(__file__).resolve().parents[2] / "flows" / "content" / "sample_cooperatives.csv"
NIK = "3578015203900001"
MASKED = "3578********0001"


async def load_sample(app) -> None:
    rows, errors = parse_cooperatives(CSV.read_text("utf-8"))
    assert not errors
    async with app.sessionmaker() as session, session.begin():
        await load_cooperatives(session, rows)


async def coop_id(app, name_part: str) -> int:
    coop = await one(app, Cooperative, Cooperative.name.contains(name_part))
    return coop.id


def _all_buttons(calls) -> list:
    found = []
    for call in calls:
        markup = getattr(call, "reply_markup", None)
        for row in getattr(markup, "inline_keyboard", None) or []:
            found += row
    return found


def shown(chat, calls) -> str:
    """The text of these replies and the buttons now on screen."""
    return texts(calls) + "\n" + "\n".join(chat.buttons())


async def search_home(chat, kind: str = "any") -> list:
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Find a cooperative")
    await chat.choose("home")
    return await chat.choose(kind)


async def test_join_from_menu_to_submission_with_a_wrong_answer_at_each_step(app, person) -> None:
    await load_sample(app)
    chat = person(7001)
    await onboard(chat, lang="en")
    seen = shown(chat, await search_home(chat))
    assert "Koperasi Konsumen Karyawan Surabaya" in seen and "1 found" in seen
    card = texts(await chat.press("Karyawan Surabaya"))
    for part in ("Simpanan pokok", "paid once", "regularly", "can be withdrawn", "Sample data"):
        assert part in card
    assert "Genteng" in card and "Kota Surabaya" in card
    await chat.press("Ask to join")
    run = await one(app, FlowRun, FlowRun.flow == "join_request")
    assert run.step == "commit" and run.answers["cooperative_id"] == await coop_id(app, "Karyawan")
    # a sticker where a choice is expected
    assert "buttons" in texts(await chat.sticker()).lower()
    await chat.choose("yes")
    assert (await one(app, FlowRun, FlowRun.flow == "join_request")).step == "nik"
    # a bad NIK, a sticker, a message far too long
    assert "16 digits" in texts(await chat.send("1234 5678"))
    assert "type" in texts(await chat.sticker()).lower()
    assert "too long" in texts(await chat.send("3" * 1500))
    assert (await one(app, FlowRun, FlowRun.flow == "join_request")).step == "nik"
    confirm = texts(await chat.send(NIK))
    assert (await one(app, FlowRun, FlowRun.flow == "join_request")).step == "confirm"
    assert MASKED in confirm and NIK not in confirm  # the last look before sending: masked
    # going back shows the NIK masked; typing it again goes on
    back = await chat.press("Back")
    assert MASKED in texts(back) and NIK not in texts(back)
    assert NIK not in "".join(b.callback_data or "" for b in _all_buttons(back))
    await chat.send(NIK)
    done = texts(await chat.choose("yes"))
    assert "has been sent" in done and MASKED in done and NIK not in done
    assert "cannot promise" in done
    submission = await one(app, Submission)
    assert submission.kind == SubmissionKind.JOIN_REQUEST
    assert submission.ref_id == await coop_id(app, "Karyawan")
    assert submission.answers["nik"] == NIK
    assert submission.answers["cooperative_name"].startswith("Koperasi Konsumen Karyawan")
    assert (await one(app, Person)).nik == NIK
    progress = texts(await chat.send("/progres"))
    assert "Request to join Koperasi Konsumen Karyawan" in progress and "waiting" in progress


async def test_nik_is_asked_once_then_not_again_and_shown_masked(app, person) -> None:
    await load_sample(app)
    chat = person(7002)
    await onboard(chat, lang="en")
    await search_home(chat)
    await chat.press("Karyawan Surabaya")
    await chat.press("Ask to join")
    await chat.choose("yes")
    await chat.send(NIK)
    await chat.choose("yes")
    # a second cooperative, found in another regency: no NIK question this time
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Find a cooperative")
    await chat.choose("other")
    await chat.send("Jawa Timur")
    await chat.send("Kabupaten Malang")
    await chat.choose("migrant")
    await chat.press("Purna Migran Makmur Malang")
    intro = texts(await chat.press("Ask to join"))
    assert MASKED in intro and NIK not in intro
    await chat.choose("yes")
    run = await one(app, FlowRun, FlowRun.flow == "join_request", FlowRun.status == "active")
    assert run.step == "confirm" and "nik" not in run.history
    await chat.choose("yes")
    assert await count(app, Submission, Submission.kind == SubmissionKind.JOIN_REQUEST) == 2
    latest = await one(app, Submission, Submission.ref_id == await coop_id(app, "Makmur Malang"))
    assert latest.answers["nik"] == NIK


async def test_another_region_and_search_by_type(app, person) -> None:
    await load_sample(app)
    chat = person(7003)
    await onboard(chat, lang="en")
    await chat.press("Cooperative")
    await chat.press("Find a cooperative")
    await chat.choose("other")
    await chat.send("jatim")
    await chat.send("Kabupaten Malang")
    found = shown(chat, await chat.choose("migrant"))
    assert "Purna Migran Makmur Malang" in found
    assert "Sumberejo" not in found and "Kopi Dampit" not in found
    assert any("✈️" in b and "Makmur Malang" in b for b in chat.buttons())
    # the whole province, Merah Putih only
    await chat.press("Search again")
    await chat.choose("other")
    await chat.send("Jawa Timur")
    await chat.choose("all")
    found = shown(chat, await chat.choose("merah_putih"))
    assert "Sumberejo" in found and "Ngadirejo" in found and "2 found" in found
    assert "Karyawan" not in found and "Kroya" not in found  # Kroya is in Jawa Tengah
    assert all(b.startswith("🇮🇩") for b in chat.buttons() if "Koperasi" in b)
    # by a type: producers in the whole province
    await chat.press("Search again")
    await chat.choose("other")
    await chat.send("Jawa Timur")
    await chat.choose("all")
    found = shown(chat, await chat.choose("produsen"))
    assert "Kopi Dampit" in found and "Nelayan Muncar" in found and "Sumberejo" not in found


async def test_many_results_are_paged(app, person) -> None:
    async with app.sessionmaker() as session, session.begin():
        for i in range(11):
            session.add(
                Cooperative(
                    name=f"Koperasi Uji {i:02d}", kind="jasa", province_code="35",
                    regency_code="35.78", village="Genteng", description="Uji",
                    simpanan_pokok=100000, simpanan_wajib=10000, requirements="KTP",
                    benefits="SHU", merah_putih=i == 5, migrant=False, sample=True,
                )
            )  # fmt: skip
    chat = person(7004)
    await onboard(chat, lang="en")
    seen = texts(await search_home(chat))
    assert "11 found" in seen
    buttons = chat.buttons()
    assert buttons[0].startswith("🇮🇩") and "1/2" in buttons
    assert sum("Koperasi Uji" in b for b in buttons) == 8
    await chat.press("▶️")
    assert sum("Koperasi Uji" in b for b in chat.buttons()) == 3


async def test_empty_regency_offers_province_another_region_or_founding(app, person) -> None:
    await load_sample(app)
    chat = person(7005)
    await onboard(chat, lang="en")
    empty = texts(await search_home(chat, "jasa"))
    assert "no cooperative" in empty and "Kota Surabaya" in empty
    buttons = chat.buttons()
    assert any("whole province" in b for b in buttons)
    assert any("Another region" in b for b in buttons)
    assert any("Found a new one" in b for b in buttons)
    province = shown(chat, await chat.press("whole province"))
    assert "Jasa Boga Tulungagung" in province
    await search_home(chat, "jasa")
    await chat.press("Found a new one")
    run = await one(app, FlowRun, FlowRun.flow == "found_coop")
    assert run.status == RunStatus.ACTIVE and run.step == "kind"


async def test_second_request_while_one_is_open_is_not_duplicated(app, person) -> None:
    await load_sample(app)
    chat = person(7006)
    await onboard(chat, lang="en")
    await search_home(chat)
    await chat.press("Karyawan Surabaya")
    card = chat.last_keyboard_message()
    await chat.press("Ask to join")
    await chat.choose("yes")
    await chat.send(NIK)
    await chat.choose("yes")
    again = texts(await chat.press("Ask to join", message=card))
    assert "already asked to join" in again
    assert await count(app, Submission) == 1
    assert await count(app, FlowRun, FlowRun.flow == "join_request") == 1


async def test_forged_cooperative_ids_change_nothing(app, person) -> None:
    await load_sample(app)
    chat = person(7007)
    await onboard(chat, lang="en")
    for data in ("co:join:99999:::0", "co:card:99999:::0", "co:res:0:99.99:any:0", "co:zzz:1:::0"):
        replies = await chat.press_data(data)
        assert "could not find" in texts(replies)
    assert await count(app, FlowRun, FlowRun.flow == "join_request") == 0
    assert await count(app, Submission) == 0


async def test_a_restart_in_the_middle_resumes_at_the_same_step(app, person) -> None:
    await load_sample(app)
    chat = person(7008)
    await onboard(chat, lang="en")
    await search_home(chat)
    await chat.press("Karyawan Surabaya")
    await chat.press("Ask to join")
    await chat.choose("yes")
    app2 = build_app(app.settings, session=OfflineSession(), token=OFFLINE_TOKEN)
    try:
        chat2 = OfflineChat(app2.bot, app2.dp, app2.bot.session, 7008)  # type: ignore[arg-type]
        resumed = texts(await chat2.send("/start"))
        assert "step 2 of 3" in resumed
        await chat2.press("Continue")
        await chat2.send(NIK)
        run = await one(app, FlowRun, FlowRun.flow == "join_request")
        assert run.step == "confirm"
        await chat2.choose("yes")
        assert await count(app, Submission) == 1
    finally:
        await app2.close()
