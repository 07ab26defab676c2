"""one active run of a flow per person: runs two presses started at once are stopped

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Two presses handled at once could each start the same flow (start_run now takes the
    # person's row lock first): keep the newest of each person's active runs of a flow (the
    # one their answers went to), stop the others.
    op.execute(
        """
        UPDATE flow_runs SET status = 'cancelled', finished_at = updated_at
        WHERE status = 'active' AND person_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM flow_runs AS newer
            WHERE newer.person_id = flow_runs.person_id AND newer.flow = flow_runs.flow
              AND newer.status = 'active'
              AND (newer.updated_at > flow_runs.updated_at
                   OR (newer.updated_at = flow_runs.updated_at AND newer.id > flow_runs.id))
        )
        """
    )


def downgrade() -> None:
    pass  # the stopped runs stay stopped: nothing to undo
