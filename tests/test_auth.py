"""Signing in: hashed passwords, server-side sessions, throttling, cookies, audit."""
import time

from sqlalchemy import select

from models import AuditEvent, LoginAttempt, User, UserSession, db
from tests.conftest import PASSWORD


def _session_cookie(client):
    cookie = client.get_cookie("animo_session")
    return cookie.value if cookie else None


def test_login_and_start_page(client, auth):
    r = auth.login("coordinator@wilda")
    assert r.status_code == 303 and r.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "CIL Wilda" in page and "Wyloguj" in page


def test_login_failure_is_polish_and_audited(app, client, auth):
    r = client.post("/login", data={"email": auth.email("animator@wilda"), "password": "wrong password!"})
    assert r.status_code == 422
    assert "Nieprawidłowy e-mail lub hasło" in r.get_data(as_text=True)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
        assert len(events) == 1
        assert "wrong" not in (events[0].detail or "")


def test_next_parameter_cannot_redirect_off_site(client, auth):
    r = client.post("/login?next=//evil.example/x",
                    data={"email": auth.email("animator@wilda"), "password": PASSWORD})
    assert r.headers["Location"] == "/"
    r = client.post("/logout")
    r = client.post("/login?next=/account/password",
                    data={"email": auth.email("animator@wilda"), "password": PASSWORD})
    assert r.headers["Location"] == "/account/password"


def test_password_is_hashed_slowly_by_default(app):
    from app.config import Defaults

    assert Defaults.PASSWORD_HASH_METHOD == "scrypt"
    with app.app_context():
        user = db.session.get(User, app.world.users["animator@wilda"])
        user.set_password("a-long-enough-password", Defaults.PASSWORD_HASH_METHOD)
        assert user.password_hash.startswith("scrypt:")
        assert "a-long-enough-password" not in user.password_hash
        assert user.check_password("a-long-enough-password")


def test_session_cookie_flags(client, auth):
    r = auth.login("animator@wilda")
    cookies = {h.split("=", 1)[0]: h for h in r.headers.getlist("Set-Cookie")}
    header = cookies["animo_session"]
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # only in production
    device = cookies["animo_device"]  # the device cookie of the sign-in throttle (tests/test_throttle.py)
    assert "HttpOnly" in device and "SameSite=Strict" in device and "Path=/login" in device
    assert "Secure" not in device


def test_session_identifier_changes_at_login(client, auth):
    client.get("/login")
    auth.login("animator@wilda")
    first = _session_cookie(client)
    auth.logout()
    auth.login("animator@wilda")
    assert _session_cookie(client) != first


def test_logout_ends_the_session_on_the_server(app, client, auth):
    auth.login("animator@wilda")
    stolen = _session_cookie(client)
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("animo_session", stolen)
    r = thief.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_deactivation_ends_every_session(app, client, auth):
    auth.login("animator@wilda")
    assert client.get("/").status_code == 200
    admin = app.test_client()
    admin.post("/login", data={"email": auth.email("admin"), "password": PASSWORD})
    uid = app.world.users["animator@wilda"]
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    import re
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    with app.app_context():
        user = db.session.get(User, uid)
        data = {"email": user.email, "name": user.name, "role": "animator", "centre_id": str(user.centre_id),
                "neighbourhood_ids": [str(i) for i in user.neighbourhood_ids], "version": version}
    r = admin.post(f"/admin/users/{uid}", data=data)  # "active" unchecked
    assert r.status_code == 303
    assert client.get("/").status_code == 302
    r = client.post("/login", data={"email": auth.email("animator@wilda"), "password": PASSWORD})
    assert r.status_code == 422


def test_password_change_ends_other_sessions(app, client, auth):
    auth.login("animator@wilda")
    other = app.test_client()
    other.post("/login", data={"email": auth.email("animator@wilda"), "password": PASSWORD})
    assert other.get("/").status_code == 200
    r = client.post("/account/password", data={"current": PASSWORD, "password": "nowe-haslo-na-jesien",
                                               "confirm": "nowe-haslo-na-jesien"})
    assert r.status_code == 303
    assert client.get("/").status_code == 200  # this browser continues in a new session
    assert other.get("/").status_code == 302


def test_password_change_validates_in_polish(client, auth):
    auth.login("animator@wilda")
    r = client.post("/account/password", data={"current": PASSWORD, "password": "krotkie", "confirm": "krotkie"})
    assert r.status_code == 422
    assert "co najmniej 12 znaków" in r.get_data(as_text=True)
    r = client.post("/account/password", data={"current": "zle-haslo-123", "password": "dlugie-haslo-123",
                                               "confirm": "dlugie-haslo-123"})
    assert "Obecne hasło jest nieprawidłowe" in r.get_data(as_text=True)


def test_idle_timeout(make_app, app):
    from datetime import timedelta

    short = make_app(IDLE_TIMEOUT=timedelta(seconds=1))
    c = short.test_client()
    with short.app_context():
        email = db.session.get(User, app.world.users["animator@wilda"]).email
    c.post("/login", data={"email": email, "password": PASSWORD})
    assert c.get("/").status_code == 200
    time.sleep(2.1)
    assert c.get("/").status_code == 302


def test_throttling_after_ten_failures_for_an_account(app, client, auth):
    email = auth.email("animator@wilda")
    for _ in range(10):
        assert client.post("/login", data={"email": email, "password": "wrong-password-x"}).status_code == 422
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 429
    assert "Zbyt wiele nieudanych prób" in r.get_data(as_text=True)


def test_throttling_holds_across_workers(make_app, app, auth):
    """Two app instances (as two gunicorn workers) share the count through the database."""
    email = auth.email("coordinator@wilda")
    w1, w2 = app.test_client(), make_app().test_client()
    for i in range(10):
        (w1 if i % 2 else w2).post("/login", data={"email": email, "password": "wrong-password-x"})
    assert w2.post("/login", data={"email": email, "password": PASSWORD}).status_code == 429
    assert w1.post("/login", data={"email": email, "password": PASSWORD}).status_code == 429


def test_throttling_per_address(app, client, auth):
    for i in range(10):
        client.post("/login", data={"email": f"nobody{i}@animo.example", "password": "wrong-password-x"})
    r = client.post("/login", data={"email": auth.email("animator@rataje"), "password": PASSWORD})
    assert r.status_code == 429
    other_address = app.test_client()
    r = other_address.post("/login", data={"email": auth.email("animator@rataje"), "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert r.status_code == 303
    with app.app_context():
        assert db.session.query(LoginAttempt).filter_by(succeeded=False).count() == 10  # the 429 wrote none
        assert db.session.query(LoginAttempt).filter_by(succeeded=True).count() == 1  # the usual address


def test_login_logout_and_denial_are_audited(app, client, auth):
    auth.login("animator@wilda")
    client.get("/admin/centres")
    auth.logout()
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions == ["login", "access_denied", "logout"]
        for e in db.session.scalars(select(AuditEvent)):
            assert PASSWORD not in (e.detail or "")


def test_htmx_request_after_expiry_gets_hx_redirect(client):
    r = client.get("/", headers={"HX-Request": "true"})
    assert r.status_code == 401
    assert r.headers["HX-Redirect"].startswith("/login")


def test_sessions_are_rows_with_hashed_tokens(app, client, auth):
    auth.login("animator@wilda")
    token = client.get_cookie("animo_session").value
    with app.app_context():
        rows = db.session.scalars(select(UserSession)).all()
        assert len(rows) == 1 and rows[0].revoked_at is None
        assert len(rows[0].token_hash) == 64 and rows[0].token_hash not in token


def test_throttling_holds_across_two_gunicorn_workers(app, auth, migrated, tmp_path):
    """The failure count lives in the database, so two gunicorn worker processes share it: after ten
    wrong passwords, each over a new connection (either worker may answer), even the right one is 429
    from that address; the owner's browser (device cookie) still signs in (tests/test_throttle.py)."""
    from tests.http_client import HttpSession
    from tests.test_durability import gunicorn

    email = auth.email("animator@regranting")
    statuses = []
    with gunicorn(migrated, tmp_path / "gunicorn.log", workers=2) as server:
        owner = HttpSession(server.base)
        owner.login(email, PASSWORD)
        assert owner.post("/logout", {}).status == 303 and "animo_device" in owner.cookies
        owner.close()
        for _ in range(10):
            client = HttpSession(server.base)
            client.get("/login")
            statuses.append(client.post("/login", {"email": email, "password": "zle-haslo-123456"}).status)
            client.close()
        client = HttpSession(server.base)
        client.get("/login")
        last = client.post("/login", {"email": email, "password": PASSWORD})
        client.close()
        owner.get("/login")
        owners = owner.post("/login", {"email": email, "password": PASSWORD})
        owner.close()
    assert len(statuses) == 10 and set(statuses) <= {200, 401, 422}, statuses  # refused, not yet throttled
    assert last.status == 429 and "Zbyt wiele" in last.body, (last.status, last.body[:200])
    assert int(last.headers["retry-after"]) > 0
    assert owners.status == 303, (owners.status, owners.body[:200])
