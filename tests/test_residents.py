"""Residents: list and search, quick add and duplicates, the page, inline editing, consents, merge, privacy."""
import re

from sqlalchemy import func, select

from models import AuditEvent, Consent, Interaction, Neighbourhood, Resident, User, db
from tests.conftest import PASSWORD


def hood_id(app, slug):
    with app.app_context():
        return db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == slug))


def add_person(client, app, slug="wilda", **fields):
    data = {"neighbourhood_id": str(hood_id(app, slug)), **fields}
    r = client.post("/residents/new", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)
    return int(r.headers["Location"].rsplit("/", 1)[1])


def test_quick_add_needs_only_a_name_or_description(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, description="Pani Basia, klatka 3")
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "Pani Basia, klatka 3" in page
    assert "Znany/a" in page and "dodany/a do notatnika" in page


def test_quick_add_validates_in_polish(app, client, auth):
    auth.login("animator@wilda")
    r = client.post("/residents/new", data={"neighbourhood_id": str(hood_id(app, "wilda")), "phone": "123",
                                             "email": "nie-email", "consent_email": "y"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Podaj imię, nazwisko albo opis osoby" in body
    assert "To nie jest poprawny numer telefonu" in body
    assert "To nie jest poprawny adres e-mail" in body


def test_animator_cannot_add_in_another_osiedle(app, client, auth):
    auth.login("animator@wilda")
    r = client.post("/residents/new", data={"neighbourhood_id": str(hood_id(app, "rataje")), "first_name": "X"})
    assert r.status_code == 422


def test_phone_is_stored_normalised_and_consents_recorded(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Łucja", last_name="Żółkiewska", phone="601 234 567",
                     consent_phone="y", consent_image="y", consent_method="written")
    with app.app_context():
        r = db.session.get(Resident, rid)
        assert r.phone == "+48601234567"
        consents = db.session.scalars(select(Consent).where(Consent.resident_id == rid)).all()
        assert sorted(c.purpose for c in consents) == ["image", "phone"]
        assert all(c.method == "written" and c.recorded_by_id == app.world.users["animator@wilda"] for c in consents)


def test_search_is_diacritic_insensitive_and_prefix_aware(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Łukasz", last_name="Kowalski")
    for q in ("lukasz kow", "Łukasz", "kowal luk", "LUKASZ"):
        body = client.get("/residents", query_string={"q": q}).get_data(as_text=True)
        assert f"/residents/{rid}\"" in body, q
    body = client.get("/residents", query_string={"q": "lukasz nowak"}).get_data(as_text=True)
    assert f"/residents/{rid}\"" not in body


def test_search_by_phone_email_street_and_tag(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Teodor", phone="+48 601 999 888", email="teo@example.org")
    version = re.search(r'name="version" type="hidden" value="(\d+)"',
                        client.get(f"/residents/{rid}/edit").get_data(as_text=True)).group(1)
    client.post(f"/residents/{rid}", data={"first_name": "Teodor", "neighbourhood_id": hood_id(app, "wilda"),
                                           "phone": "601999888", "email": "teo@example.org",
                                           "street": "Różana", "interests": "stolarka, ogród", "version": version})
    for q in ("601999", "601 999 888", "teo@example", "rozana", "stolark"):
        assert f"/residents/{rid}\"" in client.get("/residents", query_string={"q": q}).get_data(as_text=True), q
    assert f"/residents/{rid}\"" in client.get("/residents", query_string={"tag": "ogród"}).get_data(as_text=True)


def test_list_is_a_fragment_for_htmx_and_a_page_otherwise(client, auth):
    auth.login("animator@wilda")
    full = client.get("/residents?q=a")
    frag = client.get("/residents?q=a", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    body = frag.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="results">')
    assert "HX-Request" in frag.headers["Vary"]
    boosted = client.get("/residents?q=a", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_filters_and_bad_parameters(client, auth):
    auth.login("coordinator@wilda")
    assert client.get("/residents?rung=active&no_contact=30&page=2").status_code == 200
    r = client.get("/residents?no_contact=abc")
    assert r.status_code == 400 and "„no_contact”" in r.get_data(as_text=True)
    assert client.get("/residents?page=0").status_code == 400


def test_no_contact_filter(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Ksawery", last_name="Zapomniany")
    body = client.get("/residents", query_string={"q": "ksawery", "no_contact": 30}).get_data(as_text=True)
    assert f"/residents/{rid}\"" in body
    client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "street"})
    body = client.get("/residents", query_string={"q": "ksawery", "no_contact": 30}).get_data(as_text=True)
    assert f"/residents/{rid}\"" not in body


def test_scoping_animator_sees_only_own_osiedla(app, client, auth):
    with app.app_context():
        rataje_id = db.session.scalar(select(Resident.id).where(Resident.centre_id == app.world.centres["rataje"]))
        rataje = db.session.get(Resident, rataje_id)
        name = rataje.last_name or rataje.description
    auth.login("animator@wilda")
    assert client.get(f"/residents/{rataje_id}").status_code == 404
    assert client.get(f"/residents/{rataje_id}/edit").status_code == 404
    assert client.post(f"/residents/{rataje_id}", data={"first_name": "X"}).status_code == 404
    assert client.get(f"/interactions/new?resident={rataje_id}").status_code == 404
    assert f"/residents/{rataje_id}\"" not in client.get("/residents", query_string={"q": name}).get_data(as_text=True)
    assert f"resident={rataje_id}\"" not in client.get("/residents/search", query_string={"q": name}).get_data(as_text=True)
    dup = client.get("/residents/duplicates", query_string={"last_name": rataje.last_name or "", "first_name": rataje.first_name or ""})
    assert f"/residents/{rataje_id}\"" not in dup.get_data(as_text=True)


def test_regranting_animator_sees_only_assigned_osiedla(app, client, auth):
    with app.app_context():
        animator = db.session.get(User, app.world.users["animator@regranting"])
        mine = set(animator.neighbourhood_ids)
        ids = db.session.scalars(select(Resident.id).where(Resident.centre_id == app.world.centres["regranting"])).all()
    auth.login("animator@regranting")
    body = client.get("/residents").get_data(as_text=True)
    shown = {int(x) for x in re.findall(r'href="/residents/(\d+)"', body)}
    with app.app_context():
        hoods = set(db.session.scalars(select(Resident.neighbourhood_id).where(Resident.id.in_(shown))))
    assert shown and hoods <= mine


def test_opening_a_resident_is_audited_without_personal_data(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Zenobia", last_name="Audytowa", phone="601234567")
    client.get(f"/residents/{rid}")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "resident",
                                                             AuditEvent.object_id == rid)).all()
        assert {"resident_created", "resident_viewed"} <= {e.action for e in events}
        for e in events:
            assert "Zenobia" not in (e.detail or "") and "601" not in (e.detail or "")


def test_inline_edit_as_fragment_and_stale_save_409(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Edyta")
    form = client.get(f"/residents/{rid}/edit", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in form and 'id="details"' in form
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    base = {"first_name": "Edyta", "neighbourhood_id": hood_id(app, "wilda"), "version": version}
    r = client.post(f"/residents/{rid}", data={**base, "last_name": "Pierwsza"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "Pierwsza" in r.get_data(as_text=True) and 'hx-swap-oob' in r.get_data(as_text=True)
    r = client.post(f"/residents/{rid}", data={**base, "last_name": "Druga"}, headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Druga" in body and "Pierwsza" in body
    with app.app_context():
        assert db.session.get(Resident, rid).last_name == "Pierwsza"


def test_editing_tags_keeps_the_ones_that_stay(app, client, auth):
    """Adding a tag, or listing the same tags in another order, kept the old rows and inserted them again:
    the unique (resident, kind, tag) refused the save with a 500."""
    from models import ResidentTag

    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Tamara", interests="szachy, czytanie", offers="gotowanie")
    base = {"first_name": "Tamara", "neighbourhood_id": hood_id(app, "wilda")}
    for interests, offers in (("czytanie, szachy, ogród", "gotowanie"), ("ogród", "gotowanie, szachy"),
                              ("ogród, czytanie", "")):
        form = client.get(f"/residents/{rid}/edit").get_data(as_text=True)
        version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
        r = client.post(f"/residents/{rid}", data={**base, "version": version, "interests": interests, "offers": offers})
        assert r.status_code == 303, r.get_data(as_text=True)[:500]
        with app.app_context():
            tags = set(db.session.execute(select(ResidentTag.kind, ResidentTag.tag).where(ResidentTag.resident_id == rid)))
        assert tags == {("interest", t.strip()) for t in interests.split(",") if t.strip()} | \
            {("offer", t.strip()) for t in offers.split(",") if t.strip()}


def test_notes_refuse_pesel_and_warn_about_sensitive_data(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Roman")
    version = re.search(r'name="version" type="hidden" value="(\d+)"',
                        client.get(f"/residents/{rid}/edit").get_data(as_text=True)).group(1)
    base = {"first_name": "Roman", "neighbourhood_id": hood_id(app, "wilda"), "version": version}
    r = client.post(f"/residents/{rid}", data={**base, "notes": "PESEL 44051401359"})
    assert r.status_code == 422 and "numer PESEL" in r.get_data(as_text=True)
    r = client.post(f"/residents/{rid}", data={**base, "notes": "Ma depresję, chodzi na terapię"})
    assert r.status_code == 422 and "szczególnej kategorii" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Resident, rid).notes is None
    r = client.post(f"/residents/{rid}", data={**base, "notes": "Ma depresję, chodzi na terapię", "confirm_sensitive": "y"})
    assert r.status_code == 303
    r = client.post(f"/residents/{rid}", data={**base, "notes": "12345678901 to nie PESEL", "version": str(int(version) + 1)})
    assert r.status_code == 303


def test_consents_given_and_withdrawn(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Celina", email="celina@example.org")
    r = client.post(f"/residents/{rid}/consents", data={"purpose": "email", "method": "online",
                                                        "given_on": "2026-01-10"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="consents"' in r.get_data(as_text=True)
    with app.app_context():
        cid = db.session.scalar(select(Consent.id).where(Consent.resident_id == rid))
    assert client.post(f"/residents/{rid}/consents/{cid}/withdraw").status_code == 303
    assert client.post(f"/residents/{rid}/consents/{cid}/withdraw").status_code == 303  # idempotent
    page = client.get(f"/residents/{rid}").get_data(as_text=True)
    assert "wycofana" in page and "zgoda wycofana" in page and "celina@example.org" not in page
    r = client.post(f"/residents/{rid}/consents", data={"purpose": "email", "method": "online", "given_on": "2999-01-01"})
    assert r.status_code == 422


def test_duplicates_are_offered_while_typing(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Grzegorz", last_name="Brzęczyszczykiewicz", phone="602111222")
    for params in ({"first_name": "grzegorz", "last_name": "brzeczyszczykiewicz"},  # no diacritics
                   {"first_name": "Grzegorz", "last_name": "Brzęczyszczykiewic"},  # a typo
                   {"phone": "602 111 222"}):
        r = client.get("/residents/duplicates", query_string=params, headers={"HX-Request": "true"})
        body = r.get_data(as_text=True)
        assert f"/residents/{rid}\"" in body and "To ta osoba" in body, params
    r = client.get("/residents/duplicates", query_string={"first_name": "Anna", "last_name": "Zupełnieinna"})
    assert f"/residents/{rid}\"" not in r.get_data(as_text=True)


def test_coordinator_merges_two_records(app, client, auth):
    auth.login("coordinator@wilda")
    keep = add_person(client, app, first_name="Marianna", last_name="Scalona")
    other = add_person(client, app, first_name="Marianna", last_name="Scalona", phone="603000111")
    client.post(f"/interactions/new?resident={other}", data={"resident_id": other, "channel": "phone", "note": "x"})
    r = client.get(f"/residents/{keep}/merge")
    assert f'value="{other}"' in r.get_data(as_text=True)
    assert client.post(f"/residents/{keep}/merge", data={"other_id": other}).status_code == 200
    assert client.post(f"/residents/{keep}/merge", data={"other_id": other, "confirm": "yes"}).status_code == 303
    with app.app_context():
        assert db.session.get(Resident, other) is None
        kept = db.session.get(Resident, keep)
        assert kept.phone == "+48603000111"
        assert db.session.scalar(select(func.count()).select_from(Interaction).where(Interaction.resident_id == keep)) == 1
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "resident_merged"))
        assert event.object_id == keep and str(other) in event.detail


def test_animator_cannot_merge(app, client, auth):
    auth.login("animator@wilda")
    rid = add_person(client, app, first_name="Nie")
    assert client.get(f"/residents/{rid}/merge").status_code == 403
