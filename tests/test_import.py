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


# --- hostile and careless files (issue 14): bounded by what they unpack, read whatever they declare ---------

import os  # noqa: E402
import random  # noqa: E402
import stat  # noqa: E402
import string  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?>'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/xl/workbook.xml" '
                 'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                 '<Override PartName="/xl/worksheets/sheet1.xml" '
                 'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                 '</Types>')
ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8"?>'
             '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
             'officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Arkusz1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8"?>'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                 'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_TAIL = "</sheetData></worksheet>"


def _xlsx(sheet_chunks) -> bytes:
    """A minimal workbook written with zipfile directly; the sheet XML is streamed from `sheet_chunks`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(SHEET_HEAD.encode())
            for chunk in sheet_chunks:
                fh.write(chunk.encode() if isinstance(chunk, str) else chunk)
            fh.write(SHEET_TAIL.encode())
    return buf.getvalue()


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _post_file(client, name, data):
    return client.post("/residents/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _refused(client, name, data, *needles):
    r = _post_file(client, name, data)
    body = r.get_data(as_text=True)
    assert r.status_code == 422, (r.status_code, body[:300])
    for needle in needles:
        assert needle in body, (needle, re.sub(r"\s+", " ", body)[-1500:])
    return body


def _parse_peak(data: bytes, name: str = "x.xlsx") -> tuple[str, int]:
    """Parse `data` in-process and measure the peak of Python's allocations while doing it."""
    from app.importer import ImportError_, parse

    tracemalloc.start()
    try:
        parse(name, data, 1)
        message = ""
    except ImportError_ as exc:
        message = str(exc)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return message, peak


def _bomb_chunks(total: int, piece: bytes = b"A" * (1 << 20)):
    yield '<row r="1">'.encode() + b'<c r="A1" t="inlineStr"><is><t>'
    for _ in range(total // len(piece)):
        yield piece
    yield b"</t></is></c></row>"


def test_xlsx_bomb_with_one_huge_inline_cell_is_refused_before_it_is_unpacked(app, client, auth):
    auth.login("animator@wilda")
    bomb = _xlsx(_bomb_chunks(300 << 20))  # 300 MB of one cell, about 300 KB on the wire
    assert len(bomb) < 1 << 20
    with app.test_request_context():
        message, peak = _parse_peak(bomb)
    assert "po rozpakowaniu" in message, message
    assert peak < 100 << 20, f"peak {peak / 2**20:.0f} MB"
    _refused(client, "bomba.xlsx", bomb, "po rozpakowaniu", "MB")


def test_xlsx_huge_cell_that_compresses_poorly_is_refused_while_streaming(app, client, auth):
    """A cell of 3 MB of random letters passes the size and ratio checks; the cell cap stops it at once."""
    auth.login("animator@wilda")
    rng = random.Random(14)
    text = "".join(rng.choices(string.ascii_letters, k=3 << 20))
    data = _xlsx(['<row r="1">', _inline("A1", "Imię"), "</row>", '<row r="2">', _inline("A2", "Ala"),
                  _inline("B2", text), "</row>"])
    with app.test_request_context():
        message, peak = _parse_peak(data)
    assert "B2" in message and "5000 znaków" in message, message
    assert peak < len(data) + (8 << 20), f"peak {peak / 2**20:.1f} MB for a {len(data) / 2**20:.1f} MB file"
    _refused(client, "dluga.xlsx", data, "Komórka B2", "5000 znaków")


def test_zip_bomb_by_compression_ratio_and_forbidden_parts(app, client, auth):
    auth.login("animator@wilda")
    ratio_bomb = _xlsx(_bomb_chunks(40 << 20))  # 40 MB under the size cap, but 1000:1
    _refused(client, "r.xlsx", ratio_bomb, "skompresowany")
    # declared sizes that lie (the central directory says 10 bytes): refused as unreadable, never unpacked
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                           ("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)):
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD + '<row r="1">' + _inline("A1", "A" * (20 << 20))
                    + "</row>" + SHEET_TAIL)
    forged = bytearray(buf.getvalue())
    at = forged.index(b"PK\x01\x02" + forged[forged.index(b"PK\x01\x02") + 4:][:0], 0)
    while forged[at + 46:at + 46 + 24] != b"xl/worksheets/sheet1.xml":
        at = forged.index(b"PK\x01\x02", at + 4)
    forged[at + 24:at + 28] = (10).to_bytes(4, "little")
    _refused(client, "klamstwo.xlsx", bytes(forged), "Nie udało się odczytać pliku XLSX")
    _refused(client, "z.xlsx", b"PK\x03\x04" + b"\x00" * 100, "Nie udało się odczytać pliku XLSX")


def test_xlsx_and_csv_with_200_columns_are_refused_at_the_first_row(app, client, auth):
    auth.login("animator@wilda")
    header = "".join(_inline(f"{_col(i)}1", f"k{i}") for i in range(200))
    data = _xlsx(['<row r="1">', header, "</row>"] + [f'<row r="{n}">' + "<c><v>1</v></c>" * 200 + "</row>"
                                                      for n in range(2, 5)])
    _refused(client, "szeroki.xlsx", data, "najwyżej 50 kolumn", "AY")  # column 51 is AY
    csv_data = (";".join(f"k{i}" for i in range(200)) + "\n" + "\n".join([";".join("1" * 200)] * 20_001)).encode()
    assert len(csv_data) < 10 << 20
    with app.test_request_context():
        message, peak = _parse_peak(csv_data, "szeroki.csv")
    assert "najwyżej 50 kolumn" in message and peak < 30 << 20
    _refused(client, "szeroki.csv", csv_data, "najwyżej 50 kolumn", "Wiersz 1 ma dane w kolumnie AY")


def test_200_columns_by_20001_rows_xlsx_is_refused_without_reading_it_all(app, client, auth):
    auth.login("animator@wilda")
    rows = (f'<row r="{n}">' + "<c><v>1</v></c>" * 200 + "</row>" for n in range(1, 20_002))
    data = _xlsx(rows)
    with app.test_request_context():
        message, peak = _parse_peak(data)
    assert message and peak < 30 << 20, (message, peak)


def _col(i: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(i + 1)


def test_cell_length_and_row_caps(app, client, auth):
    auth.login("animator@wilda")
    before = _count(app)
    long_cell = ("imię;notatki\nAla;" + "x" * 6000 + "\n").encode()
    _refused(client, "dlugi.csv", long_cell, "Komórka B2", "5000 znaków")
    past_csv_limit = ("imię;notatki\nAla;\"" + "x" * 200_000 + "\"\n").encode()
    _refused(client, "bardzo.csv", past_csv_limit, "5000 znaków", "2")
    rows = ("imię;osiedle\n" + "Ala;Wilda\n" * 20_001).encode()
    _refused(client, "duzo.csv", rows, "20000")
    assert _count(app) == before


def test_understated_dimension_does_not_hide_rows(app, client, auth):
    auth.login("animator@wilda")
    wb = Workbook()
    ws = wb.active
    ws.append(["Imię", "Nazwisko", "Osiedle"])
    for n in range(10):
        ws.append([f"Osoba{n}", f"Wymiarowa{n}", "Wilda"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<dimension ref="[^"]+"\s*/>', b'<dimension ref="A1:C3"/>', data)
                assert n == 1
            zf.writestr(info.filename, data)
    url = _upload(client, "wymiar.xlsx", out.getvalue())
    page = client.get(url).get_data(as_text=True)
    assert "Wierszy z danymi: 10." in page
    form = _mapping_form(page)
    before = _count(app)[0]
    r = client.post(url, data={**form, "action": "import"})
    assert "Zaimportowano. Liczba osób: 10." in r.get_data(as_text=True)
    assert _count(app)[0] == before + 10


CSV_PEOPLE = "Imię;Nazwisko;Osiedle;Data\nŻaneta;Źdźbło;Wilda;45000\nŁukasz;Gęś;Wilda;15.03.2023\n"


def test_csv_encodings_utf8_bom_utf16_cp1250(app, client, auth):
    auth.login("animator@wilda")
    encodings = {"utf8.csv": CSV_PEOPLE.encode("utf-8"), "bom.csv": CSV_PEOPLE.encode("utf-8-sig"),
                 "le.csv": CSV_PEOPLE.encode("utf-16"),  # with its BOM, little-endian here
                 "be.csv": b"\xfe\xff" + CSV_PEOPLE.encode("utf-16-be"),
                 "cp.csv": CSV_PEOPLE.encode("cp1250")}
    for name, data in encodings.items():
        url = _upload(client, name, data)
        page = client.get(url).get_data(as_text=True)
        assert "Żaneta" in page and "Źdźbło" in page and "Łukasz" in page, name
        assert client.post(f"{url}/cancel").status_code == 303


def test_excel_serial_dates_are_converted(app, client, auth):
    auth.login("animator@wilda")
    url = _upload(client, "seryjne.csv", CSV_PEOPLE.replace("Źdźbło", "Seryjna").encode("utf-16"))
    form = _mapping_form(client.get(url).get_data(as_text=True))
    assert form["col3"] == "created"
    r = client.post(url, data={**form, "action": "import"})
    assert "Zaimportowano. Liczba osób: 2." in r.get_data(as_text=True), r.get_data(as_text=True)[-2000:]
    with app.app_context():
        assert db.session.scalar(select(Resident).where(Resident.last_name == "Seryjna")).created_at.date().isoformat() \
            == "2023-03-15"
    # an XLSX number cell without a date format in a date column, and one with a date format
    styles = ('<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/'
              'spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>')
    data = _xlsx(['<row r="1">', _inline("A1", "Imię"), _inline("B1", "Nazwisko"), _inline("C1", "Osiedle"),
                  _inline("D1", "Data"), "</row>",
                  '<row r="2">', _inline("A2", "Jan"), _inline("B2", "Liczbowy"), _inline("C2", "Wilda"),
                  '<c r="D2"><v>45001</v></c></row>',
                  '<row r="3">', _inline("A3", "Jan"), _inline("B3", "Datowy"), _inline("C3", "Wilda"),
                  '<c r="D3" s="1"><v>45002.5</v></c></row>'])
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info in src.infolist():
            zf.writestr(info.filename, src.read(info.filename))
        zf.writestr("xl/styles.xml", styles)
    url = _upload(client, "daty.xlsx", out.getvalue())
    page = client.get(url).get_data(as_text=True)
    assert "2023-03-17" in page  # shown as a date in the preview already
    r = client.post(url, data={**_mapping_form(page), "action": "import"})
    assert "Zaimportowano. Liczba osób: 2." in r.get_data(as_text=True)
    with app.app_context():
        created = {r.last_name: r.created_at.date().isoformat() for r in db.session.scalars(
            select(Resident).where(Resident.last_name.in_(["Liczbowy", "Datowy"])))}
    assert created == {"Liczbowy": "2023-03-16", "Datowy": "2023-03-17"}
    # outside 1900-2100 a date is refused, not stored
    url = _upload(client, "stare.csv", "imię;osiedle;data\nStary;Wilda;01.01.1800\n".encode())
    r = client.post(url, data={**_mapping_form(client.get(url).get_data(as_text=True)), "action": "import"})
    assert r.status_code == 422 and "1900" in r.get_data(as_text=True)


def test_text_cells_are_cleaned_and_length_checked_like_the_form(app, client, auth):
    auth.login("animator@wilda")
    before = _count(app)
    data = ("imię;nazwisko;osiedle;notatki\n"
            "Ala\x01Nul;Kot;Wilda;\n"
            f"Ola;{'N' * 81};Wilda;\n"
            "Ela;Ok;Wilda;" + "n" * 4998 + "x\x02\n").encode()
    url = _upload(client, "brudne.csv", data)
    form = _mapping_form(client.get(url).get_data(as_text=True))
    r = client.post(url, data={**form, "action": "import"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r"<td>2</td><td>imię</td><td>[^<]*znak sterujący", body), body[-3000:]
    assert re.search(r"<td>3</td><td>nazwisko</td><td>[^<]*najwyżej 80\b", body)
    assert '<td>4</td><td>notatki</td>' not in body  # a control character in notes is dropped, not an error
    assert _count(app) == before
    url = _upload(client, "czyste.csv", "imię;nazwisko;osiedle;notatki\nEla;Czysta;Wilda;linia\x02 pierwsza\n".encode())
    r = client.post(url, data={**_mapping_form(client.get(url).get_data(as_text=True)), "action": "import"})
    assert r.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Resident.notes).where(Resident.last_name == "Czysta")) == "linia pierwsza"
    # Excel writes control characters as _xHHHH_: they are decoded, then judged like any other
    data = _xlsx(['<row r="1">', _inline("A1", "Imię"), _inline("B1", "Osiedle"), "</row>",
                  '<row r="2">', _inline("A2", "Ala_x0007_"), _inline("B2", "Wilda"), "</row>"])
    url = _upload(client, "esc.xlsx", data)
    r = client.post(url, data={**_mapping_form(client.get(url).get_data(as_text=True)), "action": "import"})
    assert r.status_code == 422 and "znak sterujący" in r.get_data(as_text=True)


def test_special_category_notes_need_a_confirmation(app, client, auth):
    auth.login("animator@wilda")
    data = ("imię;nazwisko;osiedle;notatki\nAla;Zdrowa;Wilda;lubi szachy\n"
            "Ola;Chora;Wilda;choruje na cukrzycę\n").encode()
    url = _upload(client, "rodo.csv", data)
    form = _mapping_form(client.get(url).get_data(as_text=True))
    r = client.post(url, data={**form, "action": "check"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "RODO art. 9" in body and "zdrowie" in body
    assert re.search(r"Wiersz 3\b", body) and "Wiersz 2</" not in body
    assert 'name="confirm_sensitive"' in body
    before = _count(app)
    r = client.post(url, data={**form, "action": "import"})
    assert r.status_code == 422 and "Potwierdź" in r.get_data(as_text=True)
    assert _count(app) == before
    r = client.post(url, data={**form, "action": "import", "confirm_sensitive": "y"})
    assert "Zaimportowano. Liczba osób: 2." in r.get_data(as_text=True)


def _upload_files(app) -> set[str]:
    folder = Path(app.instance_path) / "imports"
    return {p.name for p in folder.glob("*.json")} if folder.exists() else set()


def test_waiting_uploads_are_private_cancelled_imported_and_expired(app, client, auth, runner):
    auth.login("animator@wilda")
    folder = Path(app.instance_path) / "imports"
    url = _upload(client, "tajne.csv", "imię;osiedle;notatki\nOla;Wilda;sekret\n".encode())
    token = url.rstrip("/").rsplit("/", 1)[1]
    path = folder / f"{token}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # cancel removes it
    r = client.post(f"{url}/cancel")
    assert r.status_code == 303 and not path.exists() and client.get(url).status_code == 404
    # a successful import removes it (tested above too), a refused one keeps it for another try
    url = _upload(client, "tajne.csv", "imię;osiedle;notatki\nOla;Wilda;sekret\n".encode())
    path = folder / f"{url.rsplit('/', 1)[1]}.json"
    client.post(url, data={"col0": "first_name", "action": "import"})  # no osiedle mapped, no default: refused
    assert path.exists()
    r = client.post(url, data={**_mapping_form(client.get(url).get_data(as_text=True)), "action": "import"})
    assert r.status_code == 200 and not path.exists()
    # older than 24 h: the page answers 404 and enforce-retention removes the file
    old_url = _upload(client, "stary.csv", "imię;osiedle\nOla;Wilda\n".encode())
    fresh_url = _upload(client, "nowy.csv", "imię;osiedle\nOla;Wilda\n".encode())
    old = folder / f"{old_url.rsplit('/', 1)[1]}.json"
    fresh = folder / f"{fresh_url.rsplit('/', 1)[1]}.json"
    day_ago = time.time() - 24 * 3600 - 60
    os.utime(old, (day_ago, day_ago))
    result = runner.invoke(args=["enforce-retention"])
    assert result.exit_code == 0, result.output
    assert not old.exists() and fresh.exists()
    assert "1" in result.output and "import" in result.output.lower()
    assert client.get(old_url).status_code == 404 and client.get(fresh_url).status_code == 200
    client.post(f"{fresh_url}/cancel")


def test_a_failed_write_leaves_nothing(app, client, auth, monkeypatch):
    """The database refuses mid-import (after the residents, at the tags): not one row stays."""
    import sqlalchemy as sa

    import app.importer as importer

    auth.login("animator@wilda")
    url = _upload(client, "pol.csv", "imię;nazwisko;osiedle;zainteresowania\nAla;Połowa;Wilda;szachy\n".encode())
    form = _mapping_form(client.get(url).get_data(as_text=True))
    before = _count(app)
    missing = sa.Table("resident_tag_that_does_not_exist", sa.MetaData(), sa.Column("resident_id", sa.Integer),
                       sa.Column("kind", sa.String), sa.Column("tag", sa.String))
    monkeypatch.setattr(importer, "ResidentTag", type("Missing", (), {"__table__": missing}))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = client.post(url, data={**form, "action": "import"})
    assert r.status_code == 500
    assert _count(app) == before
    monkeypatch.undo()
    r = client.post(url, data={**form, "action": "import"})  # the upload is still there for another try
    assert "Zaimportowano. Liczba osób: 1." in r.get_data(as_text=True)


def test_a_file_of_only_skipped_duplicates_imports_nothing_without_error(app, client, auth):
    auth.login("animator@wilda")
    data = "imię;nazwisko;telefon;osiedle\nPowtórka;Dwukrotna;607000222;Wilda\n".encode()
    for expected in (1, 0):  # the second time the only row is a duplicate, skipped by default
        url = _upload(client, "dwa.csv", data)
        r = client.post(url, data={**_mapping_form(client.get(url).get_data(as_text=True)), "action": "import"})
        assert r.status_code == 200 and f"Liczba osób: {expected}." in r.get_data(as_text=True)


def test_csv_oddities_answer_in_polish_not_500(app, client, auth):
    auth.login("animator@wilda")
    _refused(client, "x.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "znaki binarne")
    _refused(client, "x.csv", "imię;osiedle\nOla;Wilda\n".encode("utf-16-le")[:-1] + b"\xff\xd8", "kodowania")
    _refused(client, "x.csv", b"imie;osiedle\n\x81\x83\x88;Wilda\n", "kodowania")  # neither UTF-8 nor cp1250
    url = _upload(client, "bez_bom.csv", "imię;osiedle\nŻenia;Wilda\n".encode("utf-16-le"))
    assert "Żenia" in client.get(url).get_data(as_text=True)
    url = _upload(client, "pk.csv", "PKD;imię;osiedle\n1;Ola;Wilda\n".encode())  # a CSV may begin with "PK"
    assert "Ola" in client.get(url).get_data(as_text=True)


def test_xml_tricks_are_refused_with_little_memory(app, client, auth):
    """An attribute of 3 MB (expat holds a tag whole) and a DTD with entities (billion laughs)."""
    auth.login("animator@wilda")
    rng = random.Random(7)
    noise = "".join(rng.choices(string.ascii_letters, k=3 << 20))
    long_tag = _xlsx(['<row r="1">', f'<c r="A1" t="inlineStr" x="{noise}"><is><t>Imię</t></is></c></row>'])
    with app.test_request_context():
        message, peak = _parse_peak(long_tag)
    assert "Nie udało się odczytać pliku XLSX" in message and peak < len(long_tag) + (8 << 20), (message, peak)
    laughs = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
              '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                           ("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)):
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD.replace("<worksheet", laughs + "<worksheet", 1)
                    + '<row r="1">' + _inline("A1", "&lol3;") + "</row>" + SHEET_TAIL)
    _refused(client, "lol.xlsx", buf.getvalue(), "Nie udało się odczytać pliku XLSX")


def test_the_same_import_sent_twice_writes_once(app, client, auth):
    """A double tap on "Importuj" (or two sends at once): the first claims the upload, the second writes nothing."""
    from app.importer import Upload

    auth.login("animator@wilda")
    url = _upload(client, "raz.csv", "imię;nazwisko;osiedle\nJednorazowa;Podwójna;Wilda\n".encode())
    form = {**_mapping_form(client.get(url).get_data(as_text=True)), "action": "import"}
    token = url.rsplit("/", 1)[1]
    before = _count(app)
    with app.test_request_context():
        racing = Upload.load(token, app.world.users["animator@wilda"])
        assert racing.claim()  # another send of the same import is writing right now
    r = client.post(url, data=form)  # this one loaded the upload before the other claimed it
    assert r.status_code in (303, 404)
    assert _count(app) == before
    with app.test_request_context():
        racing.release()  # the other send failed and gave the upload back
    r = client.post(url, data=form)
    assert "Liczba osób: 1." in r.get_data(as_text=True)
    assert _count(app)[0] == before[0] + 1
    assert client.post(url, data=form).status_code == 404  # once imported, the upload is gone
