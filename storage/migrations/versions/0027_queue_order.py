"""the review queue in its order: submissions by status, then oldest first

The desk's queue (and /tinjau) reads the waiting submissions oldest first. With only
`ix_submissions_kind_status_created` it reads every waiting submission of every kind, joins the
people and sorts them (34 ms at 30,000 submissions, growing with the queue: bench/desk.py);
this index hands them out in the page's order (1.1 ms there). Built without blocking the bot
on PostgreSQL (storage/online_ddl.py).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 00:10:00
"""

from collections.abc import Sequence

from storage import online_ddl

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    online_ddl.create_index(
        "ix_submissions_status_created", "submissions", ("status", "created_at", "id")
    )


def downgrade() -> None:
    online_ddl.drop_index("ix_submissions_status_created", "submissions")
