"""Downloads of lists as CSV and XLSX: streamed with bounded memory, safe against formula injection.

Every cell goes through `cell_value`: dates local, text cleaned on the way out (models.text.clean_out),
so a control character stored before the input layer existed never breaks a download.

A spreadsheet program runs a CSV cell that starts with = + - @ (or a tab or carriage return) as a
formula; such CSV cells are prefixed with an apostrophe, which spreadsheets show as plain text. In
XLSX a text cell is written as a string cell (never a formula), so the text stays exactly as it is:
a phone is '+48601234567', not "'+48601234567". Every XLSX of the application is written by
`XlsxWriter`.
"""
import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from flask import Response, stream_with_context

from app.timeutil import utc_to_local
from models.text import clean_out

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK_ROWS = 500
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_NOT_XML = re.compile("[\ufffe\uffff\ud800-\udfff]")  # no XML 1.0 document may hold these


def cell_value(value):
    """A value ready for a cell of any download: dates local, numbers as numbers, text cleaned."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return utc_to_local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    return _NOT_XML.sub("", clean_out(str(value)))


def safe_cell(value):
    """A CSV cell: `cell_value`, and text that a spreadsheet would run as a formula defused."""
    value = cell_value(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"}


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    """CSV (UTF-8 with BOM, so that Excel shows Polish letters; semicolons, as Polish Excel expects)."""

    def generate():
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";")
        buf.write("\ufeff")
        writer.writerow([safe_cell(h) for h in header])
        for n, row in enumerate(rows, 1):
            writer.writerow([safe_cell(v) for v in row])
            if n % CSV_CHUNK_ROWS == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    # content_type, not mimetype: Flask adds "; charset=utf-8" to a text mimetype, which said it twice
    return Response(stream_with_context(generate()), content_type="text/csv; charset=utf-8",
                    headers=_attachment(filename))


class XlsxSheet:
    """One sheet of an `XlsxWriter`: rows appended in order (write-only mode: bounded memory)."""

    def __init__(self, ws):
        self.ws = ws

    def append(self, values: Iterable, bold: bool = False) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for v in values:
            cell = WriteOnlyCell(self.ws, value=cell_value(v))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text is text: '=1+1' and '+48…' are not formulas in XLSX
            if bold:
                cell.font = _bold()
            cells.append(cell)
        self.ws.append(cells)


def _bold():
    from openpyxl.styles import Font

    return Font(bold=True)


class XlsxWriter:
    """The one XLSX writer: sheets of cleaned cells, saved to a temporary file and streamed."""

    def __init__(self):
        from openpyxl import Workbook

        self.wb = Workbook(write_only=True)

    def sheet(self, title: str, widths: Iterable[int] = ()) -> XlsxSheet:
        from openpyxl.utils import get_column_letter

        ws = self.wb.create_sheet(title=_sheet_title(title))
        for i, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        return XlsxSheet(ws)

    def response(self, filename: str) -> Response:
        fd, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(fd)
        try:
            self.wb.save(path)
        except Exception:
            os.unlink(path)
            raise

        def generate():
            try:
                with open(path, "rb") as fh:
                    while chunk := fh.read(64 * 1024):
                        yield chunk
            finally:
                os.unlink(path)

        return Response(generate(), mimetype=XLSX_MIMETYPE, headers=_attachment(filename))


def _sheet_title(title: str) -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters."""
    return re.sub(r"[\[\]:*?/\\]", " ", cell_value(str(title)))[:31] or "Animo"


def xlsx_response(filename: str, header: list[str], rows: Iterable[Iterable], title: str = "Animo") -> Response:
    """A list as XLSX: a header row and the rows."""
    writer = XlsxWriter()
    ws = writer.sheet(title)
    ws.append(header)
    for row in rows:
        ws.append(row)
    return writer.response(filename)


class Heading(list):
    """A row of a sectioned download (a report) that starts a section: bold in XLSX, plain in CSV."""


def xlsx_sections_response(filename: str, rows: Iterable[Iterable], title: str = "Animo",
                           widths: Iterable[int] = ()) -> Response:
    """One sheet of sections (a report); rows that are `Heading`s are bold."""
    writer = XlsxWriter()
    ws = writer.sheet(title, widths)
    for row in rows:
        ws.append(row, bold=isinstance(row, Heading))
    return writer.response(filename)
