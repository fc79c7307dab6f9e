"""Signing in and out, the language switch, and one's own password.

Throttling of sign-ins (OWASP's "device cookie"), so that guessing is slowed but nobody can lock the
owner of an account out. Every attempt lives in the `login_attempt` table, so the counts hold across
every worker. With LIMIT (10), WINDOW (15 min) and the other numbers in app/config.py:

1. After a successful sign-in the browser gets `animo_device`: a signed, long-lived (180 days)
   cookie bound to the account (a random nonce and the account's id; up to five accounts per browser).
2. An attempt carrying a valid device cookie for the account it names is limited only per device:
   LIMIT failures with that cookie within WINDOW and that browser waits. Failures elsewhere never
   touch it: the owner's browser signs in whatever happens to the account or the address.
3. Any other attempt is limited per address: LIMIT failures from the address within WINDOW (whatever
   the accounts) and the address waits, as before.
4. And, unless the address is the account's usual one (a successful sign-in from it within 30 days),
   per account: once the account has LIMIT failures from unknown browsers at unknown addresses within
   ACCOUNT_WINDOW (24 h), such browsers wait DELAY_BASE (30 s) after the last failure, twice as long
   after each further failure, at most DELAY_MAX (1 h). The owner's browser and usual address are not
   delayed; an unknown browser at an unknown address is, even with the right password (checking it
   would hand the attacker an oracle). Known and unknown e-mails are throttled alike.
5. The LIMIT-th failure of such an account (and every LIMIT more) writes a `login_alert` row to the
   audit trail, with the number of failures and of addresses.

A waiting attempt is answered at once with 429 and `Retry-After` (never a sleep that would hold a
worker); its password is not checked and it writes no failure, only a `login_throttled` audit row.
"""
import hashlib
import secrets
import time
from math import ceil

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from urllib.parse import urlsplit

from app.forms.auth import LoginForm, PasswordChangeForm
from app.htmx import render
from app.sessions import client_ip, sign_in, sign_out
from models import LoginAttempt, LoginLimits, User, UserSession, db, record_audit

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return url_for("main.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.index")
    return target


DEVICE_COOKIE = "animo_device"
DEVICES_PER_BROWSER = 5  # accounts a shared browser (an office computer) remembers


def _limits() -> LoginLimits:
    cfg = current_app.config
    return LoginLimits(limit=cfg["LOGIN_FAILURE_LIMIT"], window=cfg["LOGIN_FAILURE_WINDOW"],
                       account_window=cfg["LOGIN_ACCOUNT_WINDOW"], delay_base=cfg["LOGIN_DELAY_BASE"],
                       delay_max=cfg["LOGIN_DELAY_MAX"], usual_address_age=cfg["LOGIN_USUAL_ADDRESS_AGE"])


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="animo-device-cookie")


def _device_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _device_entries() -> list[tuple[int, str, int]]:
    """This browser's device cookie: (account id, nonce, issued at) for each account it signed in to
    within the cookie's lifetime; nothing when it is missing, forged or malformed."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        data = _device_serializer().loads(raw)
    except BadSignature:
        return []
    oldest = time.time() - current_app.config["LOGIN_DEVICE_MAX_AGE"].total_seconds()
    entries = []
    for entry in data if isinstance(data, list) else []:
        if (isinstance(entry, list) and len(entry) == 3 and type(entry[0]) is int and isinstance(entry[1], str)
                and type(entry[2]) is int and entry[2] > oldest):
            entries.append((entry[0], entry[1], entry[2]))
    return entries


def _device_for(user: User | None) -> str | None:
    """The hash of this browser's device nonce for `user`, or None (an unknown browser)."""
    if user is None:
        return None
    return next((_device_hash(nonce) for uid, nonce, _at in _device_entries() if uid == user.id), None)


def _remember_device(resp, user: User) -> None:
    """After a successful sign-in: a new nonce for this account, the others this browser knows kept."""
    others = [list(e) for e in _device_entries() if e[0] != user.id][: DEVICES_PER_BROWSER - 1]
    entries = [[user.id, secrets.token_urlsafe(16), int(time.time())], *others]
    cfg = current_app.config
    resp.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(entries),
                    max_age=int(cfg["LOGIN_DEVICE_MAX_AGE"].total_seconds()), path=url_for("auth.login"),
                    secure=cfg["SESSION_COOKIE_SECURE"], httponly=True, samesite="Strict")


def _too_many(form, seconds: int):
    if seconds < 120:
        message = _("Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za %(n)d s.", n=seconds)
    else:
        message = _("Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za %(n)d min.", n=ceil(seconds / 60))
    form.form_errors.append(message)
    resp = render("auth/login.html", form=form, status=429)
    resp.headers["Retry-After"] = str(seconds)
    return resp


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password; throttled per device, address and account (see above)."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.index"))
    form = LoginForm()
    if request.method == "POST":
        limits = _limits()
        ip = client_ip()
        email = (form.email.data or "").strip()
        user = User.by_email(email) if email else None
        device = _device_for(user)
        usual = device is None and LoginAttempt.is_usual_address(email, ip, limits.usual_address_age)
        seconds, reason = LoginAttempt.wait(email, ip, device, usual, limits)
        if seconds:
            record_audit("login_throttled", user_id=user.id if user else None, ip=ip, limit=reason)
            db.session.commit()
            return _too_many(form, seconds)
        if form.validate():
            if user is not None and user.active and user.check_password(form.password.data):
                LoginAttempt.record_success(email, ip, device)
                sign_in(user)
                resp = redirect(_safe_next(request.args.get("next")), 303)
                _remember_device(resp, user)
                return resp
            LoginAttempt.record_failure(email, ip, device, usual)
            record_audit("login_failed", user_id=user.id if user else None, ip=ip)
            if user is not None and device is None and not usual:
                failures, addresses, _last = LoginAttempt.unknown_failures(email, limits.account_window)
                if failures >= limits.limit and failures % limits.limit == 0:
                    # Someone is guessing this account's password: a row for whoever reads the audit.
                    record_audit("login_alert", user_id=user.id, object_type="user", object_id=user.id, ip=ip,
                                 failures=failures, addresses=addresses)
            db.session.commit()
            form.form_errors.append(_("Nieprawidłowy e-mail lub hasło."))
        return render("auth/login.html", form=form, status=422)
    return render("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """End this session on the server, not only in the browser."""
    sign_out()
    flash(_("Wylogowano."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/language", methods=["POST"])
def language():
    """Switch the interface language (Polish or English) for this browser session."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; every session of the account ends, this one restarts."""
    form = PasswordChangeForm()
    if request.method == "POST":
        if form.validate():
            if not current_user.check_password(form.current.data):
                form.current.errors.append(_("Obecne hasło jest nieprawidłowe."))
            else:
                user = current_user._get_current_object()
                user.set_password(form.password.data, current_app.config["PASSWORD_HASH_METHOD"])
                UserSession.revoke_all(user.id)
                record_audit("password_changed", user_id=user.id, object_type="user", object_id=user.id,
                             ip=client_ip())
                db.session.commit()
                sign_in(user)
                flash(_("Hasło zmienione. Inne urządzenia zostały wylogowane."), "success")
                return redirect(url_for("main.index"), 303)
        return render("auth/password.html", form=form, status=422)
    return render("auth/password.html", form=form)
