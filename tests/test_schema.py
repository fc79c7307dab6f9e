"""The migrated schema is exactly what the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models import db


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and name and "_fts" in name:
        return False
    return not (type_ == "index" and name == "ix_resident_search_tsv")  # expression index, made by 0002


def test_migrations_match_models(app_ctx):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == []


def test_sqlite_pragmas(app_ctx):
    if db.engine.dialect.name != "sqlite":
        assert db.engine.dialect.name == "postgresql"
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
