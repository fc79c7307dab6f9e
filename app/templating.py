"""Jinja filters and globals: Polish dates and numbers, navigation by role."""
from datetime import date, datetime

from flask import current_app, g
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
    """A readable name for an audit action code; unknown codes are shown as they are.
    The table is translated once per request, not once per row of the audit trail."""
    table = g.get("_audit_labels")
    if table is None:
        table = g._audit_labels = _audit_labels()
    return table.get(action, action)


def _audit_labels() -> dict[str, str]:
    return {
        "login": _("logowanie"),
        "login_failed": _("nieudane logowanie"),
        "login_throttled": _("logowanie zablokowane (zbyt wiele prób)"),
        "login_alert": _("alarm: wiele nieudanych logowań na konto z nieznanych urządzeń"),
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
        "sign_in_records_purged": _("usunięcie starych prób logowania i zakończonych sesji"),
        "group_created": _("utworzenie grupy"),
        "group_updated": _("zmiana danych grupy"),
        "group_stage_changed": _("zmiana etapu grupy"),
        "group_member_added": _("dołączenie osoby do grupy"),
        "group_member_left": _("odejście osoby z grupy"),
        "group_member_role_changed": _("zmiana roli w grupie"),
        "group_goal_added": _("dodanie celu grupy"),
        "group_goal_updated": _("zmiana celu grupy"),
        "meeting_created": _("dodanie spotkania"),
        "meeting_updated": _("zmiana spotkania"),
        "meeting_deleted": _("usunięcie spotkania"),
        "attendance_set": _("zmiana obecności"),
        "commitment_created": _("zapisanie zobowiązania"),
        "commitment_updated": _("zmiana zobowiązania"),
        "commitment_status_set": _("zmiana stanu zobowiązania"),
        "calendar_token_created": _("utworzenie linku do kalendarza"),
        "calendar_token_revoked": _("unieważnienie linku do kalendarza"),
        "finding_created": _("dodanie wpisu diagnozy"),
        "finding_updated": _("zmiana wpisu diagnozy"),
        "finding_deleted": _("usunięcie wpisu diagnozy"),
        "finding_source_linked": _("powiązanie wpisu diagnozy ze źródłem"),
        "finding_source_unlinked": _("odłączenie źródła od wpisu diagnozy"),
        "finding_group_linked": _("powiązanie potrzeby z grupą"),
        "finding_group_unlinked": _("odłączenie potrzeby od grupy"),
        "diagnosis_exported": _("pobranie diagnozy osiedla"),
        "partner_created": _("dodanie partnera"),
        "partner_updated": _("zmiana danych partnera"),
        "partner_viewed": _("otwarcie karty partnera"),
        "partner_contact_added": _("dodanie osoby kontaktowej partnera"),
        "partner_contact_removed": _("usunięcie osoby kontaktowej partnera"),
        "partner_group_linked": _("powiązanie partnera z grupą"),
        "partner_group_unlinked": _("odłączenie partnera od grupy"),
        "partner_meeting_linked": _("powiązanie partnera ze spotkaniem"),
        "partner_meeting_unlinked": _("odłączenie partnera od spotkania"),
        "cooperation_logged": _("zapisanie współpracy z partnerem"),
        "grant_call_created": _("utworzenie naboru"),
        "grant_call_updated": _("zmiana naboru"),
        "grant_call_status": _("zmiana stanu naboru"),
        "grant_application_created": _("utworzenie wniosku"),
        "grant_application_updated": _("zmiana wniosku"),
        "grant_application_submitted": _("złożenie wniosku"),
        "grant_application_moved": _("zmiana etapu wniosku"),
        "grant_apply_throttled": _("wniosek zablokowany (zbyt wiele prób)"),
        "grant_attachment_added": _("dodanie załącznika do wniosku"),
        "grant_attachment_downloaded": _("pobranie załącznika wniosku"),
        "grant_document_added": _("dodanie dokumentu do wniosku"),
        "grant_group_linked": _("powiązanie wniosku z grupą"),
        "grant_link_requested": _("prośba o powiązanie wniosku z grupą"),
        "grant_link_confirmed": _("potwierdzenie powiązania wniosku z grupą"),
        "grant_link_refused": _("odrzucenie prośby o powiązanie wniosku z grupą"),
        "grant_reference_throttled": _("łączenie z wnioskiem zablokowane (zbyt wiele błędnych numerów)"),
        "grant_reviewer_assigned": _("przydzielenie oceniającego"),
        "grant_reviewer_removed": _("odwołanie oceniającego"),
        "grant_review_declared": _("deklaracja bezstronności oceniającego"),
        "grant_review_saved": _("zapisanie oceny wniosku"),
        "grant_settlement_saved": _("zapisanie rozliczenia grantu"),
        "report_exported": _("pobranie raportu CIL"),
    }
