"""Engine settings that depend on the database: SQLite pragmas, migration status."""
import sqlite3

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import event

from app.config import PROJECT_ROOT
from models import db


def configure_engine(app: Flask) -> None:
    """SQLite: WAL for concurrent readers, foreign keys on, wait for a lock rather than fail."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        if not isinstance(dbapi_conn, sqlite3.Connection):
            return
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed on disk: an erased resident leaves no bytes behind.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()


_HEAD: list[str] = []


def migration_head() -> str:
    """The newest revision in migrations/, read once per process."""
    if not _HEAD:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
        _HEAD.append(ScriptDirectory.from_config(cfg).get_current_head())
    return _HEAD[0]


def migration_current() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
