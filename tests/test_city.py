"""The city's view (`/city`): every figure per centre and per osiedle against a ground truth in plain SQL
for several periods (one that cuts two months among them), the map, the period picker and its
validation, the downloads, the statement count, and no personal data in anything the city role can
reach: every page, fragment and download, for several periods."""
import csv
import gzip
import io
import re
import zipfile
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.periods import period
from models import (Attendance, AuditEvent, Commitment, Group, Interaction, Meeting, Neighbourhood, Resident,
                    StageChange, db, utcnow)
from models.figures import city
from tests.test_dashboard import (EDGE_END, EDGE_START, FIGURES, make_edge_centre, sql, statements, utc_bounds)
from tests.test_routes_matrix import build, own_ids

STATEMENT_BUDGET = 12
FIRST_LOAD_BUDGET = 60_000
STAGES = ["idea", "core_group", "planning", "action", "reflection", "independent"]


# --- the ground truth, per (centre, osiedle) cell, in plain SQL -----------------------------------------

def cell_truth(start: date, end: date, now: datetime, today: date) -> dict:
    """{(centre id, osiedle id): {figure: value, "stages": {...}}}: each row by its own centre and osiedle,
    a person reached by their own (a contact, or any meeting held in the period)."""
    lo, hi = utc_bounds(start, end)
    cells = defaultdict(lambda: {**{k: 0 for k in FIGURES}, "hours": Decimal(0), "stages": defaultdict(int)})

    def add(figure, query, **params):
        for c, n, value in sql(query, **params):
            cells[(c, n)][figure] += Decimal(str(value)) if figure == "hours" else int(value)

    held = "m.starts_at >= :lo AND m.starts_at < :hi AND m.starts_at <= :now"
    add("new_residents", "SELECT centre_id, neighbourhood_id, count(*) FROM resident WHERE created_at >= :lo "
        "AND created_at < :hi GROUP BY centre_id, neighbourhood_id", lo=lo, hi=hi)
    add("contacts", "SELECT r.centre_id, r.neighbourhood_id, count(*) FROM interaction i JOIN resident r "
        "ON r.id = i.resident_id WHERE i.occurred_at >= :lo AND i.occurred_at < :hi "
        "GROUP BY r.centre_id, r.neighbourhood_id", lo=lo, hi=hi)
    add("meetings", f"SELECT m.centre_id, m.neighbourhood_id, count(*) FROM meeting m WHERE {held} "
        "GROUP BY m.centre_id, m.neighbourhood_id", lo=lo, hi=hi, now=now)
    add("unnamed", f"SELECT m.centre_id, m.neighbourhood_id, sum(m.unnamed_count) FROM meeting m WHERE {held} "
        "GROUP BY m.centre_id, m.neighbourhood_id", lo=lo, hi=hi, now=now)
    add("attendance", f"SELECT m.centre_id, m.neighbourhood_id, count(*) FROM attendance a JOIN meeting m "
        f"ON m.id = a.meeting_id WHERE {held} GROUP BY m.centre_id, m.neighbourhood_id", lo=lo, hi=hi, now=now)
    add("reached", "SELECT r.centre_id, r.neighbourhood_id, count(*) FROM resident r WHERE EXISTS (SELECT 1 FROM "
        "interaction i WHERE i.resident_id = r.id AND i.occurred_at >= :lo AND i.occurred_at < :hi) OR EXISTS ("
        f"SELECT 1 FROM attendance a JOIN meeting m ON m.id = a.meeting_id WHERE a.resident_id = r.id AND {held}) "
        "GROUP BY r.centre_id, r.neighbourhood_id", lo=lo, hi=hi, now=now)
    add("stage_moves", "SELECT g.centre_id, g.neighbourhood_id, count(*) FROM stage_change s JOIN community_group g "
        "ON g.id = s.group_id WHERE s.from_stage IS NOT NULL AND s.changed_at >= :lo AND s.changed_at < :hi "
        "GROUP BY g.centre_id, g.neighbourhood_id", lo=lo, hi=hi)
    add("commitments_made", "SELECT centre_id, neighbourhood_id, count(*) FROM commitment WHERE created_at >= :lo "
        "AND created_at < :hi GROUP BY centre_id, neighbourhood_id", lo=lo, hi=hi)
    add("commitments_kept", "SELECT centre_id, neighbourhood_id, count(*) FROM commitment WHERE status = 'done' "
        "AND done_on >= :s AND done_on <= :e GROUP BY centre_id, neighbourhood_id", s=start, e=end)
    add("hours", "SELECT centre_id, neighbourhood_id, sum(hours) FROM commitment WHERE status = 'done' "
        "AND done_on >= :s AND done_on <= :e AND hours IS NOT NULL GROUP BY centre_id, neighbourhood_id", s=start, e=end)
    add("overdue", "SELECT centre_id, neighbourhood_id, count(*) FROM commitment WHERE status = 'promised' "
        "AND due_on < :t GROUP BY centre_id, neighbourhood_id", t=today)
    # groups by stage at the end of the period, from their history, in Python
    history = defaultdict(list)
    for gid, to_stage, at, cid in sql("SELECT group_id, to_stage, changed_at, id FROM stage_change"):
        history[gid].append((at if isinstance(at, datetime) else datetime.fromisoformat(str(at)), cid, to_stage))
    for gid, c, n, stage, status, started in sql("SELECT id, centre_id, neighbourhood_id, stage, status, started_on "
                                                 "FROM community_group"):
        started = started if isinstance(started, date) else date.fromisoformat(str(started))
        if status == "ended" or started > end:
            continue
        changes = sorted(history[gid])
        before = [to for at, _i, to in changes if at < hi]
        at_end = before[-1] if before else (changes[0][2] if changes else stage)
        cells[(c, n)]["stages"][at_end] += 1
    return cells


def roll_up(cells: dict, index: int) -> dict:
    """Cells summed per centre (index 0) or per osiedle (index 1)."""
    out = defaultdict(lambda: {**{k: 0 for k in FIGURES}, "hours": Decimal(0), "stages": defaultdict(int)})
    for key, values in cells.items():
        target = out[key[index]]
        for k in FIGURES:
            target[k] += values[k]
        for s, n in values["stages"].items():
            target["stages"][s] += n
    return out


def place_dict(f) -> dict:
    d = {k: (Decimal(str(getattr(f, k))) if k == "hours" else getattr(f, k)) for k in FIGURES}
    d["stages"] = {s: n for s, n in f.stages.items() if n}
    return d


def truth_dict(values) -> dict:
    d = {k: values[k] for k in FIGURES}
    d["stages"] = {s: n for s, n in values["stages"].items() if n}
    return d


def periods_to_check(today: date) -> list[tuple[date, date]]:
    return [(date(today.year, 1, 1), today), (today - timedelta(days=75), today - timedelta(days=41)),
            (today.replace(day=1), today), (today - timedelta(days=400), today - timedelta(days=1))]


# --- the figures ------------------------------------------------------------------------------------------

def test_every_figure_per_centre_and_per_osiedle_equals_the_ground_truth(app):
    make_edge_centre(app)  # a fourth centre, with rows on the edges of 15 March – 14 April 2025
    with app.app_context():
        today, now = date.today(), utcnow()
        hoods = dict(sql("SELECT id, slug FROM neighbourhood").all())
        for start, end in periods_to_check(today) + [(EDGE_START, EDGE_END)]:
            figures = city(period(start, end), now, today)
            cells = cell_truth(start, end, now, today)
            centres, osiedla = roll_up(cells, 0), roll_up(cells, 1)
            assert len(figures.centres) == 4 and len(figures.osiedla) == 42 == len(hoods)
            assert {p.slug for p in figures.osiedla} == set(hoods.values())
            for p in figures.centres:
                assert place_dict(p.figures) == truth_dict(centres[p.id]), (start, end, p.name)
            for p in figures.osiedla:
                assert place_dict(p.figures) == truth_dict(osiedla[p.id]), (start, end, p.name)
            everything = defaultdict(int)
            for v in cells.values():
                for k in FIGURES:
                    everything[k] += v[k]
            assert {k: getattr(figures.total, k) for k in FIGURES} == dict(everything), (start, end)
        # the demo's history has something to count in each of the generated periods
        busy = city(period(*periods_to_check(today)[0]), now, today)
        assert busy.total.reached > 0 and busy.total.meetings > 0 and busy.total.commitments_kept > 0


def test_the_edge_centre_in_the_city_view(app):
    ids = make_edge_centre(app)
    with app.app_context():
        figures = city(period(EDGE_START, EDGE_END), utcnow(), date.today())
        test = next(p for p in figures.centres if p.id == ids["centre"])
        f = test.figures
        assert (f.new_residents, f.contacts, f.meetings, f.attendance, f.unnamed, f.reached) == (2, 4, 4, 6, 9, 5)
        assert (f.stage_moves, f.commitments_made, f.commitments_kept, f.hours, f.overdue) == (1, 3, 1, Decimal("2.5"),
                                                                                               1)
        # the group was at "core_group" when the period ended (its move to "action" came the next night)
        assert {s: n for s, n in f.stages.items() if n} == {"core_group": 1}
        # every osiedle is there, the empty ones with zeros
        empty = [p for p in figures.osiedla if not any(getattr(p.figures, k) for k in FIGURES)]
        assert empty and all(p.figures.groups == 0 for p in empty)


# --- the page ------------------------------------------------------------------------------------------------

def city_client(client, auth, who="city"):
    auth.login(who)
    return client


def test_the_page_tables_and_map(app, client, auth):
    city_client(client, auth)
    with statements(app) as sent:
        r = client.get("/city")
    assert r.status_code == 200
    assert len(sent) <= STATEMENT_BUDGET, sent
    html = r.get_data(as_text=True)
    today = date.today()
    assert f"{date(today.year, 1, 1):%d.%m.%Y} – {today:%d.%m.%Y}" in html  # the default period: this year
    assert html.count('id="osiedle-') == 42 and html.count('id="centre-') == 3
    svg = re.search(r'<svg class="map-svg".*?</svg>', html, re.S).group(0)
    titles = re.findall(r"<path d=\"[^\"]+\" fill=\"(#[0-9a-f]{6})\"[^>]*><title>([^<]+)</title></path>", svg)
    assert len(titles) == 42
    with app.app_context():
        figures = city(period(date(today.year, 1, 1), today), utcnow(), today)
    reached = {p.name: p.figures.reached for p in figures.osiedla}
    for fill, title in titles:
        name, value = title.rsplit(": ", 1)
        assert int(value.replace("\xa0", "").replace(" ", "")) == reached[name], name
        assert (fill == "#e3e6e1") is (reached[name] == 0)
    assert "© OpenStreetMap contributors, ODbL 1.0" in html and "https://www.openstreetmap.org/copyright" in html
    assert 'role="img"' in svg and "<desc" in svg
    # the presets, and the measure that colours the map
    for text in ("Ten miesiąc", "Poprzedni miesiąc", "Ten rok", "Poprzedni rok"):
        assert f">{text}</a>" in html
    r = client.get("/city?measure=meetings&from=2026-01-01&to=2026-06-30")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Mapa osiedli: Spotkania" in page and "01.01.2026 – 30.06.2026" in page
    assert ' style="' not in html and "<script>" not in html


def test_first_load_of_the_city_view_fits_the_budget(client, auth):
    city_client(client, auth)
    html = client.get("/city").get_data()
    total = len(gzip.compress(html, 6))
    for url in re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
        total += len(gzip.compress(client.get(url.decode()).get_data(), 6))
    assert total <= FIRST_LOAD_BUDGET, total


@pytest.mark.parametrize("query,message", [
    ("from=2026-13-01", "Parametr „from” musi być datą w postaci RRRR-MM-DD."),
    ("to=jutro", "Parametr „to” musi być datą w postaci RRRR-MM-DD."),
    ("from=2026-05-01&to=2026-04-30", "Początek okresu (2026-05-01) jest późniejszy niż jego koniec (2026-04-30)."),
    ("from=1999-12-31", "Parametr „from” musi być datą od 2000-01-01 do 2100-12-31."),
    ("measure=names", "Parametr „measure” ma nieznaną wartość"),
])
def test_bad_parameters_are_400_in_polish(client, auth, query, message):
    city_client(client, auth)
    r = client.get(f"/city?{query}")
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)


def test_only_the_city_and_admins_see_it(client, auth):
    assert client.get("/city").status_code == 302
    for who, status in (("coordinator@wilda", 403), ("animator@wilda", 403), ("reviewer@regranting", 403),
                        ("admin", 200), ("city", 200)):
        auth.login(who)
        assert client.get("/city").status_code == status, who
        assert client.get("/city/export.csv").status_code == status, who
        auth.logout()


# --- downloads ---------------------------------------------------------------------------------------------

def read_csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_downloads_of_both_tables_match_the_page_and_are_audited(app, client, auth):
    city_client(client, auth)
    start, end = date.today() - timedelta(days=75), date.today() - timedelta(days=41)
    args = f"from={start}&to={end}"
    with app.app_context():
        figures = city(period(start, end), utcnow(), date.today())
    with statements(app) as sent:
        r = client.get(f"/city/export.csv?table=osiedla&{args}")
        r.get_data()
    assert len(sent) <= STATEMENT_BUDGET, sent
    assert r.status_code == 200 and r.headers["Content-Disposition"] == (
        f'attachment; filename="cil-osiedla-{start}-{end}.csv"')
    rows = read_csv(r.get_data())
    header, body = rows[0], rows[1:]
    assert header[0] == "Osiedle" and header[1] == "Unikalne osoby" and len(body) == 43  # 42 osiedla and the total
    col = {name: i for i, name in enumerate(header)}
    for place, row in zip(figures.osiedla, body):
        assert row[0] == place.name
        assert int(row[col["Unikalne osoby"]]) == place.figures.reached
        assert int(row[col["Spotkania"]]) == place.figures.meetings
        assert int(row[col["Grupy: Działanie"]]) == place.figures.stages["action"]
    assert body[-1][0] == "Cały program" and int(body[-1][col["Kontakty"]]) == figures.total.contacts

    r = client.get(f"/city/export.xlsx?table=centres&{args}")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.get_data()), read_only=True).active
    sheet = [list(row) for row in ws.iter_rows(values_only=True)]
    assert sheet[0][:4] == ["Centrum", "Rodzaj", "Osiedle centrum", "Unikalne osoby"]
    assert [row[0] for row in sheet[1:]] == [p.name for p in figures.centres] + ["Cały program"]
    for place, row in zip(figures.centres, sheet[1:]):
        assert row[3] == place.figures.reached and Decimal(str(row[sheet[0].index("Godziny wolontariatu")])) == \
            place.figures.hours
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "city_figures")).all()
        assert len(events) == 2 and {e.action for e in events} == {"export"}
    assert client.get(f"/city/export.pdf?{args}").status_code == 404
    assert client.get(f"/city/export.csv?table=people&{args}").status_code == 400


# --- no personal data anywhere the city can reach -------------------------------------------------------------

PLANTED = {"first_name": "Zenobiusz", "last_name": "Pieczarkowski", "description": "Pan z żółtym rowerem spod dwunastki",
           "phone": "+48600111222", "email": "zenobiusz.pieczarkowski@poczta.example", "street": "Ulica Tajemnicza",
           "notes": "notatka-prywatna-xyz"}


def plant_a_person(app) -> None:
    """A resident with unmistakable personal data, reached this year (a contact, a meeting, a promise), and a
    group named after him: his data must reach no response the city gets."""
    with app.app_context():
        hood = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == "wilda"))
        centre = app.world.centres["wilda"]
        r = Resident(centre_id=centre, neighbourhood_id=hood, **PLANTED)
        db.session.add(r)
        db.session.flush()
        db.session.add(Interaction(resident_id=r.id, channel="street", occurred_at=utcnow() - timedelta(days=1),
                                   note="Rozmowa z Zenobiuszem", next_step="Zadzwonić do Zenobiusza"))
        g = Group(centre_id=centre, neighbourhood_id=hood, name="Grupa Zenobiusza Pieczarkowskiego", status="active")
        db.session.add(g)
        db.session.flush()
        db.session.add(StageChange(group_id=g.id, from_stage=None, to_stage="idea", from_version=0, note="start"))
        m = Meeting(centre_id=centre, neighbourhood_id=hood, group_id=g.id, kind="group", title="U Zenobiusza",
                    starts_at=utcnow() - timedelta(days=2), notes="Notatka o Zenobiuszu")
        db.session.add(m)
        db.session.flush()
        db.session.add(Attendance(meeting_id=m.id, resident_id=r.id))
        db.session.add(Commitment(centre_id=centre, neighbourhood_id=hood, resident_id=r.id, what="przyniesie drabinę"))
        db.session.commit()


def personal_values(app) -> tuple[list[str], list[str]]:
    """(texts to look for as they are, words to look for as whole words) of every resident, and the texts
    of the planted person's contact, meeting and group. A word is skipped when it is also part of the
    reference vocabulary the city legitimately sees (osiedla, centres, operators): "Chartowo" is a street
    in the demo and an osiedle."""
    with app.app_context():
        reference = " ".join(
            [v for row in sql("SELECT name, official_name FROM neighbourhood") for v in row]
            + [v for row in sql("SELECT name, operator FROM centre") for v in row])
        texts, words = set(), set()
        for first, last, desc, phone, email, street, notes in sql(
                "SELECT first_name, last_name, description, phone, email, street, notes FROM resident"):
            for v in (desc, email, notes):
                if v:
                    texts.add(v)
            if phone:
                texts.update({phone, phone.removeprefix("+48")})
            if first and last:
                texts.add(f"{first} {last}")
            for v in (first, last, street):
                if v and not re.search(rf"\b{re.escape(v)}\b", reference):
                    words.add(v)
    texts.update({"Rozmowa z Zenobiuszem", "Zadzwonić do Zenobiusza", "Grupa Zenobiusza Pieczarkowskiego",
                  "U Zenobiusza", "Notatka o Zenobiuszu", "przyniesie drabinę"})
    assert set(PLANTED.values()) - {PLANTED["street"], PLANTED["first_name"], PLANTED["last_name"]} <= texts
    assert {PLANTED["street"], PLANTED["first_name"], PLANTED["last_name"]} <= words
    return sorted(texts), sorted(words)


def leaks(body: str, texts, words) -> list[str]:
    lowered = body.lower()
    found = [t for t in texts if t.lower() in lowered]
    found += [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", body)]
    return found


def readable(resp) -> str:
    """The text of a response; an XLSX is unpacked (its cells live in XML inside a ZIP)."""
    data = resp.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "replace")


def city_reachable_urls(app) -> list[str]:
    """Every GET route of the application, filled with ids of records of the demo (as the role matrix does),
    and the city's view with several periods, measures and both downloads in both formats."""
    from tests.test_routes_matrix import ids_for

    ids = ids_for(app, own_ids)
    urls = {build(rule.rule, ids) for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    today = date.today()
    periods = [("", ""), (date(today.year, 1, 1), today), (today - timedelta(days=75), today - timedelta(days=41)),
               (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)), (today.replace(day=1), today)]
    for start, end in periods:
        args = f"from={start}&to={end}" if start else ""
        for measure in ("reached", "contacts", "hours"):
            urls.add(f"/city?{args}&measure={measure}")
        for fmt in ("csv", "xlsx"):
            for table in ("centres", "osiedla"):
                urls.add(f"/city/export.{fmt}?table={table}&{args}")
    return sorted(urls)


def test_no_personal_data_in_anything_the_city_can_reach(app, client, auth):
    plant_a_person(app)
    texts, words = personal_values(app)
    # the detector finds people where they are: a coordinator's list of residents
    auth.login("coordinator@wilda")
    assert "Pieczarkowski" in leaks(client.get("/residents?q=zenobiusz").get_data(as_text=True), texts, words)
    auth.logout()

    auth.login("city")
    reached, problems = [], []
    for url in city_reachable_urls(app):
        for headers in ({}, {"HX-Request": "true"}):
            resp = client.get(url, headers=headers)
            if resp.status_code >= 400 or resp.status_code in (301, 302, 303):
                continue
            reached.append(url)
            found = leaks(readable(resp), texts, words)
            if found:
                problems.append((url, headers, found[:5]))
    assert not problems, problems
    # it did reach its pages, fragments and downloads
    assert {"/", "/city", "/city/export.csv?table=centres&", "/city/export.xlsx?table=osiedla&"} <= set(reached)
    assert sum(1 for u in reached if u.startswith("/city")) >= 2 * 35
