"""The navigation each role sees. Later areas add their entries here."""
from flask_babel import lazy_gettext as _l

# (endpoint, label, roles)
NAV = [
    ("main.index", _l("Start"), {"animator", "coordinator", "reviewer", "city", "admin"}),
    ("residents.index", _l("Mieszkańcy"), {"animator", "coordinator"}),
    ("interactions.followups", _l("Następne kroki"), {"animator", "coordinator"}),
    ("groups.board", _l("Grupy"), {"animator", "coordinator"}),
    ("meetings.index", _l("Spotkania"), {"animator", "coordinator"}),
    ("commitments.index", _l("Zobowiązania"), {"animator", "coordinator"}),
    ("diagnosis.index", _l("Diagnoza"), {"animator", "coordinator"}),
    ("partners.index", _l("Partnerzy"), {"animator", "coordinator"}),
    ("grants.calls", _l("Mikrogranty"), {"coordinator", "reviewer"}),
    ("city.index", _l("Miasto w liczbach"), {"city", "admin"}),
    ("reports.index", _l("Raporty"), {"coordinator", "city", "admin"}),
    ("admin.users", _l("Zespół"), {"coordinator"}),
    ("privacy.retention", _l("Przegląd danych"), {"coordinator"}),
    ("admin.users", _l("Użytkownicy"), {"admin"}),
    ("admin.centres", _l("Centra"), {"admin"}),
    ("admin.audit", _l("Dziennik zdarzeń"), {"admin", "coordinator"}),
    ("privacy.register", _l("RODO"), {"admin"}),
]


def nav_for(user) -> list[tuple[str, str]]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [(endpoint, label) for endpoint, label, roles in NAV if user.role in roles]
