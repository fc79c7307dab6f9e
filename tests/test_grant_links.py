"""Links between a group and a grant application across centres are asked, not taken (issue 14, finding 8).

An animator of CIL Rataje posted MG/2026/0001 ... 0024 to their group's link form and attached applications
of the regranting centre, whose titles, statuses and amounts then showed on the group's page. Now:
- a reference number carries a random code (MG/2026/0007-K7QX): the sequence alone finds nothing;
- failed look-ups are counted per user: after the limit, 429 in Polish without any look-up, and an alert;
- a wrong number and a number the group may not link answer the same message;
- an application outside the user's scope is only *requested*: nothing of it reaches the group's page
  until the coordinator of the centre running the call confirms; refusals write nothing.
"""
import re
import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from models import AuditEvent, GrantApplication, GrantLinkRequest, Group, ReferenceAttempt, db
from models import grants_queries as q
from models.grants import CODE_ALPHABET
from tests.test_grants import HX, application_of, hood_id, login, make_call, new_application, text_of

NOT_FOUND = "Nie znaleziono wniosku o tym numerze, który można połączyć z tą grupą."


def group_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Group.id).where(Group.name == name))


def error_of(response) -> str:
    """The message next to the reference field."""
    found = re.search(r'<p class="error"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S)
    assert found, response.get_data(as_text=True)[:3000]
    return text_of(found.group(1)).strip()


def counts(app) -> dict:
    """What a refusal must leave as it was: links, requests and the applications' versions."""
    with app.app_context():
        return {
            "linked": db.session.execute(select(GrantApplication.id, GrantApplication.group_id,
                                                GrantApplication.version).order_by(GrantApplication.id)).all(),
            "requests": db.session.execute(select(GrantLinkRequest.id, GrantLinkRequest.status)
                                           .order_by(GrantLinkRequest.id)).all(),
        }


def audit_count(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@pytest.fixture
def rataje_application(app):
    """An application of the regranting centre's call for the osiedle Rataje, not linked to any group."""
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    aid = new_application(app, call, neighbourhood_id=str(hood_id(app, "rataje")),
                          title="Ratajskie kino plenerowe")
    return coordinator, call, aid


# --- the reference number ----------------------------------------------------------------------------

def test_reference_numbers_carry_a_random_code(app, rataje_application):
    _coordinator, call, aid = rataje_application
    a = application_of(app, aid)
    assert re.fullmatch(rf"MG/{a.submitted_at.year}/{aid:04d}-[{CODE_ALPHABET}]{{4}}", a.reference)
    other = application_of(app, new_application(app, call))
    assert other.reference_code != a.reference_code or other.id != a.id
    with app.app_context():  # the demo's applications have codes too, and not all the same
        codes = db.session.scalars(select(GrantApplication.reference_code)).all()
    assert all(re.fullmatch(f"[{CODE_ALPHABET}]{{4}}", c) for c in codes) and len(set(codes)) > len(codes) // 2


def test_parse_reference_is_forgiving_in_form_and_strict_in_content():
    assert q.parse_reference("MG/2026/0007-K7QX") == (2026, 7, "K7QX")
    assert q.parse_reference(" mg 2026 7 k7qx ") == (2026, 7, "K7QX")
    assert q.parse_reference("MG/2026/0007K7QX") == (2026, 7, "K7QX")
    assert q.parse_reference("MG/2026/0007-KO1L") == (2026, 7, "K011")  # O read as 0, I and L as 1
    for raw in ("MG/2026/0007", "MG/2026/0007-K7Q", "MG/2026/0007-K7QXY", "MG/2026/0007-K7QU", "XX/2026/0007-K7QX",
                "MG/²026/0007-K7QX", "MG/2026/０００７-K7QX", "MG/2026/99999999999999999999-K7QX", "", None,
                "MG/2026/0007-K7Q\x00"):
        assert q.parse_reference(raw) is None, raw


# --- the attack, reproduced ----------------------------------------------------------------------------

def test_enumerating_references_links_nothing_shows_nothing_and_is_throttled(app, rataje_application):
    """The finding: a Rataje animator tries the sequence MG/<year>/0001 ... 0024 on their group."""
    _coordinator, _call, aid = rataje_application
    a = application_of(app, aid)
    gid = group_id(app, "Ratajskie Potańcówki")
    attacker = login(app, "animator@rataje")
    before = counts(app)
    shown_before = attacker.get(f"/grants/groups/{gid}", headers=HX).get_data(as_text=True)
    limit = app.config["GRANT_REFERENCE_FAILURE_LIMIT"]
    answers = []
    for n in range(1, 25):
        r = attacker.post(f"/grants/groups/{gid}/link", data={"reference": f"MG/{a.submitted_at.year}/{n:04d}"})
        answers.append(r.status_code)
    assert answers[:limit] == [422] * limit and set(answers[limit:]) == {429}, answers
    throttled = attacker.post(f"/grants/groups/{gid}/link", data={"reference": a.reference})  # even the right one
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3600"
    assert "Zbyt wiele błędnych numerów wniosku" in throttled.get_data(as_text=True)
    # nothing linked, nothing requested, nothing shown
    assert counts(app) == before
    fragment = text_of(attacker.get(f"/grants/groups/{gid}", headers=HX).get_data(as_text=True))
    assert "Ratajskie kino plenerowe" not in fragment and a.reference not in fragment
    assert attacker.get(f"/grants/groups/{gid}", headers=HX).get_data(as_text=True) == shown_before
    # one alert in the audit trail; the failures counted, only while the throttle needs them
    assert audit_count(app, "grant_reference_throttled") == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReferenceAttempt)) == limit
    # another user is not throttled by the attacker
    other = login(app, "coordinator@rataje")
    assert other.post(f"/grants/groups/{gid}/link", data={"reference": "MG/2026/0001-AAAA"}).status_code == 422


def test_even_the_right_number_from_another_centre_is_only_a_request(app, rataje_application):
    """Knowing the full number (with its code) is not enough to read the application: the Rataje group's
    page says only that a request waits, until the regranting coordinator confirms."""
    _coordinator, _call, aid = rataje_application
    a = application_of(app, aid)
    gid = group_id(app, "Ratajskie Potańcówki")
    animator = login(app, "animator@rataje")
    r = animator.post(f"/grants/groups/{gid}/link", data={"reference": a.reference})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/groups/{gid}#grants")
    assert "Prośba o powiązanie wysłana, czeka na potwierdzenie" in animator.get(r.headers["Location"]).get_data(
        as_text=True)
    assert application_of(app, aid).group_id is None
    fragment = text_of(animator.get(f"/grants/groups/{gid}", headers=HX).get_data(as_text=True))
    assert "czeka na potwierdzenie" in fragment
    for leak in (a.title, a.reference, f"/{a.id:04d}", a.reference_code, a.applicant_name):
        assert leak not in fragment, leak
    # the page without scripts says the same
    page = text_of(animator.get(f"/grants/groups/{gid}").get_data(as_text=True))
    assert "czeka na potwierdzenie" in page and a.title not in page
    # asking again makes no second request
    assert animator.post(f"/grants/groups/{gid}/link", data={"reference": a.reference}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GrantLinkRequest)) == 1
    assert audit_count(app, "grant_link_requested") == 1


def test_a_wrong_number_and_one_out_of_reach_answer_alike(app, rataje_application):
    """No answer tells whether an application exists: wrong code, no such number, another osiedle, already
    linked all answer the same words."""
    coordinator, call, aid = rataje_application
    a = application_of(app, aid)
    wilda_aid = new_application(app, call)  # osiedle Wilda
    assert application_of(app, wilda_aid).group_id is None
    wilda_ref = application_of(app, wilda_aid).reference
    gid = group_id(app, "Ratajskie Potańcówki")
    animator = login(app, "animator@rataje")
    wrong_code = next(c for c in ("AAAA", "BBBB") if c != a.reference_code)
    tries = {
        "no such number": f"MG/{a.submitted_at.year}/9999-{a.reference_code}",
        "wrong code": f"MG/{a.submitted_at.year}/{aid:04d}-{wrong_code}",
        "no code": f"MG/{a.submitted_at.year}/{aid:04d}",
        "wrong year": f"MG/{a.submitted_at.year - 1}/{aid:04d}-{a.reference_code}",
        "another osiedle": wilda_ref,
        "gibberish": "proszę połączyć",
    }
    messages = {}
    for what, ref in tries.items():
        r = animator.post(f"/grants/groups/{gid}/link", data={"reference": ref})
        assert r.status_code == 422, what
        messages[what] = error_of(r)
    # already linked: a request of this group confirmed, then another Rataje group tries the same number
    assert animator.post(f"/grants/groups/{gid}/link", data={"reference": a.reference}).status_code == 303
    with app.app_context():
        request_id = db.session.scalar(select(GrantLinkRequest.id))
        second = db.session.scalar(select(Group.id).where(Group.centre_id == app.world.centres["rataje"],
                                                          Group.id != gid,
                                                          Group.neighbourhood_id == hood_id(app, "rataje"))
                                   .order_by(Group.id).limit(1))
    assert coordinator.post(f"/grants/applications/{aid}/link-requests/{request_id}",
                            data={"decision": "confirm"}).status_code == 303
    r = login(app, "coordinator@rataje").post(f"/grants/groups/{second}/link", data={"reference": a.reference})
    assert r.status_code == 422
    messages["already linked"] = error_of(r)
    assert len(set(messages.values())) == 1, messages
    assert NOT_FOUND in messages["wrong code"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GrantLinkRequest)) == 1  # only the confirmed one


# --- the happy paths -------------------------------------------------------------------------------------

def test_an_application_in_scope_is_linked_at_once(app):
    """The regranting coordinator links the centre's own application to the centre's own group: no request."""
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    with app.app_context():
        gid, hood = db.session.execute(select(Group.id, Group.neighbourhood_id).where(
            Group.centre_id == app.world.centres["regranting"]).order_by(Group.id).limit(1)).one()
    aid = new_application(app, call, neighbourhood_id=str(hood), title="Sąsiedzki ogród")
    a = application_of(app, aid)
    r = coordinator.post(f"/grants/groups/{gid}/link", data={"reference": a.reference})
    assert r.status_code == 303
    assert application_of(app, aid).group_id == gid
    fragment = text_of(coordinator.get(f"/grants/groups/{gid}", headers=HX).get_data(as_text=True))
    assert "Sąsiedzki ogród" in fragment and a.reference in fragment and "czeka na potwierdzenie" not in fragment
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GrantLinkRequest)) == 0
    assert audit_count(app, "grant_group_linked") == 1


def test_a_request_confirmed_by_the_regranting_coordinator_then_shows(app, rataje_application):
    coordinator, call, aid = rataje_application
    a = application_of(app, aid)
    rataje_group = group_id(app, "Ratajskie Potańcówki")
    rataje = login(app, "animator@rataje")
    assert rataje.post(f"/grants/groups/{rataje_group}/link", data={"reference": a.reference}).status_code == 303
    # a second group (of the same osiedle) asks for the same application
    with app.app_context():
        second = db.session.scalar(select(Group.id).where(Group.centre_id == app.world.centres["rataje"],
                                                          Group.id != rataje_group,
                                                          Group.neighbourhood_id == hood_id(app, "rataje"))
                                   .order_by(Group.id).limit(1))
    coordinator_rataje = login(app, "coordinator@rataje")
    assert coordinator_rataje.post(f"/grants/groups/{second}/link", data={"reference": a.reference}).status_code == 303
    # the regranting coordinator sees the requests: on the call's ranking and on the application
    ranking = coordinator.get(f"/grants/calls/{call.id}").get_data(as_text=True)
    assert f"/grants/applications/{aid}#link-requests" in ranking and "prośba o powiązanie z grupą" in ranking
    page = coordinator.get(f"/grants/applications/{aid}").get_data(as_text=True)
    assert "Ratajskie Potańcówki" in page and "CIL Rataje" in page
    with app.app_context():
        first_id, second_id = db.session.scalars(select(GrantLinkRequest.id).order_by(GrantLinkRequest.id)).all()
    assert f"/link-requests/{first_id}" in page and f"/link-requests/{second_id}" in page
    r = coordinator.post(f"/grants/applications/{aid}/link-requests/{first_id}", data={"decision": "confirm"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/grants/applications/{aid}#link-requests")
    assert application_of(app, aid).group_id == rataje_group
    with app.app_context():
        statuses = dict(db.session.execute(select(GrantLinkRequest.id, GrantLinkRequest.status)).all())
        decided_by = db.session.scalar(select(GrantLinkRequest.decided_by_id).where(GrantLinkRequest.id == first_id))
    assert statuses == {first_id: "confirmed", second_id: "refused"}  # the other group's request is closed
    assert decided_by == app.world.users["coordinator@regranting"]
    assert audit_count(app, "grant_link_confirmed") == 1
    fragment = text_of(rataje.get(f"/grants/groups/{rataje_group}", headers=HX).get_data(as_text=True))
    assert "Ratajskie kino plenerowe" in fragment and a.reference in fragment and "czeka na potwierdzenie" not in fragment
    assert f"/grants/applications/{aid}" not in fragment  # the group's people still cannot open it
    other = text_of(coordinator_rataje.get(f"/grants/groups/{second}", headers=HX).get_data(as_text=True))
    assert "odrzucona" in other and "Ratajskie kino plenerowe" not in other
    # the ranking no longer flags it
    assert f"/grants/applications/{aid}#link-requests" not in coordinator.get(f"/grants/calls/{call.id}").get_data(
        as_text=True)


def test_a_refused_request_shows_nothing_and_cannot_be_sent_again(app, rataje_application):
    coordinator, _call, aid = rataje_application
    a = application_of(app, aid)
    gid = group_id(app, "Ratajskie Potańcówki")
    animator = login(app, "animator@rataje")
    assert animator.post(f"/grants/groups/{gid}/link", data={"reference": a.reference}).status_code == 303
    with app.app_context():
        request_id = db.session.scalar(select(GrantLinkRequest.id))
    r = coordinator.post(f"/grants/applications/{aid}/link-requests/{request_id}", data={"decision": "refuse"})
    assert r.status_code == 303
    assert application_of(app, aid).group_id is None
    assert audit_count(app, "grant_link_refused") == 1
    fragment = text_of(animator.get(f"/grants/groups/{gid}", headers=HX).get_data(as_text=True))
    assert "odrzucona" in fragment and a.title not in fragment and a.reference not in fragment
    before = counts(app)
    r = animator.post(f"/grants/groups/{gid}/link", data={"reference": a.reference})
    assert r.status_code == 422 and "odrzuciło już prośbę" in r.get_data(as_text=True)
    assert counts(app) == before


def test_decisions_are_the_regranting_coordinators_and_refusals_write_nothing(app, rataje_application):
    coordinator, _call, aid = rataje_application
    a = application_of(app, aid)
    gid = group_id(app, "Ratajskie Potańcówki")
    assert login(app, "animator@rataje").post(f"/grants/groups/{gid}/link",
                                              data={"reference": a.reference}).status_code == 303
    with app.app_context():
        request_id = db.session.scalar(select(GrantLinkRequest.id))
    url = f"/grants/applications/{aid}/link-requests/{request_id}"
    before = counts(app)
    audits = audit_count(app, "grant_link_confirmed") + audit_count(app, "grant_link_refused")
    # not theirs to decide: the requester, another centre's coordinator, a reviewer not assigned, the city
    assert login(app, "animator@rataje").post(url, data={"decision": "confirm"}).status_code == 403
    assert login(app, "coordinator@rataje").post(url, data={"decision": "confirm"}).status_code == 404
    assert login(app, "coordinator@wilda").post(url, data={"decision": "confirm"}).status_code == 404
    assert login(app, "reviewer@regranting").post(url, data={"decision": "confirm"}).status_code == 404
    assert login(app, "city").post(url, data={"decision": "confirm"}).status_code == 403
    # a request of another application, a made-up request, a made-up decision
    other_aid = new_application(app, _call)
    assert coordinator.post(f"/grants/applications/{other_aid}/link-requests/{request_id}",
                            data={"decision": "confirm"}).status_code == 404
    assert coordinator.post(f"/grants/applications/{aid}/link-requests/999999",
                            data={"decision": "confirm"}).status_code == 404
    r = coordinator.post(url, data={"decision": "approve-all"})
    assert r.status_code == 422 and "potwierdzić czy odrzucić" in r.get_data(as_text=True)
    assert coordinator.post(url, data={}).status_code == 422
    assert counts(app)["requests"] == before["requests"] and counts(app)["linked"][:-1] == before["linked"]
    assert audit_count(app, "grant_link_confirmed") + audit_count(app, "grant_link_refused") == audits
    # decided once; deciding again is a 409 that changes nothing
    assert coordinator.post(url, data={"decision": "confirm"}).status_code == 303
    after = counts(app)
    for decision in ("confirm", "refuse"):
        r = coordinator.post(url, data={"decision": decision})
        assert r.status_code == 409 and "już rozpatrzono" in r.get_data(as_text=True)
    assert counts(app) == after


# --- the migration: existing applications get their codes ------------------------------------------------

@pytest.fixture
def empty_database(database_url, tmp_path):
    """A database of its own for a migration test (a file on SQLite, a new database on PostgreSQL)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migration.sqlite3'}"
        return
    import psycopg

    name = f"animo_links_{secrets.token_hex(4)}"
    server = sa.engine.make_url(database_url)
    dsn = f"host={server.host} port={server.port} user={server.username} dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_migration_gives_existing_applications_a_code_and_keeps_their_rows(empty_database):
    import flask_migrate
    from datetime import date, datetime

    from app import create_app
    from tests.conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        flask_migrate.upgrade(revision="0006")
        meta = sa.MetaData()
        meta.reflect(db.engine)
        t = meta.tables
        now = datetime(2026, 3, 1, 12, 0)
        with db.engine.begin() as conn:
            conn.execute(t["neighbourhood"].insert(), [{"id": 1, "slug": "wilda", "name": "Wilda",
                                                        "official_name": "Wilda"}])
            conn.execute(t["centre"].insert(), [{"id": 1, "slug": "cil-x", "name": "CIL X", "kind": "regranting",
                                                 "operator": "Fundacja", "neighbourhood_id": None, "active": True,
                                                 "created_at": now, "version": 1}])
            conn.execute(t["grant_call"].insert(), [{
                "id": 1, "centre_id": 1, "slug": "nabor-2026", "title": "Nabór", "budget": 1000, "max_grant": 500,
                "min_own_percent": 10, "all_neighbourhoods": True, "opens_on": date(2026, 1, 1),
                "activities_from": date(2026, 2, 1), "activities_to": date(2026, 12, 1), "status": "open",
                "granted_total": 0, "created_at": now, "version": 1}])
            apps = [{"id": i, "call_id": 1, "centre_id": 1, "applicant_kind": "informal", "applicant_name": "Grupa",
                     "neighbourhood_id": 1, "title": f"Wniosek {i}", "need": "-", "diagnosis": "-", "goals": "-",
                     "activities": "-", "starts_on": date(2026, 3, 1), "ends_on": date(2026, 4, 1),
                     "expected_participants": 10, "contact_name": "Anna", "requested_amount": 100, "own_amount": 0,
                     "volunteer_amount": 10, "status": "submitted", "status_changed_at": now, "source": "public",
                     "submitted_at": now, "version": 1} for i in (1, 2, 3)]
            conn.execute(t["grant_application"].insert(), apps)
            conn.execute(t["grant_member"].insert(), [{"id": 1, "application_id": 1, "position": 0, "name": "Anna",
                                                       "adult": True, "contact": True}])
        flask_migrate.upgrade()
        rows = db.session.execute(select(GrantApplication.id, GrantApplication.reference_code)
                                  .order_by(GrantApplication.id)).all()
        assert [r[0] for r in rows] == [1, 2, 3]
        assert all(re.fullmatch(f"[{CODE_ALPHABET}]{{4}}", r[1]) for r in rows), rows
        assert db.session.scalar(sa.text("SELECT count(*) FROM grant_member")) == 1  # children kept
        assert db.session.get(GrantApplication, 1).reference == f"MG/2026/0001-{rows[0][1]}"
        db.session.remove()
        db.engine.dispose()
