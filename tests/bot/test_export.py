"""/ekspor: submissions as XLSX and CSV, opened back with openpyxl and csv; masking, full
numbers only for reviewers who ask, region scope, every filter, the audit entry, refusals
(commands and forged buttons) and an empty result."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from typing import Any

from aiogram.methods import SendDocument
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select, update

from bot import exports as files
from bot.handlers.export import DEFAULT, ExportCB, period_range
from bot.offline import OfflineChat
from storage import exports as store
from storage import repo, submissions
from storage.models import AuditEntry, Submission, SubmissionKind, SubmissionStatus
from tests.support.talk import onboard, texts

STAFF, COORD, RETURNEE = 8801, 8802, 8803
JOIN, FOUND, KUR, TRAIN = (k.value for k in SubmissionKind)
PHONE, NIK = "+6281234567890", "3578011508900001"


def when(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def seed(app) -> dict[str, int]:
    """Five submissions (tests live on 2026-11-25 10.00 WIB):
    A join request, Kota Surabaya, 24 Nov, waiting; B KUR, Kabupaten Malang, 20 Nov, approved;
    C training, Kota Denpasar (Bali), 15 Oct, withdrawn; D founding of someone who deleted
    their data, Kota Surabaya, 10 Nov, rejected; E founding, Kota Surabaya, 25 Nov, returned."""
    async with app.sessionmaker() as session, session.begin():

        async def someone(uid: int, name: str, phone: str, regency: str, nik: str | None = None):
            found = await repo.create_person(session, telegram_id=uid, locale="id")
            await repo.update_person(
                session,
                found,
                name=name,
                phone=phone,
                province_code=regency[:2],
                regency_code=regency,
                nik=nik,
            )
            return found

        siti = await someone(7001, "Siti Aminah", PHONE, "35.78", NIK)
        budi = await someone(7002, "Budi Santoso", "+6285712345678", "35.07")
        made = await someone(7003, "Made Wirawan", "+6281338765432", "51.71")

        async def file(person, kind, answers, created, status, **more: Any) -> int:
            region = more.pop("regency", None)
            made_ = await submissions.create(
                session,
                person=person,
                kind=kind,
                ref_id=None,
                answers=answers,
                province_code=region[:2] if region else None,
                regency_code=region,
                new_subject=True,
            )
            await session.execute(
                update(Submission)
                .where(Submission.id == made_.id)
                .values(created_at=created, status=status, **more)
            )
            return made_.id

        ids = {
            "D": await file(
                None,
                SubmissionKind.FOUNDING,
                {},
                when(11, 10, 3),
                SubmissionStatus.REJECTED,
                regency="35.78",
                reason="Belum lengkap",
                decided_at=when(11, 12, 2),
            ),
            "B": await file(
                budi,
                SubmissionKind.KUR_READINESS,
                {
                    "status": "running6",
                    "business": "Warung kopi",
                    "age": "adult",
                    "ektp": "yes",
                    "kk": "yes",
                    "permit": "nib",
                    "amount": 25_000_000,
                    "credit": "none",
                    "slik": "ok",
                    "confirm": "yes",
                },
                when(11, 20, 1, 30),
                SubmissionStatus.APPROVED,
                decided_at=when(11, 24, 5),
            ),
            "C": await file(
                made,
                SubmissionKind.TRAINING,
                {
                    "training_id": 3,
                    "title": "Pemasaran digital",
                    "starts_at": "2026-10-20T01:00:00+00:00",
                    "status": "registered",
                },
                when(10, 15, 4),
                SubmissionStatus.WITHDRAWN,
            ),
            "A": await file(
                siti,
                SubmissionKind.JOIN_REQUEST,
                {"cooperative_id": 7, "cooperative_name": "Koperasi Maju Bersama", "nik": NIK},
                when(11, 24, 2),
                SubmissionStatus.SUBMITTED,
            ),
            "E": await file(
                siti,
                SubmissionKind.FOUNDING,
                {
                    "name": "Koperasi Pulang Jaya",
                    "kind": "jasa",
                    "purpose": '=HYPERLINK("http://example.org","klik")',
                    "founders": 9,
                    "meeting_at": "2026-11-22T03:00:00+00:00",
                    "milestones": {"adart": "2026-11-01", "meeting": "2026-11-22"},
                },
                when(11, 25, 1),
                SubmissionStatus.RETURNED,
                returned_fields=["purpose"],
                decided_at=when(11, 25, 2),
            ),
        }
    return ids


async def exporter(
    app, person, uid: int, role: str, regions: list[str] | None = None
) -> OfflineChat:
    chat = person(uid)
    await onboard(chat, lang="en")  # lives in Kota Surabaya: WIB
    async with app.sessionmaker() as session, session.begin():
        found = await repo.person_by_telegram_id(session, telegram_id=uid)
        assert found is not None
        await repo.set_role(session, person_id=found.id, role=role, regions=regions)
    return chat


def document(calls: list[Any]) -> SendDocument:
    [sent] = [c for c in calls if isinstance(c, SendDocument)]
    return sent


async def content(calls: list[Any]) -> bytes:
    sent = document(calls)
    assert isinstance(sent.document, files.ExportUpload)
    return await sent.document.content()


def read_xlsx(
    data: bytes, title: str | None = None
) -> tuple[Any, list[str], dict[int, dict[str, Any]]]:
    """One sheet (the named one, or the first): the sheet, its header, its rows by id."""
    book = load_workbook(io.BytesIO(data))
    sheet = book[title] if title else book.worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = {
        r[0]: dict(zip(header, r, strict=True))
        for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    return sheet, header, rows


def sheet_titles(data: bytes) -> list[str]:
    return load_workbook(io.BytesIO(data)).sheetnames


def all_rows(data: bytes) -> dict[int, dict[str, Any]]:
    """The rows of every sheet, by id."""
    found: dict[int, dict[str, Any]] = {}
    for title in sheet_titles(data):
        found.update(read_xlsx(data, title)[2])
    return found


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return {name: book.read(name) for name in book.namelist()}


def as_text(cell: str) -> str:
    """A CSV cell as a program reads it back: without the leading apostrophe that marks text."""
    return cell.removeprefix(files.TEXT_MARK)


def read_csv(data: bytes) -> tuple[list[str], dict[int, dict[str, str]]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the text as UTF-8
    header, *body = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return header, {int(r[0]): dict(zip(header, r, strict=True)) for r in body}


async def exports_audited(app) -> list[AuditEntry]:
    async with app.sessionmaker() as session:
        query = select(AuditEntry).where(AuditEntry.action.startswith("export"))
        return list(await session.scalars(query.order_by(AuditEntry.id)))


def matching(said: str) -> int:
    return int(said.split("Submissions matching now: ")[1].split()[0].replace(",", ""))


async def test_the_excel_file_opens_back_typed_and_masked(app, person) -> None:
    ids = await seed(app)
    chat = await exporter(app, person, STAFF, "staff")
    said = texts(await chat.send("/ekspor"))
    assert "Export submissions" in said and "Last 30 days" in said and "Everywhere" in said
    assert "Format: Excel (.xlsx), one sheet for each type" in said
    assert matching(said) == 4  # C (October) is older than 30 days
    calls = await chat.press("📤 Export")
    data = await content(calls)
    assert data[:2] == b"PK"
    assert (
        "One sheet for each type: Join requests (1), Founding files (2), KUR readiness checks (1)"
        in (document(calls).caption)
    )
    # One sheet per kind, in the usual order of kinds, each with only that kind's columns.
    assert sheet_titles(data) == ["Join requests", "Founding files", "KUR readiness checks"]
    sheet, header, rows = read_xlsx(data, "Founding files")
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(header))}3"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["A"].width >= 10
    assert header[:4] == ["Submission ID", "Status", "Submitted (WIB)", "Decided (WIB)"]
    assert "Phone" in header and "NIK" not in header and "Business" not in header
    assert list(rows) == [ids["D"], ids["E"]]  # oldest first
    d, e = rows[ids["D"]], rows[ids["E"]]
    assert d["Name"] is None and d["Phone"] is None  # deleted: anonymous
    assert d["Reason given"] == "Belum lengkap" and d["Status"] == "Not approved"
    assert e["Fields to correct"] == "Purpose" and e["Founders"] == 9
    assert e["Founding meeting (WIB)"] == datetime(2026, 11, 22, 10, 0)
    assert e["Steps done"] == "AD/ART drafted; Founding meeting held"
    assert e["Cooperative type"] == "Services (jasa)"
    assert e["Name of the cooperative"] == "Koperasi Pulang Jaya"
    # What a person typed stays text: never a formula that runs when the file opens.
    assert e["Purpose"].startswith("=HYPERLINK")
    sheet, header, rows = read_xlsx(data, "Join requests")
    assert "NIK" in header and "Cooperative ID" in header and "Founders" not in header
    a = rows[ids["A"]]
    assert isinstance(a["Submission ID"], int)
    assert a["Submitted (WIB)"] == datetime(2026, 11, 24, 9, 0)  # 02.00 UTC is 09.00 WIB
    date_cell = sheet.cell(row=2, column=header.index("Submitted (WIB)") + 1)
    assert date_cell.is_date and "yyyy" in date_cell.number_format
    assert a["Status"] == "Waiting for review"
    assert (a["Province"], a["Regency or city"]) == ("Jawa Timur", "Kota Surabaya")
    assert a["Name"] == "Siti Aminah" and a["Cooperative"] == "Koperasi Maju Bersama"
    assert a["Phone"] == "+62 812-****-7890" and a["NIK"] == "3578********0001"
    assert a["Cooperative ID"] == 7 and a["Decided (WIB)"] is None
    _sheet, header, rows = read_xlsx(data, "KUR readiness checks")
    assert "Seat or waitlist" not in header and "Cooperative" not in header
    b = rows[ids["B"]]
    assert b["Status"] == "Approved" and b["Decided (WIB)"] == datetime(2026, 11, 24, 12, 0)
    assert b["Business"] == "Warung kopi" and b["Business now"] == "Running 6 months or more"
    assert (
        b["NIB or SKU"] == "NIB"
        and b["e-KTP"] == "Yes"
        and b["SLIK checked"] == "Done, all paid on time"
    )
    assert b["Capital needed (Rp)"] is None  # an amount only in a full export
    for n in (1, 2, 3):
        sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read(f"xl/worksheets/sheet{n}.xml")
        assert b"<f>" not in sheet_xml and NIK.encode() not in sheet_xml
        assert b"6281234567890" not in sheet_xml


async def test_full_numbers_only_for_reviewers_who_ask(app, person) -> None:
    ids = await seed(app)
    chat = await exporter(app, person, STAFF, "staff")
    await chat.send("/ekspor")
    said = texts(await chat.press("Show full numbers"))
    assert "Phone and NIK: in full" in said and "personal data" in said
    said = texts(await chat.press("CSV"))
    assert "Format: CSV, one file for each type, in a zip" in said
    calls = await chat.press("📤 Export")
    assert document(calls).document.filename == "submissions-20261125-1000.zip"
    assert "Phone and NIK: in full" in document(calls).caption
    assert "One CSV file for each type, in a zip:" in document(calls).caption
    entries = read_zip(await content(calls))
    assert list(entries) == ["join-requests.csv", "founding-files.csv", "kur-readiness-checks.csv"]
    header, rows = read_csv(entries["join-requests.csv"])
    assert header[2] == "Submitted (WIB)" and "Business" not in header
    a = rows[ids["A"]]
    assert as_text(a["Phone"]) == PHONE and as_text(a["NIK"]) == NIK
    assert a["Submitted (WIB)"] == "Nov 24, 2026 9:00\u202fAM"  # as Babel writes it, in WIB
    header, rows = read_csv(entries["kur-readiness-checks.csv"])
    assert "NIK" not in header and "Seat or waitlist" not in header
    b = rows[ids["B"]]
    assert (
        b["Capital needed (Rp)"] == "Rp25,000,000"
        and b["Business now"] == "Running 6 months or more"
    )
    _header, rows = read_csv(entries["founding-files.csv"])
    assert rows[ids["E"]]["Purpose"].startswith("'=HYPERLINK")  # no formula in CSV either
    assert rows[ids["E"]]["Cooperative type"] == "Services (jasa)"
    [entry] = await exports_audited(app)
    assert (
        entry.action == "export.full"
        and entry.details["full"] is True
        and entry.details["format"] == "csv"
    )
    # Masked again when the toggle is pressed back.
    await chat.press("Mask the numbers")
    entries = read_zip(await content(await chat.press("📤 Export")))
    _header, rows = read_csv(entries["join-requests.csv"])
    assert as_text(rows[ids["A"]]["NIK"]) == "3578********0001"
    _header, rows = read_csv(entries["kur-readiness-checks.csv"])
    assert rows[ids["B"]]["Capital needed (Rp)"] == ""


async def test_a_coordinator_never_gets_full_numbers_even_with_forged_data(app, person) -> None:
    ids = await seed(app)
    chat = await exporter(app, person, COORD, "coordinator")
    said = texts(await chat.send("/ekspor"))
    assert "Show full numbers" not in chat.buttons() and "masked" in said
    for act in ("go", "card", "region"):
        calls = await chat.press_data(DEFAULT.cb(act, f=True).pack())
        assert "only reviewers can export full numbers" in texts(calls)
        assert not [c for c in calls if isinstance(c, SendDocument)]
    assert await exports_audited(app) == []
    _sheet, _header, rows = read_xlsx(await content(await chat.press("📤 Export")))
    assert as_text(rows[ids["A"]]["NIK"]) == "3578********0001"
    assert rows[ids["A"]]["Phone"] == "+62 812-****-7890"
    [entry] = await exports_audited(app)
    assert entry.details["full"] is False


async def test_a_scoped_coordinator_exports_only_inside_the_scope(app, person) -> None:
    ids = await seed(app)
    chat = await exporter(app, person, COORD, "coordinator", regions=["35.78"])
    said = texts(await chat.send("/ekspor"))
    assert "Everything inside your regions: Kota Surabaya, Jawa Timur" in said
    assert matching(said) == 3
    await chat.press("Period")
    await chat.press("Everything")
    rows = all_rows(await content(await chat.press("📤 Export")))
    assert set(rows) == {ids["A"], ids["D"], ids["E"]}  # not Malang (B), not Bali (C)
    await chat.press("Region")
    assert [b for b in chat.buttons() if "Jawa" in b or "Bali" in b] == ["Jawa Timur"]
    await chat.press("Jawa Timur")
    assert not any("All of" in b for b in chat.buttons())  # the whole province is not theirs
    assert [b for b in chat.buttons() if "Kota" in b or "Kabupaten" in b] == ["Kota Surabaya"]
    said = texts(await chat.press("Kota Surabaya"))
    assert "Region: Kota Surabaya, Jawa Timur" in said and matching(said) == 3
    everything = DEFAULT.cb("go", d="all")
    for forged in (
        everything.model_copy(update={"r": "35"}),
        everything.model_copy(update={"r": "51.71"}),
        everything.model_copy(update={"r": "35.07"}),
        DEFAULT.cb("region", v="51"),
    ):
        calls = await chat.press_data(forged.pack())
        assert "not available to you" in texts(calls)
        assert not [c for c in calls if isinstance(c, SendDocument)]
    assert len(await exports_audited(app)) == 1


async def test_every_filter(app, person) -> None:
    ids = await seed(app)
    chat = await exporter(app, person, STAFF, "admin")  # admin: everywhere, may see full
    await chat.send("/ekspor")
    await chat.press("Period")
    assert matching(texts(await chat.press("Everything"))) == 5
    await chat.press("Type")
    said = texts(await chat.press("KUR readiness check"))
    assert "Type: KUR readiness check" in said and matching(said) == 1
    data = await content(await chat.press("📤 Export"))
    assert sheet_titles(data) == ["KUR readiness checks"]
    _sheet, header, rows = read_xlsx(data)
    assert list(rows) == [ids["B"]]
    assert "Business" in header and "Training" not in header and "Cooperative" not in header
    await chat.press("Type")
    await chat.press("All types")
    await chat.press("Status")
    said = texts(await chat.press("Returned for correction"))
    assert "Status: Returned for correction" in said and matching(said) == 1
    await chat.press("Status")
    assert matching(texts(await chat.press("All statuses"))) == 5
    for period, expected in (
        ("Last month", {ids["C"]}),
        ("This month", {ids["A"], ids["B"], ids["D"], ids["E"]}),
        ("Last 7 days", {ids["A"], ids["B"], ids["E"]}),
    ):
        await chat.press("Period")
        said = texts(await chat.press(period))
        assert matching(said) == len(expected), period
        calls = await chat.press("📤 Export")
        rows = all_rows(await content(calls))
        assert set(rows) == expected, period
    assert "October 1, 2026 – October 31, 2026" in texts(
        await chat.press_data(DEFAULT.cb(d="lm").pack())
    )
    await chat.press("Period")
    await chat.press("Everything")
    await chat.press("Region")
    await chat.press("Bali")
    said = texts(await chat.press("All of Bali"))
    assert "Region: Bali" in said and matching(said) == 1
    calls = await chat.press("📤 Export")
    _sheet, header, rows = read_xlsx(await content(calls))
    assert list(rows) == [ids["C"]]
    c = rows[ids["C"]]
    assert c["Training"] == "Pemasaran digital" and c["Seat or waitlist"] == "Registered"
    assert c["Training starts (WIB)"] == datetime(2026, 10, 20, 8, 0)
    assert c["Status"] == "Withdrawn" and c["Province"] == "Bali"
    caption = document(calls).caption
    assert "Submissions in this file: 1" in caption and "Region: Bali" in caption
    await chat.press("Region")
    await chat.press("Jawa Timur")
    while "Kota Surabaya" not in chat.buttons():
        await chat.press("More")
    said = texts(await chat.press("Kota Surabaya"))
    assert matching(said) == 3


async def test_the_audit_entry_holds_the_filters_and_no_values(app, person) -> None:
    await seed(app)
    chat = await exporter(app, person, STAFF, "staff", regions=["35"])
    await chat.send("/ekspor")
    await chat.press("Show full numbers")
    await chat.press("Status")
    await chat.press("Approved")
    caption = document(await chat.press("📤 Export")).caption
    assert "Submissions in this file: 1" in caption and "Times are in WIB" in caption
    [entry] = await exports_audited(app)
    async with app.sessionmaker() as session:
        me = await repo.person_by_telegram_id(session, telegram_id=STAFF)
    assert entry.action == "export.full" and entry.subject == "submissions"
    assert entry.actor_id == me.id
    details = entry.details
    assert details["rows"] == 1 and details["format"] == "xlsx" and details["full"] is True
    assert details["status"] == "approved" and details["kind"] == "all"
    assert details["period"] == "30" and details["scope"] == ["35"]
    assert details["region"] == "all"
    assert details["since"] == "2026-10-26T17:00:00+00:00"  # 27 October, 00.00 WIB
    assert details["until"] == "2026-11-25T17:00:00+00:00"  # the end of today, WIB
    flat = str(details)
    for value in (NIK, PHONE, "Budi", "Warung", "25000000", "Siti"):
        assert value not in flat


async def test_a_returnee_is_refused_the_command_and_every_forged_button(app, person) -> None:
    await seed(app)
    chat = person(RETURNEE)
    await onboard(chat, lang="en")
    assert "only staff and coordinators can export" in texts(await chat.send("/ekspor"))
    assert "only staff and coordinators can export" in texts(await chat.send("/export"))
    for act in ("card", "kind", "status", "period", "region", "go"):
        said = texts(await chat.press_data(DEFAULT.cb(act, d="all").pack()))
        assert "only staff and coordinators can export" in said
    assert not [c for c in chat.session.calls if isinstance(c, SendDocument)]
    assert await exports_audited(app) == []
    # A role taken away while the card is open stops the next press.
    staff = await exporter(app, person, STAFF, "staff")
    await staff.send("/ekspor")
    async with app.sessionmaker() as session, session.begin():
        me = await repo.person_by_telegram_id(session, telegram_id=STAFF)
        await repo.set_role(session, person_id=me.id, role="returnee")
    assert "only staff and coordinators" in texts(await staff.press("📤 Export"))
    assert await exports_audited(app) == []


async def test_forged_values_change_nothing(app, person) -> None:
    await seed(app)
    chat = await exporter(app, person, STAFF, "staff")
    await chat.send("/ekspor")
    for forged in (
        ExportCB(act="go", k="z"),
        ExportCB(act="go", s="deleted"),
        ExportCB(act="go", d="9999"),
        ExportCB(act="go", r="99.99"),
        ExportCB(act="region", v="35.78"),
    ):
        assert "not available to you" in texts(await chat.press_data(forged.pack()))
    said = texts(await chat.press_data(ExportCB(act="zzz").pack()))
    assert "no longer works" in said
    said = texts(await chat.press_data("ex:go:::30::1:0::99999"))  # a page beyond any list
    assert "no longer works" in said
    assert not [c for c in chat.session.calls if isinstance(c, SendDocument)]
    assert await exports_audited(app) == []


async def test_nothing_matches_says_so_and_sends_no_file(app, person) -> None:
    await seed(app)
    chat = await exporter(app, person, STAFF, "staff")
    await chat.send("/ekspor")
    await chat.press("Type")
    said = texts(await chat.press("Training registration"))  # C is older than 30 days
    assert matching(said) == 0
    calls = await chat.press("📤 Export")
    assert "Nothing matches these filters" in texts(calls)
    assert not [c for c in calls if isinstance(c, SendDocument)]
    [entry] = await exports_audited(app)
    assert entry.details["rows"] == 0


async def test_no_row_limit_every_match_is_read_page_by_page(app, person, monkeypatch) -> None:
    ids = await seed(app)
    pages: list[int] = []
    chunks = store.chunks

    async def spy(*args: Any, **kwargs: Any) -> Any:
        async for page in chunks(*args, **kwargs):
            pages.append(len(page))
            yield page

    monkeypatch.setattr(store, "CHUNK", 1)
    monkeypatch.setattr(store, "chunks", spy)
    chat = await exporter(app, person, STAFF, "staff")
    await chat.send("/ekspor")
    calls = await chat.press("📤 Export")  # the last 30 days: all but C
    assert "Submissions in this file: 4" in document(calls).caption
    rows = all_rows(await content(calls))
    assert set(rows) == {ids["A"], ids["B"], ids["D"], ids["E"]}
    assert pages and set(pages) == {1}  # one row at a time, as many pages as rows
    [entry] = await exports_audited(app)
    assert entry.details["rows"] == 4 and "truncated" not in entry.details


async def test_the_query_filters_a_half_open_range_in_utc(app) -> None:
    ids = await seed(app)
    async with app.sessionmaker() as session:
        found = await store.submissions(
            session, store.Filters(since=when(11, 20, 1, 30), until=when(11, 24, 2))
        )
        assert [r.id for r in found.rows] == [ids["B"]]  # [from, to): A starts at `to`
        scoped = store.Filters(scope=("35",), kinds=(SubmissionKind.FOUNDING.value,))
        assert await store.count(session, scoped) == 2
        assert await store.count(session, store.Filters(scope=())) == 0  # a role with no region
        assert await store.count(session, store.Filters(region="51")) == 1


# --- the builders, without a bot ---------------------------------------------------------------


def row(**changes: Any) -> store.Row:
    values: dict[str, Any] = {
        "id": 1,
        "kind": SubmissionKind.JOIN_REQUEST.value,
        "status": SubmissionStatus.SUBMITTED.value,
        "created_at": when(11, 24, 2),
        "decided_at": None,
        "province_code": "53",
        "regency_code": "53.71",
        "answers": {"cooperative_name": "@Koperasi\x07 Sejahtera", "nik": NIK},
        "reason": None,
        "returned_fields": None,
        "name": "-Ani",
        "phone": PHONE,
        "nik": None,
    }
    values.update(changes)
    return store.Row(**values)


def test_builders_speak_the_language_and_zone_asked() -> None:
    data = files.to_csv([row()], kind=JOIN, full=False, locale="id", tz="Asia/Makassar")
    header, rows = read_csv(data)
    assert header[2].endswith("(WITA)")
    assert header[8:11] == ["Koperasi", "ID koperasi", "NIK"]  # the join request's own
    assert rows[1][header[1]] == "Menunggu ditinjau"
    assert rows[1][header[2]] == "24 Nov 2026 10.00"  # 02.00 UTC is 10.00 WITA, as Babel says it
    assert rows[1][header[6]] == "'-Ani"  # a name starting with "-" is not a formula
    assert rows[1][header[7]] == "'+62 812-****-7890"  # a "+" would start a formula
    sheet, header, rows = read_xlsx(
        files.to_xlsx([row()], full=True, locale="en", kinds=[SubmissionKind.JOIN_REQUEST])
    )
    assert rows[1]["Cooperative"] == "@Koperasi Sejahtera"  # a control character dropped
    assert rows[1]["NIK"] == NIK and rows[1]["Phone"] == PHONE
    assert "Business" not in header and "Cooperative ID" in header
    assert sheet.title == "Join requests"
    assert files.file_stem(TRAIN, files.translator("id")) == "pendaftaran-pelatihan"


async def test_the_file_is_built_when_uploaded_over_http() -> None:
    """Through aiogram's real HTTP session: the bytes reach Telegram (here the fake) intact."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    from tests.support.fake_bot_api import FakeBotAPI, UploadedFile

    built: list[int] = []

    def build() -> bytes:
        built.append(1)
        return files.to_xlsx([row(id=n) for n in range(1, 301)], full=False, locale="en")

    async with FakeBotAPI() as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        bot = Bot("123456:TEST-token", session=session)
        try:
            upload = files.BuiltFile(build, "submissions.xlsx")
            assert built == []  # nothing is built before it is sent
            await bot(SendDocument(chat_id=5001, document=upload, caption="300"))
        finally:
            await session.close()
        [call] = fake.calls_to("sendDocument")
    sent = call.params["document"]
    assert isinstance(sent, UploadedFile) and sent.file_name == "submissions.xlsx"
    assert sent.content == await upload.content() and built == [1]
    _sheet, _header, rows = read_xlsx(sent.content)
    assert list(rows) == list(range(1, 301))


def test_periods_are_whole_days_in_the_exporters_zone() -> None:
    now = when(11, 30, 20)  # 1 December 03.00 WIT
    since, until = period_range("tm", now, "Asia/Jayapura")
    assert since == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 1 December 00.00 WIT
    assert until == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)
    since, until = period_range("lm", when(1, 15, 0), "Asia/Jakarta")
    assert since == datetime(2025, 11, 30, 17, 0, tzinfo=UTC)  # 1 December 2025, WIB
    assert until == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert period_range("all", now, "Asia/Jakarta") == (None, None)


def test_csv_keeps_nik_and_phones_as_text_for_a_spreadsheet() -> None:
    """A bare 16-digit NIK opens as the number 3578011508900000; "+62..." as a formula."""
    people = [row(), row(id=2, phone="+6285712345678", answers={}, nik="3578014101900001")]
    for full in (True, False):
        _header, rows = read_csv(files.to_csv(people, kind=JOIN, full=full, locale="en"))
        for r in rows.values():
            for column in ("NIK", "Phone"):
                assert r[column].startswith(files.TEXT_MARK), (column, r[column])
                assert not r[column].lstrip("+").isdigit()  # never a bare number
        if full:
            assert as_text(rows[1]["NIK"]) == NIK and len(as_text(rows[1]["NIK"])) == 16
            assert as_text(rows[2]["NIK"]) == "3578014101900001"
            assert as_text(rows[1]["Phone"]) == PHONE
            assert as_text(rows[2]["Phone"]) == "+6285712345678"
        else:
            assert as_text(rows[1]["NIK"]) == "3578********0001"
            assert as_text(rows[2]["Phone"]) == "+62 857-****-5678"


def test_csv_text_a_spreadsheet_would_turn_into_a_number_or_formula_is_marked() -> None:
    typed = {
        "2026": True,  # a year: a number
        "17/08/2026": True,  # a date
        "50%": True,
        "1e5": True,  # scientific notation: 100000
        " =1+1": True,  # a formula after a space some importers trim
        "\n=1+1": True,
        "'quoted": True,  # an apostrophe of its own survives the mark
        "+62 812": True,
        "Koperasi 2026": False,
        "3 tahun": False,
        "Warung kopi": False,
    }
    for text, marked in typed.items():
        answers = {"cooperative_name": text}
        rows = read_csv(files.to_csv([row(answers=answers)], kind=JOIN, full=False, locale="en"))[1]
        cell = rows[1]["Cooperative"]
        assert cell.startswith(files.TEXT_MARK) is marked, text
        assert as_text(cell) == text


def test_xlsx_nik_and_phones_are_text_cells_formatted_as_text() -> None:
    people = [row(), row(id=2, phone="+6285712345678", answers={}, nik="3578014101900001")]
    for full in (True, False):
        sheet, header, _rows = read_xlsx(files.to_xlsx(people, full=full, locale="en"))
        for n, nik, phone in (
            (2, NIK, PHONE),
            (3, "3578014101900001", "+6285712345678"),
        ):
            for column in ("NIK", "Phone"):
                cell = sheet.cell(row=n, column=header.index(column) + 1)
                assert cell.data_type == "s" and cell.number_format == "@", (column, full)
                assert isinstance(cell.value, str)
            nik_cell = sheet.cell(row=n, column=header.index("NIK") + 1).value
            phone_cell = sheet.cell(row=n, column=header.index("Phone") + 1).value
            if full:
                assert (nik_cell, phone_cell) == (nik, phone)  # all 16 digits, and the "+"
            else:
                assert phone_cell.startswith("+62 ") and "****" in phone_cell
                assert nik_cell == nik[:4] + "********" + nik[-4:]


def test_all_kinds_each_under_their_own_columns_read_as_a_person_reads_them() -> None:
    """The bug: one sheet for all kinds put a KUR answer (`running_less`) under the training's
    "Kursi atau daftar tunggu". Now each kind has its sheet (its CSV), every value a label."""
    kur = row(
        id=2,
        kind=KUR,
        answers={
            "status": "running_less",
            "business": "Jahit",
            "age": "married",
            "permit": "sku",
            "amount": 15_000_000,
            "credit": "consumer_ok",
        },
    )
    seat = row(id=3, kind=TRAIN, answers={"title": "Menjahit", "status": "waitlisted"})
    plan = row(id=4, kind=FOUND, answers={"name": "Kop Jaya", "kind": "produsen"})
    rows = [row(), kur, seat, plan]
    codes = {"running_less", "married", "sku", "consumer_ok", "waitlisted", "produsen"}
    data = files.to_xlsx(rows, full=True, locale="id")
    assert sheet_titles(data) == [
        "Pendaftaran anggota",
        "Berkas pendirian",
        "Cek kesiapan KUR",
        "Pendaftaran pelatihan",
    ]
    _sheet, header, got = read_xlsx(data, "Cek kesiapan KUR")
    assert "Kursi atau daftar tunggu" not in header and "NIK" not in header
    assert got[2]["Keadaan usaha"] == "Berjalan kurang dari 6 bulan"
    assert got[2]["NIB atau SKU"] == "SKU dari kantor desa"
    assert got[2]["Modal yang dibutuhkan (Rp)"] == 15_000_000
    sheet, header, got = read_xlsx(data, "Pendaftaran pelatihan")
    assert got[3]["Kursi atau daftar tunggu"] == "Di daftar tunggu"
    assert "Keadaan usaha" not in header
    _sheet, _header, got = read_xlsx(data, "Berkas pendirian")
    assert got[4]["Jenis koperasi"] == "Produsen"
    money = load_workbook(io.BytesIO(data))["Cek kesiapan KUR"]
    amount = money.cell(
        row=2, column=[c.value for c in money[1]].index("Modal yang dibutuhkan (Rp)") + 1
    )
    assert amount.number_format == '"Rp"#,##0'  # a number, shown as rupiah
    entries = read_zip(files.to_csv_zip(rows, full=True, locale="id"))
    assert list(entries) == [
        "pendaftaran-anggota.csv",
        "berkas-pendirian.csv",
        "cek-kesiapan-kur.csv",
        "pendaftaran-pelatihan.csv",
    ]
    header, got = read_csv(entries["cek-kesiapan-kur.csv"])
    assert got[2]["Keadaan usaha"] == "Berjalan kurang dari 6 bulan"
    assert got[2]["Modal yang dibutuhkan (Rp)"] == "Rp15.000.000"
    assert got[2]["Dikirim (WIB)"] == "24 Nov 2026 09.00"
    header, got = read_csv(entries["pendaftaran-pelatihan.csv"])
    assert got[3]["Kursi atau daftar tunggu"] == "Di daftar tunggu"
    everything = [
        cell for entry in entries.values() for cell in entry.decode("utf-8-sig").split(",")
    ]
    for title in sheet_titles(data):
        everything += [str(c) for r in read_xlsx(data, title)[2].values() for c in r.values()]
    assert not codes & set(everything)
    # Only the chosen kinds, and one CSV of one kind leaves the others out.
    assert sheet_titles(files.to_xlsx(rows, full=False, locale="en", kinds=[TRAIN])) == [
        "Training registrations"
    ]
    _header, got = read_csv(files.to_csv(rows, kind=TRAIN, full=False, locale="en"))
    assert list(got) == [3] and got[3]["Seat or waitlist"] == "On the waitlist"
