"""the staff desk: one-time sign-in links, desk sessions, and the outbox of notices

`desk_login_tokens` and `desk_sessions` keep only hashes of their tokens. `outbox_notices`
holds what the desk decided for people to hear: the bot renders and sends each row.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def _person() -> sa.Column:
    return sa.Column(
        "person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "desk_login_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _person(),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN),
    )
    op.create_index("ix_desk_login_tokens_person_id", "desk_login_tokens", ["person_id"])
    op.create_table(
        "desk_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _person(),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("scope_regions", sa.JSON),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN),
    )
    op.create_index("ix_desk_sessions_person_id", "desk_sessions", ["person_id"])
    op.create_table(
        "outbox_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        _person(),
        sa.Column("message", sa.String(60), nullable=False),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("lease_until", WHEN),
        sa.Column("last_error", sa.String(200)),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN),
    )
    op.create_index("ix_outbox_notices_due", "outbox_notices", ["status", "due_at"])
    op.create_index("ix_outbox_notices_person_id", "outbox_notices", ["person_id"])


def downgrade() -> None:
    op.drop_table("outbox_notices")
    op.drop_table("desk_sessions")
    op.drop_table("desk_login_tokens")
