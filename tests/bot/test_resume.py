"""A flow's truth is in the database: a restart, a second instance or a new phone resumes it."""

from __future__ import annotations

from bot.offline import OfflineChat
from storage.models import FlowRun, Person
from tests.support.talk import agree, one, restarted, texts


async def test_a_restart_mid_flow_resumes_at_the_same_step_with_the_answers(app, person) -> None:
    chat = person(7001)
    await agree(chat)
    await chat.choose("en")
    await chat.send("Siti Aminah")
    await chat.send("0812 3456 7890")
    before = await one(app, FlowRun)
    assert before.step == "province"
    await app.close()

    second = restarted(app)
    try:
        again = OfflineChat(second.bot, second.dp, second.bot.session, 7001)  # type: ignore[arg-type]
        shown = texts(await again.send("/start"))
        assert "step 4 of" in shown
        shown = texts(await again.press("Continue"))
        assert "Which province" in shown
        await again.send("Jawa Timur")
        run = await one(second, FlowRun)
        assert run.id == before.id and run.step == "regency"
        assert run.answers["name"] == "Siti Aminah" and run.answers["province"] == "35"
        await again.send("Kota Surabaya")
        await again.choose("TW")
        await again.choose("5to10")
        await again.choose("kur")
        saved = await one(second, Person)
        assert saved.onboarded_at is not None and saved.regency_code == "35.78"
    finally:
        await second.close()


async def test_typing_after_a_restart_answers_the_waiting_question(app, person) -> None:
    chat = person(7002)
    await agree(chat)
    await chat.choose("id")
    await chat.send("Siti Aminah")
    await app.close()
    second = restarted(app)
    try:
        again = OfflineChat(second.bot, second.dp, second.bot.session, 7002)  # type: ignore[arg-type]
        await again.send("0812 3456 7890")  # the phone question was waiting: it is answered
        run = await one(second, FlowRun)
        assert run.step == "province" and run.answers["phone"] == "+6281234567890"
    finally:
        await second.close()
