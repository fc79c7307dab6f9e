"""HTTP error answers keep what HTTP requires of them (issue 14, finding 12: 405 answers lacked `Allow`)."""
from itertools import product

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SAMPLES = ("1", "x", "csv", "a.css")


def _path_of(app, rule) -> str:
    """A path that routes to `rule` (each argument tried with a few sample values)."""
    adapter = app.url_map.bind("localhost")
    allowed = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    for values in product(SAMPLES, repeat=len(rule.arguments)):
        args = dict(zip(sorted(rule.arguments), values))
        try:
            path = rule.build(args, append_unknown=False)[1]
            matched, _ = adapter.match(path, method=allowed, return_rule=True)
        except (NotFound, MethodNotAllowed, RequestRedirect, ValueError, TypeError):
            continue
        if matched is rule:
            return path
    raise AssertionError(f"no sample path for {rule.rule}")


def test_every_405_names_the_allowed_methods_in_polish(app):
    """Walk app.url_map: for each rule, every method its path does not allow answers 405 with an
    `Allow` header listing the allowed ones, and a Polish page."""
    client = app.test_client()
    adapter = app.url_map.bind("localhost")
    checked = 0
    for rule in app.url_map.iter_rules():
        path = _path_of(app, rule)
        allowed = set(adapter.allowed_methods(path))
        assert rule.methods <= allowed
        for method in METHODS:
            if method in allowed:
                continue
            r = client.open(path, method=method)
            assert r.status_code == 405, (method, path, r.status_code)
            assert "Allow" in r.headers, (method, path)
            assert {m.strip() for m in r.headers["Allow"].split(",")} == allowed, (method, path)
            body = r.get_data(as_text=True)
            assert "Niedozwolona operacja" in body and "Method Not Allowed" not in body, (method, path)
            checked += 1
    assert checked > 200


def test_405_to_htmx_keeps_allow_too(client):
    r = client.delete("/login", headers={"HX-Request": "true"})
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert "Niedozwolona operacja" in r.get_data(as_text=True)
    assert r.headers["Content-Type"].startswith("text/html")
