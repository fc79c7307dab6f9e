"""Periods of local dates for the figures (models/figures.py): made here, with their UTC bounds from
app/timeutil.py, because the models package imports nothing from app/.

Also the periods the dashboard compares (this month so far against the same days of the last
month), its weeks, the city's presets, and the validated `from`/`to` URL parameters.
"""
from datetime import date, timedelta

from flask_babel import gettext as _

from app.params import BadParameter, date_arg
from app.timeutil import local_day_bounds_utc
from models.figures import Period

EARLIEST = date(2000, 1, 1)  # nothing in Animo is older; also keeps the UTC conversion in range
LATEST = date(2100, 12, 31)
WEEKS = 12  # the dashboard's activity picture


def period(start: date, end: date) -> Period:
    """The local days start..end (both included) with their UTC bounds [lo, hi)."""
    return Period(start, end, local_day_bounds_utc(start)[0], local_day_bounds_utc(end)[1])


def month_start(day: date) -> date:
    return day.replace(day=1)


def previous_month_start(day: date) -> date:
    first = day.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def this_and_last_month(today: date) -> tuple[Period, Period]:
    """This month from its first day to today, and the same days of the last month (up to its end,
    for the 29th to the 31st): a fair comparison on any day of the month."""
    start = month_start(today)
    last_start = previous_month_start(today)
    last_end = min(last_start.replace(day=1) + timedelta(days=today.day - 1), start - timedelta(days=1))
    return period(start, today), period(last_start, last_end)


def recent_weeks(today: date, weeks: int = WEEKS) -> list[Period]:
    """The last `weeks` calendar weeks (Monday to Sunday), oldest first; the last one ends today."""
    monday = today - timedelta(days=today.weekday())
    result = []
    for k in range(weeks - 1, -1, -1):
        start = monday - timedelta(weeks=k)
        result.append(period(start, min(start + timedelta(days=6), today)))
    return result


def presets(today: date) -> list[tuple[str, str, date, date]]:
    """(code, label, start, end) of the city's quick choices."""
    last_month_end = month_start(today) - timedelta(days=1)
    return [
        ("this_month", _("Ten miesiąc"), month_start(today), today),
        ("last_month", _("Poprzedni miesiąc"), month_start(last_month_end), last_month_end),
        ("this_year", _("Ten rok"), date(today.year, 1, 1), today),
        ("last_year", _("Poprzedni rok"), date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    ]


def period_from_args(today: date) -> Period:
    """`from` and `to` (YYYY-MM-DD) of the URL, validated; the default is this year up to today.
    A bad date, a start after the end or a date out of range is a 400 that says which, in Polish."""
    start = date_arg("from", date(today.year, 1, 1))
    end = date_arg("to", today)
    for name, value in (("from", start), ("to", end)):
        if not EARLIEST <= value <= LATEST:
            raise BadParameter(description=_("Parametr „%(name)s” musi być datą od %(min)s do %(max)s.", name=name,
                                             min=EARLIEST.isoformat(), max=LATEST.isoformat()))
    if start > end:
        raise BadParameter(description=_("Początek okresu (%(start)s) jest późniejszy niż jego koniec (%(end)s).",
                                         start=start.isoformat(), end=end.isoformat()))
    return period(start, end)
