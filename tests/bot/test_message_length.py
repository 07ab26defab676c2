"""No message the bot sends is over 600 characters (issue 15, point 5), the ones it builds from
several msgids included: the profile, /progres, /datasaya, the training list, a cooperative's
card, a review item. Rendered through the real handlers with a full journey's data, in both
languages. (Each msgstr alone: tests/test_message_length.py.)"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

from aiogram.methods import EditMessageText, SendMessage

from bot.text import READING_LIMIT
from storage.models import Training
from tests.bot.test_privacy_journey import START, journey
from tests.bot.test_review import reviewer
from tests.support.talk import texts

LOCALES = Path(__file__).resolve().parents[2] / "locales"
TAG = re.compile(r"<[^>]+>")


def visible(text: str) -> str:
    return html.unescape(TAG.sub("", text))


def over_the_limit(calls) -> list[str]:
    said = [
        c.text
        for c in calls
        if isinstance(c, SendMessage | EditMessageText) and isinstance(c.text, str)
    ]
    return [
        f"{len(visible(text))}: {visible(text)[:120]!r}"
        for text in said
        if len(visible(text)) > READING_LIMIT
    ]


async def add_trainings(app, count: int) -> None:
    async with app.sessionmaker() as session, session.begin():
        for i in range(count):
            session.add(
                Training(
                    title=f"Jualan online untuk warung kecil dan usaha rumahan, angkatan {i + 1}",
                    organiser="Dinas Tenaga Kerja dan Transmigrasi Kota Surabaya",
                    topic="digital",
                    starts_at=START + timedelta(days=i + 1),
                    ends_at=START + timedelta(days=i + 1, hours=3),
                    place="Aula BLK Surabaya, Jl. Dukuh Menanggal 124, Kota Surabaya",
                    province_code="35",
                    regency_code="35.78",
                    seats=25,
                )
            )


LABELS = {
    "en": ("Training", "Cooperative", "Find a cooperative"),
    "id": ("Pelatihan", "Koperasi", "Cari koperasi"),
}


async def read_everything(chat, lang: str) -> None:
    """Every composite page a returnee reads."""
    training, cooperative, find = LABELS[lang]
    await chat.send("/profil")
    await chat.send("/progres")
    await chat.send("/datasaya")
    await chat.send("/pengingat")
    await chat.send("/help")
    await chat.send("/menu")
    await chat.press(training)
    await chat.send("/menu")
    await chat.press(cooperative)
    await chat.press(find)
    await chat.choose("home")
    await chat.choose("any")
    await chat.press("Karyawan Surabaya")


async def test_every_message_of_a_full_journey_fits_in_both_languages(app, person) -> None:
    chats = await journey(app, person)
    await add_trainings(app, 8)
    siti = chats["siti"]
    await siti.send("/batal")
    await read_everything(siti, "en")
    await siti.send("/bahasa")
    await siti.press("Bahasa Indonesia")
    await read_everything(siti, "id")
    assert "Pendaftaran anggota" in texts(await siti.send("/datasaya"))

    staff = await reviewer(app, person)
    items = []
    for kind in ("KUR readiness checks", "Join requests", "Training registrations"):
        await staff.send("/tinjau")
        if not any(kind in b for b in staff.buttons()):
            continue
        await staff.press(kind)
        for item in [b for b in staff.buttons() if b.startswith("#")]:
            await staff.send("/tinjau")
            await staff.press(kind)
            items.append(texts(await staff.press(item)))
    assert len(items) >= 3 and any("Kambing etawa" in item for item in items)
    assert not over_the_limit(app.bot.session.calls), "\n".join(
        over_the_limit(app.bot.session.calls)
    )


def test_the_check_sees_a_long_message() -> None:
    long = SendMessage(chat_id=1, text="<b>Profil</b> " + "x" * 600)
    short = SendMessage(chat_id=1, text="<b>" + "x" * 590 + "</b> &amp;")
    assert over_the_limit([long]) and not over_the_limit([short])
