"""processed_updates.replies: an update's replies, kept with its id until they were sent

The replies a handled update produced (its Bot API calls, as data: bot.outbox.as_data) are
written with the update id, in the update's own transaction, and forgotten (SQL NULL) as soon
as they were sent. A process killed between the commit and the sending leaves them here;
Telegram, never told the update was done, delivers it again, and the replies are sent then
instead of nothing (bot.middlewares.UpdateContext).

A nullable column without a default: adding it rewrites no rows on PostgreSQL (11+) or SQLite.
This number was held by a no-op placeholder (same revision id, so 0014 follows it unchanged).
A database migrated past the placeholder lacks the column and Alembic will not run this again:
migration 0020 adds it there (only where it is missing).

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
