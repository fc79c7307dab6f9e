"""Idempotent creates (issue 14, finding 9): every form that creates a record carries a one-time
submission key; the same key sent again, one after the other or at once, makes one record and is
answered as the first send was; another key makes another record; a key of another user or form is
refused (422) and writes nothing. The tables below must name every POST route of the application.
"""
import inspect
import io
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

import pytest
from sqlalchemy import func, select

from app import submissions
from models import (Attachment, Centre, Commitment, Consent, Cooperation, Finding, Goal, GrantApplication, GrantCall, Group,
                    Interaction, Meeting, Membership, Partner, PartnerContact, ProcessingActivity, Resident,
                    SettlementDocument, Submission, User, db, utcnow)
from tests.conftest import PASSWORD
from tests.http_client import HttpSession
from tests.test_grants import PNG, application_form, call_form, login, make_call
from tests.test_meetings import fresh_resident, hood_of, make_group, make_meeting
from tests.test_partners import PARTNER_FORM

HX = {"HX-Request": "true"}
KEY_INPUT = re.compile(r'name="submission_key" value="([A-Za-z0-9_-]{16,64})"')
TODAY = date.today()


def new_key() -> str:
    return secrets.token_urlsafe(24)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- every POST route: creates (keyed) and the rest (with the reason they need no key) -----------------

@dataclass
class Case:
    role: str | None                     # None: the public form, no sign-in
    model: type
    prepare: Callable                    # app -> (post url, data(i) for the i-th record, page with the form)
    htmx: bool = False
    multipart: bool = False


def _resident_new(app):
    hood = hood_of(app, "wilda")
    return "/residents/new", lambda i: {"neighbourhood_id": hood, "first_name": "Klucz", "last_name": f"Próbny{i}"}, \
        "/residents/new"


def _interaction_new(app):
    rid = fresh_resident(app)
    url = f"/interactions/new?resident={rid}"
    return url, lambda i: {"resident_id": rid, "channel": "door_to_door", "concerns": f"Ławki {i}"}, url


def _interaction_person(app):
    hood = hood_of(app, "wilda")
    return "/interactions/new/person", lambda i: {"new-description": f"Pan z psem, blok {i}",
                                                  "new-neighbourhood_id": hood}, "/interactions/new"


def _consent(app):
    rid = fresh_resident(app)
    return f"/residents/{rid}/consents", lambda i: {"purpose": ("email", "phone")[i], "method": "online",
                                                    "given_on": "2026-01-10"}, f"/residents/{rid}"


def _user_new(app):
    with app.app_context():
        hood = hood_of(app, "wilda")
    return "/admin/users/new", lambda i: {
        "email": f"klucz{i}@example.org", "name": f"Osoba Klucz {i}", "role": "animator",
        "centre_id": str(app.world.centres["wilda"]), "neighbourhood_ids": [str(hood)],
        "password": "bardzo-dlugie-haslo", "active": "y"}, "/admin/users/new"


def _centre_new(app):
    hood = hood_of(app, "jezyce")
    return "/admin/centres/new", lambda i: {"name": f"CIL Klucz {i}", "slug": f"cil-klucz-{i}", "kind": "neighbourhood",
                                            "operator": "Fundacja", "neighbourhood_id": str(hood), "active": "y"}, \
        "/admin/centres/new"


def _apply(app):
    call = make_call(app)
    return f"/apply/{call.slug}", lambda i: application_form(app, title=f"Potańcówka {i}"), f"/apply/{call.slug}"


def _commitment_new(app):
    rid = fresh_resident(app)
    url = f"/commitments/new?resident={rid}"
    return url, lambda i: {"resident_id": rid, "what": f"pomoże przy festynie {i}", "group_id": "0"}, url


def _finding_new(app):
    hood = hood_of(app, "wilda")
    return "/diagnosis/findings/new", lambda i: {"kind": "need", "title": f"Ławki przy szkole {i}", "source": "survey",
                                                 "neighbourhood_id": hood, "found_on": TODAY.isoformat(),
                                                 "group_id": "0"}, "/diagnosis/findings/new"


def _application_new(app):
    call = make_call(app)
    url = f"/grants/calls/{call.id}/applications/new"
    return url, lambda i: application_form(app, title=f"Wniosek z papieru {i}", privacy=None), url


def _call_new(app):
    return "/grants/calls/new", lambda i: call_form(title=f"Nabór z kluczem {i}"), "/grants/calls/new"


def _in_progress(app) -> int:
    with app.app_context():
        return db.session.scalar(select(GrantApplication.id).where(
            GrantApplication.status == "in_progress",
            GrantApplication.centre_id == app.world.centres["regranting"]).order_by(GrantApplication.id).limit(1))


def _document_add(app):
    aid = _in_progress(app)
    return f"/grants/applications/{aid}/settlement/documents", lambda i: {
        "number": f"FV/{i}/2026", "issued_on": TODAY.isoformat(), "amount": "100", "what_for": "Plakaty",
        "budget_line_id": "0"}, f"/grants/applications/{aid}/settlement"


def _attachment_add(app):
    aid = _in_progress(app)
    return f"/grants/applications/{aid}/attachments", lambda i: {
        "file": (io.BytesIO(PNG), f"zdjecie{i}.png"), "description": f"Zdjęcie {i}"}, \
        f"/grants/applications/{aid}/settlement"


def _goal_add(app):
    gid, _people = make_group(app)
    return f"/groups/{gid}/goals", lambda i: {"title": f"Regał {i}", "due_on": "2027-03-01"}, f"/groups/{gid}"


def _member_add(app):
    gid, _people = make_group(app)
    newcomers = [fresh_resident(app, first_name=f"Nowa{i}") for i in range(2)]
    return f"/groups/{gid}/members", lambda i: {"resident_id": str(newcomers[i]), "role": "member"}, f"/groups/{gid}"


def _group_new(app):
    hood = hood_of(app, "wilda")
    return "/groups/new", lambda i: {
        "name": f"Sąsiedzi z kluczem {i}", "matter": "ławki", "neighbourhood_id": str(hood),
        "animator_id": str(app.world.users["animator@wilda"]), "started_on": TODAY.isoformat(), "status": "active",
        "stage": "idea", "tags": "", "note": ""}, "/groups/new"


def _meeting_commitment(app):
    rid = fresh_resident(app)
    mid = make_meeting(app, present=(rid,))
    return f"/meetings/{mid}/commitments", lambda i: {"resident_id": rid, "what": f"przyniesie krzesła {i}",
                                                      "inline": "1"}, \
        f"/meetings/{mid}/commitments/new?resident_id={rid}"


def _meeting_new(app):
    hood = hood_of(app, "wilda")
    return "/meetings/new", lambda i: {
        "title": f"Spotkanie z kluczem {i}", "kind": "open", "neighbourhood_id": hood, "group_id": "0",
        "starts_at": "2026-03-10T18:00", "duration_min": "90", "place": "Biblioteka",
        "animator_ids": str(app.world.users["animator@wilda"]), "unnamed_count": "0", "notes": "", "decisions": ""}, \
        "/meetings/new"


def _person_new(app):
    mid = make_meeting(app)
    hood = hood_of(app, "wilda")
    return f"/meetings/{mid}/people/new", lambda i: {
        "new-first_name": "Ola", "new-last_name": f"Kluczowa{i}", "new-neighbourhood_id": hood,
        "new-consent_method": "verbal"}, f"/meetings/{mid}/people?q=Ola+Kluczowa"


def _quick(app):
    groups = [make_group(app, members=1, name=f"Grupa na teraz {i}")[0] for i in range(2)]
    return "/meetings/quick", lambda i: {"group_id": str(groups[i])}, "/meetings"


def _partner_of(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Partner.id).where(Partner.centre_id == app.world.centres["wilda"])
                                 .order_by(Partner.id).limit(1))


def _contact_add(app):
    pid = _partner_of(app)
    return f"/partners/{pid}/contacts", lambda i: {"name": f"Halina Kluczowa {i}", "role": "pedagożka",
                                                   "phone": "601 234 567"}, f"/partners/{pid}"


def _cooperation_add(app):
    pid = _partner_of(app)
    return f"/partners/{pid}/cooperations", lambda i: {"what": f"Szkoła udostępniła salę {i}",
                                                       "happened_on": TODAY.isoformat(), "group_id": "0",
                                                       "meeting_id": "0"}, f"/partners/{pid}/cooperations/new"


def _partner_new(app):
    hood = hood_of(app, "wilda")
    return "/partners/new", lambda i: {**PARTNER_FORM, "name": f"Biblioteka z kluczem {i}", "neighbourhood_id": hood}, \
        "/partners/new"


def _register_new(app):
    return "/privacy/register/new", lambda i: {
        "name": f"Newsletter {i}", "purpose": "Informowanie", "legal_basis": "zgoda", "data_subjects": "subskrybenci",
        "data_categories": "e-mail", "recipients": "brak", "retention": "do wycofania zgody", "security": "jak wyżej",
        "position": "9"}, "/privacy/register/new"


CREATES = {
    "residents.new": Case("animator@wilda", Resident, _resident_new),
    "interactions.new": Case("animator@wilda", Interaction, _interaction_new),
    "interactions.new_person": Case("animator@wilda", Resident, _interaction_person),
    "residents.consent_give": Case("animator@wilda", Consent, _consent, htmx=True),
    "admin.user_new": Case("admin", User, _user_new),
    "admin.centre_new": Case("admin", Centre, _centre_new),
    "apply.form": Case(None, GrantApplication, _apply),
    "commitments.new": Case("animator@wilda", Commitment, _commitment_new),
    "diagnosis.new": Case("animator@wilda", Finding, _finding_new),
    "grants.application_new": Case("coordinator@regranting", GrantApplication, _application_new),
    "grants.call_new": Case("coordinator@regranting", GrantCall, _call_new),
    "grants.document_add": Case("coordinator@regranting", SettlementDocument, _document_add),
    "grants.attachment_add": Case("coordinator@regranting", Attachment, _attachment_add, multipart=True),
    "groups.goal_add": Case("animator@wilda", Goal, _goal_add, htmx=True),
    "groups.member_add": Case("animator@wilda", Membership, _member_add, htmx=True),
    "groups.new": Case("animator@wilda", Group, _group_new),
    "meetings.commitment_add": Case("animator@wilda", Commitment, _meeting_commitment, htmx=True),
    "meetings.new": Case("animator@wilda", Meeting, _meeting_new),
    "meetings.person_new": Case("animator@wilda", Resident, _person_new, htmx=True),
    "meetings.quick": Case("animator@wilda", Meeting, _quick),
    "partners.contact_add": Case("animator@wilda", PartnerContact, _contact_add, htmx=True),
    "partners.cooperation_add": Case("animator@wilda", Cooperation, _cooperation_add, htmx=True),
    "partners.new": Case("animator@wilda", Partner, _partner_new),
    "privacy.register_edit": Case("admin", ProcessingActivity, _register_new),
}

# POST routes that make no new record a repeat could duplicate, and why.
NOT_CREATES = {
    "admin.centre_edit": "edit (version)", "admin.user_edit": "edit (version)",
    "admin.user_password": "sets a password: the same twice is the same",
    "auth.language": "session setting", "auth.login": "sign-in", "auth.logout": "sign-out",
    "auth.password": "sets a password",
    "calendar.revoke": "revokes the calendar token", "calendar.token": "replaces the one calendar token",
    "commitments.edit": "edit (version)", "commitments.set_status": "status change (version)",
    "diagnosis.delete": "delete", "diagnosis.group_link": "link: a set, repeating changes nothing",
    "diagnosis.group_unlink": "unlink", "diagnosis.interaction_unlink": "unlink",
    "diagnosis.meeting_unlink": "unlink", "diagnosis.source_link": "link: a set",
    "diagnosis.update": "edit (version)",
    "grants.agreement": "pipeline step (version)", "grants.application_edit": "edit (version)",
    "grants.assign": "one assignment per reviewer (unique; a repeat is the same outcome)",
    "grants.call_edit": "edit (version)", "grants.call_status": "status change (version)",
    "grants.close": "pipeline step (version)", "grants.decision": "pipeline step (version)",
    "grants.declaration": "one declaration per assignment", "grants.formal": "pipeline step (version)",
    "grants.link_group": "link", "grants.link_reference": "link", "grants.review": "one review per assignment",
    "grants.settlement": "the one settlement of an application (version)", "grants.start": "pipeline step",
    "grants.unassign": "unlink",
    "groups.goal_status": "status change", "groups.member": "edit", "groups.member_leave": "status change",
    "groups.show": "edit of details (version)", "groups.stage": "stage change (version)",
    "imports.mapping": "imports a waiting upload once: the import claims the upload by an atomic rename",
    "imports.cancel": "deletes the waiting upload",
    "grants.link_decision": "decides a pending link request once: a second decision is a 409",
    "imports.upload": "stores an upload waiting for confirmation (no record yet)",
    "interactions.followup_done": "status change",
    "meetings.attendance": "set, not toggled", "meetings.delete": "delete", "meetings.edit": "edit (version)",
    "meetings.headcount": "sets a number", "meetings.notes": "edit (version)",
    "partners.contact_delete": "delete", "partners.group_link": "link", "partners.group_unlink": "unlink",
    "partners.meeting_link": "link", "partners.meeting_unlink": "unlink", "partners.update": "edit (version)",
    "privacy.erase": "erasure", "privacy.register_delete": "delete", "privacy.retention_erase": "erasure",
    "residents.consent_withdraw": "status change", "residents.merge": "merge (the second record goes)",
    "residents.update": "edit (version)",
}

# Of those, the ones whose code adds a row anyway, and why that is no create a repeat could double.
ADDS_BUT_NOT_A_CREATE = {
    "grants.settlement": "the one settlement of an application, made on its first save (unique)",
}


def test_every_post_route_is_in_the_tables(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    missing = posts - set(CREATES) - set(NOT_CREATES)
    assert not missing, f"POST routes missing from CREATES / NOT_CREATES: {sorted(missing)}"
    assert not set(CREATES) & set(NOT_CREATES)
    assert not (set(CREATES) | set(NOT_CREATES)) - posts, "the tables name routes that do not exist"
    keyed = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, "submission_keyed", False)}
    assert keyed == set(CREATES), "every create view is @submissions.keyed and calls submissions.made"
    for endpoint in CREATES:
        source = inspect.getsource(app.view_functions[endpoint])
        assert "submissions.made(" in source, endpoint
    for endpoint in NOT_CREATES:
        source = inspect.getsource(app.view_functions[endpoint])
        if "db.session.add(" in source:
            assert endpoint in ADDS_BUT_NOT_A_CREATE, f"{endpoint} adds a row: a create without a submission key?"


def _client(app, case: Case):
    return login(app, case.role) if case.role else app.test_client()


def _post(client, case: Case, url: str, data: dict, key: str | None, ip: str):
    data = dict(data)
    if key is not None:
        data["submission_key"] = key
    kw = {"environ_base": {"REMOTE_ADDR": ip}}
    if case.multipart:
        kw["content_type"] = "multipart/form-data"
    return client.post(url, data=data, headers=HX if case.htmx else {}, **kw)


def _answer(r) -> tuple:
    """What must be the same between the first send and a repeat: status, where it leads, and for a
    fragment the element it starts with."""
    body = r.get_data(as_text=True).strip()
    first = body.split("\n", 1)[0] if r.status_code == 200 else ""
    return r.status_code, r.headers.get("Location"), r.headers.get("HX-Redirect"), first


@pytest.fixture
def uploads(app, tmp_path):
    app.config["GRANT_UPLOAD_DIR"] = str(tmp_path / "uploads")


@pytest.mark.parametrize("endpoint", sorted(CREATES))
def test_the_same_key_twice_makes_one_record_and_the_same_answer(app, uploads, endpoint):
    case = CREATES[endpoint]
    url, data, page = case.prepare(app)
    client = _client(app, case)
    ip = f"10.9.{len(endpoint)}.{sum(map(ord, endpoint)) % 250 + 1}"
    form = client.get(page, headers=HX if "people?q=" in page or "commitments/new" in page else {},
                      environ_base={"REMOTE_ADDR": ip})
    assert form.status_code == 200
    keys = KEY_INPUT.findall(form.get_data(as_text=True))
    assert keys, f"{page} has no submission_key in its create form"
    key = keys[0]
    before = count(app, case.model)
    first = _post(client, case, url, data(0), key, ip)
    assert first.status_code in (200, 303), first.get_data(as_text=True)[:3000]
    assert count(app, case.model) == before + 1
    again = _post(client, case, url, data(0), key, ip)
    assert count(app, case.model) == before + 1, "the same key made a second record"
    assert _answer(again) == _answer(first)
    with app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.key == key))
        assert row.endpoint == endpoint and row.object_type == case.model.__tablename__ and row.object_id
        assert row.user_id == (app.world.users[case.role] if case.role else None)
    other = _post(client, case, url, data(1), new_key(), ip)
    assert other.status_code in (200, 303), other.get_data(as_text=True)[:3000]
    assert count(app, case.model) == before + 2, "another key is another record"
    # without a key (an old client): a normal create
    if endpoint not in ("residents.consent_give", "groups.member_add", "meetings.quick"):  # one per person / group
        _post(client, case, url, data(2), None, ip)
        assert count(app, case.model) == before + 3


def test_a_repeat_of_the_public_form_shows_the_same_reference(app):
    call = make_call(app)
    browser = app.test_client()
    key = KEY_INPUT.search(browser.get(f"/apply/{call.slug}").get_data(as_text=True)).group(1)
    data = {**application_form(app), "submission_key": key}
    first = browser.post(f"/apply/{call.slug}", data=data, environ_base={"REMOTE_ADDR": "10.8.0.1"})
    shown = browser.get(first.headers["Location"]).get_data(as_text=True)
    # the answer of the first send was lost: another browser (a retry from a fresh session) sends it again
    retry = app.test_client()
    again = retry.post(f"/apply/{call.slug}", data=data, environ_base={"REMOTE_ADDR": "10.8.0.1"})
    assert (again.status_code, again.headers["Location"]) == (first.status_code, first.headers["Location"])
    with app.app_context():
        application = db.session.scalars(select(GrantApplication).where(GrantApplication.call_id == call.id)).one()
        reference = application.reference
    assert reference in shown and reference in retry.get(again.headers["Location"]).get_data(as_text=True)


def test_a_key_of_another_user_or_form_is_refused_and_writes_nothing(app):
    hood = hood_of(app, "wilda")
    anna, coordinator = login(app, "animator@wilda"), login(app, "coordinator@wilda")
    key = new_key()
    person = {"neighbourhood_id": hood, "first_name": "Zofia", "last_name": "Kluczowa", "submission_key": key}
    assert anna.post("/residents/new", data=person).status_code == 303
    residents, partners, rows = count(app, Resident), count(app, Partner), count(app, Submission)
    # the same key from another user
    r = coordinator.post("/residents/new", data=person)
    assert r.status_code == 422 and "klucz wysyłki" in r.get_data(as_text=True)
    # the same key on another form
    r = anna.post("/partners/new", data={**PARTNER_FORM, "neighbourhood_id": hood, "submission_key": key})
    assert r.status_code == 422 and "klucz wysyłki" in r.get_data(as_text=True)
    # the same key for another record in the URL (another meeting)
    m1, m2 = make_meeting(app), make_meeting(app, title="Drugie")
    newcomer = {"new-first_name": "Ela", "new-last_name": "Dwukrotna", "new-neighbourhood_id": hood,
                "new-consent_method": "verbal", "submission_key": new_key()}
    assert anna.post(f"/meetings/{m1}/people/new", data=newcomer, headers=HX).status_code == 200
    assert anna.post(f"/meetings/{m2}/people/new", data=newcomer, headers=HX).status_code == 422
    assert (count(app, Resident), count(app, Partner), count(app, Submission)) == (residents + 1, partners, rows + 1)
    # a malformed key
    for bad in ("krótki", "x" * 65, "zły klucz z spacjami!!", "a" * 15 + "\x00"):
        r = anna.post("/residents/new", data={**person, "submission_key": bad})
        assert r.status_code == 422 and "klucz wysyłki" in r.get_data(as_text=True)
    assert count(app, Resident) == residents + 1


def test_a_key_made_by_the_client_is_accepted(app):
    """Offline capture makes its keys itself (crypto.randomUUID())."""
    client = login(app, "animator@wilda")
    key = "0b9a6c1e-3f0e-4c4e-9a51-6f1f2d7c8e90"
    data = {"neighbourhood_id": hood_of(app, "wilda"), "first_name": "Offline", "submission_key": key}
    before = count(app, Resident)
    first, again = client.post("/residents/new", data=data), client.post("/residents/new", data=data)
    assert first.status_code == again.status_code == 303 and first.headers["Location"] == again.headers["Location"]
    assert count(app, Resident) == before + 1


def test_a_send_that_loses_the_race_rolls_back_and_answers_as_the_winner(app, monkeypatch):
    """Two sends at once on PostgreSQL: both looked the key up before either committed. The loser's
    INSERT of the key fails; everything it wrote is rolled back and it answers as the winner did.
    (Made deterministic here: the winner has committed, the loser's lookup is told it has not.)"""
    client = login(app, "animator@wilda")
    key = new_key()
    data = {"neighbourhood_id": hood_of(app, "wilda"), "first_name": "Wyścig", "submission_key": key}
    winner = client.post("/residents/new", data=data)
    before = count(app, Resident)
    real_find, calls = submissions._find, []

    def stale_first_lookup(k):
        calls.append(k)
        return None if len(calls) == 1 else real_find(k)

    monkeypatch.setattr(submissions, "_find", stale_first_lookup)
    loser = client.post("/residents/new", data=data)
    assert len(calls) == 2
    assert (loser.status_code, loser.headers["Location"]) == (winner.status_code, winner.headers["Location"])
    assert count(app, Resident) == before


def _concurrently(n: int, send):
    barrier, answers = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        answers[i] = send(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_concurrent_sends_of_the_public_form_make_one_application(app, live_server):
    call = make_call(app)
    browser = HttpSession(live_server)
    page = browser.get(f"/apply/{call.slug}").body
    key = KEY_INPUT.search(page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {**application_form(app), "submission_key": key, "csrf_token": token}
    before = count(app, GrantApplication)

    def send(_i):
        s = HttpSession(live_server)  # a connection each, the same browser's cookie
        s.cookies = dict(browser.cookies)
        try:
            return s.post(f"/apply/{call.slug}", data)
        finally:
            s.close()

    answers = _concurrently(4, send)
    assert [a.status for a in answers] == [303] * 4, [a.body[:500] for a in answers if a.status != 303]
    assert len({a.location for a in answers}) == 1
    assert count(app, GrantApplication) == before + 1


def test_concurrent_sends_of_a_new_resident_make_one_record(app, live_server):
    with app.app_context():
        email = db.session.get(User, app.world.users["animator@wilda"]).email
    browser = HttpSession(live_server)
    browser.login(email, PASSWORD)
    page = browser.get("/residents/new").body
    key = KEY_INPUT.search(page).group(1)
    data = {"neighbourhood_id": hood_of(app, "wilda"), "first_name": "Równoczesna", "last_name": "Osoba",
            "submission_key": key, "csrf_token": browser.csrf}
    before = count(app, Resident)

    def send(_i):
        s = HttpSession(live_server)
        s.cookies = dict(browser.cookies)
        try:
            return s.post("/residents/new", data)
        finally:
            s.close()

    answers = _concurrently(4, send)
    assert [a.status for a in answers] == [303] * 4, [a.body[:500] for a in answers if a.status != 303]
    assert len({a.location for a in answers}) == 1
    assert count(app, Resident) == before + 1


def test_old_submission_rows_are_purged_by_enforce_retention(app, runner):
    client = login(app, "animator@wilda")
    for name in ("Stara", "Nowa"):
        client.post("/residents/new", data={"neighbourhood_id": hood_of(app, "wilda"), "first_name": name,
                                            "submission_key": new_key()})
    with app.app_context():
        oldest = db.session.scalars(select(Submission).order_by(Submission.id)).first()
        oldest.created_at = utcnow() - timedelta(days=submissions.KEEP_DAYS + 1)
        db.session.commit()
    result = runner.invoke(args=["enforce-retention"])
    assert result.exit_code == 0 and "Submission keys older than 30 days removed: 1." in result.output
    assert count(app, Submission) == 1
