"""Bad input gets a clear message in the person's language and changes nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.types import Chat, Message, PhotoSize, Update, Voice

from bot.keyboards import FlowCB
from storage.models import FlowRun, Person, ProcessedUpdate
from tests.support.talk import agree, count, onboard, one, texts


async def at_name_step(chat) -> None:
    await agree(chat)
    await chat.choose("id")


async def test_sticker_where_text_is_expected(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    replies = await chat.sticker()
    assert "ketik" in texts(replies).lower()
    run = await one(app, FlowRun)
    assert run.step == "name" and "name" not in run.answers


def _media(chat, **fields) -> dict:
    return {
        "message": Message(
            message_id=999, date=datetime.now(UTC), chat=chat.chat, from_user=chat.user, **fields
        )
    }


async def test_photo_without_caption_is_refused_with_a_safety_note(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    photo = [PhotoSize(file_id="p", file_unique_id="p", width=10, height=10)]
    replies = await chat.feed(**_media(chat, photo=photo))
    assert "KTP" in texts(replies)
    assert (await one(app, FlowRun)).step == "name"


async def test_photo_with_a_caption_is_not_taken_as_an_answer(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    photo = [PhotoSize(file_id="p", file_unique_id="p", width=10, height=10)]
    await chat.feed(**_media(chat, photo=photo, caption="Siti Aminah"))
    assert (await one(app, Person)).name is None


async def test_voice_note_where_text_is_expected(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    voice = Voice(file_id="v", file_unique_id="v", duration=3)
    replies = await chat.feed(**_media(chat, voice=voice))
    assert "ketik" in texts(replies).lower()
    assert (await one(app, FlowRun)).step == "name"


async def test_five_thousand_characters_are_refused(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    replies = await chat.send("a" * 5000)
    assert "1000" in texts(replies) or "1.000" in texts(replies)
    assert (await one(app, Person)).name is None


async def test_wrong_phone_number_is_explained_and_re_asked(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    await chat.send("Siti")
    replies = await chat.send("12345")
    assert "0812" in texts(replies)
    assert (await one(app, FlowRun)).step == "phone"
    assert (await one(app, Person)).phone is None


async def test_forged_callback_data_changes_nothing(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    before = await one(app, FlowRun)
    replies = await chat.press_data("f:not-a-number:name:pick:x")
    replies += await chat.press_data("zz:garbage")
    assert "tidak berlaku" in texts(replies).lower()
    after = await one(app, FlowRun)
    assert (after.step, after.answers) == (before.step, before.answers)


async def test_a_button_acts_only_on_the_pressers_own_run(app, person) -> None:
    victim, other = person(5001), person(5002)
    await at_name_step(victim)
    await at_name_step(other)
    forged = FlowCB(flow="onboarding", step="name", act="cancel").pack()
    await other.press_data(forged)
    runs = {
        r.person_id: r.status
        for r in [await one(app, FlowRun, FlowRun.person_id == i) for i in (1, 2)]
    }
    assert runs == {1: "active", 2: "cancelled"}


async def test_a_button_for_another_step_changes_nothing(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    replies = await chat.press_data(
        FlowCB(flow="onboarding", step="goal", act="pick", v="kur").pack()
    )
    assert "sebelumnya" in texts(replies).lower()
    run = await one(app, FlowRun)
    assert run.step == "name" and "goal" not in run.answers


async def test_start_in_the_middle_of_the_profile_offers_to_continue(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    await chat.send("Siti")
    replies = await chat.send("/start")
    assert "Lanjutkan" in " ".join(chat.buttons()), texts(replies)
    assert (await one(app, FlowRun)).step == "phone"


async def test_help_in_the_middle_of_the_profile_keeps_the_place(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    replies = await chat.send("/help")
    assert "/hapusdata" in texts(replies)
    assert any("Lanjutkan" in b for b in chat.buttons())
    await chat.send("Siti Aminah")
    assert (await one(app, FlowRun)).answers["name"] == "Siti Aminah"


async def test_double_tap_on_a_button_answers_once(app, person) -> None:
    chat = person()
    await agree(chat)
    message = chat.last_keyboard_message()
    await chat.press("Bahasa Indonesia", message=message)
    replies = await chat.press("Bahasa Indonesia", message=message)
    assert "sebelumnya" in texts(replies).lower()
    run = await one(app, FlowRun)
    assert run.step == "name" and run.history == ["language"]


async def test_double_tap_on_consent_creates_one_person(app, person) -> None:
    chat = person()
    await chat.send("/start")
    message = chat.last_keyboard_message()
    await chat.press("Setuju", message=message)
    await chat.press("Setuju", message=message)
    assert await count(app, Person) == 1
    assert await count(app, FlowRun) == 1


async def test_the_same_update_delivered_twice_is_handled_once(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    update = Update(
        update_id=424242,
        message=Message(
            message_id=50,
            date=datetime.now(UTC),
            chat=Chat(id=chat.user.id, type="private"),
            from_user=chat.user,
            text="Siti Aminah",
        ),
    )
    first = await chat.feed_update(update)
    second = await chat.feed_update(update)
    assert first and not second
    run = await one(app, FlowRun)
    assert run.step == "phone" and run.history == ["language", "name"]
    assert await count(app, ProcessedUpdate, ProcessedUpdate.update_id == 424242) == 1


async def test_empty_and_blank_text_is_re_asked(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    replies = await chat.send("   ")
    assert (await one(app, FlowRun)).step == "name"
    assert texts(replies)


async def test_text_outside_any_flow_points_to_the_menu(app, person) -> None:
    chat = person()
    await onboard(chat)
    replies = await chat.send("halo?")
    assert "Koperasi" in " ".join(chat.buttons()), texts(replies)


async def test_stranger_text_before_consent_points_to_start(app, person) -> None:
    replies = await person().send("halo")
    assert "/start" in texts(replies)
    assert await count(app, Person) == 0


# --- text that shows nothing, countries with digits, dates without a range --------------------

INVISIBLE_ONLY = [
    "\u200b\u200b",
    "\u200c\u200d",
    "\u2060\ufeff",
    "\u200e\u200f",
    "\u3164\u3164",
    "\u2800 \u2800",
    "\u00a0\u3000\u200d",
]


async def test_a_name_that_shows_nothing_is_refused(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    for raw in INVISIBLE_ONLY:
        said = texts(await chat.send(raw))
        assert "tidak boleh kosong" in said, repr(raw)
    assert (await one(app, FlowRun)).step == "name"
    assert (await one(app, Person)).name is None


async def test_a_country_with_digits_is_refused(app, person) -> None:
    chat = person()
    await at_name_step(chat)
    await chat.send("Siti Aminah")
    await chat.send("0812 3456 7890")
    await chat.send("Jawa Timur")
    await chat.send("Kota Surabaya")
    for raw in ("12345", "T4iwan", "\u200b\u200d"):
        said = texts(await chat.send(raw))
        assert "nama negara" in said or "tidak boleh kosong" in said, raw
    run = await one(app, FlowRun)
    assert run.step == "country" and "country" not in run.answers


async def test_a_bank_visit_in_9999_is_refused_with_the_range_in_the_persons_words(
    app, person
) -> None:
    from tests.bot.test_kur import answer_readiness

    chat = person()
    await onboard(chat, lang="id")
    await chat.press("Pinjaman KUR")
    await answer_readiness(chat, amount="40 juta")
    await chat.press("Bank dan jadwal")
    await chat.choose("bri")
    await chat.send("BRI Unit Wonokromo")
    said = texts(await chat.send("31/12/9999"))
    assert "terlalu jauh" in said and "25 November 2026" in said and "25 Mei 2027" in said
    said = texts(await chat.send("kemarin"))
    assert "sudah lewat" in said and "25 November 2026" in said and "25 Mei 2027" in said
    await chat.send("25/05/2027")
    run = await one(app, FlowRun, FlowRun.flow == "kur_bank")
    assert run.step == "time" and run.answers["date"] == "2027-05-25"


async def test_a_training_two_years_ahead_at_most_in_english(app, person) -> None:
    from tests.bot.test_training import coordinator

    chat = await coordinator(app, person)
    await chat.send("/pelatihan_baru")
    for raw in INVISIBLE_ONLY[:3]:
        assert "cannot be empty" in texts(await chat.send(raw))
    await chat.send("Pembukuan untuk warung")
    await chat.send("Dinas Koperasi Surabaya")
    await chat.choose("finance")
    said = texts(await chat.send("31/12/9999"))
    assert "too far ahead" in said and "November 25, 2026" in said and "November 25, 2028" in said
    await chat.send("25/11/2028")
    assert (await one(app, FlowRun, FlowRun.flow == "training_edit")).step == "start"


async def test_a_founding_meeting_within_a_year(app, person) -> None:
    from tests.bot.test_coop_found import onboard_in_mataram

    chat = person()
    await onboard_in_mataram(chat)
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Found a new one")
    await chat.choose("simpan_pinjam")
    assert "cannot be empty" in texts(await chat.send("\u200b" * 12 + "\u200d" * 12))
    await chat.send("Simpan pinjam untuk purna PMI di Mataram")
    await chat.send("Koperasi Purna Migran Mataram")
    await chat.choose("yes")
    await chat.press("Set the meeting date")
    said = texts(await chat.send("31/12/9999"))
    assert "too far ahead" in said and "November 25, 2027" in said
    await chat.send("25/11/2027")
    assert (await one(app, FlowRun, FlowRun.flow == "found_meeting")).step == "time"
