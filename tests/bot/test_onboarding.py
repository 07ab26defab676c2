"""Onboarding through the real dispatcher: consent, language, profile, menu."""

from __future__ import annotations

from storage.models import Consent, FlowRun, Person, ProcessedUpdate
from tests.support.talk import agree, count, onboard, one, texts


async def test_start_greets_and_asks_consent_storing_nothing(app, person) -> None:
    chat = person()
    replies = await chat.send("/start")
    assert "Pulang Juragan" in texts(replies)
    assert "UU No. 27 Tahun 2022" in texts(replies)
    assert chat.buttons() == ["✅ Setuju", "Tidak setuju"]
    assert await count(app, Person) == 0
    assert await count(app, FlowRun) == 0


async def test_refusing_consent_is_respected_and_keeps_nothing(app, person) -> None:
    chat = person()
    await chat.send("/start")
    replies = await chat.press("Tidak setuju")
    assert "/start" in texts(replies)
    assert await count(app, Person) == 0
    assert await count(app, Consent) == 0


async def test_typing_setuju_instead_of_pressing_asks_again_with_the_buttons(app, person) -> None:
    chat = person()
    await chat.send("/start")
    for typed in ("Setuju", "ya", "saya setuju!", "Tidak setuju"):
        replies = await chat.send(typed)
        assert "tombol" in texts(replies) and "UU No. 27 Tahun 2022" in texts(replies)
        assert chat.buttons() == ["✅ Setuju", "Tidak setuju"]
    assert await count(app, Person) == 0 and await count(app, Consent) == 0
    replies = await chat.send("mau pinjam modal")  # anything else: where to begin
    assert "/start" in texts(replies) and "tombol" not in texts(replies)
    await chat.press("✅ Setuju")
    assert await count(app, Consent) == 1


async def test_whole_onboarding_reaches_main_menu_with_profile_stored(app, person) -> None:
    chat = person()
    await onboard(chat)
    saved = await one(app, Person, Person.telegram_id == chat.user.id)
    assert (saved.name, saved.phone) == ("Siti Aminah", "+6281234567890")
    assert (saved.province_code, saved.regency_code) == ("35", "35.78")
    assert (saved.country, saved.years_abroad, saved.goal, saved.locale) == (
        "TW",
        "5to10",
        "kur",
        "id",
    )
    assert saved.onboarded_at is not None
    consent = await one(app, Consent, Consent.person_id == saved.id)
    assert consent.text_version and consent.withdrawn_at is None
    assert "Koperasi" in " ".join(chat.buttons()) and "Pinjaman KUR" in " ".join(chat.buttons())


async def test_choosing_english_switches_the_next_questions(app, person) -> None:
    chat = person()
    await agree(chat)
    replies = await chat.choose("en")
    assert "What is your name?" in texts(replies)
    assert (await one(app, Person)).locale == "en"


async def test_telegram_language_code_picks_english_before_any_profile(app, person) -> None:
    chat = person(language_code="en-US")
    replies = await chat.send("/start")
    assert "Do you agree?" in texts(replies)


async def test_deep_link_payload_is_kept_through_consent(app, person) -> None:
    chat = person()
    await agree(chat, payload="inv_AB12cd")
    assert (await one(app, Person)).start_payload == "inv_AB12cd"


async def test_back_returns_to_previous_step_and_shows_the_answer(app, person) -> None:
    chat = person()
    await agree(chat)
    await chat.choose("id")
    await chat.send("Siti Aminah")
    replies = await chat.press("Kembali")
    assert "Siti Aminah" in texts(replies)
    run = await one(app, FlowRun)
    assert run.step == "name" and run.answers["name"] == "Siti Aminah"


async def test_province_search_by_alias_and_choosing_among_matches(app, person) -> None:
    chat = person()
    await agree(chat)
    await chat.choose("id")
    await chat.send("Siti")
    await chat.send("081234567890")
    await chat.send("jatim")
    replies = await chat.send("malang")
    assert {"Kabupaten Malang", "Kota Malang"} <= set(chat.buttons())
    assert "Kota Batu" not in chat.buttons(), texts(replies)
    await chat.press("Kota Malang", exact=True)
    assert (await one(app, FlowRun)).answers["regency"] == "35.73"


async def test_shared_contact_fills_the_phone(app, person) -> None:
    chat = person()
    await agree(chat)
    await chat.choose("id")
    await chat.send("Siti")
    await chat.share_contact("6281298765432")
    run = await one(app, FlowRun)
    assert run.answers["phone"] == "+6281298765432" and run.step == "province"


async def test_someone_elses_contact_is_refused(app, person) -> None:
    chat = person()
    await agree(chat)
    await chat.choose("id")
    await chat.send("Siti")
    replies = await chat.share_contact("6281298765432", own=False)
    assert "nomor Anda sendiri" in texts(replies)
    assert (await one(app, Person)).phone is None


async def test_cancel_keeps_answers_and_start_offers_to_continue(app, person) -> None:
    chat = person()
    await agree(chat)
    await chat.choose("id")
    await chat.send("Siti Aminah")
    await chat.send("/batal")
    replies = await chat.send("/start")
    assert "langkah 3 dari 8" in texts(replies)
    replies = await chat.press("Lanjutkan")
    assert "nomor hp" in texts(replies).lower()
    assert (await one(app, FlowRun)).answers["name"] == "Siti Aminah"


async def test_start_over_begins_the_profile_again(app, person) -> None:
    chat = person()
    await agree(chat)
    await chat.choose("id")
    await chat.send("Siti Aminah")
    await chat.send("/start")
    replies = await chat.press("Mulai dari awal")
    assert "langkah 1 dari 8" in texts(replies)
    assert await count(app, FlowRun, FlowRun.status == "active") == 1


async def test_returning_person_gets_the_menu(app, person) -> None:
    chat = person()
    await onboard(chat)
    replies = await chat.send("/start")
    assert "Siti Aminah" in texts(replies)
    assert await count(app, ProcessedUpdate) > 10
