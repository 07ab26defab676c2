"""The founding steps as data (flows/content/coop.toml) and the plan page that explains only the
next one, in short messages."""

from __future__ import annotations

import pytest
from aiogram.methods import EditMessageText, SendMessage

from flows import found_coop as fc
from flows.content import facts
from flows.content import help as content
from tests.bot.test_coop_found import FOUNDER, onboard_in_mataram, start_plan


def test_the_steps_follow_the_founding_procedure_in_order() -> None:
    keys = fc.MILESTONE_KEYS
    assert keys[0] == "penyuluhan" and keys[-1] == "nik_koperasi"
    assert keys.index("meeting") < keys.index("setor") < keys.index("notary")
    assert keys.index("business_plan") < keys.index("notary") < keys.index("ahu")
    assert {"nib", "npwp", "bank"} <= set(keys)
    about = {m.key: m.about for m in fc.MILESTONES}
    assert "penyuluhan" in about["penyuluhan"] and "Dinas Koperasi" in about["penyuluhan"]
    assert "bukti setor" in about["setor"] and "rencana kegiatan usaha" in about["business_plan"]
    assert "Notaris Pembuat Akta Koperasi" in about["notary"] and "AHU Online" in about["ahu"]
    assert "first RAT" in about["nik_koperasi"]
    step = content.coop().steps[0]
    assert step.official and step.source.startswith("https://")


def test_a_broken_coop_file_is_refused_with_its_line(tmp_path) -> None:
    broken = content.COOP_FILE.read_text("utf-8").replace(
        'key = "setor"', 'key = "setor"\nlable = "typo"', 1
    )
    path = tmp_path / "coop.toml"
    path.write_text(broken, "utf-8")
    line = broken.splitlines().index('lable = "typo"') + 1
    with pytest.raises(facts.ContentError) as refused:
        content.load_coop(path)
    assert f"coop.toml, line {line}" in str(refused.value) and "lable" in str(refused.value)


def test_a_help_text_with_a_placeholder_and_no_value_is_refused(tmp_path) -> None:
    broken = content.HELP_FILE.read_text("utf-8").replace('phone = "0-800-1000"\n', "", 1)
    path = tmp_path / "help.toml"
    path.write_text(broken, "utf-8")
    with pytest.raises(facts.ContentError) as refused:
        content.load_help(path)
    assert "kp2mi" in str(refused.value) and "{phone}" in str(refused.value)


def _sent(calls) -> list[str]:
    return [c.text for c in calls if isinstance(c, (SendMessage, EditMessageText)) and c.text]


@pytest.mark.parametrize("lang", ["en", "id"])
async def test_the_plan_explains_only_the_next_step_in_short_messages(app, person, lang) -> None:
    chat = person(FOUNDER)
    await onboard_in_mataram(chat)
    await start_plan(app, chat)
    if lang == "id":
        await chat.send("/bahasa")
        await chat.choose("id")
    await chat.send("/menu")
    await chat.press("Cooperative" if lang == "en" else "Koperasi")
    page = _sent(await chat.press("Koperasi Purna Migran Mataram"))
    assert len(page) == 2 and all(len(text) <= 600 for text in page), [len(t) for t in page]
    with app.i18n.context(), app.i18n.use_locale(lang):
        from bot.text import t

        abouts = [t(m.about) for m in fc.MILESTONES]
        licence = t(content.coop().simpan_pinjam.text)
    steps = page[1]
    assert abouts[0] in steps and not any(a in steps for a in abouts[1:])
    assert licence in page[0]  # a simpan pinjam plan: its own licence, members only
    # the first step marked: the steps message is edited, now explaining the second only
    label = "Info session" if lang == "en" else "Penyuluhan"
    edited = _sent(await chat.press(label))
    assert len(edited) == 1 and len(edited[0]) <= 600
    assert abouts[1] in edited[0] and abouts[0] not in edited[0]
