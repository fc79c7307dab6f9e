"""Sign-in state: server-side sessions behind Flask-Login, and role checks for views."""
from functools import wraps

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from app.extensions import login_manager
from app.htmx import is_htmx
from models import UserSession, db, record_audit


def init_app(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Zaloguj się, aby zobaczyć tę stronę.")
    login_manager.login_message_category = "info"
    # Mobile networks change addresses all the time; our own server-side token does the work.
    login_manager.session_protection = None

    @login_manager.user_loader
    def _load(token: str):
        return UserSession.load_user(token, current_app.config["SESSION_MAX_AGE"])

    @login_manager.unauthorized_handler
    def _unauthorized():
        target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if is_htmx():
            # htmx would swap the login page into a fragment; send the whole browser there.
            resp = current_app.response_class(status=401)
            resp.headers["HX-Redirect"] = target
            return resp
        flash(login_manager.login_message, "info")
        return redirect(target)

    @app.before_request
    def _refresh_session():
        # Each request refreshes the signed cookie; after IDLE_TIMEOUT of silence it expires.
        session.permanent = True


def sign_in(user) -> None:
    """Start a fresh server-side session: a new identifier every time."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    UserSession.start(user)
    login_user(user)
    record_audit("login", user_id=user.id, object_type="user", object_id=user.id, ip=client_ip())
    db.session.commit()


def sign_out() -> None:
    if current_user.is_authenticated and current_user.session_token:
        UserSession.revoke(current_user.session_token)
        record_audit("logout", user_id=current_user.id, object_type="user", object_id=current_user.id,
                     ip=client_ip())
        db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def client_ip() -> str:
    # Behind a reverse proxy, configure ProxyFix (see README) so remote_addr is the client.
    return request.remote_addr or "-"


def roles_required(*roles: str):
    """Let only signed-in users with one of `roles` through; others get 403 (audited)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                deny()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def deny(status: int = 403, **detail):
    """Record an access denial in the audit trail and stop with `status`."""
    record_audit("access_denied", user_id=getattr(current_user, "id", None), ip=client_ip(),
                 path=request.path, method=request.method, status=status, **detail)
    db.session.commit()
    abort(status)
