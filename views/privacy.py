"""Residents' data under RODO: access and portability, erasure, export of lists, retention review,
the information clause to hand out."""
import json

from sqlalchemy import select
from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import submissions, writes
from app.exports import csv_response, xlsx_response
from app.htmx import render, wants_fragment
from app.labels import label
from app.params import int_arg
from app.rodo import anonymise, bundle
from app.sessions import client_ip, roles_required
from models import RUNG_ORDER, Role, db, personal_data_scope, record_audit
from models.people import export_rows, get_resident, inactive_residents, is_inactive

bp = Blueprint("privacy", __name__)

FIELD_WORKERS = (Role.animator.value, Role.coordinator.value)


def _resident_or_404(resident_id: int):
    resident = get_resident(current_user, resident_id, with_details=True)
    if resident is None:
        abort(404)
    return resident


@bp.route("/residents/<int:resident_id>/data")
@roles_required(*FIELD_WORKERS)
def access(resident_id: int):
    """Art. 15: everything held about the person, readable, to show or hand over."""
    resident = _resident_or_404(resident_id)
    data = bundle(resident)
    record_audit("resident_data_access", user_id=current_user.id, object_type="resident", object_id=resident.id,
                 ip=client_ip(), format="page")
    response = render("privacy/access.html", resident=resident, data=data)
    db.session.commit()
    return response


@bp.route("/residents/<int:resident_id>/data.json")
@roles_required(*FIELD_WORKERS)
def access_json(resident_id: int):
    """Art. 20: the same as a machine-readable JSON file."""
    resident = _resident_or_404(resident_id)
    body = json.dumps(bundle(resident), ensure_ascii=False, indent=2)
    record_audit("resident_data_export", user_id=current_user.id, object_type="resident", object_id=resident.id,
                 ip=client_ip(), format="json")
    db.session.commit()
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="animo-osoba-{resident.id}.json"'})


@bp.route("/residents/<int:resident_id>/erase", methods=["GET", "POST"])
@roles_required(Role.coordinator.value)
def erase(resident_id: int):
    """Art. 17: anonymise the person everywhere; the statistics keep counting them."""
    resident = _resident_or_404(resident_id)
    if resident.anonymised_at:
        return redirect(url_for("residents.show", resident_id=resident.id), 303)
    if request.method == "POST":
        reason = request.form.get("reason", "")
        if reason not in ("request", "retention", "consent"):
            return render("privacy/erase.html", resident=resident, status=422,
                          error=_("Wybierz podstawę usunięcia danych."))
        if request.form.get("confirm") != "yes":
            return render("privacy/erase.html", resident=resident, status=422,
                          error=_("Potwierdź, że dane tej osoby mają zostać usunięte."))
        anonymise(resident, current_user.id, client_ip(), reason)
        db.session.commit()
        return redirect(url_for("residents.show", resident_id=resident_id, erased=1), 303)
    return render("privacy/erase.html", resident=resident)


EXPORT_HEADER = ["id", "imię", "nazwisko", "opis", "osiedle", "telefon", "zgoda: telefon", "e-mail", "zgoda: e-mail",
                 "ulica", "nr budynku", "grupa wiekowa", "drabina", "ostatni kontakt", "tagi", "dodano"]


@bp.route("/residents/export.<fmt>")
@roles_required(*FIELD_WORKERS)
def export(fmt: str):
    """The resident list as filtered on screen, as CSV or XLSX (audited)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    filters = {
        "query": (request.args.get("q") or "").strip()[:100],
        "neighbourhood_id": int_arg("neighbourhood", 0, minimum=0) or None,
        "tag": (request.args.get("tag") or "").strip()[:60] or None,
        "rung": request.args.get("rung") if request.args.get("rung") in RUNG_ORDER else None,
        "no_contact_days": int_arg("no_contact", 0, minimum=0, maximum=3650) or None,
    }
    yes, no = _("tak"), _("nie")
    scope = personal_data_scope(current_user)  # fixed now: the commit below expires current_user

    def rows():
        for r in export_rows(scope, **filters):
            (rid, first, last, desc, hood, phone, phone_ok, email, email_ok, street, building, age, rung, last_contact,
             tags, created) = r
            yield (rid, first, last, desc, hood, phone, yes if phone_ok else no, email, yes if email_ok else no,
                   street, building, label("age", age), label("rung", rung), last_contact, tags, created)

    # Which filters, not what was typed into the search box (often a surname): no personal values.
    record_audit("export", user_id=current_user.id, object_type="resident_list", ip=client_ip(), format=fmt,
                 filters={k: (True if k == "query" else v) for k, v in filters.items() if v})
    db.session.commit()
    name = f"mieszkancy.{fmt}"
    if fmt == "csv":
        return csv_response(name, EXPORT_HEADER, rows())
    return xlsx_response(name, EXPORT_HEADER, rows(), title=_("Mieszkańcy"))


@bp.route("/privacy/retention")
@roles_required(Role.coordinator.value)
def retention():
    """Residents with no activity for the retention period, for review."""
    months = int_arg("months", current_app.config["RETENTION_MONTHS"], minimum=1, maximum=240)
    residents, total = inactive_residents(current_user, months)
    return render("privacy/retention.html", residents=residents, total=total, months=months)


@bp.route("/privacy/retention/<int:resident_id>/erase", methods=["POST"])
@roles_required(Role.coordinator.value)
def retention_erase(resident_id: int):
    """One-step anonymisation from the retention list: only for someone who is on it."""
    resident = _resident_or_404(resident_id)
    months = int_arg("months", current_app.config["RETENTION_MONTHS"], minimum=1, maximum=240)
    if resident.anonymised_at is None:
        if not is_inactive(current_user, resident.id, months):
            residents, total = ([], 0) if wants_fragment() else inactive_residents(current_user, months)
            return render("privacy/retention.html", block="erased", resident=resident, status=422,
                          not_eligible=True, months=months, residents=residents, total=total,
                          error=_("Ta osoba była aktywna w ciągu ostatnich %(n)d miesięcy: dane nie zostały usunięte.",
                                  n=months))
        anonymise(resident, current_user.id, client_ip(), "retention")
        db.session.commit()
    if request.headers.get("HX-Request") == "true":
        return render("privacy/retention.html", block="erased", resident=resident, message=_("Dane usunięte."))
    return redirect(url_for("privacy.retention", months=request.args.get("months")), 303)


@bp.route("/privacy/clause")
@roles_required(Role.animator.value, Role.coordinator.value, Role.admin.value)
def clause():
    """The information clause (klauzula informacyjna) to print and hand to residents."""
    centre = current_user.centre
    return render("privacy/clause.html", centre=centre)


# --- the record of processing activities (art. 30) ------------------------------------------

REGISTER_FIELDS = ("name", "purpose", "legal_basis", "data_subjects", "data_categories", "recipients", "retention",
                   "security")


@bp.route("/privacy/register")
@roles_required(Role.animator.value, Role.coordinator.value, Role.reviewer.value, Role.admin.value)
def register():
    """The record of processing activities: readable by staff, kept by the admin."""
    from models import ProcessingActivity

    activities = db.session.scalars(select(ProcessingActivity).order_by(ProcessingActivity.position,
                                                                        ProcessingActivity.id)).all()
    return render("privacy/register.html", activities=activities)


@bp.route("/privacy/register/new", methods=["GET", "POST"], defaults={"activity_id": None})
@bp.route("/privacy/register/<int:activity_id>", methods=["GET", "POST"])
@roles_required(Role.admin.value)
@submissions.keyed()
def register_edit(activity_id):
    """Add or change one processing activity; a stale save answers 409 with the current text."""
    from app.forms.register import ProcessingActivityForm
    from models import ProcessingActivity

    activity = db.session.get(ProcessingActivity, activity_id) if activity_id else None
    if activity_id and activity is None:
        abort(404)
    form = ProcessingActivityForm(obj=activity if request.method == "GET" else None)
    if request.method == "GET":
        if activity:
            writes.stamp(form, activity)
        return render("privacy/register_form.html", form=form, activity=activity)
    if not form.validate():
        return render("privacy/register_form.html", form=form, activity=activity, status=422)
    if activity and writes.stale(form, activity):
        return _register_conflict(form, activity)
    created = activity is None
    if created:
        activity = ProcessingActivity()
        db.session.add(activity)
    for name in REGISTER_FIELDS:
        setattr(activity, name, getattr(form, name).data.strip())
    activity.position = form.position.data or 0
    activity.updated_by_id = current_user.id
    if not writes.save(commit=False):
        return _register_conflict(form, db.session.get(ProcessingActivity, activity_id) or abort(404))
    record_audit("register_updated", user_id=current_user.id, object_type="processing_activity",
                 object_id=activity.id, ip=client_ip())
    if created:
        submissions.made(activity, url_for("privacy.register"))
    db.session.commit()
    return redirect(url_for("privacy.register"), 303)


def _register_conflict(form, current):
    """409: another admin saved this entry first; their text is shown, this admin's stays in the form."""
    ctx = writes.conflict(form, current, _("Ktoś inny zapisał zmiany w tej pozycji rejestru, zanim zapisałeś/aś "
                                           "swoje. Poniżej są aktualne wartości; Twoja wersja jest nadal "
                                           "w formularzu."))
    return render("privacy/register_form.html", form=form, activity=current, **ctx)


@bp.route("/privacy/register/<int:activity_id>/delete", methods=["POST"])
@roles_required(Role.admin.value)
def register_delete(activity_id: int):
    """Remove a processing activity that no longer takes place."""
    from models import ProcessingActivity

    activity = db.session.get(ProcessingActivity, activity_id) or abort(404)
    db.session.delete(activity)
    record_audit("register_updated", user_id=current_user.id, object_type="processing_activity",
                 object_id=activity_id, ip=client_ip(), deleted=True)
    db.session.commit()
    return redirect(url_for("privacy.register"), 303)
