"""The city's view (`/city`): the programme's figures per centre and per osiedle for any period, a map
of the osiedla coloured by one of them, and the two tables as CSV or XLSX.

For the city officer (and admins). Only numbers, centres, osiedla and stages ever reach these
responses: models/figures.py counts and sums in SQL and returns no row of a person, a group or a
meeting, so no name, phone, e-mail, address or note can end up on the page or in a download.
"""
from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user

from app import citymap
from app.exports import csv_response, xlsx_response
from app.forms.groups import STAGE_LABELS
from app.htmx import render
from app.params import BadParameter
from app.periods import period_from_args, presets
from app.sessions import client_ip, roles_required
from app.timeutil import today_local
from models import Role, db, record_audit, utcnow
from models.figures import city, measure_value

bp = Blueprint("city", __name__, url_prefix="/city")

VIEWERS = (Role.city.value, Role.admin.value)
DEFAULT_MEASURE = "reached"
TABLES = ("centres", "osiedla")


def columns() -> list[tuple[str, str]]:
    """(measure, label) of the tables and downloads, in order; the first ones can colour the map."""
    return [
        ("reached", _("Unikalne osoby")),
        ("reached_all", _("Osoby łącznie z bezimiennymi")),
        ("contacts", _("Kontakty")),
        ("meetings", _("Spotkania")),
        ("attendance", _("Obecności imienne")),
        ("unnamed", _("Osoby bez nazwiska na spotkaniach")),
        ("new_residents", _("Nowi mieszkańcy")),
        ("groups", _("Grupy (na koniec okresu)")),
        ("stage_moves", _("Zmiany etapu")),
        ("commitments_made", _("Zobowiązania podjęte")),
        ("commitments_kept", _("Zobowiązania dotrzymane")),
        ("hours", _("Godziny wolontariatu")),
        ("overdue", _("Zobowiązania zaległe (teraz)")),
    ]


def _measure(cols) -> str:
    measure = request.args.get("measure") or DEFAULT_MEASURE
    if measure not in dict(cols):
        raise BadParameter(description=_("Parametr „measure” ma nieznaną wartość: wybierz miarę z listy."))
    return measure


def _table_arg() -> str:
    table = request.args.get("table") or TABLES[0]
    if table not in TABLES:
        raise BadParameter(description=_("Parametr „table” musi mieć wartość „centres” albo „osiedla”."))
    return table


@bp.route("")
@roles_required(*VIEWERS)
def index():
    """Figures per centre and per osiedle for the chosen period, and the map."""
    today = today_local()
    period = period_from_args(today)
    cols = columns()
    measure = _measure(cols)
    figures = city(period, utcnow(), today)
    measure_label = dict(cols)[measure]
    picture = citymap.choropleth({p.slug: measure_value(p.figures, measure) for p in figures.osiedla}, measure_label)
    args = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    quick = [{"label": text, "args": {"from": start.isoformat(), "to": end.isoformat(), "measure": measure},
              "current": (start, end) == (period.start, period.end)} for _code, text, start, end in presets(today)]
    return render("city/index.html", figures=figures, period=period, cols=cols, measure=measure,
                  measure_label=measure_label, picture=picture, args=args, quick=quick,
                  stages=[(k, str(v)) for k, v in STAGE_LABELS], attribution=citymap.ATTRIBUTION,
                  attribution_url=citymap.ATTRIBUTION_URL)


@bp.route("/export.<fmt>")
@roles_required(*VIEWERS)
def export(fmt: str):
    """One of the two tables (`table=centres` or `osiedla`) for the period, as CSV or XLSX (audited)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    today = today_local()
    period = period_from_args(today)
    table = _table_arg()
    figures = city(period, utcnow(), today)
    cols = columns()
    stages = [(k, str(v)) for k, v in STAGE_LABELS]
    places = figures.centres if table == "centres" else figures.osiedla
    first = _("Centrum") if table == "centres" else _("Osiedle")
    header = ([first] + ([_("Rodzaj"), _("Osiedle centrum")] if table == "centres" else [])
              + [text for _m, text in cols] + [_("Grupy: %(stage)s", stage=name) for _s, name in stages])
    kinds = {"neighbourhood": _("CIL Sąsiedzki"), "regranting": _("CIL Regrantingowy")}

    def row(name, f, extra=()):
        return ([name, *extra] + [measure_value(f, m) for m, _text in cols]
                + [f.stages.get(s, 0) for s, _name in stages])

    rows = []
    for p in places:
        extra = (kinds.get(p.kind, p.kind), p.osiedle or _("całe miasto")) if table == "centres" else ()
        rows.append(row(p.name, p.figures, extra))
    rows.append(row(_("Cały program"), figures.total, ("", "") if table == "centres" else ()))
    record_audit("export", user_id=current_user.id, object_type="city_figures", ip=client_ip(), format=fmt,
                 table=table, start=period.start.isoformat(), end=period.end.isoformat())
    db.session.commit()
    name = f"cil-{'centra' if table == 'centres' else 'osiedla'}-{period.start.isoformat()}-{period.end.isoformat()}"
    if fmt == "csv":
        return csv_response(f"{name}.csv", header, rows)
    title = _("Centra") if table == "centres" else _("Osiedla")
    return xlsx_response(f"{name}.xlsx", header, rows, title=title)
