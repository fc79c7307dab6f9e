"""The public application form, /apply/<call-slug>: validation in Polish by field, size and rate limits,
CSRF, script payloads stored as text and shown escaped, closed and unknown calls."""
from datetime import timedelta

from sqlalchemy import func, select, update

from models import ApplyAttempt, AuditEvent, GrantApplication, GrantCall, Partner, db
from tests.conftest import csrf_token_from
from tests.test_grants import (TODAY, application_form, hood_id, iso, latest_application, login, make_call,
                               submit_public, text_of)


def _errors(response) -> str:
    return text_of(response.get_data(as_text=True))


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_every_rule_is_checked_with_a_polish_message_by_field(app):
    call = make_call(app)
    before = _count(app, GrantApplication)
    with app.app_context():
        foreign_partner = db.session.scalar(select(Partner.id).where(Partner.centre_id != call.centre_id))
    cases = [
        ({"title": "", "need": ""}, ["Podaj tytuł inicjatywy.", "Opisz potrzebę."]),
        ({"members-2-adult": None}, ["co najmniej 3 pełnoletnie osoby", "(jest 2)"]),
        ({"members-1-name": "Piotr"}, ["Podaj imię i nazwisko."]),
        ({"contact_name": "Ktoś Inny"}, ["Osoba kontaktowa musi być jedną z osób wymienionych w grupie."]),
        ({"contact_email": "", "contact_phone": ""}, ["Podaj e-mail albo telefon osoby kontaktowej."]),
        ({"contact_email": "nie-email", "contact_phone": "12"}, ["To nie jest poprawny adres e-mail.",
                                                                 "To nie jest poprawny numer telefonu"]),
        ({"patron_id": "0"}, ["Grupa nieformalna potrzebuje organizacji-patrona"]),
        ({"patron_id": str(foreign_partner)}, ["Wybierz jedną z możliwości z listy."]),  # not a partner of this call's centre
        ({"applicant_kind": "ngo", "applicant_krs": "123"}, ["Podaj 10-cyfrowy numer KRS organizacji."]),
        ({"starts_on": iso(TODAY - timedelta(days=1))}, ["Działania mogą się zacząć najwcześniej"]),
        ({"starts_on": iso(TODAY + timedelta(days=8)), "ends_on": iso(TODAY + timedelta(days=7))},
         ["Koniec działań nie może być przed ich początkiem."]),
        ({"ends_on": iso(TODAY + timedelta(days=400))}, ["Działania muszą się skończyć najpóźniej"]),
        ({"starts_on": "31.02.2026"}, ["Podaj datę (dzień, miesiąc, rok)."]),
        ({"expected_participants": "dużo"}, ["Podaj liczbę całkowitą"]),
        ({"lines-0-unit_cost": "abc"}, ["Podaj liczbę"]),
        ({"lines-0-quantity": "-2"}, ["Podaj ilość większą od zera."]),
        ({"lines-0-item": ""}, ["Podaj, na co jest ten wydatek."]),
        ({"lines-0-unit_cost": "1400"}, ["przekracza limit naboru: 4 000,00 zł"]),
        ({"lines-2-source": "own"}, ["Wkład własny grupy nieformalnej to tylko wyceniona praca wolontariuszy",
                                     "potrzeba co najmniej 360,00 zł"]),
        ({"lines-2-quantity": "10"}, ["jest 300,00 zł, potrzeba co najmniej 360,00 zł"]),
        ({"lines-0-source": "volunteer", "lines-1-source": "volunteer"},
         ["Wpisz w budżecie co najmniej jedną pozycję finansowaną z dotacji."]),
        ({"neighbourhood_id": "999999"}, ["Wybierz jedną z możliwości z listy."]),
        ({"privacy": None}, ["Bez tego oświadczenia nie możemy przyjąć wniosku."]),
        ({"title": "x" * 201}, ["nie może mieć więcej niż 200 znaków"]),
        ({"need": "x" * 3001}, ["3000 znaków"]),
    ]
    for n, (changes, messages) in enumerate(cases):
        r = submit_public(app, call, **changes)
        body = _errors(r)
        assert r.status_code == 422, (changes, body[:500])
        for message in messages:
            assert message in body, (changes, message)
        assert "Wniosek nie został jeszcze wysłany" in body, changes
    assert _count(app, GrantApplication) == before
    # an NGO applies without members and without a patron; its own cash counts too
    r = submit_public(app, call, applicant_kind="ngo", applicant_name="Stowarzyszenie Przyjaciół Wildy",
                      applicant_krs="0000123456", patron_id="0", contact_name="Jan Kowalski", **{
                          "members-0-name": "", "members-1-name": "", "members-2-name": "", "lines-2-source": "own"})
    assert r.status_code == 303, _errors(r)[:2000]
    a = latest_application(app)
    assert (a.applicant_kind, a.patron_id, a.own_amount) == ("ngo", None, 600)


def test_only_eligible_osiedla_and_open_calls(app):
    coordinator = login(app, "coordinator@regranting")
    wilda = hood_id(app, "wilda")
    call = make_call(app, coordinator, all_neighbourhoods=None, neighbourhood_ids=str(hood_id(app, "rataje")))
    r = submit_public(app, call, neighbourhood_id=str(wilda))
    assert r.status_code == 422 and "Wybierz jedną z możliwości z listy." in _errors(r)
    page = app.test_client().get(f"/apply/{call.slug}").get_data(as_text=True)
    assert ">Rataje<" in page and ">Wilda<" not in page
    # a call that is closed, not yet open, spent (rolling), a draft or unknown
    with app.app_context():
        db.session.execute(update(GrantCall).where(GrantCall.id == call.id).values(status="closed"))
        db.session.commit()
    r = app.test_client().get(f"/apply/{call.slug}")
    assert r.status_code == 200 and "Ten nabór jest zamknięty" in r.get_data(as_text=True)
    assert submit_public(app, call, neighbourhood_id=str(hood_id(app, "rataje"))).status_code == 409
    with app.app_context():
        db.session.execute(update(GrantCall).where(GrantCall.id == call.id).values(
            status="open", closes_on=None, granted_total=GrantCall.budget))
        db.session.commit()
    assert "Środki w tym naborze zostały wyczerpane" in app.test_client().get(f"/apply/{call.slug}").get_data(
        as_text=True)
    with app.app_context():
        db.session.execute(update(GrantCall).where(GrantCall.id == call.id).values(
            granted_total=0, opens_on=TODAY + timedelta(days=3)))
        db.session.commit()
    assert "Nabór rusza" in app.test_client().get(f"/apply/{call.slug}").get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(GrantCall).where(GrantCall.id == call.id).values(status="draft"))
        db.session.commit()
    assert app.test_client().get(f"/apply/{call.slug}").status_code == 404
    assert app.test_client().get("/apply/nie-ma-takiego-naboru").status_code == 404
    assert app.test_client().get("/apply/" + "x" * 300).status_code == 404


def test_oversized_and_malformed_requests(app):
    call = make_call(app)
    client = app.test_client()
    big = application_form(app, need="x" * (200 * 1024))
    assert client.post(f"/apply/{call.slug}", data=big).status_code == 413  # over the form's own limit
    huge = {"need": "x" * (11 * 1024 * 1024)}
    assert client.post(f"/apply/{call.slug}", data=huge).status_code == 413  # over MAX_CONTENT_LENGTH
    r = client.post(f"/apply/{call.slug}", data="%%%&&&=\x00", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 422
    r = client.post(f"/apply/{call.slug}", data=b"\xff\xfe garbage", content_type="multipart/form-data; boundary=x")
    assert r.status_code in (400, 422)
    r = client.post(f"/apply/{call.slug}", data=application_form(app, **{"lines-\u00b2-item": "x"}),
                    environ_base={"REMOTE_ADDR": "10.1.2.4"})
    assert r.status_code < 500  # a row index that is no ASCII number is no row (str.isdigit() says yes to '²')
    # more rows than the form allows: refused with the limit's message, nothing stored (never silently cut)
    before = latest_application(app)
    many = application_form(app, **{f"lines-{i}-{k}": v for i in range(3, 60) for k, v in (
        ("item", "Drobiazg"), ("quantity", "1"), ("unit_cost", "1"), ("source", "volunteer"))})
    r = client.post(f"/apply/{call.slug}", data=many, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert r.status_code == 422 and "Najwyżej 30 pozycji budżetu." in _errors(r)
    assert latest_application(app).id == before.id


def test_script_payloads_are_stored_as_text_and_shown_escaped(app):
    call = make_call(app)
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    r = submit_public(app, call, title="Piknik " + payload, need=payload, applicant_name=payload,
                      **{"lines-0-item": payload, "members-0-name": "Anna <b>Nowak</b>", "contact_name": "Anna <b>Nowak</b>"})
    assert r.status_code == 303, _errors(r)[:1000]
    a = latest_application(app)
    assert a.title == "Piknik " + payload and a.need == payload  # stored exactly as typed
    coordinator = login(app, "coordinator@regranting")
    for path in (f"/grants/applications/{a.id}", f"/grants/calls/{call.id}"):
        body = coordinator.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body and "<b>Nowak" not in body
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body
    # the error page of the form echoes the input escaped too
    r = submit_public(app, call, title=payload, need="")
    assert r.status_code == 422 and "<script>alert" not in r.get_data(as_text=True)


def test_a_flood_from_one_address_is_answered_with_429(app):
    call = make_call(app)
    limit = app.config["APPLY_SUBMISSIONS_PER_HOUR"]
    for _ in range(limit):
        assert submit_public(app, call, ip="10.66.0.1").status_code == 303
    r = submit_public(app, call, ip="10.66.0.1")
    assert r.status_code == 429 and r.headers["Retry-After"] == "3600"
    assert "zbyt wiele wniosków" in r.get_data(as_text=True)
    assert submit_public(app, call, ip="10.66.0.2").status_code == 303  # another address is not affected
    # invalid posts count too (a script hammering the form)
    for _ in range(app.config["APPLY_ATTEMPTS_PER_HOUR"]):
        assert submit_public(app, call, ip="10.66.0.3", title="").status_code == 422
    assert submit_public(app, call, ip="10.66.0.3").status_code == 429
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "grant_apply_throttled")) == 2
        # an hour later the address may apply again; a day later it is forgotten
        db.session.execute(update(ApplyAttempt).values(at=ApplyAttempt.at - timedelta(hours=25)))
        db.session.commit()
    assert submit_public(app, call, ip="10.66.0.1").status_code == 303
    assert _count(app, ApplyAttempt) == 1


def test_csrf_protects_the_public_form(make_app, app):
    protected = make_app(WTF_CSRF_ENABLED=True)
    protected.world = app.world
    call = make_call(app)
    client = protected.test_client()
    data = application_form(app)
    r = client.post(f"/apply/{call.slug}", data=data)
    assert r.status_code == 400 and "Formularz wygasł" in r.get_data(as_text=True)
    page = client.get(f"/apply/{call.slug}").get_data(as_text=True)
    token = csrf_token_from(page)
    assert f'name="csrf_token" value="{token}"' in page
    r = client.post(f"/apply/{call.slug}", data={**data, "csrf_token": token})
    assert r.status_code == 303
    other = protected.test_client()  # another browser cannot reuse the token
    assert other.post(f"/apply/{call.slug}", data={**data, "csrf_token": token}).status_code == 400


def test_reference_is_shown_only_in_the_applicants_browser(app):
    call = make_call(app)
    client = app.test_client()
    r = client.post(f"/apply/{call.slug}", data=application_form(app))
    ref = latest_application(app).reference
    assert ref in client.get(r.headers["Location"]).get_data(as_text=True)
    other = app.test_client().get(f"/apply/{call.slug}/submitted")
    assert other.status_code == 302 and other.headers["Location"].endswith(f"/apply/{call.slug}")


def test_add_row_buttons_keep_what_was_typed(app):
    call = make_call(app)
    client = app.test_client()
    data = application_form(app, add_members="1")
    r = client.post(f"/apply/{call.slug}", data=data)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Osoba 4: imię i nazwisko" in body and 'value="Zofia Wiśniewska"' in body
    r = client.post(f"/apply/{call.slug}", data=application_form(app, add_lines="1"))
    assert "Pozycja 4" in r.get_data(as_text=True)
    assert _count(app, GrantApplication) == 14  # the demo's, nothing new
