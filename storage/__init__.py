"""SQLAlchemy 2 (async): models, repositories, migrations."""
