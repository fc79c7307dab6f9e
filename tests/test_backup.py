"""Backups: taken while the application writes, restored to a consistent database; and the
nightly removal of contact data whose consent was withdrawn."""
import sqlite3
import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from models import Consent, Interaction, Resident, db
from tests.conftest import PASSWORD, TEST_DB


def test_backup_while_writing_then_restore(app, make_app, runner, auth, tmp_path):
    if TEST_DB != "sqlite":
        r = runner.invoke(args=["restore", str(__file__), "--yes"])
        assert r.exit_code != 0 and "pg_restore" in r.output
        return
    writer_app = make_app()
    with app.app_context():
        rid = db.session.scalar(select(Resident.id).where(Resident.centre_id == app.world.centres["wilda"]))
        before = db.session.scalar(select(func.count()).select_from(Interaction).where(Interaction.resident_id == rid))
    acked = []
    stop = threading.Event()

    def write():
        client = writer_app.test_client()
        client.post("/login", data={"email": auth.email("animator@wilda"), "password": PASSWORD})
        while not stop.is_set() and len(acked) < 400:
            r = client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "street",
                                                                        "note": f"zapis {len(acked)}"})
            assert r.status_code == 303
            acked.append(time.perf_counter())

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.8)
    started = time.perf_counter()
    acked_before = sum(1 for t in acked if t < started)
    backup = tmp_path / "kopia.sqlite3"
    result = runner.invoke(args=["backup", str(backup)])
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(30)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        in_backup = conn.execute("SELECT count(*) FROM interaction WHERE resident_id = ?", (rid,)).fetchone()[0]
    assert in_backup >= before + acked_before  # every write acknowledged before the backup began is in it
    assert acked_before > 0 and len(acked) > acked_before  # writes went on around the backup

    r = runner.invoke(args=["restore", str(backup), "--yes"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        db.engine.dispose()
        assert db.session.scalar(select(func.count()).select_from(Interaction)
                                 .where(Interaction.resident_id == rid)) == in_backup
    assert app.test_client().get("/healthz").status_code == 200


def test_restore_refuses_a_damaged_file(runner, tmp_path):
    if TEST_DB != "sqlite":
        return
    bad = tmp_path / "zly.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    r = runner.invoke(args=["restore", str(bad), "--yes"])
    assert r.exit_code != 0


def test_withdrawn_consent_hides_at_once_and_removes_after_grace(app, client, auth, runner):
    from tests.test_residents import add_person

    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Wycofana", phone="606777888", consent_phone="y")
    with app.app_context():
        cid = db.session.scalar(select(Consent.id).where(Consent.resident_id == rid))
    client.post(f"/residents/{rid}/consents/{cid}/withdraw")
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "606" not in page and "zgoda wycofana" in page
    runner.invoke(args=["enforce-retention"])
    with app.app_context():
        assert db.session.get(Resident, rid).phone == "+48606777888"  # still within the grace period
        consent = db.session.get(Consent, cid)
        consent.withdrawn_on = consent.withdrawn_on - timedelta(days=31)
        db.session.commit()
    r = runner.invoke(args=["enforce-retention"])
    assert "1 phones" in r.output
    with app.app_context():
        resident = db.session.get(Resident, rid)
        assert resident.phone is None and "606777888" not in resident.search_text
        url = db.engine.url
    if url.get_backend_name() == "sqlite":  # the removed number is not left in the write-ahead log either
        from pathlib import Path

        wal = Path(url.database + "-wal")
        assert not wal.exists() or b"606777888" not in wal.read_bytes()
