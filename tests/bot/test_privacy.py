"""The person's own data: see it masked, correct it, delete it."""

from __future__ import annotations

from storage import repo, submissions
from storage.models import Consent, FlowRun, Person, SubmissionKind
from tests.support.talk import count, onboard, one, texts


async def test_my_data_shows_everything_with_the_phone_masked(app, person) -> None:
    chat = person()
    await onboard(chat)
    shown = texts(await chat.send("/datasaya"))
    assert "Siti Aminah" in shown and "Kota Surabaya" in shown and "Taiwan" in shown
    assert "+62 812-****-7890" in shown
    assert "81234567890" not in shown


async def test_my_data_shows_the_nik_masked_and_every_sign_up(app, person) -> None:
    chat = person()
    await onboard(chat, lang="en")
    async with app.sessionmaker() as session, session.begin():
        saved = await repo.person_by_telegram_id(session, telegram_id=chat.user.id)
        await repo.update_person(session, saved, nik="3578014101900001")
        await submissions.create(
            session, person=saved, kind=SubmissionKind.JOIN_REQUEST, ref_id=3, answers={}
        )
    shown = texts(await chat.send("/datasaya"))
    assert "NIK: 3578********0001" in shown and "3578014101900001" not in shown
    assert "Request to join a cooperative: waiting for review" in shown


async def test_delete_my_data_after_confirmation_keeps_only_anonymous_counts(app, person) -> None:
    chat = person()
    await onboard(chat)
    await chat.send("/hapusdata")
    replies = await chat.press("Ya, hapus")
    assert "/start" in texts(replies)
    assert await count(app, Person) == 0
    assert await count(app, Consent) == 0
    run = await one(app, FlowRun)
    assert run.person_id is None and run.answers == {} and run.status == "completed"


async def test_declining_deletion_keeps_everything(app, person) -> None:
    chat = person()
    await onboard(chat)
    await chat.send("/hapusdata")
    await chat.press("Tidak, jangan")
    assert await count(app, Person) == 1


async def test_double_tap_on_delete_is_harmless(app, person) -> None:
    chat = person()
    await onboard(chat)
    await chat.send("/hapusdata")
    message = chat.last_keyboard_message()
    await chat.press("Ya, hapus", message=message)
    replies = await chat.press("Ya, hapus", message=message)
    assert "/start" in texts(replies)
    assert await count(app, Person) == 0


async def test_after_deletion_start_asks_consent_again(app, person) -> None:
    chat = person()
    await onboard(chat)
    await chat.send("/hapusdata")
    await chat.press("Ya, hapus")
    await chat.send("/start")
    assert "✅ Setuju" in chat.buttons()


async def test_profile_edit_changes_one_field(app, person) -> None:
    chat = person()
    await onboard(chat)
    await chat.send("/profil")
    await chat.press("Ubah")
    await chat.choose("province")
    await chat.send("Bali")
    replies = await chat.send("Denpasar")
    assert "Kota Denpasar" in texts(replies)
    saved = await one(app, Person)
    assert (saved.province_code, saved.regency_code, saved.name) == ("51", "51.71", "Siti Aminah")


async def test_a_profile_edit_stopped_halfway_changes_nothing(app, person) -> None:
    chat = person()
    await onboard(chat)
    await chat.send("/profil")
    await chat.press("Ubah")
    await chat.choose("province")
    await chat.send("Bali")
    await chat.send("/batal")
    saved = await one(app, Person)
    assert (saved.province_code, saved.regency_code) == ("35", "35.78")


async def test_language_command_switches_to_english(app, person) -> None:
    chat = person()
    await onboard(chat)
    await chat.send("/bahasa")
    replies = await chat.press("English")
    assert "What would you like to do?" in texts(replies)
    assert (await one(app, Person)).locale == "en"


async def test_personal_data_never_reaches_the_logs(app, person, caplog, monkeypatch) -> None:
    import logging

    from bot import driver

    caplog.set_level(logging.DEBUG)
    chat = person()
    await onboard(chat)
    await chat.send("/datasaya")
    await chat.send("/profil")
    await chat.press("Ubah")
    await chat.choose("phone")

    def explode(*args, **kwargs) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(driver, "_acknowledge", explode)
    await chat.send("0813 9999 8888")  # fails after the phone was flushed: the error is logged
    assert "boom" in caplog.text
    for secret in ("Siti", "81234567890", "1234-567", "8139999", "9999 8888"):
        assert secret not in caplog.text
