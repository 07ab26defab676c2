"""The office's reason templates (for rejecting and returning a submission): a small table,
read whole and filtered by the caller's regions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import ReasonTemplate, utcnow

_R = ReasonTemplate.__table__
ACTIONS = ("reject", "return")

# (action, locale, title, body): the defaults an office starts with (migration 0022 seeds the
# same; a database whose table is empty gets them on first use), edited or retired at the desk.
DEFAULTS = (
    (
        "return",
        "id",
        "Data belum sesuai KTP",
        "Nama atau NIK Anda belum sama dengan yang tertulis di KTP. Mohon periksa lagi dan "
        "perbaiki sesuai KTP.",
    ),
    (
        "return",
        "id",
        "Nomor HP tidak bisa dihubungi",
        "Nomor HP yang Anda isi tidak bisa kami hubungi. Mohon tulis nomor HP yang aktif.",
    ),
    (
        "return",
        "id",
        "Jawaban belum lengkap",
        "Ada jawaban yang belum lengkap atau kurang jelas. Mohon lengkapi bagian yang kami tandai.",
    ),
    (
        "reject",
        "id",
        "Di luar wilayah layanan",
        "Maaf, pendaftaran ini di luar wilayah layanan kantor kami. Silakan hubungi Dinas Tenaga "
        "Kerja di daerah Anda.",
    ),
    (
        "reject",
        "id",
        "Kuota sudah penuh",
        "Maaf, kuota untuk kegiatan ini sudah penuh. Kami akan memberi kabar bila ada kesempatan "
        "berikutnya.",
    ),
    (
        "reject",
        "id",
        "Pendaftaran ganda",
        "Pendaftaran ini sama dengan pendaftaran Anda yang lain, jadi yang ini kami tutup. "
        "Pendaftaran Anda yang lain tetap berjalan.",
    ),
    (
        "return",
        "en",
        "Details differ from the KTP",
        "Your name or NIK is not the same as on your KTP. Please check it and correct it to match "
        "your KTP.",
    ),
    (
        "return",
        "en",
        "Phone number unreachable",
        "We could not reach the phone number you gave. Please give a number that is active.",
    ),
    (
        "reject",
        "en",
        "Outside our service area",
        "Sorry, this sign-up is outside our office's service area. Please contact the manpower "
        "office (Dinas Tenaga Kerja) in your region.",
    ),
    (
        "reject",
        "en",
        "No places left",
        "Sorry, all places for this are taken. We will tell you when there is a next chance.",
    ),
)


async def templates(session: AsyncSession, *, retired: bool = False) -> list[ReasonTemplate]:
    """Every template in use (or, with `retired`, every one), by action, language and title;
    the defaults written first when the table has never held any."""
    await _seed(session)
    query = select(_R).order_by(_R.c.action, _R.c.locale, _R.c.title, _R.c.id)
    if not retired:
        query = query.where(_R.c.retired_at.is_(None))
    connection = await repo._connection(session)
    return [repo._record(ReasonTemplate, dict(r._mapping)) for r in await connection.execute(query)]


async def get(session: AsyncSession, template_id: int) -> ReasonTemplate | None:
    connection = await repo._connection(session)
    row = (await connection.execute(select(_R).where(_R.c.id == template_id))).first()
    return None if row is None else repo._record(ReasonTemplate, dict(row._mapping))


async def add(session: AsyncSession, *, action: str, region_code: str | None, locale: str,
              title: str, body: str, created_by: int | None, now: datetime) -> int:  # fmt: skip
    return await repo._insert(
        session,
        _R,
        {"action": action, "region_code": region_code, "locale": locale, "title": title,
         "body": body, "created_by": created_by, "created_at": now, "updated_at": now},
    )  # fmt: skip


async def change(
    session: AsyncSession, template_id: int, *, now: datetime, **values: object
) -> bool:
    """Change a template in use (title, body, locale); False when it is retired or gone."""
    connection = await repo._connection(session)
    result = await connection.execute(
        update(_R)
        .where(_R.c.id == template_id, _R.c.retired_at.is_(None))
        .values(**values, updated_at=now)
    )
    return bool(result.rowcount)


async def _seed(session: AsyncSession) -> None:
    connection = await repo._connection(session)
    if (await connection.execute(select(_R.c.id).limit(1))).first() is not None:
        return
    now = utcnow()
    await connection.execute(
        insert(_R),
        [{"action": a, "region_code": None, "locale": loc, "title": title, "body": body,
          "created_by": None, "created_at": now, "updated_at": now}
         for a, loc, title, body in DEFAULTS],
    )  # fmt: skip
