"""an update's replies are stored with its update id until they reached Telegram

`processed_updates.replies` holds the replies a handled update produced (the Bot API calls, as
data), written in the update's own transaction. They are cleared once they were sent, before the
update is confirmed to Telegram; an update delivered again while its replies are still there
(the process died between the commit and the send) gets them sent, instead of nothing.

A nullable column without a default: adding it rewrites no rows on PostgreSQL (11+) or SQLite.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("processed_updates", sa.Column("replies", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("processed_updates", "replies")
