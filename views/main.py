"""The start page of each role and the health check.

Coordinators and animators start on their dashboard: this month against the same days of the last
one (models/figures.py, scoped like everything else), the groups that stalled, their own follow-ups
and pictures of their work; an animator also finds a "Spotkanie teraz" button per group they run.
The reviewer's, the city's and the admin's start pages stay short (the city's figures are on /city).
"""
from datetime import datetime

from babel.dates import format_date
from flask import Blueprint, jsonify
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import text

from app import charts
from app.database import migration_current, migration_head
from app.forms.groups import STAGE_LABELS
from app.htmx import render
from app.labels import label
from app.periods import recent_weeks, this_and_last_month
from app.timeutil import today_local
from models import RUNG_ORDER, db, personal_data_scope, utcnow
from models import groups_queries as gq
from models.figures import AGE_ORDER, start_dashboard
from models.people import my_followups
from models.queries import programme_overview, users_by_role
from views.groups import STAGE_COLOURS
from views.groups import _chart as stage_chart_geometry  # the board's picture of groups per stage, reused

bp = Blueprint("main", __name__)

FOLLOWUPS_SHOWN = 5
QUICK_ALL = 8  # up to this many of an animator's groups get a quick-start button each on the page
QUICK_FIRST = 6  # with more, this many first (the most recently met), the others in a folded list
STALLED_SHOWN = 8
STAFF = ("coordinator", "animator")


@bp.route("/")
@login_required
def index():
    """What the signed-in role needs first."""
    role = current_user.role
    if role in STAFF:
        return render("main/index.html", **_dashboard_context())
    ctx = {}
    if role == "reviewer":
        from models.grants_queries import my_assignments

        ctx["tasks"] = my_assignments(current_user)
    if role in ("city", "admin"):
        ctx["overview"] = programme_overview()
        if role == "admin":
            ctx["users_by_role"] = users_by_role()
    return render("main/index.html", **ctx)


# --- the dashboard of coordinators and animators -------------------------------------------------

def _short(day) -> str:
    return format_date(day, "d MMM", locale=get_locale())


def _span_label(period) -> str:
    if period.start == period.end:
        return _short(period.start)
    if period.start.month == period.end.month:
        return f"{period.start.day}–{_short(period.end)}"
    return f"{_short(period.start)} – {_short(period.end)}"


def _change(now, before) -> dict:
    diff = now - before
    return {"diff": diff, "direction": "up" if diff > 0 else "down" if diff < 0 else "same"}


def _figure_rows(figures) -> list[dict]:
    """The table of the month: (label, this month, the last one, the change); hours as numbers."""
    this, last = figures
    rows = [
        ("new_residents", _("Nowi mieszkańcy w notesie")),
        ("contacts", _("Kontakty")),
        ("meetings", _("Spotkania (odbyte)")),
        ("attendance", _("Obecności imienne")),
        ("unnamed", _("Osoby bez nazwiska na spotkaniach")),
        ("reached", _("Unikalne osoby (z imienia)")),
        ("reached_all", _("Osoby łącznie z bezimiennymi")),
        ("stage_moves", _("Zmiany etapu grup")),
        ("commitments_made", _("Zobowiązania podjęte")),
        ("commitments_kept", _("Zobowiązania dotrzymane")),
        ("hours", _("Godziny wolontariatu")),
    ]
    return [{"key": key, "label": text, "this": getattr(this, key), "last": getattr(last, key),
             **_change(getattr(this, key), getattr(last, key))} for key, text in rows]


def _dashboard_context() -> dict:
    user = current_user
    today, now = today_local(), utcnow()
    this_month, last_month = this_and_last_month(today)
    weeks = recent_weeks(today)
    pending = start_dashboard(personal_data_scope(user), [this_month, last_month], weeks, now, today)
    columns, truncated = gq.board(user, gq.GroupFilters(), now)
    rows = [r for column in columns.values() for r in column]
    stalled = sorted((r for r in rows if r.stalled), key=lambda r: -max(days for _code, days in r.stalled))
    stage_chart = stage_chart_geometry(gq.stage_chart(user, gq.GroupFilters(), rows, today))
    followups, followups_total = my_followups(user, today, limit=FOLLOWUPS_SHOWN)
    # "Spotkanie teraz" for the animator's active groups: all of them when they are few, otherwise the
    # ones that met most recently first and the rest one tap further (a folded list).
    mine = sorted((r for r in rows if r.group.animator_id == user.id and r.group.status == "active"),
                  key=lambda r: r.group.name)
    if len(mine) > QUICK_ALL:
        recent = sorted(mine, key=lambda r: r.last_meeting_at or datetime.min, reverse=True)[:QUICK_FIRST]
        mine_more = [r.group for r in mine if r not in recent]
        mine = [r.group for r in recent]
    else:
        mine, mine_more = [r.group for r in mine], []
    stage_counts = {s: 0 for s, _l in STAGE_LABELS}
    for r in rows:
        stage_counts[r.group.stage] = stage_counts.get(r.group.stage, 0) + 1

    d = pending()
    periods = (_span_label(this_month), _span_label(last_month))
    ladder_rows = [(label("rung", r), d.ladder.get(r, 0)) for r in RUNG_ORDER]
    age_rows = [(label("age", a) if a else _("nie podano"), values) for a, values in d.reached_by_age
                if a is not None or any(values)]
    pictures = {
        "weeks": charts.weekly_activity(
            d.weeks, _("Aktywność tydzień po tygodniu"),
            _("Kontakty i odbyte spotkania w każdym z ostatnich %(n)d tygodni; ostatni słupek to bieżący tydzień. "
              "Liczby są w tabeli pod wykresem.", n=len(d.weeks)),
            (_("Kontakty"), _("Spotkania")), lambda p: _short(p.start)),
        "ladder": charts.funnel(
            ladder_rows, _("Drabina zaangażowania: osoby na każdym szczeblu"),
            _("Od znanych do liderów: szerokość paska to liczba osób na danym szczeblu teraz.")),
        "ages": charts.paired_bars(
            age_rows, periods, _("Osoby dotarte według grupy wieku"),
            _("Unikalne osoby w tym miesiącu i w tych samych dniach poprzedniego, według grupy wieku.")),
    }
    return {
        "dash": d, "periods": periods, "figure_rows": _figure_rows(d.figures), "this": d.figures[0],
        "stalled": stalled[:STALLED_SHOWN], "stalled_total": len(stalled), "board_truncated": truncated,
        "groups_total": len(rows), "stage_counts": stage_counts, "chart": stage_chart,
        "stages": [(k, str(v)) for k, v in STAGE_LABELS], "stage_colours": STAGE_COLOURS,
        "followups": followups, "followups_total": followups_total, "today": today, "mine": mine,
        "mine_more": mine_more,
        "pictures": pictures, "ladder_rows": ladder_rows, "age_rows": age_rows, "age_order": AGE_ORDER,
        "stalled_texts": {"no_meeting": _("bez spotkania od %(days)d dni"),
                          "no_meeting_yet": _("brak spotkań od powstania (%(days)d dni)"),
                          "stage_unchanged": _("ten sam etap od %(days)d dni")},
    }


@bp.route("/healthz")
def healthz():
    """For the deployment: is the database answering and is its schema current?"""
    status = {"database": "ok", "migrations": "current"}
    code = 200
    try:
        db.session.execute(text("SELECT 1"))
        current, head = migration_current(), migration_head()
        status.update(revision=current, head=head)
        if current != head:
            status["migrations"] = "pending"
            code = 503
    except Exception:  # noqa: BLE001 - any failure means "not healthy", details go to the log
        db.session.rollback()
        status = {"database": "unavailable", "migrations": "unknown"}
        code = 503
    status["status"] = "ok" if code == 200 else "error"
    return jsonify(status), code
