"""retention: indexes to prune old rows in small batches and to page an export, and an audit
log that lets go of expired rows only

Pruning (bot/retention.py) deletes a batch of the oldest rows at a time: without an index on
the age column each batch would read the whole table (processed_updates gains a row for
every update: at 200 updates/s, 35 million rows in two days; the audit log grows for years).
The streamed export (storage.exports.chunks) reads one kind's submissions a page at a time in
(created_at, id) order: `ix_submissions_kind_created` finds each page where the last ended
instead of sorting the kind again. All built without blocking the bot on PostgreSQL
(CREATE INDEX CONCURRENTLY, storage/online_ddl.py).

The audit log stays append-only (0009) for everything but the deletion of expired rows: the
trigger lets a DELETE through only for a row older than AUDIT_FLOOR_DAYS (a year: no setting
and no bug can remove a younger one) *and* older than a cut-off written, in the same
transaction, into `audit_log_prune` (the pruner writes its cut-off, deletes a batch, deletes
the cut-off: no other transaction ever sees it). UPDATE is refused as before, always.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage import online_ddl

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit_log is append-only"
AUDIT_FLOOR_DAYS = 365  # RETAIN_AUDIT_DAYS can be no shorter (bot/config.py)
INDEXES = {
    "ix_processed_updates_at": ("processed_updates", ("processed_at",)),
    "ix_audit_log_at": ("audit_log", ("at", "id")),  # also the desk's newest-first pages
    "ix_submissions_kind_created": ("submissions", ("kind", "created_at", "id")),
}

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.at < now() - interval '{days} days'
       AND EXISTS (SELECT 1 FROM audit_log_prune p WHERE OLD.at < p.before) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '{message}';
END;
$$ LANGUAGE plpgsql
"""
PG_FUNCTION_0009 = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}';
END;
$$ LANGUAGE plpgsql
"""
SQLITE_DELETE = (
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "WHEN OLD.at >= datetime('now', '-{days} days') "
    "OR NOT EXISTS (SELECT 1 FROM audit_log_prune p WHERE OLD.at < p.before) "
    "BEGIN SELECT RAISE(ABORT, '{message}'); END"
)
SQLITE_DELETE_0009 = (
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
)


def upgrade() -> None:
    op.create_table(
        "audit_log_prune",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("before", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION.format(days=AUDIT_FLOOR_DAYS, message=MESSAGE))
    else:
        op.execute("DROP TRIGGER audit_log_no_delete")
        op.execute(SQLITE_DELETE.format(days=AUDIT_FLOOR_DAYS, message=MESSAGE))
    for name, (table, columns) in INDEXES.items():
        online_ddl.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        online_ddl.drop_index(name, table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION_0009)
    else:
        op.execute("DROP TRIGGER audit_log_no_delete")
        op.execute(SQLITE_DELETE_0009)
    op.drop_table("audit_log_prune")
