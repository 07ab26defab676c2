"""a coordinator's region scope; the draft broadcast's typed stage

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope_regions", sa.JSON(), nullable=True))
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("stage")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("scope_regions")
