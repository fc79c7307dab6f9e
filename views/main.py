"""The start page of each role and the health check."""
from flask import Blueprint, jsonify
from flask_login import current_user, login_required
from sqlalchemy import text

from app.database import migration_current, migration_head
from app.htmx import render
from models import db
from models.queries import programme_overview, team_members, users_by_role

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    """What the signed-in role needs first."""
    ctx = {}
    role = current_user.role
    if role == "coordinator":
        ctx["team"] = team_members(current_user)
    elif role in ("city", "admin"):
        ctx["overview"] = programme_overview()
        if role == "admin":
            ctx["users_by_role"] = users_by_role()
    return render("main/index.html", **ctx)


@bp.route("/healthz")
def healthz():
    """For the deployment: is the database answering and is its schema current?"""
    status = {"database": "ok", "migrations": "current"}
    code = 200
    try:
        db.session.execute(text("SELECT 1"))
        current, head = migration_current(), migration_head()
        status.update(revision=current, head=head)
        if current != head:
            status["migrations"] = "pending"
            code = 503
    except Exception:  # noqa: BLE001 - any failure means "not healthy", details go to the log
        db.session.rollback()
        status = {"database": "unavailable", "migrations": "unknown"}
        code = 503
    status["status"] = "ok" if code == 200 else "error"
    return jsonify(status), code
