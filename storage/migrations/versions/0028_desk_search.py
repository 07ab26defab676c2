"""the desk's searches by name and by the last four digits (placeholder, filled on branch h17-search)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 01:10:00
"""

from collections.abc import Sequence

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
