"""submissions.returned_fields: JSON 'null' becomes SQL NULL

A submission never returned for correction had `returned_fields` written as the JSON value
`null` (SQLAlchemy's JSON type stores Python None so unless told `none_as_null`), which is not
SQL NULL: the review queue's `returned_fields IS NOT NULL` then marked every new submission ✏️
"corrected after a return". The model now stores None as SQL NULL; this turns the rows written
before into SQL NULL too. The JSON value is found the way each backend reads JSON: SQLite keeps
it as the text `null`, PostgreSQL's `json` type answers `json_typeof(...) = 'null'` (a `json`
column has no `=`).

No schema change. The downgrade leaves the data as it is: SQL NULL is what the older code
means by "never returned" too (it only wrote JSON null by accident), so writing JSON null back
would only bring the wrong ✏️ back.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_NULL = {
    "sqlite": "trim(returned_fields) = 'null'",
    "postgresql": "json_typeof(returned_fields) = 'null'",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(
        f"UPDATE submissions SET returned_fields = NULL WHERE {JSON_NULL[dialect]}"  # noqa: S608
    )


def downgrade() -> None:
    pass  # nothing to undo (see above): SQL NULL reads as "never returned" to every version
