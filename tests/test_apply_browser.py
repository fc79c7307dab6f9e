"""A resident applies for a micro-grant on a 360 px phone: real Chromium, real HTTP, CSRF on."""
import re
from datetime import timedelta

from sqlalchemy import select

from models import GrantApplication, db
from tests.test_browser import _overflows, _targets_too_small
from tests.test_grants import TODAY, make_call, patron_id


def test_a_resident_applies_on_a_phone(live_server, phone, app):
    call = make_call(app)
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.goto(f"{live_server}/apply/{call.slug}")
    assert phone.get_by_role("heading", level=1).inner_text() == call.title
    assert not _overflows(phone)
    assert _targets_too_small(phone) == []

    phone.get_by_label("Nazwa grupy albo organizacji").fill("Sąsiedzi z Rynku Wildeckiego")
    phone.get_by_label("Organizacja-patron").select_option(str(patron_id(app)))
    for i, name in enumerate(("Anna Nowak", "Piotr Kowalski", "Zofia Wiśniewska")):
        phone.get_by_label(f"Osoba {i + 1}: imię i nazwisko").fill(name)
        phone.locator(f"#members-{i}-adult").tap()
    phone.get_by_label("Osoba kontaktowa (imię i nazwisko)").fill("Anna Nowak")
    phone.get_by_label("Telefon osoby kontaktowej").fill("601 234 567")
    phone.get_by_label("Tytuł inicjatywy").fill("Potańcówka na Rynku Wildeckim")
    phone.get_by_label("Osiedle, na którym odbędą się działania").select_option(label="Wilda")
    phone.get_by_label("Jaka potrzeba mieszkańców stoi za inicjatywą?").fill("Sąsiedzi się nie znają.")
    phone.get_by_label("Skąd wiecie o tej potrzebie").fill("Rozmowy w klatkach.")
    phone.get_by_label("Cele: co się zmieni dzięki inicjatywie?").fill("Trzy potańcówki.")
    phone.get_by_label("Działania i harmonogram").fill("Lipiec i sierpień.")
    phone.get_by_label("Początek działań").fill((TODAY + timedelta(days=20)).isoformat())
    phone.get_by_label("Koniec działań").fill((TODAY + timedelta(days=110)).isoformat())
    phone.get_by_label("Ilu mieszkańców weźmie udział (szacunkowo)?").fill("150")
    lines = [("Nagłośnienie", "3", "800", "grant"), ("Plakaty", "1", "1200", "grant"),
             ("Praca wolontariuszy", "10", "30", "volunteer")]
    for i, (item, qty, cost, source) in enumerate(lines):
        phone.locator(f"#lines-{i}-item").fill(item)
        phone.locator(f"#lines-{i}-quantity").fill(qty)
        phone.locator(f"#lines-{i}-unit_cost").fill(cost)
        phone.locator(f"#lines-{i}-source").select_option(source)

    # one more budget line: the page comes back with everything typed so far
    phone.get_by_role("button", name="+ Dodaj pozycję budżetu").tap()
    phone.wait_for_selector("#lines-3-item")
    assert phone.locator("#members-2-name").input_value() == "Zofia Wiśniewska"
    phone.locator("#lines-3-item").fill("Poczęstunek")
    phone.locator("#lines-3-quantity").fill("1")
    phone.locator("#lines-3-unit_cost").fill("300")

    # sent too early: 300 zł of volunteer work is below 10% of 3 900 zł, and the privacy statement is missing
    phone.get_by_role("button", name="Wyślij wniosek").tap()
    alert = phone.get_by_role("alert").first
    assert "Wniosek nie został jeszcze wysłany" in alert.inner_text()
    body = phone.locator("main").inner_text()
    assert "potrzeba co najmniej 390,00 zł" in body.replace("\xa0", " ")
    assert "Bez tego oświadczenia nie możemy przyjąć wniosku." in body
    assert not _overflows(phone)

    phone.locator("#lines-2-quantity").fill("15")
    phone.locator("#privacy").tap()
    phone.get_by_role("button", name="Wyślij wniosek").tap()
    phone.wait_for_url(re.compile(r".*/submitted$"))
    reference = phone.locator(".reference").inner_text()
    assert re.fullmatch(r"MG/\d{4}/\d{4}-[0-9A-HJKMNP-TV-Z]{4}", reference)
    assert not _overflows(phone)
    assert [e for e in errors if "status of 422" not in e] == []  # the 422 of the first try is expected
    with app.app_context():
        a = db.session.scalars(select(GrantApplication).order_by(GrantApplication.id.desc()).limit(1)).one()
        assert a.reference == reference and a.source == "public"
        assert (a.title, str(a.requested_amount), str(a.volunteer_amount)) == (
            "Potańcówka na Rynku Wildeckim", "3900.00", "450.00")
