"""CSRF on every write: a POST without the token is refused, with the token (form or htmx header) accepted."""
import pytest

from tests.conftest import PASSWORD, csrf_token_from
from tests.test_routes_matrix import POST_MATRIX, build, ids_for, own_ids


@pytest.fixture
def csrf_app(make_app, app):
    protected = make_app(WTF_CSRF_ENABLED=True)
    protected.world = app.world
    return protected


def _login(client, email):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303


def test_every_write_without_token_is_400(csrf_app, auth):
    client = csrf_app.test_client()
    _login(client, auth.email("admin"))
    ids = ids_for(csrf_app, own_ids)
    for rule in POST_MATRIX:
        path = build(rule, ids)
        r = client.post(path, data={})
        assert r.status_code == 400, path
        assert "Formularz wygasł" in r.get_data(as_text=True)


def test_token_in_form_or_htmx_header_is_accepted(csrf_app, auth):
    client = csrf_app.test_client()
    _login(client, auth.email("animator@wilda"))
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    r = client.post("/language", data={"lang": "en", "csrf_token": token})
    assert r.status_code == 303
    r = client.post("/language", data={"lang": "pl"}, headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert r.status_code == 303


def test_token_has_no_time_limit(csrf_app):
    assert csrf_app.config["WTF_CSRF_TIME_LIMIT"] is None
