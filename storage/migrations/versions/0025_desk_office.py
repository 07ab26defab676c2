"""the desk's audit log page: an index for its actor filter

The audit log page (desk/admin.py) reads entries newest first by (at, id), a page at a time by
keyset (on 0023's `ix_audit_log_at`, which pruning uses too), optionally of one actor: that
needs (actor_id, at). Built without blocking the bot on PostgreSQL (storage/online_ddl.py).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 22:30:00
"""

from collections.abc import Sequence

from storage import online_ddl

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_audit_log_actor", "audit_log", ("actor_id", "at")),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        online_ddl.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        online_ddl.drop_index(name, table)
