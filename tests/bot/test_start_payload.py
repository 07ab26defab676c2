"""Deep-link payloads: a role invitation's token (a secret) never stays on a person's record,
and the consent button's payload is checked as strictly as `/start <payload>`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.keyboards import ConsentCB
from flows import clock
from storage.models import Person
from tests.support.talk import agree, one

TOKEN = "AbCdEfGh12345678"


async def payload_of(app) -> str | None:
    return (await one(app, Person)).start_payload


async def test_a_role_token_is_forgotten_when_the_profile_is_stopped(app, person) -> None:
    chat = person(9301)
    await agree(chat, f"role-{TOKEN}")
    assert await payload_of(app) == f"role-{TOKEN}"  # kept while the profile is filled in
    await chat.press("Batal")
    assert await payload_of(app) is None


async def test_a_role_token_is_forgotten_after_batal_too(app, person) -> None:
    chat = person(9302)
    await agree(chat, f"role-{TOKEN}")
    await chat.choose("id")
    await chat.send("/batal")
    assert await payload_of(app) is None


async def test_another_payload_stays_when_the_profile_is_stopped(app, person) -> None:
    chat = person(9303)
    await agree(chat, "f-abc123")
    await chat.press("Batal")
    assert await payload_of(app) == "f-abc123"  # not a secret: shown after the profile


async def test_an_unused_role_token_is_forgotten_once_no_invitation_could_still_be_valid(
    app, person
) -> None:
    old, fresh = person(9304), person(9305)
    await agree(old, f"role-{TOKEN}")
    await agree(fresh, "role-ZyXwVuTs87654321")
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Person)
            .where(Person.telegram_id == 9304)
            .values(updated_at=clock.now() - timedelta(hours=73))
        )
    await app.ticker.prune()
    assert (await one(app, Person, Person.telegram_id == 9304)).start_payload is None
    kept = (await one(app, Person, Person.telegram_id == 9305)).start_payload
    assert kept == "role-ZyXwVuTs87654321"  # the link may still be valid: it is shown after


async def test_a_used_role_token_is_not_kept(app, person) -> None:
    chat = person(9306)
    await agree(chat, f"role-{TOKEN}")
    await chat.choose("id")
    for typed in ("Siti Aminah", "0812 3456 7890", "Jawa Timur", "Kota Surabaya"):
        await chat.send(typed)
    await chat.choose("TW")
    await chat.choose("5to10")
    await chat.choose("kur")  # the unknown link is tried, and the token dropped
    assert await payload_of(app) == "role"


async def test_a_forged_consent_payload_is_dropped_like_a_bad_start_payload(app, person) -> None:
    chat = person(9307)
    await chat.send("/start")
    await chat.press_data(ConsentCB(ok=True, p="role-<b>x</b>!" + "x" * 30).pack())
    created = await one(app, Person)
    assert created.start_payload is None
    assert created.onboarded_at is None  # consent itself still counts: the profile begins


async def test_a_good_consent_payload_is_kept(app, person) -> None:
    chat = person(9308)
    await chat.send("/start")
    await chat.press_data(ConsentCB(ok=True, p="f-abc123").pack())
    assert await payload_of(app) == "f-abc123"
