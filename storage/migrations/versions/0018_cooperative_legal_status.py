"""a cooperative's legal status in the directory: badan hukum number, NIK Koperasi, last RAT

Before paying simpanan a person should check that a cooperative is a legal entity and active
(DOMAIN.md section 0): its legal-entity (badan hukum) number from AHU Online, its NIK Koperasi,
and the date of its last annual members' meeting (RAT). The directory now keeps what it knows
of these, each optional (NULL: not known), and the cooperative card shows them. The CSV import
accepts the three as optional columns.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_number", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("nik_koperasi", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("last_rat", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cooperatives", schema=None) as batch_op:
        batch_op.drop_column("last_rat")
        batch_op.drop_column("nik_koperasi")
        batch_op.drop_column("legal_number")
