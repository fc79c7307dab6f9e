"""Versions on every editable text (issue 14, item 8), checked by walking the application rather than
by listing a few cases:

- every table with a `version` column (found in db.metadata) is mapped with `version_id_col`, so that
  its UPDATE is `... WHERE id = ? AND version = ?`, and is edited through at least one form;
- every form class of app/forms is either an edit form (`edits = "<table>"`) or listed below as one
  that edits no existing text, with the reason; a new form that is neither fails here;
- every edit form has a `version` field and edits a table that has a version column;
- every edit form has a case below, and in every case a save made on a stale version (someone else
  saved in between) answers 409, shows the other person's value, keeps this user's input in the form
  with the current version, and writes nothing (no row count and not the record changes).
"""
import importlib
import pkgutil
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, inspect, select
from wtforms.fields.core import UnboundField

import app.forms as forms_pkg
from models import (Centre, Commitment, Finding, Goal, Group, Meeting, Partner, ProcessingActivity, Resident, User,
                    db)
from models.grants import GrantApplication, GrantCall, Review, ReviewAssignment, Settlement
from tests.http_client import form_fields
from tests.test_grants import (assign, declare_and_score, login, make_call, new_application, pass_formal,
                               to_merit_review, version_of)
from tests.test_meetings import fresh_resident, make_meeting

HX = {"HX-Request": "true"}
BUTTON = "(button)"
TODAY = date.today()

# Forms that edit no existing text, and why. A form that changes a record's text must not be here: it
# gets `edits = "<table>"` and a version field instead.
NOT_EDITING = {
    "LoginForm": "signs in", "PasswordChangeForm": "sets one's own password (checked against the old one)",
    "PasswordResetForm": "sets a new password for someone; nothing to merge",
    "NewUserForm": "creates an account", "QuickResidentForm": "creates a resident",
    "ConsentForm": "records a consent (a new row)", "InteractionForm": "logs a contact (a new row)",
    "NewGroupForm": "creates a group", "MemberAddForm": "adds a member (a new row)",
    "MemberRoleForm": "sets a member's role: a choice, not text; the last choice wins",
    "GoalForm": "adds a goal (a new row)", "QuickMeetingForm": "creates a meeting",
    "AttendanceForm": "sets presence: a state, safe to repeat", "HeadcountForm": "sets a count: safe to repeat",
    "LinkDecisionForm": "decides a pending link request once: a second decision is a 409 by the request's status",
    "MeetingCommitmentForm": "records a promise (a new row)", "CommitmentForm": "records a promise (a new row)",
    "CommitmentStatusForm": "sets a status tap, safe to repeat; a different concurrent change is a 409 already",
    "ConfirmForm": "confirms a deletion",
    "NewFindingForm": "creates a finding", "LinkGroupForm": "links a group (a new row)",
    "LinkMeetingForm": "links a meeting (a new row)", "SourceForm": "counts a contact or meeting in (a new row)",
    "DeleteForm": "confirms a deletion", "ContactForm": "adds a contact person (a new row)",
    "CooperationForm": "adds an entry to the cooperation log (entries are not edited)",
    "ApplicationForm": "creates an application (staff)", "PublicApplicationForm": "creates an application",
    "AssignReviewerForm": "assigns a reviewer (a new row)", "LinkReferenceForm": "links an application by number",
    "DeclarationForm": "a reviewer's declaration, made once", "DocumentForm": "adds a document (a new row)",
    "AttachmentForm": "adds a file (a new row)",
}


def all_form_classes() -> dict[str, type]:
    for mod in pkgutil.iter_modules(forms_pkg.__path__):
        importlib.import_module(f"app.forms.{mod.name}")
    found, todo = {}, list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("app.forms") and cls.__module__ != "app.forms":  # not the bases
            found[cls.__name__] = cls
    return found


def edit_forms() -> dict[str, type]:
    return {name: cls for name, cls in all_form_classes().items() if getattr(cls, "edits", None)}


def versioned_tables() -> set[str]:
    return {t.name for t in db.metadata.sorted_tables if "version" in t.c}


def test_every_versioned_table_checks_its_version_in_the_update_and_is_edited_through_a_form():
    mapped = {m.local_table.name: m for m in db.Model.registry.mappers}
    tables = versioned_tables()
    assert {"meeting", "goal", "resident", "finding", "partner", "processing_activity", "grant_call"} <= tables
    for name in tables:
        mapper = mapped[name]
        assert mapper.version_id_col is not None and mapper.version_id_col.name == "version", name
    edited = {cls.edits for cls in edit_forms().values()}
    assert tables - edited == set(), f"versioned tables with no edit form: {tables - edited}"


def test_every_form_either_edits_with_a_version_or_says_why_it_needs_none():
    forms = all_form_classes()
    unclassified = sorted(n for n, cls in forms.items() if not getattr(cls, "edits", None) and n not in NOT_EDITING)
    assert unclassified == [], f"forms neither marked `edits` nor listed in NOT_EDITING: {unclassified}"
    both = sorted(n for n in NOT_EDITING if n in forms and getattr(forms[n], "edits", None))
    assert both == [], both
    assert sorted(set(NOT_EDITING) - set(forms)) == [], "NOT_EDITING names a form that no longer exists"


@pytest.mark.parametrize("name", sorted(edit_forms()))
def test_an_edit_form_has_a_version_field_and_its_table_a_version_column(name):
    cls = edit_forms()[name]
    assert isinstance(getattr(cls, "version", None), UnboundField), f"{name} has no version field"
    assert cls.edits in versioned_tables(), f"{name} edits {cls.edits}, which has no version column"


# --- a stale save, for every edit form ---------------------------------------------------------------

@dataclass
class Case:
    login: str
    page: str                  # the page that shows the form
    action: str                # where the form posts
    model: type
    record_id: int
    typed: dict                # what this user types
    other: dict                # what someone else saved meanwhile (attribute -> value)
    shows: str                 # the text of the 409 that shows the current state (the other value)
    kept: str | None = None    # the field whose typed value must be in the form again (default: first;
                               # BUTTON: the choice is the pressed button, there is no input to keep)
    parse_action: str | None = None  # the form's action attribute when it differs (a form posting to its page)
    cleanup: object = None


def _one(app, stmt):
    with app.app_context():
        return db.session.scalar(stmt)


def _wilda(app):
    return app.world.centres["wilda"]


def case_resident(app):
    rid = fresh_resident(app, first_name="Irena", last_name="Wersja")
    return Case("animator@wilda", f"/residents/{rid}/edit", f"/residents/{rid}", Resident, rid,
                {"notes": "Lubi rozmawiać o ogrodzie."}, {"notes": "Pomaga przy ławkach."}, "Pomaga przy ławkach.")


def _group(app):
    return _one(app, select(Group.id).where(Group.name == "Zielone Podwórko"))


def case_group(app):
    gid = _group(app)
    return Case("animator@wilda", f"/groups/{gid}/edit", f"/groups/{gid}", Group, gid,
                {"description": "Opis animatorki."}, {"description": "Opis koordynatorki."}, "Opis koordynatorki.")


def case_stage_move(app):
    gid = _group(app)
    return Case("animator@wilda", f"/groups/{gid}/stage", f"/groups/{gid}/stage", Group, gid,
                {"note": "Grupa zaczęła działać."}, {"matter": "nowa sprawa"}, "Ktoś właśnie zmienił tę grupę")


def case_goal(app):
    gid = _group(app)
    with app.app_context():
        goal = Goal(group_id=gid, title="Ławki do czerwca")
        db.session.add(goal)
        db.session.commit()
        goal_id = goal.id
    return Case("animator@wilda", f"/groups/{gid}", f"/groups/{gid}/goals/{goal_id}", Goal, goal_id,
                {"status": "done"}, {"status": "in_progress"}, "„w toku”")


def case_meeting(app):
    mid = make_meeting(app, title="Spotkanie o wersjach")
    return Case("animator@wilda", f"/meetings/{mid}/edit", f"/meetings/{mid}/edit", Meeting, mid,
                {"notes": "Notatki animatorki."}, {"notes": "Notatki koordynatorki."}, "Notatki koordynatorki.")


def case_notes(app):
    mid = make_meeting(app, title="Spotkanie z notatkami")
    return Case("animator@wilda", f"/meetings/{mid}", f"/meetings/{mid}/notes", Meeting, mid,
                {"notes": "Przyszło 12 osób, chcą ławek."}, {"notes": "Przyszło 10 osób."}, "Przyszło 10 osób.")


def case_commitment(app):
    rid = fresh_resident(app, first_name="Leon", last_name="Obiecujący")
    with app.app_context():
        r = db.session.get(Resident, rid)
        c = Commitment(centre_id=r.centre_id, neighbourhood_id=r.neighbourhood_id, resident_id=rid,
                       what="przyniesie sadzonki", due_on=TODAY, recorded_by_id=app.world.users["animator@wilda"])
        db.session.add(c)
        db.session.commit()
        cid = c.id
    return Case("animator@wilda", f"/commitments/{cid}", f"/commitments/{cid}", Commitment, cid,
                {"what": "przyniesie sadzonki i konewkę"}, {"what": "przyniesie nasiona"}, "przyniesie nasiona")


def case_finding(app):
    fid = _one(app, select(Finding.id).where(Finding.centre_id == _wilda(app)).order_by(Finding.id))
    return Case("animator@wilda", f"/diagnosis/findings/{fid}/edit", f"/diagnosis/findings/{fid}", Finding, fid,
                {"description": "Opis z rozmowy w klatce."}, {"description": "Opis z dyżuru."}, "Opis z dyżuru.")


def case_partner(app):
    pid = _one(app, select(Partner.id).where(Partner.centre_id == _wilda(app)).order_by(Partner.id))
    return Case("animator@wilda", f"/partners/{pid}/edit", f"/partners/{pid}", Partner, pid,
                {"notes": "Sala wolna w środy."}, {"notes": "Sala wolna w piątki."}, "Sala wolna w piątki.")


def case_user(app):
    uid = app.world.users["animator@wilda"]
    return Case("admin", f"/admin/users/{uid}", f"/admin/users/{uid}", User, uid,
                {"name": "Anna Animatorka"}, {"name": "Anna Zmieniona"}, "Anna Zmieniona")


def case_centre(app):
    cid = _wilda(app)
    return Case("admin", f"/admin/centres/{cid}", f"/admin/centres/{cid}", Centre, cid,
                {"operator": "Stowarzyszenie A"}, {"operator": "Fundacja B"}, "Fundacja B", parse_action="")


def case_register(app):
    aid = _one(app, select(ProcessingActivity.id).order_by(ProcessingActivity.id))
    with app.app_context():
        before = db.session.get(ProcessingActivity, aid).purpose

    def restore():  # reference data: kept between tests, so put the text back
        with app.app_context():
            db.session.get(ProcessingActivity, aid).purpose = before
            db.session.commit()
    return Case("admin", f"/privacy/register/{aid}", f"/privacy/register/{aid}", ProcessingActivity, aid,
                {"purpose": "Cel według administratorki."}, {"purpose": "Cel według inspektora."},
                "Cel według inspektora.", cleanup=restore, parse_action="")


def _call(app):
    return make_call(app)


def case_call(app):
    call = _call(app)
    return Case("coordinator@regranting", f"/grants/calls/{call.id}/edit", f"/grants/calls/{call.id}/edit", GrantCall,
                call.id, {"description": "Opis koordynatorki.", "min_own_percent": "10"},
                {"description": "Opis z urzędu."}, "Opis z urzędu.", kept="description")


def case_call_status(app):
    call = _call(app)
    return Case("coordinator@regranting", f"/grants/calls/{call.id}", f"/grants/calls/{call.id}/status", GrantCall,
                call.id, {"to_status": "closed"}, {"title": "Nabór zmieniony"}, "Nabór zmienił się w międzyczasie",
                kept=BUTTON)


def _submitted(app):
    return new_application(app, _call(app))


def case_application(app):
    aid = _submitted(app)
    return Case("coordinator@regranting", f"/grants/applications/{aid}/edit", f"/grants/applications/{aid}/edit",
                GrantApplication, aid, {"need": "Potrzeba według koordynatorki."},
                {"need": "Potrzeba poprawiona przez kogoś innego."}, "Potrzeba poprawiona przez kogoś innego.")


def _step(app, aid, path, typed, status_after):
    return Case("coordinator@regranting", f"/grants/applications/{aid}", f"/grants/applications/{aid}/{path}",
                GrantApplication, aid, typed, {"title": "Tytuł zmieniony"}, "Ktoś inny zmienił ten wniosek")


def case_formal(app):
    aid = _submitted(app)
    return _step(app, aid, "formal", {"outcome": "failed", "reasons": "Brak podpisów.",
                                      "correction_due": (TODAY + timedelta(days=7)).isoformat()}, None)


def _in_merit_review(app):
    coordinator = login(app, "coordinator@regranting")
    return to_merit_review(app, _call(app), coordinator), coordinator


def case_decision(app):
    aid, _c = _in_merit_review(app)
    return _step(app, aid, "decision", {"outcome": "refused", "justification": "Za mało osób."}, None)


def _moved(app, to_status):
    aid, _c = _in_merit_review(app)
    with app.app_context():  # the later steps need only the status; the pipeline is tested in test_grants
        a = db.session.get(GrantApplication, aid)
        a.status, a.granted_amount = to_status, a.requested_amount
        db.session.commit()
    return aid


def case_agreement(app):
    aid = _moved(app, "granted")
    return _step(app, aid, "agreement", {"number": "UM/1/2026", "signed_on": TODAY.isoformat()}, None)


def case_start(app):
    aid = _moved(app, "agreement")
    return _step(app, aid, "start", {"note": "Startujemy w sobotę."}, None)


def case_close(app):
    aid = _moved(app, "report_submitted")
    return _step(app, aid, "close", {"outcome": "settled", "note": "Rozliczone bez uwag."}, None)


def case_review(app):
    aid, coordinator = _in_merit_review(app)
    assign(app, coordinator, aid, "reviewer@regranting")
    declare_and_score(app, "reviewer@regranting", aid, [8, 7, 4], comment="Pierwszy komentarz.")
    rid = _one(app, select(Review.id).join(ReviewAssignment).where(ReviewAssignment.application_id == aid))
    return Case("reviewer@regranting", f"/grants/applications/{aid}", f"/grants/applications/{aid}/review", Review,
                rid, {"comment": "Komentarz z tego okna."}, {"comment": "Komentarz z innego okna."},
                "Komentarz z innego okna.")


def case_settlement(app):
    aid = _moved(app, "in_progress")
    with app.app_context():
        s = Settlement(application_id=aid, what_happened="Potańcówka się odbyła.", participants=100, volunteers=5,
                       volunteer_hours=20)
        db.session.add(s)
        db.session.commit()
        sid = s.id
    return Case("coordinator@regranting", f"/grants/applications/{aid}/settlement",
                f"/grants/applications/{aid}/settlement", Settlement, sid,
                {"what_happened": "Były dwie potańcówki."}, {"what_happened": "Była jedna potańcówka."},
                "Była jedna potańcówka.")


CASES = {
    "ResidentForm": case_resident, "GroupForm": case_group, "StageMoveForm": case_stage_move,
    "GoalStatusForm": case_goal, "MeetingForm": case_meeting, "NotesForm": case_notes,
    "CommitmentEditForm": case_commitment, "FindingForm": case_finding, "PartnerForm": case_partner,
    "UserForm": case_user, "CentreForm": case_centre, "ProcessingActivityForm": case_register,
    "CallForm": case_call, "CallStatusForm": case_call_status, "EditApplicationForm": case_application,
    "FormalCheckForm": case_formal, "DecisionForm": case_decision, "AgreementForm": case_agreement,
    "NoteForm": case_start, "CloseForm": case_close, "ReviewForm": case_review, "SettlementForm": case_settlement,
}


def test_every_edit_form_has_a_stale_save_case():
    assert sorted(edit_forms()) == sorted(CASES)


def snapshot(app, model, record_id) -> tuple:
    """Every table's row count, and the record's own row: what a refusal must leave as it was."""
    with app.app_context():
        counts = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}
        table = inspect(model).local_table
        row = db.session.execute(select(table).where(table.c.id == record_id)).mappings().one()
        return counts, dict(row)


def someone_else_saves(app, case: Case) -> int:
    with app.app_context():
        record = db.session.get(case.model, case.record_id)
        for name, value in case.other.items():
            setattr(record, name, value)
        db.session.commit()
        return record.version


def _text(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("&#34;", '"').replace("&#39;", "'")


# The forms that htmx posts too (the answer to a stale save is then the form's fragment).
HTMX_POSTED = {"ResidentForm", "GroupForm", "StageMoveForm", "GoalStatusForm", "NotesForm",
               "FindingForm", "PartnerForm", "ReviewForm"}
VARIANTS = [(name, False) for name in sorted(CASES)] + [(name, True) for name in sorted(HTMX_POSTED)]


@pytest.mark.parametrize("name,htmx", VARIANTS, ids=[f"{n}-{'htmx' if h else 'page'}" for n, h in VARIANTS])
def test_a_stale_save_is_409_shows_the_current_values_keeps_the_input_and_writes_nothing(app, name, htmx):
    case = CASES[name](app)
    try:
        client = login(app, case.login)
        page = client.get(case.page, headers=HX if (htmx and "/edit" in case.page) else {})
        assert page.status_code == 200, (case.page, page.status_code)
        action = case.action if case.parse_action is None else case.parse_action
        sent = form_fields(page.get_data(as_text=True), action)
        assert sent.get("version"), f"{name}: the form on {case.page} carries no version"
        current = someone_else_saves(app, case)
        before = snapshot(app, case.model, case.record_id)
        r = client.post(case.action, data={**sent, **case.typed}, headers=HX if htmx else {})
        body = r.get_data(as_text=True)
        assert r.status_code == 409, (name, r.status_code, _text(body)[:1500])
        assert snapshot(app, case.model, case.record_id) == before, f"{name}: a refused save wrote something"
        assert case.shows in _text(body), f"{name}: the 409 does not show the current state"
        if htmx:
            assert "<html" not in body, f"{name}: htmx gets the form fragment, not a page"
        kept_field = case.kept or next(iter(case.typed))
        kept = form_fields(body, action)
        if kept_field != BUTTON:
            assert kept[kept_field] == case.typed[kept_field], f"{name}: the user's input is not kept"
        assert kept["version"] == str(current), f"{name}: the form does not carry the current version"
    finally:
        if case.cleanup:
            case.cleanup()
