"""Meetings: the calendar of upcoming and past meetings, planning one, and the after-meeting
screen where an animator logs, right after it ends, who came, who is new, who promised what,
the headcount and the notes. Every change on that screen is its own small request, so a
dropped connection loses at most the last tap, and every one of them is safe to repeat.
"""
from datetime import timedelta

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import gettext as flask_gettext
from markupsafe import Markup
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2_fragments.flask import render_block

from app import submissions
from app.forms import choices
from app.forms.meetings import (COMMITMENT_STATUS_LABELS, MEETING_KIND_LABELS, AttendanceForm, ConfirmForm, HeadcountForm,
                                MeetingCommitmentForm, MeetingForm, NotesForm, QuickMeetingForm)
from app import writes
from app.forms.residents import QuickResidentForm
from app.htmx import render, wants_fragment
from app.params import int_arg
from app.people import create_from_quick_form, neighbourhood_choices
from app.sessions import client_ip, roles_required
from app.timeutil import local_to_utc, now_local, utc_to_local
from models import Commitment, Meeting, Role, db, ladder, record_audit, utcnow
from models import meetings_queries as q

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

STAFF = (Role.animator.value, Role.coordinator.value)
PER_PAGE = 20
UPCOMING_LIMIT = 10
QUICK_DEFAULT_MINUTES = 90
SEARCH_MIN_CHARS = 2


# --- helpers shared with views/commitments.py ------------------------------------------------

def kind_label(kind: str) -> str:
    label = dict(MEETING_KIND_LABELS).get(kind)
    return str(label) if label is not None else kind


def status_label(status: str) -> str:
    return str(dict(COMMITMENT_STATUS_LABELS).get(status, status))


def memo_gettext():
    """`_` for one render: a list of thirty rows asks for the same dozen strings hundreds of times,
    and each lookup of Flask-Babel's translations costs more than the row itself. Same result as
    Jinja's newstyle gettext: the translation is trusted markup, the variables are escaped."""
    seen: dict[str, Markup] = {}

    def gettext_once(message, **variables):
        text = seen.get(message)
        if text is None:
            text = seen[message] = Markup(flask_gettext(message))
        return text % variables if variables else text

    return gettext_once


def template_helpers() -> dict:
    # csrf: the token once per render (each csrf_token() call walks the session and g proxies).
    return {"kind_label": kind_label, "status_label": status_label, "_": memo_gettext(), "csrf": generate_csrf()}


@bp.context_processor
def _labels():
    return template_helpers()


def fragment(template: str, blocks: list[tuple[str, dict]], *, message: str | None = None, status: int = 200,
             headers: dict | None = None, **context):
    """Named blocks of a page template, one after another, plus an out-of-band status message."""
    parts = [render_block(template, name, **{**context, **extra}).strip() for name, extra in blocks]
    if message:
        parts.append(render_template("meetings/_status.html", message=message))
    resp = make_response("".join(parts), status)
    resp.headers["Vary"] = "HX-Request"
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def _saved(message: str, endpoint: str, **values):
    """The answer to a successful write for a full page: a flash and 303 back to the screen."""
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)


def _meeting_or_404(meeting_id: int, *, animators: bool = False) -> Meeting:
    meeting = q.get_meeting(current_user, meeting_id, animators=animators)
    if meeting is None:
        abort(404)
    return meeting


# --- the list ------------------------------------------------------------------------------

@bp.route("")
@roles_required(*STAFF)
def index():
    """Upcoming and past meetings in the user's osiedla, by osiedle and group; quick start for my groups."""
    hood_id = int_arg("neighbourhood", 0, minimum=0)
    group_id = int_arg("group", 0, minimum=0)
    page = int_arg("page", 1)
    now = utcnow()
    upcoming = (q.meeting_list(current_user, now=now, upcoming=True, neighbourhood_id=hood_id, group_id=group_id,
                               limit=UPCOMING_LIMIT) if page == 1 else [])
    past = q.meeting_list(current_user, now=now, upcoming=False, neighbourhood_id=hood_id, group_id=group_id,
                          limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    groups = q.scoped_groups(current_user)
    me = current_user.id
    mine = [g for g in groups if g.animator_id == me and g.status == "active"]
    return render("meetings/index.html", block="lists", upcoming=upcoming, past=past[:PER_PAGE],
                  has_next=len(past) > PER_PAGE, page=page, groups=groups, mine=mine,
                  hoods=neighbourhood_choices(current_user), hood_id=hood_id, group_id=group_id,
                  quick_form=QuickMeetingForm())


@bp.route("/quick", methods=["POST"])
@roles_required(*STAFF)
@submissions.keyed()
def quick():
    """"Spotkanie teraz" for a group: one tap opens the after-meeting screen of today's meeting,
    creating it (ended just now, at the group's usual place, with me present) if there is none."""
    form = QuickMeetingForm()
    if not form.validate():
        flash(_("Wybierz grupę."), "error")
        return index_with_status(422)
    group = q.get_group(current_user, form.group_id.data)
    if group is None:
        abort(404)
    now = now_local()
    start = local_to_utc(now.replace(hour=0, minute=0, second=0))
    existing = q.meeting_of_group_around(group.id, start, start + timedelta(days=1))
    if existing is not None:
        return redirect(url_for("meetings.show", meeting_id=existing.id), 303)
    begins = now - timedelta(minutes=QUICK_DEFAULT_MINUTES)
    begins = begins.replace(minute=begins.minute - begins.minute % 15, second=0)
    meeting = Meeting(centre_id=group.centre_id, neighbourhood_id=group.neighbourhood_id, group_id=group.id,
                      kind="group", title=group.name, starts_at=local_to_utc(begins),
                      duration_min=QUICK_DEFAULT_MINUTES, place=q.last_place(group.id),
                      created_by_id=current_user.id, animators=[current_user._get_current_object()])
    db.session.add(meeting)
    db.session.flush()
    record_audit("meeting_created", user_id=current_user.id, object_type="meeting", object_id=meeting.id,
                 ip=client_ip(), via="quick", group_id=group.id)
    resp = redirect(url_for("meetings.show", meeting_id=meeting.id), 303)
    submissions.made(meeting, resp)
    db.session.commit()
    return resp


def index_with_status(status: int):
    resp = index()
    resp.status_code = status
    return resp


# --- planning and editing ------------------------------------------------------------------

def _fill_meeting_choices(form: MeetingForm, meeting: Meeting | None = None) -> None:
    hoods = neighbourhood_choices(current_user)
    if meeting is not None and meeting.neighbourhood_id not in {h for h, _n in hoods}:
        hoods.append((meeting.neighbourhood_id, meeting.neighbourhood.name))
    form.neighbourhood_id.choices = choices(hoods)
    groups = q.scoped_groups(current_user)
    form.group_id.choices = choices([(0, _("— bez grupy —"))] + [(g.id, g.name) for g in groups])
    form._groups = {g.id: g for g in groups}
    keep = [u.id for u in meeting.animators] if meeting is not None else []
    staff = q.centre_staff(current_user.centre_id, include_ids=keep)
    form.animator_ids.choices = choices((u.id, u.name) for u in staff)


def _validate_meeting(form: MeetingForm) -> bool:
    ok = form.validate()
    group = form._groups.get(form.group_id.data) if form.group_id.data else None
    if form.group_id.data and group is None:
        form.group_id.errors.append(_("Wybierz grupę z listy."))
        ok = False
    if group is not None and form.neighbourhood_id.data and group.neighbourhood_id != form.neighbourhood_id.data:
        form.group_id.errors.append(_("Ta grupa działa na innym osiedlu niż wybrane."))
        ok = False
    return ok


def _apply_meeting_form(form: MeetingForm, meeting: Meeting) -> None:
    meeting.neighbourhood_id = form.neighbourhood_id.data
    meeting.group_id = form.group_id.data or None
    meeting.kind = form.kind.data
    meeting.title = form.title.data.strip()
    meeting.starts_at = local_to_utc(form.starts_at.data)
    meeting.duration_min = form.duration_min.data
    meeting.place = (form.place.data or "").strip() or None
    meeting.notes = (form.notes.data or "").strip() or None
    meeting.decisions = (form.decisions.data or "").strip() or None
    meeting.unnamed_count = form.unnamed_count.data
    meeting.animators = q.users_by_ids(current_user.centre_id, form.animator_ids.data or [])


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF)
@submissions.keyed()
def new():
    """Plan a meeting, or describe one that already happened."""
    form = MeetingForm()
    _fill_meeting_choices(form)
    if request.method == "GET":
        group_id = int_arg("group", 0, minimum=0)
        group = form._groups.get(group_id)
        hoods = [c.value for c in form.neighbourhood_id.choices]
        if group is not None:
            form.group_id.data = group.id
            form.neighbourhood_id.data = group.neighbourhood_id
            form.title.data = group.name
        elif len(hoods) == 1:
            form.neighbourhood_id.data = hoods[0]
        if not group:
            form.kind.data = "open"
        start = now_local() + timedelta(hours=1)
        form.starts_at.data = start.replace(minute=0, second=0)
        form.animator_ids.data = [current_user.id]
        return render("meetings/form.html", form=form, meeting=None)
    if not _validate_meeting(form):
        return render("meetings/form.html", form=form, meeting=None, status=422)
    meeting = Meeting(centre_id=current_user.centre_id, created_by_id=current_user.id)
    _apply_meeting_form(form, meeting)
    db.session.add(meeting)
    db.session.flush()
    record_audit("meeting_created", user_id=current_user.id, object_type="meeting", object_id=meeting.id,
                 ip=client_ip(), via="form", group_id=meeting.group_id)
    resp = _saved(_("Spotkanie zapisane."), "meetings.show", meeting_id=meeting.id)
    submissions.made(meeting, resp)
    db.session.commit()
    return resp


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit(meeting_id: int):
    """Change a meeting's details; a stale version answers 409 with the current values."""
    meeting = _meeting_or_404(meeting_id, animators=True)
    form = MeetingForm(obj=meeting if request.method == "GET" else None)
    _fill_meeting_choices(form, meeting)
    if request.method == "GET":
        form.group_id.data = meeting.group_id or 0
        form.starts_at.data = utc_to_local(meeting.starts_at)
        form.animator_ids.data = [u.id for u in meeting.animators]
        writes.stamp(form, meeting)
        return render("meetings/form.html", form=form, meeting=meeting, delete_form=ConfirmForm())
    if not _validate_meeting(form):
        return render("meetings/form.html", form=form, meeting=meeting, delete_form=ConfirmForm(), status=422)
    if writes.stale(form, meeting):
        return _meeting_conflict(form, meeting)
    _apply_meeting_form(form, meeting)
    record_audit("meeting_updated", user_id=current_user.id, object_type="meeting", object_id=meeting.id,
                 ip=client_ip(), fields=sorted(f.name for f in form if f.name not in ("csrf_token", "version")))
    if not writes.save(commit=False):
        return _meeting_conflict(form, _meeting_or_404(meeting_id, animators=True))
    # The date or the group may have changed: attendance-derived rungs follow.
    ladder.refresh(q.attendee_ids(meeting.id))
    db.session.commit()
    return _saved(_("Zmiany zapisane."), "meetings.show", meeting_id=meeting_id)


def _meeting_conflict(form: MeetingForm, current: Meeting):
    """409: someone saved first. Their values are listed; this user's input stays in the form."""
    ctx = writes.conflict(form, current, _("Ktoś inny zapisał zmiany w tym spotkaniu, zanim zapisałeś/aś swoje. "
                                           "Poniżej są aktualne wartości; Twoje zmiany są nadal w formularzu."),
                          skip=("starts_at",),
                          extra=[(_("Początek"), utc_to_local(current.starts_at).strftime("%d.%m.%Y %H:%M"))])
    return render("meetings/form.html", form=form, meeting=current, delete_form=ConfirmForm(), **ctx)


@bp.route("/<int:meeting_id>/delete", methods=["POST"])
@roles_required(*STAFF)
def delete(meeting_id: int):
    """Remove a meeting logged by mistake (with its attendance); its commitments stay, without it."""
    meeting = _meeting_or_404(meeting_id, animators=True)
    form = ConfirmForm()
    if not form.validate():
        edit_form = MeetingForm(obj=meeting)
        _fill_meeting_choices(edit_form, meeting)
        edit_form.group_id.data = meeting.group_id or 0
        edit_form.starts_at.data = utc_to_local(meeting.starts_at)
        edit_form.animator_ids.data = [u.id for u in meeting.animators]
        writes.stamp(edit_form, meeting)
        return render("meetings/form.html", form=edit_form, meeting=meeting, delete_form=form, status=422)
    attendees = q.attendee_ids(meeting.id)
    db.session.delete(meeting)
    record_audit("meeting_deleted", user_id=current_user.id, object_type="meeting", object_id=meeting_id,
                 ip=client_ip(), attendees=len(attendees))
    db.session.flush()
    ladder.refresh(attendees)
    db.session.commit()
    return _saved(_("Spotkanie usunięte."), "meetings.index")


# --- the after-meeting screen --------------------------------------------------------------

def _show_context(meeting: Meeting, **extra) -> dict:
    ctx = {
        "meeting": meeting,
        "people": q.checklist(current_user, meeting),
        "commitments": q.meeting_commitments(meeting.id),
        "notes_form": NotesForm(formdata=None, obj=meeting),
        "notes_version": meeting.version,
        "q": "",
    }
    ctx.update(extra)
    return ctx


def _new_person_form(meeting: Meeting, formdata=None) -> QuickResidentForm:
    form = QuickResidentForm(prefix="new", formdata=formdata)
    hoods = neighbourhood_choices(current_user)
    form.neighbourhood_id.choices = choices(hoods)
    if formdata is None and any(h == meeting.neighbourhood_id for h, _n in hoods):
        form.neighbourhood_id.data = meeting.neighbourhood_id
    return form


@bp.route("/<int:meeting_id>")
@roles_required(*STAFF)
def show(meeting_id: int):
    """Po spotkaniu: tap who came, find or add a person, note promises, count the rest, take notes."""
    meeting = _meeting_or_404(meeting_id, animators=True)
    return render("meetings/show.html", **_show_context(meeting))


@bp.route("/<int:meeting_id>/attendance/<int:resident_id>", methods=["POST"])
@roles_required(*STAFF)
def attendance(meeting_id: int, resident_id: int):
    """Set one person present (present=1) or absent (present=0). Repeating it changes nothing."""
    target = q.attendance_target(current_user, meeting_id, resident_id)
    if target is None:
        abort(404)
    meeting, resident, was_present, member = target
    form = AttendanceForm()
    if not form.validate():
        if wants_fragment():
            return fragment("meetings/show.html", [("attendee", {"p": q.Person(resident, was_present, member)})],
                            message=_("Nie zapisano: nieprawidłowe żądanie."), status=422, meeting=meeting)
        return render("meetings/show.html", status=422, **_show_context(_meeting_or_404(meeting_id, animators=True)))
    present = form.present.data == "1"
    if present != was_present and q.set_attendance(meeting.id, resident.id, present, current_user.id):
        record_audit("attendance_set", user_id=current_user.id, object_type="meeting", object_id=meeting.id,
                     ip=client_ip(), resident_id=resident.id, present=present)
        ladder.refresh([resident.id])
    message = (_("Zaznaczono obecność: %(name)s.", name=resident.display_name) if present
               else _("Odznaczono obecność: %(name)s.", name=resident.display_name))
    if not wants_fragment():
        resp = _saved(message, "meetings.show", meeting_id=meeting.id)
    else:
        blocks = [("attendee", {"p": q.Person(resident, present, member)})]
        if form.from_search.data:
            blocks.append(("person_search", {"oob": True}))
        resp = fragment("meetings/show.html", blocks, message=message, meeting=meeting, q="")
    # Rendered before the commit, which would expire what the answer reads (and cost a query each).
    db.session.commit()
    return resp


@bp.route("/<int:meeting_id>/people")
@roles_required(*STAFF)
def people(meeting_id: int):
    """Search-as-you-type for someone not on the checklist, with a form to add a new person."""
    meeting = _meeting_or_404(meeting_id)
    query = (request.args.get("q") or "").strip()[:100]
    extra = {"q": query, "results": [], "listed": {}, "new_form": None, "searched": len(query) >= SEARCH_MIN_CHARS}
    if extra["searched"]:
        extra["results"] = q.search_for_meeting(current_user, query)
        extra["listed"] = q.checklist_presence(meeting)
        extra["new_form"] = _new_person_form(meeting)
        words = query.split()
        if not any(ch.isdigit() for ch in query):
            extra["new_form"].first_name.data = words[0][:80]
            extra["new_form"].last_name.data = " ".join(words[1:])[:80] or None
    if wants_fragment():
        return fragment("meetings/show.html", [("search_results", {})], meeting=meeting, **extra)
    meeting = _meeting_or_404(meeting_id, animators=True)
    return render("meetings/show.html", **_show_context(meeting, **extra))


def _person_new_answer(meeting: Meeting, person: q.Person):
    message = _("Dodano nową osobę i zaznaczono obecność: %(name)s.", name=person.resident.display_name)
    if not wants_fragment():
        return _saved(message, "meetings.show", meeting_id=meeting.id)
    return fragment("meetings/show.html", [("attendee", {"p": person}), ("person_search", {"oob": True})],
                    message=message, meeting=meeting, q="")


def _person_new_replay(row, meeting_id: int):
    """The same form sent again (its answer was lost): the person exists and is present; show them."""
    target = q.attendance_target(current_user, meeting_id, row.object_id)
    if target is None:
        abort(404)
    return _person_new_answer(target.meeting, q.Person(target.resident, target.present, target.member))


@bp.route("/<int:meeting_id>/people/new", methods=["POST"])
@roles_required(*STAFF)
@submissions.keyed(replay=_person_new_replay)
def person_new(meeting_id: int):
    """A newcomer: added to the notebook (with the consents asked) and marked present, in one step."""
    meeting = _meeting_or_404(meeting_id)
    form = _new_person_form(meeting, formdata=request.form)
    if not form.validate():
        if wants_fragment():
            return fragment("meetings/show.html", [("new_person", {})], status=422, meeting=meeting, new_form=form,
                            message=_("Nie zapisano: popraw dane nowej osoby."),
                            headers={"HX-Retarget": "#new-person", "HX-Reswap": "outerHTML"})
        meeting = _meeting_or_404(meeting_id, animators=True)
        return render("meetings/show.html", status=422,
                      **_show_context(meeting, q=form.first_name.data or "x", results=[], listed={}, new_form=form))
    resident = create_from_quick_form(current_user, form, via="meeting")
    q.set_attendance(meeting.id, resident.id, True, current_user.id)
    record_audit("attendance_set", user_id=current_user.id, object_type="meeting", object_id=meeting.id,
                 ip=client_ip(), resident_id=resident.id, present=True, new_person=True)
    ladder.refresh([resident.id])
    resp = _person_new_answer(meeting, q.Person(resident, True, False))
    submissions.made(resident, url_for("meetings.show", meeting_id=meeting.id))
    db.session.commit()
    return resp


@bp.route("/<int:meeting_id>/headcount", methods=["POST"])
@roles_required(*STAFF)
def headcount(meeting_id: int):
    """Set how many came whose names were not taken (a value, not +1: safe to repeat)."""
    meeting = _meeting_or_404(meeting_id)
    form = HeadcountForm()
    if not form.validate():
        if wants_fragment():
            return fragment("meetings/show.html", [("headcount", {})], status=422, meeting=meeting,
                            message=_("Nie zapisano: podaj liczbę od 0 do 10 000."))
        return render("meetings/show.html", status=422, **_show_context(_meeting_or_404(meeting_id, animators=True)))
    # The tap also writes the meeting's row (and so its version): a notes form that was current
    # before it (its version comes along, hx-include) gets the new version, so its next autosave is
    # not taken for someone else's change. A notes form already behind keeps its old version.
    notes_current = request.form.get("version") == str(meeting.version)
    if meeting.unnamed_count != form.unnamed_count.data:
        meeting.unnamed_count = form.unnamed_count.data
        record_audit("meeting_updated", user_id=current_user.id, object_type="meeting", object_id=meeting.id,
                     ip=client_ip(), fields=["unnamed_count"])
        if not writes.save(commit=False):
            meeting = _meeting_or_404(meeting_id)
            return fragment("meetings/show.html", [("headcount", {})], status=409, meeting=meeting,
                            message=_("Nie zapisano: ktoś właśnie zmienił to spotkanie. Sprawdź liczbę."))
    message = _("Osoby bez nazwiska: %(n)d.", n=meeting.unnamed_count)
    if not wants_fragment():
        resp = _saved(message, "meetings.show", meeting_id=meeting.id)
    else:
        blocks = [("headcount", {})] + ([("notes_version", {"oob": True})] if notes_current else [])
        resp = fragment("meetings/show.html", blocks, message=message, meeting=meeting)
    db.session.commit()
    return resp


@bp.route("/<int:meeting_id>/notes", methods=["POST"])
@roles_required(*STAFF)
def notes(meeting_id: int):
    """Save the notes and decisions as they are typed; a field not sent is left as it is. The save
    carries the version it was typed on: when someone else saved in between, 409 with both texts."""
    meeting = _meeting_or_404(meeting_id)
    form = NotesForm()
    if not form.validate():
        errors = [str(e) for e in form.form_errors] + [str(e) for f in (form.notes, form.decisions) for e in f.errors]
        if wants_fragment():
            # The text being typed stays where it is; only the state line says what is wrong.
            return fragment("meetings/show.html", [("notes_state", {"errors": errors})], status=422, meeting=meeting,
                            notes_version=form.version.data or "")
        meeting = _meeting_or_404(meeting_id, animators=True)
        return render("meetings/show.html", status=422,
                      **_show_context(meeting, notes_form=form, notes_version=form.version.data or ""))
    if writes.stale(form, meeting):
        return _notes_conflict(form, meeting)
    changed = []
    for name in form.sent_fields():
        value = (getattr(form, name).data or "").strip() or None
        if getattr(meeting, name) != value:
            setattr(meeting, name, value)
            changed.append(name)
    if changed:
        record_audit("meeting_updated", user_id=current_user.id, object_type="meeting", object_id=meeting.id,
                     ip=client_ip(), fields=changed)
        if not writes.save(commit=False):
            return _notes_conflict(form, _meeting_or_404(meeting_id))
    if not wants_fragment():
        resp = _saved(_("Notatki zapisane."), "meetings.show", meeting_id=meeting.id)
    else:
        saved_at = now_local().strftime("%H:%M")
        resp = fragment("meetings/show.html", [("notes_state", {"saved_at": saved_at})], meeting=meeting)
    db.session.commit()
    return resp


def _notes_conflict(form: NotesForm, current: Meeting):
    """409: someone saved the notes after this user's last save. Their text is shown above the form,
    this user's stays in it (a field not sent shows the saved text); saving again overwrites on purpose."""
    for name in ("notes", "decisions"):
        if name not in form.sent_fields():
            getattr(form, name).data = getattr(current, name)
    ctx = writes.conflict(form, current, _("Nie zapisano: ktoś inny zmienił notatki tego spotkania w międzyczasie. "
                                           "Poniżej jego wersja; Twój tekst jest nadal w formularzu — połącz oba "
                                           "i zapisz ponownie."))
    status = ctx.pop("status")
    if wants_fragment():
        return fragment("meetings/show.html", [("notes", {})], status=status, meeting=current, notes_form=form,
                        notes_version=form.version.data, headers={"HX-Retarget": "#notes-form",
                                                                  "HX-Reswap": "outerHTML"}, **ctx)
    current = _meeting_or_404(current.id, animators=True)
    return render("meetings/show.html", status=status,
                  **_show_context(current, notes_form=form, notes_version=form.version.data, **ctx))


@bp.route("/<int:meeting_id>/commitments/new")
@roles_required(*STAFF)
def commitment_form(meeting_id: int):
    """The small form for what a person present promised (inline under their name)."""
    resident_id = int_arg("resident_id", 0, minimum=0)
    cresident = None
    if resident_id:
        target = q.attendance_target(current_user, meeting_id, resident_id)
        if target is None:
            abort(404)
        meeting, cresident = target.meeting, target.resident
    else:
        meeting = _meeting_or_404(meeting_id)
    cform = MeetingCommitmentForm(formdata=None)
    if wants_fragment():
        return fragment("meetings/show.html", [("commitment_form", {})], meeting=meeting, cform=cform,
                        cresident=cresident)
    meeting = _meeting_or_404(meeting_id, animators=True)
    return render("meetings/show.html", **_show_context(meeting, cform=cform, cresident=cresident))


def _commitment_answer(meeting: Meeting, commitment: Commitment, person: q.Person):
    message = _("Zapisano zobowiązanie: %(name)s.", name=person.resident.display_name)
    if not wants_fragment():
        return _saved(message, "meetings.show", meeting_id=meeting.id)
    return fragment("meetings/show.html",
                    [("commitment_item", {"c": commitment}), ("attendee", {"p": person, "oob": True})],
                    message=message, meeting=meeting)


def _commitment_replay(row, meeting_id: int):
    """The same form sent again (its answer was lost): show the promise it already saved."""
    commitment = q.get_commitment(current_user, row.object_id)
    target = q.attendance_target(current_user, meeting_id, commitment.resident_id) if commitment else None
    if target is None:
        abort(404)
    return _commitment_answer(target.meeting, commitment, q.Person(target.resident, target.present, target.member))


@bp.route("/<int:meeting_id>/commitments", methods=["POST"])
@roles_required(*STAFF)
@submissions.keyed(replay=_commitment_replay)
def commitment_add(meeting_id: int):
    """Record a promise made at the meeting; the person climbs to "volunteer" on the ladder."""
    cform = MeetingCommitmentForm()
    resident_id = cform.resident_id.data if cform.resident_id.validate(cform) else None
    target = q.attendance_target(current_user, meeting_id, resident_id) if resident_id else None
    if resident_id and target is None:
        abort(404)
    if target is None or not cform.validate():
        meeting = _meeting_or_404(meeting_id)
        cresident = target.resident if target else None
        if wants_fragment():
            form_id = f"#cform-{cresident.id}" if cresident else "#cform-any"
            return fragment("meetings/show.html", [("commitment_form", {})], status=422, meeting=meeting,
                            cform=cform, cresident=cresident, message=_("Nie zapisano: popraw zobowiązanie."),
                            headers={"HX-Retarget": form_id, "HX-Reswap": "outerHTML"})
        meeting = _meeting_or_404(meeting_id, animators=True)
        return render("meetings/show.html", status=422, **_show_context(meeting, cform=cform, cresident=cresident))
    meeting, resident, present, member = target
    commitment = Commitment(centre_id=resident.centre_id, neighbourhood_id=resident.neighbourhood_id,
                            resident=resident, meeting_id=meeting.id, group_id=meeting.group_id,
                            what=cform.what.data.strip(), due_on=cform.due_on.data, recorded_by_id=current_user.id)
    db.session.add(commitment)
    db.session.flush()
    record_audit("commitment_created", user_id=current_user.id, object_type="commitment",
                 object_id=commitment.id, ip=client_ip(), via="meeting", meeting_id=meeting.id)
    ladder.refresh([resident.id])
    resp = _commitment_answer(meeting, commitment, q.Person(resident, present, member))
    submissions.made(commitment, url_for("meetings.show", meeting_id=meeting.id))
    db.session.commit()
    return resp
