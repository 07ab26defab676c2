"""Training sessions at the desk in a real browser (Debian's Chromium through Playwright): a
coordinator signs in from the bot's link, adds a session with the form, sees a mistake told in
Indonesian, then marks who came on the day; screenshots at 360 px and on a desktop."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from flows import clock
from operations import trainings as ops
from storage.models import Person, Training, TrainingRegistration
from tests.desk.chromium import OUTPUT, Chromium, unavailable
from tests.desk.support import link_of, staff

WHY = unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests skipped: {WHY}")
PHONE, DESKTOP = 360, 1280


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    browser = Chromium()
    yield browser
    browser.close()


async def signed_in(chromium, desk_server, chat, width: int = DESKTOP):
    token = await link_of(chat)
    page = await chromium.page(width)
    await page.goto(str(desk_server.make_url(f"/meja/masuk/{token}")))
    await page.click("button[type=submit]")
    return page


async def shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, OUTPUT / path.name)
    assert path.stat().st_size > 1000


async def register_people(app, training_id: int, n: int) -> list[int]:
    now = clock.now()
    ids = []
    async with app.sessionmaker() as s, s.begin():
        for i in range(n):
            pid = (
                await s.execute(
                    insert(Person).values(
                        telegram_id=910000 + i, name=f"Peserta {i:02d}", province_code="35",
                        regency_code="35.78", locale="id", role="returnee", created_at=now,
                        updated_at=now,
                    ).returning(Person.id)
                )
            ).scalar_one()  # fmt: skip
            done = await ops.register(s, training_id=training_id, person_id=pid, now=now)
            ids.append(done.registration_id)
    return ids


async def test_a_coordinator_adds_a_session_and_marks_attendance_on_the_day(
    app, person, desk_server, chromium, tmp_path
) -> None:
    chat = await staff(app, person, 8711, role="coordinator", regions=["35.78"], lang="id")
    page = await signed_in(chromium, desk_server, chat)
    await page.click("nav a[href$='pelatihan']")
    assert "Pelatihan" in await page.inner_text("h1")
    await page.click("a[href$='pelatihan/baru']")
    await page.fill("input[name=title]", "Jualan online untuk warung")
    await page.fill("input[name=organiser]", "Disnaker Kota Surabaya")
    await page.select_option("select[name=topic]", "digital")
    await page.fill("input[name=date]", "2026-11-25")  # the tests' today
    await page.fill("input[name=start]", "22:00")
    await page.fill("input[name=end]", "21:00")  # before the start: told, nothing saved
    await page.fill("input[name=place]", "Aula BLK Surabaya")
    await page.select_option("select[name=region]", "35.78")
    await page.fill("input[name=seats]", "2")
    await page.click("form.session-form button[type=submit]")
    assert "Mohon perbaiki" in await page.inner_text("[role=alert]")
    assert "harus setelah" in await page.inner_text("#err-end")
    assert await page.input_value("input[name=title]") == "Jualan online untuk warung"
    await shot(page, tmp_path, "training-form-error-desktop")
    await page.fill("input[name=end]", "23:30")
    await page.click("form.session-form button[type=submit]")
    assert "Tersimpan" in await page.inner_text("[role=status]")
    async with app.sessionmaker() as s:
        [training] = (await s.scalars(select(Training))).all()
    assert training.title == "Jualan online untuk warung" and training.regency_code == "35.78"

    [first, second, waiting] = await register_people(app, training.id, 3)
    await page.reload()
    assert await page.locator("input[name=present]").count() == 2  # seats; the third waits
    assert "Peserta 02" in await page.inner_text("main")
    await page.check(f"#present-{first}")
    await page.click("button:has-text('Simpan kehadiran')")
    assert "Kehadiran tersimpan" in await page.inner_text("[role=status]")
    assert await page.is_checked(f"#present-{first}")
    assert not await page.is_checked(f"#present-{second}")
    await shot(page, tmp_path, "training-attendance-desktop")
    async with app.sessionmaker() as s:
        marked = {r.id: r.attended_at for r in await s.scalars(select(TrainingRegistration))}
    assert marked[first] is not None and marked[second] is None and marked[waiting] is None

    phone = await signed_in(chromium, desk_server, chat, width=PHONE)
    await phone.goto(str(desk_server.make_url(f"/meja/pelatihan/{training.id}")))
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    await shot(phone, tmp_path, "training-phone")
    await phone.goto(str(desk_server.make_url("/meja/siaran/baru")))
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE
    await shot(phone, tmp_path, "announcement-compose-phone")
