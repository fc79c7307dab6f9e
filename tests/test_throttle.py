"""Sign-in throttling that an attacker cannot turn against the owner (issue 14, finding 11).

Before: ten failed sign-ins for a known e-mail, from any addresses, gave the owner 429 with the right
password for 15 minutes. Now failures from unknown devices at unknown addresses only slow down
guessing of the account (a growing Retry-After and an alert in the audit trail); the owner's browser
(device cookie) and the owner's usual address sign in at once.
"""
from datetime import timedelta

from sqlalchemy import func, select

from models import AuditEvent, LoginAttempt, db
from tests.conftest import PASSWORD

WRONG = "zle-haslo-123456"
OWNER_HOME = "10.9.0.1"


def _post(client, email, password, ip):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip})


def _attack(app, email, attempts=50, addresses=20):
    """`attempts` wrong passwords for `email`, each from the next of `addresses` addresses."""
    attacker = app.test_client()
    answers = [_post(attacker, email, WRONG, f"10.66.0.{i % addresses}") for i in range(attempts)]
    return attacker, answers


def _travel(app, seconds: float) -> None:
    """Move every recorded attempt `seconds` into the past, as if that much time had gone by."""
    with app.app_context():
        for row in db.session.scalars(select(LoginAttempt)):
            row.at = row.at - timedelta(seconds=seconds)
        db.session.commit()


def _owner_signed_in_once(app, email, ip=OWNER_HOME):
    """The owner's browser after a sign-in and a sign-out: it keeps the device cookie."""
    browser = app.test_client()
    assert _post(browser, email, PASSWORD, ip).status_code == 303
    assert browser.get_cookie("animo_device", path="/login") is not None
    browser.post("/logout")
    return browser


def test_attack_from_twenty_addresses_does_not_lock_out_the_owners_browser(app, auth):
    email = auth.email("animator@wilda")
    browser = _owner_signed_in_once(app, email)
    _attacker, answers = _attack(app, email)
    assert {r.status_code for r in answers} == {422, 429}
    # the owner's browser, even from an address never seen (a phone on a mobile network)
    r = _post(browser, email, PASSWORD, "10.200.7.7")
    assert r.status_code == 303, r.get_data(as_text=True)[:300]


def test_owner_at_the_usual_address_without_a_cookie_signs_in(app, auth):
    """A successful sign-in from an address in the last 30 days makes it the account's usual address:
    failures elsewhere do not delay it (another browser in the same office, cookies cleared)."""
    email = auth.email("coordinator@wilda")
    _owner_signed_in_once(app, email)
    _attack(app, email)
    fresh_browser = app.test_client()
    assert _post(fresh_browser, email, PASSWORD, OWNER_HOME).status_code == 303


def test_the_attacker_waits_longer_and_longer(app, auth):
    email = auth.email("animator@rataje")
    _owner_signed_in_once(app, email)
    attacker, answers = _attack(app, email, attempts=12)
    assert [r.status_code for r in answers[:10]] == [422] * 10  # two failures per address: no address limit
    first = answers[10]
    assert first.status_code == 429 and answers[11].status_code == 429
    body = first.get_data(as_text=True)
    assert "Zbyt wiele nieudanych prób" in body and "Spróbuj ponownie za" in body
    waits = [int(first.headers["Retry-After"])]
    for n in range(3):
        _travel(app, waits[-1] + 1)
        ip = f"10.77.0.{n}"
        assert _post(attacker, email, WRONG, ip).status_code == 422  # one more guess after the wait
        r = _post(attacker, email, WRONG, ip)
        assert r.status_code == 429
        waits.append(int(r.headers["Retry-After"]))
    assert waits == sorted(waits) and len(set(waits)) == 4, waits
    assert waits[1] >= 2 * waits[0] - 1
    # even the right password from an unknown browser at an unknown address waits (no oracle)
    assert _post(app.test_client(), email, PASSWORD, "10.88.0.1").status_code == 429


def test_a_refused_attempt_writes_no_failure(app, auth):
    email = auth.email("animator@rataje")
    _attack(app, email, attempts=10)
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(LoginAttempt))
    _attack(app, email, attempts=5)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == before


def test_an_attack_leaves_an_alert_in_the_audit_trail(app, auth):
    email = auth.email("coordinator@rataje")
    _attack(app, email, attempts=10)
    with app.app_context():
        alerts = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_alert")).all()
        assert len(alerts) == 1
        assert alerts[0].user_id == app.world.users["coordinator@rataje"]
        assert alerts[0].detail_dict == {"failures": 10, "addresses": 10}
        assert email not in (alerts[0].detail or "")
    page_client = app.test_client()
    _post(page_client, auth.email("admin"), PASSWORD, "10.9.9.9")
    page = page_client.get("/admin/audit").get_data(as_text=True)
    assert page.count("alarm: wiele nieudanych logowań na konto z nieznanych urządzeń") >= 2  # filter, row


def test_per_address_limit_still_holds(app, auth):
    """Ten failures from one address, whatever the accounts, and that address waits for every account
    (unless the browser carries a device cookie for the account)."""
    email = auth.email("animator@wilda")
    browser = _owner_signed_in_once(app, email, ip="10.5.5.5")
    guesser = app.test_client()
    for i in range(10):
        assert _post(guesser, f"nobody{i}@animo.example", WRONG, "10.5.5.5").status_code == 422
    r = _post(guesser, auth.email("animator@rataje"), PASSWORD, "10.5.5.5")
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 15 * 60
    assert _post(app.test_client(), email, PASSWORD, "10.5.5.5").status_code == 429  # no cookie
    assert _post(browser, email, PASSWORD, "10.5.5.5").status_code == 303  # the owner's browser


def test_the_device_is_limited_on_its_own(app, auth):
    """A device cookie is no free pass: ten failures with it and that browser waits; the account and
    the owner's other browsers do not."""
    email = auth.email("animator@wilda")
    stolen = _owner_signed_in_once(app, email)
    other = _owner_signed_in_once(app, email, ip="10.9.0.2")
    for i in range(10):
        assert _post(stolen, email, WRONG, f"10.44.0.{i}").status_code == 422
    r = _post(stolen, email, PASSWORD, "10.44.0.99")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert _post(other, email, PASSWORD, "10.44.0.100").status_code == 303


def test_a_device_cookie_counts_only_for_its_account_and_cannot_be_forged(app, auth):
    victim = auth.email("coordinator@wilda")
    browser = _owner_signed_in_once(app, auth.email("animator@wilda"))
    _attack(app, victim, attempts=10)
    assert _post(browser, victim, PASSWORD, "10.200.0.1").status_code == 429  # someone else's device
    forged = app.test_client()
    forged.set_cookie("animo_device", "eyJ1IjoxfQ.forged.signature", path="/login")
    assert _post(forged, victim, PASSWORD, "10.200.0.2").status_code == 429


def test_unknown_and_known_e_mails_are_throttled_alike(app, auth):
    """The delay does not tell an attacker which e-mails have accounts."""
    _attacker, answers = _attack(app, "nikt-taki@animo.example", attempts=11)
    assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) > 0


def test_enforce_retention_purges_old_attempts_and_ended_sessions(app, runner):
    """login_attempt rows (e-mail addresses) go after 30 days; sessions go once expired (30 days after
    the sign-in), or 30 days after they were revoked (kept that long for the audit)."""
    from models import UserSession
    from models.base import utcnow

    now = utcnow()
    days = lambda n: now - timedelta(days=n)  # noqa: E731
    uid = app.world.users["animator@wilda"]
    with app.app_context():
        for at in (days(31), days(29), now):
            db.session.add(LoginAttempt(email="kto@animo.example", ip="10.0.0.1", at=at))
        sessions = {
            "live": UserSession(token_hash="a" * 64, user_id=uid, created_at=now),
            "young": UserSession(token_hash="b" * 64, user_id=uid, created_at=days(29)),
            "expired": UserSession(token_hash="c" * 64, user_id=uid, created_at=days(31)),
            "revoked_lately": UserSession(token_hash="d" * 64, user_id=uid, created_at=days(40), revoked_at=days(29)),
            "revoked_long_ago": UserSession(token_hash="e" * 64, user_id=uid, created_at=days(40), revoked_at=days(31)),
        }
        db.session.add_all(sessions.values())
        db.session.commit()
        ids = {name: s.id for name, s in sessions.items()}
    r = runner.invoke(args=["enforce-retention"])
    assert r.exit_code == 0, r.output
    assert "1 login attempts, 2 ended sessions" in r.output
    with app.app_context():
        left = sorted(db.session.scalars(select(LoginAttempt.at)))
        assert left == [days(29), now]
        kept = set(db.session.scalars(select(UserSession.id)))
        assert kept == {ids["live"], ids["young"], ids["revoked_lately"]}
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sign_in_records_purged"))
        assert event.detail_dict == {"via": "cli", "login_attempts": 1, "sessions": 2}
