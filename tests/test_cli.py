"""The command line: osiedla, demo data, demo logins, accounts, backups."""
import re
import sqlite3

from sqlalchemy import func, select

from models import Neighbourhood, User, db
from tests.conftest import TEST_DB


def test_seed_neighbourhoods_is_idempotent(app, runner):
    r = runner.invoke(args=["seed-neighbourhoods"])
    assert "42 in the database, 0 added" in r.output
    with app.app_context():
        names = set(db.session.scalars(select(Neighbourhood.name)))
    assert {"Wilda", "Jeżyce", "Św. Łazarz", "Ostrów Tumski-Śródka-Zawady-Komandoria"} <= names


def test_demo_data_runs_once(app, runner):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    r = runner.invoke(args=["demo-data"])
    assert "nothing generated" in r.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_demo_logins_one_per_line_for_every_role(runner):
    r = runner.invoke(args=["demo-logins"])
    lines = [line for line in r.output.splitlines() if line.startswith("DEMO LOGIN ")]
    pattern = re.compile(r"^DEMO LOGIN role=(\w+) centre=([a-z0-9-]+) email=(\S+@\S+) password=(\S{12,})$")
    assert all(pattern.match(line) for line in lines), lines
    roles = {pattern.match(line).group(1) for line in lines}
    assert roles == {"animator", "coordinator", "reviewer", "city", "admin"}
    centres = {pattern.match(line).group(2) for line in lines}
    assert {"cil-regranting", "cil-wilda", "cil-rataje", "-"} <= centres


def test_create_user_reads_password_from_stdin(app, runner):
    r = runner.invoke(args=["create-user", "nowa@example.org", "--role", "animator", "--centre", "cil-wilda",
                            "--neighbourhood", "wilda"], input="haslo-z-wejscia-123\n")
    assert r.exit_code == 0, r.output
    with app.app_context():
        u = User.by_email("nowa@example.org")
        assert u.check_password("haslo-z-wejscia-123")
        assert [n.slug for n in u.neighbourhoods] == ["wilda"]


def test_create_user_refuses_bad_input(runner):
    assert runner.invoke(args=["create-user", "a@example.org", "--role", "animator"], input="x" * 20 + "\n").exit_code != 0
    assert runner.invoke(args=["create-user", "a@example.org", "--role", "city"], input="krotkie\n").exit_code != 0
    r = runner.invoke(args=["create-user", "a@example.org", "--role", "animator", "--centre", "nie-ma"],
                      input="x" * 20 + "\n")
    assert r.exit_code != 0 and "nie-ma" in r.output


def test_backup(app, runner, tmp_path):
    target = tmp_path / "kopia.sqlite3"
    r = runner.invoke(args=["backup", str(target)])
    if TEST_DB == "sqlite":
        assert r.exit_code == 0, r.output
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM neighbourhood").fetchone()[0] == 42
            assert conn.execute("SELECT count(*) FROM user").fetchone()[0] == 9
    else:
        assert r.exit_code != 0 and "pg_dump" in r.output
