"""The bench's own SQLite databases: generated once, reused while schema and generator are unchanged.

`instance/bench-<scale>.sqlite3` is the generated data and is never written to by the bench;
`instance/bench-<scale>.sqlite3.json` is its marker (generator fingerprint, scale, revision,
generation time), written only after a generation succeeded. Requests run against a throwaway
copy, so that the writes the bench makes (sign-ins, audit rows) do not pile up from run to run.
"""
import hashlib
import json
import multiprocessing
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import flask_migrate
from flask import Flask
from sqlalchemy import func, select

from app import create_app, demo
from app.cli import OSIEDLA_CSV, load_neighbourhoods
from app.config import INSTANCE_PATH, PROJECT_ROOT
from app.database import migration_head
from models import db

SEED = 2026
PASSWORD_METHOD = "pbkdf2:sha256:1000"  # the demo password hash is checked on every sign-in case
BENCH_CONFIG = {
    "SECRET_KEY": "bench-only-not-a-secret",
    # The bench measures server time, not CSRF protection.
    "WTF_CSRF_ENABLED": False,
}


@dataclass
class Dataset:
    """One generated database and how long its generation took (in this run or an earlier one)."""

    scale: str
    path: Path
    seconds: float
    generated_at: str
    reused: bool


def bench_app(path: Path) -> Flask:
    """The application, configured for the bench, on the SQLite file at `path`."""
    return create_app({**BENCH_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def db_path(scale: str) -> Path:
    return INSTANCE_PATH / f"bench-{scale}.sqlite3"


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def generator_fingerprint() -> str:
    """Changes whenever the demo generator, the osiedla it starts from, the seed or the hash method do."""
    digest = hashlib.sha256(f"{SEED}|{PASSWORD_METHOD}".encode())
    for source in sorted((PROJECT_ROOT / "app" / "demo").rglob("*.py")) + [OSIEDLA_CSV]:
        digest.update(source.relative_to(PROJECT_ROOT).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def ensure(scale: str) -> Dataset:
    """The database for `scale`: reused if it is current, otherwise deleted and generated again."""
    path = db_path(scale)
    marker = _read_marker(path)
    expected = {"scale": scale, "generator": generator_fingerprint(), "revision": migration_head()}
    if marker and all(marker.get(k) == v for k, v in expected.items()) and _revision(path) == expected["revision"]:
        return Dataset(scale, path, marker["seconds"], marker["generated_at"], reused=True)
    remove(path)
    marker_path(path).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"Generating the {scale} dataset into {path.relative_to(PROJECT_ROOT)} ...", flush=True)
    started = time.perf_counter()
    # In a child process, so that the generator's memory does not count in the bench's max RSS.
    child = multiprocessing.get_context("fork").Process(target=_generate, args=(scale, path))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"generating the {scale} dataset failed (exit code {child.exitcode})")
    seconds = time.perf_counter() - started
    generated_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    marker_path(path).write_text(json.dumps({**expected, "seconds": seconds, "generated_at": generated_at}, indent=2))
    return Dataset(scale, path, seconds, generated_at, reused=False)


def _generate(scale: str, path: Path) -> None:
    app = bench_app(path)
    with app.app_context():
        flask_migrate.upgrade()
        load_neighbourhoods()
        demo.generate(scale=scale, seed=SEED, password_method=PASSWORD_METHOD)
        db.session.remove()
        db.engine.dispose()


def _read_marker(path: Path) -> dict | None:
    try:
        return json.loads(marker_path(path).read_text()) if path.exists() else None
    except (OSError, ValueError):
        return None


def _revision(path: Path) -> str | None:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except (sqlite3.Error, TypeError):
        return None
    finally:
        conn.close()


def working_copy(path: Path) -> Path:
    """A fresh copy of the database at `path` for the requests to write to."""
    copy = path.with_name(path.stem + ".run.sqlite3")
    remove(copy)
    source, target = sqlite3.connect(path), sqlite3.connect(copy)
    try:
        source.backup(target)  # consistent even if the source is in WAL mode
    finally:
        target.close()
        source.close()
    return copy


def remove(path: Path) -> None:
    """Delete an SQLite database with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def row_counts() -> dict:
    """Centres, users and the row count of every table, in the current application context."""
    tables = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
    return {"centres": tables.get("centre"), "users": tables.get("user"), "tables": tables}
