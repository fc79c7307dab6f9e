"""Importing residents from messy spreadsheets: all or nothing, errors by row and column in Polish."""
import io
import re

from openpyxl import Workbook
from sqlalchemy import func, select

from models import Resident, ResidentTag, db

MESSY = (
    "Imię;Nazwisko;Tel.;E-mail;Osiedle;Wiek;Zainteresowania;Data\r\n"
    "Łucja;Żak;601 234 567;lucja@example.org;Wilda;senior;ogród, seniorzy;12.03.2024\r\n"
    "Grzegorz;Brzęczek;+48 602-345-678;;wilda;45;rowery;2024-05-01\r\n"
    ";;;;;;;\r\n"  # an empty row is skipped (and keeps the numbering of the rows below)
    "Pani Basia;;;;;;;03/04/2023\r\n"
    "=HYPERLINK(\"x\");Formułka;;;Wilda;dorosły;;\r\n"
)


def _count(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Resident)),
                db.session.scalar(select(func.count()).select_from(ResidentTag)))


def _upload(client, name, data):
    r = client.post("/residents/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    return r.headers["Location"]


def _hood(app, slug="wilda"):
    from models import Neighbourhood
    with app.app_context():
        return db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == slug))


def _mapping_form(page: str) -> dict:
    form = {}
    for m in re.finditer(r'<select id="(col\d+)" name="col\d+">(.*?)</select>', page, re.S):
        sel = re.search(r'<option value="(\w+)" selected>', m.group(2))
        form[m.group(1)] = sel.group(1) if sel else ""
    return form


def test_windows_1250_semicolons_polish_dates_all_or_nothing(app, client, auth):
    auth.login("animator@wilda")
    before = _count(app)
    url = _upload(client, "lista.csv", MESSY.encode("cp1250"))
    page = client.get(url).get_data(as_text=True)
    assert "Łucja" in page and "Brzęczek" in page  # decoded from Windows-1250
    form = _mapping_form(page)
    assert form["col0"] == "first_name" and form["col2"] == "phone" and form["col7"] == "created"
    # "Pani Basia" has no osiedle: without a default this is an error by row and column
    r = client.post(url, data={**form, "action": "import"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "brak osiedla" in body and "<td>5</td>" in body  # the spreadsheet's row 5
    assert _count(app) == before  # nothing written
    r = client.post(url, data={**form, "neighbourhood": _hood(app), "action": "check"})
    assert r.status_code == 200 and "Importuj (osoby: 4)" in r.get_data(as_text=True)
    r = client.post(url, data={**form, "neighbourhood": _hood(app), "action": "import"})
    assert r.status_code == 200 and "Zaimportowano. Liczba osób: 4." in r.get_data(as_text=True)
    with app.app_context():
        lucja = db.session.scalar(select(Resident).where(Resident.last_name == "Żak"))
        assert lucja.phone == "+48601234567" and lucja.age_group == "senior"
        assert lucja.created_at.date().isoformat() == "2024-03-12"
        assert db.session.scalar(select(Resident).where(Resident.last_name == "Brzęczek")).age_group == "adult"
        formula = db.session.scalar(select(Resident).where(Resident.last_name == "Formułka"))
        assert formula.first_name == '=HYPERLINK("x")'  # stored as text; exports defuse it
    assert client.get("/residents?q=lucja zak").get_data(as_text=True).count("Żak") >= 1
    assert client.get(url).status_code == 404  # the upload is gone after the import


def test_bad_rows_are_listed_and_nothing_is_written(app, client, auth):
    auth.login("animator@wilda")
    before = _count(app)
    data = ("imie;nazwisko;telefon;email;osiedle;data;notatki\n"
            "Jan;Kowal;123;zly@;Wilda;31.02.2024;\n"
            "Anna;Nowa;;;Rataje;;\n"
            "Ewa;Ok;;;Wilda;;PESEL 44051401359\n").encode("utf-8")
    url = _upload(client, "bledy.csv", data)
    form = _mapping_form(client.get(url).get_data(as_text=True))
    r = client.post(url, data={**form, "action": "import"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    for text in ("niepoprawny numer telefonu „123”", "niepoprawny adres e-mail „zly@”", "nie rozpoznano daty „31.02.2024”",
                 "nieznane osiedle albo poza Twoim zakresem „Rataje”", "notatka zawiera numer PESEL"):
        assert text in body, text
    assert _count(app) == before


def test_duplicates_flagged_and_skipped_unless_chosen(app, client, auth):
    auth.login("animator@wilda")
    with app.app_context():
        existing = db.session.scalar(select(Resident).where(Resident.centre_id == app.world.centres["wilda"],
                                                            Resident.phone.is_not(None)))
        phone = existing.phone
    data = (f"imię;nazwisko;telefon;osiedle\nJakiś;Ktoś;{phone};Wilda\nNowy;Człowiek;607000111;Wilda\n"
            "Nowy;Człowiek;607000111;Wilda\n").encode("utf-8")
    url = _upload(client, "dup.csv", data)
    form = _mapping_form(client.get(url).get_data(as_text=True))
    r = client.post(url, data={**form, "action": "check"})
    body = r.get_data(as_text=True)
    assert "już w Animo" in body and "powtórzenie wiersza 3" in body
    before = _count(app)[0]
    r = client.post(url, data={**form, "action": "import", "dup2": "import"})
    assert "Zaimportowano. Liczba osób: 2." in r.get_data(as_text=True)  # row 2 chosen, row 4 skipped
    assert _count(app)[0] == before + 2


def test_xlsx_with_dates_and_numbers(app, client, auth):
    from datetime import datetime

    auth.login("animator@wilda")
    wb = Workbook()
    ws = wb.active
    ws.append(["Imię i nazwisko", "Telefon", "Osiedle", "Data kontaktu"])
    ws.append(["Halina Kiepska", 608123456, "Wilda", datetime(2025, 6, 7)])
    buf = io.BytesIO()
    wb.save(buf)
    url = _upload(client, "lista.xlsx", buf.getvalue())
    form = _mapping_form(client.get(url).get_data(as_text=True))
    assert form["col0"] == "full_name"
    r = client.post(url, data={**form, "action": "import"})
    assert "Zaimportowano. Liczba osób: 1." in r.get_data(as_text=True)
    with app.app_context():
        h = db.session.scalar(select(Resident).where(Resident.last_name == "Kiepska"))
        assert h.first_name == "Halina" and h.phone == "+48608123456" and h.created_at.year == 2025


def test_unreadable_and_oversized_files(app, client, auth):
    auth.login("animator@wilda")
    r = client.post("/residents/import", data={"file": (io.BytesIO(b"PK\x03\x04garbage"), "x.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "Nie udało się odczytać pliku XLSX" in r.get_data(as_text=True)
    r = client.post("/residents/import", data={"file": (io.BytesIO(b"tylko;naglowek\n"), "x.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "nie zawiera wierszy" in r.get_data(as_text=True)
    big = b"a;b\n" + b"x" * (11 * 1024 * 1024)
    r = client.post("/residents/import", data={"file": (io.BytesIO(big), "big.csv")}, content_type="multipart/form-data")
    assert r.status_code == 413 and "za duży" in r.get_data(as_text=True)


def test_an_upload_belongs_to_its_user(app, client, auth):
    from tests.conftest import PASSWORD

    auth.login("animator@wilda")
    url = _upload(client, "moje.csv", "imię;osiedle\nOla;Wilda\n".encode())
    other = app.test_client()
    other.post("/login", data={"email": auth.email("coordinator@wilda"), "password": PASSWORD})
    assert other.get(url).status_code == 404
    assert client.get("/residents/import/../../etc").status_code == 404
