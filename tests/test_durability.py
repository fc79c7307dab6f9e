"""Concurrency and durability through a real server: gunicorn (two worker processes, as `make run`)
serving the test database, with clients in other OS processes signing in and writing as a person
would (session cookie, CSRF token from the page).

- Several processes write at once: every answer is a success, no "database is locked" reaches
  anyone, the counts are exact; on SQLite `PRAGMA integrity_check` is ok and `foreign_key_check`
  is empty. Runs on both databases.
- SQLite only (the PostgreSQL run collects none of these; PostgreSQL's durability is its own):
  the server killed with SIGKILL at random moments while writing, ten times: the file opens
  intact and every write that was acknowledged is in it; `flask backup` taken while writing
  restores to a consistent database.
"""
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from models import AuditEvent, Interaction, Neighbourhood, Resident, User, db
from tests.conftest import PASSWORD, TEST_DB
from tests.http_client import HttpSession, wait_until_up, write_once

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv's bin: gunicorn and flask live beside python
WRITERS, WRITES_EACH = 4, 30
KILL_ROUNDS = 10


# --- helpers ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANIMO_")}
    env.update(DATABASE_URL=database_url, SECRET_KEY="durability-test-secret", PYTHONDONTWRITEBYTECODE="1")
    return env


@contextmanager
def gunicorn(database_url: str, log: Path, workers: int = 2, preload: bool = False):
    """The app as `make run` serves it, in its own process group (so one signal reaches every worker).
    `preload`: the app is built once in the master and the workers fork from it (a faster start)."""
    port = _free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
             "--graceful-timeout", "2", *(["--preload"] if preload else []), "app:create_app()"],
            cwd=ROOT, env=_server_env(database_url), stdout=out, stderr=out, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        deadline = time.monotonic() + 10
        while len(_group_alive(proc.pid)) < workers + 1:  # every worker is up, not only the first
            assert time.monotonic() < deadline, "gunicorn did not start its workers"
            time.sleep(0.02)
        proc.base = base
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _group_alive(pgid: int) -> list[int]:
    """Processes of the group that still run (a zombie waiting for init to reap it has let go of everything)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            alive.append(int(entry))
    return alive


def _kill_all(proc) -> None:
    """SIGKILL to the master and its workers at once: nobody gets to finish or clean up."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid):
        assert time.monotonic() < deadline, "gunicorn's workers outlived SIGKILL"
        time.sleep(0.01)


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def _copy_sqlite(source_url: str, target: Path) -> str:
    """A private copy of the seeded test database (SQLite's online backup), served by one test alone."""
    src = sqlite3.connect(_sqlite_path(source_url))
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{target}"


def _check_sqlite_file(path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    return conn


def _server_problems(log: Path) -> list[str]:
    text = log.read_text(errors="replace")
    return [line for line in text.splitlines() if "Traceback" in line or "locked" in line.lower()]


def _scope(app) -> tuple[str, int]:
    with app.app_context():
        email = db.session.get(User, app.world.users["animator@wilda"]).email
        hood = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == "wilda"))
    return email, hood


class Writer(threading.Thread):
    """A signed-in animator writing until the server stops answering; keeps what was acknowledged."""

    def __init__(self, base: str, email: str, hood: int, marker: str, limit: int = 10_000):
        super().__init__(daemon=True)
        self.session = HttpSession(base, timeout=10)
        self.session.login(email, PASSWORD)
        self.hood, self.marker, self.limit = hood, marker, limit
        self.acked: list[dict] = []
        self.unexpected: list[dict] = []
        self.stop = threading.Event()
        self.first_ack = threading.Event()

    def run(self):
        last = None
        for n in range(self.limit):
            if self.stop.is_set():
                break
            try:
                result = write_once(self.session, self.hood, self.marker, n, last)
            except (OSError, http.client.HTTPException):
                break  # the server is gone: the answer to this write never came
            if result["status"] != 303 or result["locked"]:
                self.unexpected.append(result)
                continue
            result["at"] = time.monotonic()
            self.acked.append(result)
            self.first_ack.set()
            if result["kind"] == "resident":
                last = result["id"]
        self.session.close()


# --- several processes at once (both databases) ------------------------------------------------

def test_several_processes_write_at_once_and_every_write_counts(app, migrated, tmp_path):
    email, hood = _scope(app)
    with app.app_context():
        audits_before = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(("resident_created", "interaction_logged"))))
        db.session.remove()
    log = tmp_path / "gunicorn.log"
    markers = [f"Wspolbiezny{i}x{random.randrange(10**6)}" for i in range(WRITERS)]
    with gunicorn(migrated, log) as server:
        clients = [subprocess.Popen([sys.executable, str(ROOT / "tests" / "http_client.py"), server.base, email,
                                     PASSWORD, str(hood), marker, str(WRITES_EACH)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for marker in markers]
        outputs = [c.communicate(timeout=120) for c in clients]
    for client, (out, err) in zip(clients, outputs):
        assert client.returncode == 0, err
        results = [json.loads(line) for line in out.splitlines()]
        assert len(results) == WRITES_EACH
        assert [r for r in results if r["status"] != 303 or r["locked"]] == []
    assert _server_problems(log) == []
    residents_each, contacts_each = (WRITES_EACH + 1) // 2, WRITES_EACH // 2
    with app.app_context():
        for marker in markers:
            assert db.session.scalar(select(func.count()).select_from(Resident)
                                     .where(Resident.first_name == marker)) == residents_each
            assert db.session.scalar(select(func.count()).select_from(Interaction)
                                     .where(Interaction.note.like(f"{marker} kontakt %"))) == contacts_each
        audits_after = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(("resident_created", "interaction_logged"))))
        assert audits_after - audits_before == WRITERS * WRITES_EACH
        db.session.remove()
    if TEST_DB == "sqlite":
        _check_sqlite_file(_sqlite_path(migrated)).close()


# --- SQLite only: SIGKILL and backups ------------------------------------------------------------

def _sigkill_rounds(app, migrated, tmp_path):
    email, hood = _scope(app)
    url = _copy_sqlite(migrated, tmp_path / "killed.sqlite3")
    path = _sqlite_path(url)
    log = tmp_path / "gunicorn.log"
    rng = random.Random()
    acked: list[dict] = []
    for round_no in range(KILL_ROUNDS):
        with gunicorn(url, log, preload=True) as server:  # ten starts: build the app once each
            writers = [Writer(server.base, email, hood, f"Zabity{round_no}w{i}") for i in range(2)]
            for w in writers:
                w.start()
            assert all(w.first_ack.wait(10) for w in writers)
            time.sleep(rng.uniform(0.05, 0.6))
            _kill_all(server)
            for w in writers:
                w.join(15)
                assert not w.is_alive()
                assert w.unexpected == []
                assert w.acked
                acked += w.acked
        conn = _check_sqlite_file(path)
        try:
            residents = {rid: (first, last) for rid, first, last in conn.execute(
                "SELECT id, first_name, last_name FROM resident WHERE first_name LIKE 'Zabity%'")}
            notes = {(rid, note) for rid, note in conn.execute(
                "SELECT resident_id, note FROM interaction WHERE note LIKE 'Zabity%'")}
        finally:
            conn.close()
        for write in acked:  # this round's and every earlier round's
            if write["kind"] == "resident":
                assert write["id"] in residents, write
            else:
                assert (write["id"], write["note"]) in notes, write
    return acked, log


def test_server_killed_at_random_moments_keeps_every_acknowledged_write(app, migrated, tmp_path):
    started = time.monotonic()
    acked, log = _sigkill_rounds(app, migrated, tmp_path)
    assert len({w["kind"] for w in acked}) == 2 and len(acked) >= 2 * KILL_ROUNDS
    assert [line for line in _server_problems(log) if "locked" in line.lower()] == []
    assert time.monotonic() - started < 90


def test_backup_taken_while_writing_restores_to_a_consistent_database(app, migrated, tmp_path):
    email, hood = _scope(app)
    url = _copy_sqlite(migrated, tmp_path / "live.sqlite3")
    log = tmp_path / "gunicorn.log"
    backup, restored = tmp_path / "kopia.sqlite3", tmp_path / "odtworzona.sqlite3"
    count = "SELECT count(*) FROM resident WHERE first_name LIKE 'Kopia%'"
    with sqlite3.connect(_sqlite_path(url)) as conn:
        audit_base = conn.execute("SELECT coalesce(max(id), 0) FROM audit_event").fetchone()[0]
    with gunicorn(url, log) as server:
        writers = [Writer(server.base, email, hood, f"Kopia{i}") for i in range(2)]
        for w in writers:
            w.start()
        assert all(w.first_ack.wait(10) for w in writers)
        time.sleep(0.5)
        with sqlite3.connect(_sqlite_path(url)) as conn:
            before = conn.execute(count).fetchone()[0]
        backup_started = time.monotonic()
        result = subprocess.run([str(BIN / "flask"), "--app", "app", "backup", str(backup)], cwd=ROOT,
                                env=_server_env(url), capture_output=True, text=True, timeout=60)
        time.sleep(0.3)
        for w in writers:
            w.stop.set()
            w.join(15)
    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout
    for w in writers:
        assert w.unexpected == []
    acked = [a for w in writers for a in w.acked]
    acked_before = [a for a in acked if a["at"] < backup_started]
    assert len(acked) > len(acked_before) > 0  # writes went on before, during and after the backup
    with sqlite3.connect(_sqlite_path(url)) as conn:
        after = conn.execute(count).fetchone()[0]

    # `flask restore` into a new file (the command's own code, in this process: no second start-up).
    from app import create_app

    restored_app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{restored}"})
    result = restored_app.test_cli_runner().invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    conn = _check_sqlite_file(restored)
    try:
        in_backup = conn.execute(count).fetchone()[0]
        assert before <= in_backup <= after
        residents = {r[0] for r in conn.execute("SELECT id FROM resident WHERE first_name LIKE 'Kopia%'")}
        contacts = dict(conn.execute("SELECT id, resident_id FROM interaction WHERE note LIKE 'Kopia%'").fetchall())
        notes = set(conn.execute("SELECT resident_id, note FROM interaction WHERE note LIKE 'Kopia%'").fetchall())
        for write in acked_before:  # acknowledged before the backup began: in it
            assert write["id"] in residents if write["kind"] == "resident" else (write["id"], write["note"]) in notes
        # Each write is whole in the backup or absent: a resident with its audit row and rung, a
        # contact with its audit row and the resident's last-contact date; and no audit row of a
        # write whose rows are missing.
        new_audits = conn.execute("SELECT action, object_id, detail FROM audit_event WHERE id > ?",
                                  (audit_base,)).fetchall()
        created = {oid for action, oid, _d in new_audits if action == "resident_created"}
        logged = {json.loads(d)["interaction_id"] for action, _o, d in new_audits if action == "interaction_logged"}
        assert created == residents and logged == set(contacts)
        assert conn.execute("SELECT count(*) FROM resident WHERE first_name LIKE 'Kopia%' AND rung IS NULL"
                            ).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM resident WHERE id IN (SELECT resident_id FROM interaction "
                            "WHERE note LIKE 'Kopia%') AND last_contact_at IS NULL").fetchone()[0] == 0
        assert residents and contacts
    finally:
        conn.close()
    # The restored file is a working database for the application.
    assert restored_app.test_client().get("/healthz").status_code == 200
    with restored_app.app_context():
        db.engine.dispose()


if TEST_DB != "sqlite":  # SIGKILL and backups are SQLite's file-level story: PostgreSQL collects neither
    del test_server_killed_at_random_moments_keeps_every_acknowledged_write
    del test_backup_taken_while_writing_restores_to_a_consistent_database
