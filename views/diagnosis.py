"""The local diagnosis (diagnoza środowiska lokalnego): findings — needs, resources, problems, ideas —
recorded from conversations, surveys, walks, meetings and existing data, and the diagnosis of an
osiedle built from them: by tag, how often each came up, which groups act on which needs, and the
gaps (needs nobody works on yet). Printable, and downloadable as XLSX.

Animators reach the osiedla assigned to them, coordinators their centre's; other roles get 403,
and a finding or an osiedle outside the scope is a 404. Queries live in `models/diagnosis_queries.py`.
"""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import submissions, writes
from app.exports import XlsxWriter
from app.forms import choices
from app.forms.diagnosis import DeleteForm, FindingForm, LinkGroupForm, NewFindingForm, SourceForm, join_tags
from app.htmx import render, wants_fragment
from app.labels import label
from app.params import optional_id
from app.people import neighbourhood_choices, neighbourhoods_for
from app.sessions import client_ip, roles_required
from app.timeutil import today_local, utc_to_local
from models import Finding, Role, db, finding_group, finding_interaction, finding_meeting, record_audit
from models import diagnosis_queries as q

bp = Blueprint("diagnosis", __name__, url_prefix="/diagnosis")

STAFF = (Role.animator.value, Role.coordinator.value)
FIELDS = ("kind", "title", "description", "source", "found_on", "tags", "neighbourhood_id")


# --- helpers ------------------------------------------------------------------------------------

def _hood_or_404(slug: str):
    """An osiedle the user works in, by its slug (another one is simply not found)."""
    hood = next((h for h in neighbourhoods_for(current_user) if h.slug == slug), None)
    if hood is None:
        abort(404)
    return hood


def _finding_or_404(finding_id: int) -> Finding:
    finding = q.get_finding(current_user, finding_id)
    if finding is None:
        abort(404)
    return finding


def _audit(action: str, finding_id: int | None, **detail) -> None:
    record_audit(action, user_id=current_user.id, object_type="finding", object_id=finding_id, ip=client_ip(),
                 **detail)


def _int(value) -> int | None:
    return optional_id(value)


# --- the diagnosis of an osiedle ------------------------------------------------------------------

@bp.route("")
@roles_required(*STAFF)
def index():
    """The diagnosis of the user's first osiedle (the navigation needs an address without a slug),
    or of the one chosen in the switcher (?neighbourhood=<slug>)."""
    hoods = neighbourhoods_for(current_user)
    if not hoods:
        return render("diagnosis/none.html")
    chosen = request.args.get("neighbourhood")
    hood = next((h for h in hoods if h.slug == chosen), hoods[0])
    return redirect(url_for("diagnosis.show", hood_slug=hood.slug))


@bp.route("/<hood_slug>")
@roles_required(*STAFF)
def show(hood_slug: str):
    """Needs and resources by tag, how often each came up, who works on what, and the gaps."""
    hood = _hood_or_404(hood_slug)
    diag = q.diagnosis(current_user, hood)
    hoods = neighbourhoods_for(current_user)
    return render("diagnosis/show.html", diag=diag, hood=hood, hoods=hoods, kinds=q.KIND_ORDER, today=today_local())


@bp.route("/<hood_slug>/export.xlsx")
@roles_required(*STAFF)
def export(hood_slug: str):
    """The diagnosis as a spreadsheet: every finding, the summary by tag, and the gaps."""
    hood = _hood_or_404(hood_slug)
    diag = q.diagnosis(current_user, hood)
    wb = XlsxWriter()

    def header(ws, titles):
        ws.append([str(t) for t in titles], bold=True)

    def row(ws, values):
        ws.append(values)

    ws = wb.sheet(_("Diagnoza"))
    header(ws, [_("Rodzaj"), _("Co"), _("Opis"), _("Tagi"), _("Źródło"), _("Data"), _("Ile razy"), _("Kontakty"),
                _("Spotkania"), _("Grupy, które działają"), _("Luka"), _("Zapisał/a")])
    for r in diag.rows:
        f = r.finding
        row(ws, [label("finding_kind", f.kind), f.title, f.description or "", ", ".join(r.tags),
                 label("finding_source", f.source), f.found_on, r.mentions, r.contacts, r.meetings,
                 ", ".join(g.name for g in r.acting_groups), _("tak") if r.is_gap else "", r.recorded_by or ""])
    ws = wb.sheet(_("Tagi"))
    header(ws, [_("Tag"), *(label("finding_kinds", k) for k in q.KIND_ORDER), _("Ile razy"), _("Luki")])
    for s in diag.by_tag:
        row(ws, [s.tag or _("bez tagu"), *(s.count(k) for k in q.KIND_ORDER), s.mentions, s.gaps])
    ws = wb.sheet(_("Luki"))
    header(ws, [_("Potrzeba, na którą nikt jeszcze nie odpowiada"), _("Tagi"), _("Ile razy"), _("Data")])
    for r in diag.gaps:
        row(ws, [r.finding.title, ", ".join(r.tags), r.mentions, r.finding.found_on])
    ws = wb.sheet(_("Kto na co odpowiada"))
    header(ws, [_("Grupa"), _("Rodzaj"), _("Na co odpowiada")])
    for group, rows in diag.who_works_on_what:
        for r in rows:
            row(ws, [group.name, label("finding_kind", r.finding.kind), r.finding.title])
    record_audit("diagnosis_exported", user_id=current_user.id, object_type="neighbourhood", object_id=hood.id,
                 ip=client_ip(), rows=len(diag.rows), format="xlsx")
    db.session.commit()
    return wb.response(f"diagnoza-{hood.slug}-{today_local().isoformat()}.xlsx")


# --- adding a finding ---------------------------------------------------------------------------------

def _source_of_new():
    """The contact or meeting a finding is added from (?interaction= / ?meeting=, or the form's hidden
    fields): (interaction, meeting); an id outside the user's scope is a 404."""
    interaction_id = _int(request.values.get("interaction") or request.form.get("interaction_id"))
    meeting_id = _int(request.values.get("meeting") or request.form.get("meeting_id"))
    interaction = meeting = None
    if interaction_id:
        interaction = q.scoped_interaction(current_user, interaction_id)
        if interaction is None:
            abort(404)
    elif meeting_id:
        meeting = q.scoped_meeting(current_user, meeting_id)
        if meeting is None:
            abort(404)
    return interaction, meeting


def _new_form(interaction, meeting) -> NewFindingForm:
    form = NewFindingForm()
    hoods = neighbourhood_choices(current_user)
    form.neighbourhood_id.choices = choices(hoods)
    fixed_hood = (interaction.resident.neighbourhood_id if interaction else meeting.neighbourhood_id if meeting
                  else None)
    if fixed_hood is not None:
        form.neighbourhood_id.data = fixed_hood  # where the contact or the meeting happened, whatever was sent
        if fixed_hood not in {h for h, _n in hoods}:
            abort(404)  # in scope (a coordinator's centre) but not an osiedle this user records in
    hood_id = fixed_hood or (form.neighbourhood_id.data if isinstance(form.neighbourhood_id.data, int) else None)
    if not form.is_submitted():
        slug = request.args.get("neighbourhood")
        if fixed_hood is None and slug:
            hood_id = next((h.id for h in neighbourhoods_for(current_user) if h.slug == slug), None)
            form.neighbourhood_id.data = hood_id
        elif fixed_hood is None and len(hoods) == 1:
            hood_id = form.neighbourhood_id.data = hoods[0][0]
        if request.args.get("kind") in q.KIND_ORDER:
            form.kind.data = request.args["kind"]
        if interaction:
            form.source.data = "conversation"
            form.found_on.data = utc_to_local(interaction.occurred_at).date()
            form.title.data = (interaction.concerns or "")[:200]
            form.interaction_id.data = interaction.id
        elif meeting:
            form.source.data = "meeting"
            form.found_on.data = min(utc_to_local(meeting.starts_at).date(), today_local())
            form.meeting_id.data = meeting.id
    form.group_id.choices = choices([(0, _("— żadna (jeszcze) —"))] + q.group_choices(current_user, hood_id))
    return form


def _new_page(form, interaction, meeting, status=200):
    hood_id = form.neighbourhood_id.data if isinstance(form.neighbourhood_id.data, int) else None
    existing = (q.findings_to_join(current_user, hood_id, interaction_id=interaction.id if interaction else None,
                                   meeting_id=meeting.id if meeting else None)
                if hood_id and (interaction or meeting) else [])
    return render("diagnosis/new.html", form=form, interaction=interaction, meeting=meeting, existing=existing,
                  tags=q.tags_in_use(current_user, hood_id) if hood_id else [], status=status)


@bp.route("/findings/new", methods=["GET", "POST"])
@roles_required(*STAFF)
@submissions.keyed()
def new():
    """Add a need, a resource, a problem or an idea; from a contact (?interaction=) or a meeting
    (?meeting=) the osiedle, the source, the date and the link are filled in: one step."""
    interaction, meeting = _source_of_new()
    form = _new_form(interaction, meeting)
    if request.method == "GET":
        return _new_page(form, interaction, meeting)
    if not form.validate():
        return _new_page(form, interaction, meeting, status=422)
    group = None
    if form.group_id.data:
        group = q.scoped_group(current_user, form.group_id.data, form.neighbourhood_id.data)
        if group is None:
            form.group_id.errors.append(_("Ta grupa działa na innym osiedlu niż to, którego dotyczy wpis."))
            return _new_page(form, interaction, meeting, status=422)
    finding = Finding(centre_id=current_user.centre_id, recorded_by_id=current_user.id)
    _apply(form, finding)
    db.session.add(finding)
    db.session.flush()
    if interaction:
        q.link(finding_interaction, finding_id=finding.id, interaction_id=interaction.id)
    if meeting:
        q.link(finding_meeting, finding_id=finding.id, meeting_id=meeting.id)
    if group:
        q.link(finding_group, finding_id=finding.id, group_id=group.id)
    _audit("finding_created", finding.id, kind=finding.kind, source=finding.source,
           neighbourhood_id=finding.neighbourhood_id, interaction_id=interaction.id if interaction else None,
           meeting_id=meeting.id if meeting else None, group_id=group.id if group else None)
    target = url_for("diagnosis.finding", finding_id=finding.id)
    submissions.made(finding, target)
    db.session.commit()
    flash(_("Zapisano w diagnozie: %(kind)s.", kind=label("finding_kind", finding.kind)), "success")
    return redirect(target, 303)


def _apply(form: FindingForm, finding: Finding) -> list[str]:
    before = {f: getattr(finding, f) for f in FIELDS}
    finding.kind = form.kind.data
    finding.title = form.title.data.strip()
    finding.description = (form.description.data or "").strip() or None
    finding.source = form.source.data
    finding.found_on = form.found_on.data
    finding.tags = join_tags(form.tags.data)
    finding.neighbourhood_id = form.neighbourhood_id.data
    return sorted(f for f in FIELDS if before[f] != getattr(finding, f))


# --- one finding ----------------------------------------------------------------------------------------

def _edit_form(finding: Finding, formdata=None) -> FindingForm:
    form = FindingForm(formdata=formdata, obj=finding if formdata is None else None)
    hoods = neighbourhood_choices(current_user)
    if finding.neighbourhood_id not in {h for h, _n in hoods}:
        hoods = [(finding.neighbourhood_id, finding.neighbourhood.name)] + hoods
    form.neighbourhood_id.choices = choices(hoods)
    if formdata is None:
        form.tags.data = ", ".join(q._tags(finding.tags))
        writes.stamp(form, finding)
    return form


def _block_context(block: str | None, finding: Finding) -> dict:
    ctx = {}
    if block in (None, "groups"):
        linked = q.finding_groups(current_user, finding.id)
        link_form = LinkGroupForm(formdata=None)
        link_form.group_id.choices = choices(q.group_choices(current_user, finding.neighbourhood_id,
                                                             exclude=[g.id for g in linked]))
        ctx.update(groups=linked, link_form=link_form)
    if block in (None, "sources"):
        ctx.update(contacts=q.finding_contacts(current_user, finding.id),
                   meetings=q.finding_meetings(current_user, finding.id))
    return ctx


def _page(finding: Finding, block: str | None = None, status: int = 200, message: str | None = None, **extra):
    """The finding's page, or one of its blocks (details, groups, sources) for htmx."""
    ctx = _block_context(block if wants_fragment() else None, finding)
    ctx.update(extra)
    ctx.setdefault("form", None)
    ctx.setdefault("delete_form", DeleteForm(formdata=None))
    return render("diagnosis/finding.html", block=block, status=status, message=message, finding=finding, **ctx)


@bp.route("/findings/<int:finding_id>")
@roles_required(*STAFF)
def finding(finding_id: int):
    """One finding: what it is, where it came up (contacts, meetings), and the groups that act on it."""
    return _page(_finding_or_404(finding_id))


@bp.route("/findings/<int:finding_id>/edit")
@roles_required(*STAFF)
def edit(finding_id: int):
    """The finding as a form (htmx swaps it in place of the details; without htmx, the whole page)."""
    finding = _finding_or_404(finding_id)
    return _page(finding, block="details", form=_edit_form(finding))


@bp.route("/findings/<int:finding_id>", methods=["POST"])
@roles_required(*STAFF)
def update(finding_id: int):
    """Save the finding; a stale version answers 409 with the current values and keeps the input."""
    finding = _finding_or_404(finding_id)
    form = _edit_form(finding, formdata=request.form)
    if not form.validate():
        return _page(finding, block="details", status=422, form=form)
    if writes.stale(form, finding):
        return _conflict(finding, form)
    changed = _apply(form, finding)
    _audit("finding_updated", finding.id, fields=changed)
    if not writes.save():
        return _conflict(_finding_or_404(finding_id), form)
    if wants_fragment():
        return _page(_finding_or_404(finding_id), block="details", message=_("Zapisano."))
    flash(_("Zapisano."), "success")
    return redirect(url_for("diagnosis.finding", finding_id=finding.id), 303)


def _conflict(current: Finding, form: FindingForm):
    ctx = writes.conflict(form, current, _("Ktoś inny zapisał zmiany tego wpisu, zanim zapisałeś/aś swoje. Poniżej "
                                           "aktualne dane; Twoje zmiany są nadal w formularzu — sprawdź je i zapisz "
                                           "ponownie."),
                          skip=("tags",), extra=[(_("Tagi"), ", ".join(q._tags(current.tags)) or None)])
    return _page(current, block="details", form=form, **ctx)


@bp.route("/findings/<int:finding_id>/delete", methods=["POST"])
@roles_required(*STAFF)
def delete(finding_id: int):
    """Remove a finding recorded by mistake (needs an explicit yes); its links go with it."""
    finding = _finding_or_404(finding_id)
    form = DeleteForm()
    if not form.validate():
        return _page(finding, status=422, delete_form=form)
    slug = finding.neighbourhood.slug
    _audit("finding_deleted", finding.id, kind=finding.kind, neighbourhood_id=finding.neighbourhood_id)
    # Core deletes: the links first (the relationships are lazy="raise", so the ORM would not load them).
    for table in (finding_interaction, finding_meeting, finding_group):
        db.session.execute(table.delete().where(table.c.finding_id == finding.id))
    db.session.execute(Finding.__table__.delete().where(Finding.id == finding.id))
    db.session.expunge(finding)
    db.session.commit()
    flash(_("Wpis usunięty z diagnozy."), "success")
    return redirect(url_for("diagnosis.show", hood_slug=slug), 303)


@bp.route("/findings/<int:finding_id>/groups", methods=["POST"])
@roles_required(*STAFF)
def group_link(finding_id: int):
    """Link a group of the same osiedle that acts on this finding (a need stops being a gap)."""
    finding = _finding_or_404(finding_id)
    form = LinkGroupForm()
    # Every group of the osiedle is a valid answer, one linked already too (a repeated tap changes nothing).
    options = q.group_choices(current_user, finding.neighbourhood_id)
    form.group_id.choices = choices(options)
    if not form.validate():
        linked = q.finding_groups(current_user, finding.id)
        taken = {g.id for g in linked}
        form.group_id.choices = choices([o for o in options if o[0] not in taken])
        return _page(finding, block="groups", status=422, groups=linked, link_form=form)
    if q.link(finding_group, finding_id=finding.id, group_id=form.group_id.data):
        _audit("finding_group_linked", finding.id, group_id=form.group_id.data)
        db.session.commit()
    if wants_fragment():
        return _page(finding, block="groups", message=_("Grupa połączona z wpisem."))
    flash(_("Grupa połączona z wpisem."), "success")
    return redirect(url_for("diagnosis.finding", finding_id=finding.id), 303)


@bp.route("/findings/<int:finding_id>/groups/<int:group_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def group_unlink(finding_id: int, group_id: int):
    """The group no longer acts on this finding (idempotent)."""
    finding = _finding_or_404(finding_id)
    if q.scoped_group(current_user, group_id) is None:
        abort(404)
    if q.unlink(finding_group, finding_id=finding.id, group_id=group_id):
        _audit("finding_group_unlinked", finding.id, group_id=group_id)
        db.session.commit()
    if wants_fragment():
        return _page(finding, block="groups", message=_("Grupa odłączona od wpisu."))
    flash(_("Grupa odłączona od wpisu."), "success")
    return redirect(url_for("diagnosis.finding", finding_id=finding.id), 303)


@bp.route("/findings/<int:finding_id>/sources", methods=["POST"])
@roles_required(*STAFF)
def source_link(finding_id: int):
    """Count a contact or a meeting in for a finding already in the diagnosis ("this came up again")."""
    finding = _finding_or_404(finding_id)
    form = SourceForm()
    if not form.validate():
        return _page(finding, block="sources", status=422, source_errors=form.form_errors)
    if form.interaction_id.data:
        interaction = q.scoped_interaction(current_user, form.interaction_id.data)
        if interaction is None:
            abort(404)
        if interaction.resident.neighbourhood_id != finding.neighbourhood_id:
            return _page(finding, block="sources", status=422,
                         source_errors=[_("Ten kontakt był na innym osiedlu niż to, którego dotyczy wpis.")])
        added = q.link(finding_interaction, finding_id=finding.id, interaction_id=interaction.id)
        detail = {"interaction_id": interaction.id}
    else:
        meeting = q.scoped_meeting(current_user, form.meeting_id.data)
        if meeting is None:
            abort(404)
        if meeting.neighbourhood_id != finding.neighbourhood_id:
            return _page(finding, block="sources", status=422,
                         source_errors=[_("To spotkanie było na innym osiedlu niż to, którego dotyczy wpis.")])
        added = q.link(finding_meeting, finding_id=finding.id, meeting_id=meeting.id)
        detail = {"meeting_id": meeting.id}
    if added:
        _audit("finding_source_linked", finding.id, **detail)
        db.session.commit()
    message = _("Doliczone: ta sprawa pojawiła się po raz kolejny.")
    if wants_fragment():
        return _page(finding, block="sources", message=message)
    flash(message, "success")
    return redirect(url_for("diagnosis.finding", finding_id=finding.id), 303)


def _source_unlink(finding_id: int, table, column: str, value: int):
    finding = _finding_or_404(finding_id)
    found = (q.scoped_interaction(current_user, value) if column == "interaction_id"
             else q.scoped_meeting(current_user, value))
    if found is None:
        abort(404)
    if q.unlink(table, finding_id=finding.id, **{column: value}):
        _audit("finding_source_unlinked", finding.id, **{column: value})
        db.session.commit()
    message = _("Odłączone od wpisu.")
    if wants_fragment():
        return _page(finding, block="sources", message=message)
    flash(message, "success")
    return redirect(url_for("diagnosis.finding", finding_id=finding.id), 303)


@bp.route("/findings/<int:finding_id>/interactions/<int:interaction_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def interaction_unlink(finding_id: int, interaction_id: int):
    """The finding did not come up in this contact after all (idempotent)."""
    return _source_unlink(finding_id, finding_interaction, "interaction_id", interaction_id)


@bp.route("/findings/<int:finding_id>/meetings/<int:meeting_id>/remove", methods=["POST"])
@roles_required(*STAFF)
def meeting_unlink(finding_id: int, meeting_id: int):
    """The finding did not come up at this meeting after all (idempotent)."""
    return _source_unlink(finding_id, finding_meeting, "meeting_id", meeting_id)
