"""Erasure (RODO art. 17) that leaves nothing: no copy of the person's text in findings, no search
words, no personal value in the audit trail, and on SQLite no byte of them in the database file,
its -wal and -shm, or anywhere else under the instance folder."""
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import create_app
from app import demo
from models import AuditEvent, Finding, Interaction, Neighbourhood, Resident, User, db, record_audit
from models.text import fold, words
from tests.conftest import BASE_CONFIG, FAST_HASH, PASSWORD, TEST_DB, World, _key

FIRST, LAST = "Ermengarda", "Źdźbłowska-Wyrwigroszówna"
PHONE, PHONE_STORED = "604 555 919", "+48604555919"
EMAIL = "ermengarda.zdzb@poczta-haftu.pl"
NOTES = "Lubi haftować makatki z żurawiami na balkonie"
CONCERNS = "Chciałaby warsztatów haftu krzyżykowego w suszarni bloku"
NOTE = "Rozmowa przy śmietniku o wnuczce Kunegundzie"
NEXT = "Oddzwonić w sprawie kłębków włóczki"
DESCRIPTION = "pani z jamnikiem Bursztynem"
# Everything that must be gone, as stored (UTF-8) and folded (as the search words hold it).
VALUES = [FIRST, LAST, "Źdźbłowsk", "Wyrwigroszówna", PHONE_STORED, "604555919", EMAIL, "makatki z żurawiami",
          "haftu krzyżykowego", "Kunegundzie", "kłębków włóczki", "jamnikiem Bursztynem"]
NEEDLES = sorted({v for value in VALUES for v in (value, fold(value), value.lower())})


def _fresh_sqlite_app(tmp_path, monkeypatch):
    """The app on its own SQLite file in its own instance folder, migrated, with the demo centres:
    every byte under that folder is then this test's."""
    import flask_migrate

    from app.cli import load_neighbourhoods

    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setattr("app.INSTANCE_PATH", instance)
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'animo.sqlite3'}",
                      "GRANT_UPLOAD_DIR": str(instance / "uploads" / "grants")})
    assert Path(app.instance_path) == instance
    with app.app_context():
        flask_migrate.upgrade()
        load_neighbourhoods()
        logins = demo.generate(scale="small", seed=7, password_method=FAST_HASH)
        app.world = World(users={_key(login): db.session.scalar(select(User.id).where(User.email == login.email))
                                 for login in logins}, centres={})
        db.session.remove()
    return app


@pytest.fixture
def erasure_app(request, tmp_path, monkeypatch):
    if TEST_DB == "sqlite":
        app = _fresh_sqlite_app(tmp_path, monkeypatch)
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    else:
        yield request.getfixturevalue("app")  # the shared PostgreSQL database, emptied and seeded


def _login(app, client, key: str):
    with app.app_context():
        email = db.session.get(User, app.world.users[key]).email
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code in (302, 303), r.status_code


def _hood(app, slug="wilda"):
    with app.app_context():
        return db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == slug))


def _person_with_copies(app, client) -> tuple[int, dict]:
    """A resident with distinctive values, a contact, and findings made from it the ways animators do."""
    r = client.post("/residents/new", data={
        "neighbourhood_id": str(_hood(app)), "first_name": FIRST, "last_name": LAST, "phone": PHONE,
        "email": EMAIL, "consent_phone": "y", "consent_email": "y", "description": DESCRIPTION})
    assert r.status_code == 303, r.get_data(as_text=True)
    rid = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        resident = db.session.get(Resident, rid)
        resident.notes = NOTES  # the notes field of the record
        db.session.commit()
    r = client.post(f"/interactions/new?resident={rid}", data={
        "resident_id": rid, "channel": "one_to_one", "concerns": CONCERNS, "note": NOTE, "next_step": NEXT,
        "follow_up_on": "2026-12-01"})
    assert r.status_code in (200, 303), r.status_code
    with app.app_context():
        iid = db.session.scalar(select(Interaction.id).where(Interaction.resident_id == rid))
    # 1. The finding made from the contact in one step: its title is the prefilled "what matters".
    page = client.get(f"/diagnosis/findings/new?interaction={iid}").get_data(as_text=True)
    title = html.unescape(re.search(r'name="title"[^>]*value="([^"]*)"', page).group(1))
    assert title == CONCERNS
    findings = {}

    def add(key, query="", **fields):
        data = {"kind": "need", "source": "conversation", "found_on": "2026-01-15", "neighbourhood_id": _hood(app),
                "tags": "rękodzieło", **fields}
        r = client.post(f"/diagnosis/findings/new{query}", data=data)
        assert r.status_code == 303, r.get_data(as_text=True)
        findings[key] = int(r.headers["Location"].rsplit("/", 1)[1])

    add("prefilled", f"?interaction={iid}", title=title, interaction_id=iid)
    # 2. From the contact, rewritten by the animator, but naming the person in the description.
    add("rewritten", f"?interaction={iid}", title="Warsztaty rękodzieła dla seniorek", interaction_id=iid,
        description=f"Zgłosiła p. {FIRST} {LAST} (tel. {PHONE}), pisać na {EMAIL.upper()}. "
                    "Spotkanie u pani Źdźbłowskiej.")
    # 3. Not linked to the contact (or unlinked later), the text pasted into the description.
    add("pasted", title="Piwnice i suszarnie jako miejsca spotkań",
        description=f"Mieszkanka mówi: {CONCERNS.lower()}. Sprawdzić z administracją.")
    # 4. Unrelated: must stay as written.
    add("unrelated", title="Brak ławek przy placu zabaw", description="Zgłoszone na spacerze badawczym.")
    return rid, findings


def _finding_texts(app, findings) -> dict:
    with app.app_context():
        return {k: (f.title, f.description) for k, fid in findings.items()
                for f in [db.session.get(Finding, fid)]}


def _contains_any(value: str) -> list[str]:
    low = fold(value)
    return [n for n in NEEDLES if n in value or fold(n) in low]


def test_erasure_leaves_nothing_behind(erasure_app):
    app = erasure_app
    client = app.test_client()
    _login(app, client, "coordinator@wilda")
    rid, findings = _person_with_copies(app, client)
    # The resident list searched by surname and exported: that search is no personal value in the audit trail.
    assert client.get("/residents/export.csv?q=zdzblowska").status_code == 200
    with app.app_context():
        # An audit row written before this fix, holding the search words of an export.
        record_audit("export", object_type="resident_list", format="csv", filters={"query": "Źdźbłowska"})
        db.session.commit()
    before = _finding_texts(app, findings)
    assert before["prefilled"][0] == CONCERNS and LAST in before["rewritten"][1]

    r = client.post(f"/residents/{rid}/erase", data={"reason": "request", "confirm": "yes"})
    assert r.status_code == 303
    # A later write, as the centre goes on working.
    r = client.post("/residents/new", data={"neighbourhood_id": str(_hood(app)), "first_name": "Następna",
                                            "last_name": "Osoba"})
    assert r.status_code == 303

    after = _finding_texts(app, findings)
    for key in ("prefilled", "rewritten", "pasted"):
        for value in after[key]:
            assert not _contains_any(value or ""), (key, value)
    assert after["prefilled"][0] == "[usunięto]"
    assert after["rewritten"][0] == "Warsztaty rękodzieła dla seniorek"  # the animator's own words stay
    assert after["rewritten"][1].startswith("Zgłosiła p. [usunięto]")
    assert after["pasted"][0] == before["pasted"][0] and "Sprawdzić z administracją." in after["pasted"][1]
    assert after["unrelated"] == before["unrelated"]
    # The finding keeps its link and its place in the diagnosis: it still counts.
    page = client.get(f"/diagnosis/findings/{findings['prefilled']}").get_data(as_text=True)
    assert "[usunięto]" in page and not _contains_any(page)

    # Through SQL, on both databases: no row of any table holds a value, folded or not.
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()):
                found = _contains_any(repr(tuple(row)))
                assert not found, (table.name, found)
        events = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.detail.is_not(None))).all()
        assert not any(_contains_any(d) for d in events)
        if TEST_DB == "sqlite":
            for word in ("zdzblowska", "wyrwigroszowna", "ermengarda", "604555919", "bursztynem"):
                hits = db.session.scalar(text("SELECT count(*) FROM resident_fts WHERE resident_fts MATCH :w"),
                                         {"w": word})
                assert hits == 0, word
            assert db.session.execute(text("PRAGMA secure_delete")).scalar() == 1
        else:
            hits = db.session.scalar(text(
                "SELECT count(*) FROM resident WHERE to_tsvector('simple', search_text) @@ "
                "to_tsquery('simple', 'zdzblowska | ermengarda | 604555919')"))
            assert hits == 0
            # The README's VACUUM for the same guarantee on disk runs as written.
            readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
            vacuum = re.search(r"'(VACUUM \(FULL, ANALYZE\) [^']+)'", readme).group(1)
            db.session.remove()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(vacuum)
    assert f'/residents/{rid}"' not in client.get("/residents?q=zdzbl").get_data(as_text=True)

    if TEST_DB == "sqlite":
        # The raw bytes of every file under the instance folder: the database, its -wal and -shm
        # (still open: the app's engine keeps its connections), uploads, anything.
        instance = Path(app.instance_path)
        files = [p for p in instance.rglob("*") if p.is_file()]
        assert {p.name for p in files} >= {"animo.sqlite3"}
        for path in files:
            raw = path.read_bytes()
            for needle in NEEDLES:
                for encoded in (needle.encode("utf-8"), needle.encode("utf-16-le")):
                    assert encoded not in raw, (path.name, needle)



def test_redaction_finds_the_person_however_written():
    """The matching behind the findings' redaction, case by case (no database)."""
    from app.rodo import ERASED, SHINGLE, _Traces, redact

    said = tuple(words("Potrzebna jest ławka przy przystanku na Dolnej"))
    person = _Traces(names=[("anna", "nowak"), ("nowak", "anna"), ("nowak",)], stems=["nowak"], texts=[said],
                     patterns=[re.compile(r"(?<!\d)(?:\+?\s*48[\s.-]*)?" + r"[\s.-]*".join("601234567") + r"(?!\d)"),
                               re.compile(re.escape("anna@nowak.pl"), re.IGNORECASE)])
    shingles = person.shingles()
    assert SHINGLE == 4 and len(shingles) == 4

    def r(value, near=False):
        return redact(value, person.names, shingles, person.patterns, [said] if near else [], person.stems)

    assert r("Rozmowa z ANNĄ NOWAK, tel. 601-234-567") == f"Rozmowa z {ERASED}, tel. {ERASED}"
    assert r("Anna z Nowego Miasta") == "Anna z Nowego Miasta"  # a first name alone, far from the person
    assert r("pani Nowakowa i pan Nowakowski") == f"pani {ERASED} i pan Nowakowski"
    assert r("u Nowaków, +48 601 234 567 lub Anna@Nowak.PL") == f"u {ERASED} lub {ERASED}"  # neighbours merge into one
    assert r("Mówi, że potrzebna jest ławka przy przystanku.") == f"Mówi, że {ERASED}."
    assert r("Potrzebna jest ławka przy przyst", near=True) == ERASED  # the prefill, cut mid-word
    assert r("Ławka przy przystanku", near=False) == "Ławka przy przystanku"  # three words: the animator's own
    assert r("Nowa ławka, numer 1601234567") == "Nowa ławka, numer 1601234567"
    assert r(None) is None and r("") == ""
