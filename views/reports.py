"""The report for the city (`/reports`): a centre and a period, as tables on a printable page and as
XLSX and CSV downloads. What each figure means is defined in `models/reports.py`.

Who may produce which report (the scope is applied in SQL by `centre_report`):
- a coordinator: their own centre; another centre's id is a 404;
- an animator: their own centre, restricted to the osiedla assigned to them (the report says
  "zakres: Twoje osiedla"); the micro-grant section, which belongs to the whole centre, is left out;
- the city and admins: any centre, aggregates only: no group is named (partners are institutions,
  not people, and stay named);
- reviewers: no (403).

The page, the XLSX and the CSV are made from the same list of sections, so they cannot disagree.
Downloads are audited ("report_exported"). A PDF is the browser's print to PDF: the page has a
print stylesheet for a clean A4 printout.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import Blueprint, abort, g, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.exports import Heading, csv_response, xlsx_sections_response
from app.htmx import render
from app.labels import label
from app.params import date_arg, int_arg
from app.sessions import client_ip, roles_required
from app.templating import fmt_date
from app.timeutil import today_local
from models import Centre, Role, db, record_audit, utcnow
from models.reports import MAX_PERIOD_DAYS, centre_report

bp = Blueprint("reports", __name__, url_prefix="/reports")

ROLES = (Role.animator.value, Role.coordinator.value, Role.city.value, Role.admin.value)
OWN_CENTRE_ROLES = (Role.animator.value, Role.coordinator.value)
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


class Money(Decimal):
    """An amount in złoty: shown as '4 000,00 zł', written to spreadsheets as a number."""


@dataclass
class Section:
    """One table of the report: its title, column headings and rows (a label, then values)."""
    key: str
    title: str
    columns: list
    rows: list
    note: str | None = None
    total: list | None = None  # the closing "Razem" row, if any
    facts: bool = False  # a two-column list of figures rather than a table with headings


@dataclass
class Request:
    """What the form asked for, and what is wrong with it (Polish messages by field)."""
    centre_id: int | None
    start: date
    end: date
    errors: dict = field(default_factory=dict)
    asked: bool = False  # the form was sent (any parameter present)


# --- the form -----------------------------------------------------------------------------------

def _own_centre_only() -> bool:
    return current_user.role in OWN_CENTRE_ROLES


def _read_request() -> Request:
    """Centre and period from the URL: a malformed value is a 400 (app/params.py); a period that
    makes no sense is reported on the form (422)."""
    today = today_local()
    raw_centre = int_arg("centre", 0, minimum=0)
    start, end = date_arg("from"), date_arg("to")
    asked = any(k in request.args for k in ("centre", "from", "to"))
    errors = {}
    if _own_centre_only():
        centre_id = current_user.centre_id
        if raw_centre and raw_centre != centre_id:
            abort(404)  # another centre's report: not found, as any record outside the scope
    else:
        centre_id = raw_centre or None
        if centre_id is None and asked:
            errors["centre"] = _("Wybierz CIL, dla którego ma powstać raport.")
    if start is None and end is None:
        start, end = date(today.year, 1, 1), today
    elif start is None:
        errors["from"] = _("Podaj początek okresu.")
    elif end is None:
        errors["to"] = _("Podaj koniec okresu.")
    for name, value in (("from", start), ("to", end)):
        if value is not None and not EARLIEST <= value <= LATEST and name not in errors:
            errors[name] = _("Data musi być między %(a)s a %(b)s.", a=fmt_date(EARLIEST), b=fmt_date(LATEST))
    if start and end and not errors:
        if end < start:
            errors["to"] = _("Koniec okresu nie może być wcześniej niż jego początek.")
        elif (end - start).days + 1 > MAX_PERIOD_DAYS:
            errors["to"] = _("Raport obejmuje najwyżej 5 lat: skróć okres.")
    start = start or end or today
    end = end or start
    return Request(centre_id, start, end, errors, asked)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def presets(today: date) -> list[tuple[str, date, date]]:
    """The usual periods: this and last year, quarter and month (the current ones up to today)."""
    this_quarter = _quarter_start(today)
    last_quarter = _quarter_start(this_quarter - timedelta(days=1))
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    return [
        (_("Ten rok"), date(today.year, 1, 1), today),
        (_("Poprzedni rok"), date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        (_("Ten kwartał"), this_quarter, today),
        (_("Poprzedni kwartał"), last_quarter, this_quarter - timedelta(days=1)),
        (_("Ten miesiąc"), this_month, today),
        (_("Poprzedni miesiąc"), last_month, this_month - timedelta(days=1)),
    ]


def _query(centre_id, start: date, end: date) -> str:
    args = {"from": start.isoformat(), "to": end.isoformat()}
    if centre_id and not _own_centre_only():
        args = {"centre": centre_id, **args}
    return urlencode(args)


def _report(req: Request) -> dict:
    """The report the signed-in user may produce for the request (None: no such centre, 404)."""
    hoods = current_user.neighbourhood_ids if current_user.role == Role.animator.value else None
    report = centre_report(req.centre_id, req.start, req.end, hoods, personal=_own_centre_only())
    if report is None:
        abort(404)
    return report


# --- the sections, shared by the page and the downloads --------------------------------------------

def _scope_text(report: dict) -> str:
    if report["neighbourhood_ids"] is None:
        return _("cały CIL")
    names = ", ".join(n.name for n in current_user.neighbourhoods) or _("brak przypisanych osiedli")
    return _("zakres: Twoje osiedla (%(names)s)", names=names)


def sections(report: dict) -> list[Section]:
    """The report as tables, in the order of the printed page."""
    people, meetings, groups = report["people"], report["meetings"], report["groups"]
    out = [
        Section("people", _("Osoby, do których dotarliśmy"), [_("Co"), _("Osoby")], [
            [_("Unikalne osoby z imienia lub opisu (kontakt lub obecność na spotkaniu)"), people["unique"]],
            [_("Osoby bez nazwiska (suma z list obecności spotkań)"), people["unnamed"]],
            [_("Razem z osobami bez nazwiska"), people["with_unnamed"]],
        ], note=_("Każda osoba liczy się raz, niezależnie od liczby kontaktów i spotkań. Osoby bez nazwiska "
                  "to suma liczb podanych przy spotkaniach: ta sama osoba mogła przyjść kilka razy, dlatego "
                  "wynik „razem” jest górnym oszacowaniem."), facts=True),
        Section("age", _("Osoby według wieku"), [_("Grupa wiekowa"), _("Osoby")],
                [[label("age", r["age_group"]) if r["age_group"] else _("nie podano"), r["people"]]
                 for r in people["by_age"]], total=[_("Razem"), people["unique"]]),
        Section("neighbourhood", _("Osoby według osiedla"), [_("Osiedle"), _("Osoby")],
                [[r["neighbourhood"], r["people"]] for r in people["by_neighbourhood"]],
                total=[_("Razem"), people["unique"]]),
        Section("meetings", _("Spotkania według rodzaju"),
                [_("Rodzaj"), _("Spotkania"), _("Obecności imienne"), _("Osoby bez nazwiska")],
                [[label("meeting_kind", r["kind"]), r["meetings"], r["named_attendance"], r["unnamed"]]
                 for r in meetings["by_kind"]],
                total=[_("Razem"), meetings["totals"]["meetings"], meetings["totals"]["named_attendance"],
                       meetings["totals"]["unnamed"]],
                note=_("Liczą się spotkania, które już się zaczęły (zaplanowane doliczą się w dniu "
                       "spotkania). Obecności imienne liczą wizyty: osoba obecna na trzech spotkaniach "
                       "to trzy obecności.")),
        Section("groups", _("Grupy"), [_("Co"), _("Grupy")], [
            [_("Powstałe w okresie"), groups["formed"]],
            [_("Aktywne w okresie (powstały, spotkały się albo zmieniły etap)"), groups["active"]],
        ], facts=True),
        Section("stages", _("Etap grup aktywnych na koniec okresu"), [_("Etap"), _("Grupy")],
                [[label("stage", r["stage"]), r["groups"]] for r in groups["by_stage"]],
                total=[_("Razem"), groups["active"]]),
    ]
    if report["personal"]:
        out.append(Section("group_list", _("Grupy aktywne w okresie"),
                           [_("Grupa"), _("Osiedle"), _("Początek"), _("Etap na koniec okresu"),
                            _("Powstała w okresie")],
                           [[g["name"], g["neighbourhood"], g["started_on"], label("stage", g["stage"]),
                             _("tak") if g["formed"] else _("nie")] for g in groups["list"]]))
    initiatives, volunteers, partners = report["initiatives"], report["volunteers"], report["partners"]
    out += [
        Section("initiatives", _("Zrealizowane inicjatywy"), [_("Co"), _("Inicjatywy")], [
            [_("Akcje i wydarzenia (spotkania rodzaju „akcja / wydarzenie”)"), initiatives["actions"]],
            [_("Inicjatywy z mikrograntów (realizacja lub rozliczenie w okresie)"), initiatives["grant_initiatives"]],
            [_("Razem"), initiatives["total"]],
        ], note=_("Akcję sfinansowaną z mikrograntu i zapisaną też jako spotkanie liczymy w obu wierszach."),
            facts=True),
        Section("volunteers", _("Wolontariat"), [_("Co"), _("Liczba")], [
            [_("Wolontariusze (osoby z wykonanym zobowiązaniem)"), volunteers["people"]],
            [_("Godziny wolontariatu"), volunteers["hours"]],
            [_("Wykonane zobowiązania"), volunteers["commitments_done"]],
        ], facts=True),
        Section("partner_kinds", _("Partnerzy zaangażowani w okresie"), [_("Rodzaj"), _("Partnerzy")],
                [[label("partner_kind", r["kind"]), r["partners"]] for r in partners["by_kind"] if r["partners"]],
                total=[_("Razem"), partners["count"]],
                note=_("Partner z wpisem o współpracy w okresie albo powiązany ze spotkaniem z okresu.")),
        Section("partner_list", _("Lista partnerów"), [_("Partner"), _("Rodzaj")],
                [[p["name"], label("partner_kind", p["kind"])] for p in partners["list"]]),
    ]
    grants = report["grants"]
    if grants is not None:
        out.append(Section("grants", _("Mikrogranty"), [_("Co"), _("Liczba / kwota")], [
            [_("Nabory (z działaniami w okresie)"), grants["calls"]],
            [_("Wnioski"), grants["applications"]],
            [_("Przyznane granty"), grants["granted"]],
            [_("Kwota przyznana"), Money(grants["granted_amount"])],
            [_("Rozliczone granty"), grants["settled"]],
            [_("Kwota rozliczona"), Money(grants["settled_amount"])],
        ], facts=True))
        out.append(Section("calls", _("Nabory"),
                           [_("Nabór"), _("Stan"), _("Wnioski"), _("Przyznane"), _("Kwota przyznana"),
                            _("Rozliczone"), _("Kwota rozliczona")],
                           [[c["title"], label("call_status", c["status"]), c["applications"], c["granted"],
                             Money(c["granted_amount"]), c["settled"], Money(c["settled_amount"])]
                            for c in grants["call_list"]]))
    return out


def _symbols() -> tuple[str, str]:
    """The locale's group and decimal symbols, looked up once per request (a report formats hundreds of
    figures: Babel's pattern parsing on each would cost more than the figures' SQL)."""
    if "_report_symbols" not in g:
        locale = get_locale()
        g._report_symbols = (get_group_symbol(locale), get_decimal_symbol(locale))
    return g._report_symbols


def _number(value, places: int | None) -> str:
    """4951 -> '4 951'; Decimal('4951.50') -> '4 951,5' (places=None) or '4 951,50' (places=2)."""
    group, decimal = _symbols()
    text = f"{value:,.2f}" if places or isinstance(value, Decimal) else f"{value:,}"
    whole, _, fraction = text.partition(".")
    if places is None:
        fraction = fraction.rstrip("0")
    return whole.replace(",", group) + (decimal + fraction if fraction else "")


def cell(value) -> str:
    """A value as the page shows it: Polish numbers, amounts in złoty, dates as 26.11.2026."""
    if isinstance(value, Money):
        return _number(value, 2) + "\xa0zł"
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return _number(value, None)
    if isinstance(value, date):
        return fmt_date(value)
    return "" if value is None else str(value)


def rows_for_download(report: dict, produced_at) -> list:
    """The sections as spreadsheet rows: a header block, then each section with its headings."""
    period = report["period"]
    rows = [
        Heading([_("Raport CIL"), report["centre"]["name"]]),
        [_("Okres od"), period["start"]],
        [_("Okres do"), period["end"]],
        [_("Zakres"), _scope_text(report)],
        [_("Sporządzono"), produced_at],
        [],
    ]
    for s in sections(report):
        rows.append(Heading([s.title]))
        if not s.facts:
            rows.append(Heading(s.columns))
        for r in s.rows:
            rows.append([Decimal(v) if isinstance(v, Money) else v for v in r])
        if s.total:
            rows.append(s.total)
        if s.note:
            rows.append([s.note])
        rows.append([])
    return rows


def _filename(report: dict, ext: str) -> str:
    p = report["period"]
    return f"raport-{report['centre']['slug']}-{p['start'].isoformat()}-{p['end'].isoformat()}.{ext}"


# --- routes ---------------------------------------------------------------------------------------

def _page(req: Request, report: dict | None, status: int = 200):
    centres = [] if _own_centre_only() else Centre.all_by_name()
    today = today_local()
    links = [(name, f"?{_query(req.centre_id, a, b)}") for name, a, b in presets(today)]
    ctx = {"req": req, "report": report, "centres": centres, "presets": links, "cell": cell}
    if report is not None:
        q = _query(req.centre_id, req.start, req.end)
        ctx.update(sections=sections(report), scope_text=_scope_text(report), produced_at=utcnow(),
                   xlsx_url=f"/reports/xlsx?{q}", csv_url=f"/reports/csv?{q}")
    return render("reports/index.html", status=status, **ctx)


@bp.route("")
@roles_required(*ROLES)
def index():
    """The form, and the report of the chosen centre and period."""
    req = _read_request()
    if req.errors:
        return _page(req, None, 422)
    if req.centre_id is None:  # the city or an admin has not chosen a centre yet
        return _page(req, None)
    return _page(req, _report(req))


def _download(fmt: str):
    req = _read_request()
    if req.centre_id is None and not req.errors:
        req.errors["centre"] = _("Wybierz CIL, dla którego ma powstać raport.")
    if req.errors:
        return _page(req, None, 422)
    report = _report(req)
    produced_at = utcnow()
    rows = rows_for_download(report, produced_at)
    record_audit("report_exported", user_id=current_user.id, object_type="centre", object_id=req.centre_id,
                 ip=client_ip(), format=fmt, start=req.start.isoformat(), end=req.end.isoformat(),
                 scope="centre" if report["neighbourhood_ids"] is None else "neighbourhoods")
    db.session.commit()
    if fmt == "csv":
        # Semicolons (app/exports.py) and, to match, decimal commas: what Polish Excel reads as numbers.
        rows = [[str(v).replace(".", ",") if isinstance(v, Decimal) else v for v in row] for row in rows]
        return csv_response(_filename(report, "csv"), rows[0], rows[1:])
    return xlsx_sections_response(_filename(report, "xlsx"), rows, title=_("Raport"), widths=(60, 18, 18, 18, 18))


@bp.route("/xlsx")
@roles_required(*ROLES)
def xlsx():
    """The report as one XLSX sheet of sections (audited)."""
    return _download("xlsx")


@bp.route("/csv")
@roles_required(*ROLES)
def csv():
    """The report as CSV with sections (audited)."""
    return _download("csv")
