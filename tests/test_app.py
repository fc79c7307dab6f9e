"""The factory, configuration, health check, headers and error pages."""
import pytest

from app import create_app
from tests.conftest import BASE_CONFIG


def test_secret_key_is_required(monkeypatch, tmp_path):
    from flask import Flask

    from app.config import load_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    bare = Flask("animo-test", instance_path=str(tmp_path), instance_relative_config=True)  # no instance/config.py
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config(bare, {"TESTING": True})
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-instance'\n")
    load_config(bare, {"TESTING": True})
    assert bare.config["SECRET_KEY"] == "from-instance"
    monkeypatch.setenv("SECRET_KEY", "from-environment")
    load_config(bare, {"TESTING": True})
    assert bare.config["SECRET_KEY"] == "from-environment"


def test_database_url_from_environment(monkeypatch):
    from app.config import database_url_from_env

    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/animo")
    assert database_url_from_env() == "postgresql+psycopg://u:p@db:5432/animo"
    monkeypatch.setenv("DATABASE_URL", "sqlite:////srv/animo.sqlite3")
    assert database_url_from_env() == "sqlite:////srv/animo.sqlite3"


def test_healthz_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json["database"] == "ok"
    assert r.json["migrations"] == "current"
    assert r.json["revision"] == r.json["head"]


def test_healthz_reports_pending_migrations(tmp_path):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/empty.sqlite3"})
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.json["migrations"] == "pending"


def test_healthz_reports_unreachable_database():
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.json["database"] == "unavailable"


def test_security_headers_on_every_kind_of_response(client, auth):
    auth.login("animator@wilda")
    for path in ("/", "/login", "/healthz", "/no-such-page", "/static/css/animo.css"):
        r = client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in r.headers  # only in production
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_production_adds_hsts_and_secure_cookie(make_app):
    app = make_app(PRODUCTION=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    r = app.test_client().get("/login")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script(client, auth):
    auth.login("coordinator@wilda")
    html = client.get("/").get_data(as_text=True)
    assert "<script>" not in html and "<script " not in html.replace('<script src=', '')
    assert ' style="' not in html


@pytest.mark.parametrize("path,code,text", [
    ("/no-such-page", 404, "Nie znaleziono"),
])
def test_polish_error_pages(client, path, code, text):
    r = client.get(path)
    assert r.status_code == code
    assert text in r.get_data(as_text=True)


def test_method_not_allowed_is_polish(client):
    r = client.get("/logout")
    assert r.status_code == 405
    assert "Niedozwolona operacja" in r.get_data(as_text=True)


def test_bad_url_parameter_says_which_in_polish(client, auth):
    auth.login("admin")
    r = client.get("/admin/audit?page=abc")
    assert r.status_code == 400
    assert "„page”" in r.get_data(as_text=True)


def test_unexpected_error_shows_incident_not_trace(make_app, app):
    boom = make_app(PROPAGATE_EXCEPTIONS=False, TESTING=False)

    @boom.route("/boom")
    def _boom():
        raise ValueError("secret internals")

    r = boom.test_client().get("/boom")
    body = r.get_data(as_text=True)
    assert r.status_code == 500
    assert "Numer zdarzenia" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_htmx_vendored_with_version_in_name(app):
    from pathlib import Path

    static = Path(app.static_folder) / "js"
    assert list(static.glob("htmx-2.*.min.js"))
