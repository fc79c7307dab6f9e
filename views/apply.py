"""The public application form of an open call: /apply/<call-slug>, no login.

Residents fill it in on a phone. It validates everything (Polish messages by field), limits the
request size (413) and the rate per address (429, counted in the database so that every worker
sees it), is protected against CSRF by the token in the form it renders, stores script payloads
as text and shows them escaped, and answers with a reference number ("MG/2026/0007").
"""
from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_babel import gettext as _

from app import submissions
from app.forms.grants import PublicApplicationForm
from app.htmx import render
from app.sessions import client_ip
from app.timeutil import today_local
from models import GrantApplication, Neighbourhood, db, record_audit
from models import grants_queries as q
from views.grants import fmt_money, fmt_pct, fmt_points

bp = Blueprint("apply", __name__, url_prefix="/apply")
bp.add_app_template_filter(fmt_money, "money")
bp.add_app_template_filter(fmt_points, "points")
bp.add_app_template_filter(fmt_pct, "pct")

WINDOW = timedelta(hours=1)
SESSION_KEY = "grant_reference"


def _call_or_404(slug: str):
    if len(slug) > 80:
        abort(404)
    call = q.public_call(slug)
    if call is None:
        abort(404)
    return call


def _throttled(ip: str) -> bool:
    cfg = current_app.config
    attempts, accepted = q.apply_counts(ip, WINDOW)
    return accepted >= cfg["APPLY_SUBMISSIONS_PER_HOUR"] or attempts >= cfg["APPLY_ATTEMPTS_PER_HOUR"]


def _restore(row, slug: str):
    """The same form sent again: the confirmation shows the application it filed, in this browser too."""
    application = db.session.get(GrantApplication, row.object_id) if row.object_id else None
    if application is not None:
        session[SESSION_KEY] = {"slug": slug, "reference": application.reference}


@bp.route("/<slug>", methods=["GET", "POST"])
@submissions.keyed(restore=_restore)
def form(slug: str):
    """The form of an open call; a closed (or spent) call says so. POST files the application."""
    call = _call_or_404(slug)
    today = today_local()
    ip = client_ip()
    if request.method == "POST":
        if (request.content_length or 0) > current_app.config["APPLY_MAX_BYTES"]:
            abort(413)
        if _throttled(ip):
            resp = render("apply/closed.html", call=call, reason="throttled", not_yet=False, status=429)
            resp.headers["Retry-After"] = str(int(WINDOW.total_seconds()))
            record_audit("grant_apply_throttled", ip=ip, object_type="grant_call", object_id=call.id)
            db.session.commit()  # after rendering, so that the commit does not expire what the page reads
            return resp
    if not call.accepts_applications(today):
        return render("apply/closed.html", call=call, reason="closed", not_yet=today < call.opens_on,
                      status=200 if request.method == "GET" else 409)
    try:
        form = PublicApplicationForm()
    except ValueError:  # a malformed row index (e.g. "lines-²-item") that WTForms cannot parse
        abort(400)
    hoods = Neighbourhood.all_by_name() if call.all_neighbourhoods else call.neighbourhoods
    form.bind(call, q.patrons(call.centre_id), hoods, public=True, today=today)
    if request.method == "GET":
        return render("apply/form.html", call=call, form=form)
    for which in ("members", "lines"):
        if f"add_{which}" in request.form:
            form.add_row(which)
            return render("apply/form.html", call=call, form=form, focus=which)
    if not form.validate():
        resp = render("apply/form.html", call=call, form=form, status=422)
        q.record_apply_attempt(ip, accepted=False)
        db.session.commit()
        return resp
    application = q.new_application(call, fields=form.fields(), members=form.members_rows(),
                                    lines=form.budget_rows, source="public", user_id=None,
                                    note=_("Wniosek złożony przez formularz publiczny."))
    q.record_apply_attempt(ip, accepted=True)
    q.forget_old_attempts()
    record_audit("grant_application_submitted", object_type="grant_application", object_id=application.id, ip=ip,
                 source="public")
    kept = {"slug": call.slug, "reference": application.reference}  # read before the commit expires them
    target = url_for("apply.submitted", slug=kept["slug"])
    submissions.made(application, target, call_id=call.id)
    db.session.commit()
    session[SESSION_KEY] = kept
    return redirect(target, 303)


@bp.route("/<slug>/submitted")
def submitted(slug: str):
    """The confirmation with the reference number (kept in this browser's session only)."""
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("slug") != slug:
        return redirect(url_for("apply.form", slug=slug))
    call = _call_or_404(slug)
    return render("apply/submitted.html", call=call, reference=kept.get("reference"))
