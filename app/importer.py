"""Importing residents from the spreadsheets animators keep today (CSV or XLSX).

upload → `parse()` into a header and rows (encoding and separator detected) kept in instance/imports/
→ the user maps columns to fields → `validate()` checks every row and flags likely duplicates and notes
that look like special-category data (confirmed once before the import) → `commit()` writes all rows in
one transaction, or nothing.

A file is bounded by what it unpacks, not by its size: rows, columns, characters per cell and in all,
and an XLSX's unpacked bytes are checked while it streams, and the first breach stops the reading.
"""
import codecs
import csv
import io
import json
import os
import posixpath
import pyexpat
import re
import secrets
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select

from app.forms.residents import MAX_TAGS, SENSITIVE_LABELS, normalise_phone, parse_tags
from app.privacy import pesel_numbers, sensitive_categories
from models import Resident, ResidentTag, db, personal_data_scope, record_audit
from models.base import utcnow
from models.resident import search_fields
from models.text import ControlCharacterError, clean_line, clean_text, fold, words

MAX_ROWS = 20_000

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
DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%Y.%m.%d", "%d.%m.%Y %H:%M",
                "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
# the resident form's length limits (app/forms/residents.py), applied to the same fields here
LIMITS = {"first_name": 80, "last_name": 80, "description": 200, "phone": 30, "email": 254, "street": 120,
          "building": 20, "interests": 600, "offers": 600, "notes": 5000}


class ImportError_(ValueError):
    """The file cannot be read at all (a Polish message for the user)."""


# --- waiting uploads --------------------------------------------------------------------------------------
# An upload waits in instance/imports/<token>.json between the upload and the import: every row, notes
# included. Only the application's user may read it (0600 in a 0700 folder); it is deleted on cancel, on a
# successful import, and by `flask enforce-retention` once older than UPLOAD_HOURS. Erasing a resident
# cannot reach these files (they hold rows not yet linked to anyone), so the short life is the answer.
UPLOAD_HOURS = 24


@dataclass
class Upload:
    token: str
    user_id: int
    filename: str
    header: list[str]
    rows: list[list[str]]

    def save(self) -> None:
        path = _dir() / f"{self.token}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"user_id": self.user_id, "filename": self.filename, "header": self.header,
                       "rows": self.rows}, fh, ensure_ascii=False)

    @classmethod
    def load(cls, token: str, user_id: int) -> "Upload | None":
        if not re.fullmatch(r"[A-Za-z0-9_-]{20,60}", token):
            return None
        path = _dir() / f"{token}.json"
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return None
        if age > UPLOAD_HOURS * 3600:
            path.unlink(missing_ok=True)
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["user_id"] != user_id:
            return None
        return cls(token=token, user_id=user_id, filename=data["filename"], header=data["header"], rows=data["rows"])

    def discard(self) -> None:
        (_dir() / f"{self.token}.json").unlink(missing_ok=True)
        (_dir() / f"{self.token}.claimed").unlink(missing_ok=True)

    def claim(self) -> bool:
        """Take the upload for importing: an atomic rename, so that of two sends of the same import
        (a double tap, or two at once) only one writes; the other finds nothing to import."""
        try:
            os.rename(_dir() / f"{self.token}.json", _dir() / f"{self.token}.claimed")
        except FileNotFoundError:
            return False
        return True

    def release(self) -> None:
        """Give a claimed upload back after a failed import, for another try."""
        os.replace(_dir() / f"{self.token}.claimed", _dir() / f"{self.token}.json")


def _dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:  # made by an older version under the default umask
        path.chmod(0o700)
    return path


def purge_uploads(hours: int = UPLOAD_HOURS) -> int:
    """Delete waiting uploads older than `hours` (run by `flask enforce-retention`); returns how many.

    This is what keeps imported notes from outliving an erasure: the files are never linked to a resident.
    """
    folder = Path(current_app.instance_path) / "imports"
    if not folder.is_dir():
        return 0
    cutoff = time.time() - hours * 3600
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # cancelled or imported meanwhile
            continue
    return removed


# --- reading a file, bounded by what it unpacks -----------------------------------------------------------
# Every limit is checked while the file streams in, and the first breach stops the reading with a message
# that says which limit and where: memory stays near the size of the upload whatever the file declares.
MAX_COLUMNS = 50
MAX_CELL = 5000  # characters; the longest field of the resident form (notes)
MAX_TEXT = 10_000_000  # characters in all cells together (shared strings can repeat one long text)
MAX_UNPACKED = 50 * 1024 * 1024  # bytes of an XLSX after unpacking, all its parts together
MAX_RATIO = 200  # unpacked / packed for a part over 1 MB; a spreadsheet's XML packs 5-20 times
MAX_PARTS = 2000
CHUNK = 64 * 1024


def parse(filename: str, data: bytes, user_id: int) -> Upload:
    """Read a CSV (UTF-8, UTF-8 with BOM, UTF-16, Windows-1250; ; , or tab) or an XLSX file."""
    if not data:
        raise ImportError_(_("Plik jest pusty."))
    table = _read_xlsx(data) if data.startswith((b"PK\x03\x04", b"PK\x05\x06")) else _read_csv(data)
    if len(table) < 2 or not any(any(r) for r in table[1:]):
        raise ImportError_(_("Plik nie zawiera wierszy z danymi (pierwszy wiersz to nagłówki kolumn)."))
    width = max(len(r) for r in table)
    names = [" ".join((clean_text(h) or "").split()) for h in table[0]]
    header = [(h or _("Kolumna %(n)d", n=i + 1)) for i, h in enumerate(names + [""] * (width - len(names)))]
    rows = [r + [""] * (width - len(r)) for r in table[1:]]
    return Upload(token=secrets.token_urlsafe(24), user_id=user_id, filename=filename[:120], header=header, rows=rows)


class _Table:
    """Rows as they stream in, refused at the first row, column, cell or total over its limit.

    An empty row takes no memory: it is filled in when a later row holds data (so rows keep their
    numbers), and trailing ones are never stored.
    """

    def __init__(self):
        self.rows: list[list] = []
        self.text = 0

    def add(self, number: int, cells: list) -> None:
        """`number` is the spreadsheet's row number (1 = the header); cells are text or ~shared-string index."""
        last = len(cells)
        while last and cells[last - 1] in ("", None):
            last -= 1
        if not last:
            return
        if number > MAX_ROWS + 1:
            raise ImportError_(_("Plik ma więcej niż %(max)d wierszy z danymi (wiersz %(row)d); jednorazowo można "
                                 "zaimportować najwyżej %(max)d. Podziel plik na części.", max=MAX_ROWS, row=number))
        if last > MAX_COLUMNS:
            first = next(i for i in range(MAX_COLUMNS, last) if cells[i] not in ("", None))
            raise ImportError_(_("Wiersz %(row)d ma dane w kolumnie %(col)s; import przyjmuje najwyżej %(max)d "
                                 "kolumn. Usuń zbędne kolumny z arkusza.", row=number, col=_letter(first),
                                 max=MAX_COLUMNS))
        row = []
        for i in range(last):
            cell = cells[i]
            if cell is None:
                cell = ""
            elif isinstance(cell, str):
                cell = cell.strip()
                self.check_cell(number, i, cell)
            row.append(cell)
        if number - 1 > len(self.rows):
            self.rows.extend([] for _n in range(number - 1 - len(self.rows)))
        self.rows.append(row)

    def check_cell(self, number: int, column: int, cell: str) -> None:
        if len(cell) > MAX_CELL:
            raise too_long(number, column)
        self.text += len(cell)
        if self.text > MAX_TEXT:
            raise ImportError_(_("Plik zawiera ponad %(max)d mln znaków tekstu (przekroczone w wierszu %(row)d); "
                                 "podziel go na mniejsze części.", max=MAX_TEXT // 1_000_000, row=number))


def too_long(number: int, column: int) -> ImportError_:
    return ImportError_(_("Komórka %(cell)s (wiersz %(row)d, kolumna %(col)s) ma ponad %(max)d znaków; tyle "
                          "najwyżej przyjmuje import.", cell=f"{_letter(column)}{number}", row=number,
                          col=_letter(column), max=MAX_CELL))


def _letter(column: int) -> str:
    """0 -> A, 26 -> AA."""
    name = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        name = chr(65 + rest) + name
    return name


# CSV --------------------------------------------------------------------------------------------------------

def _unknown_encoding() -> ImportError_:
    return ImportError_(_("Nie rozpoznano kodowania znaków pliku (obsługiwane: UTF-8, UTF-16, Windows-1250)."))


def _binary() -> ImportError_:
    return ImportError_(_("To nie wygląda na plik CSV (zawiera znaki binarne). Zapisz arkusz jako CSV albo XLSX."))


def _csv_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:4096]
    half = len(head) // 2
    if half >= 2:  # UTF-16 without a BOM: Latin text has a zero in (nearly) every other byte
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if odd >= 0.7 * half and even <= 0.05 * half:
            return "utf-16-le"
        if even >= 0.7 * half and odd <= 0.05 * half:
            return "utf-16-be"
    for encoding in ("utf-8", "cp1250"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for at in range(0, len(data), 1 << 20):
                decoder.decode(data[at:at + (1 << 20)])
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise _unknown_encoding()


def _read_csv(data: bytes) -> list[list]:
    encoding = _csv_encoding(data)
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    try:
        sample = stream.read(20_000)
    except UnicodeDecodeError as exc:
        raise _unknown_encoding() from exc
    if "\x00" in sample:
        raise _binary()
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    stream.seek(0)
    table = _Table()
    record = [0, 1]  # characters of the record being read, and its row number
    limit = MAX_COLUMNS * (MAX_CELL + 3)

    def lines():
        for line in stream:
            record[0] += len(line)
            if "\x00" in line:
                raise _binary()
            if record[0] > limit:  # a record this long breaks the column or the cell limit: say which
                probe = next(csv.reader([line[:limit]], delimiter=delimiter), [])
                if len(probe) > MAX_COLUMNS:
                    table.add(record[1], probe)
                raise too_long(record[1], max(len(probe) - 1, 0))
            yield line

    try:
        for row in csv.reader(lines(), delimiter=delimiter):
            table.add(record[1], row)
            record[0], record[1] = 0, record[1] + 1
    except csv.Error as exc:  # a field over csv's own limit, or a broken quote
        if "field larger" in str(exc):
            raise too_long(record[1], 0) from exc
        raise ImportError_(_("Wiersz %(row)d pliku CSV jest nieczytelny (np. niezamknięty cudzysłów).",
                             row=record[1])) from exc
    except UnicodeDecodeError as exc:
        raise _unknown_encoding() from exc
    return table.rows


# XLSX -------------------------------------------------------------------------------------------------------
# The sheet's XML is read from the zip in chunks and parsed by expat as it comes: no tree, no workbook
# object, the declared <dimension> ignored (openpyxl's read-only mode trusts it and loses rows). A cell's
# text is counted while it arrives, so one huge cell is refused at MAX_CELL characters, not after it was built.

_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")  # how OOXML writes control characters: _x000D_
_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d*)")
_DATE_FORMAT_IDS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47}


def _unreadable() -> ImportError_:
    return ImportError_(_("Nie udało się odczytać pliku XLSX. Sprawdź, czy to arkusz Excel/LibreOffice."))


def _read_xlsx(data: bytes) -> list[list]:
    try:
        _check_directory(data)
        archive = zipfile.ZipFile(io.BytesIO(data))
        return _XlsxReader(archive).table()
    except ImportError_:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, EOFError, OSError, RuntimeError,
            NotImplementedError, zlib.error, pyexpat.ExpatError) as exc:
        raise _unreadable() from exc


def _check_directory(data: bytes) -> None:
    """Refuse a zip of thousands of parts before zipfile builds an object for each of them."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        raise _unreadable()
    parts = int.from_bytes(data[end + 10:end + 12], "little")
    if parts > MAX_PARTS:
        raise _too_many_parts(parts)


def _too_many_parts(n: int) -> ImportError_:
    return ImportError_(_("Plik XLSX ma podejrzanie wiele części (%(n)d); import go odrzuca.", n=n))


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


class _XlsxReader:
    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.unpacked = 0
        infos = archive.infolist()
        if len(infos) > MAX_PARTS:
            raise _too_many_parts(len(infos))
        declared = 0
        for info in infos:  # what the zip declares, before anything is unpacked
            declared += info.file_size
            if declared > MAX_UNPACKED:
                raise self.too_big(info.filename)
            if info.file_size > 1 << 20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise ImportError_(_("Plik XLSX jest podejrzanie silnie skompresowany (część %(part)s: %(ratio)d:1); "
                                     "import go odrzuca. Zapisz arkusz ponownie albo jako CSV.",
                                     part=info.filename[:80], ratio=info.file_size // max(info.compress_size, 1)))
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _unreadable()
        self.names = {info.filename for info in infos}

    @staticmethod
    def too_big(part: str) -> ImportError_:
        return ImportError_(_("Plik XLSX po rozpakowaniu ma ponad %(max)d MB (część %(part)s); import przyjmuje "
                              "najwyżej tyle. Podziel arkusz albo zapisz go jako CSV.",
                              max=MAX_UNPACKED // (1 << 20), part=part[:80]))

    def stream(self, name: str, handler: "_Handler") -> None:
        """Feed one part to expat chunk by chunk, counting what it unpacks; stop when the handler is done."""
        parser = pyexpat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = False
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.text

        def no_doctype(*_args):
            raise _unreadable()  # no DTD, no entities: a spreadsheet never needs them

        parser.StartDoctypeDeclHandler = no_doctype
        parser.EntityDeclHandler = no_doctype
        fed = 0
        with self.archive.open(name) as fh:
            while not handler.done:
                chunk = fh.read(CHUNK)
                if not chunk:
                    parser.Parse(b"", True)
                    break
                self.unpacked += len(chunk)  # what it really unpacks, whatever it declared
                if self.unpacked > MAX_UNPACKED:
                    raise self.too_big(name)
                parser.Parse(chunk, False)
                fed += len(chunk)
                # expat holds a start tag, a comment or an attribute whole: one that runs on for a
                # megabyte past the last event it reported is not a spreadsheet
                if fed - parser.CurrentByteIndex > 1 << 20:
                    raise _unreadable()

    def part(self, name: str | None) -> str | None:
        return name if name and name in self.names else None

    def table(self) -> list[list]:
        rels = _Relations()
        if self.part("_rels/.rels"):
            self.stream("_rels/.rels", rels)
        workbook = self.part(rels.target("officeDocument", "")) or self.part("xl/workbook.xml")
        if workbook is None:
            raise _unreadable()
        folder = posixpath.dirname(workbook)
        book = _Workbook()
        self.stream(workbook, book)
        rels = _Relations()
        if name := self.part(posixpath.join(folder, "_rels", posixpath.basename(workbook) + ".rels")):
            self.stream(name, rels)
        sheet = (self.part(rels.path(book.first_sheet, folder)) if book.first_sheet in rels.by_id else None) \
            or self.part(posixpath.join(folder, "worksheets/sheet1.xml"))
        if sheet is None:
            raise _unreadable()
        styles = _Styles()
        if name := self.part(rels.target("styles", folder)) or self.part(posixpath.join(folder, "styles.xml")):
            self.stream(name, styles)
        table = _Table()
        reader = _Sheet(table, styles.date_styles(), book.date1904)
        self.stream(sheet, reader)
        if reader.shared:
            strings = _SharedStrings(reader.shared)
            if name := self.part(rels.target("sharedStrings", folder)) \
                    or self.part(posixpath.join(folder, "sharedStrings.xml")):
                self.stream(name, strings)
            for number, row in enumerate(table.rows, start=1):
                for i, cell in enumerate(row):
                    if isinstance(cell, int):
                        text = strings.found.get(~cell, "")
                        if text is None:
                            raise too_long(number, i)
                        text = text.strip()
                        table.check_cell(number, i, text)
                        row[i] = text
        return table.rows


_LOCAL: dict[str, str] = {}


def _local(name: str) -> str:
    """'http://...spreadsheetml/2006/main c' -> 'c' (a handful of names, so remembered)."""
    local = _LOCAL.get(name)
    if local is None:
        local = name.rpartition(" ")[2]
        if len(_LOCAL) < 500:
            _LOCAL[name] = local
    return local


class _Handler:
    """expat callbacks for one part; `done` stops the reading early."""
    done = False

    def start(self, name, attrs):
        pass

    def end(self, name):
        pass

    def text(self, data):
        pass


class _Relations(_Handler):
    def __init__(self):
        self.by_id: dict[str, tuple[str, str]] = {}

    def start(self, name, attrs):
        if _local(name) == "Relationship" and len(self.by_id) < MAX_PARTS:
            self.by_id[attrs.get("Id", "")] = (attrs.get("Type", ""), attrs.get("Target", ""))

    def path(self, rid: str, folder: str) -> str:
        target = self.by_id.get(rid, ("", ""))[1]
        if target.startswith("/"):
            return posixpath.normpath(target.lstrip("/"))
        return posixpath.normpath(posixpath.join(folder, target))

    def target(self, kind: str, folder: str) -> str | None:
        for rid, (rel_type, _target) in self.by_id.items():
            if rel_type.rsplit("/", 1)[-1] == kind:
                return self.path(rid, folder)
        return None


class _Workbook(_Handler):
    def __init__(self):
        self.first_sheet = ""
        self.date1904 = False

    def start(self, name, attrs):
        local = _local(name)
        if local == "workbookPr":
            self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")
        elif local == "sheet" and not self.first_sheet:
            self.first_sheet = next((v for k, v in attrs.items() if " " in k and _local(k) == "id"), "")
            self.done = True


class _Styles(_Handler):
    def __init__(self):
        self.formats: dict[int, str] = {}
        self.xfs: list[int] = []
        self.in_cell_xfs = False

    def start(self, name, attrs):
        local = _local(name)
        if local == "numFmt":
            fmt = attrs.get("numFmtId", "")
            if fmt.isascii() and fmt.isdigit() and len(self.formats) < 1000:
                self.formats[int(fmt)] = attrs.get("formatCode", "")[:200]
        elif local == "cellXfs":
            self.in_cell_xfs = True
        elif local == "xf" and self.in_cell_xfs:
            fmt = attrs.get("numFmtId", "0")
            self.xfs.append(int(fmt) if fmt.isascii() and fmt.isdigit() else 0)

    def end(self, name):
        if _local(name) == "cellXfs":
            self.in_cell_xfs = False
            self.done = True

    def date_styles(self) -> set[int]:
        from openpyxl.styles.numbers import is_date_format

        return {index for index, fmt in enumerate(self.xfs)
                if fmt in _DATE_FORMAT_IDS or (fmt in self.formats and is_date_format(self.formats[fmt]))}


class _Sheet(_Handler):
    """The rows of <sheetData>, cell by cell; shared strings stay ~index until they are read."""

    def __init__(self, table: _Table, date_styles: set[int], date1904: bool):
        self.table = table
        self.date_styles = date_styles
        self.epoch = datetime(1904, 1, 1) if date1904 else None
        self.shared: set[int] = set()
        self.row_number = 0
        self.cells: list = []
        self.cell: tuple | None = None  # type, style, column of the cell being read
        self.parts: list[str] = []
        self.length = 0
        self.collect = False
        self.inline = False
        self.phonetic = False

    def start(self, name, attrs):
        local = _local(name)
        if local == "c":
            column = len(self.cells)
            if ref := attrs.get("r"):
                m = _CELL_REF.fullmatch(ref)
                if not m:
                    raise _unreadable()
                column = _column_index(m.group(1))
            self.cell = (attrs.get("t", "n"), attrs.get("s", ""), min(column, MAX_COLUMNS + 1))
            self.parts, self.length = [], 0
        elif self.cell is None:
            if local == "row":
                ref = attrs.get("r", "")
                self.row_number = int(ref) if ref.isascii() and ref.isdigit() else self.row_number + 1
                self.cells = []
        elif local == "v" or (local == "t" and self.inline and not self.phonetic):
            self.collect = True
        elif local == "is":
            self.inline = True
        elif local == "rPh":
            self.phonetic = True

    def text(self, data):
        if self.collect:
            self.length += len(data)
            if self.length > MAX_CELL:
                self.refuse_column(self.cell[2])
                raise too_long(self.row_number, self.cell[2])
            self.parts.append(data)

    def refuse_column(self, column: int) -> None:
        if column >= MAX_COLUMNS:  # the column limit is the one to name
            self.table.add(self.row_number, [""] * column + ["x"])

    def end(self, name):
        local = _local(name)
        if local in ("v", "t"):
            self.collect = False
        elif local == "is":
            self.inline = False
        elif local == "rPh":
            self.phonetic = False
        elif local == "c" and self.cell is not None:
            value = self.value("".join(self.parts))
            column = self.cell[2]
            self.cell = None
            if value != "":
                self.refuse_column(column)
                if column >= len(self.cells):
                    self.cells.extend([""] * (column + 1 - len(self.cells)))
                self.cells[column] = value
        elif local == "row":
            self.table.add(self.row_number, self.cells)
            self.cells = []
        elif local == "sheetData":
            self.done = True

    def value(self, text: str):
        kind, style, _column = self.cell
        if kind == "s":
            text = text.strip()
            if not (text.isascii() and text.isdigit()):
                return ""
            index = int(text)
            self.shared.add(index)
            return ~index
        if kind in ("inlineStr", "str", "e"):
            return _unescape(text)
        if kind == "b":
            return {"1": "TRUE", "0": "FALSE"}.get(text.strip(), "")
        if kind == "d":
            day, _t, clock = text.strip().partition("T")
            return day if clock.strip("0:.Z") == "" else f"{day} {clock[:5]}"
        try:
            number = float(text)
        except ValueError:
            return text
        if style.isascii() and style.isdigit() and int(style) in self.date_styles:
            when = excel_date(number, self.epoch)
            if when is not None:
                return when.strftime("%Y-%m-%d") if when.time() == datetime.min.time() \
                    else when.strftime("%Y-%m-%d %H:%M")
        if number.is_integer() and abs(number) < 1e16:
            return str(int(number))
        return str(number)


class _SharedStrings(_Handler):
    """Only the strings the sheet refers to; one over MAX_CELL is kept as None (refused where it is used)."""

    def __init__(self, wanted: set[int]):
        self.wanted = wanted
        self.last = max(wanted)
        self.found: dict[int, str | None] = {}
        self.index = -1
        self.parts: list[str] = []
        self.length = 0
        self.collect = False
        self.phonetic = False

    def start(self, name, attrs):
        local = _local(name)
        if local == "si":
            self.index += 1
            self.parts, self.length = [], 0
        elif local == "t" and not self.phonetic and self.index in self.wanted:
            self.collect = True
        elif local == "rPh":
            self.phonetic = True

    def text(self, data):
        if self.collect:
            self.length += len(data)
            if self.length <= MAX_CELL:
                self.parts.append(data)

    def end(self, name):
        local = _local(name)
        if local == "t":
            self.collect = False
        elif local == "rPh":
            self.phonetic = False
        elif local == "si" and self.index in self.wanted:
            self.found[self.index] = _unescape("".join(self.parts)) if self.length <= MAX_CELL else None
            self.parts = []
            if self.index >= self.last:
                self.done = True


def _column_index(letters: str) -> int:
    """'A' -> 0, 'AA' -> 26."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


def excel_date(serial: float, epoch: datetime | None = None) -> datetime | None:
    """An Excel serial number as a date and time, or None outside 1900-2100 (Excel's 1900 leap-year bug kept)."""
    from openpyxl.utils.datetime import from_excel

    if serial != serial or not 0 < serial < 2_958_466:  # NaN, or outside Excel's own calendar
        return None
    try:
        when = from_excel(serial, epoch=epoch) if epoch else from_excel(serial)
    except (ValueError, OverflowError):
        return None
    if not isinstance(when, datetime) or not 1900 <= when.year <= 2100:
        return None
    return when.replace(microsecond=0)


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
    sensitive: dict[int, list[str]] = field(default_factory=dict)  # row number -> special categories (art. 9)

    @property
    def by_row(self) -> dict[int, dict]:
        return {r["_n"]: r for r in self.rows}


_DMY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
_SERIAL = re.compile(r"\d{4,5}(?:[.,]\d+)?")


def parse_date(raw: str) -> date | None:
    """12.03.2024, 2024-03-12 and the like, or an Excel serial number (45000 is 15.03.2023)."""
    raw = raw.strip()
    if m := _DMY.fullmatch(raw):  # the usual Polish 12.03.2024, without strptime's cost
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if _SERIAL.fullmatch(raw) and float(raw.replace(",", ".")) > 2100:  # a bare year is not a serial number
        when = excel_date(float(raw.replace(",", ".")))
        if when is None:
            raise ValueError(raw)
        return when.date()
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


def _shown(value: str) -> str:
    """A value quoted in a problem: short, on one line, without control characters."""
    value = " ".join(clean_text(value).split())
    return value if len(value) <= 60 else value[:59] + "…"


def validate(upload: Upload, mapping: dict[int, str], user, default_hood_id: int | None) -> Checked:
    """Check every row; nothing is written. Problems name the row and the column, in Polish.

    Every text goes through the same cleaners and length limits as the resident form (models.text), and
    notes through the same PESEL and special-category (RODO art. 9) checks.
    """
    from app.people import neighbourhoods_for

    allowed = {n.id: n for n in neighbourhoods_for(user)}
    by_name = {}
    for n in allowed.values():
        by_name[" ".join(words(n.name))] = n.id
        by_name[n.slug.replace("-", " ")] = n.id
    column_of = {fld: i for i, fld in mapping.items()}
    label = lambda fld: upload.header[column_of[fld]] if fld in column_of else "—"  # noqa: E731
    existing = _existing_keys(user)
    seen_in_file: dict[str, int] = {}
    checked = Checked()
    for n, raw in enumerate(upload.rows, start=2):
        if not any(raw):
            continue
        problems: list[Problem] = []

        def get(fld: str, limit: int | None = None) -> str:
            """The cell of `fld` as a clean single line; a control character or an excess is a problem."""
            if fld not in column_of:
                return ""
            value = raw[column_of[fld]]
            try:
                value = clean_line(value) or ""
            except ControlCharacterError:
                problems.append(Problem(n, label(fld), _("niedozwolony znak sterujący (tabulator, nowa linia lub inny "
                                                         "niewidoczny znak) w „%(v)s”", v=_shown(value))))
                return ""
            if limit and len(value) > limit:
                problems.append(Problem(n, label(fld), _("za długie: %(n)d znaków, najwyżej %(max)d",
                                                         n=len(value), max=limit)))
            return value

        row: dict = {}
        first, last = get("first_name", LIMITS["first_name"]), get("last_name", LIMITS["last_name"])
        if "full_name" in column_of and not (first or last):
            parts = get("full_name").split()
            first, last = (parts[0], " ".join(parts[1:])) if len(parts) > 1 else (" ".join(parts), "")
            for part, fld in ((first, "first_name"), (last, "last_name")):
                if len(part) > LIMITS[fld]:
                    problems.append(Problem(n, label("full_name"), _("za długie: %(n)d znaków, najwyżej %(max)d",
                                                                     n=len(part), max=LIMITS[fld])))
        row.update(first_name=first or None, last_name=last or None,
                   description=get("description", LIMITS["description"]) or None)
        if not (row["first_name"] or row["last_name"] or row["description"]):
            col = "first_name" if "first_name" in column_of else "full_name" if "full_name" in column_of else None
            problems.append(Problem(n, label(col) if col else "—", _("brak imienia, nazwiska i opisu osoby")))
        phone = get("phone", LIMITS["phone"])
        try:
            row["phone"] = normalise_phone(phone)
        except ValueError:
            problems.append(Problem(n, label("phone"), _("niepoprawny numer telefonu „%(v)s”", v=_shown(phone))))
        email = get("email", LIMITS["email"]).lower()
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", email):
            problems.append(Problem(n, label("email"), _("niepoprawny adres e-mail „%(v)s”", v=_shown(email))))
        row["email"] = email or None
        hood_raw = get("neighbourhood")
        if hood_raw:
            hood = by_name.get(" ".join(words(hood_raw)))
            if hood is None:
                problems.append(Problem(n, label("neighbourhood"),
                                        _("nieznane osiedle albo poza Twoim zakresem „%(v)s”", v=_shown(hood_raw))))
            row["neighbourhood_id"] = hood
        else:
            row["neighbourhood_id"] = default_hood_id
            if default_hood_id is None:
                problems.append(Problem(n, label("neighbourhood"), _("brak osiedla (wybierz osiedle domyślne)")))
        age = get("age_group")
        try:
            row["age_group"] = _age_group(age)
        except ValueError:
            problems.append(Problem(n, label("age_group"), _("nie rozpoznano grupy wiekowej „%(v)s”", v=_shown(age))))
        created = get("created")
        try:
            row["created"] = parse_date(created) if created else None
        except ValueError:
            row["created"] = None
            problems.append(Problem(n, label("created"), _("nie rozpoznano daty „%(v)s” (np. 12.03.2024)",
                                                           v=_shown(created))))
        if row["created"] and not 1900 <= row["created"].year <= 2100:
            problems.append(Problem(n, label("created"), _("data spoza lat 1900–2100 „%(v)s”", v=_shown(created))))
        elif row["created"] and row["created"] > date.today():
            problems.append(Problem(n, label("created"), _("data z przyszłości")))
        notes = clean_text(raw[column_of["notes"]]) if "notes" in column_of else ""
        if len(notes) > LIMITS["notes"]:
            problems.append(Problem(n, label("notes"), _("za długie: %(n)d znaków, najwyżej %(max)d",
                                                         n=len(notes), max=LIMITS["notes"])))
        if pesel_numbers(notes):
            problems.append(Problem(n, label("notes"), _("notatka zawiera numer PESEL")))
        if found := sensitive_categories(notes):
            checked.sensitive[n] = [str(SENSITIVE_LABELS[c]) for c in found]
        tags = {}
        for fld in ("interests", "offers"):
            tags[fld] = parse_tags(get(fld, LIMITS[fld]))
            if len(tags[fld]) > MAX_TAGS:
                problems.append(Problem(n, label(fld), _("najwyżej %(max)d tagów (jest %(n)d)", max=MAX_TAGS,
                                                         n=len(tags[fld]))))
        row.update(street=get("street", LIMITS["street"]) or None, building=get("building", LIMITS["building"]) or None,
                   notes=notes or None, interests=tags["interests"], offers=tags["offers"])
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
    if not residents:  # every row a skipped duplicate: an empty executemany would be one bare INSERT
        return 0
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
