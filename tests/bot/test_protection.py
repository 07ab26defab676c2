"""The scam warning ("Waspada penipuan") from the menu and at each moment that matters, the
official help page by province, and what the cooperative card says of its legal status."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from bot import protection
from flows.content import help as content
from storage.importers import COOPERATIVE_COLUMNS, load_cooperatives, parse_cooperatives
from storage.models import Cooperative, FlowRun
from tests.bot.test_coop_join import coop_id, load_sample, search_home
from tests.bot.test_kur import answer_readiness, open_kur
from tests.support.talk import onboard, one, texts

SCAM = (
    "KUR has no fee",
    "is a calo",
    "call 157 or WhatsApp 081-157-157-157",
    "badan hukum",
    "NIK Koperasi",
    "last RAT",
    "an OTP code",
)


def is_scam_page(said: str) -> bool:
    return all(part in said for part in SCAM) and "Beware of scams" in said


async def test_the_scam_page_is_in_the_main_menu(app, person) -> None:
    chat = person(9101)
    await onboard(chat, lang="en")
    await chat.send("/menu")
    said = texts(await chat.press("Beware of scams"))
    assert is_scam_page(said)
    # the unofficial sources say where they come from and to check with the bank
    assert "From news sites, so check with the bank or the office" in said
    assert "Official help" in " ".join(chat.buttons())


async def test_the_scam_page_comes_with_the_kur_result_and_before_the_bank_visit(
    app, person
) -> None:
    chat = person(9102)
    await open_kur(chat)
    said = texts(await answer_readiness(chat))
    assert is_scam_page(said) and "Before you go to a bank, please read this." in said
    said = texts(await chat.press("Bank and appointment"))
    assert is_scam_page(said) and "Before you go to a bank" in said
    assert "Which bank" in said  # the bank step itself goes on below the warning


async def test_the_scam_page_comes_before_asking_to_join_a_cooperative(app, person) -> None:
    await load_sample(app)
    chat = person(9103)
    await onboard(chat, lang="en")
    await search_home(chat)
    await chat.press("Karyawan Surabaya")
    said = texts(await chat.press("Ask to join"))
    assert is_scam_page(said) and "Before you pay any simpanan" in said
    assert "simpanan pokok" in said  # and the join flow's first question follows


async def test_a_calo_mentioned_in_a_flow_step_warns_once_and_the_step_goes_on(app, person) -> None:
    chat = person(9104)
    await open_kur(chat)
    await chat.choose("running6")
    said = texts(await chat.send("Jualan pulsa, ditawari calo untuk urus KUR"))
    assert said.count("Beware of scams") == 1 and "You mentioned a calo or an agent" in said
    assert "21 or older" in said  # the next question: the answer was taken
    run = await one(app, FlowRun, FlowRun.flow == "kur_readiness")
    assert run.answers["business"] == "Jualan pulsa, ditawari calo untuk urus KUR"
    # words that only contain one (agenda, kalori) do not warn
    await chat.choose("adult")
    said = texts(await chat.send("/menu"))
    assert "Beware of scams" not in texts(await chat.send("agendanya besok"))


async def test_an_agent_mentioned_outside_any_flow_gets_the_warning(app, person) -> None:
    chat = person(9105)
    await onboard(chat, lang="en")
    said = texts(await chat.send("Ada AGEN yang minta uang 2 juta"))
    assert is_scam_page(said) and "You mentioned a calo or an agent" in said
    # ...and then the message is read as any other (free text: "Did you mean...?" or the menu).
    assert "Did you mean" in said or "Please choose from the menu" in said
    assert not is_scam_page(texts(await chat.send("halo")))


def test_broker_words_are_whole_words_from_the_content_file() -> None:
    assert set(content.helps().scam.triggers) >= {"calo", "agen", "makelar", "sponsor"}
    for text in ("calo", "Lewat CALO saja", "ada makelar.", "sponsor-nya", "agen, katanya"):
        assert protection.mentions_broker(text), text
    for text in ("agenda", "kalori", "pencalonan", "sponsorship", "", None):
        assert not protection.mentions_broker(text), text


async def test_the_official_help_page_names_the_bp3mi_of_the_province(app, person) -> None:
    chat = person(9106)
    await onboard(chat, lang="en")  # Kota Surabaya, Jawa Timur
    await chat.send("/menu")
    said = texts(await chat.press("Official help"))
    assert "0-800-1000" in said and "+62-21-29244800" in said and "0811-8080-141" in said
    assert (
        "BP3MI Jawa Timur" in said and "Check its address and phone number on kp2mi.go.id" in said
    )
    for part in ("Dinas Koperasi", "DPMPTSP", "Mal Pelayanan Publik", "pelatihan.kemnaker.go.id"):
        assert part in said
    for part in ("mentoring", "Desa Migran Emas", "Desmigratif", "Merah Putih", "kopdesmerahputih"):
        assert part in said
    assert all(len(m) <= 1000 for m in [c.text for c in chat.replies() if c.text])


def test_a_province_without_a_known_bp3mi_is_sent_to_the_call_centre(app) -> None:
    with app.i18n.context(), app.i18n.use_locale("en"):
        papua = protection.bp3mi_text("91")
        jatim = protection.bp3mi_text("35.78")
    assert "Ask the KP2MI call centre which BP3MI" in papua and "serves Papua" in papua
    assert "BP3MI" in jatim and "Jawa Timur" in jatim
    assert "0-" not in papua  # no number is made up for an office not confirmed


async def test_an_empty_training_list_points_to_kemnaker_and_the_blk(app, person) -> None:
    chat = person(9107)
    await onboard(chat, lang="en")
    await chat.send("/menu")
    said = texts(await chat.press("Training"))
    assert "No upcoming sessions" in said
    assert "pelatihan.kemnaker.go.id" in said and "BLK" in said and "BP3MI Jawa Timur" in said
    assert "Desa Migran Emas" in said and "lingkarjateng.id" in said  # cited: a news site


async def test_the_card_shows_the_legal_status_the_directory_knows(app, person) -> None:
    await load_sample(app)
    karyawan = await coop_id(app, "Karyawan Surabaya")
    async with app.sessionmaker() as session, session.begin():
        await session.execute(
            update(Cooperative)
            .where(Cooperative.id == karyawan)
            .values(
                legal_number="AHU-0001234.AH.01.29.TAHUN 2025",
                nik_koperasi="3578010020000123",
                last_rat=date(2026, 3, 28),
            )
        )
    chat = person(9108)
    await onboard(chat, lang="en")
    await search_home(chat)
    card = texts(await chat.press("Karyawan Surabaya"))
    assert "Legal status" in card
    assert "Badan hukum (legal entity) number: AHU-0001234.AH.01.29.TAHUN 2025" in card
    assert "NIK Koperasi: 3578010020000123" in card
    assert "Last RAT (annual members' meeting): March 28, 2026" in card
    assert "before you pay any simpanan" in card


async def test_an_unknown_legal_status_says_so_and_simpan_pinjam_needs_its_licence(
    app, person
) -> None:
    rows, errors = parse_cooperatives(
        ",".join(COOPERATIVE_COLUMNS)
        + "\nKoperasi Simpan Pinjam Genteng,simpan_pinjam,no,yes,35.78,Genteng,Simpan pinjam,"
        "Rp 100.000,10000,KTP,SHU,no\n"
    )
    assert not errors
    async with app.sessionmaker() as session, session.begin():
        await load_cooperatives(session, rows)
    chat = person(9109)
    await onboard(chat, lang="en")
    await search_home(chat, "simpan_pinjam")
    card = texts(await chat.press("Simpan Pinjam Genteng"))
    assert card.count("not in our directory") == 3
    assert "needs its own savings-and-loan licence" in card and "only to its own members" in card


async def test_the_programmes_show_where_they_help(app, person) -> None:
    rows, errors = parse_cooperatives(
        ",".join(COOPERATIVE_COLUMNS)
        + "\nKoperasi Kelurahan Merah Putih Genteng,konsumen,yes,no,35.78,Genteng,Toko,"
        "Rp 100.000,10000,KTP Genteng,SHU,no\n"
    )
    assert not errors
    async with app.sessionmaker() as session, session.begin():
        await load_cooperatives(session, rows)
    chat = person(9110)
    await onboard(chat, lang="en")
    await search_home(chat, "merah_putih")
    card = texts(await chat.press("Merah Putih Genteng"))
    assert "members live in that village or kelurahan" in card.lower()
    assert "kopdesmerahputih.kop.id" in card
    await chat.send("/menu")
    await chat.press("Cooperative")
    await chat.press("Found a new one")
    await chat.choose("konsumen")
    await chat.send("Toko sembako untuk purna PMI di Surabaya")
    await chat.send("Koperasi Purna Migran Surabaya")
    said = texts(await chat.choose("yes"))
    assert "with mentoring until they grow" in said and "rmol.id" in said
