"""Polish labels for the codes stored in the database (rungs, channels, consents, ...).

Templates call `label(kind, code)`; each table is translated once per request, not once per row."""
from flask import g
from flask_babel import lazy_gettext as _l

TABLES = {
    "rung": {"known": _l("Znany/a"), "participant": _l("Uczestnik/czka"), "volunteer": _l("Wolontariusz/ka"),
             "active": _l("Aktywny/a"), "leader": _l("Lider/ka")},
    "channel": {"one_to_one": _l("rozmowa 1:1"), "door_to_door": _l("od drzwi do drzwi"),
                "street": _l("ulica / podwórko"), "phone": _l("telefon"), "event": _l("wydarzenie"),
                "online": _l("online")},
    "purpose": {"phone": _l("kontakt telefoniczny"), "email": _l("kontakt e-mailowy"), "image": _l("wizerunek"),
                "newsletter": _l("newsletter")},
    "method": {"verbal": _l("ustnie"), "written": _l("na piśmie"), "online": _l("online")},
    "age": {"child": _l("dziecko"), "youth": _l("młodzież"), "adult": _l("dorosły/a"), "senior": _l("senior/ka")},
    # micro-grants (views/grants.py, views/apply.py)
    "call_status": {"draft": _l("szkic"), "open": _l("otwarty"), "closed": _l("zamknięty"),
                    "settled": _l("rozliczony")},
    "grant_status": {"submitted": _l("złożony"), "formal_failed": _l("ocena formalna: do poprawy"),
                     "merit_review": _l("ocena merytoryczna"), "granted": _l("przyznany"),
                     "refused": _l("odmowa"), "agreement": _l("umowa podpisana"), "in_progress": _l("realizacja"),
                     "report_submitted": _l("sprawozdanie złożone"), "settled": _l("rozliczony"),
                     "returned": _l("rozliczony ze zwrotem środków")},
    "budget_source": {"grant": _l("dotacja"), "own": _l("wkład własny"), "volunteer": _l("praca wolontariuszy")},
    "applicant_kind": {"informal": _l("grupa nieformalna"), "ngo": _l("organizacja pozarządowa")},
    "declaration": {"no_conflict": _l("brak konfliktu interesów"), "conflict": _l("konflikt interesów")},
    # the local diagnosis and the cooperation network (views/diagnosis.py, views/partners.py)
    "finding_kind": {"need": _l("potrzeba"), "resource": _l("zasób"), "problem": _l("problem"),
                     "idea": _l("pomysł")},
    "finding_kinds": {"need": _l("Potrzeby"), "resource": _l("Zasoby"), "problem": _l("Problemy"),
                      "idea": _l("Pomysły")},
    "finding_source": {"conversation": _l("rozmowa"), "survey": _l("ankieta"),
                       "walk": _l("spacer badawczy / obserwacja"), "meeting": _l("spotkanie"),
                       "existing_data": _l("dane zastane")},
    "partner_kind": {"school": _l("szkoła"), "kindergarten": _l("przedszkole"), "library": _l("biblioteka"),
                     "culture_house": _l("dom kultury"), "council": _l("Rada Osiedla"),
                     "ngo": _l("organizacja pozarządowa"), "parish": _l("parafia"), "business": _l("firma"),
                     "housing_coop": _l("spółdzielnia mieszkaniowa"),
                     "social_welfare": _l("ośrodek pomocy społecznej"), "other": _l("inne")},
}


def _form_tables() -> dict:
    """Tables whose labels live next to the form that offers them (imported late: forms import models)."""
    from app.forms.groups import MEMBER_ROLE_LABELS, STAGE_LABELS
    from app.forms.meetings import COMMITMENT_STATUS_LABELS, MEETING_KIND_LABELS
    return {"member_role": dict(MEMBER_ROLE_LABELS), "stage": dict(STAGE_LABELS),
            "meeting_kind": dict(MEETING_KIND_LABELS), "commitment_status": dict(COMMITMENT_STATUS_LABELS)}


def label(kind: str, code: str | None) -> str:
    if not code:
        return ""
    cache = g.setdefault("_labels", {})
    table = cache.get(kind)
    if table is None:
        source = TABLES[kind] if kind in TABLES else _form_tables()[kind]
        table = cache[kind] = {k: str(v) for k, v in source.items()}
    return table.get(code, code)
