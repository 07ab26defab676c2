"""A new consent notice: someone who agreed to an older version is asked again at their next
visit, before anything else; their data is kept; declining keeps nothing new."""

from __future__ import annotations

from sqlalchemy import update

import bot.keyboards as kb
from bot.handlers import start
from storage.models import Consent, FlowRun, Person
from tests.bot.test_kur import open_kur
from tests.support.talk import count, onboard, one, texts

OLD = "2026-11"
ASKED = "We have updated this notice"


async def made_old(app) -> None:
    """As if everyone had agreed to the notice before this one."""
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Consent).where(Consent.purpose == start.CONSENT_PURPOSE).values(text_version=OLD)
        )


async def versions(app) -> list[str]:
    async with app.sessionmaker() as session:
        rows = await session.scalars(
            Consent.__table__.select()
            .with_only_columns(Consent.text_version)
            .where(Consent.purpose == start.CONSENT_PURPOSE)
            .order_by(Consent.id)
        )
        return list(rows)


async def test_a_newcomer_agrees_to_the_current_notice_that_names_what_is_kept(app, person) -> None:
    chat = person(9201)  # Telegram says Indonesian
    said = texts(await chat.send("/start"))
    for part in (
        "ID Telegram",
        "NIK",
        "SLIK",
        "pinjaman lain",
        "spesifik (sensitif)",
        "petugas dan koordinator program di daerah Anda",
        "Tidak ada yang dikirim ke bank",
        "/hapusdata",
    ):
        assert part in said, part
    await chat.press("Setuju")
    assert await versions(app) == [start.CONSENT_VERSION] and start.CONSENT_VERSION != OLD


def test_each_consent_message_is_short_in_both_languages(app) -> None:
    for locale in ("id", "en"):
        with app.i18n.context(), app.i18n.use_locale(locale):
            texts_ = start.consent_texts()
        assert len(texts_) == 3 and all(len(t) <= 600 for t in texts_), locale


async def test_an_older_agreement_is_asked_again_before_anything_else(app, person) -> None:
    chat = person(9202)
    await onboard(chat, lang="en")
    await made_old(app)
    said = texts(await chat.send("/menu"))
    assert ASKED in said and "What we keep" in said and "Do you agree?" in said
    assert "What would you like to do?" not in said
    assert "I agree" in " ".join(chat.buttons())
    # an old menu button, a journey: the notice again, nothing of the journey
    said = texts(await chat.press_data(kb.MenuCB(item="kur").pack()))
    assert ASKED in said and "readiness check" not in said
    assert await count(app, FlowRun, FlowRun.flow == "kur_readiness") == 0
    # their rights work at any time
    said = texts(await chat.send("/datasaya"))
    assert "Siti Aminah" in said and ASKED not in said
    # agreeing records the new version; the data is kept; the menu comes back
    said = texts(await chat.press("I agree"))
    assert "Your answer is saved" in said and "What would you like to do?" in said
    assert await versions(app) == [OLD, start.CONSENT_VERSION]
    assert (await one(app, Person)).name == "Siti Aminah"
    said = texts(await chat.send("/menu"))
    assert ASKED not in said and "What would you like to do?" in said


async def test_declining_the_new_notice_keeps_nothing_new_and_asks_again(app, person) -> None:
    chat = person(9203)
    await onboard(chat, lang="en")
    await made_old(app)
    await chat.send("/menu")
    said = texts(await chat.press("I do not agree"))
    assert "we respect your choice" in said and "We keep nothing new" in said
    assert "/hapusdata" in said
    assert await versions(app) == [OLD]
    assert (await one(app, Person)).name == "Siti Aminah"  # nothing deleted
    assert ASKED in texts(await chat.send("hello"))
    assert ASKED in texts(await chat.sticker())  # no text at all: asked again, no error


async def test_someone_in_the_middle_of_a_step_continues_after_agreeing(app, person) -> None:
    chat = person(9204)
    await open_kur(chat)
    await made_old(app)
    said = texts(await chat.choose("running6"))
    assert ASKED in said
    run = await one(app, FlowRun, FlowRun.flow == "kur_readiness")
    assert run.step == "status" and "status" not in (run.answers or {})  # the answer not taken
    said = texts(await chat.press("I agree"))
    assert "You were at step 1" in said and "Continue" in " ".join(chat.buttons())
    said = texts(await chat.press("Continue"))
    assert "How is your business now?" in said
