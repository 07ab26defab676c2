"""cooperative directory

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:40:27.235930
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cooperatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("merah_putih", sa.Boolean(), nullable=False),
        sa.Column("migrant", sa.Boolean(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("regency_code", sa.String(length=5), nullable=False),
        sa.Column("village", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("simpanan_pokok", sa.BigInteger(), nullable=False),
        sa.Column("simpanan_wajib", sa.BigInteger(), nullable=False),
        sa.Column("requirements", sa.String(length=500), nullable=False),
        sa.Column("benefits", sa.String(length=500), nullable=False),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "regency_code", name="uq_cooperatives_name_regency"),
    )
    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cooperatives_regency_kind", ["regency_code", "kind"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.drop_index("ix_cooperatives_regency_kind")

    op.drop_table("cooperatives")
