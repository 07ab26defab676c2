"""Schema changes a live database takes without stopping the bot, for migrations on big tables.

`create_index` on PostgreSQL builds with CREATE INDEX CONCURRENTLY: the table stays open to
reads and writes the whole time (a plain CREATE INDEX takes a SHARE lock, which stops every
insert and update of the table until the index is built: at a million people, many seconds of
updates waiting). CONCURRENTLY cannot run inside a transaction, so it runs in Alembic's
autocommit block, which commits the migration's transaction before it; env.py gives every
migration file its own transaction and holds its advisory lock on the session, so that commit
neither mixes files nor lets another instance in. A concurrent build that failed (killed,
a lock timeout) leaves an INVALID index with the name: it is dropped (concurrently as well) and
built again, so running the upgrade again finishes the job.

On SQLite (one writer by design, the embedded default for small deployments) it is a plain
CREATE INDEX IF NOT EXISTS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def create_index(name: str, table: str, columns: Sequence[str | sa.TextClause], **kw: Any) -> None:
    """Build index `name` on `table` (`columns`: names, or expressions as sa.text), without
    blocking writes on PostgreSQL. `kw` go to op.create_index (e.g. postgresql_using)."""
    if not _postgres():
        op.create_index(name, table, list(columns), if_not_exists=True, **kw)
        return
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        valid = bind.execute(
            sa.text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = :name AND n.nspname = current_schema()"
            ),
            {"name": name},
        ).scalar()
        if valid is False:  # left INVALID by a build that did not finish
            op.execute(sa.text(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'))
        op.create_index(
            name, table, list(columns), postgresql_concurrently=True, if_not_exists=True, **kw
        )


def drop_index(name: str, table: str) -> None:
    """Drop index `name`, without blocking writes on PostgreSQL."""
    if not _postgres():
        op.drop_index(name, table_name=table, if_exists=True)
        return
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
