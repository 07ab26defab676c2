"""indexes for a national programme: people by region, runs by journey and start, a
submission's run

At a million people (bench/scale.py) the queries that count and filter people by region (a
broadcast's segment, a coordinator's scope, the funnels of /statistik) read the whole `people`
table without an index on the province and the regency; the funnels read every flow run of
every journey to find one journey's cohort of a period; and a cohort's submissions were found
by scanning `submissions` for their run. Each gets its index.

Built without blocking the bot on PostgreSQL (CREATE INDEX CONCURRENTLY, storage/online_ddl.py):
the tables are the biggest there are, and a plain CREATE INDEX would stop every answer that
writes to them until it finished.

Also: `processed_updates.replies` where it is missing. Migration 0013 adds it, but 0013 was a
no-op placeholder until stored replies came, and a database migrated past the placeholder
(anything at 0013 to 0019 before then) would never get it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage import online_ddl

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_people_province": ("people", ("province_code",)),
    "ix_people_regency": ("people", ("regency_code",)),
    "ix_flow_runs_flow_started": ("flow_runs", ("flow", "started_at")),
    "ix_submissions_run": ("submissions", ("run_id",)),
}


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("processed_updates")}
    if "replies" not in columns:
        op.add_column("processed_updates", sa.Column("replies", sa.JSON(), nullable=True))
    for name, (table, columns) in INDEXES.items():
        online_ddl.create_index(name, table, columns)


def downgrade() -> None:
    # The column stays: 0013 owns it (and drops it on the way down).
    for name, (table, _) in INDEXES.items():
        online_ddl.drop_index(name, table)
