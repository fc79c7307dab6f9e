"""Jinja filters and globals: Polish dates and numbers, navigation by role."""
from datetime import date, datetime

from flask import current_app
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.labels import label
from app.navigation import nav_for
from app.timeutil import utc_to_local


def fmt_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return utc_to_local(value).strftime("%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def fmt_datetime(value) -> str:
    return utc_to_local(value).strftime("%d.%m.%Y %H:%M") if value else ""


def fmt_number(value) -> str:
    return format_decimal(value) if value is not None else ""


def init_app(app) -> None:
    app.jinja_env.filters.update(date=fmt_date, datetime=fmt_datetime, number=fmt_number)
    app.jinja_env.globals["label"] = label  # macros imported without context need it too
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        return {
            "nav": nav_for(current_user),
            "current_locale": str(get_locale()),
            "languages": current_app.config["LANGUAGES"],
            "role_label": role_label,
            "audit_label": audit_label,
        }


def role_label(role: str) -> str:
    return {
        "animator": _("Animator/ka"),
        "coordinator": _("Koordynator/ka"),
        "reviewer": _("Oceniający/a"),
        "city": _("Urząd Miasta"),
        "admin": _("Administrator/ka"),
    }.get(role, role)


def audit_label(action: str) -> str:
    """A readable name for an audit action code; unknown codes are shown as they are."""
    return {
        "login": _("logowanie"),
        "login_failed": _("nieudane logowanie"),
        "login_throttled": _("logowanie zablokowane (zbyt wiele prób)"),
        "logout": _("wylogowanie"),
        "access_denied": _("odmowa dostępu"),
        "password_changed": _("zmiana własnego hasła"),
        "password_reset": _("ustawienie hasła przez koordynatora/admina"),
        "user_created": _("utworzenie konta"),
        "user_updated": _("zmiana konta"),
        "centre_created": _("utworzenie centrum"),
        "centre_updated": _("zmiana centrum"),
        "resident_created": _("dodanie osoby"),
        "resident_viewed": _("otwarcie karty osoby"),
        "resident_updated": _("zmiana danych osoby"),
        "resident_merged": _("scalenie kart"),
        "resident_erased": _("usunięcie danych osoby (RODO)"),
        "resident_data_access": _("wgląd w dane osoby (RODO)"),
        "resident_data_export": _("wydanie danych osoby (RODO)"),
        "consent_given": _("zapisanie zgody"),
        "consent_withdrawn": _("wycofanie zgody"),
        "interaction_logged": _("zapisanie kontaktu"),
        "followup_done": _("odhaczenie kroku"),
        "export": _("pobranie listy"),
        "residents_imported": _("import osób z arkusza"),
        "register_updated": _("zmiana rejestru czynności przetwarzania"),
        "consent_data_removed": _("usunięcie danych po wycofaniu zgody"),
    }.get(action, action)
