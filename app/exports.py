"""Downloads of lists as CSV and XLSX: streamed with bounded memory, safe against formula injection.

A spreadsheet program runs a cell that starts with = + - @ (or a tab or carriage return) as a
formula; such cells are prefixed with an apostrophe, which spreadsheets show as plain text.
"""
import csv
import io
import os
import tempfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from flask import Response, stream_with_context

from app.timeutil import utc_to_local

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK_ROWS = 500


def safe_cell(value):
    """A value ready for a spreadsheet cell: dates local, text defused."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return utc_to_local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


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

    return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                    headers=_attachment(filename))


def xlsx_response(filename: str, header: list[str], rows: Iterable[Iterable], title: str = "Animo") -> Response:
    """XLSX written row by row (openpyxl's write-only mode) to a temporary file, then streamed."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append([safe_cell(h) for h in header])
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    wb.save(path)

    def generate():
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(64 * 1024):
                    yield chunk
        finally:
            os.unlink(path)

    return Response(generate(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers=_attachment(filename))


class Heading(list):
    """A row of a sectioned download (a report) that starts a section: bold in XLSX, plain in CSV."""


def xlsx_sections_response(filename: str, rows: Iterable[Iterable], title: str = "Animo",
                           widths: Iterable[int] = ()) -> Response:
    """One sheet of sections (a report), written row by row in write-only mode to a temporary file
    and streamed; rows that are `Heading`s are bold. Every cell goes through `safe_cell`."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    bold = Font(bold=True)
    for row in rows:
        values = [safe_cell(v) for v in row]
        if isinstance(row, Heading):
            cells = []
            for v in values:
                cell = WriteOnlyCell(ws, value=v)
                cell.font = bold
                cells.append(cell)
            ws.append(cells)
        else:
            ws.append(values)
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    wb.save(path)

    def generate():
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(64 * 1024):
                    yield chunk
        finally:
            os.unlink(path)

    return Response(generate(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers=_attachment(filename))
