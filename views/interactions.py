"""Logging a contact (kontakt) in three taps, and the animator's follow-ups."""
from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import update

from app import submissions
from app.forms import choices
from app.forms.residents import InteractionForm, QuickResidentForm
from app.params import parse_id
from app.htmx import render, wants_fragment
from app.people import create_from_quick_form, may_record_in, neighbourhood_choices
from app.sessions import client_ip, roles_required
from app.timeutil import local_to_utc, now_local, today_local
from models import Interaction, Role, db, ladder, record_audit
from models.base import utcnow
from models.people import get_interaction, get_resident, my_followups, search_residents

bp = Blueprint("interactions", __name__)

FIELD_WORKERS = (Role.animator.value, Role.coordinator.value)


def _quick_form():
    form = QuickResidentForm(prefix="new")
    form.neighbourhood_id.choices = choices(neighbourhood_choices(current_user))
    if not form.is_submitted() and len(form.neighbourhood_id.choices) == 1:
        form.neighbourhood_id.data = form.neighbourhood_id.choices[0].value
    return form


@bp.route("/interactions/new", methods=["GET", "POST"])
@roles_required(*FIELD_WORKERS)
@submissions.keyed()
def new():
    """Step 1: find or add the person. Step 2: how, what matters, next step. Save."""
    resident_id = request.values.get("resident", type=parse_id)
    resident = get_resident(current_user, resident_id) if resident_id else None
    if resident_id and resident is None:
        abort(404)
    form = InteractionForm()
    if request.method == "GET":
        form.occurred_at.data = now_local().replace(second=0)
        if resident:
            form.resident_id.data = resident.id
        q = (request.args.get("q") or "").strip()[:100]
        found = search_residents(current_user, q, limit=8) if q else []
        return render("interactions/new.html", block="picker" if q or request.args.get("picker") else None,
                      form=form, resident=resident, quick=_quick_form(), found=found, q=q)
    if resident is None or resident.id != form.resident_id.data:
        form.resident_id.data = None
    if not form.validate() or not form.check_sensitive():
        return render("interactions/new.html", form=form, resident=resident, quick=_quick_form(), found=[], q="",
                      status=422)
    occurred = local_to_utc(form.occurred_at.data) if form.occurred_at.data else utcnow()
    interaction = Interaction(
        resident_id=resident.id, user_id=current_user.id, occurred_at=occurred, channel=form.channel.data,
        concerns=(form.concerns.data or "").strip() or None, note=(form.note.data or "").strip() or None,
        next_step=(form.next_step.data or "").strip() or None, follow_up_on=form.follow_up_on.data)
    db.session.add(interaction)
    db.session.flush()
    ladder.note_contact(resident.id, occurred)
    record_audit("interaction_logged", user_id=current_user.id, object_type="resident", object_id=resident.id,
                 ip=client_ip(), interaction_id=interaction.id, channel=interaction.channel,
                 follow_up=bool(interaction.follow_up_on))
    target = url_for("residents.show", resident_id=resident.id, logged=1)
    submissions.made(interaction, target)
    db.session.commit()
    return redirect(target, 303)


@bp.route("/interactions/new/person", methods=["POST"])
@roles_required(*FIELD_WORKERS)
@submissions.keyed()
def new_person():
    """Add a new person from the contact form and go on to step 2 with them chosen."""
    quick = _quick_form()
    if quick.validate() and may_record_in(current_user, quick.neighbourhood_id.data):
        resident = create_from_quick_form(current_user, quick, via="contact")
        target = url_for("interactions.new", resident=resident.id)
        submissions.made(resident, target)
        db.session.commit()
        return redirect(target, 303)
    form = InteractionForm(formdata=None)
    return render("interactions/new.html", form=form, resident=None, quick=quick, found=[], q="", status=422,
                  show_quick=True)


@bp.route("/followups")
@roles_required(*FIELD_WORKERS)
def followups():
    """My next steps: overdue, today and the coming week."""
    today = today_local()
    items, total = my_followups(current_user, today)
    return render("interactions/followups.html", items=items, total=total, today=today)


@bp.route("/followups/<int:interaction_id>/done", methods=["POST"])
@roles_required(*FIELD_WORKERS)
def followup_done(interaction_id: int):
    """Tick a next step off (idempotent: a second tap changes nothing)."""
    interaction = get_interaction(current_user, interaction_id)
    if interaction is None or interaction.user_id != current_user.id:
        abort(404)
    if interaction.follow_up_done_at is None:
        # Set only if still unset, in the database: of two taps sent at once, one ticks it off.
        ticked = db.session.execute(
            update(Interaction).where(Interaction.id == interaction.id, Interaction.follow_up_done_at.is_(None))
            .values(follow_up_done_at=utcnow()).execution_options(synchronize_session=False))
        if ticked.rowcount:
            record_audit("followup_done", user_id=current_user.id, object_type="resident",
                         object_id=interaction.resident_id, ip=client_ip(), interaction_id=interaction.id)
        db.session.commit()
    if wants_fragment():
        return render("interactions/followups.html", block="done", item=interaction, today=today_local(),
                      message=_("Odhaczone."))
    return redirect(url_for("interactions.followups"), 303)


@bp.route("/followups/export.<fmt>")
@roles_required(*FIELD_WORKERS)
def followups_export(fmt: str):
    """My follow-ups as CSV or XLSX (audited)."""
    from app.exports import csv_response, xlsx_response
    from app.labels import label

    if fmt not in ("csv", "xlsx"):
        abort(404)
    items, _total = my_followups(current_user, today_local(), limit=10_000)
    rows = [(i.follow_up_on, i.next_step, i.resident.display_name, i.resident.neighbourhood.name,
             label("channel", i.channel), i.occurred_at) for i in items]
    record_audit("export", user_id=current_user.id, object_type="followup_list", ip=client_ip(), format=fmt,
                 rows=len(rows))
    db.session.commit()
    header = [_("termin"), _("następny krok"), _("osoba"), _("osiedle"), _("kontakt"), _("data kontaktu")]
    if fmt == "csv":
        return csv_response("nastepne-kroki.csv", header, rows)
    return xlsx_response("nastepne-kroki.xlsx", header, rows, title=_("Następne kroki"))
