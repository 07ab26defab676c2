"""the funnels' summary tables: runs and submissions counted by journey, UTC start day and region

At a national size (issue 17: five million flow runs) a live `/statistik` over 90 days reads
every run of the period twice. The scheduler keeps these counts (storage/funnel_summary.py);
a funnel reads whole days from them and only the edges of its period live.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 22:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funnel_run_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("regency_code", sa.String(length=5), nullable=True),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("last", sa.String(length=40), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_funnel_run_days_flow_day", "funnel_run_days", ["flow", "day"])
    op.create_index(
        "ix_funnel_run_days_flow_regency_day", "funnel_run_days", ["flow", "regency_code", "day"]
    )
    op.create_table(
        "funnel_run_province_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("last", sa.String(length=40), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_funnel_run_province_days_flow_day", "funnel_run_province_days", ["flow", "day"]
    )
    op.create_table(
        "funnel_submission_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("regency_code", sa.String(length=5), nullable=True),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("survey", sa.Integer(), nullable=False),
        sa.Column("akad", sa.Integer(), nullable=False),
        sa.Column("cair", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_funnel_submission_days_kind_day", "funnel_submission_days", ["kind", "day"])
    op.create_index(
        "ix_funnel_submission_days_kind_regency_day",
        "funnel_submission_days",
        ["kind", "regency_code", "day"],
    )
    op.create_table(
        "funnel_summary_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cut", sa.Date(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("full_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("funnel_summary_state")
    op.drop_table("funnel_submission_days")  # its indexes with it
    op.drop_table("funnel_run_province_days")
    op.drop_table("funnel_run_days")
