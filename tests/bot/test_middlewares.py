"""Flood control, failures inside a handler, and menu entries not built yet."""

from __future__ import annotations

from bot import driver
from storage.models import FlowRun
from tests.support.talk import agree, one, texts


async def test_twenty_messages_in_a_moment_get_one_slow_down(app, person, settings) -> None:
    from bot.app import build_dispatcher

    app.dp = build_dispatcher(
        settings.model_copy(update={"flood_limit": 5}), app.sessionmaker, app.i18n
    )
    chat = person()
    chat.dp = app.dp
    replies = []
    for _ in range(20):
        replies += await chat.send("halo")
    slow = [
        r
        for r in replies
        if "pelan" in (getattr(r, "text", "") or "").lower()
        or "cepat" in (getattr(r, "text", "") or "").lower()
    ]
    assert len(slow) == 1
    assert len(replies) == 6


async def test_a_failing_handler_keeps_nothing_and_apologises(app, person, monkeypatch) -> None:
    chat = person()
    await agree(chat)
    await chat.choose("id")

    def explode(*args, **kwargs) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(driver, "show", explode)
    replies = await chat.send("Siti Aminah")
    assert "coba lagi" in texts(replies).lower()
    run = await one(app, FlowRun)
    assert run.step == "name" and "name" not in run.answers
    monkeypatch.undo()
    await chat.send("Siti Aminah")
    assert (await one(app, FlowRun)).answers["name"] == "Siti Aminah"
