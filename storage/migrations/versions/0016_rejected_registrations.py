"""a training registration staff rejected ends as "rejected"

Until now a rejected registration stayed "registered": it kept its seat and its reminders while
the person was told it was not approved. From now on a rejection ends it (operations/trainings.py);
this brings the registrations rejected before in line: status "rejected" where the latest
submission about it was rejected, and its pending reminders cancelled. The seats this frees go
to the waitlist at the next change to their session (a migration tells nobody, so it promotes
nobody). No schema change: `status` is a plain string column.

Downgrade: code from before this knows no "rejected", so those registrations read as cancelled
(which is what they are for the person: no seat, no reminders).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Active registrations whose latest training submission (by created_at, then id) is rejected.
REJECTED = sa.text(
    "SELECT r.id FROM training_registrations r "
    "JOIN submissions s ON s.kind = 'training_registration' AND s.ref_id = r.id "
    "WHERE r.status IN ('registered', 'waitlisted') AND s.status = 'rejected' "
    "AND NOT EXISTS (SELECT 1 FROM submissions later "
    "WHERE later.kind = s.kind AND later.ref_id = s.ref_id "
    "AND (later.created_at > s.created_at OR (later.created_at = s.created_at AND later.id > s.id)))"
)


def upgrade() -> None:
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(REJECTED)]
    for registration_id in ids:
        bind.execute(
            sa.text("UPDATE training_registrations SET status = 'rejected' WHERE id = :id"),
            {"id": registration_id},
        )
        bind.execute(
            sa.text(
                "UPDATE reminders SET status = 'cancelled' "
                "WHERE dedupe_key LIKE :prefix AND status IN ('pending', 'sending')"
            ),
            {"prefix": f"training:{registration_id}:%"},
        )


def downgrade() -> None:
    op.execute("UPDATE training_registrations SET status = 'cancelled' WHERE status = 'rejected'")
