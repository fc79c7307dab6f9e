"""Demo groups: informal groups of residents at every OSL stage, with members, leaders, goals and a
stage history (forward moves, now and then a step back, each with a note).

Small scale: a few named groups per centre (Wilda, Rataje and the regranting centre). City scale:
about 1,000 groups across the 12 centres with about 8 members each, through `bulk.insert` with
explicit ids. Deterministic for a seed: everything is drawn from `ctx.rng`.

Leaves `ctx.groups` for the meetings step: (group id, centre id, osiedle id, animator id, member
resident ids) of the groups that still meet (status active). Dormant and ended groups are left
out on purpose: they have no recent meetings, which is what makes them show up as stalled.
"""
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from app.demo import bulk
from app.timeutil import local_to_utc
from models import Goal, Group, Membership, StageChange
from models.group import STAGE_ORDER

CITY_GROUPS = 1000
CITY_MEMBERS = 8

# (name, matter, tags, stage, status, formal name or None, members, stage last changed days ago)
SMALL_GROUPS = {
    "wilda": [
        ("Zielone Podwórko", "zazielenienie podwórka przy Wierzbięcicach", "zieleń,podwórko", "action", "active",
         None, 8, 40),
        ("Klub Seniora przy Kościelnej", "cotygodniowe spotkania, wycieczki i wieczorki seniorów",
         "seniorzy,kultura", "independent", "active", "Stowarzyszenie zwykłe „Seniorzy z Wildy”", 9, 200),
        ("Sąsiedzka Biblioteczka", "wymiana książek w klatkach schodowych i w kawiarni", "czytanie,kultura",
         "planning", "active", None, 5, 25),
        ("Rowerowa Wilda", "bezpieczne trasy rowerowe do szkół", "rowery,bezpieczeństwo", "core_group", "dormant",
         None, 3, 210),
        ("Potańcówka na Rynku Wildeckim", "letnia potańcówka dla sąsiadów w każdym wieku", "taniec,muzyka", "idea",
         "active", None, 2, 12),
    ],
    "rataje": [
        ("Ogród Społeczny przy Os. Piastowskim", "wspólny ogród warzywny między blokami", "ogród,zieleń",
         "reflection", "active", None, 7, 30),
        ("Rodzice z Os. Jagiellońskiego", "plac zabaw i świetlica dla dzieci", "dzieci,rodzice", "planning",
         "active", None, 6, 60),
        ("Ratajskie Potańcówki", "potańcówki międzypokoleniowe w klubie osiedlowym", "taniec,seniorzy", "action",
         "active", None, 6, 15),
        ("Bezpieczna Droga do Szkoły", "spowolnienie ruchu przy szkole na Os. Czecha", "bezpieczeństwo,dzieci",
         "core_group", "active", None, 4, 150),
        ("Warsztat Naprawczy", "wspólne naprawy rowerów i sprzętu domowego", "naprawy,ekologia", "idea", "ended",
         None, 3, 300),
    ],
    "regranting": [
        ("Kolektyw Muralowy", "mural na ścianie garaży", "sztuka,młodzież", "action", "active", None, 5, 45),
        ("Sąsiedzi znad Warty", "sprzątanie i ławki nad rzeką", "zieleń,rzeka", "planning", "active", None, 4, 70),
    ],
}

CITY_THEMES = [
    ("Zielone Podwórko", "zazielenienie podwórka", "zieleń,podwórko"),
    ("Klub Seniora", "spotkania i wycieczki seniorów", "seniorzy,kultura"),
    ("Sąsiedzka Biblioteczka", "wymiana książek", "czytanie,kultura"),
    ("Ogród Społeczny", "wspólny ogród warzywny", "ogród,zieleń"),
    ("Rodzice z Podwórka", "plac zabaw i świetlica dla dzieci", "dzieci,rodzice"),
    ("Potańcówka Sąsiedzka", "potańcówki międzypokoleniowe", "taniec,seniorzy"),
    ("Bezpieczna Droga do Szkoły", "spowolnienie ruchu przy szkole", "bezpieczeństwo,dzieci"),
    ("Warsztat Naprawczy", "wspólne naprawy sprzętu", "naprawy,ekologia"),
    ("Kolektyw Muralowy", "mural na ścianie garaży", "sztuka,młodzież"),
    ("Rowerowa Grupa", "bezpieczne trasy rowerowe", "rowery,bezpieczeństwo"),
    ("Kino na Trawie", "letnie kino plenerowe", "kultura,młodzież"),
    ("Lodówka Społeczna", "dzielenie się jedzeniem", "ekologia,pomoc sąsiedzka"),
    ("Chór Podwórkowy", "wspólne śpiewanie", "muzyka,seniorzy"),
    ("Historia Osiedla", "zbieranie wspomnień i zdjęć mieszkańców", "historia osiedla,seniorzy"),
]
START_NOTES = ["Pomysł zgłoszony na spotkaniu otwartym.", "Kilka osób zaczepiło animatorkę na podwórku z tym pomysłem.",
               "Pomysł wyszedł z rozmów 1:1 w klatkach.", "Mieszkańcy sami przyszli z tym do CIL."]
FORWARD_NOTES = {
    "core_group": ["Pięć osób zadeklarowało, że chce działać razem.", "Po spotkaniu otwartym zebrała się stała grupa.",
                   "Są już trzy osoby gotowe wziąć odpowiedzialność."],
    "planning": ["Grupa ustaliła cel i podział zadań.", "Mamy plan działań na najbliższe trzy miesiące.",
                 "Grupa wybrała jedną sprawę i rozpisała kroki."],
    "action": ["Pierwsza akcja za nami: sprzątanie podwórka.", "Złożyliśmy wniosek o mikrogrant i ruszyły działania.",
               "Grupa zorganizowała pierwsze wydarzenie dla sąsiadów."],
    "reflection": ["Spotkanie podsumowujące: co się udało, co dalej.", "Ewaluacja akcji z mieszkańcami.",
                   "Grupa rozliczyła mikrogrant i zebrała wnioski."],
    "independent": ["Grupa sama zwołuje spotkania, animator tylko doradza.",
                    "Grupa założyła stowarzyszenie zwykłe i działa samodzielnie.",
                    "Liderka prowadzi spotkania bez udziału CIL."],
}
BACK_NOTES = ["Liderka się wyprowadziła, grupa wraca do planowania.", "Akcja przełożona, wracamy do planowania.",
              "Za mało osób do działania: wracamy do budowania grupy."]
GOALS = ["Ławki i donice na podwórku", "Wniosek o mikrogrant", "Festyn sąsiedzki w czerwcu",
         "Spotkanie z Radą Osiedla", "Stała sala na spotkania", "Zaprosić do grupy młodzież",
         "Pismo do spółdzielni w sprawie zieleni", "Warsztaty dla dzieci w wakacje", "Strona grupy na Facebooku"]


def _at(day: date, hour: int) -> datetime:
    return local_to_utc(datetime.combine(day, time(hour)))


class _Rows:
    """Rows of the four tables, with ids counted from what is already there."""

    def __init__(self):
        self.group_id = bulk.next_id(Group.__table__)
        self.membership_id = bulk.next_id(Membership.__table__)
        self.change_id = bulk.next_id(StageChange.__table__)
        self.goal_id = bulk.next_id(Goal.__table__)
        self.groups, self.memberships, self.changes, self.goals = [], [], [], []

    def flush(self):
        bulk.insert(Group.__table__, self.groups)
        bulk.insert(Membership.__table__, self.memberships)
        bulk.insert(StageChange.__table__, self.changes)
        bulk.insert(Goal.__table__, self.goals)


def _history(rng, target: str, start: date, last_change: date, today: date) -> list[tuple[date, str | None, str, str]]:
    """(day, from, to, note) from the first stage to `target`: forward steps spread between
    `start` and `last_change`, now and then one step back on the way."""
    goal = STAGE_ORDER.index(target)
    first = 0 if goal == 0 or rng.random() < 0.7 else 1
    path = [STAGE_ORDER[first]]
    i = first
    while i < goal:
        if i >= 2 and rng.random() < 0.12 and len(path) < 9:
            path.append(STAGE_ORDER[i - 1])  # a step back, then forward again
            path.append(STAGE_ORDER[i])
        i += 1
        path.append(STAGE_ORDER[i])
    span = max(0, (last_change - start).days)
    days = sorted(rng.randrange(0, span + 1) for _ in range(len(path) - 2)) if len(path) > 2 else []
    dates = [start] + [start + timedelta(days=d) for d in days] + ([last_change] if len(path) > 1 else [])
    steps = []
    for n, (day, stage) in enumerate(zip(dates, path)):
        day = min(day, today)
        if n == 0:
            steps.append((day, None, stage, rng.choice(START_NOTES)))
        else:
            back = STAGE_ORDER.index(stage) < STAGE_ORDER.index(path[n - 1])
            note = rng.choice(BACK_NOTES) if back else rng.choice(FORWARD_NOTES[stage])
            steps.append((day, path[n - 1], stage, note))
    return steps


def _add_group(rows: _Rows, rng, today: date, *, centre_id, hood_id, animator_id, name, matter, tags, stage, status,
               formal, member_ids, started: date, last_change: date) -> int:
    gid = rows.group_id
    rows.group_id += 1
    steps = _history(rng, stage, started, last_change, today)
    for version, (day, from_stage, to_stage, note) in enumerate(steps):
        at = _at(day, rng.randrange(9, 20))
        rows.changes.append({"id": rows.change_id, "group_id": gid, "from_stage": from_stage, "to_stage": to_stage,
                             "from_version": version, "changed_at": at, "changed_on": day, "note": note,
                             "user_id": animator_id})
        rows.change_id += 1
    created_at = rows.changes[-len(steps)]["changed_at"]
    formalised_on = (last_change - timedelta(days=rng.randrange(0, 30))) if formal else None
    rows.groups.append({
        "id": gid, "centre_id": centre_id, "neighbourhood_id": hood_id, "name": name, "matter": matter,
        "description": None, "tags": tags, "started_on": started, "status": status,
        "formalised_on": max(formalised_on, started) if formalised_on else None, "formal_name": formal,
        "stage": stage, "stage_changed_at": rows.changes[-1]["changed_at"], "animator_id": animator_id,
        "created_at": created_at, "created_by_id": animator_id, "version": len(steps),
    })
    # Members: the first leads; in older groups an earlier leader handed over (leadership rotates),
    # someone is the contact person, and now and then somebody left.
    span = max(1, (today - started).days)
    for n, rid in enumerate(member_ids):
        joined = started + timedelta(days=rng.randrange(0, max(1, span // 2)) if n else 0)
        role = "leader" if n == 0 else ("contact" if n == 1 and rng.random() < 0.5 else "member")
        left = None
        if n >= 3 and rng.random() < 0.12:
            left = min(today, joined + timedelta(days=rng.randrange(20, span + 21)))
        if n == 1 and span > 120 and rng.random() < 0.35:
            # This person led the group first, then handed the lead over and stayed on.
            handover = joined + timedelta(days=rng.randrange(30, max(31, span - 30)))
            handover = min(handover, today)
            rows.memberships.append({"id": rows.membership_id, "group_id": gid, "resident_id": rid, "role": "leader",
                                     "joined_on": joined, "left_on": handover, "created_by_id": animator_id})
            rows.membership_id += 1
            joined, role = handover, "member"
        rows.memberships.append({"id": rows.membership_id, "group_id": gid, "resident_id": rid, "role": role,
                                 "joined_on": joined, "left_on": left, "created_by_id": animator_id})
        rows.membership_id += 1
    done_share = STAGE_ORDER.index(stage) / (len(STAGE_ORDER) - 1)
    for title in rng.sample(GOALS, rng.randrange(1, 4)):
        r = rng.random()
        goal_status = ("done" if r < done_share * 0.8 else "in_progress" if r < 0.75 else
                       "dropped" if r > 0.95 else "planned")
        due = today + timedelta(days=rng.randrange(-120, 180)) if rng.random() < 0.7 else None
        rows.goals.append({"id": rows.goal_id, "group_id": gid, "title": title, "status": goal_status, "due_on": due,
                           "created_at": _at(started + timedelta(days=rng.randrange(0, span)), 12)})
        rows.goal_id += 1
    return gid


def _animator_for(ctx, centre_id: int, hood_id: int) -> int | None:
    for animator_id, hood_ids in ctx.staff[centre_id]["animators"]:
        if hood_id in hood_ids:
            return animator_id
    return None


def _pick_members(rng, pool: tuple[list[int], list[int]], k: int) -> list[int]:
    """`k` residents, adults and seniors first in line (children rarely join as members)."""
    grown, others = pool
    chosen = rng.sample(grown, min(k, len(grown)))
    if len(chosen) < k:
        chosen += rng.sample(others, min(k - len(chosen), len(others)))
    elif others and k > 4 and rng.random() < 0.3:
        chosen[-1] = rng.choice(others)  # a teenager in the group now and then
    return chosen


def generate(ctx, scale: str) -> None:
    """Groups for every centre, members from its residents in the group's osiedle, their histories."""
    rng = ctx.rng
    today = ctx.today
    rows = _Rows()
    # (centre, osiedle) -> (adults and seniors, everyone else): who may join a group there
    pools: dict[tuple[int, int], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for rid, centre_id, hood_id, age, _animator in ctx.residents:
        pools[(centre_id, hood_id)][0 if age in ("adult", "senior") else 1].append(rid)
    ctx.groups = []

    def add(centre_id, hood_id, *, members, **spec):
        animator_id = _animator_for(ctx, centre_id, hood_id)
        member_ids = _pick_members(rng, pools[(centre_id, hood_id)], members)
        first_membership = len(rows.memberships)
        gid = _add_group(rows, rng, today, centre_id=centre_id, hood_id=hood_id, animator_id=animator_id,
                         member_ids=member_ids, **spec)
        if spec["status"] == "active":
            current = [m["resident_id"] for m in rows.memberships[first_membership:] if m["left_on"] is None]
            ctx.groups.append((gid, centre_id, hood_id, animator_id, current))

    if scale == "city":
        _city(ctx, rng, today, pools, add)
    else:
        for centre in ctx.centres:
            specs = SMALL_GROUPS.get(centre.slug.removeprefix("cil-"), [])
            hoods = sorted({h for (c, h), pool in pools.items() if c == centre.id and pool[0] + pool[1]})
            for n, (name, matter, tags, stage, status, formal, members, last_days) in enumerate(specs):
                hood_id = centre.neighbourhood_id or hoods[n % len(hoods)]
                last_change = today - timedelta(days=last_days)
                started = last_change - timedelta(days=30 + 45 * STAGE_ORDER.index(stage) + rng.randrange(0, 40))
                add(centre.id, hood_id, members=members, name=name, matter=matter, tags=tags, stage=stage,
                    status=status, formal=formal, started=started, last_change=last_change)
    rows.flush()


def _city(ctx, rng, today, pools, add) -> None:
    """About 1,000 groups, spread over the centres in proportion to their residents."""
    size = {p: len(grown) + len(others) for p, (grown, others) in pools.items()}
    pairs = sorted(p for p in pools if size[p] >= CITY_MEMBERS * 2)
    total = sum(size[p] for p in pairs)
    stage_weights = [15, 20, 20, 25, 10, 10]
    names_used: dict[tuple[int, str], int] = defaultdict(int)
    hood_names = {h.id: h.name for h in ctx.hoods.values()}
    made = 0
    for k, (centre_id, hood_id) in enumerate(pairs):
        share = size[(centre_id, hood_id)] / total
        count = round(CITY_GROUPS * share) if k < len(pairs) - 1 else CITY_GROUPS - made
        for _ in range(max(0, count)):
            theme, matter, tags = rng.choice(CITY_THEMES)
            base = f"{theme} {hood_names[hood_id]}"
            names_used[(centre_id, base)] += 1
            n = names_used[(centre_id, base)]
            name = base if n == 1 else f"{base} {n}"
            stage = rng.choices(STAGE_ORDER, weights=stage_weights)[0]
            r = rng.random()
            status = "active" if r < 0.75 else "dormant" if r < 0.9 else "ended"
            last_days = rng.randrange(3, 400) if status == "active" else rng.randrange(100, 600)
            last_change = today - timedelta(days=last_days)
            started = last_change - timedelta(days=20 + 40 * STAGE_ORDER.index(stage) + rng.randrange(0, 90))
            formal = "Stowarzyszenie zwykłe „" + theme + "”" if stage == "independent" and rng.random() < 0.4 else None
            members = max(2, min(16, round(rng.gauss(CITY_MEMBERS, 2.5))))
            add(centre_id, hood_id, members=members, name=name, matter=matter, tags=tags, stage=stage,
                status=status, formal=formal, started=started, last_change=last_change)
            made += 1
