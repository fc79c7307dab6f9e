"""Importing residents from a spreadsheet: upload, map columns, check every row, import all or nothing."""
from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.htmx import render
from app import importer
from app.importer import FIELDS, ImportError_, Upload, commit, guess_mapping, parse, validate
from app.params import parse_id
from app.people import neighbourhood_choices
from app.sessions import client_ip, roles_required
from models import Role, db
from models.text import clean_out

bp = Blueprint("imports", __name__, url_prefix="/residents/import")

FIELD_WORKERS = (Role.animator.value, Role.coordinator.value)


@bp.route("", methods=["GET", "POST"])
@roles_required(*FIELD_WORKERS)
def upload():
    """Step 1: choose a CSV or XLSX file."""
    if request.method == "POST":
        file = request.files.get("file")
        if file is None or not file.filename:
            return _upload_page(error=_("Wybierz plik CSV albo XLSX."), status=422)
        try:
            parsed = parse(file.filename, file.read(), current_user.id)
        except ImportError_ as exc:
            return _upload_page(error=str(exc), status=422)
        parsed.save()
        return redirect(url_for("imports.mapping", token=parsed.token), 303)
    return _upload_page()


def _upload_page(error=None, status=200):
    limits = SimpleNamespace(rows=importer.MAX_ROWS, columns=importer.MAX_COLUMNS, cell=importer.MAX_CELL)
    return render("imports/upload.html", error=error, limits=limits, status=status)


def _upload_or_404(token: str) -> Upload:
    found = Upload.load(token, current_user.id)
    if found is None:
        abort(404)
    return found


@bp.route("/<token>", methods=["GET", "POST"])
@roles_required(*FIELD_WORKERS)
def mapping(token: str):
    """Step 2 and 3: map columns, check every row (nothing written), then import in one transaction."""
    up = _upload_or_404(token)
    hoods = neighbourhood_choices(current_user)
    if request.method == "GET":
        return _mapping_page(up, guess_mapping(up.header), hoods[0][0] if len(hoods) == 1 else None)
    chosen = {}
    for i in range(len(up.header)):
        field = request.form.get(f"col{i}", "")
        if field in FIELDS and field not in chosen.values():
            chosen[i] = field
    default_hood = request.form.get("neighbourhood", type=parse_id)
    if default_hood not in {h for h, _n in hoods}:
        default_hood = None
    checked = validate(up, chosen, current_user, default_hood)
    skip = {n for n in checked.duplicates if request.form.get(f"dup{n}") != "import"}
    confirmed = bool(request.form.get("confirm_sensitive"))
    if checked.problems or request.form.get("action") != "import":
        status = 422 if checked.problems else 200
        return _mapping_page(up, chosen, default_hood, checked=checked, skip=skip, confirmed=confirmed, status=status)
    if checked.sensitive and not confirmed:  # the resident form's art. 9 check, once for the whole file
        return _mapping_page(up, chosen, default_hood, checked=checked, skip=skip, status=422,
                             sensitive_error=_("Potwierdź, że notatki z danymi szczególnej kategorii są potrzebne "
                                               "i osoby o nich wiedzą, albo popraw je w arkuszu. Nic nie zostało "
                                               "zapisane."))
    if not up.claim():  # the same import sent twice: the first send writes, this one writes nothing
        flash(_("Ten plik został już zaimportowany."), "success")
        return redirect(url_for("residents.index"), 303)
    try:
        count = commit(checked, current_user, skip, client_ip())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        up.release()
        raise
    up.discard()
    return render("imports/done.html", count=count, skipped=len(skip))


@bp.route("/<token>/cancel", methods=["POST"])
@roles_required(*FIELD_WORKERS)
def cancel(token: str):
    """Drop a waiting upload: its rows (notes included) are deleted from the server at once."""
    _upload_or_404(token).discard()
    flash(_("Import anulowany; wczytany plik został usunięty z serwera."), "success")
    return redirect(url_for("imports.upload"), 303)


def _mapping_page(up: Upload, chosen: dict, default_hood, checked=None, skip=(), status=200, confirmed=False,
                  sensitive_error=None):
    return render("imports/mapping.html", up=up, chosen=chosen, fields=FIELDS, hoods=neighbourhood_choices(current_user),
                  default_hood=default_hood, checked=checked, skip=skip, preview=[[clean_out(c) for c in row] for row in up.rows[:8]],
                  status=status,
                  confirmed=confirmed, sensitive_error=sensitive_error)
