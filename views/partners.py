"""The cooperation network (sieć współpracy): partners — schools, libraries, the Rada Osiedla, NGOs,
parishes, businesses, … — their contact people, the cooperation log, the groups they support and the
meetings they took part in; and the network as a picture, drawn on the server as SVG.

Animators see the partners of their osiedla and the centre's city-wide partners (without an
osiedle); coordinators every partner of their centre; other roles get 403, and a partner outside
the scope is a 404. Contact people are personal data: only on the partner's page, and the audit
trail records that they were added or removed, never who they are.
"""
from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from jinja2_fragments.flask import render_block
from flask_babel import gettext as _
from flask_login import current_user

from app import network_svg, submissions, writes
from app.forms import choices
from app.forms.diagnosis import (CITY_WIDE, PARTNER_KIND_LABELS, ContactForm, CooperationForm, LinkGroupForm,
                                 LinkMeetingForm, PartnerForm)
from app.htmx import render, wants_fragment
from app.labels import label
from app.params import int_arg, optional_id
from app.people import neighbourhood_choices, neighbourhoods_for
from app.sessions import client_ip, roles_required
from app.timeutil import utc_to_local
from models import Cooperation, Partner, PartnerContact, Role, db, partner_group, partner_meeting, record_audit
from models import diagnosis_queries as q

bp = Blueprint("partners", __name__, url_prefix="/partners")

STAFF = (Role.animator.value, Role.coordinator.value)
LOG_ON_PAGE = 15  # the newest entries of the cooperation log on the partner's page (?log=all: more)
FIELDS = ("name", "kind", "neighbourhood_id", "address", "website", "phone", "email", "krs", "notes", "active")


# --- helpers ------------------------------------------------------------------------------------

def _partner_or_404(partner_id: int, **kwargs) -> Partner:
    partner = q.get_partner(current_user, partner_id, **kwargs)
    if partner is None:
        abort(404)
    return partner


def _audit(action: str, partner_id: int, **detail) -> None:
    record_audit(action, user_id=current_user.id, object_type="partner", object_id=partner_id, ip=client_ip(),
                 **detail)


def _hood_choices(partner: Partner | None = None) -> list[tuple[int, str]]:
    hoods = [(CITY_WIDE, _("— całe centrum, bez osiedla (np. organizacja ogólnomiejska) —"))]
    hoods += neighbourhood_choices(current_user)
    if partner is not None and partner.neighbourhood_id and partner.neighbourhood_id not in {h for h, _n in hoods}:
        hoods.insert(1, (partner.neighbourhood_id, partner.neighbourhood.name))
    return hoods


def _meeting_label(mid, title, starts_at) -> tuple[int, str]:
    return mid, f"{utc_to_local(starts_at).strftime('%d.%m.%Y')} · {title}"


def _unique_ids(form, prefix: str):
    """Several forms share the partner's page: give their fields ids of their own."""
    for f in form:
        f.id = f"{prefix}-{f.name}"
        f.label.field_id = f.id
    return form


def _group_options(partner: Partner) -> list[tuple[int, str]]:
    """Groups the partner may be linked to: asked once a request (two forms on the page use them)."""
    if "partner_groups" not in g:
        g.partner_groups = q.group_choices(current_user, partner.neighbourhood_id)
    return g.partner_groups


def _meeting_options(partner: Partner) -> list[tuple[int, str]]:
    if "partner_meetings" not in g:
        g.partner_meetings = [_meeting_label(*m) for m in q.meeting_choices(current_user, partner.neighbourhood_id)]
    return g.partner_meetings


def _group_form(partner: Partner, linked, form=None) -> LinkGroupForm:
    form = _unique_ids(form or LinkGroupForm(formdata=None), "pg")
    taken = {x.id for x in linked}
    form.group_id.choices = choices([c for c in _group_options(partner) if c[0] not in taken])
    return form


def _meeting_form(partner: Partner, linked, form=None) -> LinkMeetingForm:
    form = _unique_ids(form or LinkMeetingForm(formdata=None), "pm")
    taken = {m.id for m in linked}
    form.meeting_id.choices = choices([c for c in _meeting_options(partner) if c[0] not in taken])
    return form


def _cooperation_form(partner: Partner, form=None) -> CooperationForm:
    """The log's form offers the groups the partner supports (another one is linked under "Grupy,
    które wspiera" first) and the recent meetings: small enough for a phone and for a fragment."""
    form = _unique_ids(form or CooperationForm(formdata=None), "coop")
    supported = [(x.id, x.name) for x in q.partner_groups(current_user, partner.id)]
    form.group_id.choices = choices([(0, _("— bez grupy —"))] + supported)
    form.meeting_id.choices = choices([(0, _("— bez spotkania —"))] + _meeting_options(partner))
    return form


def _meeting_fits(partner: Partner, meeting_id: int) -> bool:
    """A meeting in the user's scope, and in the partner's osiedle when it has one."""
    meeting = q.scoped_meeting(current_user, meeting_id)
    return meeting is not None and partner.neighbourhood_id in (None, meeting.neighbourhood_id)


def _block_context(block: str | None, partner: Partner) -> dict:
    """What one block of partners/detail.html reads (everything for the whole page)."""
    ctx = {}
    if block in (None, "contacts"):
        ctx["contact_form"] = _unique_ids(ContactForm(formdata=None), "contact")
    if block in (None, "cooperations"):
        whole = request.args.get("log") == "all"
        limit = q.COOPERATIONS_LIMIT if whole else LOG_ON_PAGE
        rows = q.partner_cooperations(current_user, partner.id, limit=limit + 1)
        ctx["cooperations"], ctx["more_log"] = rows[:limit], len(rows) > limit
    if block in (None, "groups"):
        ctx["groups"] = q.partner_groups(current_user, partner.id)
        ctx["group_form"] = _group_form(partner, ctx["groups"])
    if block in (None, "meetings"):
        ctx["meetings"] = q.partner_meetings(current_user, partner.id)
        ctx["meeting_form"] = _meeting_form(partner, ctx["meetings"])
    return ctx


def _page(partner: Partner, block: str | None = None, status: int = 200, message: str | None = None, **extra):
    ctx = _block_context(block if wants_fragment() else None, partner)
    ctx.update(extra)
    ctx.setdefault("form", None)
    return render("partners/detail.html", block=block, status=status, message=message, partner=partner, **ctx)


def _after_write(partner_id: int, block: str, message: str):
    """htmx: the block again with the message out of band; a full page: 303 back to the partner."""
    if wants_fragment():
        return _page(_partner_or_404(partner_id, with_contacts=block == "contacts"), block=block, message=message)
    flash(message, "success")
    return redirect(url_for("partners.show", partner_id=partner_id), 303)


def _fragments(partner: Partner, main: str, also: list[str], message: str):
    """htmx: `main` for the target, the `also` blocks out of band, and the status message."""
    ctx = {"partner": partner, "form": None}
    for block in (main, *also):
        ctx.update(_block_context(block, partner))
    body = render_block("partners/detail.html", main, **ctx)
    body += "".join(render_block("partners/detail.html", b, oob=True, **ctx) for b in also)
    body += render_template("_macros/status_oob.html", message=message)
    resp = make_response(body)
    resp.headers["Vary"] = "HX-Request"
    return resp


# --- the list -------------------------------------------------------------------------------------

@bp.route("")
@roles_required(*STAFF)
def index():
    """Partners in scope, filtered by kind and osiedle (or city-wide), searched by name."""
    kinds = dict(PARTNER_KIND_LABELS)
    hoods = neighbourhood_choices(current_user)
    raw_hood = request.args.get("neighbourhood") or ""
    if raw_hood == q.CITY_WIDE:
        hood = q.CITY_WIDE
    elif optional_id(raw_hood) in {h for h, _n in hoods}:
        hood = optional_id(raw_hood)
    else:
        hood = None
    filters = {"kind": request.args.get("kind") if request.args.get("kind") in kinds else "",
               "neighbourhood": hood or "", "q": (request.args.get("q") or "").strip()[:100]}
    page = int_arg("page", 1)
    rows, has_next = q.partner_list(current_user, kind=filters["kind"] or None, neighbourhood=hood,
                                    query=filters["q"], page=page)
    return render("partners/list.html", block="results", rows=rows, has_next=has_next, page=page, filters=filters,
                  kinds=PARTNER_KIND_LABELS, hoods=hoods)


# --- adding and editing ---------------------------------------------------------------------------------

def _apply(form: PartnerForm, partner: Partner) -> list[str]:
    before = {f: getattr(partner, f) for f in FIELDS}
    clean = lambda v: (v or "").strip() or None  # noqa: E731
    partner.name = form.name.data.strip()
    partner.kind = form.kind.data
    partner.neighbourhood_id = form.neighbourhood_id.data or None
    partner.address = clean(form.address.data)
    partner.website = clean(form.website.data)
    partner.phone = getattr(form.phone, "normalised", None)
    partner.email = (clean(form.email.data) or "").lower() or None
    partner.krs = getattr(form.krs, "normalised", None)
    partner.notes = clean(form.notes.data)
    partner.active = bool(form.active.data)
    return sorted(f for f in FIELDS if before[f] != getattr(partner, f))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
@submissions.keyed()
def new():
    """Add an institution or an organisation to the network."""
    form = PartnerForm()
    form.neighbourhood_id.choices = choices(_hood_choices())
    if not form.is_submitted():
        hoods = neighbourhood_choices(current_user)
        form.neighbourhood_id.data = hoods[0][0] if len(hoods) == 1 else CITY_WIDE
        if request.args.get("kind") in dict(PARTNER_KIND_LABELS):
            form.kind.data = request.args["kind"]
        return render("partners/new.html", form=form)
    if not form.validate():
        return render("partners/new.html", form=form, status=422)
    partner = Partner(centre_id=current_user.centre_id, created_by_id=current_user.id)
    _apply(form, partner)
    db.session.add(partner)
    db.session.flush()
    _audit("partner_created", partner.id, kind=partner.kind, neighbourhood_id=partner.neighbourhood_id)
    target = url_for("partners.show", partner_id=partner.id)
    submissions.made(partner, target)
    db.session.commit()
    flash(_("Partner dodany. Dopisz osoby do kontaktu i to, co już zrobiliście razem."), "success")
    return redirect(target, 303)


def _edit_form(partner: Partner, formdata=None) -> PartnerForm:
    form = _unique_ids(PartnerForm(formdata=formdata, obj=partner if formdata is None else None), "partner")
    form.neighbourhood_id.choices = choices(_hood_choices(partner))
    if formdata is None:
        form.neighbourhood_id.data = partner.neighbourhood_id or CITY_WIDE
        writes.stamp(form, partner)
    return form


@bp.route("/<int:partner_id>")
@roles_required(*STAFF)
def show(partner_id: int):
    """One partner: details, contact people, the cooperation log, the groups it supports, its meetings."""
    partner = _partner_or_404(partner_id, with_contacts=True)
    record_audit("partner_viewed", user_id=current_user.id, object_type="partner", object_id=partner.id,
                 ip=client_ip())
    response = _page(partner)
    db.session.commit()  # after rendering: the commit would expire what the page reads
    return response


@bp.route("/<int:partner_id>/edit")
@roles_required(*STAFF)
def edit(partner_id: int):
    """The partner's details as a form (htmx swaps it in place)."""
    partner = _partner_or_404(partner_id, with_contacts=True)
    return _page(partner, block="details", form=_edit_form(partner))


@bp.route("/<int:partner_id>", methods=["POST"])
@roles_required(*STAFF)
def update(partner_id: int):
    """Save the details; a stale version answers 409 with the current values and keeps the input."""
    partner = _partner_or_404(partner_id, with_contacts=True)
    form = _edit_form(partner, formdata=request.form)
    if not form.validate():
        return _page(partner, block="details", status=422, form=form)
    if writes.stale(form, partner):
        return _conflict(partner, form)
    changed = _apply(form, partner)
    _audit("partner_updated", partner.id, fields=changed)
    if not writes.save():
        return _conflict(_partner_or_404(partner_id, with_contacts=True), form)
    return _after_write(partner_id, "details", _("Zapisano."))


def _conflict(current: Partner, form: PartnerForm):
    ctx = writes.conflict(form, current, _("Ktoś inny zapisał zmiany tego partnera, zanim zapisałeś/aś swoje. "
                                           "Poniżej aktualne dane; Twoje zmiany są nadal w formularzu — sprawdź je "
                                           "i zapisz ponownie."))
    return _page(current, block="details", form=form, **ctx)


# --- contact people -----------------------------------------------------------------------------------

def _contact_replay(_row, partner_id: int):
    return _after_write(partner_id, "contacts", _("Osoba do kontaktu dodana."))


@bp.route("/<int:partner_id>/contacts", methods=["POST"])
@roles_required(*STAFF)
@submissions.keyed(replay=_contact_replay)
def contact_add(partner_id: int):
    """Add a contact person (name, function, phone, e-mail)."""
    partner = _partner_or_404(partner_id, with_contacts=True)
    form = _unique_ids(ContactForm(), "contact")
    if not form.validate():
        return _page(partner, block="contacts", status=422, contact_form=form)
    contact = PartnerContact(partner_id=partner.id, name=form.name.data.strip(),
                             role=(form.role.data or "").strip() or None,
                             phone=getattr(form.phone, "normalised", None),
                             email=(form.email.data or "").strip().lower() or None)
    db.session.add(contact)
    db.session.flush()
    _audit("partner_contact_added", partner.id, contact_id=contact.id)
    submissions.made(contact, url_for("partners.show", partner_id=partner_id))
    db.session.commit()
    return _after_write(partner_id, "contacts", _("Osoba do kontaktu dodana."))


@bp.route("/<int:partner_id>/contacts/<int:contact_id>/delete", methods=["POST"])
@roles_required(*STAFF)
def contact_delete(partner_id: int, contact_id: int):
    """Remove a contact person (someone who left the institution): their data goes with them."""
    partner = _partner_or_404(partner_id, with_contacts=True)
    contact = next((c for c in partner.contacts if c.id == contact_id), None)
    if contact is None:
        abort(404)
    db.session.execute(PartnerContact.__table__.delete().where(PartnerContact.id == contact.id))
    _audit("partner_contact_removed", partner.id, contact_id=contact_id)
    db.session.commit()
    return _after_write(partner_id, "contacts", _("Osoba do kontaktu usunięta."))


# --- the cooperation log -------------------------------------------------------------------------------

def _coop_page(partner: Partner, form: CooperationForm, status: int = 200):
    """The form for a new entry of the log: a page of its own, or (htmx) the form into the partner's page."""
    resp = render("partners/cooperation.html", block="coop_form", status=status, partner=partner,
                  form=_cooperation_form(partner, form))
    if status == 422 and wants_fragment():
        # The form was posted to replace the log; with errors it replaces only itself.
        resp.headers["HX-Retarget"] = "#coop-form"
        resp.headers["HX-Reswap"] = "outerHTML"
    return resp


@bp.route("/<int:partner_id>/cooperations/new")
@roles_required(*STAFF)
def cooperation_new(partner_id: int):
    """The form for the cooperation log (htmx opens it inside the partner's page)."""
    partner = _partner_or_404(partner_id, with_contacts=False)
    return _coop_page(partner, CooperationForm(formdata=None))


def _cooperation_answer(partner_id: int, linked: bool):
    message = _("Zapisano w dzienniku współpracy.")
    if wants_fragment() and linked:
        # The groups and meetings blocks changed too: they come along, out of band.
        return _fragments(_partner_or_404(partner_id, with_contacts=False), "cooperations", ["groups", "meetings"],
                          message)
    return _after_write(partner_id, "cooperations", message)


def _cooperation_replay(row, partner_id: int):
    coop = db.session.get(Cooperation, row.object_id) if row.object_id else None
    return _cooperation_answer(partner_id, bool(coop and (coop.group_id or coop.meeting_id)))


@bp.route("/<int:partner_id>/cooperations", methods=["POST"])
@roles_required(*STAFF)
@submissions.keyed(replay=_cooperation_replay)
def cooperation_add(partner_id: int):
    """Log what was done together. With a group or a meeting, the partner is also linked to it."""
    partner = _partner_or_404(partner_id, with_contacts=False)
    form = _unique_ids(CooperationForm(), "coop")
    form.validate()
    # Any group or meeting in scope (of the partner's osiedle, when it has one) will do, not only those
    # the select offered: they are checked here, one query each, only when given.
    if (form.group_id.data or 0) > 0 and q.scoped_group(current_user, form.group_id.data,
                                                        partner.neighbourhood_id) is None:
        form.group_id.errors.append(_("Wybierz grupę z listy."))
    if (form.meeting_id.data or 0) > 0 and not _meeting_fits(partner, form.meeting_id.data):
        form.meeting_id.errors.append(_("Wybierz spotkanie z listy."))
    if form.errors:
        return _coop_page(partner, form, status=422)
    coop = Cooperation(partner_id=partner.id, happened_on=form.happened_on.data, what=form.what.data.strip(),
                       group_id=form.group_id.data or None, meeting_id=form.meeting_id.data or None,
                       recorded_by_id=current_user.id)
    db.session.add(coop)
    db.session.flush()
    if coop.group_id:
        q.link(partner_group, partner_id=partner.id, group_id=coop.group_id)
    if coop.meeting_id:
        q.link(partner_meeting, partner_id=partner.id, meeting_id=coop.meeting_id)
    _audit("cooperation_logged", partner.id, cooperation_id=coop.id, group_id=coop.group_id,
           meeting_id=coop.meeting_id)
    linked = bool(coop.group_id or coop.meeting_id)
    submissions.made(coop, url_for("partners.show", partner_id=partner_id))
    db.session.commit()
    return _cooperation_answer(partner_id, linked)


# --- groups supported and meetings taken part in ---------------------------------------------------------

@bp.route("/<int:partner_id>/groups", methods=["POST"])
@roles_required(*STAFF)
def group_link(partner_id: int):
    """The partner supports a group in scope: it will appear on the group's page."""
    partner = _partner_or_404(partner_id)
    linked = q.partner_groups(current_user, partner.id)
    form = _group_form(partner, [], LinkGroupForm())  # a group linked already is fine: a repeated tap
    if not form.validate():
        return _page(partner, block="groups", status=422, groups=linked, group_form=_group_form(partner, linked, form))
    if q.link(partner_group, partner_id=partner.id, group_id=form.group_id.data):
        _audit("partner_group_linked", partner.id, group_id=form.group_id.data)
        db.session.commit()
    return _after_write(partner_id, "groups", _("Partner wspiera teraz tę grupę."))


@bp.route("/<int:partner_id>/groups/<int:group_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def group_unlink(partner_id: int, group_id: int):
    partner = _partner_or_404(partner_id)
    if q.scoped_group(current_user, group_id) is None:
        abort(404)
    if q.unlink(partner_group, partner_id=partner.id, group_id=group_id):
        _audit("partner_group_unlinked", partner.id, group_id=group_id)
        db.session.commit()
    return _after_write(partner_id, "groups", _("Grupa odłączona od partnera."))


@bp.route("/<int:partner_id>/meetings", methods=["POST"])
@roles_required(*STAFF)
def meeting_link(partner_id: int):
    """The partner took part in a meeting in scope."""
    partner = _partner_or_404(partner_id)
    linked = q.partner_meetings(current_user, partner.id)
    form = _meeting_form(partner, linked, LinkMeetingForm())
    if form.validate() and not _meeting_fits(partner, form.meeting_id.data):
        form.meeting_id.errors.append(_("Wybierz spotkanie z listy."))
    if form.errors:
        return _page(partner, block="meetings", status=422, meetings=linked, meeting_form=form)
    if q.link(partner_meeting, partner_id=partner.id, meeting_id=form.meeting_id.data):
        _audit("partner_meeting_linked", partner.id, meeting_id=form.meeting_id.data)
        db.session.commit()
    return _after_write(partner_id, "meetings", _("Spotkanie dopisane."))


@bp.route("/<int:partner_id>/meetings/<int:meeting_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def meeting_unlink(partner_id: int, meeting_id: int):
    partner = _partner_or_404(partner_id)
    if q.scoped_meeting(current_user, meeting_id) is None:
        abort(404)
    if q.unlink(partner_meeting, partner_id=partner.id, meeting_id=meeting_id):
        _audit("partner_meeting_unlinked", partner.id, meeting_id=meeting_id)
        db.session.commit()
    return _after_write(partner_id, "meetings", _("Spotkanie odłączone od partnera."))


# --- on a group's page --------------------------------------------------------------------------------------

@bp.route("/for-group/<int:group_id>")
@roles_required(*STAFF)
def for_group(group_id: int):
    """The partners that support a group. The group's page loads this block after it has been shown
    (templates/partners/_group_partners.html), so that the page stays within its statement budget."""
    group = q.scoped_group(current_user, group_id)
    if group is None:
        abort(404)
    return render("partners/group.html", block="group_partners", group=group,
                  supporting=q.partners_of_group(current_user, group.id))


# --- the network, as a picture -----------------------------------------------------------------------------

@bp.route("/network")
@roles_required(*STAFF)
def network():
    """Who cooperates with whom, for one osiedle (?neighbourhood=<slug>) or everything in scope."""
    hoods = neighbourhoods_for(current_user)
    slug = request.args.get("neighbourhood") or ""
    hood = next((h for h in hoods if h.slug == slug), None)
    if slug and hood is None:
        abort(404)
    centre = current_user.centre
    net = q.network(current_user, centre.name if centre else "CIL", hood.id if hood else None)
    from app.forms.groups import STAGE_LABELS

    stages = dict(STAGE_LABELS)
    svg = network_svg.render(
        net, partner_label=lambda k: label("partner_kind", k), group_label=lambda s: str(stages.get(s, s)),
        partner_url=lambda pid: url_for("partners.show", partner_id=pid),
        group_url=lambda gid: url_for("groups.show", group_id=gid))
    return render("partners/network.html", net=net, svg=svg, described=network_svg.describe(net), hood=hood,
                  hoods=hoods)
