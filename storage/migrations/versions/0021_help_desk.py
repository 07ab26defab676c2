"""the help desk ("Tanya petugas"): tickets, their messages, the office's canned answers, and
what the bot waits for (a question, a staff reply)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def _person(name: str, *, cascade: bool = False, nullable: bool = True) -> sa.Column:
    return sa.Column(
        name,
        sa.Integer,
        sa.ForeignKey("people.id", ondelete="CASCADE" if cascade else "SET NULL"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        _person("person_id"),
        sa.Column("province_code", sa.String(2)),
        sa.Column("regency_code", sa.String(5)),
        sa.Column("queue_region", sa.String(5)),
        sa.Column("status", sa.String(12), nullable=False),
        _person("assignee_id"),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("waiting_since", WHEN),
        sa.Column("first_answered_at", WHEN),
        sa.Column("closed_at", WHEN),
        sa.Column("rating", sa.Integer),
        sa.Column("flagged_overdue_at", WHEN),
    )
    op.create_index("ix_tickets_person_status", "tickets", ["person_id", "status"])
    op.create_index("ix_tickets_status_region", "tickets", ["status", "queue_region", "updated_at"])
    op.create_index("ix_tickets_assignee_status", "tickets", ["assignee_id", "status"])
    op.create_index("ix_tickets_waiting", "tickets", ["waiting_since"])
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer,
            sa.ForeignKey("tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        _person("author_id"),
        sa.Column("text", sa.Text),
        sa.Column("voice_file_id", sa.String(200)),
        sa.Column("voice_seconds", sa.Integer),
        sa.Column("voice_delete_at", WHEN),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index("ix_ticket_messages_ticket", "ticket_messages", ["ticket_id", "id"])
    op.create_index("ix_ticket_messages_voice_delete", "ticket_messages", ["voice_delete_at"])
    op.create_table(
        "canned_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("region", sa.String(5)),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        _person("updated_by"),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index("ix_canned_answers_region", "canned_answers", ["region"])
    op.create_table(
        "ticket_waits",
        _person("person_id", cascade=True, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id", ondelete="CASCADE")),
        sa.Column("until", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
    )


def downgrade() -> None:
    op.drop_table("ticket_waits")
    op.drop_table("canned_answers")
    op.drop_table("ticket_messages")
    op.drop_table("tickets")
