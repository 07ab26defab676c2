"""reserved (no change yet): a number kept for work in progress (h15-help), filled in or left empty

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
