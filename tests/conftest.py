"""Fixtures: a migrated database (SQLite or PostgreSQL, by ANIMO_TEST_DB), the app, clients,
a signed-in helper, a live HTTP server and a real Chromium.

flaskr's shape: `app`, `client`, `runner`, `auth`.
"""
import os
import re
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app
from app import demo
from app.cli import load_neighbourhoods
from models import Centre, User, db

TEST_DB = os.environ.get("ANIMO_TEST_DB", "sqlite")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
FAST_HASH = "pbkdf2:sha256:1000"  # the demo password hashed cheaply: tests sign in hundreds of times
PASSWORD = demo.DEMO_PASSWORD

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "PASSWORD_HASH_METHOD": FAST_HASH,
    "WTF_CSRF_ENABLED": False,
}


def pytest_report_header(config):
    return f"Animo test database: {TEST_DB}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DB == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'animo-test.sqlite3'}"
    elif TEST_DB == "postgresql":
        from tests.pg import postgres_server

        with postgres_server() as url:
            yield url
    else:
        raise RuntimeError(f"ANIMO_TEST_DB must be sqlite or postgresql, not {TEST_DB!r}")


@pytest.fixture(scope="session")
def migrated(database_url):
    """The schema, made the only way it is ever made: by the Alembic migrations."""
    import flask_migrate

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        flask_migrate.upgrade()
        load_neighbourhoods()
        db.engine.dispose()
    return database_url


KEEP_TABLES = {"neighbourhood", "alembic_version", "processing_activity"}  # reference data made by migrations


def reset_data() -> None:
    """Empty every table but the reference data, between tests."""
    # DELETE, not TRUNCATE ... CASCADE: PostgreSQL's cascade would also empty the kept reference
    # tables that point at users (processing_activity.updated_by_id).
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    for t in tables:
        db.session.execute(t.delete())
    db.session.commit()


@dataclass
class World:
    """The demo centres and accounts, by short names: users['coordinator@wilda'] etc."""
    users: dict
    centres: dict

    def user(self, key: str) -> User:
        return db.session.get(User, self.users[key])


def _key(login) -> str:
    return f"{login.role}@{login.centre.removeprefix('cil-')}" if login.centre != "-" else login.role


@pytest.fixture
def make_app(migrated):
    """Build an app on the test database with extra config (e.g. CSRF on)."""
    apps = []

    def factory(**config):
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": migrated, **config})
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        reset_data()
        logins = demo.generate(scale="small", seed=2026, password_method=FAST_HASH)
        ids = {u.email: u.id for u in db.session.scalars(select(User))}
        app.world = World(
            users={_key(login): ids[login.email] for login in logins},
            centres={c.slug.removeprefix("cil-"): c.id for c in db.session.scalars(select(Centre))},
        )
        db.session.remove()
    return app


@pytest.fixture
def world(app):
    return app.world


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, app, client):
        self._app = app
        self._client = client

    def email(self, key: str) -> str:
        with self._app.app_context():
            return db.session.get(User, self._app.world.users[key]).email

    def login(self, key: str = "coordinator@wilda", password: str = PASSWORD):
        return self._client.post("/login", data={"email": self.email(key), "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


def csrf_token_from(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF meta tag in the page"
    return match.group(1)


# --- a real server and a real browser --------------------------------------------------------

@pytest.fixture
def live_server(make_app, app):
    """The app behind real HTTP on a free loopback port, CSRF on as in production."""
    served = make_app(WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.world = app.world
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A 360 px wide phone viewport with touch."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
                                  locale="pl-PL", timezone_id="Europe/Warsaw")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="pl-PL", timezone_id="Europe/Warsaw")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """A skipped test is a test that did not run: in this project that is a failure."""
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} test(s) skipped: skipping is not allowed here.", red=True)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter and reporter.stats.get("skipped") and session.exitstatus == 0:
        session.exitstatus = 1
