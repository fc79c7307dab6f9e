"""Importing residents from the spreadsheets animators keep today (CSV or XLSX).

upload → `parse()` into a header and rows (encoding and separator detected) kept in instance/imports/
→ the user maps columns to fields → `validate()` checks every row and flags likely duplicates
→ `commit()` writes all rows in one transaction, or nothing.
"""
import csv
import io
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select

from app.forms.residents import normalise_phone, parse_tags
from app.privacy import pesel_numbers
from models import Resident, ResidentTag, db, personal_data_scope, record_audit
from models.base import utcnow
from models.resident import search_fields
from models.text import fold, words

MAX_ROWS = 20_000
MAX_CELL = 2000

# field -> (Polish label, header words that suggest it)
FIELDS = {  # labels are marked for translation where they are shown (views/imports.py)
    "first_name": (_l("Imię"), ("imie", "imię", "first name", "firstname")),
    "last_name": (_l("Nazwisko"), ("nazwisko", "last name", "surname")),
    "full_name": (_l("Imię i nazwisko"), ("imie i nazwisko", "osoba", "mieszkaniec", "mieszkanka", "name", "kto")),
    "description": (_l("Opis zamiast nazwiska"), ("opis", "pseudonim", "opis osoby")),
    "phone": (_l("Telefon"), ("telefon", "tel", "nr telefonu", "komorka", "phone")),
    "email": (_l("E-mail"), ("email", "e-mail", "mail", "adres e-mail")),
    "street": (_l("Ulica"), ("ulica", "adres", "ul")),
    "building": (_l("Nr budynku"), ("nr", "numer", "nr domu", "budynek", "blok")),
    "neighbourhood": (_l("Osiedle"), ("osiedle", "rejon", "dzielnica")),
    "age_group": (_l("Grupa wiekowa / wiek"), ("wiek", "grupa wiekowa", "age")),
    "interests": (_l("Zainteresowania"), ("zainteresowania", "interesuje sie", "tematy")),
    "offers": (_l("Co może dać"), ("umiejetnosci", "zasoby", "moze dac", "oferuje")),
    "notes": (_l("Notatki"), ("notatki", "uwagi", "notatka", "komentarz")),
    "created": (_l("Data pierwszego kontaktu"), ("data", "data kontaktu", "data dodania", "kiedy")),
}
AGE_WORDS = {"dziecko": "child", "dzieci": "child", "mlodziez": "youth", "nastolatek": "youth", "dorosly": "adult",
             "dorosla": "adult", "senior": "senior", "seniorka": "senior", "emeryt": "senior", "emerytka": "senior"}
DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%Y.%m.%d", "%d.%m.%Y %H:%M")


class ImportError_(ValueError):
    """The file cannot be read at all (a Polish message for the user)."""


@dataclass
class Upload:
    token: str
    user_id: int
    filename: str
    header: list[str]
    rows: list[list[str]]

    def save(self) -> None:
        path = _dir() / f"{self.token}.json"
        path.write_text(json.dumps({"user_id": self.user_id, "filename": self.filename, "header": self.header,
                                    "rows": self.rows}, ensure_ascii=False))

    @classmethod
    def load(cls, token: str, user_id: int) -> "Upload | None":
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,60}", token):
            return None
        path = _dir() / f"{token}.json"
        if not path.exists() or time.time() - path.stat().st_mtime > 24 * 3600:
            return None
        data = json.loads(path.read_text())
        if data["user_id"] != user_id:
            return None
        return cls(token=token, user_id=user_id, filename=data["filename"], header=data["header"], rows=data["rows"])

    def discard(self) -> None:
        (_dir() / f"{self.token}.json").unlink(missing_ok=True)


def _dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == datetime.min.time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()[:MAX_CELL]


def parse(filename: str, data: bytes, user_id: int) -> Upload:
    """Read a CSV (UTF-8, UTF-8 with BOM or Windows-1250; ; , or tab) or an XLSX file."""
    if not data:
        raise ImportError_(_("Plik jest pusty."))
    if data[:2] == b"PK":
        table = _read_xlsx(data)
    else:
        table = _read_csv(data)
    while table and not any(table[-1]):
        table.pop()  # trailing empty rows; empty rows inside keep their numbers and are skipped
    if len(table) < 2 or not any(any(r) for r in table[1:]):
        raise ImportError_(_("Plik nie zawiera wierszy z danymi (pierwszy wiersz to nagłówki kolumn)."))
    if len(table) - 1 > MAX_ROWS:
        raise ImportError_(_("Plik ma %(n)d wierszy; jednorazowo można zaimportować najwyżej %(max)d.", n=len(table) - 1, max=MAX_ROWS))
    width = max(len(r) for r in table)
    header = [(h or _("Kolumna %(n)d", n=i + 1)) for i, h in enumerate(table[0] + [""] * (width - len(table[0])))]
    rows = [r + [""] * (width - len(r)) for r in table[1:]]
    return Upload(token=secrets.token_urlsafe(24), user_id=user_id, filename=filename[:120], header=header, rows=rows)


def _read_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp1250"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1250 decodes almost anything
        raise ImportError_(_("Nie rozpoznano kodowania znaków pliku (obsługiwane: UTF-8, Windows-1250)."))
    if "\x00" in text:
        raise ImportError_(_("To nie wygląda na plik CSV (zawiera znaki binarne). Zapisz arkusz jako CSV albo XLSX."))
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    return [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same answer
        raise ImportError_(_("Nie udało się odczytać pliku XLSX. Sprawdź, czy to arkusz Excel/LibreOffice.")) from exc
    ws = wb.worksheets[0]
    table = []
    for n, row in enumerate(ws.iter_rows(values_only=True)):
        if n > MAX_ROWS + 1:
            break
        table.append([_cell(c) for c in row])
    wb.close()
    return table


def guess_mapping(header: list[str]) -> dict[int, str]:
    """Column index -> field, from the header words."""
    mapping, taken = {}, set()
    for i, name in enumerate(header):
        key = " ".join(words(name))
        for fld, (_label, hints) in FIELDS.items():
            if fld not in taken and key in {" ".join(words(h)) for h in hints}:
                mapping[i] = fld
                taken.add(fld)
                break
    return mapping


@dataclass
class Problem:
    row: int  # 1-based, counting the header as row 1 (as the spreadsheet shows it)
    column: str
    message: str


@dataclass
class Checked:
    rows: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: dict[int, str] = field(default_factory=dict)  # row number -> why

    @property
    def by_row(self) -> dict[int, dict]:
        return {r["_n"]: r for r in self.rows}


_DMY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")


def parse_date(raw: str) -> date | None:
    raw = raw.strip()
    if m := _DMY.fullmatch(raw):  # the usual Polish 12.03.2024, without strptime's cost
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(raw)


def _age_group(raw: str) -> str | None:
    key = " ".join(words(raw))
    if not key:
        return None
    if key.isdigit():
        age = int(key)
        return "child" if age < 13 else "youth" if age < 19 else "adult" if age < 60 else "senior"
    for word, group in AGE_WORDS.items():
        if key.startswith(word):
            return group
    raise ValueError(raw)


def validate(upload: Upload, mapping: dict[int, str], user, default_hood_id: int | None) -> Checked:
    """Check every row; nothing is written. Problems name the row and the column, in Polish."""
    from app.people import neighbourhoods_for

    allowed = {n.id: n for n in neighbourhoods_for(user)}
    by_name = {}
    for n in allowed.values():
        by_name[" ".join(words(n.name))] = n.id
        by_name[n.slug.replace("-", " ")] = n.id
    column_of = {fld: i for i, fld in mapping.items()}
    label = lambda fld: upload.header[column_of[fld]]  # noqa: E731
    existing = _existing_keys(user)
    seen_in_file: dict[str, int] = {}
    checked = Checked()
    for n, raw in enumerate(upload.rows, start=2):
        if not any(raw):
            continue
        get = lambda fld: raw[column_of[fld]].strip() if fld in column_of else ""  # noqa: E731
        row: dict = {}
        problems = []
        first, last = get("first_name"), get("last_name")
        if "full_name" in column_of and not (first or last):
            parts = get("full_name").split()
            first, last = (parts[0], " ".join(parts[1:])) if len(parts) > 1 else (" ".join(parts), "")
        row.update(first_name=first[:80] or None, last_name=last[:80] or None,
                   description=get("description")[:200] or None)
        if not (row["first_name"] or row["last_name"] or row["description"]):
            col = "first_name" if "first_name" in column_of else "full_name" if "full_name" in column_of else None
            problems.append(Problem(n, label(col) if col else "—", _("brak imienia, nazwiska i opisu osoby")))
        try:
            row["phone"] = normalise_phone(get("phone"))
        except ValueError:
            problems.append(Problem(n, label("phone"), _("niepoprawny numer telefonu „%(v)s”", v=get("phone"))))
        email = get("email").lower()
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", email):
            problems.append(Problem(n, label("email"), _("niepoprawny adres e-mail „%(v)s”", v=email)))
        row["email"] = email or None
        hood_raw = get("neighbourhood")
        if hood_raw:
            hood = by_name.get(" ".join(words(hood_raw)))
            if hood is None:
                problems.append(Problem(n, label("neighbourhood"), _("nieznane osiedle albo poza Twoim zakresem „%(v)s”", v=hood_raw)))
            row["neighbourhood_id"] = hood
        else:
            row["neighbourhood_id"] = default_hood_id
            if default_hood_id is None:
                problems.append(Problem(n, label("neighbourhood") if "neighbourhood" in column_of else "—",
                                        _("brak osiedla (wybierz osiedle domyślne)")))
        try:
            row["age_group"] = _age_group(get("age_group"))
        except ValueError:
            problems.append(Problem(n, label("age_group"), _("nie rozpoznano grupy wiekowej „%(v)s”", v=get("age_group"))))
        try:
            row["created"] = parse_date(get("created")) if get("created") else None
        except ValueError:
            problems.append(Problem(n, label("created"), _("nie rozpoznano daty „%(v)s” (np. 12.03.2024)", v=get("created"))))
        if row.get("created") and row["created"] > date.today():
            problems.append(Problem(n, label("created"), _("data z przyszłości")))
        notes = get("notes")
        if pesel_numbers(notes):
            problems.append(Problem(n, label("notes"), _("notatka zawiera numer PESEL")))
        row.update(street=get("street")[:120] or None, building=get("building")[:20] or None, notes=notes or None,
                   interests=parse_tags(get("interests"))[:12], offers=parse_tags(get("offers"))[:12])
        checked.problems.extend(problems)
        for key in _keys(row):
            if key in existing:
                checked.duplicates[n] = "existing"
            elif key in seen_in_file:
                checked.duplicates[n] = f"row:{seen_in_file[key]}"
            else:
                seen_in_file[key] = n
        row["_n"] = n
        checked.rows.append(row)
    return checked


def _keys(row: dict) -> list[str]:
    keys = []
    if row.get("phone"):
        keys.append("p:" + row["phone"])
    if row.get("email"):
        keys.append("e:" + row["email"])
    if row.get("last_name"):
        keys.append("n:" + fold(row.get("first_name") or "").strip() + " " + fold(row["last_name"]).strip())
    return keys


def _existing_keys(user) -> set[str]:
    """Phones, e-mails and full names already in the user's scope (one query)."""
    stmt = personal_data_scope(user).apply(
        select(Resident.phone, Resident.email, Resident.first_name, Resident.last_name)
        .where(Resident.anonymised_at.is_(None)), Resident)
    keys = set()
    for phone, email, first, last in db.session.execute(stmt):
        keys.update(_keys({"phone": phone, "email": email, "first_name": first, "last_name": last}))
    return keys


def commit(checked: Checked, user, skip_rows: set[int], ip: str) -> int:
    """Insert every row not skipped, in the caller's transaction; returns how many."""
    now = utcnow()
    rows = [r for r in checked.rows if r["_n"] not in skip_rows]
    table = Resident.__table__
    residents, tags = [], []
    for r in rows:
        tag_list = r["interests"] + r["offers"]
        search_text, sort_name = search_fields(r["first_name"], r["last_name"], r["description"], r["email"],
                                               r["street"], r["building"], r["phone"], tag_list)
        created = datetime.combine(r["created"], datetime.min.time()) if r["created"] else now
        residents.append({"centre_id": user.centre_id, "neighbourhood_id": r["neighbourhood_id"],
                          "first_name": r["first_name"], "last_name": r["last_name"], "description": r["description"],
                          "phone": r["phone"], "email": r["email"], "street": r["street"], "building": r["building"],
                          "age_group": r["age_group"], "notes": r["notes"], "rung": "known",
                          "rung_reason": json.dumps({"code": "added", "since": created.date().isoformat()}),
                          "rung_since": created.date(), "search_text": search_text, "sort_name": sort_name,
                          "created_at": created, "created_by_id": user.id, "updated_at": now,
                          "updated_by_id": user.id, "version": 1})
    record_audit("residents_imported", user_id=user.id, object_type="resident", ip=ip, rows=len(residents),
                 skipped=len(skip_rows))
    if db.engine.dialect.name == "sqlite":
        # The audit row is written first, so this transaction holds SQLite's write lock: no one else
        # can take ids between reading the largest one and inserting. Plain executemany is ~5x faster
        # than INSERT ... RETURNING row by row.
        db.session.flush()
        start = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(start, start + len(residents)))
        for rid, values in zip(ids, residents):
            values["id"] = rid
        db.session.execute(insert(table), residents)
    else:
        ids = list(db.session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), residents))
    for rid, r in zip(ids, rows):
        tags += [{"resident_id": rid, "kind": "interest", "tag": t} for t in r["interests"]]
        tags += [{"resident_id": rid, "kind": "offer", "tag": t} for t in r["offers"]]
    if tags:
        db.session.execute(insert(ResidentTag.__table__), tags)
    return len(ids)
