"""Exports at the desk: the bot's files downloaded in the browser, posted (nothing in the
address), audited exactly like /ekspor, full numbers only for those who may."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from bot.handlers import export as bot_export
from storage import exports as store
from storage.models import AuditEntry
from tests.desk.support import csrf_of, returnees, sign_in, staff
from tests.support.talk import count

HOME, OTHER = "35.78", "51.71"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def signed(app, person, browser, role="staff", regions=None, uid=8801):
    chat = await staff(app, person, uid, role=role, regions=regions)
    client = await browser()
    await sign_in(client, chat)
    return client, await csrf_of(client, "/meja/ekspor")


async def audits(app) -> list[AuditEntry]:
    async with app.sessionmaker() as session:
        found = await session.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith("export"))
        )
        return list(found)


async def test_a_csv_downloads_as_an_attachment_masked_and_audited_like_the_bot(
    app, person, browser
) -> None:
    await returnees(app, 3)
    client, csrf = await signed(app, person, browser)
    answer = await client.post("/meja/ekspor", data={
        "csrf": csrf, "kind": "k", "status": "s", "period": "30", "region": "", "format": "csv",
    })  # fmt: skip
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    assert answer.headers["Cache-Control"] == "no-store"
    assert str(answer.url).endswith("/meja/ekspor")  # nothing of the form in the address
    body = (await answer.read()).decode("utf-8-sig")
    assert body.count("Warga 00") == 3
    assert "3578010101900001" not in body and "+6281234500001" not in body
    assert "'+62 812-****-0001" in body  # masked, kept as text
    [entry] = await audits(app)
    assert entry.action == "export" and entry.subject == "submissions"
    choice = bot_export.Choice(kind="k", status="s", period="30", region="", xlsx=False,
                               full=False)  # fmt: skip
    filters = store.Filters(kinds=("kur_readiness",), statuses=("submitted",))
    counted = store.Counted(by_kind={"kur_readiness": 3}, upto_id=3)
    expected = bot_export.audit_details(choice, filters, None, "csv", counted)
    expected["since"], expected["until"] = entry.details["since"], entry.details["until"]
    since, until = bot_export.period_range("30", entry.at, "Asia/Jakarta")
    assert (expected["since"], expected["until"]) == (since.isoformat(), until.isoformat())
    assert entry.details == expected  # the bot's /ekspor row, key for key


async def test_an_xlsx_with_full_numbers_for_a_reviewer_audited_as_full(
    app, person, browser
) -> None:
    await returnees(app, 2)
    client, csrf = await signed(app, person, browser)
    answer = await client.post("/meja/ekspor", data={
        "csrf": csrf, "period": "all", "format": "xlsx", "full": "1",
    })  # fmt: skip
    assert answer.status == 200 and answer.headers["Content-Type"] == XLSX
    assert ".xlsx" in answer.headers["Content-Disposition"]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(await answer.read()))
    values = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert "+6281234500001" in values and "Warga 001" in values
    [entry] = await audits(app)
    assert entry.action == "export.full" and entry.details["full"] is True
    assert entry.details["rows"] == 2 and entry.details["format"] == "xlsx"
    assert "since" not in entry.details and entry.details["period"] == "all"


async def test_all_kinds_as_csv_come_zipped_one_file_each(app, person, browser) -> None:
    await returnees(app, 1)
    await returnees(app, 1, kind="join_request", start=710000)
    client, csrf = await signed(app, person, browser)
    answer = await client.post("/meja/ekspor", data={"csrf": csrf, "period": "all",
                                                     "format": "csv"})  # fmt: skip
    assert answer.headers["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(await answer.read())).namelist()
    assert len(names) == 2 and all(n.endswith(".csv") for n in names)


async def test_nothing_matching_says_so_and_is_still_audited(app, person, browser) -> None:
    client, csrf = await signed(app, person, browser)
    answer = await client.post("/meja/ekspor", data={"csrf": csrf, "period": "7"})
    assert answer.status == 200 and "Nothing matches these filters" in await answer.text()
    assert [e.details["rows"] for e in await audits(app)] == [0]


@pytest.mark.parametrize(
    ("role", "regions", "own", "other", "full"),
    [
        ("coordinator", [HOME], 200, 403, 403),
        ("staff", [HOME], 200, 403, 200),
        ("staff", None, 200, 200, 200),
        ("admin", None, 200, 200, 200),
    ],
)
async def test_role_and_region_matrix(app, person, browser, role, regions, own, other,
                                      full) -> None:  # fmt: skip
    await returnees(app, 1, regency=HOME)
    await returnees(app, 1, regency=OTHER, start=760000)
    client, csrf = await signed(app, person, browser, role=role, regions=regions)
    page = await (await client.get("/meja/ekspor")).text()
    assert ('name="full"' in page) == (full == 200)
    mine = await client.post("/meja/ekspor", data={"csrf": csrf, "period": "all", "format": "csv",
                                                   "kind": "k"})  # fmt: skip
    assert mine.status == own
    body = (await mine.read()).decode("utf-8-sig")
    assert ("Kota Denpasar" in body) == (regions is None)  # another region's row only unscoped
    theirs = await client.post("/meja/ekspor", data={"csrf": csrf, "period": "all", "region": "51"})
    assert theirs.status == other
    asked = await client.post("/meja/ekspor", data={"csrf": csrf, "period": "all", "full": "1"})
    assert asked.status == full
    if full == 403:
        assert await count(app, AuditEntry, AuditEntry.action == "export.full") == 0


async def test_forged_values_no_csrf_and_no_role_are_refused(app, person, browser) -> None:
    await returnees(app, 1)
    client, csrf = await signed(app, person, browser)
    for forged in ({"kind": "x"}, {"status": "zz"}, {"period": "999"}, {"format": "pdf"},
                   {"region": "99.99"}):  # fmt: skip
        answer = await client.post("/meja/ekspor", data={"csrf": csrf, **forged})
        assert answer.status == 400 and "Warga" not in await answer.text()
    assert (await client.post("/meja/ekspor", data={"period": "all"})).status == 403  # no CSRF
    nobody = await browser()
    assert (await nobody.get("/meja/ekspor")).status == 401
    assert (await nobody.post("/meja/ekspor", data={"period": "all"})).status == 401
    assert await audits(app) == []
