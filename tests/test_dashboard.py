"""The dashboard (`/`) of coordinators and animators: every figure against a ground truth computed
here in plain SQL over the generated demo data, the edge cases (a person counted once, unnamed
headcounts, meetings not yet held, local midnight and summer time at the edges of a period that
cuts two months), the scope of every figure, and the page itself (its pictures, the animator's
quick start, its statement count and size)."""
import gzip
import re
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Date, DateTime, bindparam, event, select, text

from app.periods import period, recent_weeks, this_and_last_month
from models import (Attendance, Centre, Commitment, Group, Interaction, Meeting, Neighbourhood, Resident, StageChange,
                    User, db, personal_data_scope, utcnow)
from models.figures import Figures, Scope, dashboard

WARSAW = ZoneInfo("Europe/Warsaw")
STATEMENT_BUDGET = 12
FIRST_LOAD_BUDGET = 60_000
FIGURES = ("new_residents", "contacts", "meetings", "attendance", "unnamed", "reached", "stage_moves",
           "commitments_made", "commitments_kept", "hours", "overdue")


# --- the ground truth: plain SQL, written apart from models/figures.py ---------------------------------

def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[lo, hi) in naive UTC of the local days start..end: computed here, not with app.periods."""
    def utc(day):
        return datetime.combine(day, time(0), WARSAW).astimezone(timezone.utc).replace(tzinfo=None)
    return utc(start), utc(end + timedelta(days=1))


def sql(query: str, **params):
    """Run plain SQL; datetimes and dates are bound with their column types (SQLite stores them as text)."""
    stmt = text(query)
    for name, value in params.items():
        if isinstance(value, datetime):
            stmt = stmt.bindparams(bindparam(name, type_=DateTime()))
        elif isinstance(value, date):
            stmt = stmt.bindparams(bindparam(name, type_=Date()))
    return db.session.execute(stmt, params)


def where(alias: str, centre_id=None, hoods=None) -> str:
    parts = []
    if centre_id is not None:
        parts.append(f"{alias}.centre_id = {int(centre_id)}")
    if hoods is not None:
        parts.append(f"{alias}.neighbourhood_id IN ({', '.join(str(int(h)) for h in hoods) or 'NULL'})")
    return " AND ".join(parts) or "1 = 1"


def truth(start: date, end: date, now: datetime, today: date, centre_id=None, hoods=None) -> dict:
    """Every figure of the period for a scope (a centre, optionally narrowed to osiedla) as the dashboard
    defines it: contacts of the scope's residents, meetings of the scope, and the scope's residents
    reached by either."""
    lo, hi = utc_bounds(start, end)
    r, m, c, g = (where(a, centre_id, hoods) for a in ("r", "m", "c", "g"))
    p = {"lo": lo, "hi": hi, "now": now}
    held = f"m.starts_at >= :lo AND m.starts_at < :hi AND m.starts_at <= :now AND {m}"
    figures = {
        "new_residents": sql(f"SELECT count(*) FROM resident r WHERE r.created_at >= :lo AND r.created_at < :hi "
                             f"AND {r}", lo=lo, hi=hi).scalar(),
        "contacts": sql(f"SELECT count(*) FROM interaction i JOIN resident r ON r.id = i.resident_id "
                        f"WHERE i.occurred_at >= :lo AND i.occurred_at < :hi AND {r}", lo=lo, hi=hi).scalar(),
        "meetings": sql(f"SELECT count(*) FROM meeting m WHERE {held}", **p).scalar(),
        "unnamed": sql(f"SELECT coalesce(sum(m.unnamed_count), 0) FROM meeting m WHERE {held}", **p).scalar(),
        "attendance": sql(f"SELECT count(*) FROM attendance a JOIN meeting m ON m.id = a.meeting_id WHERE {held}",
                          **p).scalar(),
        "reached": sql(f"SELECT count(*) FROM (SELECT i.resident_id FROM interaction i JOIN resident r "
                       f"ON r.id = i.resident_id WHERE i.occurred_at >= :lo AND i.occurred_at < :hi AND {r} "
                       f"UNION SELECT a.resident_id FROM attendance a JOIN meeting m ON m.id = a.meeting_id "
                       f"JOIN resident r ON r.id = a.resident_id WHERE {held} AND {r}) people", **p).scalar(),
        "stage_moves": sql(f"SELECT count(*) FROM stage_change s JOIN community_group g ON g.id = s.group_id "
                           f"WHERE s.from_stage IS NOT NULL AND s.changed_at >= :lo AND s.changed_at < :hi AND {g}",
                           lo=lo, hi=hi).scalar(),
        "commitments_made": sql(f"SELECT count(*) FROM commitment c WHERE c.created_at >= :lo AND c.created_at < :hi "
                                f"AND {c}", lo=lo, hi=hi).scalar(),
        "commitments_kept": sql(f"SELECT count(*) FROM commitment c WHERE c.status = 'done' AND c.done_on >= :s "
                                f"AND c.done_on <= :e AND {c}", s=start, e=end).scalar(),
        "hours": sql(f"SELECT coalesce(sum(c.hours), 0) FROM commitment c WHERE c.status = 'done' AND c.done_on >= :s "
                     f"AND c.done_on <= :e AND {c}", s=start, e=end).scalar(),
        "overdue": sql(f"SELECT count(*) FROM commitment c WHERE c.status = 'promised' AND c.due_on < :t AND {c}",
                       t=today).scalar(),
    }
    figures["hours"] = Decimal(str(figures["hours"]))
    return {k: (v if k == "hours" else int(v)) for k, v in figures.items()}


def as_dict(f: Figures) -> dict:
    return {k: (Decimal(str(getattr(f, k))) if k == "hours" else getattr(f, k)) for k in FIGURES}


def scope_of(user_key: str, app) -> tuple[Scope, int, list[int] | None]:
    """The scope of a demo account, and its centre and osiedla read with plain SQL (None: the whole centre)."""
    user = db.session.get(User, app.world.users[user_key])
    hoods = None
    if user.role == "animator":
        hoods = [h for (h,) in sql("SELECT neighbourhood_id FROM user_neighbourhood WHERE user_id = :u", u=user.id)]
    return personal_data_scope(user), user.centre_id, hoods


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


# --- periods ----------------------------------------------------------------------------------------

def test_this_month_is_compared_with_the_same_days_of_the_last():
    a, b = this_and_last_month(date(2026, 11, 26))
    assert (a.start, a.end, b.start, b.end) == (date(2026, 11, 1), date(2026, 11, 26), date(2026, 10, 1),
                                                date(2026, 10, 26))
    a, b = this_and_last_month(date(2026, 3, 31))  # February has no 31st: up to its end
    assert (a.start, a.end, b.start, b.end) == (date(2026, 3, 1), date(2026, 3, 31), date(2026, 2, 1),
                                                date(2026, 2, 28))
    a, b = this_and_last_month(date(2027, 1, 5))  # across the new year
    assert (b.start, b.end) == (date(2026, 12, 1), date(2026, 12, 5))
    # local midnight in UTC: summer time (UTC+2) in October, winter time (UTC+1) in November
    assert (b.lo, a.hi) == (datetime(2026, 11, 30, 23), datetime(2027, 1, 5, 23))
    weeks = recent_weeks(date(2026, 11, 26))
    assert len(weeks) == 12 and weeks[-1].start == date(2026, 11, 23) and weeks[-1].end == date(2026, 11, 26)
    assert all(w.start.weekday() == 0 for w in weeks) and weeks[0].start == date(2026, 9, 7)
    assert all(b.start == a.end + timedelta(days=1) for a, b in zip(weeks, weeks[1:]))


# --- every figure against the ground truth, for every kind of scope ---------------------------------

@pytest.mark.parametrize("user_key", ["coordinator@wilda", "animator@wilda", "coordinator@rataje",
                                      "coordinator@regranting", "animator@regranting"])
def test_dashboard_figures_equal_the_ground_truth(app, user_key):
    with app.app_context():
        today, now = date.today(), utcnow()
        scope, centre_id, hoods = scope_of(user_key, app)
        periods = list(this_and_last_month(today))
        # and two periods of the generated history: a long one, and one that cuts two months
        periods += [period(today - timedelta(days=120), today - timedelta(days=1)),
                    period(today - timedelta(days=75), today - timedelta(days=41))]
        weeks = recent_weeks(today)
        d = dashboard(scope, periods, weeks, now, today)
        for p, figures in zip(periods, d.figures):
            expected = truth(p.start, p.end, now, today, centre_id, hoods)
            assert as_dict(figures) == expected, (user_key, p)
        assert sum(d.figures[2].__dict__[k] for k in ("contacts", "meetings", "reached")) > 0  # data to count
        # the ladder now: residents in scope by rung
        rungs = dict(sql(f"SELECT rung, count(*) FROM resident r WHERE {where('r', centre_id, hoods)} GROUP BY rung"
                         ).all())
        assert {k: v for k, v in d.ladder.items() if v} == rungs
        # people reached by age group, in the first period ("not given" kept apart)
        lo, hi = utc_bounds(periods[0].start, periods[0].end)
        by_age = dict(sql(
            f"SELECT r.age_group, count(*) FROM resident r WHERE r.id IN ("
            f"SELECT i.resident_id FROM interaction i JOIN resident r ON r.id = i.resident_id WHERE "
            f"i.occurred_at >= :lo AND i.occurred_at < :hi AND {where('r', centre_id, hoods)} "
            f"UNION SELECT a.resident_id FROM attendance a JOIN meeting m ON m.id = a.meeting_id WHERE "
            f"m.starts_at >= :lo AND m.starts_at < :hi AND m.starts_at <= :now AND {where('m', centre_id, hoods)}) "
            f"AND {where('r', centre_id, hoods)} GROUP BY r.age_group", lo=lo, hi=hi, now=now).all())
        assert {a: v[0] for a, v in d.reached_by_age if v[0]} == by_age
        # contacts and meetings week by week
        for w, contacts, meetings in d.weeks:
            t = truth(w.start, w.end, now, today, centre_id, hoods)
            assert (contacts, meetings) == (t["contacts"], t["meetings"]), w


# --- edge cases, on rows made for them in a centre of their own -----------------------------------------

EDGE_START, EDGE_END = date(2025, 3, 15), date(2025, 4, 14)  # cuts two months; summer time starts on 30 March


def local(y, mo, d, h, mi=0) -> datetime:
    """A Warsaw wall-clock time as the naive UTC the database keeps."""
    return datetime(y, mo, d, h, mi, tzinfo=WARSAW).astimezone(timezone.utc).replace(tzinfo=None)


def make_edge_centre(app) -> dict:
    """A centre in Antoninek with nothing else in it, and rows on the edges of 15 March – 14 April 2025."""
    with app.app_context():
        hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == "antoninek-zieliniec-kobylepole"))
        other = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == "chartowo"))
        centre = Centre(slug="cil-test", name="CIL Test", kind="neighbourhood", operator="Fundacja Testowa",
                        neighbourhood=hood)
        db.session.add(centre)
        db.session.flush()

        def person(first, created, **extra):
            r = Resident(centre_id=centre.id, neighbourhood_id=extra.pop("hood", hood.id), first_name=first,
                         last_name="Brzegowa", created_at=created, age_group=extra.pop("age", "adult"), **extra)
            db.session.add(r)
            db.session.flush()
            return r

        def meeting(at, present=(), unnamed=0, hood_id=None):
            m = Meeting(centre_id=centre.id, neighbourhood_id=hood_id or hood.id, kind="open", title="Spotkanie",
                        starts_at=at, unnamed_count=unnamed)
            db.session.add(m)
            db.session.flush()
            for r in present:
                db.session.add(Attendance(meeting_id=m.id, resident_id=r.id))
            return m

        ala = person("Ala", local(2025, 3, 20, 12))  # new in the period
        ola = person("Ola", local(2025, 3, 14, 23, 30))  # added the evening before the period: not new
        ewa = person("Ewa", local(2025, 2, 1, 12), age="senior", anonymised_at=local(2025, 5, 1, 12))  # erased since
        jan = person("Jan", local(2025, 4, 15, 0, 30), age=None)  # the first minutes after the period: not new
        ela = person("Ela", local(2025, 1, 10, 12))  # only at the last meeting of the period
        # Ala: three meetings and two contacts in the period, one person reached
        meeting(local(2025, 3, 15, 0, 15), [ala], unnamed=4)  # 23:15 UTC on the 14th: in
        meeting(local(2025, 4, 1, 18), [ala, ewa], unnamed=2)
        meeting(local(2025, 4, 14, 23, 30), [ala, ela])  # the last half hour of the period: in
        meeting(local(2025, 4, 15, 0, 30), [ala, jan], unnamed=7)  # 22:30 UTC on the 14th, but the 15th: out
        meeting(local(2025, 3, 14, 23, 45), [jan], unnamed=1)  # the evening before: out
        for at in (local(2025, 3, 16, 10), local(2025, 4, 2, 10)):
            db.session.add(Interaction(resident_id=ala.id, channel="street", occurred_at=at))
        db.session.add(Interaction(resident_id=ola.id, channel="phone", occurred_at=local(2025, 3, 31, 1, 30)))
        db.session.add(Interaction(resident_id=jan.id, channel="phone", occurred_at=local(2025, 4, 15, 0, 5)))  # out
        # a group: its first record is not a move, the second one is, the third is after the period
        g = Group(centre_id=centre.id, neighbourhood_id=hood.id, name="Grupa Brzegowa", stage="action",
                  started_on=date(2025, 3, 1), status="active")
        db.session.add(g)
        db.session.flush()
        for n, (frm, to, at) in enumerate([(None, "idea", local(2025, 3, 20, 10)),
                                           ("idea", "core_group", local(2025, 4, 1, 10)),
                                           ("core_group", "action", local(2025, 4, 15, 0, 10))]):
            db.session.add(StageChange(group_id=g.id, from_stage=frm, to_stage=to, from_version=n, note="",
                                       changed_at=at, changed_on=at.date()))
        # commitments: made in the period, kept on its last day, kept a day later, overdue now
        def promise(who, created, status="promised", due=None, done=None, hours=None):
            db.session.add(Commitment(centre_id=centre.id, neighbourhood_id=hood.id, resident_id=who.id, what="pomoc",
                                      created_at=created, status=status, due_on=due, done_on=done, hours=hours))
        promise(ala, local(2025, 4, 2, 18), status="done", done=date(2025, 4, 14), hours=Decimal("2.5"))
        promise(ala, local(2025, 4, 2, 18), status="done", done=date(2025, 4, 15), hours=Decimal("4"))
        promise(ewa, local(2025, 3, 10, 18), status="promised", due=date(2025, 3, 31))  # made before; overdue now
        promise(ewa, local(2025, 4, 14, 22, 59), status="dropped")  # made in the last minute of the period
        # and one osiedle of the centre that an animator would not have: a contact and a meeting there
        far = person("Ida", local(2025, 3, 20, 12), hood=other.id)
        db.session.add(Interaction(resident_id=far.id, channel="street", occurred_at=local(2025, 4, 3, 10)))
        meeting(local(2025, 4, 3, 18), [far], unnamed=3, hood_id=other.id)
        db.session.commit()
        return {"centre": centre.id, "hood": hood.id, "other": other.id}


def test_edge_cases_of_a_period_that_cuts_two_months(app):
    ids = make_edge_centre(app)
    with app.app_context():
        p = period(EDGE_START, EDGE_END)
        today, now = date.today(), utcnow()
        d = dashboard(Scope(centre_id=ids["centre"]), [p], [], now, today)
        f = d.figures[0]
        # Ala (new), Ida (new); Ola was added the evening before, Ewa earlier, Jan after
        assert f.new_residents == 2
        assert f.contacts == 4  # Ala twice, Ola, Ida (Jan's is after the period)
        assert f.meetings == 4 and f.attendance == 6  # 3 with Ala (+ Ewa and Ela once each) and Ida's
        assert f.unnamed == 4 + 2 + 3
        # Ala once for five events; Ola by a contact; Ewa (erased since) and Ela by a meeting; Ida; not Jan
        assert f.reached == 5
        assert f.reached_all == 5 + 9
        assert f.stage_moves == 1
        assert (f.commitments_made, f.commitments_kept, f.hours) == (3, 1, Decimal("2.5"))
        assert f.overdue == 1
        assert as_dict(f) == truth(EDGE_START, EDGE_END, now, today, ids["centre"])
        assert d.ladder["known"] == 6  # nobody's rung was refreshed: everyone counts, erased or not
        ages = dict(d.reached_by_age)
        assert ages["adult"] == [4] and ages["senior"] == [1] and ages[None] == [0]

        # an animator of the centre's own osiedle: nothing of Chartowo (Ida, her contact and meeting)
        narrow = dashboard(Scope(centre_id=ids["centre"], neighbourhood_ids=(ids["hood"],)), [p], [], now, today)
        n = narrow.figures[0]
        assert (n.new_residents, n.contacts, n.meetings, n.attendance, n.unnamed, n.reached) == (1, 3, 3, 5, 6, 4)
        assert as_dict(n) == truth(EDGE_START, EDGE_END, now, today, ids["centre"], [ids["hood"]])

        # a period that reaches into the future: a meeting is counted once it has begun
        before = local(2025, 4, 14, 23)  # "now" half an hour before the last meeting of the period
        early = dashboard(Scope(centre_id=ids["centre"]), [p], [], before, today).figures[0]
        assert (early.meetings, early.attendance, early.unnamed) == (3, 4, 9)
        assert early.reached == 4  # Ala came to earlier meetings too; Ela's meeting has not begun
        assert as_dict(early) == truth(EDGE_START, EDGE_END, before, today, ids["centre"])


def test_a_person_at_many_meetings_and_contacts_is_one_person(app):
    ids = make_edge_centre(app)
    with app.app_context():
        ala = db.session.scalar(select(Resident).where(Resident.first_name == "Ala",
                                                       Resident.centre_id == ids["centre"]))
        for k in range(5):  # five more meetings and five more contacts in the period
            m = Meeting(centre_id=ids["centre"], neighbourhood_id=ids["hood"], kind="group", title="Jeszcze raz",
                        starts_at=local(2025, 3, 20 + k, 18))
            db.session.add(m)
            db.session.flush()
            db.session.add(Attendance(meeting_id=m.id, resident_id=ala.id))
            db.session.add(Interaction(resident_id=ala.id, channel="street", occurred_at=local(2025, 3, 20 + k, 9)))
        db.session.commit()
        f = dashboard(Scope(centre_id=ids["centre"]), [period(EDGE_START, EDGE_END)], [], utcnow(),
                      date.today()).figures[0]
        assert f.reached == 5 and f.meetings == 9 and f.attendance == 11 and f.contacts == 9


# --- scope ------------------------------------------------------------------------------------------

def add_wilda_activity(app, name="Zenobia Wildecka-Testowa") -> None:
    """A new resident of Wilda with a contact, a meeting and a promise today."""
    with app.app_context():
        hood = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == "wilda"))
        centre = app.world.centres["wilda"]
        first, last = name.split(" ", 1)
        r = Resident(centre_id=centre, neighbourhood_id=hood, first_name=first, last_name=last)
        db.session.add(r)
        db.session.flush()
        db.session.add(Interaction(resident_id=r.id, channel="street", occurred_at=utcnow() - timedelta(minutes=5)))
        m = Meeting(centre_id=centre, neighbourhood_id=hood, kind="open", title="Spotkanie", unnamed_count=2,
                    starts_at=utcnow() - timedelta(minutes=30))
        db.session.add(m)
        db.session.flush()
        db.session.add(Attendance(meeting_id=m.id, resident_id=r.id))
        db.session.add(Commitment(centre_id=centre, neighbourhood_id=hood, resident_id=r.id, what="plakat"))
        db.session.commit()


def month_figures(app, user_key: str) -> dict:
    with app.app_context():
        today = date.today()
        scope, _c, _h = scope_of(user_key, app)
        return as_dict(dashboard(scope, [this_and_last_month(today)[0]], [], utcnow(), today).figures[0])


def test_a_coordinator_counts_only_their_centre(app):
    before = {k: month_figures(app, k) for k in ("coordinator@wilda", "coordinator@rataje", "animator@wilda")}
    add_wilda_activity(app)
    after = {k: month_figures(app, k) for k in before}
    assert after["coordinator@rataje"] == before["coordinator@rataje"]
    for key in ("coordinator@wilda", "animator@wilda"):
        delta = {k: after[key][k] - before[key][k] for k in FIGURES}
        assert delta == {"new_residents": 1, "contacts": 1, "meetings": 1, "attendance": 1, "unnamed": 2,
                         "reached": 1, "stage_moves": 0, "commitments_made": 1, "commitments_kept": 0, "hours": 0,
                         "overdue": 0}, key


def test_an_animator_counts_only_their_osiedla(app):
    """The regranting centre works city-wide; its animator only in the osiedla assigned to them."""
    with app.app_context():
        animator = db.session.get(User, app.world.users["animator@regranting"])
        mine = set(animator.neighbourhood_ids)
        elsewhere = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.id.not_in(mine))
                                      .order_by(Neighbourhood.id))
    before = {k: month_figures(app, k) for k in ("animator@regranting", "coordinator@regranting")}
    with app.app_context():
        centre = app.world.centres["regranting"]
        r = Resident(centre_id=centre, neighbourhood_id=elsewhere, first_name="Poza", last_name="Zasięgiem")
        db.session.add(r)
        db.session.flush()
        db.session.add(Interaction(resident_id=r.id, channel="street", occurred_at=utcnow() - timedelta(minutes=5)))
        m = Meeting(centre_id=centre, neighbourhood_id=elsewhere, kind="open", title="Gdzie indziej",
                    starts_at=utcnow() - timedelta(hours=1), unnamed_count=5)
        db.session.add(m)
        db.session.flush()
        db.session.add(Attendance(meeting_id=m.id, resident_id=r.id))
        db.session.add(Commitment(centre_id=centre, neighbourhood_id=elsewhere, resident_id=r.id, what="pomoc",
                                  status="promised", due_on=date.today() - timedelta(days=3)))
        db.session.commit()
    after = {k: month_figures(app, k) for k in before}
    assert after["animator@regranting"] == before["animator@regranting"]
    grew = {k: after["coordinator@regranting"][k] - before["coordinator@regranting"][k] for k in FIGURES}
    assert grew == {"new_residents": 1, "contacts": 1, "meetings": 1, "attendance": 1, "unnamed": 5, "reached": 1,
                    "stage_moves": 0, "commitments_made": 1, "commitments_kept": 0, "hours": 0, "overdue": 1}


# --- the page ---------------------------------------------------------------------------------------------

def tile(html: str, key: str) -> tuple[str, str]:
    """(this month, the last one) as shown in a figure's tile."""
    m = re.search(rf'id="fig-{key}">.*?class="now">([^<]*)<.*?class="before">([^<]*)<', html, re.S)
    assert m, key
    return m.group(1), m.group(2)


def plain(shown: str) -> int:
    return int(shown.replace("\xa0", "").replace(" ", ""))


@pytest.mark.parametrize("user_key", ["coordinator@wilda", "animator@wilda", "animator@regranting"])
def test_the_page_shows_the_figures_pictures_and_what_needs_attention(app, client, auth, user_key):
    auth.login(user_key)
    with statements(app) as sent:
        r = client.get("/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert len(sent) <= STATEMENT_BUDGET, sent
    with app.app_context():
        today = date.today()
        scope, centre_id, hoods = scope_of(user_key, app)
        a, b = this_and_last_month(today)
        now = utcnow()
        ta, tb = truth(a.start, a.end, now, today, centre_id, hoods), truth(b.start, b.end, now, today, centre_id, hoods)
    for key in ("contacts", "meetings", "attendance", "reached", "commitments_made", "new_residents"):
        assert tuple(plain(v) for v in tile(html, key)) == (ta[key], tb[key]), key
    assert tuple(plain(v) for v in tile(html, "reached_all")) == (ta["reached"] + ta["unnamed"],
                                                                  tb["reached"] + tb["unnamed"])
    # four pictures, each with a title, a description and its numbers in a table
    assert html.count('role="img"') >= 4 and html.count("<desc") >= 4
    for heading in ("Aktywność tydzień po tygodniu", "Grupy na etapach, miesiąc po miesiącu", "Drabina zaangażowania",
                    "Do kogo docieramy: grupy wieku"):
        assert heading in html
    assert html.count("Dane wykresu w tabeli") == 4
    assert "Grupy, które utknęły" in html and "Moje następne kroki" in html
    assert ' style="' not in html and "<script>" not in html


def test_stalled_groups_and_followups_are_the_users_own(app, client, auth):
    with app.app_context():
        hood = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == "wilda"))
        g = Group(centre_id=app.world.centres["wilda"], neighbourhood_id=hood, name="Grupa Uśpiona Testowa",
                  started_on=date.today() - timedelta(days=200), status="active", stage="planning",
                  stage_changed_at=utcnow() - timedelta(days=200))
        db.session.add(g)
        r = Resident(centre_id=app.world.centres["wilda"], neighbourhood_id=hood, first_name="Krok",
                     last_name="Następny")
        db.session.add(r)
        db.session.flush()
        db.session.add(Interaction(resident_id=r.id, user_id=app.world.users["coordinator@wilda"], channel="phone",
                                   next_step="Oddzwonić w sprawie ławek", follow_up_on=date.today()))
        db.session.commit()
    auth.login("coordinator@wilda")
    html = client.get("/").get_data(as_text=True)
    assert "Grupa Uśpiona Testowa" in html and "ten sam etap od 200 dni" in html
    assert "Oddzwonić w sprawie ławek" in html and "Krok Następny" in html
    auth.logout()
    auth.login("coordinator@rataje")
    html = client.get("/").get_data(as_text=True)
    assert "Grupa Uśpiona Testowa" not in html and "Krok Następny" not in html


def test_the_animator_starts_a_meeting_in_one_tap_from_the_start_page(app, client, auth):
    with app.app_context():
        hood = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == "wilda"))
        g = Group(centre_id=app.world.centres["wilda"], neighbourhood_id=hood, name="Grupa Od Razu",
                  animator_id=app.world.users["animator@wilda"], status="active")
        db.session.add(g)
        db.session.commit()
        gid = g.id
    auth.login("animator@wilda")
    html = client.get("/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/meetings/quick">\s*<input type="hidden" name="csrf_token"[^>]*>'
                     r'\s*<input type="hidden" name="submission_key"[^>]*>'
                     r'\s*<input type="hidden" name="group_id" value="(\d+)">\s*'
                     r'<button type="submit" class="wide">Spotkanie teraz: Grupa Od Razu</button>', html)
    assert form and int(form.group(1)) == gid
    r = client.post("/meetings/quick", data={"group_id": gid})
    assert r.status_code == 303 and re.fullmatch(r"/meetings/\d+", r.headers["Location"])
    # a coordinator has no quick start (they do not run the group)
    auth.logout()
    auth.login("coordinator@wilda")
    assert "Spotkanie teraz" not in client.get("/").get_data(as_text=True)


def test_first_load_of_the_dashboard_fits_the_budget(app, client, auth):
    auth.login("coordinator@wilda")
    html = client.get("/").get_data()
    total = len(gzip.compress(html, 6))
    for url in re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
        total += len(gzip.compress(client.get(url.decode()).get_data(), 6))
    assert total <= FIRST_LOAD_BUDGET, total


@pytest.mark.parametrize("user_key,link", [("city", True), ("admin", True), ("reviewer@regranting", False)])
def test_other_roles_keep_their_start_pages(client, auth, user_key, link):
    auth.login(user_key)
    html = client.get("/").get_data(as_text=True)
    assert ('href="/city"' in html) is link
    assert "Drabina zaangażowania" not in html and "Spotkanie teraz" not in html


def test_an_animator_without_osiedla_sees_zeros_and_the_reason(app, client, auth):
    with app.app_context():
        db.session.execute(text("DELETE FROM user_neighbourhood WHERE user_id = :u"),
                           {"u": app.world.users["animator@wilda"]})
        db.session.commit()
        f = dashboard(Scope(centre_id=app.world.centres["wilda"], neighbourhood_ids=()),
                      list(this_and_last_month(date.today())), [], utcnow(), date.today()).figures[0]
        assert as_dict(f) == {k: 0 for k in FIGURES}
    auth.login("animator@wilda")
    r = client.get("/")
    assert r.status_code == 200 and "Nie masz jeszcze przypisanych osiedli" in r.get_data(as_text=True)

