"""Engine settings that depend on the database: SQLite pragmas, migration status, and emptying
SQLite's write-ahead log after an erasure."""
import logging
import sqlite3
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

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
        # Deleted and overwritten content is zeroed on disk: an erased resident leaves no bytes behind
        # in the main file's free pages and cells (FTS segments merged away included). Measured cost:
        # within noise of a write (zeroing a page in memory next to an fsync'd WAL append).
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

log = logging.getLogger(__name__)


def truncate_wal_after_commit(session) -> None:
    """Ask for the write-ahead log to be emptied once `session` commits (an erasure calls this).

    WAL mode appends every changed page to `-wal`; a checkpoint copies the newest versions into the
    main file but keeps the log's frames, and later writes overwrite it only as far as they reach:
    the erased values would stay there in the old page images. TRUNCATE leaves `-wal` at 0 bytes."""
    session.info["truncate_wal"] = True


@event.listens_for(Session, "after_commit")
def _truncate_wal(session):
    if not session.info.pop("truncate_wal", False):
        return
    engine = session.get_bind()
    if engine.dialect.name == "sqlite":
        truncate_wal(engine)


@event.listens_for(Session, "after_rollback")
def _forget_truncate(session):
    session.info.pop("truncate_wal", None)


def truncate_wal(engine, attempts: int = 5) -> bool:
    """PRAGMA wal_checkpoint(TRUNCATE) on a connection of its own; True when `-wal` is empty.

    It waits (busy_timeout) for a writer, and for readers still on an older snapshot; one that
    keeps it busy is tried again a few times, then logged (the erasure itself is committed; the
    next erasure truncates the log). Runs on the raw driver connection, outside any transaction
    (a checkpoint cannot run inside one) and outside the request's BEGIN IMMEDIATE."""
    raw = engine.raw_connection()
    try:
        dbapi_conn = raw.driver_connection
        for attempt in range(attempts):
            try:
                busy, _frames, _done = dbapi_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.OperationalError:  # locked past busy_timeout
                busy = 1
            if not busy:
                return True
            time.sleep(0.05 * (attempt + 1))
        log.warning("SQLite WAL not truncated after an erasure: other connections kept it busy")
        return False
    finally:
        raw.close()


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
