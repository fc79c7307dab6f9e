"""Residents: the list with active search, quick add without duplicates, one person's page,
consents, and merging two records of the same person."""
from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import submissions, writes
from app.forms import choices
from app.forms.residents import (ConsentForm, QuickResidentForm, ResidentForm, parse_tags)
from app.htmx import render, wants_fragment
from app.params import int_arg, parse_id
from app.people import create_from_quick_form, merge_residents, neighbourhood_choices, may_record_in
from app.sessions import client_ip, roles_required
from app.timeutil import today_local
from models import Consent, Neighbourhood, ResidentTag, Role, RUNG_ORDER, db, ladder, record_audit, timeline
from models.people import get_resident, possible_duplicates, resident_page, search_residents

bp = Blueprint("residents", __name__, url_prefix="/residents")

FIELD_WORKERS = (Role.animator.value, Role.coordinator.value)


def _scoped_or_404(resident_id: int, **kwargs):
    resident = get_resident(current_user, resident_id, **kwargs)
    if resident is None:
        abort(404)
    return resident


@bp.route("")
@roles_required(*FIELD_WORKERS)
def index():
    """Residents in scope: active search as you type, filters, pages."""
    hoods = neighbourhood_choices(current_user)
    hood_ids = {h for h, _name in hoods}
    filters = {
        "q": (request.args.get("q") or "").strip()[:100],
        "neighbourhood": int_arg("neighbourhood", 0, minimum=0),
        "tag": (request.args.get("tag") or "").strip()[:60],
        "rung": request.args.get("rung") or "",
        "no_contact": int_arg("no_contact", 0, minimum=0, maximum=3650),
    }
    if filters["rung"] and filters["rung"] not in RUNG_ORDER:
        filters["rung"] = ""
    if filters["neighbourhood"] and filters["neighbourhood"] not in hood_ids:
        filters["neighbourhood"] = 0
    page = int_arg("page", 1)
    residents, has_next = resident_page(
        current_user, query=filters["q"], neighbourhood_id=filters["neighbourhood"] or None,
        tag=filters["tag"] or None, rung=filters["rung"] or None, no_contact_days=filters["no_contact"] or None,
        page=page)
    return render("residents/list.html", block="results", residents=residents, has_next=has_next, page=page,
                  filters=filters, hoods=hoods)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*FIELD_WORKERS)
@submissions.keyed()
def new():
    """Add a person with only a name or a description and an osiedle; duplicates shown while typing."""
    form = QuickResidentForm()
    form.neighbourhood_id.choices = choices(neighbourhood_choices(current_user))
    if request.method == "GET" and len(form.neighbourhood_id.choices) == 1:
        form.neighbourhood_id.data = form.neighbourhood_id.choices[0].value
    if request.method == "POST":
        if form.validate() and may_record_in(current_user, form.neighbourhood_id.data):
            resident = create_from_quick_form(current_user, form)
            if request.args.get("then") == "contact":
                target = url_for("interactions.new", resident=resident.id)
            else:
                target = url_for("residents.show", resident_id=resident.id)
            submissions.made(resident, target)
            db.session.commit()
            return redirect(target, 303)
        return render("residents/new.html", form=form, duplicates=[], status=422)
    return render("residents/new.html", form=form, duplicates=[])


@bp.route("/duplicates")
@roles_required(*FIELD_WORKERS)
def duplicates():
    """Fragment: people in scope who may be the one being added."""
    from app.forms.residents import normalise_phone

    try:
        phone = normalise_phone(request.args.get("phone"))
    except ValueError:
        phone = None
    found = possible_duplicates(
        current_user, first_name=request.args.get("first_name", "")[:80], last_name=request.args.get("last_name", "")[:80],
        description=request.args.get("description", "")[:200], phone=phone, email=request.args.get("email", "")[:254])
    form = QuickResidentForm(formdata=request.args, meta={"csrf": False})  # the full page keeps what was typed
    form.neighbourhood_id.choices = choices(neighbourhood_choices(current_user))
    return render("residents/new.html", block="duplicates", duplicates=found, form=form)


@bp.route("/search")
@roles_required(*FIELD_WORKERS)
def search():
    """Fragment: a short list of matching residents for pickers (autocomplete)."""
    q = (request.args.get("q") or "").strip()[:100]
    purpose = request.args.get("for", "")
    found = search_residents(current_user, q, limit=8) if q else []
    return render("residents/_picker.html", block="picker", found=found, q=q, purpose=purpose)


@bp.route("/<int:resident_id>")
@roles_required(*FIELD_WORKERS)
def show(resident_id: int):
    """One person: the ladder rung and why, contact data with consents, and the timeline."""
    resident = _scoped_or_404(resident_id, with_details=True)
    record_audit("resident_viewed", user_id=current_user.id, object_type="resident", object_id=resident.id,
                 ip=client_ip())
    response = _page(resident)
    db.session.commit()  # after rendering, so that the commit does not expire what the page reads
    return response


def _page(resident, form=None, status=200, block=None, message=None, editing=False, **extra):
    """The resident's page, or one of its blocks. The rung is the cached one (kept in step on
    every write, and nightly by `flask recompute-ladder` as "active" ages)."""
    standing = ladder.standing_of(resident)
    if form is None and editing:
        form = _edit_form(resident)
    return render("residents/detail.html", block=block, status=status, message=message, resident=resident,
                  standing=standing, form=form, consent_form=ConsentForm(formdata=None), editing=editing,
                  entries=timeline.resident_timeline(resident.id) if block is None else [], **extra)


def _edit_form(resident, formdata=None):
    form = ResidentForm(formdata=formdata, obj=resident if formdata is None else None)
    form.neighbourhood_id.choices = choices(neighbourhood_choices(current_user))
    if formdata is None:
        form.interests.data = ", ".join(resident.tag_list("interest"))
        form.offers.data = ", ".join(resident.tag_list("offer"))
        form.age_group.data = resident.age_group or ""
        writes.stamp(form, resident)
    if resident.neighbourhood_id not in {c.value for c in form.neighbourhood_id.choices}:
        # A coordinator may see a record in an osiedle they could not add to; keep it selectable.
        form.neighbourhood_id.choices = choices([(resident.neighbourhood_id, resident.neighbourhood.name)]) + \
            form.neighbourhood_id.choices
    return form


@bp.route("/<int:resident_id>", methods=["POST"])
@roles_required(*FIELD_WORKERS)
def update(resident_id: int):
    """Save the record (inline editing); a stale version answers 409 with the current values."""
    resident = _scoped_or_404(resident_id, with_details=True)
    form = _edit_form(resident, formdata=request.form)
    if not form.validate():
        return _page(resident, form=form, status=422, block="details", editing=True)
    if writes.stale(form, resident):
        return _conflict(resident, form)
    if not form.check_sensitive():
        return _page(resident, form=form, status=422, block="details", editing=True)
    before = {f: getattr(resident, f) for f in ("first_name", "last_name", "description", "phone", "email", "street",
                                                "building", "age_group", "notes", "neighbourhood_id")}
    resident.first_name = (form.first_name.data or "").strip() or None
    resident.last_name = (form.last_name.data or "").strip() or None
    resident.description = (form.description.data or "").strip() or None
    resident.phone = getattr(form.phone, "normalised", None)
    resident.email = (form.email.data or "").strip().lower() or None
    resident.street = (form.street.data or "").strip() or None
    resident.building = (form.building.data or "").strip() or None
    resident.age_group = form.age_group.data or None
    resident.notes = (form.notes.data or "").strip() or None
    resident.neighbourhood_id = form.neighbourhood_id.data
    new_tags = set([("interest", t) for t in parse_tags(form.interests.data)] +
                   [("offer", t) for t in parse_tags(form.offers.data)])
    old_tags = {(t.kind, t.tag): t for t in resident.tags}
    # Change only what changed: a tag that stays keeps its row (replacing the list inserted it again
    # before deleting the old row, and the unique (resident, kind, tag) refused the save).
    for key, row in old_tags.items():
        if key not in new_tags:
            resident.tags.remove(row)
    resident.tags.extend(ResidentTag(kind=k, tag=t) for k, t in sorted(new_tags - old_tags.keys()))
    tags_changed = new_tags != old_tags.keys()
    resident.updated_by_id = current_user.id
    resident.refresh_search()
    changed = sorted(f for f, v in before.items() if getattr(resident, f) != v) + (["tags"] if tags_changed else [])
    record_audit("resident_updated", user_id=current_user.id, object_type="resident", object_id=resident.id,
                 ip=client_ip(), fields=changed)
    if not writes.save():
        return _conflict(_scoped_or_404(resident_id, with_details=True), form)
    if wants_fragment():
        return _page(resident, block="details", message=_("Zapisano."))
    return redirect(url_for("residents.show", resident_id=resident.id), 303)


def _conflict(current, form):
    """409: someone saved first. Their values are on the page; this user's input stays in the form."""
    ctx = writes.conflict(form, current, _("Ktoś inny zapisał zmiany tej osoby, zanim zapisałeś/aś swoje. Poniżej "
                                           "aktualne dane; Twoje zmiany są nadal w formularzu — sprawdź je i zapisz "
                                           "ponownie."),
                          extra=[(_("Zainteresowania"), ", ".join(current.tag_list("interest")) or None),
                                 (_("Co może dać"), ", ".join(current.tag_list("offer")) or None)])
    return _page(current, form=form, block="details", editing=True, **ctx)


@bp.route("/<int:resident_id>/edit")
@roles_required(*FIELD_WORKERS)
def edit(resident_id: int):
    """The record's fields as a form (htmx swaps it in place; without htmx, the whole page)."""
    resident = _scoped_or_404(resident_id, with_details=True)
    return _page(resident, block="details", editing=True)


def _consent_replay(_row, resident_id: int):
    return _page(_scoped_or_404(resident_id, with_details=True), block="consents", message=_("Zgoda zapisana."))


@bp.route("/<int:resident_id>/consents", methods=["POST"])
@roles_required(*FIELD_WORKERS)
@submissions.keyed(replay=_consent_replay)
def consent_give(resident_id: int):
    """Record a consent for one purpose (date, how, who recorded it)."""
    resident = _scoped_or_404(resident_id, with_details=True)
    form = ConsentForm()
    if not form.validate():
        return _page(resident, status=422, block="consents", consent_errors=form)
    if any(c.active and c.purpose == form.purpose.data for c in resident.consents):
        return _page(resident, block="consents", message=_("Ta zgoda jest już zapisana."))
    consent = Consent(purpose=form.purpose.data, method=form.method.data, given_on=form.given_on.data,
                      recorded_by_id=current_user.id)
    resident.consents.append(consent)
    record_audit("consent_given", user_id=current_user.id, object_type="resident", object_id=resident.id,
                 ip=client_ip(), purpose=form.purpose.data, method=form.method.data)
    submissions.made(consent, url_for("residents.show", resident_id=resident_id))
    db.session.commit()
    if wants_fragment():
        return _page(_scoped_or_404(resident_id, with_details=True), block="consents", message=_("Zgoda zapisana."))
    return redirect(url_for("residents.show", resident_id=resident_id), 303)


@bp.route("/<int:resident_id>/consents/<int:consent_id>/withdraw", methods=["POST"])
@roles_required(*FIELD_WORKERS)
def consent_withdraw(resident_id: int, consent_id: int):
    """Mark a consent withdrawn today (idempotent)."""
    resident = _scoped_or_404(resident_id, with_details=True)
    consent = next((c for c in resident.consents if c.id == consent_id), None)
    if consent is None:
        abort(404)
    if consent.withdrawn_on is None:
        consent.withdrawn_on = today_local()
        consent.withdrawn_by_id = current_user.id
        record_audit("consent_withdrawn", user_id=current_user.id, object_type="resident", object_id=resident.id,
                     ip=client_ip(), purpose=consent.purpose)
        db.session.commit()
    if wants_fragment():
        return _page(_scoped_or_404(resident_id, with_details=True), block="consents", message=_("Zgoda wycofana."))
    return redirect(url_for("residents.show", resident_id=resident_id), 303)


@bp.route("/<int:resident_id>/merge", methods=["GET", "POST"])
@roles_required(Role.coordinator.value)
def merge(resident_id: int):
    """Coordinators: merge another record of the same person into this one."""
    keep = _scoped_or_404(resident_id, with_details=True)
    if request.method == "POST":
        other_id = request.form.get("other_id", type=parse_id)
        other = get_resident(current_user, other_id, with_details=True) if other_id else None
        if other is None or other.id == keep.id:
            return render("residents/merge.html", resident=keep, other=None, status=422,
                          error=_("Wybierz drugą kartę tej samej osoby."),
                          candidates=possible_duplicates(current_user, first_name=keep.first_name,
                                                         last_name=keep.last_name, description=keep.description,
                                                         phone=keep.phone, email=keep.email, exclude_id=keep.id))
        if request.form.get("confirm") != "yes":
            return render("residents/merge.html", resident=keep, other=other, candidates=[])
        merge_residents(current_user, keep, other)
        db.session.commit()
        return redirect(url_for("residents.show", resident_id=keep.id), 303)
    candidates = possible_duplicates(current_user, first_name=keep.first_name, last_name=keep.last_name,
                                     description=keep.description, phone=keep.phone, email=keep.email,
                                     exclude_id=keep.id)
    return render("residents/merge.html", resident=keep, other=None, candidates=candidates)
