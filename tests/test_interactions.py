"""Logging a contact in three steps, and the follow-ups it creates."""
from datetime import date, timedelta

from sqlalchemy import select

from models import Interaction, Resident, db
from tests.test_residents import add_person, hood_id


def test_log_contact_for_a_known_person(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Bożena", last_name="Kontaktowa")
    picker = client.get("/interactions/new", query_string={"q": "bozena"}, headers={"HX-Request": "true"})
    body = picker.get_data(as_text=True)
    assert "<html" not in body and f"/interactions/new?resident={rid}" in body
    step2 = client.get(f"/interactions/new?resident={rid}").get_data(as_text=True)
    assert "Bożena Kontaktowa" in step2 and "rozmowa 1:1" in step2
    follow = (date.today() + timedelta(days=3)).isoformat()
    r = client.post(f"/interactions/new?resident={rid}", data={
        "resident_id": rid, "channel": "door_to_door", "concerns": "Ławki na podwórku",
        "note": "Chętna do pomocy", "next_step": "Zaprosić na spotkanie", "follow_up_on": follow})
    assert r.status_code == 303 and r.headers["Location"].startswith(f"/residents/{rid}")
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "Ławki na podwórku" in page and "od drzwi do drzwi" in page and "pierwszy kontakt" in page
    with app.app_context():
        i = db.session.scalar(select(Interaction).where(Interaction.resident_id == rid))
        assert i.user_id == app.world.users["animator@wilda"] and i.follow_up_on.isoformat() == follow
        assert db.session.get(Resident, rid).last_contact_at is not None


def test_new_person_from_the_contact_form(app, client, auth):
    auth.login("animator@wilda")
    r = client.post("/interactions/new/person", data={"new-description": "Pan z psem, blok 7",
                                                      "new-neighbourhood_id": hood_id(app, "wilda")})
    assert r.status_code == 303 and "/interactions/new?resident=" in r.headers["Location"]
    r = client.post("/interactions/new/person", data={"new-neighbourhood_id": hood_id(app, "wilda")})
    assert r.status_code == 422 and "Podaj imię, nazwisko albo opis osoby" in r.get_data(as_text=True)


def test_contact_validation_in_polish(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Walenty")
    r = client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "fax",
                                                                "follow_up_on": "2026-13-45"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Wybierz jedną z możliwości z listy." in body
    r = client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "phone",
                                                                "follow_up_on": "2026-12-01"})
    assert r.status_code == 422 and "Podaj następny krok" in r.get_data(as_text=True)
    r = client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "phone",
                                                                "note": "PESEL: 440514 01359"})
    assert r.status_code == 422 and "PESEL" in r.get_data(as_text=True)
    r = client.post("/interactions/new", data={"channel": "phone"})
    assert r.status_code == 422 and "Wybierz osobę" in r.get_data(as_text=True)


def test_followups_due_and_overdue_ticked_in_place(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Feliks")
    overdue = (date.today() - timedelta(days=2)).isoformat()
    client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "phone",
                                                            "next_step": "Oddzwonić do Feliksa", "follow_up_on": overdue})
    page = client.get("/followups").get_data(as_text=True)
    assert "Oddzwonić do Feliksa" in page and "zaległe od" in page
    with app.app_context():
        iid = db.session.scalar(select(Interaction.id).where(Interaction.resident_id == rid))
    r = client.post(f"/followups/{iid}/done", headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and "zrobione" in body and "hx-swap-oob" in body
    assert client.post(f"/followups/{iid}/done").status_code == 303  # a second tap changes nothing
    assert "Oddzwonić do Feliksa" not in client.get("/followups").get_data(as_text=True)


def test_followups_are_personal_and_scoped(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Prywatny")
    client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "phone",
                                                            "next_step": "Tylko moje", "follow_up_on": date.today().isoformat()})
    with app.app_context():
        iid = db.session.scalar(select(Interaction.id).where(Interaction.resident_id == rid))
    other = app.test_client()
    from tests.conftest import PASSWORD
    other.post("/login", data={"email": auth.email("animator@rataje"), "password": PASSWORD})
    assert "Tylko moje" not in other.get("/followups").get_data(as_text=True)
    assert other.post(f"/followups/{iid}/done").status_code == 404


def test_followups_export(app, client, auth):
    import csv
    import io

    from openpyxl import load_workbook

    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Eksport")
    client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "phone",
                                                            "next_step": "=Zadzwonić", "follow_up_on": date.today().isoformat()})
    body = client.get("/followups/export.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "termin" and any(r[1] == "'=Zadzwonić" and r[2] == "Eksport" for r in rows[1:])
    wb = load_workbook(io.BytesIO(client.get("/followups/export.xlsx").data), read_only=True)
    assert list(wb.active.iter_rows(values_only=True))[0][0] == "termin"
    assert client.get("/followups/export.pdf").status_code == 404
