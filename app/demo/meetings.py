"""Demo meetings: each group's meetings and the osiedla's open meetings, past and upcoming, who came,
and what people promised (done with hours, promised, overdue, dropped).

Reads `ctx.groups` when the groups step left it — (group id, centre id, osiedle id, animator id,
member resident ids) — and otherwise makes only open meetings. Everything is drawn from `ctx.rng`,
so a seed gives the same data; rows go in through `bulk.insert` with explicit ids (city scale:
about 60,000 meetings, 600,000 attendances and 80,000 commitments).
"""
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.demo import bulk
from app.timeutil import local_to_utc
from models import Commitment, Meeting, db, meeting_animator

CITY_MEETINGS = 60_000
CITY_ATTENDANCES = 600_000
CITY_COMMITMENTS = 80_000
CITY_DAYS = 730  # two years of history
SMALL_DAYS = 160

GROUP_TOPICS = ["Spotkanie robocze", "Planujemy kolejne działania", "Podsumowanie akcji", "Przygotowania do festynu",
                "Rozmowa o mikrograncie", "Spotkanie z Radą Osiedla", "Kto za co odpowiada", "Burza mózgów",
                "Wizja lokalna na podwórku", "Podział zadań na miesiąc", "Spotkanie z dyrekcją szkoły",
                "Ewaluacja: co się udało"]
OPEN_MEETINGS = [
    ("open", "Spotkanie otwarte mieszkańców"), ("open", "Kawa sąsiedzka"), ("open", "Śniadanie na trawie"),
    ("action", "Sprzątanie podwórka"), ("action", "Piknik sąsiedzki"), ("action", "Potańcówka na podwórku"),
    ("action", "Wspólne sadzenie kwiatów"), ("action", "Wymiana książek i roślin"),
    ("consultation", "Konsultacje: zieleń przy szkole"), ("consultation", "Konsultacje: plac zabaw"),
    ("consultation", "Spacer badawczy po osiedlu"),
    ("training", "Warsztaty: jak napisać wniosek o mikrogrant"), ("training", "Szkolenie: moderowanie spotkań"),
    ("other", "Dyżur animatora w bibliotece"),
]
PLACES = ["Świetlica osiedlowa", "Filia Biblioteki Raczyńskich", "Klub seniora", "Sala w szkole podstawowej",
          "Podwórko przy bloku 12", "Kawiarnia sąsiedzka", "Dom kultury", "Sala parafialna", "Park osiedlowy",
          "Lokal Rady Osiedla"]
PROMISES = ["przyniesie sadzonki", "zrobi plakat", "porozmawia z administracją spółdzielni",
            "zaprosi sąsiadów ze swojej klatki", "upiecze ciasto na piknik", "załatwi salę w szkole",
            "zrobi zdjęcia z akcji", "zbierze podpisy pod pismem do Rady Osiedla", "przygotuje ogłoszenie na Facebooku",
            "pomoże rozstawić stoły i ławki", "skontaktuje się z Radą Osiedla", "przygotuje budżet akcji",
            "napisze notkę do gazetki osiedlowej", "pożyczy nagłośnienie", "roznosi ulotki po klatkach",
            "poprowadzi warsztat dla dzieci", "zapyta w bibliotece o salę", "kupi farby i pędzle"]
NOTES = ["Dobra atmosfera, przyszło kilka nowych osób.", "Dyskusja o terminie akcji; część osób pracuje w soboty.",
         "Trzeba wrócić do tematu zgody spółdzielni.", "Pojawił się pomysł wspólnego wniosku o mikrogrant.",
         "Mniej osób niż zwykle: deszcz.", None, None]
DECISIONS = ["Akcja w sobotę o 10:00.", "Piszemy wniosek o mikrogrant do końca miesiąca.",
             "Następne spotkanie za dwa tygodnie, ta sama sala.", "Zapraszamy Radę Osiedla na kolejne spotkanie.",
             None, None, None]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(datetime.combine(day, time(hour, minute)))


class _Builder:
    """Collects the rows of all four tables, with ids counted from what is already there."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.rng = ctx.rng
        self.meetings, self.attendance, self.animators, self.commitments = [], [], [], []
        self.mid = bulk.next_id(Meeting.__table__)
        self.cid = bulk.next_id(Commitment.__table__)
        self.hood_of = {r[0]: r[2] for r in ctx.residents}
        self.sqlite = db.session.get_bind().dialect.name == "sqlite"

    def meeting(self, *, centre_id, hood_id, group_id, kind, title, day, animator_id, with_animator=True,
                notes=True) -> tuple[int, datetime]:
        rng = self.rng
        starts = _at(day, rng.choice((10, 16, 17, 17, 18, 18, 19)), rng.choice((0, 0, 30)))
        duration = rng.choice((60, 90, 90, 120))
        mid = self.mid
        self.mid += 1
        self.meetings.append({
            "id": mid, "centre_id": centre_id, "neighbourhood_id": hood_id, "group_id": group_id, "kind": kind,
            "title": title, "starts_at": starts, "duration_min": duration, "place": rng.choice(PLACES),
            "notes": rng.choice(NOTES) if notes else None, "decisions": rng.choice(DECISIONS) if notes else None,
            "unnamed_count": rng.choice((0, 0, 0, 1, 2, 3, 5)) if kind != "group" else rng.choice((0, 0, 0, 1)),
            "created_at": starts + timedelta(minutes=duration + rng.randrange(5, 240)),
            "created_by_id": animator_id, "version": 1,
        })
        if with_animator and animator_id:
            self.animators.append({"meeting_id": mid, "user_id": animator_id})
        return mid, starts

    def present(self, meeting_id: int, resident_ids, starts: datetime, user_id) -> None:
        at = self.stamp(starts)
        self.attendance.extend((meeting_id, rid, at, user_id) for rid in resident_ids)

    def stamp(self, value: datetime):
        """A timestamp as the driver takes it: SQLite gets the text SQLAlchemy would have written."""
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def promise(self, *, centre_id, hood_id, resident_id, meeting_id, group_id, made: datetime, user_id,
                today: date) -> None:
        rng = self.rng
        due = made.date() + timedelta(days=rng.choice((3, 7, 7, 14, 14, 21, 30)))
        status, hours, done_on = "promised", None, None
        if due < today:
            roll = rng.random()
            if roll < 0.62:
                status = "done"
                done_on = min(today, due - timedelta(days=rng.randrange(0, 4)))
                hours = Decimal(rng.choice(("0.5", "1", "1.5", "2", "2", "3", "4", "6")))
            elif roll < 0.72:
                status = "dropped"
        self.commitments.append({
            "id": self.cid, "centre_id": centre_id, "neighbourhood_id": self.hood_of.get(resident_id, hood_id),
            "resident_id": resident_id, "meeting_id": meeting_id, "group_id": group_id,
            "what": rng.choice(PROMISES), "due_on": due, "status": status, "hours": hours, "done_on": done_on,
            "recorded_by_id": user_id, "created_at": made, "version": 1,
        })
        self.cid += 1

    def flush(self, city: bool) -> None:
        if self.sqlite and city:
            self._flush_fast()
            return
        bulk.insert(Meeting.__table__, self.meetings)
        bulk.insert(meeting_animator, self.animators)
        self._insert_attendance(db.session.connection())
        bulk.insert(Commitment.__table__, self.commitments)

    def _flush_fast(self) -> None:
        """City scale on SQLite: 800,000 generated rows whose references hold by construction, on a
        connection of their own with the foreign-key checks off (they would double the load time;
        the pragma works only outside a transaction) and 128 MB of cache for the attendance's
        resident index, which is filled in random order. Both are restored before the connection
        goes back to the pool."""
        db.session.commit()  # nothing is pending; the session's connection is not needed meanwhile
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-131072")
            try:
                for table, rows in ((Meeting.__table__, self.meetings), (meeting_animator, self.animators),
                                    (Commitment.__table__, self.commitments)):
                    for start in range(0, len(rows), bulk.BATCH):
                        conn.execute(table.insert(), rows[start:start + bulk.BATCH])
                self._insert_attendance(conn)
                conn.commit()
            finally:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.exec_driver_sql("PRAGMA cache_size=-2000")

    def _insert_attendance(self, conn) -> None:
        """600,000 rows at city scale go straight to the driver: SQLAlchemy's per-row parameter
        handling would take longer than SQLite itself (no ids here, so no sequence to move)."""
        mark = "?" if self.sqlite else "%s"
        sql = (f"INSERT INTO attendance (meeting_id, resident_id, created_at, created_by_id) "
               f"VALUES ({mark}, {mark}, {mark}, {mark})")
        for start in range(0, len(self.attendance), bulk.BATCH * 4):
            conn.exec_driver_sql(sql, self.attendance[start:start + bulk.BATCH * 4])

def generate(ctx, scale: str) -> None:
    """Group meetings, open meetings per osiedle, attendance and commitments."""
    rng = ctx.rng
    today = ctx.today
    city = scale == "city"
    days = CITY_DAYS if city else SMALL_DAYS
    b = _Builder(ctx)
    groups = list(getattr(ctx, "groups", None) or [])
    by_hood: dict[tuple[int, int], list[int]] = defaultdict(list)
    for rid, centre_id, hood_id, _age, _animator in ctx.residents:
        by_hood[(centre_id, hood_id)].append(rid)
    animators_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    for centre_id, team in ctx.staff.items():
        for animator_id, hood_ids in team["animators"]:
            for hood_id in hood_ids:
                animators_of[(centre_id, hood_id)].append(animator_id)
    pairs = sorted(p for p in by_hood if by_hood[p])

    if city:
        group_share = 0.7 if groups else 0.0
        per_group = max(1, round(CITY_MEETINGS * group_share / len(groups))) if groups else 0
        # Each centre holds about as many open meetings as the next, shared among its osiedla by how
        # many people it knows there (the city-wide regranting centre does not hold 42 centres' worth).
        open_per_centre = (CITY_MEETINGS - per_group * len(groups)) / max(1, len({c for c, _h in pairs}))
        known = defaultdict(int)
        for centre_id, hood_id in pairs:
            known[centre_id] += len(by_hood[(centre_id, hood_id)])
        per_pair = {p: max(1, round(open_per_centre * len(by_hood[p]) / known[p[0]])) for p in pairs}
        past = CITY_DAYS / (CITY_DAYS + 30)  # upcoming meetings have nobody present yet
        mean_present = CITY_ATTENDANCES / (CITY_MEETINGS * past)
        promise_rate = CITY_COMMITMENTS / (CITY_MEETINGS * past)
    else:
        per_group = 0  # every two weeks over the group's recent life, below
        per_pair = {}
        mean_present = 0
        promise_rate = 0

    # Each group's meetings: mostly its members, a few guests from the osiedle; the animator usually there.
    for group_id, centre_id, hood_id, animator_id, members in groups:
        members = list(members)
        neighbours = by_hood.get((centre_id, hood_id), [])
        if city:
            dates = sorted(today - timedelta(days=rng.randrange(-30, days)) for _ in range(per_group))
        else:
            dates = [today - timedelta(days=14 * k + rng.randrange(0, 3)) for k in range(-1, 11)]
        for k, day in enumerate(dates):
            title = rng.choice(GROUP_TOPICS)
            mid, starts = b.meeting(centre_id=centre_id, hood_id=hood_id, group_id=group_id, kind="group",
                                    title=title, day=day, animator_id=animator_id,
                                    with_animator=rng.random() < 0.85)
            if day >= today:
                continue
            if city:
                want = max(2, min(40, round(rng.gauss(mean_present, 3))))
                came = rng.sample(members, min(len(members), round(want * 0.75))) if members else []
            else:
                came = [r for r in members if rng.random() < 0.72]
                want = len(came) + rng.choice((0, 0, 1, 2))
            chosen = set(came)
            tries = 0
            while neighbours and len(chosen) < want and tries < want * 3:
                chosen.add(rng.choice(neighbours))
                tries += 1
            b.present(mid, sorted(chosen), starts, animator_id)
            promises = (_poisson_like(rng, promise_rate * 1.1) if city else rng.choice((0, 1, 1, 2)))
            for rid in rng.sample(sorted(chosen), min(len(chosen), promises)):
                b.promise(centre_id=centre_id, hood_id=hood_id, resident_id=rid, meeting_id=mid, group_id=group_id,
                          made=starts,
                          user_id=animator_id, today=today)

    # Open meetings, actions, consultations and trainings in every osiedle where people are known.
    for centre_id, hood_id in pairs:
        neighbours = by_hood[(centre_id, hood_id)]
        staff = animators_of.get((centre_id, hood_id)) or [ctx.staff[centre_id]["coordinator"]]
        if city:
            count = per_pair[(centre_id, hood_id)]
            dates = sorted(today - timedelta(days=rng.randrange(-30, days)) for _ in range(count))
        else:
            dates = [today - timedelta(days=28 * k + rng.randrange(0, 5)) for k in range(-1, 6)]
        for day in dates:
            kind, title = rng.choice(OPEN_MEETINGS)
            animator_id = rng.choice(staff)
            mid, starts = b.meeting(centre_id=centre_id, hood_id=hood_id, group_id=None, kind=kind, title=title,
                                    day=day, animator_id=animator_id, notes=rng.random() < 0.5)
            if day >= today:
                continue
            want = (max(1, min(60, round(rng.gauss(mean_present, 4)))) if city
                    else rng.randrange(4, 13))
            came = rng.sample(neighbours, min(len(neighbours), want))
            b.present(mid, sorted(came), starts, animator_id)
            promises = _poisson_like(rng, promise_rate * 0.75) if city else rng.choice((0, 0, 1))
            for rid in rng.sample(sorted(came), min(len(came), promises)):
                b.promise(centre_id=centre_id, hood_id=hood_id, resident_id=rid, meeting_id=mid, group_id=None,
                          made=starts,
                          user_id=animator_id, today=today)
    b.flush(city)


def _poisson_like(rng, mean: float) -> int:
    """A small count with the given mean: the whole part, plus one with the fractional chance."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)
