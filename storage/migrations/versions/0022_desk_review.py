"""the desk's review: the office's reason templates, and each submission's history

`reason_templates` are the texts a reviewer picks when rejecting or returning (national, or
for one region), kept by the office on the desk; a few defaults in Indonesian and English are
seeded. `submission_events` is a submission's history: each decision with its reason and who,
and each correction with the fields' values before and after (personal data: cleared with the
submission's answers when its person deletes their data). Decisions already in the audit log
are copied in (without their reason, which the log never held).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 22:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)

# (action, locale, title, body): the defaults an office starts with, edited or retired there.
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


def upgrade() -> None:
    templates = op.create_table(
        "reason_templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("region_code", sa.String(5)),
        sa.Column("locale", sa.String(5), nullable=False),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("body", sa.String(500), nullable=False),
        sa.Column("created_by", sa.Integer),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("retired_at", WHEN),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        templates,
        [
            {"action": a, "region_code": None, "locale": loc, "title": title, "body": body,
             "created_by": None, "created_at": now, "updated_at": now, "retired_at": None}
            for a, loc, title, body in DEFAULTS
        ],
    )  # fmt: skip
    op.create_table(
        "submission_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "submission_id",
            sa.Integer,
            sa.ForeignKey("submissions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.Integer),
        sa.Column("reason", sa.String(500)),
        sa.Column("changes", sa.JSON),
        sa.Column("at", WHEN, nullable=False),
    )
    op.create_index("ix_submission_events_submission", "submission_events", ["submission_id", "at"])
    op.execute(
        "INSERT INTO submission_events (submission_id, action, actor_id, at) "
        "SELECT s.id, CASE a.action WHEN 'review.approve' THEN 'approved' "
        "WHEN 'review.reject' THEN 'rejected' ELSE 'returned' END, a.actor_id, a.at "
        "FROM audit_log a JOIN submissions s "
        "ON a.subject = 'submission:' || CAST(s.id AS VARCHAR(12)) "
        "WHERE a.action IN ('review.approve', 'review.reject', 'review.return')"
    )


def downgrade() -> None:
    op.drop_index("ix_submission_events_submission", table_name="submission_events")
    op.drop_table("submission_events")
    op.drop_table("reason_templates")
