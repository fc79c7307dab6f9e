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
}


def label(kind: str, code: str | None) -> str:
    if not code:
        return ""
    cache = g.setdefault("_labels", {})
    table = cache.get(kind)
    if table is None:
        table = cache[kind] = {k: str(v) for k, v in TABLES[kind].items()}
    return table.get(code, code)
