"""RODO: access bundle, erasure leaving no trace, exports escaped and scoped, retention review."""
import csv
import io
import json
import re
import sqlite3

from openpyxl import load_workbook
from sqlalchemy import func, select, text

from models import AuditEvent, Commitment, Consent, Interaction, Resident, db
from tests.conftest import TEST_DB
from tests.test_residents import add_person


def _person_with_history(app, client):
    rid = add_person(client, app, first_name="Wisława", last_name="Zapominalska", phone="604555666",
                     email="wislawa@example.org", consent_phone="y")
    client.post(f"/interactions/new?resident={rid}", data={
        "resident_id": rid, "channel": "one_to_one", "concerns": "Chce ogródek społeczny",
        "note": "Rozmowa z Wisławą przy trzepaku", "next_step": "Zadzwonić do Wisławy", "follow_up_on": "2026-12-01"})
    return rid


def test_access_page_and_json_bundle(app, client, auth):
    auth.login("coordinator@wilda")
    rid = _person_with_history(app, client)
    page = client.get(f"/residents/{rid}/data").get_data(as_text=True)
    assert "Zapominalska" in page and "Rozmowa z Wisławą przy trzepaku" in page and "resident_viewed" not in page
    r = client.get(f"/residents/{rid}/data.json")
    assert r.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(r.get_data(as_text=True))
    assert data["person"]["last_name"] == "Zapominalska" and data["person"]["phone"] == "+48604555666"
    assert data["consents"][0]["purpose"] == "phone"
    assert data["contacts"][0]["note"] == "Rozmowa z Wisławą przy trzepaku"
    assert {"resident_created", "resident_data_access"} <= {e["action"] for e in data["record_history"]}
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == rid)))
        assert {"resident_data_access", "resident_data_export"} <= actions


def test_erasure_leaves_no_trace_and_keeps_the_counts(app, client, auth, tmp_path):
    auth.login("coordinator@wilda")
    rid = _person_with_history(app, client)
    with app.app_context():
        before = {t: db.session.scalar(select(func.count()).select_from(t))
                  for t in (Resident, Interaction, Commitment)}
    assert client.post(f"/residents/{rid}/erase", data={"reason": "request"}).status_code == 422  # no confirmation
    r = client.post(f"/residents/{rid}/erase", data={"reason": "request", "confirm": "yes"})
    assert r.status_code == 303
    with app.app_context():
        after = {t: db.session.scalar(select(func.count()).select_from(t)) for t in (Resident, Interaction, Commitment)}
        assert after == before
        r = db.session.get(Resident, rid)
        assert r.anonymised_at and r.first_name is None and r.phone is None and r.search_text == ""
        assert db.session.scalar(select(func.count()).select_from(Consent).where(Consent.resident_id == rid)) == 0
        i = db.session.scalar(select(Interaction).where(Interaction.resident_id == rid))
        assert i.note is None and i.concerns is None
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "resident_erased"))
        assert event.object_id == rid and "Zapominalska" not in (event.detail or "")
        # Nothing in any table still says who it was.
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()):
                assert "Zapominalsk" not in repr(tuple(row)) and "604555666" not in repr(tuple(row)), table.name
        url = db.engine.url
    assert f"/residents/{rid}\"" not in client.get("/residents?q=zapominal").get_data(as_text=True)
    if TEST_DB == "sqlite":
        with sqlite3.connect(url.database) as conn:
            assert conn.execute("SELECT count(*) FROM resident_fts WHERE resident_fts MATCH 'zapominalska'").fetchone()[0] == 0
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = open(url.database, "rb").read()
        for needle in ("Zapominalska", "zapominalska", "604555666", "wislawa@example", "trzepaku"):
            assert needle.encode() not in raw, needle


def test_erasure_is_for_coordinators_in_scope(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Nieusuwalna")
    assert client.post(f"/residents/{rid}/erase", data={"reason": "request", "confirm": "yes"}).status_code == 403
    other = app.test_client()
    from tests.conftest import PASSWORD
    other.post("/login", data={"email": auth.email("coordinator@rataje"), "password": PASSWORD})
    assert other.post(f"/residents/{rid}/erase", data={"reason": "request", "confirm": "yes"}).status_code == 404
    assert other.get(f"/residents/{rid}/data.json").status_code == 404


def test_export_csv_and_xlsx_escaped_scoped_and_audited(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="=HYPERLINK(\"http://zly.example\")", last_name="+Formuła",
                     description="@SUMA(A1)")
    r = client.get("/residents/export.csv?q=formula")
    body = r.get_data(as_text=True)
    assert r.mimetype == "text/csv" and body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["id", "imię", "nazwisko"]
    mine = [row for row in rows[1:] if row[0] == str(rid)]
    assert mine and mine[0][1].startswith("'=") and mine[0][2].startswith("'+") and mine[0][3].startswith("'@")
    r = client.get("/residents/export.xlsx")
    wb = load_workbook(io.BytesIO(r.data), read_only=True)
    values = list(wb.active.iter_rows(values_only=True))
    with app.app_context():
        wilda_ids = set(db.session.scalars(select(Resident.id).where(Resident.centre_id == app.world.centres["wilda"])))
    exported = {int(v[0]) for v in values[1:]}
    assert exported and exported <= wilda_ids  # nothing from another centre
    # XLSX: text in string cells, exactly as typed (no apostrophe, that is for CSV), never a formula
    wb = load_workbook(io.BytesIO(r.data))
    assert all(c.data_type != "f" for row in wb.active.iter_rows() for c in row)
    mine = [row for row in wb.active.iter_rows(values_only=True) if row[0] == rid]
    assert mine and mine[0][1] == "=HYPERLINK(\"http://zly.example\")" and mine[0][2] == "+Formuła"
    with app.app_context():
        exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
        assert [e.detail_dict["format"] for e in exports] == ["csv", "xlsx"]


def test_export_hides_contact_data_after_consent_withdrawal(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Ukryta", phone="605111222", consent_phone="y")
    with app.app_context():
        cid = db.session.scalar(select(Consent.id).where(Consent.resident_id == rid))
    client.post(f"/residents/{rid}/consents/{cid}/withdraw")
    body = client.get("/residents/export.csv?q=ukryta").get_data(as_text=True)
    assert "605111222" not in body


def test_retention_review_and_one_step_erasure(app, client, auth):
    auth.login("coordinator@wilda")
    page = client.get("/privacy/retention?months=6").get_data(as_text=True)
    ids = [int(x) for x in re.findall(r'id="retention-(\d+)"', page)]
    assert ids
    with app.app_context():
        active = db.session.scalar(select(Resident.id).where(Resident.centre_id == app.world.centres["wilda"],
                                                             Resident.id.not_in(ids)))
    r = client.post(f"/privacy/retention/{active}/erase?months=6")
    assert r.status_code == 422 and "dane nie zostały usunięte" in r.get_data(as_text=True)
    r = client.post(f"/privacy/retention/{ids[0]}/erase?months=6", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "Dane usunięte" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Resident, ids[0]).anonymised_at is not None
    assert client.get("/privacy/retention?months=0").status_code == 400


def test_information_clause_names_the_operator(client, auth):
    auth.login("animator@wilda")
    body = client.get("/privacy/clause").get_data(as_text=True)
    assert "Stowarzyszenie Sąsiedzka Wilda" in body and "Prezesa Urzędu Ochrony Danych Osobowych" in body


def test_processing_register_read_by_staff_kept_by_admin(app, client, auth):
    from models import ProcessingActivity

    auth.login("animator@wilda")
    body = client.get("/privacy/register").get_data(as_text=True)
    assert "Organizowanie społeczności lokalnej" in body and "Edytuj" not in body
    assert client.get("/privacy/register/new").status_code == 403
    client.post("/logout")
    auth.login("admin")
    data = {"name": "Newsletter osiedlowy", "purpose": "Informowanie o wydarzeniach", "legal_basis": "zgoda",
            "data_subjects": "subskrybenci", "data_categories": "e-mail", "recipients": "brak",
            "retention": "do wycofania zgody", "security": "jak wyżej", "position": "9"}
    r = client.post("/privacy/register/new", data={**data, "name": ""})
    assert r.status_code == 422 and "To pole jest wymagane" in r.get_data(as_text=True)
    assert client.post("/privacy/register/new", data=data).status_code == 303
    with app.app_context():
        activity = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.name == "Newsletter osiedlowy"))
        aid, version = activity.id, activity.version
    r = client.post(f"/privacy/register/{aid}", data={**data, "retention": "12 miesięcy", "version": version})
    assert r.status_code == 303
    r = client.post(f"/privacy/register/{aid}", data={**data, "retention": "stara wersja", "version": version})
    assert r.status_code == 409
    assert "12 miesięcy" in client.get("/privacy/register").get_data(as_text=True)
    assert client.post(f"/privacy/register/{aid}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(ProcessingActivity, aid) is None
