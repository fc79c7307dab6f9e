"""Administration: accounts and centres; coordinators manage only their own team."""
import re

from sqlalchemy import select

from models import AuditEvent, Centre, User, db


def _version(html: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)


def _user_data(app, key, **changes):
    with app.app_context():
        u = db.session.get(User, app.world.users[key])
        data = {"email": u.email, "name": u.name, "role": u.role, "centre_id": str(u.centre_id or 0),
                "neighbourhood_ids": [str(i) for i in u.neighbourhood_ids], "active": "y",
                "version": str(u.version)}
    data.update(changes)
    return data


def test_admin_creates_an_animator_with_osiedla(app, client, auth):
    auth.login("admin")
    with app.app_context():
        from models import Neighbourhood
        wilda = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == "wilda"))
    r = client.post("/admin/users/new", data={
        "email": "Nowa.Animatorka@Example.org", "name": "Nowa Animatorka", "role": "animator",
        "centre_id": str(app.world.centres["wilda"]), "neighbourhood_ids": [str(wilda.id)],
        "password": "bardzo-dlugie-haslo", "active": "y"})
    assert r.status_code == 303
    with app.app_context():
        u = User.by_email("nowa.animatorka@example.org")
        assert u.role == "animator" and [n.slug for n in u.neighbourhoods] == ["wilda"]
        assert u.check_password("bardzo-dlugie-haslo")
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_created")).object_id == u.id


def test_user_form_errors_are_polish(client, auth):
    auth.login("admin")
    r = client.post("/admin/users/new", data={"email": "zly-adres", "name": "", "role": "animator",
                                               "centre_id": "0", "password": "krotkie"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    for text in ("To nie jest poprawny adres e-mail", "Podaj imię i nazwisko",
                 "Animator i koordynator muszą należeć do centrum", "co najmniej 12 znaków"):
        assert text in body


def test_duplicate_email_is_refused(client, auth):
    auth.login("admin")
    r = client.post("/admin/users/new", data={"email": auth.email("animator@wilda"), "name": "X", "role": "city",
                                               "centre_id": "0", "password": "bardzo-dlugie-haslo"})
    assert r.status_code == 422
    assert "już istnieje" in r.get_data(as_text=True)


def test_coordinator_sees_only_own_team(app, client, auth):
    auth.login("coordinator@wilda")
    body = client.get("/admin/users").get_data(as_text=True)
    with app.app_context():
        wilda = db.session.scalars(select(User).where(User.centre_id == app.world.centres["wilda"])).all()
        others = db.session.scalars(select(User).where(User.centre_id != app.world.centres["wilda"])).all()
        assert all(u.email in body for u in wilda)
        assert not any(u.email in body for u in others)


def test_coordinator_cannot_place_anyone_in_another_centre(app, client, auth):
    """Mass assignment: a posted centre_id or role the form does not offer changes nothing."""
    auth.login("coordinator@wilda")
    r = client.post("/admin/users/new", data={
        "email": "wtyczka@example.org", "name": "Wtyczka", "role": "admin",
        "centre_id": str(app.world.centres["rataje"]), "password": "bardzo-dlugie-haslo"})
    assert r.status_code == 422
    with app.app_context():
        assert User.by_email("wtyczka@example.org") is None
    r = client.post("/admin/users/new", data={
        "email": "wtyczka@example.org", "name": "Wtyczka", "role": "animator",
        "centre_id": str(app.world.centres["wilda"]), "password": "bardzo-dlugie-haslo", "active": "y"})
    assert r.status_code == 303
    with app.app_context():
        assert User.by_email("wtyczka@example.org").centre_id == app.world.centres["wilda"]


def test_coordinator_cannot_assign_an_osiedle_outside_the_centre(app, client, auth):
    auth.login("coordinator@wilda")
    with app.app_context():
        from models import Neighbourhood
        rataje = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == "rataje"))
    data = _user_data(app, "animator@wilda", neighbourhood_ids=[str(rataje.id)])
    r = client.post(f"/admin/users/{app.world.users['animator@wilda']}", data=data)
    assert r.status_code == 422


def test_stale_save_answers_409_and_keeps_input(app, client, auth):
    auth.login("admin")
    uid = app.world.users["animator@wilda"]
    stale = _user_data(app, "animator@wilda", name="Moja wersja")
    first = _user_data(app, "animator@wilda", name="Pierwsza wersja")
    assert client.post(f"/admin/users/{uid}", data=first).status_code == 303
    r = client.post(f"/admin/users/{uid}", data=stale)
    body = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Moja wersja" in body and "Pierwsza wersja" in body
    with app.app_context():
        assert db.session.get(User, uid).name == "Pierwsza wersja"


def test_nobody_locks_themselves_out(app, client, auth):
    auth.login("admin")
    data = _user_data(app, "admin")
    del data["active"]
    r = client.post(f"/admin/users/{app.world.users['admin']}", data=data)
    assert r.status_code == 422


def test_password_reset_ends_sessions(app, client, auth):
    victim = app.test_client()
    from tests.conftest import PASSWORD
    victim.post("/login", data={"email": auth.email("animator@wilda"), "password": PASSWORD})
    auth.login("coordinator@wilda")
    uid = app.world.users["animator@wilda"]
    r = client.post(f"/admin/users/{uid}/password", data={"password": "nowe-haslo-dla-ciebie"})
    assert r.status_code == 303
    assert victim.get("/").status_code == 302
    assert victim.post("/login", data={"email": auth.email("animator@wilda"),
                                       "password": "nowe-haslo-dla-ciebie"}).status_code == 303


def test_admin_manages_centres(app, client, auth):
    auth.login("admin")
    with app.app_context():
        from models import Neighbourhood
        jezyce = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == "jezyce"))
    r = client.post("/admin/centres/new", data={"name": "CIL Jeżyce", "slug": "cil-jezyce", "kind": "neighbourhood",
                                                 "operator": "Fundacja Jeżycka", "neighbourhood_id": str(jezyce.id),
                                                 "active": "y"})
    assert r.status_code == 303
    r = client.post("/admin/centres/new", data={"name": "Zły", "slug": "Zły Skrót", "kind": "regranting",
                                                 "operator": "X", "neighbourhood_id": str(jezyce.id)})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Tylko małe litery" in body and "nie wybieraj osiedla" in body
    with app.app_context():
        c = db.session.scalar(select(Centre).where(Centre.slug == "cil-jezyce"))
        assert c.neighbourhood.slug == "jezyce"
    page = client.get(f"/admin/centres/{c.id}").get_data(as_text=True)
    r = client.post(f"/admin/centres/{c.id}", data={"name": "CIL Jeżyce Nowe", "slug": "cil-jezyce",
                                                     "kind": "neighbourhood", "operator": "Fundacja Jeżycka",
                                                     "neighbourhood_id": str(jezyce.id), "active": "y",
                                                     "version": _version(page)})
    assert r.status_code == 303
    assert "CIL Jeżyce Nowe" in client.get("/admin/centres").get_data(as_text=True)


def test_audit_page_lists_events_without_passwords(client, auth):
    auth.login("admin")
    body = client.get("/admin/audit").get_data(as_text=True)
    assert "logowanie" in body
    assert "animo-demo" not in body


def test_audit_viewer_filters_and_coordinator_scope(app, client, auth):
    from tests.conftest import PASSWORD

    rataje = app.test_client()
    rataje.post("/login", data={"email": auth.email("animator@rataje"), "password": PASSWORD})
    auth.login("coordinator@wilda")
    body = client.get("/admin/audit").get_data(as_text=True)
    assert "logowanie" in body
    with app.app_context():
        rataje_name = db.session.get(User, app.world.users["animator@rataje"]).name
        wilda_id = app.world.users["coordinator@wilda"]
    assert rataje_name not in body  # another centre's staff is not in a coordinator's trail
    r = client.get(f"/admin/audit?user={wilda_id}&action=login&from=2020-01-01&to=2099-12-31")
    assert r.status_code == 200 and "logowanie" in r.get_data(as_text=True)
    assert client.get("/admin/audit?from=31.12.2026").status_code == 400


def test_audit_export_is_itself_audited(app, client, auth):
    import csv
    import io

    auth.login("admin")
    r = client.get("/admin/audit/export.csv?action=login")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "kiedy" and all(row[2] == "login" for row in rows[1:]) and len(rows) > 1
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
        assert event.object_type == "audit_event"


def test_every_audit_action_has_a_polish_label(app):
    """The audit viewer shows words, not codes: every action the code records has a label."""
    import re
    from pathlib import Path

    from app.templating import audit_label

    root = Path(__file__).resolve().parent.parent
    pattern = re.compile(r'(?:record_audit|_audit)\(\s*"([a-z_]+)"')
    codes = set()
    for folder in ("app", "views", "models"):
        for path in (root / folder).rglob("*.py"):
            codes.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert len(codes) > 50
    with app.test_request_context():
        unlabelled = sorted(code for code in codes if audit_label(code) == code)
    assert unlabelled == []
