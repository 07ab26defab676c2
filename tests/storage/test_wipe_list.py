"""Every table is emptied between tests on PostgreSQL (tests/conftest.py TABLES), so one test's
rows never reach the next: a table added without joining the list fails here."""

from storage.models import Base
from tests.conftest import NOT_WIPED, TABLES


def test_every_table_is_wiped_between_tests_or_kept_on_purpose() -> None:
    assert set(Base.metadata.tables) - NOT_WIPED == set(TABLES)
