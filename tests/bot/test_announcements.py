"""Announcements are opt-in: asked once after the profile, stopped with /berhenti."""

from __future__ import annotations

from bot.handlers.announcements import AnnouncementsCB
from storage.models import Consent, Person
from tests.support.talk import count, onboard, one, texts


async def test_the_question_comes_after_the_profile_and_the_menu_stays_last(app, person) -> None:
    chat = person(7801)
    await onboard(chat, lang="en")
    message = chat.last_keyboard_message()
    assert message is not None and "What would you like to do?" in (message.text or "")
    sent = [c for c in app.bot.session.calls if "May coordinators send you" in str(c)]
    assert len(sent) == 1
    assert (await one(app, Person)).announcements is False


async def test_yes_is_a_recorded_consent_and_a_double_tap_is_one(app, person) -> None:
    chat = person(7802)
    await onboard(chat, lang="en")
    data = AnnouncementsCB(ok=True).pack()
    await chat.press_data(data)
    await chat.press_data(data)
    assert (await one(app, Person)).announcements is True
    assert await count(app, Consent, Consent.purpose == "announcements") == 1
    shown = texts(await chat.send("/datasaya"))
    assert "Announcements: yes" in shown


async def test_berhenti_stops_and_langganan_starts_again(app, person) -> None:
    chat = person(7803)
    await onboard(chat, lang="en")
    await chat.press_data(AnnouncementsCB(ok=True).pack())
    assert "no more announcements" in texts(await chat.send("/berhenti"))
    assert (await one(app, Person)).announcements is False
    consent = await one(app, Consent, Consent.purpose == "announcements")
    assert consent.withdrawn_at is not None
    await chat.send("/berhenti")  # again: nothing more changes
    assert await count(app, Consent, Consent.purpose == "announcements") == 1
    assert "again" in texts(await chat.send("/langganan"))
    assert (await one(app, Person)).announcements is True
    assert await count(app, Consent, Consent.purpose == "announcements") == 2


async def test_no_is_remembered_so_the_question_is_not_asked_twice(app, person) -> None:
    from storage import repo

    chat = person(7804)
    await onboard(chat, lang="en")
    await chat.press_data(AnnouncementsCB(ok=False).pack())
    await chat.press_data(AnnouncementsCB(ok=False).pack())
    assert (await one(app, Person)).announcements is False
    assert await count(app, Consent, Consent.purpose == "announcements_declined") == 1
    async with app.sessionmaker() as session:
        saved = await one(app, Person)
        assert await repo.asked_announcements(session, person_id=saved.id)


async def test_indonesian_wording(app, person) -> None:
    chat = person(7805)
    await onboard(chat)
    assert "tidak akan menerima pengumuman" in texts(await chat.send("/berhenti"))
