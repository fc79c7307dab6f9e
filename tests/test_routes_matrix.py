"""Every route, tried by every role and with ids outside the user's scope.

The table below must name every rule in `app.url_map`: a new route without a row fails
`test_every_route_is_in_the_matrix`, so nobody adds a page without deciding who may see it.
"""
import pytest

ROLES = ["anon", "animator@wilda", "coordinator@wilda", "reviewer@regranting", "city", "admin"]
SIGNED_IN = 200
LOGIN = 302  # redirect to /login

# rule -> {role: expected GET status}; ids in the rule are filled by ID_RESOLVERS ("own" scope).
GET_MATRIX = {
    "/login": {"anon": 200, "*": 302},
    "/": {"anon": LOGIN, "*": 200},
    "/healthz": {"*": 200},
    "/account/password": {"anon": LOGIN, "*": 200},
    "/admin/users": {"anon": LOGIN, "coordinator@wilda": 200, "admin": 200, "*": 403},
    "/admin/users/new": {"anon": LOGIN, "coordinator@wilda": 200, "admin": 200, "*": 403},
    "/admin/users/<int:user_id>": {"anon": LOGIN, "coordinator@wilda": 200, "admin": 200, "*": 403},
    "/admin/centres": {"anon": LOGIN, "admin": 200, "*": 403},
    "/admin/centres/new": {"anon": LOGIN, "admin": 200, "*": 403},
    "/admin/centres/<int:centre_id>": {"anon": LOGIN, "admin": 200, "*": 403},
    "/admin/audit": {"anon": LOGIN, "admin": 200, "coordinator@wilda": 200, "*": 403},
    "/admin/audit/export.<fmt>": {"anon": LOGIN, "admin": 200, "coordinator@wilda": 200, "*": 403},
    "/static/<path:filename>": {"*": 200},
    # residents and contacts: animators and coordinators only
    "/residents": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/new": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/duplicates": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/search": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/<int:resident_id>": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/<int:resident_id>/edit": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/<int:resident_id>/merge": {"anon": LOGIN, "coordinator@wilda": 200, "*": 403},
    "/interactions/new": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/followups": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/followups/export.<fmt>": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    # RODO
    "/residents/<int:resident_id>/data": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/residents/<int:resident_id>/data.json": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200,
                                               "*": 403},
    "/residents/<int:resident_id>/erase": {"anon": LOGIN, "coordinator@wilda": 200, "*": 403},
    "/residents/export.<fmt>": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/privacy/retention": {"anon": LOGIN, "coordinator@wilda": 200, "*": 403},
    "/privacy/clause": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "admin": 200, "*": 403},
    "/residents/import": {"anon": LOGIN, "animator@wilda": 200, "coordinator@wilda": 200, "*": 403},
    "/privacy/register": {"anon": LOGIN, "city": 403, "*": 200},
    "/privacy/register/new": {"anon": LOGIN, "admin": 200, "*": 403},
    # the register is reference data kept between tests: the matrix only opens a missing entry
    "/privacy/register/<int:activity_id>": {"anon": LOGIN, "admin": 404, "*": 403},
    # an upload belongs to the user who sent it; the matrix's token is nobody's
    "/residents/import/<token>": {"anon": LOGIN, "animator@wilda": 404, "coordinator@wilda": 404, "*": 403},
}
# Write-only rules: POST with no body. Anonymous users are sent to /login (or get a 4xx),
# unauthorised roles 403, authorised ones a validation answer (422) or a redirect (303).
POST_MATRIX = {
    "/login": {"*": 422},
    "/logout": {"*": 303},
    "/language": {"*": 303},
    "/account/password": {"anon": LOGIN, "*": 422},
    "/admin/users/new": {"anon": LOGIN, "coordinator@wilda": 422, "admin": 422, "*": 403},
    "/admin/users/<int:user_id>": {"anon": LOGIN, "coordinator@wilda": 422, "admin": 422, "*": 403},
    "/admin/users/<int:user_id>/password": {"anon": LOGIN, "coordinator@wilda": 422, "admin": 422, "*": 403},
    "/admin/centres/new": {"anon": LOGIN, "admin": 422, "*": 403},
    "/admin/centres/<int:centre_id>": {"anon": LOGIN, "admin": 422, "*": 403},
    "/residents/new": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    "/residents/<int:resident_id>": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    "/residents/<int:resident_id>/consents": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422,
                                              "*": 403},
    "/residents/<int:resident_id>/consents/<int:consent_id>/withdraw": {
        "anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 303, "*": 403},
    "/residents/<int:resident_id>/merge": {"anon": LOGIN, "coordinator@wilda": 422, "*": 403},
    "/interactions/new": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    "/interactions/new/person": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    # a follow-up belongs to the animator who logged it
    "/followups/<int:interaction_id>/done": {"anon": LOGIN, "animator@wilda": 303, "coordinator@wilda": 404,
                                             "*": 403},
    "/residents/<int:resident_id>/erase": {"anon": LOGIN, "coordinator@wilda": 422, "*": 403},
    "/residents/import": {"anon": LOGIN, "animator@wilda": 422, "coordinator@wilda": 422, "*": 403},
    "/privacy/register/new": {"anon": LOGIN, "admin": 422, "*": 403},
    "/privacy/register/<int:activity_id>": {"anon": LOGIN, "admin": 404, "*": 403},
    "/privacy/register/<int:activity_id>/delete": {"anon": LOGIN, "admin": 404, "*": 403},
    "/residents/import/<token>": {"anon": LOGIN, "animator@wilda": 404, "coordinator@wilda": 404, "*": 403},
    # one-step anonymisation only for someone inactive for 24 months: the demo has nobody that old
    "/privacy/retention/<int:resident_id>/erase": {"anon": LOGIN, "coordinator@wilda": 422, "*": 403},
}
# For the roles that may open a record: an id outside their scope must be a 404.
OUT_OF_SCOPE = {
    "/admin/users/<int:user_id>": {"coordinator@wilda": 404},
    "/admin/users/<int:user_id>/password": {"coordinator@wilda": 404},
    "/residents/<int:resident_id>": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/edit": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/merge": {"coordinator@wilda": 404},
    "/residents/<int:resident_id>/consents": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/consents/<int:consent_id>/withdraw": {"animator@wilda": 404,
                                                                        "coordinator@wilda": 404},
    "/followups/<int:interaction_id>/done": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/data": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/data.json": {"animator@wilda": 404, "coordinator@wilda": 404},
    "/residents/<int:resident_id>/erase": {"coordinator@wilda": 404},
    "/privacy/retention/<int:resident_id>/erase": {"coordinator@wilda": 404},
}


def _records_of(world, centre: str, animator: str) -> dict:
    """Ids of records in one centre, for filling rules (runs inside an app context)."""
    from sqlalchemy import select

    from models import Consent, Interaction, Resident, db

    centre_id = world.centres[centre]
    consent = db.session.execute(
        select(Consent.id, Consent.resident_id).join(Resident, Resident.id == Consent.resident_id)
        .where(Resident.centre_id == centre_id).order_by(Consent.id).limit(1)).one()
    interaction_id = db.session.scalar(
        select(Interaction.id).where(Interaction.user_id == world.users[animator],
                                     Interaction.follow_up_on.is_not(None)).order_by(Interaction.id).limit(1))
    return {"resident_id": consent.resident_id, "consent_id": consent.id, "interaction_id": interaction_id}


def own_ids(world):
    return {"user_id": world.users["animator@wilda"], "centre_id": world.centres["wilda"],
            "filename": "css/animo.css", "fmt": "csv", "token": "nieistniejacy-token-0123456789", "activity_id": 999999, **_records_of(world, "wilda", "animator@wilda")}


def foreign_ids(world):
    return {"user_id": world.users["animator@rataje"], "centre_id": world.centres["rataje"],
            "filename": "css/animo.css", "fmt": "csv", "token": "nieistniejacy-token-0123456789", "activity_id": 999999, **_records_of(world, "rataje", "animator@rataje")}


def ids_for(app, which) -> dict:
    with app.app_context():
        return which(app.world)


def build(rule: str, ids: dict) -> str:
    import re

    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule)


def expected(table: dict, role: str):
    return table.get(role, table.get("*"))


def test_every_route_is_in_the_matrix(app):
    missing = []
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if "GET" in methods and rule.rule not in GET_MATRIX:
            missing.append(f"GET {rule.rule}")
        for m in methods - {"GET"}:
            if rule.rule not in POST_MATRIX:
                missing.append(f"{m} {rule.rule}")
    assert not missing, f"routes missing from the role matrix: {missing}"


def _client_for(app, role):
    from tests.conftest import PASSWORD
    from models import User, db

    client = app.test_client()
    if role != "anon":
        with app.app_context():
            email = db.session.get(User, app.world.users[role]).email
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 303
    return client


@pytest.mark.parametrize("role", ROLES)
def test_get_matrix(app, role):
    client = _client_for(app, role)
    ids = ids_for(app, own_ids)
    failures = []
    for rule, table in GET_MATRIX.items():
        path = build(rule, ids)
        status = client.get(path).status_code
        if status != expected(table, role):
            failures.append(f"GET {path}: {status}, expected {expected(table, role)}")
    assert not failures, failures


@pytest.mark.parametrize("role", ROLES)
def test_post_matrix(app, role):
    ids = ids_for(app, own_ids)
    failures = []
    for rule, table in POST_MATRIX.items():
        client = _client_for(app, role)  # fresh: /logout would end the session
        path = build(rule, ids)
        status = client.post(path, data={}).status_code
        if status != expected(table, role):
            failures.append(f"POST {path}: {status}, expected {expected(table, role)}")
    assert not failures, failures


@pytest.mark.parametrize("rule", sorted(OUT_OF_SCOPE))
def test_out_of_scope_ids_are_not_found(app, rule):
    ids = ids_for(app, foreign_ids)
    for role, status in OUT_OF_SCOPE[rule].items():
        client = _client_for(app, role)
        path = build(rule, ids)
        statuses = {client.get(path).status_code, client.post(path, data={}).status_code}
        # each rule answers at least one of GET and POST; neither may reveal the record
        assert statuses - {405} == {status}, (role, path, statuses)


def test_nonexistent_ids_are_not_found(app):
    client = _client_for(app, "admin")
    assert client.get("/admin/users/999999").status_code == 404
    assert client.get("/admin/centres/999999").status_code == 404
