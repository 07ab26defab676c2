"""Announcements at the desk: the list with counts inside the viewer's regions, compose for
several regions at once with the count and a preview, send now or schedule (the operation the
bot uses), pause, resume and cancel (the same); another region's announcement neither seen nor
touched, forged posts refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import insert, select

from flows import clock
from storage import broadcasts as store
from storage.models import AuditEntry, Broadcast, Delivery, Person
from tests.desk.support import csrf_of, sign_in, staff


async def people_in(app, regency: str, n: int, *, start: int, goal: str | None = None) -> None:
    now = clock.now()
    async with app.sessionmaker() as s, s.begin():
        for i in range(n):
            await s.execute(
                insert(Person).values(
                    telegram_id=start + i, name=f"Warga {i}", province_code=regency[:2],
                    regency_code=regency, locale="id", role="returnee", announcements=True,
                    goal=goal, created_at=now, updated_at=now,
                )
            )  # fmt: skip


async def signed(app, person, browser, uid: int = 8801, role: str = "coordinator", **kwargs):
    chat = await staff(app, person, uid, role=role, **kwargs)
    client = await browser()
    await sign_in(client, chat)
    return client


async def author_id(app, uid: int) -> int:
    async with app.sessionmaker() as s:
        return (await s.scalars(select(Person.id).where(Person.telegram_id == uid))).one()


async def a_broadcast(app, author: int | None, regions: list[str] | None, **kwargs) -> int:
    async with app.sessionmaker() as s, s.begin():
        return await store.create_draft(
            s, author_id=author, text="Halo <b>semua</b>", segment={"kind": "all"},
            regions=regions, **kwargs,
        )  # fmt: skip


async def compose(client, data: dict, path: str = "/meja/siaran/baru"):
    csrf = await csrf_of(client, "/meja/siaran/baru")
    return await client.post(path, data=[("csrf", csrf), *data.items()] if isinstance(data, dict)
                             else [("csrf", csrf), *data], allow_redirects=False)  # fmt: skip


async def test_compose_for_several_regions_shows_the_count_and_a_preview(
    app, person, browser
) -> None:
    await people_in(app, "35.78", 3, start=600000)
    await people_in(app, "35.15", 2, start=601000)
    await people_in(app, "35.73", 4, start=602000)
    client = await signed(app, person, browser, regions=["35"])
    answer = await compose(client, [("text", "Pelatihan <gratis> & makan siang\nDaftar ya"),
                                    ("kind", "all"), ("regions", "35.78"), ("regions", "35.15")])  # fmt: skip
    assert answer.status == 303, await answer.text()
    async with app.sessionmaker() as s:
        [draft] = (await s.scalars(select(Broadcast))).all()
    assert draft.regions == ["35.15", "35.78"] and draft.status == "draft"
    assert draft.text == "Pelatihan &lt;gratis&gt; &amp; makan siang\nDaftar ya"  # reads as typed
    page = await (await client.get(answer.headers["Location"])).text()
    assert "<strong>5</strong>" in page  # 3 + 2 people, not the third regency's 4
    assert "Pelatihan &lt;gratis&gt; &amp; makan siang<br>Daftar ya" in page  # the preview
    assert "/berhenti" in page  # with the footer people get


async def test_a_region_outside_the_scope_is_refused_and_nothing_saved(
    app, person, browser
) -> None:
    client = await signed(app, person, browser, regions=["35.78"])
    answer = await compose(client, [("text", "Halo"), ("kind", "all"), ("regions", "51.71")])
    assert answer.status == 403
    async with app.sessionmaker() as s:
        assert (await s.scalars(select(Broadcast))).all() == []


async def test_a_journey_step_or_interest_segment_within_the_regions(app, person, browser) -> None:
    await people_in(app, "35.78", 2, start=603000, goal="kur")
    await people_in(app, "35.78", 3, start=604000, goal="coop")
    await people_in(app, "51.71", 5, start=605000, goal="kur")
    client = await signed(app, person, browser, regions=["35.78"])
    answer = await compose(client, {"text": "KUR", "kind": "interest", "goal": "kur"})
    page = await (await client.get(answer.headers["Location"])).text()
    assert "<strong>2</strong>" in page and "People interested in a KUR loan" in page
    forged = await compose(client, {"text": "KUR", "kind": "step", "step": "nope:nope"})
    assert forged.status == 400


async def test_send_now_starts_the_deliveries_through_the_operation(app, person, browser) -> None:
    await people_in(app, "35.78", 3, start=606000)
    client = await signed(app, person, browser, regions=["35.78"])
    answer = await compose(client, {"text": "Halo", "kind": "all"})
    where = answer.headers["Location"].split("?")[0]
    csrf = await csrf_of(client, where)
    sent = await client.post(f"{where}/kirim", data={"csrf": csrf, "when": "now"},
                             allow_redirects=False)  # fmt: skip
    assert sent.status == 303 and sent.headers["Location"].endswith("?done=sent")
    async with app.sessionmaker() as s:
        [b] = (await s.scalars(select(Broadcast))).all()
        deliveries = (await s.scalars(select(Delivery))).all()
        actions = [e.action for e in (await s.scalars(select(AuditEntry)))]
    assert b.status == "sending" and b.recipients == 3 and len(deliveries) == 3
    assert "broadcast.send" in actions
    listed = await (await client.get("/meja/siaran")).text()
    assert f"#{b.id}" in listed and "sending" in listed


async def test_schedule_checks_the_time_like_the_bot(app, person, browser) -> None:
    await people_in(app, "35.78", 1, start=607000)
    client = await signed(app, person, browser, regions=["35.78"])
    answer = await compose(client, {"text": "Halo", "kind": "all"})
    where = answer.headers["Location"].split("?")[0]
    csrf = await csrf_of(client, where)

    async def at(date: str, time: str):
        return await client.post(f"{where}/kirim", allow_redirects=False,
                                 data={"csrf": csrf, "when": "at", "date": date, "time": time})  # fmt: skip

    assert (await at("2026-11-20", "08:00")).status == 400  # past
    assert (await at("2026-11-26", "23:00")).status == 400  # night
    assert (await at("2027-06-01", "08:00")).status == 400  # beyond 60 days
    ok = await at("2026-11-26", "08:00")
    assert ok.status == 303
    async with app.sessionmaker() as s:
        [b] = (await s.scalars(select(Broadcast))).all()
    assert b.status == "scheduled" and b.scheduled_at == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


async def test_pause_resume_cancel_through_the_bots_operation(app, person, browser) -> None:
    await people_in(app, "35.78", 2, start=608000)
    client = await signed(app, person, browser, regions=["35.78"])
    mine = await author_id(app, 8801)
    bid = await a_broadcast(app, mine, ["35.78"])
    async with app.sessionmaker() as s, s.begin():
        await store.start(s, bid, now=clock.now())
    csrf = await csrf_of(client, f"/meja/siaran/{bid}")

    async def act(word: str) -> int:
        answer = await client.post(f"/meja/siaran/{bid}/kontrol", data={"csrf": csrf, "act": word},
                                   allow_redirects=False)  # fmt: skip
        return answer.status

    assert await act("pause") == 303
    assert await act("pause") == 409  # a second press: already done
    assert await act("resume") == 303
    assert await act("cancel") == 303
    async with app.sessionmaker() as s:
        b = await s.get(Broadcast, bid)
        actions = [e.action for e in (await s.scalars(select(AuditEntry)))]
    assert b.status == "cancelled"
    assert actions == ["desk.sign_in", "broadcast.pause", "broadcast.resume", "broadcast.cancel"]


async def test_another_regions_announcement_is_neither_seen_nor_touched(
    app, person, browser
) -> None:
    bali = await a_broadcast(app, None, ["51.71"])
    nationwide = await a_broadcast(app, None, None)
    async with app.sessionmaker() as s, s.begin():
        for bid in (bali, nationwide):
            await store.start(s, bid, now=clock.now())
    client = await signed(app, person, browser, regions=["35.78"])
    listed = await (await client.get("/meja/siaran")).text()
    assert f"#{bali}<" not in listed and f"#{nationwide}<" not in listed
    csrf = await csrf_of(client, "/meja/siaran")
    for bid in (bali, nationwide):
        assert (await client.get(f"/meja/siaran/{bid}")).status == 404
        for path, data in (("kontrol", {"act": "cancel"}), ("kirim", {"when": "now"}),
                           ("ubah", {"text": "Hai", "kind": "all"})):  # fmt: skip
            answer = await client.post(f"/meja/siaran/{bid}/{path}", data={**data, "csrf": csrf})
            assert answer.status == 404, path
    async with app.sessionmaker() as s:
        assert {b.status for b in (await s.scalars(select(Broadcast)))} == {"sending"}


async def test_someone_elses_draft_is_not_shown_and_their_sending_not_controlled(
    app, person, browser
) -> None:
    other = await staff(app, person, 8802, role="coordinator", regions=["35.78"])
    assert other is not None
    theirs = await author_id(app, 8802)
    draft = await a_broadcast(app, theirs, ["35.78"])
    sending = await a_broadcast(app, theirs, ["35.78"])
    async with app.sessionmaker() as s, s.begin():
        await store.start(s, sending, now=clock.now())
    client = await signed(app, person, browser, regions=["35.78"])
    assert (await client.get(f"/meja/siaran/{draft}")).status == 404
    page = await (await client.get(f"/meja/siaran/{sending}")).text()
    assert "kontrol" not in page  # seen (inside the regions), not theirs to control
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    answer = await client.post(
        f"/meja/siaran/{sending}/kontrol", data={"csrf": csrf, "act": "pause"}
    )
    assert answer.status == 403
    async with app.sessionmaker() as s:
        assert (await s.get(Broadcast, sending)).status == "sending"


async def test_forged_posts_without_the_csrf_token_change_nothing(app, person, browser) -> None:
    client = await signed(app, person, browser, regions=["35.78"])
    bid = await a_broadcast(app, await author_id(app, 8801), ["35.78"])
    await client.get("/meja/siaran")
    for path, data in (("/meja/siaran/baru", {"text": "Hai", "kind": "all"}),
                       (f"/meja/siaran/{bid}/kontrol", {"act": "cancel"}),
                       (f"/meja/siaran/{bid}/kirim", {"when": "now"})):  # fmt: skip
        assert (await client.post(path, data=data)).status == 403
        assert (await client.post(path, data={**data, "csrf": "x"})).status == 403
    async with app.sessionmaker() as s:
        assert [b.status for b in (await s.scalars(select(Broadcast)))] == ["draft"]


async def test_staff_without_the_broadcast_role_cannot_reach_the_pages(
    app, person, browser
) -> None:
    client = await signed(app, person, browser, role="staff")
    assert (await client.get("/meja/siaran")).status == 403
    assert (await client.get("/meja/siaran/baru")).status == 403
    page = await (await client.get("/meja/tinjau")).text()
    assert "/meja/siaran" not in page and "/meja/pelatihan" not in page  # no nav links either


async def test_an_admin_sees_every_announcement_and_may_control_it(app, person, browser) -> None:
    from tests.conftest import ADMIN_ID

    bali = await a_broadcast(app, None, ["51.71"])
    async with app.sessionmaker() as s, s.begin():
        await store.start(s, bali, now=clock.now())
    client = await signed(app, person, browser, uid=ADMIN_ID, role="admin")
    assert f"#{bali}<" in await (await client.get("/meja/siaran")).text()
    csrf = await csrf_of(client, f"/meja/siaran/{bali}")
    answer = await client.post(f"/meja/siaran/{bali}/kontrol", data={"csrf": csrf, "act": "pause"},
                               allow_redirects=False)  # fmt: skip
    assert answer.status == 303
