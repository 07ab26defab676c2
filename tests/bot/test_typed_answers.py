"""Typed answers through the real dispatcher: what was typed, read as the step's type; a button
only on its whole label; a part of a label only offered."""

from __future__ import annotations

import pytest

from storage.models import FlowRun, Person
from tests.bot.test_kur import answer_readiness, loan_of, open_kur
from tests.support.talk import agree, one, texts


@pytest.mark.parametrize(("typed", "months"), [("1", 1), ("2", 2), ("6", 6), ("2 tahun", 24)])
async def test_the_simulator_takes_the_tenor_and_amount_that_were_typed(
    app, person, typed, months
) -> None:
    chat = person()
    await open_kur(chat)
    await answer_readiness(chat, amount="25 juta")
    said = texts(await chat.press("Instalment simulator"))
    assert "Rp25.000.000" in " ".join(chat.buttons()), said
    await chat.send("5.000.000")
    await chat.send(typed)
    said = texts(await chat.send("6"))
    assert "A simulation only" in said
    loan = await loan_of(app, chat)
    assert (loan.amount, loan.tenor_months) == (5_000_000, months)


async def at_years(chat) -> None:
    await agree(chat)
    await chat.choose("id")
    await chat.send("Siti Aminah")
    await chat.send("0812 3456 7890")
    await chat.send("Jawa Timur")
    await chat.send("Kota Surabaya")
    await chat.choose("TW")


@pytest.mark.parametrize(
    ("typed", "bucket", "shown"),
    [
        ("3 tahun", "1to3", "1 sampai 3 tahun"),
        ("5", "3to5", "Lebih dari 3 sampai 5 tahun"),
        ("10 tahun", "5to10", "Lebih dari 5 sampai 10 tahun"),
        ("11", "gt10", "Lebih dari 10 tahun"),
    ],
)
async def test_years_abroad_typed_lands_in_the_bucket_its_label_names(
    app, person, typed, bucket, shown
) -> None:
    chat = person()
    await at_years(chat)
    await chat.send(typed)
    await chat.choose("kur")
    assert (await one(app, Person)).years_abroad == bucket
    assert shown in texts(await chat.send("/datasaya"))


async def test_a_part_of_a_country_is_offered_and_pressed(app, person) -> None:
    chat = person()
    await agree(chat)
    await chat.choose("id")
    await chat.send("Siti Aminah")
    await chat.send("0812 3456 7890")
    await chat.send("Jawa Timur")
    await chat.send("Kota Surabaya")
    said = texts(await chat.send("Korea"))
    assert "Apakah maksud Anda" in said
    run = await one(app, FlowRun)
    assert run.step == "country" and "country" not in run.answers
    await chat.choose("KR")
    assert (await one(app, FlowRun)).answers["country"] == "KR"
