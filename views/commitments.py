"""Volunteer commitments (zobowiązania): the lists (the centre's overdue ones for coordinators,
the open ones in my osiedla for animators; by group, by resident), ticking one done with the
hours given, dropping it, and the volunteer's time sheet for a period.
"""
from datetime import date, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app import submissions, writes
from app.forms import choices
from app.forms.meetings import COMMITMENT_VIEW_LABELS, CommitmentEditForm, CommitmentForm, CommitmentStatusForm
from app.htmx import render, wants_fragment
from app.params import BadParameter, date_arg, int_arg, parse_id
from app.people import neighbourhood_choices
from app.sessions import client_ip, roles_required
from app.timeutil import today_local
from models import Commitment, CommitmentStatus, Role, db, ladder, record_audit
from models import meetings_queries as q
from views.meetings import fragment, template_helpers

bp = Blueprint("commitments", __name__, url_prefix="/commitments")

STAFF = (Role.animator.value, Role.coordinator.value)
PER_PAGE = 30
MAX_TIMESHEET_DAYS = 366


@bp.context_processor
def _labels():
    # next_url: where a form in a list row comes back to without JavaScript (the list as it was).
    back = request.full_path if request.method == "GET" and request.endpoint == "commitments.index" else None
    return {**template_helpers(), "today": today_local(), "next_url": back or url_for("commitments.index")}


def _default_view() -> str:
    return "overdue" if current_user.role == Role.coordinator.value else "open"


def _safe_next(default: str) -> str:
    """Back where the form was, but only to a path on this site."""
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return default


@bp.route("")
@roles_required(*STAFF)
def index():
    """Commitments in scope: overdue, open, done, dropped or all; filtered by group, resident, osiedle."""
    view = request.args.get("view") or _default_view()
    if view not in dict(COMMITMENT_VIEW_LABELS):
        raise BadParameter(description=_("Parametr „view” ma nieznaną wartość."))
    group_id = int_arg("group", 0, minimum=0)
    resident_id = int_arg("resident", 0, minimum=0)
    hood_id = int_arg("neighbourhood", 0, minimum=0)
    mine = request.args.get("mine") == "1"
    page = int_arg("page", 1)
    resident = None
    if resident_id:
        resident = q.get_scoped_resident(current_user, resident_id)
        if resident is None:
            abort(404)
    rows, has_next = q.commitment_list(current_user, view=view, today=today_local(), group_id=group_id,
                                       resident_id=resident_id, neighbourhood_id=hood_id,
                                       recorded_by_id=current_user.id if mine else None,
                                       page=page, per_page=PER_PAGE)
    filters = {"view": view, "group": group_id or None, "resident": resident_id or None,
               "neighbourhood": hood_id or None, "mine": "1" if mine else None}
    return render("commitments/index.html", block="results", rows=rows, has_next=has_next, page=page, view=view,
                  views=COMMITMENT_VIEW_LABELS, groups=q.scoped_groups(current_user, include_ended=True),
                  hoods=neighbourhood_choices(current_user), group_id=group_id, hood_id=hood_id,
                  resident=resident, mine=mine, filters=filters)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
@submissions.keyed()
def new():
    """A promise recorded outside a meeting: for a resident found by name (or linked from their page)."""
    resident_id = int_arg("resident", 0, minimum=0) or (request.form.get("resident_id", type=parse_id) or 0)
    resident = q.get_scoped_resident(current_user, resident_id) if resident_id else None
    if resident_id and resident is None:
        abort(404)
    form = CommitmentForm()
    groups = q.scoped_groups(current_user)
    form.group_id.choices = choices([(0, _("— bez grupy —"))] + [(g.id, g.name) for g in groups])
    query = (request.args.get("q") or "").strip()[:100]
    found = q.search_for_meeting(current_user, query) if resident is None and len(query) >= 2 else []
    if request.method == "GET":
        if resident is not None:
            form.resident_id.data = resident.id
        return render("commitments/new.html", form=form, resident=resident, q=query, found=found)
    if resident is None or not form.validate():
        return render("commitments/new.html", form=form, resident=resident, q=query, found=found, status=422)
    commitment = Commitment(centre_id=resident.centre_id, neighbourhood_id=resident.neighbourhood_id,
                            resident_id=resident.id, group_id=form.group_id.data or None,
                            what=form.what.data.strip(), due_on=form.due_on.data, recorded_by_id=current_user.id)
    db.session.add(commitment)
    db.session.flush()
    record_audit("commitment_created", user_id=current_user.id, object_type="commitment", object_id=commitment.id,
                 ip=client_ip(), via="form")
    ladder.refresh([resident.id])
    flash(_("Zapisano zobowiązanie: %(name)s.", name=resident.display_name), "success")
    resp = redirect(url_for("commitments.index", resident=resident.id, view="all"), 303)
    submissions.made(commitment, resp)
    db.session.commit()
    return resp


def _apply_status(commitment: Commitment, status: str, hours, done_on: date | None) -> list[str]:
    """Set the status (and hours with "done"); the names of what changed. Setting it again changes nothing."""
    before = (commitment.status, commitment.hours, commitment.done_on)
    commitment.status = status
    if status == CommitmentStatus.done.value:
        commitment.hours = hours if hours is not None else commitment.hours
        commitment.done_on = done_on or commitment.done_on or today_local()
    else:
        commitment.hours = None
        commitment.done_on = None
    after = (commitment.status, commitment.hours, commitment.done_on)
    return [name for name, a, b in zip(("status", "hours", "done_on"), before, after) if a != b]


@bp.route("/<int:commitment_id>/status", methods=["POST"])
@roles_required(*STAFF)
def set_status(commitment_id: int):
    """Tick done (with hours), drop, or bring back to promised. A repeated tap changes nothing."""
    commitment = q.get_commitment(current_user, commitment_id)
    if commitment is None:
        abort(404)
    form = CommitmentStatusForm()
    if not form.validate():
        errors = [str(e) for f in form for e in f.errors]
        if wants_fragment():
            return fragment("commitments/index.html", [("item", {"c": commitment, "errors": errors})],
                            status=422, message=_("Nie zapisano: %(errors)s", errors=" ".join(errors)))
        edit_form = _edit_form(commitment)
        edit_form.form_errors.extend(errors)
        return render("commitments/edit.html", form=edit_form, commitment=commitment, status=422)
    changed = _apply_status(commitment, form.status.data, form.hours.data, form.done_on.data)
    if changed:
        record_audit("commitment_status_set", user_id=current_user.id, object_type="commitment",
                     object_id=commitment.id, ip=client_ip(), status=commitment.status, fields=changed)
        try:
            db.session.flush()
        except StaleDataError:
            db.session.rollback()
            # Its twin (the same tap sent twice at once) may have saved exactly this: then there is
            # nothing to do and nothing to report. Anything else is someone else's change: 409.
            commitment = q.get_commitment(current_user, commitment_id)
            if commitment is None or _apply_status(commitment, form.status.data, form.hours.data, form.done_on.data):
                db.session.rollback()
                return _status_conflict(commitment_id)
        else:
            ladder.refresh([commitment.resident_id])
    message = {
        "done": _("Zrobione: %(what)s.", what=commitment.what),
        "dropped": _("Porzucone: %(what)s.", what=commitment.what),
    }.get(commitment.status, _("Znów obiecane: %(what)s.", what=commitment.what))
    if wants_fragment():
        resp = fragment("commitments/index.html", [("item", {"c": commitment})], message=message)
    else:
        flash(message, "success")
        resp = redirect(_safe_next(url_for("commitments.index")), 303)
    db.session.commit()
    return resp


def _status_conflict(commitment_id: int):
    current = q.get_commitment(current_user, commitment_id)
    if wants_fragment():
        return fragment("commitments/index.html", [("item", {"c": current})], status=409,
                        message=_("Ktoś właśnie zmienił to zobowiązanie; pokazujemy aktualny stan."))
    flash(_("Ktoś właśnie zmienił to zobowiązanie; pokazujemy aktualny stan."), "error")
    return redirect(url_for("commitments.edit", commitment_id=commitment_id), 303)


def _edit_form(commitment: Commitment, formdata=None) -> CommitmentEditForm:
    form = CommitmentEditForm(formdata=formdata, obj=commitment if formdata is None else None)
    groups = q.scoped_groups(current_user, include_ended=True)
    form.group_id.choices = choices([(0, _("— bez grupy —"))] + [(g.id, g.name) for g in groups])
    if formdata is None:
        form.group_id.data = commitment.group_id or 0
        writes.stamp(form, commitment)
    return form


@bp.route("/<int:commitment_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit(commitment_id: int):
    """One commitment: what, by when, group, status and hours. A stale version answers 409."""
    commitment = q.get_commitment(current_user, commitment_id)
    if commitment is None:
        abort(404)
    if request.method == "GET":
        return render("commitments/edit.html", form=_edit_form(commitment), commitment=commitment)
    form = _edit_form(commitment, formdata=request.form)
    if not form.validate():
        return render("commitments/edit.html", form=form, commitment=commitment, status=422)
    if writes.stale(form, commitment):
        return _edit_conflict(form, commitment)
    commitment.what = form.what.data.strip()
    commitment.due_on = form.due_on.data
    commitment.group_id = form.group_id.data or None
    changed = _apply_status(commitment, form.status.data, form.hours.data, form.done_on.data)
    record_audit("commitment_updated", user_id=current_user.id, object_type="commitment", object_id=commitment.id,
                 ip=client_ip(), fields=sorted({"what", "due_on", "group_id", *changed}))
    if not writes.save(commit=False):
        return _edit_conflict(form, q.get_commitment(current_user, commitment_id))
    ladder.refresh([commitment.resident_id])
    flash(_("Zmiany zapisane."), "success")
    resp = redirect(url_for("commitments.index", resident=commitment.resident_id, view="all"), 303)
    db.session.commit()
    return resp


def _edit_conflict(form: CommitmentEditForm, current: Commitment):
    ctx = writes.conflict(form, current, _("Ktoś inny zapisał zmiany w tym zobowiązaniu, zanim zapisałeś/aś swoje. "
                                           "Poniżej są aktualne wartości; Twoje zmiany są nadal w formularzu."))
    return render("commitments/edit.html", form=form, commitment=current, **ctx)


@bp.route("/timesheet/<int:resident_id>")
@roles_required(*STAFF)
def timesheet(resident_id: int):
    """Karta ewidencji czasu pracy wolontariusza: dates, tasks and hours of done commitments, printable."""
    resident = q.get_scoped_resident(current_user, resident_id)
    if resident is None:
        abort(404)
    today = today_local()
    start = date_arg("from", today.replace(day=1))
    end = date_arg("to", today)
    if end < start:
        raise BadParameter(description=_("Parametr „to” musi być datą nie wcześniejszą niż „from”."))
    if (end - start) > timedelta(days=MAX_TIMESHEET_DAYS):
        raise BadParameter(description=_("Okres karty może mieć najwyżej rok."))
    rows = q.timesheet(current_user, resident.id, start, end)
    total = sum((c.hours or 0) for c in rows)
    return render("commitments/timesheet.html", resident=resident, rows=rows, total=total, start=start, end=end,
                  centre=current_user.centre)
