"""A coordinator's announcement is the one text the bot sends on to many people: whatever the
coordinator types (with Telegram's own formatting entities), the draft card, the preview and
every delivery are accepted by Telegram, or the coordinator is told at once what to change."""

from __future__ import annotations

from aiogram.types import MessageEntity, PhotoSize

from bot.offline import OfflineChat
from bot.text import utf16_len
from tests.adversarial.conftest import Harness
from tests.adversarial.hostile import CANARY
from tests.conftest import ADMIN_ID
from tests.support.talk import onboard, texts

ENTITIES = [
    MessageEntity(type="bold", offset=0, length=3),
    MessageEntity(type="italic", offset=1, length=4),
    MessageEntity(type="text_link", offset=2, length=3, url="https://example.org/?a=1&b=<2>"),
    MessageEntity(type="spoiler", offset=0, length=2),
    MessageEntity(type="code", offset=3, length=2),
]
DRAFTS = [
    "<b>", "</i>", "&", "a < b > c & d", "&amp; &lt; &nbsp; &#0; &#xD800;", CANARY,
    "%s %d {name} {0} %(x)s", "\x00", "\u200b", "x" * 5000, "ي" * 4097, "😀" * 2100,
    "😀" * 3000, "🇮🇩" * 1500, "&" * 3976, "<" * 3976, "🇮🇩" * 994,  # 3,976 units: fits
]  # fmt: skip


def formatting(text: str) -> list[MessageEntity] | None:
    """ENTITIES where they fit, their offsets turned into UTF-16 units as Telegram sends them
    (an entity never splits a character)."""
    found = []
    for e in ENTITIES:
        if e.offset + e.length <= len(text):
            offset = utf16_len(text[: e.offset])
            length = utf16_len(text[e.offset : e.offset + e.length])
            found.append(e.model_copy(update={"offset": offset, "length": length}))
    return found or None


CAPTION_EDGE = "🇮🇩" * 226  # 904 UTF-16 units, the most a caption may have


async def reader(h: Harness) -> OfflineChat:
    chat = h.person()
    await onboard(chat, lang="id")
    await chat.press_data("an:1")  # yes to announcements
    return chat


async def announce(
    h: Harness, admin: OfflineChat, text: str, entities: bool, photo: bool = False
) -> None:
    since = h.mark()
    shown = texts(await admin.send("/siaran"))
    if "Start a new one" in " ".join(admin.buttons()):
        shown += texts(await admin.press("Start a new one"))
    if photo:
        message = admin._message(
            photo=[PhotoSize(file_id="AgACAgIAAxk", file_unique_id="AQAD", width=90, height=90)],
            caption=text,
            caption_entities=formatting(text) if entities else None,
        )
    else:
        message = admin._message(text=text, entities=formatting(text) if entities else None)
    shown += texts(await admin.feed(message=message))
    h.check(since, f"a draft of {text[:40]!r} ({len(text)} characters)", shown)
    for button in ("Preview", "Send now", "Yes, send it now"):
        if any(button in b for b in admin.buttons()):
            since = h.mark()
            shown = texts(await admin.press(button))
            h.check(since, f"{button} of {text[:40]!r} ({len(text)} characters)", shown)
    since = h.mark()
    await h.app.sender.drain()
    h.check(since, f"sending {text[:40]!r} ({len(text)} characters)")


def test_every_hostile_announcement(harness: Harness) -> None:
    """Each draft typed plain and with Telegram's formatting entities."""

    async def scenario() -> None:
        admin = OfflineChat(harness.app.bot, harness.app.dp, harness.app.bot.session, ADMIN_ID)
        await onboard(admin, name="Budi Admin", lang="en")
        await reader(harness)
        for i, text in enumerate(DRAFTS):
            await announce(harness, admin, text, entities=bool(i % 2))
            if len(text) < 50:  # the short ones both ways
                await announce(harness, admin, text, entities=not i % 2)

    harness.run(scenario())


def test_every_hostile_caption(harness: Harness) -> None:
    async def scenario() -> None:
        admin = OfflineChat(harness.app.bot, harness.app.dp, harness.app.bot.session, ADMIN_ID)
        await onboard(admin, name="Budi Admin", lang="en")
        await reader(harness)
        for text in ["😀" * 600, "&" * 904, "<b>", "x" * 905, CAPTION_EDGE]:
            await announce(harness, admin, text, entities=True, photo=True)

    harness.run(scenario())


LABELS = ["Daftar", "", " ", "\x00", "Daf\x00tar", "\u200b", "<b>", "&", "x" * 41, "😀" * 20]
LINKS = [
    "https://example.org/daftar", "https://a\x00b", "javascript:alert(1)", "https://",
    "https://" + "x" * 300, "http://[::1", "https://例え.jp/?a=<b>&c", "tg://resolve?domain=x",
]  # fmt: skip


def test_every_hostile_link_button(harness: Harness) -> None:
    async def scenario() -> None:
        admin = OfflineChat(harness.app.bot, harness.app.dp, harness.app.bot.session, ADMIN_ID)
        await onboard(admin, name="Budi Admin", lang="en")
        await reader(harness)
        for i, label in enumerate(LABELS):
            await admin.send("/siaran")
            if "Start a new one" in " ".join(admin.buttons()):
                await admin.press("Start a new one")
            await admin.send("Info pelatihan")
            since = harness.mark()
            shown = texts(await admin.press("Add a link button"))
            shown += texts(await admin.send(label or "/batal"))
            shown += texts(await admin.send(LINKS[i % len(LINKS)]))
            harness.check(since, f"a link button {label!r} to {LINKS[i % len(LINKS)]!r}", shown)
            for button in ("Preview", "Send now", "Yes, send it now"):
                if any(button in b for b in admin.buttons()):
                    since = harness.mark()
                    harness.check(since, button, texts(await admin.press(button)))
            since = harness.mark()
            await harness.app.sender.drain()
            harness.check(since, f"sending with a link button {label!r}")

    harness.run(scenario())
