"""The animator's field notebook in a real Chromium on a 360 px phone."""
from datetime import date, timedelta

from tests.conftest import PASSWORD
from tests.test_browser import _overflows, _targets_too_small


def sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Hasło").fill(PASSWORD)
    page.get_by_role("button", name="Zaloguj").tap()
    page.wait_for_url(f"{base}/")


def test_new_person_contact_followup_and_search_without_diacritics(live_server, phone, auth):
    sign_in(phone, live_server, auth.email("animator@wilda"))
    phone.get_by_role("link", name="+ Kontakt").tap()
    phone.get_by_label("Wpisz imię, nazwisko, opis albo telefon").fill("Łukasz Kowalczewski")
    phone.get_by_text("Nikogo nie znaleziono").wait_for()
    phone.get_by_text("Nowa osoba").tap()
    phone.get_by_label("Imię", exact=True).fill("Łukasz")
    phone.get_by_label("Nazwisko", exact=True).fill("Kowalczewski")
    phone.get_by_role("button", name="Dodaj i dalej").tap()
    phone.get_by_text("2. Jak było?").wait_for()
    assert not _overflows(phone) and _targets_too_small(phone) == []
    phone.get_by_text("ulica / podwórko").tap()
    phone.get_by_label("Co jest dla tej osoby ważne").fill("Chce posadzić drzewa przy bloku")
    phone.get_by_text("Następny krok i data").tap()
    phone.get_by_label("Następny krok").fill("Zaprosić na spacer badawczy")
    phone.get_by_label("Kiedy wrócić").fill((date.today() + timedelta(days=2)).isoformat())
    phone.get_by_role("button", name="Zapisz kontakt").tap()
    phone.get_by_text("Kontakt zapisany.").wait_for()
    assert phone.get_by_role("heading", level=1).inner_text() == "Łukasz Kowalczewski"
    assert "ulica / podwórko" in phone.content()

    phone.get_by_role("link", name="Mieszkańcy", exact=True).tap()
    phone.get_by_label("Szukaj (imię, opis, telefon, e-mail, ulica, tag)").fill("lukasz kowalcz")
    result = phone.locator("#results").get_by_role("link", name="Łukasz Kowalczewski")
    result.wait_for()
    phone.wait_for_url("**/residents?q=lukasz*")  # active search keeps the URL shareable
    assert not _overflows(phone)

    phone.get_by_role("link", name="Następne kroki").tap()
    row = phone.locator(".row", has_text="Zaprosić na spacer badawczy")
    row.get_by_role("button", name="Zrobione").tap()
    row.get_by_text("zrobione", exact=True).wait_for()
    assert phone.locator("#status").inner_text() == "Odhaczone."


def test_known_person_contact_in_three_taps(live_server, phone, auth, app):
    from sqlalchemy import select

    from models import Resident, db

    with app.app_context():
        r = db.session.scalars(select(Resident).where(Resident.centre_id == app.world.centres["wilda"],
                                                      Resident.last_name.is_not(None)).limit(1)).one()
        name, query = r.display_name, f"{r.first_name or ''} {r.last_name}".strip()
    sign_in(phone, live_server, auth.email("animator@wilda"))
    taps = 0
    phone.get_by_role("link", name="+ Kontakt").tap(); taps += 1
    phone.wait_for_url(f"{live_server}/interactions/new")
    assert phone.evaluate("document.activeElement.id") == "who"  # the keyboard is already up
    phone.keyboard.type(query)  # typing is not a tap
    phone.locator("#picker-results").get_by_role("link", name=name).first.tap(); taps += 1
    phone.get_by_label("Notatka", exact=True).fill("Krótka rozmowa pod sklepem")  # typing into the note
    phone.get_by_role("button", name="Zapisz kontakt").tap(); taps += 1
    phone.get_by_text("Kontakt zapisany.").wait_for()
    assert taps <= 3
