"""Signing in and out, the language switch, and one's own password."""
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from urllib.parse import urlsplit

from app.forms.auth import LoginForm, PasswordChangeForm
from app.htmx import render
from app.sessions import client_ip, sign_in, sign_out
from models import LoginAttempt, User, UserSession, db, record_audit

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return url_for("main.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password; throttled per account and per address."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.index"))
    form = LoginForm()
    if request.method == "POST":
        cfg = current_app.config
        ip = client_ip()
        email = (form.email.data or "").strip()
        if LoginAttempt.too_many(email, ip, cfg["LOGIN_FAILURE_LIMIT"], cfg["LOGIN_FAILURE_WINDOW"]):
            record_audit("login_throttled", ip=ip)
            db.session.commit()
            form.form_errors.append(
                _("Zbyt wiele nieudanych prób logowania. Odczekaj %(n)d minut i spróbuj ponownie.",
                  n=cfg["LOGIN_FAILURE_WINDOW"].seconds // 60))
            return render("auth/login.html", form=form, status=429)
        if form.validate():
            user = User.by_email(email)
            if user is not None and user.active and user.check_password(form.password.data):
                sign_in(user)
                return redirect(_safe_next(request.args.get("next")), 303)
            LoginAttempt.record_failure(email, ip)
            record_audit("login_failed", user_id=user.id if user else None, ip=ip)
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
