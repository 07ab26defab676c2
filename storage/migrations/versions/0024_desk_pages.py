"""attendance: whether a participant came to a training session, marked at the desk

`training_registrations.attended_at`: when a coordinator marked the person present (None: not
marked present). Who marked it, and each change, is in the audit log ("training.attendance").

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "training_registrations",
        sa.Column("attended_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("training_registrations") as batch:
        batch.drop_column("attended_at")
