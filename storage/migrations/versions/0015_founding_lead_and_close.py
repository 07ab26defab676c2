"""founding plans: the run that started one (founding again from it finds the same plan), when
one was closed; plans left without a lead by deletions before issue 13 get one or close

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The first founder still in the plan, in the order they joined (storage.privacy's heir).
FIRST_MEMBER = """
    SELECT m.person_id FROM founding_members AS m
    WHERE m.founding_id = foundings.id
    ORDER BY m.joined_at, m.id LIMIT 1
"""


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both backends: on SQLite, copying the table (what a
    # constraint would take) would drop it, and with foreign keys on that deletes its founders.
    op.add_column("foundings", sa.Column("run_id", sa.Integer(), nullable=True))
    op.add_column("foundings", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("uq_foundings_run_id", "foundings", ["run_id"], unique=True)
    # Before issue 13, deleting a founder's data set the plan's founder to NULL and kept it
    # open: nobody could mark its steps or set its meeting. Now the next founder leads it
    # (their founding file with it), or it closes when nobody is left, as a deletion does
    # today (storage/privacy.py hand_over): the leaver's purpose goes; a closed plan keeps
    # neither name nor purpose, and its waiting file is withdrawn.
    op.execute(
        f"""
        UPDATE submissions SET person_id = (
            SELECT ({FIRST_MEMBER}) FROM foundings WHERE foundings.id = submissions.ref_id
        )
        WHERE kind = 'founding' AND person_id IS NULL
          AND status IN ('submitted', 'returned')
          AND ref_id IN (SELECT id FROM foundings
                         WHERE founder_id IS NULL AND status != 'cancelled')
        """
    )
    drop_purpose = (
        "(answers::jsonb - 'purpose')::json"
        if op.get_bind().dialect.name == "postgresql"
        else "json_remove(answers, '$.purpose')"
    )
    op.execute(
        f"""
        UPDATE submissions SET answers = {drop_purpose}
        WHERE kind = 'founding' AND person_id IS NOT NULL
          AND ref_id IN (SELECT id FROM foundings
                         WHERE founder_id IS NULL AND status != 'cancelled')
        """
    )
    op.execute(
        f"""
        UPDATE foundings SET founder_id = ({FIRST_MEMBER}), purpose = '–'
        WHERE founder_id IS NULL AND status != 'cancelled'
          AND EXISTS (SELECT 1 FROM founding_members AS m WHERE m.founding_id = foundings.id)
        """
    )
    op.execute(
        """
        UPDATE submissions SET status = CASE WHEN status IN ('submitted', 'returned')
                                             THEN 'withdrawn' ELSE status END,
                               answers = '{}', reason = NULL
        WHERE kind = 'founding'
          AND ref_id IN (SELECT id FROM foundings
                         WHERE founder_id IS NULL AND status != 'cancelled')
        """
    )
    op.execute(
        """
        UPDATE foundings SET status = 'cancelled', name = '', purpose = '', meeting_at = NULL
        WHERE founder_id IS NULL AND status != 'cancelled'
        """
    )
    op.execute("UPDATE foundings SET closed_at = updated_at WHERE status = 'cancelled'")


def downgrade() -> None:
    op.drop_index("uq_foundings_run_id", table_name="foundings")
    # DROP COLUMN in place (SQLite 3.35+), never a copy of the table (see upgrade)
    op.execute("ALTER TABLE foundings DROP COLUMN closed_at")
    op.execute("ALTER TABLE foundings DROP COLUMN run_id")
    # plans given a lead or closed stay so: nothing to undo
