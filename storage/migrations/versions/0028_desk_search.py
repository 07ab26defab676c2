"""the desk's searches by name and by the last four digits: indexes that serve them

The desk's review queue (storage/desk_queue.py) finds people by any part of the name
(`lower(name) LIKE '%..%'`) and by the last four digits of a phone or NIK. Both read every
person without an index (bench/desk.py; about 0.5 s at 1,000,000 people):

- the last four: expression indexes on `right(phone, 4)` and `right(nik, 4)`
  (`substr(x, -4)` on SQLite, models.last_four), which the search compares (it was
  `phone LIKE '%1234'`, which no B-tree serves);
- the name, on PostgreSQL only: a GIN trigram index on `lower(name)` (pg_trgm), which serves
  `LIKE '%..%'` as it is written. pg_trgm is a trusted extension (PostgreSQL 13+: a role with
  CREATE on the database may install it); where it cannot be installed or is not there, the
  index is skipped with a warning in the migration's log and the search stays what it was,
  correct and a sequential scan. Running the upgrade again after an administrator has run
  `CREATE EXTENSION pg_trgm` does not build it (the revision is done): build it by hand with
  the statement below, or downgrade to 0027 and upgrade.

Every index is built without blocking the bot on PostgreSQL (storage/online_ddl.py), and
people are analysed after (the planner's row counts for the new expressions).
The downgrade drops the indexes and leaves the extension: other databases' objects may use it,
and dropping it needs its owner.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 01:10:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage import online_ddl

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

TRIGRAM = "ix_people_name_trigram"


def _trigram_ready() -> bool:
    """pg_trgm installed (or installed now) and its operator class visible here."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():  # a refusal aborts only this savepoint
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        log.warning(
            "pg_trgm could not be installed (%s): the desk's search by name stays a sequential "
            "scan of people; after CREATE EXTENSION pg_trgm by an administrator, run "
            "CREATE INDEX CONCURRENTLY %s ON people USING gin (lower(name) gin_trgm_ops)",
            str(error.orig).splitlines()[0],
            TRIGRAM,
        )
        return False
    visible = bind.execute(
        sa.text(
            "SELECT 1 FROM pg_opclass WHERE opcname = 'gin_trgm_ops' AND pg_opclass_is_visible(oid)"
        )
    ).scalar()
    if not visible:
        log.warning(
            "pg_trgm is installed in a schema outside the search path: %s is not built and "
            "the desk's search by name stays a sequential scan of people",
            TRIGRAM,
        )
    return bool(visible)


def _last_four(column: str) -> sa.TextClause:
    """models.last_four as this file's own SQL (a migration does not follow later models)."""
    if op.get_bind().dialect.name == "postgresql":
        return sa.text(f"right({column}, 4)")
    return sa.text(f"substr({column}, -4)")


def upgrade() -> None:
    online_ddl.create_index("ix_people_phone_last_four", "people", (_last_four("phone"),))
    online_ddl.create_index("ix_people_nik_last_four", "people", (_last_four("nik"),))
    if op.get_bind().dialect.name == "postgresql" and _trigram_ready():
        online_ddl.create_index(
            TRIGRAM, "people", (sa.text("lower(name) gin_trgm_ops"),), postgresql_using="gin"
        )
    if op.get_bind().dialect.name == "postgresql":
        # The planner knows how many names hold a text, or end a phone in four digits, only
        # from statistics of the indexes' expressions, which ANALYZE gathers (autovacuum would
        # only when enough rows change): without them it guesses, and may read a common
        # surname's many people by the index instead of the queue's first waiting rows.
        # ANALYZE reads a sample and does not block writes.
        op.execute(sa.text("ANALYZE people"))


def downgrade() -> None:
    online_ddl.drop_index(TRIGRAM, "people")
    online_ddl.drop_index("ix_people_nik_last_four", "people")
    online_ddl.drop_index("ix_people_phone_last_four", "people")
