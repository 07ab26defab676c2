"""Every page of the staff desk checked by axe-core in a real browser (Debian's Chromium through
Playwright): no serious or critical violation, as an admin (who sees every page) and as a
coordinator scoped to one regency, signed in, signed out and on the sign-in page; and no page
weighs more than 200 KB with its stylesheets and scripts.

axe-core comes from the npm registry (`make setup` installs a pinned version into .venv/axe);
it is injected as an inline script, which the desk's Content-Security-Policy forbids, so these
pages (and only these) are opened in a context that bypasses the policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import Person, Ticket
from tests.desk.chromium import Chromium, unavailable
from tests.desk.support import link_of, returnees, staff
from tests.desk.test_announcement_pages import a_broadcast
from tests.desk.test_stats_pages import seeded
from tests.desk.test_tickets import question
from tests.desk.test_training_pages import participants, session_in
from tests.support.talk import one

AXE = Path(__file__).resolve().parents[2] / ".venv/axe/node_modules/axe-core/axe.min.js"
WHY = unavailable() or (
    None if AXE.is_file() else f"{AXE} is missing (`make setup` installs axe-core with npm)"
)
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"accessibility test skipped: {WHY}")
LIMIT = 200 * 1024  # bytes: a page's HTML with its stylesheets, scripts and images

RUN = """async () => {
  const found = await axe.run(document, {resultTypes: ['violations']});
  return found.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
}"""
ASSETS = """async () => {
  const urls = [...document.querySelectorAll('link[rel=stylesheet][href], script[src], img[src]')]
    .map(e => e.href || e.src);
  let total = 0;
  for (const u of urls) total += (await (await fetch(u, {cache: 'no-store'})).arrayBuffer()).byteLength;
  return total;
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    browser = Chromium()
    yield browser
    browser.close()


class Audit:
    """What axe-core and the scales found on each page, told together at the end."""

    def __init__(self, page, desk_server) -> None:
        self.page, self.server = page, desk_server
        self.problems: list[str] = []
        self.seen: list[str] = []

    async def visit(self, path: str) -> None:
        answer = await self.page.goto(str(self.server.make_url(path)))
        assert answer.status == 200, (path, answer.status)
        await self.check(path, len(await answer.body()))

    async def check(self, name: str, html: int | None = None) -> None:
        """The page now open: axe-core's serious and critical findings, and its weight."""
        if html is None:
            html = len((await self.page.content()).encode())
        weight = html + await self.page.evaluate(ASSETS)
        if weight > LIMIT:
            self.problems.append(f"{name}: {weight} bytes, over {LIMIT}")
        await self.page.add_script_tag(path=str(AXE))
        for v in await self.page.evaluate(RUN):
            self.problems.append(f"{name}: {v['id']} ({v['impact']}): {v['help']}")
            self.problems.extend(f"    {node}" for node in v["nodes"])
        self.seen.append(name)

    def verdict(self) -> None:
        assert not self.problems, "\n" + "\n".join(self.problems)


async def signed_in(chromium, desk_server, chat, width: int = 1280):
    """A fresh browser (policy bypassed for axe) on the sign-in page /meja gave, checked, then
    signed in."""
    token = await link_of(chat)
    page = await chromium.page(width, bypass_csp=True)
    audit = Audit(page, desk_server)
    await audit.visit(f"/meja/masuk/{token}")
    await page.click("button[type=submit]")
    return audit


async def seed(app, person) -> dict[str, int]:
    """One of everything a page shows: a submission, a session with a waitlist, a draft
    announcement, a question, statistics."""
    [sid, *_] = await returnees(app, 3, kind="join_request",
                                answers={"cooperative_name": "Koperasi Maju", "nik": "3578010101900000"})  # fmt: skip
    training = await session_in(app)
    await participants(app, training, 3, seats=2)
    broadcast = await a_broadcast(app, None, ["35.78"])
    await question(person)
    await seeded(app)
    return {"submission": sid, "training": training, "broadcast": broadcast,
            "ticket": (await one(app, Ticket)).id}  # fmt: skip


@pytest.mark.parametrize("width", [1280, 360])
async def test_every_desk_page_passes_axe_and_weighs_under_200_kb_for_an_admin(
    app, person, desk_server, chromium, width
) -> None:
    ids = await seed(app, person)
    coordinator = await staff(app, person, 8902, role="coordinator", regions=["35.78"], lang="id")
    assert coordinator
    async with app.sessionmaker() as s:
        coordinator_id = (
            await s.scalars(select(Person.id).where(Person.telegram_id == 8902))
        ).one()
    admin = await staff(app, person, 8901, role="admin", lang="id")
    audit = await signed_in(chromium, desk_server, admin, width)
    for path in (
        "/meja/tinjau", f"/meja/tinjau/{ids['submission']}", "/meja/tinjau/alasan",
        "/meja/pelatihan", f"/meja/pelatihan/{ids['training']}", "/meja/pelatihan/baru",
        f"/meja/pelatihan/{ids['training']}/ubah",
        "/meja/siaran", f"/meja/siaran/{ids['broadcast']}", "/meja/siaran/baru",
        "/meja/tiket", f"/meja/tiket/{ids['ticket']}", "/meja/tiket/jawaban",
        "/meja/statistik", "/meja/ekspor", "/meja/peran", f"/meja/peran/{coordinator_id}",
        "/meja/audit",
    ):  # fmt: skip
        await audit.visit(path)
    page = audit.page
    await page.goto(str(desk_server.make_url("/meja/peran")))
    await page.select_option("form[action$='undangan'] select[name=role]", "admin")
    await page.click("form[action$='undangan'] button[type=submit]")
    assert await page.locator("#made-title").count() == 1
    await audit.check("/meja/peran (an invitation just made, open invitations)")
    await page.goto(str(desk_server.make_url(f"/meja/tinjau/{ids['submission']}")))
    await page.click("form.reveal button")
    await audit.check("/meja/tinjau/{id}/nik (NIK revealed)")
    answer = await page.goto(str(desk_server.make_url("/meja/tinjau/999999")))
    assert answer.status == 404
    await audit.check("/meja/tinjau/999999 (not found)")
    await page.click("form.signout button[type=submit]")
    await audit.check("signed out")
    assert len(audit.seen) >= 23
    audit.verdict()


async def test_every_page_a_scoped_coordinator_sees_passes_axe_on_a_phone_signed_in_and_out(
    app, person, desk_server, chromium
) -> None:
    ids = await seed(app, person)
    coordinator = await staff(app, person, 8903, role="coordinator", regions=["35.78"], lang="id")
    async with app.sessionmaker() as s:
        mine = (await s.scalars(select(Person.id).where(Person.telegram_id == 8903))).one()
    draft = await a_broadcast(app, mine, ["35.78"])  # a draft is seen by its author only
    audit = await signed_in(chromium, desk_server, coordinator, width=360)
    page = audit.page
    await audit.check("/meja/ (home)")
    links = await page.eval_on_selector_all("header nav a", "as => as.map(a => a.pathname)")
    assert len(links) >= 3, links
    for path in [*links, f"/meja/pelatihan/{ids['training']}", "/meja/pelatihan/baru",
                 f"/meja/siaran/{draft}", "/meja/siaran/baru"]:  # fmt: skip
        await audit.visit(path)
    await page.click("form.signout button[type=submit]")
    await audit.check("signed out")
    await page.goto(str(desk_server.make_url("/meja/")))
    await audit.check("/meja/ (not signed in)")
    await audit.visit("/meja/app")  # the Mini App's opening page, without Telegram's data
    audit.verdict()
