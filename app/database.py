"""Engine settings that depend on the database: SQLite pragmas, migration status."""
import sqlite3

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, has_request_context, request
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

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # A request that may write takes SQLite's write lock when its transaction begins (BEGIN
        # IMMEDIATE), waiting up to busy_timeout for another writer: what it reads, checks and
        # writes is then one serialised step (a version check, a "mark done" that is already done).
        # A deferred transaction that read first and wrote later could instead fail at once with
        # "database is locked" (SQLITE_BUSY_SNAPSHOT) when another process wrote in between.
        # Reads (GET) keep the driver's default: each SELECT on its own, never blocked by a writer.
        # Sent on the driver's connection, so statement counts (budgets, tests) see no extra query.
        if not (has_request_context() and request.method not in _READ_METHODS):
            return
        dbapi_conn = conn.connection.dbapi_connection
        if isinstance(dbapi_conn, sqlite3.Connection) and not dbapi_conn.in_transaction:
            dbapi_conn.execute("BEGIN IMMEDIATE")


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
