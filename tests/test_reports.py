"""The report for the city (`/reports`): every figure against a ground truth computed here with plain
SQL (sqlalchemy `text()`) over the generated demo data and over hand-made edge cases; scoping by role;
no personal data for the city; formula-safe CSV and XLSX; constant statements; bounded memory.

The ground truth is written independently of models/reports.py: simple queries that fetch ids and
rows, with the counting, the de-duplication and the "stage at the end" done in Python.
"""
import csv
import io
import re
import tracemalloc
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import Date, DateTime, bindparam, event, insert, select, text

from app.timeutil import local_day_bounds_utc, local_to_utc, today_local
from models import (Attendance, AuditEvent, Centre, Commitment, Cooperation, GrantApplication, GrantStatusChange, Group,
                    Interaction, Meeting, Partner, Resident, StageChange, User, db, partner_meeting, utcnow)
from models.reports import centre_report, period_bounds

STATEMENT_BUDGET = 12
MARCH, APRIL = date(2021, 3, 15), date(2021, 4, 14)  # a period that cuts two months (and DST: 28 March)


# --- the ground truth -----------------------------------------------------------------------------

RESULT_TYPES = {"started_on": Date, "changed_at": DateTime, "done_on": Date}


def _sql(query: str, **params):
    """Plain SQL with typed parameters and date columns (dates and UTC timestamps as each database
    stores them: SQLite keeps them as text)."""
    stmt = text(query)
    typed = {k: t for k, t in RESULT_TYPES.items() if re.search(rf"\b{k}\b", query.split(" FROM ")[0])}
    used = set(re.findall(r":(\w+)", query))
    params = {k: v for k, v in params.items() if k in used}
    binds = []
    for name, value in params.items():
        if isinstance(value, datetime):
            binds.append(bindparam(name, type_=DateTime))
        elif isinstance(value, date):
            binds.append(bindparam(name, type_=Date))
        elif isinstance(value, (list, tuple)):
            binds.append(bindparam(name, expanding=True))
    if binds:
        stmt = stmt.bindparams(*binds)
    if typed:
        stmt = stmt.columns(**typed)
    return db.session.execute(stmt, params).all()


def truth(centre_id: int, start: date, end: date, hoods=None, now: datetime | None = None) -> dict:
    """Every figure of the report, from plain SQL and Python (app/timeutil.py gives the UTC bounds)."""
    lo, hi = local_day_bounds_utc(start)[0], local_day_bounds_utc(end)[1]
    now = now or utcnow()
    p = {"c": centre_id, "lo": lo, "hi": hi, "s": start, "e": end, "now": now}
    in_scope = (lambda hood_id: True) if hoods is None else (lambda hood_id: hood_id in set(hoods))

    residents = {rid: (age, hood_id, hood) for rid, age, hood_id, hood in _sql(
        "SELECT r.id, r.age_group, r.neighbourhood_id, n.name FROM resident r "
        "JOIN neighbourhood n ON n.id = r.neighbourhood_id WHERE r.centre_id = :c", c=centre_id)
        if in_scope(hood_id)}
    meetings = {mid: (kind, unnamed, group_id) for mid, kind, unnamed, group_id, hood_id in _sql(
        "SELECT id, kind, unnamed_count, group_id, neighbourhood_id FROM meeting "
        "WHERE centre_id = :c AND starts_at >= :lo AND starts_at < :hi AND starts_at <= :now", **p)
        if in_scope(hood_id)}
    # meetings anywhere in the city that count in the period: a resident of the centre may come to any
    held = {mid: group_id for mid, group_id in _sql(
        "SELECT id, group_id FROM meeting WHERE starts_at >= :lo AND starts_at < :hi AND starts_at <= :now", **p)}
    contacted = {rid for (rid,) in _sql(
        "SELECT resident_id FROM interaction WHERE occurred_at >= :lo AND occurred_at < :hi", lo=lo, hi=hi)}
    attendance = _sql("SELECT meeting_id, resident_id FROM attendance")
    attended = {rid for mid, rid in attendance if mid in held}
    reached = [rid for rid in residents if rid in contacted or rid in attended]
    unnamed = sum(u for _k, u, _g in meetings.values())

    kinds = {}
    for kind in ("group", "open", "action", "consultation", "training", "other"):
        ids = [m for m, (k, _u, _g) in meetings.items() if k == kind]
        kinds[kind] = {"kind": kind, "meetings": len(ids),
                       "named_attendance": sum(1 for mid, _rid in attendance if mid in set(ids)),
                       "unnamed": sum(meetings[m][1] for m in ids)}

    # Groups: formed, active (formed, met, or moved between stages in the period), stage by the end.
    history = {}
    for gid, from_stage, to_stage, changed_at, cid in _sql(
            "SELECT s.group_id, s.from_stage, s.to_stage, s.changed_at, s.id FROM stage_change s "
            "JOIN community_group g ON g.id = s.group_id WHERE g.centre_id = :c", c=centre_id):
        history.setdefault(gid, []).append((changed_at, cid, from_stage, to_stage))
    met = {g for g in held.values() if g}  # any meeting of the group in the period
    groups = []
    for gid, name, started_on, stage, hood_id, hood in _sql(
            "SELECT g.id, g.name, g.started_on, g.stage, g.neighbourhood_id, n.name FROM community_group g "
            "JOIN neighbourhood n ON n.id = g.neighbourhood_id WHERE g.centre_id = :c", c=centre_id):
        if not in_scope(hood_id) or started_on > end:
            continue
        changes = sorted(history.get(gid, []))
        moved = any(f is not None and lo <= at < hi for at, _i, f, _t in changes)
        if not (started_on >= start or gid in met or moved):
            continue
        before = [t for at, _i, _f, t in changes if at < hi]
        after = [(f or t) for at, _i, f, t in changes if at >= hi]
        at_end = before[-1] if before else (after[0] if after else stage)
        groups.append({"id": gid, "name": name, "stage": at_end, "formed": started_on >= start,
                       "neighbourhood": hood})

    grant_ids = {aid for aid, hood_id in _sql(
        "SELECT DISTINCT c.application_id, a.neighbourhood_id FROM grant_status_change c "
        "JOIN grant_application a ON a.id = c.application_id "
        "WHERE c.to_status IN ('in_progress', 'report_submitted', 'settled', 'returned') "
        "AND c.changed_at >= :lo AND c.changed_at < :hi AND (a.centre_id = :c OR a.group_id IN "
        "(SELECT id FROM community_group WHERE centre_id = :c))", **p) if in_scope(hood_id)}

    done = [(rid, hours) for rid, hours, hood_id in _sql(
        "SELECT resident_id, hours, neighbourhood_id FROM commitment WHERE centre_id = :c AND status = 'done' "
        "AND done_on >= :s AND done_on <= :e", **p) if in_scope(hood_id)]

    partner_rows = {pid: (name, kind) for pid, name, kind, hood_id in _sql(
        "SELECT id, name, kind, neighbourhood_id FROM partner WHERE centre_id = :c", c=centre_id)
        if hood_id is None or in_scope(hood_id)}
    cooperated = {pid for (pid,) in _sql(
        "SELECT partner_id FROM cooperation WHERE happened_on >= :s AND happened_on <= :e", s=start, e=end)}
    at_meetings = {pid for pid, mid in _sql("SELECT partner_id, meeting_id FROM partner_meeting") if mid in meetings}
    involved = [partner_rows[pid] for pid in partner_rows if pid in cooperated | at_meetings]

    grants = None
    kind = _sql("SELECT kind FROM centre WHERE id = :c", c=centre_id)[0][0]
    if kind == "regranting" and hoods is None:
        calls = [cid for (cid,) in _sql("SELECT id FROM grant_call WHERE centre_id = :c AND activities_to >= :s "
                                        "AND activities_from <= :e", **p)]
        apps = _sql("SELECT status, granted_amount, returned_amount FROM grant_application WHERE call_id IN :ids",
                    ids=calls or [-1])
        granted = [a for a in apps if a[0] in ("granted", "agreement", "in_progress", "report_submitted",
                                               "settled", "returned")]
        settled = [a for a in apps if a[0] in ("settled", "returned")]
        grants = {"calls": len(calls), "applications": len(apps), "granted": len(granted),
                  "granted_amount": sum((Decimal(str(a[1])) for a in granted), Decimal("0")),
                  "settled": len(settled),
                  "settled_amount": sum((Decimal(str(a[1])) - Decimal(str(a[2] or 0)) for a in settled),
                                        Decimal("0"))}

    ages = Counter(residents[rid][0] for rid in reached)
    return {
        "unique": len(reached),
        "unnamed": unnamed,
        "with_unnamed": len(reached) + unnamed,
        "by_age": {a: ages.get(a, 0) for a in ("child", "youth", "adult", "senior", None)},
        "by_neighbourhood": dict(Counter(residents[rid][2] for rid in reached)),
        "kinds": kinds,
        "groups": sorted((g["name"], g["stage"], g["formed"], g["neighbourhood"]) for g in groups),
        "formed": sum(1 for g in groups if g["formed"]),
        "by_stage": dict(Counter(g["stage"] for g in groups)),
        "actions": kinds["action"]["meetings"],
        "grant_initiatives": len(grant_ids),
        "volunteers": len({rid for rid, _h in done}),
        "hours": sum((Decimal(str(h)) for _r, h in done if h is not None), Decimal("0")),
        "commitments_done": len(done),
        "partners": sorted(involved),
        "partner_kinds": dict(Counter(k for _n, k in involved)),
        "grants": grants,
    }


def as_truth(report: dict) -> dict:
    """The report's structure, in the shape of `truth`."""
    people, groups = report["people"], report["groups"]
    g = report["grants"]
    return {
        "unique": people["unique"],
        "unnamed": people["unnamed"],
        "with_unnamed": people["with_unnamed"],
        "by_age": {r["age_group"]: r["people"] for r in people["by_age"]},
        "by_neighbourhood": {r["neighbourhood"]: r["people"] for r in people["by_neighbourhood"]},
        "kinds": {r["kind"]: r for r in report["meetings"]["by_kind"]},
        "groups": sorted((x["name"], x["stage"], x["formed"], x["neighbourhood"]) for x in groups["list"]),
        "formed": groups["formed"],
        "by_stage": {r["stage"]: r["groups"] for r in groups["by_stage"] if r["groups"]},
        "actions": report["initiatives"]["actions"],
        "grant_initiatives": report["initiatives"]["grant_initiatives"],
        "volunteers": report["volunteers"]["people"],
        "hours": report["volunteers"]["hours"],
        "commitments_done": report["volunteers"]["commitments_done"],
        "partners": sorted((p["name"], p["kind"]) for p in report["partners"]["list"]),
        "partner_kinds": {r["kind"]: r["partners"] for r in report["partners"]["by_kind"] if r["partners"]},
        "grants": None if g is None else {k: g[k] for k in ("calls", "applications", "granted", "granted_amount",
                                                              "settled", "settled_amount")},
    }


def periods(today: date) -> list[tuple[date, date]]:
    first = today.replace(day=1)
    two_back = (first - timedelta(days=40)).replace(day=15)
    return [
        (date(today.year, 1, 1), today),  # this year so far
        (today - timedelta(days=90), today - timedelta(days=1)),
        (two_back, (two_back + timedelta(days=31)).replace(day=14)),  # the 15th to the 14th: cuts two months
        (today - timedelta(days=364), today + timedelta(days=40)),  # reaches into the planned meetings
    ]


# --- helpers for hand-made data -----------------------------------------------------------------------

def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Poznań wall-clock time as stored (naive UTC)."""
    return local_to_utc(datetime(day.year, day.month, day.day, hour, minute))


def centre(app, slug: str) -> Centre:
    with app.app_context():
        c = db.session.get(Centre, app.world.centres[slug])
        db.session.expunge(c)
        return c


def add(app, *objects) -> list[int]:
    with app.app_context():
        for o in objects:
            db.session.add(o)
        db.session.commit()
        return [getattr(o, "id", None) for o in objects]


def person(c: Centre, name: str, age: str | None = "adult", hood_id: int | None = None) -> Resident:
    first, last = name.split()
    return Resident(centre_id=c.id, neighbourhood_id=hood_id or c.neighbourhood_id, first_name=first,
                    last_name=last, age_group=age)


def meeting(c: Centre, when: datetime, kind: str = "open", unnamed: int = 0, group_id=None, hood_id=None) -> Meeting:
    return Meeting(centre_id=c.id, neighbourhood_id=hood_id or c.neighbourhood_id, kind=kind, title="Test",
                   starts_at=when, unnamed_count=unnamed, group_id=group_id)


NOW = utcnow()  # one "now" for the report and its ground truth (which meetings have begun)


def report_of(app, c: Centre, start: date, end: date, hoods=None, personal=True) -> dict:
    with app.app_context():
        return centre_report(c.id, start, end, hoods, personal=personal, now=NOW)


def truth_of(app, c: Centre, start: date, end: date, hoods=None) -> dict:
    with app.app_context():
        return truth(c.id, start, end, hoods, now=NOW)


@contextmanager
def statements(app):
    with app.app_context():
        engine = db.engine
    sent = []
    listener = lambda *args: sent.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def xlsx_rows(body: bytes) -> list[list]:
    """The sheet's rows, without the empty cells at their ends (an empty row is [])."""
    ws = load_workbook(io.BytesIO(body)).active
    rows = []
    for row in ws.iter_rows():
        values = [c.value for c in row]
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    return rows


def csv_rows(body: bytes) -> list[list]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


# --- every figure equals the ground truth --------------------------------------------------------------

@pytest.mark.parametrize("slug", ["wilda", "rataje", "regranting"])
def test_every_figure_equals_the_ground_truth_over_generated_data(app, slug):
    c = centre(app, slug)
    today = today_local()
    seen = Counter()
    for start, end in periods(today):
        expected = truth_of(app, c, start, end)
        got = as_truth(report_of(app, c, start, end))
        assert got == expected, (slug, start, end)
        for key in ("unique", "unnamed", "formed", "volunteers", "commitments_done", "grant_initiatives"):
            seen[key] += bool(expected[key])
        seen["meetings"] += bool(sum(k["meetings"] for k in expected["kinds"].values()))
        seen["groups"] += bool(expected["groups"])
        seen["partners"] += bool(expected["partners"])
    # the generated data exercises the figures (a comparison of zeros would prove nothing)
    for key in ("unique", "unnamed", "meetings", "volunteers", "commitments_done", "groups", "partners"):
        assert seen[key] >= 2, (slug, key, seen)
    if slug == "regranting":
        assert seen["grant_initiatives"] >= 1


def test_an_animators_report_is_restricted_to_their_osiedla(app):
    """The regranting centre works city-wide: its animator's report counts only their osiedla."""
    c = centre(app, "regranting")
    with app.app_context():
        animator = db.session.get(User, app.world.users["animator@regranting"])
        hoods = animator.neighbourhood_ids
        other = db.session.scalar(text("SELECT id FROM neighbourhood WHERE id NOT IN :ids ORDER BY id LIMIT 1")
                                  .bindparams(bindparam("ids", expanding=True)), {"ids": list(hoods)})
    assert hoods and other
    today = today_local()
    # a person of another osiedle of the same centre, with a contact today
    rid, = add(app, person(c, "Inna Osiedlowa", hood_id=other))
    add(app, Interaction(resident_id=rid, channel="street", occurred_at=at(today, 0, 30)))
    for start, end in periods(today):
        assert as_truth(report_of(app, c, start, end, hoods)) == truth_of(app, c, start, end, hoods)
    full = report_of(app, c, date(today.year, 1, 1), today)
    mine = report_of(app, c, date(today.year, 1, 1), today, hoods)
    assert mine["people"]["unique"] < full["people"]["unique"]
    assert mine["grants"] is None and full["grants"] is not None  # calls belong to the whole centre
    with app.app_context():
        names = {n for (n,) in db.session.execute(text(
            "SELECT name FROM neighbourhood WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
            {"ids": list(hoods)})}
    assert {r["neighbourhood"] for r in mine["people"]["by_neighbourhood"]} <= names
    assert report_of(app, c, date(today.year, 1, 1), today, ())["people"]["unique"] == 0  # no osiedla: nothing


def test_bounds_agree_with_app_timeutil():
    for day in (date(2021, 3, 27), date(2021, 3, 28), date(2021, 10, 31), date(2026, 1, 1), date(2026, 12, 31)):
        assert period_bounds(day, day) == local_day_bounds_utc(day)
    assert period_bounds(MARCH, APRIL) == (local_day_bounds_utc(MARCH)[0], local_day_bounds_utc(APRIL)[1])


# --- edge cases, by hand ------------------------------------------------------------------------------

def test_edge_cases_of_a_period_that_cuts_two_months(app):
    """15 March - 14 April 2021 in Wilda (nothing generated there then): people counted once, unnamed
    headcounts, the ends of the period in local time (CET in March, CEST in April), dates, stages."""
    c = centre(app, "wilda")
    assert report_of(app, c, date(2021, 1, 1), date(2021, 12, 31))["people"]["unique"] == 0
    many, contact_only, both, outside, senior = add(
        app, person(c, "Wiele Spotkań"), person(c, "Tylko Kontakt", age="youth"), person(c, "Kontakt Iobecność"),
        person(c, "Poza Okresem"), person(c, "Bez Wieku", age=None))
    before = meeting(c, at(date(2021, 3, 14), 23, 30), unnamed=7)  # 22:30 UTC on the 14th: before the period
    first = meeting(c, at(MARCH, 0, 30), unnamed=5)  # 23:30 UTC on the 14th: inside (local date counts)
    action = meeting(c, at(date(2021, 3, 20), 10), kind="action", unnamed=3)
    last = meeting(c, at(APRIL, 23, 30), kind="action")  # 21:30 UTC on the 14th: the last evening counts
    after = meeting(c, at(date(2021, 4, 15), 0, 30), unnamed=11)  # 22:30 UTC on the 14th, but the 15th locally
    ids = add(app, before, first, action, last, after)
    b, m1, m2, m3, a = ids
    with app.app_context():
        db.session.execute(insert(Attendance), [
            {"meeting_id": mid, "resident_id": rid} for mid, rid in
            [(m1, many), (m2, many), (m3, many), (m1, both), (b, outside), (a, outside), (m3, senior)]])
        db.session.add_all([
            Interaction(resident_id=many, channel="street", occurred_at=at(date(2021, 3, 16), 12)),
            Interaction(resident_id=contact_only, channel="phone", occurred_at=at(date(2021, 4, 2), 12)),
            Interaction(resident_id=contact_only, channel="phone", occurred_at=at(date(2021, 4, 3), 12)),
            Interaction(resident_id=both, channel="one_to_one", occurred_at=at(APRIL, 23, 59)),
            Interaction(resident_id=outside, channel="street", occurred_at=at(date(2021, 3, 14), 23, 59)),
            Interaction(resident_id=outside, channel="street", occurred_at=at(date(2021, 4, 15), 0, 1)),
        ])
        for rid, done_on, hours in [(many, MARCH, "2.5"), (many, APRIL, "1"), (contact_only, APRIL, "3"),
                                    (outside, date(2021, 3, 14), "9"), (outside, date(2021, 4, 15), "9")]:
            db.session.add(Commitment(centre_id=c.id, neighbourhood_id=c.neighbourhood_id, resident_id=rid,
                                      what="pomoc", status="done", hours=Decimal(hours), done_on=done_on))
        db.session.add(Commitment(centre_id=c.id, neighbourhood_id=c.neighbourhood_id, resident_id=both,
                                  what="obiecane", status="promised", due_on=APRIL))
        db.session.commit()
    r = report_of(app, c, MARCH, APRIL)
    people = r["people"]
    assert people["unique"] == 4  # many, contact_only, both, senior: each once; "outside" never
    assert people["unnamed"] == 5 + 3 == 8 and people["with_unnamed"] == 12
    assert {x["age_group"]: x["people"] for x in people["by_age"]} == {
        "child": 0, "youth": 1, "adult": 2, "senior": 0, None: 1}
    assert people["by_neighbourhood"] == [{"neighbourhood": "Wilda", "people": 4}]
    kinds = {k["kind"]: k for k in r["meetings"]["by_kind"]}
    assert kinds["open"] == {"kind": "open", "meetings": 1, "named_attendance": 2, "unnamed": 5}
    assert kinds["action"] == {"kind": "action", "meetings": 2, "named_attendance": 3, "unnamed": 3}
    assert r["initiatives"]["actions"] == 2
    assert r["volunteers"] == {"people": 2, "hours": Decimal("6.50"), "commitments_done": 3}
    assert as_truth(r) == truth_of(app, c, MARCH, APRIL)
    # one day either side changes the figures as the UTC bounds say
    wider = report_of(app, c, date(2021, 3, 14), date(2021, 4, 15))
    assert wider["people"]["unique"] == 5 and wider["people"]["unnamed"] == 8 + 7 + 11
    assert as_truth(wider) == truth_of(app, c, date(2021, 3, 14), date(2021, 4, 15))
    single = report_of(app, c, APRIL, APRIL)  # one day: the meeting at 23:30 and the contact at 23:59
    assert single["people"]["unique"] == 3 and single["meetings"]["totals"]["meetings"] == 1


def test_planned_meetings_wait_and_people_count_where_they_belong(app):
    """June 2022: a meeting counts once it has begun; a Wilda resident at a Rataje meeting is reached by
    Wilda (where they belong), while the meeting and the visit are Rataje's."""
    wilda, rataje = centre(app, "wilda"), centre(app, "rataje")
    june, end = date(2022, 6, 1), date(2022, 6, 30)
    rid, = add(app, person(wilda, "Gość Zrataj"))
    planned, visited = add(app, meeting(wilda, at(date(2022, 6, 20), 18), kind="action", unnamed=9),
                           meeting(rataje, at(date(2022, 6, 10), 18)))
    with app.app_context():
        db.session.execute(insert(Attendance), [{"meeting_id": visited, "resident_id": rid}])
        db.session.commit()
        before = centre_report(wilda.id, june, end, now=at(date(2022, 6, 20), 17, 59))
        started = centre_report(wilda.id, june, end, now=at(date(2022, 6, 20), 18))
        there = centre_report(rataje.id, june, end, now=NOW)
        assert as_truth(before) == truth(wilda.id, june, end, now=at(date(2022, 6, 20), 17, 59))
    assert before["meetings"]["totals"] == {"meetings": 0, "named_attendance": 0, "unnamed": 0}
    assert before["initiatives"]["actions"] == 0 and before["people"]["with_unnamed"] == 1
    assert started["meetings"]["totals"]["meetings"] == 1 and started["people"]["unnamed"] == 9
    assert started["initiatives"]["actions"] == 1
    assert before["people"]["unique"] == 1  # reached at a Rataje meeting, counted in Wilda
    assert there["people"]["unique"] == 0
    assert there["meetings"]["totals"] == {"meetings": 1, "named_attendance": 1, "unnamed": 0}
    assert as_truth(there) == truth_of(app, rataje, june, end)


def test_groups_formed_active_and_the_stage_reached_by_the_end(app):
    c = centre(app, "wilda")
    new, old, idle, late = add(
        app,
        Group(centre_id=c.id, neighbourhood_id=c.neighbourhood_id, name="Nowa Grupa Testowa",
              started_on=date(2021, 3, 20), stage="planning"),
        Group(centre_id=c.id, neighbourhood_id=c.neighbourhood_id, name="Stara Grupa Testowa",
              started_on=date(2019, 5, 1), stage="independent"),
        Group(centre_id=c.id, neighbourhood_id=c.neighbourhood_id, name="Uśpiona Grupa Testowa",
              started_on=date(2019, 5, 1), stage="action", status="dormant"),
        Group(centre_id=c.id, neighbourhood_id=c.neighbourhood_id, name="Późna Grupa Testowa",
              started_on=date(2021, 5, 1), stage="idea"))

    def change(gid, v, frm, to, when):
        return StageChange(group_id=gid, from_stage=frm, to_stage=to, from_version=v, changed_at=when,
                           changed_on=when.date(), note="test")

    add(app,
        change(new, 0, None, "idea", at(date(2021, 3, 20), 9)),
        change(new, 1, "idea", "core_group", at(date(2021, 4, 1), 18)),
        change(new, 2, "core_group", "planning", at(date(2021, 4, 15), 0, 30)),  # the 15th locally: after the end
        # entered into Animo after the period, with its earlier history unknown: counted at its first stage
        change(old, 0, None, "action", at(date(2022, 1, 10), 9)),
        change(old, 1, "action", "independent", at(date(2022, 6, 1), 9)),
        change(idle, 0, None, "action", at(date(2019, 5, 1), 9)),
        meeting(c, at(date(2021, 4, 10), 18), kind="group", group_id=old))
    r = report_of(app, c, MARCH, APRIL)
    groups = {g["name"]: g for g in r["groups"]["list"]}
    assert set(groups) == {"Nowa Grupa Testowa", "Stara Grupa Testowa"}  # idle did nothing, late came later
    assert groups["Nowa Grupa Testowa"]["stage"] == "core_group" and groups["Nowa Grupa Testowa"]["formed"]
    assert groups["Stara Grupa Testowa"]["stage"] == "action" and not groups["Stara Grupa Testowa"]["formed"]
    assert r["groups"]["formed"] == 1 and r["groups"]["active"] == 2
    assert {s["stage"]: s["groups"] for s in r["groups"]["by_stage"] if s["groups"]} == {"core_group": 1, "action": 1}
    assert as_truth(r) == truth_of(app, c, MARCH, APRIL)
    # a later period: the move of 15 April is now inside, and so is the late group
    r2 = report_of(app, c, date(2021, 4, 15), date(2021, 12, 31))
    names = {g["name"]: g for g in r2["groups"]["list"]}
    assert names["Nowa Grupa Testowa"]["stage"] == "planning" and not names["Nowa Grupa Testowa"]["formed"]
    assert names["Późna Grupa Testowa"]["formed"] and "Stara Grupa Testowa" not in names
    assert as_truth(r2) == truth_of(app, c, date(2021, 4, 15), date(2021, 12, 31))


def test_partners_and_grant_initiatives_in_the_period(app):
    c = centre(app, "wilda")
    cooperating, at_meeting, too_late, idle = add(
        app, *(Partner(centre_id=c.id, neighbourhood_id=c.neighbourhood_id, name=n, kind=k) for n, k in (
            ("Biblioteka Testowa", "library"), ("Szkoła Testowa", "school"), ("Parafia Testowa", "parish"),
            ("Firma Testowa", "business"))))
    mid, = add(app, meeting(c, at(APRIL, 23, 30)))
    add(app, Cooperation(partner_id=cooperating, happened_on=MARCH, what="wspólny festyn"),
        Cooperation(partner_id=too_late, happened_on=date(2021, 4, 15), what="za późno"))
    with app.app_context():
        db.session.execute(insert(partner_meeting), [{"partner_id": at_meeting, "meeting_id": mid}])
        # a micro-grant of a Wilda group (run by the regranting centre) moves to realisation in the period
        gid = db.session.scalar(select(Group.id).where(Group.centre_id == c.id).limit(1))
        application = db.session.scalar(select(GrantApplication).order_by(GrantApplication.id).limit(1))
        application.group_id = gid
        db.session.add_all([
            GrantStatusChange(application_id=application.id, from_status="agreement", to_status="in_progress",
                              from_version=9001, changed_at=at(date(2021, 3, 30), 12), note="test"),
            GrantStatusChange(application_id=application.id, from_status="in_progress",
                              to_status="report_submitted", from_version=9002,
                              changed_at=at(date(2021, 4, 10), 12), note="test")])
        db.session.commit()
    r = report_of(app, c, MARCH, APRIL)
    assert [p["name"] for p in r["partners"]["list"]] == ["Biblioteka Testowa", "Szkoła Testowa"]
    assert {k["kind"]: k["partners"] for k in r["partners"]["by_kind"] if k["partners"]} == {"library": 1,
                                                                                            "school": 1}
    assert r["initiatives"]["grant_initiatives"] == 1  # two moves of one application: one initiative
    assert as_truth(r) == truth_of(app, c, MARCH, APRIL)
    regranting = centre(app, "regranting")  # the centre that runs the call counts it too
    assert report_of(app, regranting, MARCH, APRIL)["initiatives"]["grant_initiatives"] == 1


# --- the page, the downloads and who may have them ---------------------------------------------------

def test_coordinator_produces_this_years_report(client, auth, app):
    auth.login("coordinator@wilda")
    r = client.get("/reports")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<h1 id=\"report-h\">Raport: CIL Wilda</h1>" in body
    today = today_local()
    assert f"{date(today.year, 1, 1):%d.%m.%Y} – {today:%d.%m.%Y}" in body
    assert "cały CIL" in body and "Pobierz XLSX" in body and "Sporządzono" in body
    assert 'name="centre"' not in body  # nothing to choose: their own centre
    expected = truth_of(app, centre(app, "wilda"), date(today.year, 1, 1), today)
    unique = f"{expected['unique']:,}".replace(",", "\xa0")
    assert f"<td class=\"num\">{unique}</td>" in body
    assert 'href="?from=' in body and "Poprzedni kwartał" in body


def test_rataje_coordinator_cannot_get_wildas_report(client, auth, app):
    wilda = app.world.centres["wilda"]
    auth.login("coordinator@rataje")
    for path in ("/reports", "/reports/xlsx", "/reports/csv"):
        assert client.get(f"{path}?centre={wilda}").status_code == 404
    assert "Raport: CIL Rataje" in client.get("/reports").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "report_exported")) is None


def test_animator_gets_their_osiedla_only_and_reviewer_nothing(client, auth, app):
    auth.login("animator@regranting")
    body = client.get("/reports").get_data(as_text=True)
    assert "zakres: Twoje osiedla" in body and "Mikrogranty" not in body
    assert client.get(f"/reports?centre={app.world.centres['wilda']}").status_code == 404
    auth.logout()
    auth.login("reviewer@regranting")
    for path in ("/reports", "/reports/xlsx", "/reports/csv"):
        assert client.get(path).status_code == 403


def test_city_report_has_no_personal_data(client, auth, app):
    c = centre(app, "wilda")
    today = today_local()
    start = date(today.year, 1, 1) if today.month > 3 else date(today.year - 1, 1, 1)
    with app.app_context():
        people = [f"{f} {last}" for f, last in db.session.execute(
            select(Resident.first_name, Resident.last_name).where(Resident.centre_id == c.id,
                                                                  Resident.last_name.is_not(None)))]
        group_names = list(db.session.scalars(select(Group.name).where(Group.centre_id == c.id)))
        contacts = list(db.session.scalars(text("SELECT name FROM partner_contact")))
    report = report_of(app, c, start, today, personal=False)
    assert report["groups"]["active"] > 0
    assert all("name" not in g and "id" not in g for g in report["groups"]["list"])
    auth.login("city")
    assert client.get("/reports").status_code == 200  # the form: choose a centre
    query = f"centre={c.id}&from={start.isoformat()}&to={today.isoformat()}"
    page = client.get(f"/reports?{query}").get_data(as_text=True)
    downloads = [client.get(f"/reports/{fmt}?{query}") for fmt in ("xlsx", "csv")]
    assert all(d.status_code == 200 for d in downloads)
    texts = [page, "\n".join(str(v) for row in xlsx_rows(downloads[0].data) for v in row if v is not None),
             downloads[1].data.decode("utf-8-sig")]
    for t in texts:
        for name in people + group_names + contacts:
            assert name not in t, name
        assert "Powstałe w okresie" in t  # the counts are there
    assert "Raport dla miasta: same liczby" in page
    with app.app_context():
        audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report_exported")
                                    .order_by(AuditEvent.id)).all()
        assert [(a.object_id, a.detail_dict["format"]) for a in audits] == [(c.id, "xlsx"), (c.id, "csv")]
        assert audits[0].user_id == app.world.users["city"] and audits[0].detail_dict["start"] == start.isoformat()
    auth.logout()
    auth.login("admin")
    assert client.get(f"/reports?{query}").status_code == 200


def test_presets_are_whole_years_quarters_and_months(app):
    from views.reports import presets

    with app.test_request_context():
        got = {name: (a, b) for name, a, b in presets(date(2026, 2, 10))}
        assert got == {
            "Ten rok": (date(2026, 1, 1), date(2026, 2, 10)),
            "Poprzedni rok": (date(2025, 1, 1), date(2025, 12, 31)),
            "Ten kwartał": (date(2026, 1, 1), date(2026, 2, 10)),
            "Poprzedni kwartał": (date(2025, 10, 1), date(2025, 12, 31)),
            "Ten miesiąc": (date(2026, 2, 1), date(2026, 2, 10)),
            "Poprzedni miesiąc": (date(2026, 1, 1), date(2026, 1, 31)),
        }
        assert dict((n, (a, b)) for n, a, b in presets(date(2024, 3, 31)))["Poprzedni miesiąc"] == (
            date(2024, 2, 1), date(2024, 2, 29))


def test_bad_periods_are_explained_in_polish(client, auth, app):
    auth.login("coordinator@wilda")
    r = client.get("/reports?from=2026-05-01&to=2026-04-01")
    assert r.status_code == 422
    assert "Koniec okresu nie może być wcześniej niż jego początek." in r.get_data(as_text=True)
    r = client.get("/reports?from=2015-01-01&to=2026-04-01")
    assert r.status_code == 422 and "najwyżej 5 lat" in r.get_data(as_text=True)
    r = client.get("/reports?from=2026-01-01")
    assert r.status_code == 422 and "Podaj koniec okresu." in r.get_data(as_text=True)
    r = client.get("/reports/xlsx?from=1999-12-31&to=2000-01-02")
    assert r.status_code == 422 and "Data musi być między" in r.get_data(as_text=True)
    r = client.get("/reports?from=1.05.2026&to=2026-06-01")
    assert r.status_code == 400
    assert "Parametr „from” musi być datą w postaci RRRR-MM-DD." in r.get_data(as_text=True)
    assert client.get("/reports?centre=abc").status_code == 400
    auth.logout()
    auth.login("city")
    r = client.get("/reports/csv?from=2026-01-01&to=2026-02-01")
    assert r.status_code == 422 and "Wybierz CIL" in r.get_data(as_text=True)
    assert client.get("/reports?centre=999999&from=2026-01-01&to=2026-02-01").status_code == 404


def test_downloads_carry_the_same_figures_and_escape_formulas(client, auth, app):
    c = centre(app, "wilda")
    evil_partner, evil_group = '=HYPERLINK("http://zly.example","klik")', "+SUM(1;2)"
    pid, gid = add(app, Partner(centre_id=c.id, neighbourhood_id=c.neighbourhood_id, name=evil_partner,
                                kind="ngo"),
                   Group(centre_id=c.id, neighbourhood_id=c.neighbourhood_id, name=evil_group,
                         started_on=MARCH, stage="idea"))
    add(app, Cooperation(partner_id=pid, happened_on=MARCH, what="@współpraca"))
    auth.login("coordinator@wilda")
    query = f"from={MARCH.isoformat()}&to={APRIL.isoformat()}"
    x = client.get(f"/reports/xlsx?{query}")
    assert x.status_code == 200 and x.mimetype.endswith("spreadsheetml.sheet")
    assert x.headers["Content-Disposition"] == 'attachment; filename="raport-cil-wilda-2021-03-15-2021-04-14.xlsx"'
    wb = load_workbook(io.BytesIO(x.data))
    cells = [cell for row in wb.active.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for cell in cells)  # no formula anywhere
    values = [cell.value for cell in cells]
    # string cells hold the text as it is (the apostrophe is for CSV only)
    assert evil_partner in values and evil_group in values
    assert "'" + evil_partner not in values and "'" + evil_group not in values
    s = client.get(f"/reports/csv?{query}")
    rows = csv_rows(s.data)
    flat = [v for row in rows for v in row]
    assert "'" + evil_partner in flat and "'" + evil_group in flat
    assert not any(v.startswith(("=", "+", "-", "@")) for v in flat)
    # the same table in both, with the figures of the report
    xs = [[("" if v is None else v) for v in row] for row in xlsx_rows(x.data)]
    # the same text, but for the apostrophe that defuses a formula in CSV only
    assert [row[0] for row in xs if row] == [row[0].removeprefix("'") for row in rows if row]
    report = report_of(app, c, MARCH, APRIL)
    facts = {row[0]: row[1] for row in xs if len(row) > 1}
    assert facts["Powstałe w okresie"] == report["groups"]["formed"] == 1
    assert facts["Godziny wolontariatu"] == float(report["volunteers"]["hours"])
    page = client.get(f"/reports?{query}").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://zly.example&#34;,&#34;klik&#34;)" in page  # text on the page, escaped


def test_regranting_report_has_the_micro_grants(client, auth, app):
    c = centre(app, "regranting")
    today = today_local()
    start, end = today - timedelta(days=364), today
    auth.login("coordinator@regranting")
    body = client.get(f"/reports?from={start.isoformat()}&to={end.isoformat()}").get_data(as_text=True)
    expected = truth_of(app, c, start, end)["grants"]
    assert expected["calls"] >= 1 and expected["granted"] >= 1
    assert "Mikrogranty" in body and "Kwota przyznana" in body
    amount = f"{expected['granted_amount']:,.2f}".replace(",", "\xa0").replace(".", ",")
    assert f"{amount}\xa0zł" in body
    rows = xlsx_rows(client.get(f"/reports/xlsx?from={start.isoformat()}&to={end.isoformat()}").data)
    facts = {row[0]: row[1] for row in rows if len(row) > 1}
    assert facts["Kwota przyznana"] == float(expected["granted_amount"])
    assert facts["Rozliczone granty"] == expected["settled"]
    csv_facts = {row[0]: row[1] for row in csv_rows(client.get(
        f"/reports/csv?from={start.isoformat()}&to={end.isoformat()}").data) if len(row) > 1}
    assert csv_facts["Kwota przyznana"] == f"{expected['granted_amount']:.2f}".replace(".", ",")  # Polish Excel
    assert csv_facts["Rozliczone granty"] == str(expected["settled"])


# --- budgets: statements and memory -----------------------------------------------------------------------

def bulk_year(app, c: Centre, scale: int, start: date = date(2021, 1, 1)) -> None:
    """A year (from `start`) of activity at `scale` x 300 residents: contacts, meetings, attendance, commitments,
    groups with their first stage record and partners with cooperations (inserted in bulk)."""
    from app.demo import bulk

    with app.app_context():
        hood = c.neighbourhood_id or db.session.scalar(text("SELECT MIN(id) FROM neighbourhood"))
        where = {"centre_id": c.id, "neighbourhood_id": hood}
        base, n_people = bulk.next_id(Resident.__table__), 300 * scale
        bulk.insert(Resident.__table__, [
            {"id": base + i, **where, "first_name": "Osoba", "last_name": f"Numer{i}", "search_text": "",
             "age_group": ("child", "youth", "adult", "senior", None)[i % 5], "sort_name": f"numer{i}",
             "rung": "known", "version": 1} for i in range(n_people)])
        ibase = bulk.next_id(Interaction.__table__)
        bulk.insert(Interaction.__table__, [
            {"id": ibase + i, "resident_id": base + (i * 7) % n_people,
             "channel": "street", "occurred_at": at(start + timedelta(days=i % 365), 12)}
            for i in range(n_people * 2)])
        mbase, n_meetings = bulk.next_id(Meeting.__table__), 30 * scale
        bulk.insert(Meeting.__table__, [
            {"id": mbase + i, **where, "kind": "open", "title": "Spotkanie", "unnamed_count": i % 4,
             "starts_at": at(start + timedelta(days=i % 365), 18), "duration_min": 90, "version": 1}
            for i in range(n_meetings)])
        db.session.execute(insert(Attendance), [
            {"meeting_id": mbase + m, "resident_id": base + (m * 13 + k) % n_people}
            for m in range(n_meetings) for k in range(10)])
        cbase = bulk.next_id(Commitment.__table__)
        bulk.insert(Commitment.__table__, [
            {"id": cbase + i, **where, "resident_id": base + i, "what": "pomoc", "status": "done",
             "hours": Decimal("1.5"), "done_on": start + timedelta(days=i % 365), "version": 1}
            for i in range(0, n_people, 3)])
        gbase = bulk.next_id(Group.__table__)
        bulk.insert(Group.__table__, [
            {"id": gbase + i, **where, "name": f"Grupa sąsiedzka numer {gbase + i}", "stage": "idea",
             "started_on": start + timedelta(days=i % 365), "status": "active", "version": 1}
            for i in range(10 * scale)])
        sbase = bulk.next_id(StageChange.__table__)
        bulk.insert(StageChange.__table__, [
            {"id": sbase + i, "group_id": gbase + i, "from_stage": None, "to_stage": "idea", "from_version": 0,
             "note": "", "changed_at": at(start + timedelta(days=i % 365), 9), "changed_on": start}
            for i in range(10 * scale)])
        pbase = bulk.next_id(Partner.__table__)
        bulk.insert(Partner.__table__, [
            {"id": pbase + i, **where, "name": f"Instytucja partnerska {pbase + i}", "kind": "ngo",
             "active": True, "version": 1} for i in range(5 * scale)])
        cobase = bulk.next_id(Cooperation.__table__)
        bulk.insert(Cooperation.__table__, [
            {"id": cobase + i, "partner_id": pbase + i, "happened_on": start + timedelta(days=i % 365),
             "what": "współpraca"} for i in range(5 * scale)])
        db.session.commit()


def test_statements_are_few_and_the_same_whatever_the_data(client, auth, app):
    """The heaviest report (a regranting centre, with its micro-grants) and the city's form-and-report."""
    today = today_local()
    start = today - timedelta(days=364)
    query = f"from={start.isoformat()}&to={today.isoformat()}"
    auth.login("coordinator@regranting")
    client.get(f"/reports?{query}")
    with statements(app) as small:
        assert client.get(f"/reports?{query}").status_code == 200
    bulk_year(app, centre(app, "regranting"), scale=3, start=start)
    bulk_year(app, centre(app, "wilda"), scale=3, start=start)
    with statements(app) as large:
        assert client.get(f"/reports?{query}").status_code == 200
    assert len(small) == len(large) <= STATEMENT_BUDGET, large
    auth.logout()
    auth.login("city")
    regranting = app.world.centres["regranting"]  # the city's worst case: the centres to choose from, the grants
    with statements(app) as city:
        body = client.get(f"/reports?centre={regranting}&{query}").get_data(as_text=True)
    assert "Grupa sąsiedzka numer" not in body
    assert len(city) <= STATEMENT_BUDGET, city
    with statements(app) as download:
        assert client.get(f"/reports/xlsx?centre={regranting}&{query}").status_code == 200
    assert len(download) <= STATEMENT_BUDGET, download


def test_a_years_xlsx_is_made_with_bounded_memory(client, auth, app):
    """A year of a busy centre (6,000 residents, 12,000 contacts, 600 meetings, 6,000 attendances, 200 named
    groups and 100 partners in the lists): the figures are counted in SQL and the sheet is written row by
    row, so the Python memory of the download stays small and does not grow with the data."""
    c = centre(app, "wilda")
    auth.login("coordinator@wilda")
    query = "from=2021-01-01&to=2021-12-31"

    def peak() -> int:
        tracemalloc.start()
        try:
            r = client.get(f"/reports/xlsx?{query}")
            body = r.get_data()
            _, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert r.status_code == 200 and body.startswith(b"PK")
        return top

    bulk_year(app, c, scale=1)
    small = peak()
    bulk_year(app, c, scale=20)
    large = peak()
    report = report_of(app, c, date(2021, 1, 1), date(2021, 12, 31))
    assert report["people"]["unique"] == 300 * 21 and report["groups"]["active"] == 10 * 21
    assert large < 25 * 1024 * 1024, large
    assert large < small * 2 + 4 * 1024 * 1024, (small, large)
