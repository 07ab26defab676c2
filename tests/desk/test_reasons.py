"""The office's reason templates: seeded defaults, kept (added, edited, retired) by staff and
admins inside their regions, offered when deciding (chosen and edited), used in bulk."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage import reasons
from storage.models import AuditEntry, ReasonTemplate, Submission
from tests.desk.support import csrf_of, returnees, sign_in, staff
from tests.support.talk import count


async def signed(app, person, browser, uid: int = 8631, **kwargs):
    chat = await staff(app, person, uid, **kwargs)
    client = await browser()
    await sign_in(client, chat)
    return client


async def template(app, title: str) -> ReasonTemplate:
    """A template by its title (the defaults written first if none ever were, as on first use)."""
    async with app.sessionmaker() as session, session.begin():
        await reasons.templates(session)
        return (
            await session.scalars(select(ReasonTemplate).where(ReasonTemplate.title == title))
        ).one()


async def test_defaults_in_both_languages_are_offered_when_deciding(app, person, browser) -> None:
    [sid] = await returnees(app, 1)
    client = await signed(app, person, browser)
    page = await (await client.get("/meja/tinjau/alasan")).text()
    assert "Data belum sesuai KTP" in page and "Outside our service area" in page
    item = await (await client.get(f"/meja/tinjau/{sid}")).text()
    assert 'data-decision="reject"' in item and "Kuota sudah penuh (ID)" in item
    assert item.index("(ID)") < item.index("(EN)")  # the returnee's language first
    assert await count(app, ReasonTemplate) == len(reasons.DEFAULTS)  # seeded once, not twice


async def test_staff_add_edit_and_retire_audited(app, person, browser) -> None:
    [sid] = await returnees(app, 1)
    client = await signed(app, person, browser)
    csrf = await csrf_of(client, "/meja/tinjau/alasan")
    added = await client.post("/meja/tinjau/alasan", data={
        "csrf": csrf, "action": "reject", "region": "35.78", "locale": "id",
        "title": "Usia di luar syarat", "body": "Maaf, usia Anda belum memenuhi syarat pelatihan ini."},
        allow_redirects=False)  # fmt: skip
    assert added.status == 303
    mine = await template(app, "Usia di luar syarat")
    assert mine.region_code == "35.78" and mine.action == "reject"
    short = await client.post("/meja/tinjau/alasan", data={
        "csrf": csrf, "action": "reject", "locale": "id", "title": "x", "body": "y"})  # fmt: skip
    assert short.status == 400 and "Usia di luar syarat" in await short.text()
    edited = await client.post(f"/meja/tinjau/alasan/{mine.id}", data={
        "csrf": csrf, "do": "save", "locale": "id", "title": "Usia belum memenuhi",
        "body": "Maaf, usia Anda belum memenuhi syarat."}, allow_redirects=False)  # fmt: skip
    assert edited.status == 303
    assert (
        await template(app, "Usia belum memenuhi")
    ).body == "Maaf, usia Anda belum memenuhi syarat."
    assert "Usia belum memenuhi" in await (await client.get(f"/meja/tinjau/{sid}")).text()
    retired = await client.post(f"/meja/tinjau/alasan/{mine.id}", data={"csrf": csrf, "do": "retire"},
                                allow_redirects=False)  # fmt: skip
    assert retired.status == 303
    assert "Usia belum memenuhi" not in await (await client.get(f"/meja/tinjau/{sid}")).text()
    again = await client.post(f"/meja/tinjau/alasan/{mine.id}", data={"csrf": csrf, "do": "retire"})
    assert again.status == 409
    actions = [a for (a,) in (await _audit(app))]
    assert actions == ["reason.add", "reason.change", "reason.retire"]
    assert (await client.post("/meja/tinjau/alasan", data={"title": "x"})).status == 403  # CSRF


async def _audit(app):
    async with app.sessionmaker() as session:
        return (await session.execute(select(AuditEntry.action).where(
            AuditEntry.action.startswith("reason.")).order_by(AuditEntry.id))).all()  # fmt: skip


async def test_a_scoped_reviewer_keeps_only_their_regions_and_a_coordinator_none(
    app, person, browser
) -> None:
    client = await signed(app, person, browser, uid=8632, regions=["35.78"])
    csrf = await csrf_of(client, "/meja/tinjau/alasan")
    page = await (await client.get("/meja/tinjau/alasan")).text()
    assert "Data belum sesuai KTP" in page and 'action="/meja/tinjau/alasan/' not in page
    national = await template(app, "Kuota sudah penuh")
    refused = await client.post(
        f"/meja/tinjau/alasan/{national.id}", data={"csrf": csrf, "do": "retire"}
    )
    assert refused.status == 403
    nowhere = await client.post("/meja/tinjau/alasan", data={
        "csrf": csrf, "action": "reject", "region": "", "locale": "id",
        "title": "Nasional", "body": "Alasan untuk semua wilayah."})  # fmt: skip
    other = await client.post("/meja/tinjau/alasan", data={
        "csrf": csrf, "action": "reject", "region": "51.71", "locale": "id",
        "title": "Bali", "body": "Alasan untuk Denpasar saja."})  # fmt: skip
    assert nowhere.status == 403 and other.status == 403
    assert await count(app, ReasonTemplate, ReasonTemplate.retired_at.is_not(None)) == 0
    coordinator = await signed(app, person, browser, uid=8633, role="coordinator")
    assert (await coordinator.get("/meja/tinjau/alasan")).status == 403


async def test_deciding_with_a_template_its_words_or_edited_and_checked(
    app, person, browser
) -> None:
    ids = await returnees(app, 4)
    client = await signed(app, person, browser)
    full = await template(app, "Kuota sudah penuh")
    ktp = await template(app, "Data belum sesuai KTP")
    csrf = await csrf_of(client, f"/meja/tinjau/{ids[0]}")
    await client.post(f"/meja/tinjau/{ids[0]}", data={"csrf": csrf, "decision": "reject",
                                                      "template": str(full.id)})  # fmt: skip
    await client.post(f"/meja/tinjau/{ids[1]}", data={"csrf": csrf, "decision": "reject",
                      "template": str(full.id), "reason": "Maaf, kuota bulan ini sudah penuh."})  # fmt: skip
    wrong = await client.post(f"/meja/tinjau/{ids[2]}", data={"csrf": csrf, "decision": "reject",
                                                              "template": str(ktp.id)})  # fmt: skip
    assert wrong.status == 400 and "cannot be used here" in await wrong.text()
    forged = await client.post(f"/meja/tinjau/{ids[2]}", data={"csrf": csrf, "decision": "reject",
                                                               "template": "99999"})  # fmt: skip
    assert forged.status == 400
    async with app.sessionmaker() as session:
        first, second = (
            await session.get(Submission, ids[0]),
            await session.get(Submission, ids[1]),
        )
    assert first.reason == full.body and second.reason == "Maaf, kuota bulan ini sudah penuh."
    assert await count(app, Submission, Submission.status == "submitted") == 2


async def test_another_regions_template_is_neither_offered_nor_accepted(
    app, person, browser
) -> None:
    [sid] = await returnees(app, 1, regency="35.78")
    admin = await signed(app, person, browser, uid=8634, role="admin")
    csrf = await csrf_of(admin, "/meja/tinjau/alasan")
    await admin.post("/meja/tinjau/alasan", data={
        "csrf": csrf, "action": "reject", "region": "51", "locale": "id",
        "title": "Khusus Bali", "body": "Alasan yang hanya untuk Bali."})  # fmt: skip
    bali = await template(app, "Khusus Bali")
    assert "Khusus Bali" not in await (await admin.get(f"/meja/tinjau/{sid}")).text()
    refused = await admin.post(f"/meja/tinjau/{sid}", data={"csrf": csrf, "decision": "reject",
                                                            "template": str(bali.id)})  # fmt: skip
    assert refused.status == 400
    scoped = await signed(app, person, browser, uid=8635, regions=["35"])
    assert "Khusus Bali" not in await (await scoped.get("/meja/tinjau/alasan")).text()


async def test_bulk_reject_with_one_template(app, person, browser) -> None:
    ids = await returnees(app, 3)
    client = await signed(app, person, browser)
    full = await template(app, "Kuota sudah penuh")
    queue = await (await client.get("/meja/tinjau")).text()
    assert re.search(rf'<option value="{full.id}" data-body="[^"]+">Kuota sudah penuh', queue)
    csrf = await csrf_of(client)
    answer = await client.post("/meja/tinjau/massal", data=[
        ("csrf", csrf), ("decision", "reject"), ("template", str(full.id))]
        + [("ids", str(i)) for i in ids], allow_redirects=False)  # fmt: skip
    assert answer.status == 303 and "n=3" in answer.headers["Location"]
    assert await count(app, Submission, Submission.reason == full.body) == 3
    ktp = await template(app, "Data belum sesuai KTP")  # a return's reason: not for a rejection
    refused = await client.post("/meja/tinjau/massal", data=[
        ("csrf", csrf), ("decision", "reject"), ("template", str(ktp.id)), ("ids", str(ids[0]))])  # fmt: skip
    assert refused.status == 400
