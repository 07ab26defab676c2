"""Statistics at the desk: the funnels of /statistik drawn as SVG in the page beside a table a
screen reader reads, with the bot's filters, inside the viewer's role and regions."""

from __future__ import annotations

import re

import pytest

from flows import clock
from flows.engine import END
from tests.bot.test_stats import add_people, add_runs, run
from tests.desk.support import sign_in, staff

HOME, OTHER = "35.78", "52.71"


async def seeded(app) -> None:
    """Two KUR journeys in Kota Surabaya (one got to the amount), one in Kota Mataram."""
    now = clock.now()
    ids = await add_people(app, [
        {"province_code": "35", "regency_code": HOME},
        {"province_code": "35", "regency_code": HOME},
        {"province_code": "52", "regency_code": OTHER},
    ])  # fmt: skip
    await add_runs(app, [
        run(ids[0], "kur_readiness", "status", at=now),
        run(ids[1], "kur_readiness", "amount", "status", "business", "age", "ektp", "kk",
            "permit", at=now),
        run(ids[2], "kur_readiness", END, "status", status="completed", at=now),
    ])  # fmt: skip


async def signed(app, person, browser, role="staff", regions=None, uid=8701):
    chat = await staff(app, person, uid, role=role, regions=regions)
    client = await browser()
    await sign_in(client, chat)
    return client


def cells(page: str, caption_start: str) -> list[list[str]]:
    """The rows of the table whose caption starts so: [stage, people, share, drop-off]."""
    table = page[page.index("<caption>" + caption_start) :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S) for r in rows if "<td" in r]


async def test_every_journey_as_a_chart_and_a_table_with_caption_and_headers(
    app, person, browser
) -> None:
    await seeded(app)
    client = await signed(app, person, browser)
    answer = await client.get("/meja/statistik")
    page = await answer.text()
    assert answer.status == 200 and answer.headers["Cache-Control"] == "no-store"
    assert page.count("<svg") == 1  # only KUR has anyone; the others say nobody started
    assert page.count("Nobody started this in this period and region.") == 3
    assert 'role="img"' in page and "<title" in page
    # the chart is drawn by the server: the only script is the desk's own file (keyboard keys)
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/meja/static/desk.js" defer>']
    rows = cells(page, "KUR loan")
    assert rows[0] == ["Started", "3", "100%", "—"]
    assert rows[1][0] == "Business status" and rows[1][1] == "3"
    amount = next(r for r in rows if r[0] == "Amount needed")
    assert amount[1] == "1" and amount[3].startswith("−")  # the drop-off from the step before
    assert '<th scope="col"' in page and '<th scope="row">' in page
    assert ">3 (100%)</text>" in page  # the chart's bar says its number too


async def test_the_bots_filters_journey_period_region(app, person, browser) -> None:
    await seeded(app)
    client = await signed(app, person, browser)
    page = await (await client.get("/meja/statistik?j=kur&p=7&r=52")).text()
    assert cells(page, "KUR loan")[0][1] == "1" and "Nusa Tenggara Barat" in page
    assert "Joining a cooperative" not in re.sub(r"<option.*?</option>", "", page, flags=re.S)
    page = await (await client.get("/meja/statistik?j=kur&p=all&r=35.78")).text()
    assert cells(page, "KUR loan")[0][1] == "2"
    for forged in ("j=nonsense", "p=1000", "r=99.99"):
        assert (await client.get(f"/meja/statistik?{forged}")).status == 400


@pytest.mark.parametrize(
    ("role", "regions", "own", "other"),
    [
        ("coordinator", [HOME], 200, 403),
        ("staff", [HOME], 200, 403),
        ("staff", None, 200, 200),
        ("admin", None, 200, 200),
        ("returnee", None, 403, 403),
    ],
)
async def test_role_and_region_matrix(app, person, browser, role, regions, own, other) -> None:
    await seeded(app)
    client = await browser()
    if role != "returnee":
        client = await signed(app, person, browser, role=role, regions=regions)
        mine = await client.get("/meja/statistik?j=kur&p=all")
        assert mine.status == own
        if regions:
            assert cells(await mine.text(), "KUR loan")[0][1] == "2"  # Mataram's is left out
        assert (await client.get("/meja/statistik?r=52")).status == other
        assert (await client.get("/meja/statistik?r=35.78")).status == own
    else:
        assert (await client.get("/meja/statistik")).status == 401  # nobody signed in
