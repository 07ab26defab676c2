"""paging indexes for the directory and trainings

Lists people page through (cooperatives found, upcoming training sessions) are read a page at a
time in SQL (storage/paging.py); each way they are filtered gets an index in the order shown, so
a page and its count come from the index. `ix_cooperatives_regency_kind` and
`ix_trainings_starts` are replaced by wider ones that serve what they served.

Plain CREATE INDEX, inside the migration's transaction, not CREATE INDEX CONCURRENTLY: the
directory and the sessions are tens of thousands of rows (50,000 index in well under a second),
the lock it takes (SHARE) stops only writes to these two tables (an import, a coordinator's
edit), never the reads that serve people, and it is all or nothing with the rest of the upgrade.
CONCURRENTLY would need `autocommit_block()`, which commits the transaction holding the advisory
lock that makes instances started together migrate one at a time (env.py), and a concurrent build
that fails leaves an INVALID index behind that the next upgrade trips over.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER = ("merah_putih", "migrant", "name", "id")
COOPERATIVES = {
    "ix_cooperatives_regency_kind": ("regency_code", "kind", *ORDER),
    "ix_cooperatives_regency_order": ("regency_code", *ORDER),
    "ix_cooperatives_province_kind": ("province_code", "kind", *ORDER),
    "ix_cooperatives_province_order": ("province_code", *ORDER),
}
UPCOMING = ("province_code", "regency_code", "starts_at", "id", "cancelled", "topic")


def upgrade() -> None:
    op.drop_index("ix_cooperatives_regency_kind", table_name="cooperatives")
    for name, columns in COOPERATIVES.items():
        op.create_index(name, "cooperatives", list(columns))
    op.drop_index("ix_trainings_starts", table_name="trainings")
    op.create_index("ix_trainings_upcoming", "trainings", list(UPCOMING))


def downgrade() -> None:
    op.drop_index("ix_trainings_upcoming", table_name="trainings")
    op.create_index("ix_trainings_starts", "trainings", ["starts_at"])
    for name in COOPERATIVES:
        op.drop_index(name, table_name="cooperatives")
    op.create_index("ix_cooperatives_regency_kind", "cooperatives", ["regency_code", "kind"])
