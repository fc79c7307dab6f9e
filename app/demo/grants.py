"""Demo micro-grants: the regranting centre's calls with applications at every stage of the pipeline,
their histories, reviews (two reviewers, per criterion), agreements, settlements with documents.

Small scale: "Mikrogranty na inicjatywy sąsiedzkie <year>" (230 000 zł, up to 4 000 zł, own
contribution at least 10%, the usual criteria) with 12 applications from the formal check to
settlement, some of them from the neighbourhood centres' groups (linked to their Group records),
and next year's call, open, with two fresh applications. City scale: three calls (last year's,
settled; this year's; next year's, open) with about 150 applications.

Patrons are the regranting centre's NGO partners (the diagnosis step makes them); if there are none,
three are created. Rows go in through `bulk.insert` with explicit ids (and explicit versions, so
that the histories' `from_version` line up with the applications' versions). Deterministic for a seed.
"""
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.demo import bulk, person_name
from app.forms.grants import DEFAULT_CRITERIA
from models import (GrantApplication, GrantBudgetLine, GrantCall, GrantCriterion, GrantMember, GrantStatusChange,
                    Group, Partner, Resident, Review, ReviewAssignment, ReviewScore, Settlement, SettlementDocument,
                    User, db)
from models import grants_queries as q
from models.grants import GRANTED_STATUSES, money, new_reference_code
from models.text import fold

BUDGET = Decimal("230000.00")
MAX_GRANT = Decimal("4000.00")
HOURLY = Decimal("30.00")  # volunteer work valued per hour

SMALL_STAGES = ["settled", "returned", "report_submitted", "in_progress", "in_progress", "in_progress", "agreement",
                "granted", "refused", "merit_review", "merit_review", "formal_failed"]
NEXT_STAGES = ["submitted", "submitted"]
CITY_CALLS = [  # (year offset, status, number of applications, stage weights)
    (-1, "settled", 60, {"settled": 36, "returned": 6, "refused": 18}),
    (0, "closed", 70, {"settled": 10, "returned": 2, "report_submitted": 6, "in_progress": 18, "agreement": 5,
                       "granted": 4, "refused": 10, "merit_review": 9, "formal_failed": 4, "submitted": 2}),
    (1, "open", 20, {"submitted": 14, "formal_failed": 2, "merit_review": 4}),
]
PATHS = {
    "submitted": ["submitted"],
    "formal_failed": ["submitted", "formal_failed"],
    "merit_review": ["submitted", "merit_review"],
    "refused": ["submitted", "merit_review", "refused"],
    "granted": ["submitted", "merit_review", "granted"],
    "agreement": ["submitted", "merit_review", "granted", "agreement"],
    "in_progress": ["submitted", "merit_review", "granted", "agreement", "in_progress"],
    "report_submitted": ["submitted", "merit_review", "granted", "agreement", "in_progress", "report_submitted"],
    "settled": ["submitted", "merit_review", "granted", "agreement", "in_progress", "report_submitted", "settled"],
    "returned": ["submitted", "merit_review", "granted", "agreement", "in_progress", "report_submitted", "returned"],
}
NOTES = {
    "merit_review": ["Ocena formalna pozytywna: wniosek kompletny, grupa ma patrona.",
                     "Wniosek kompletny i złożony w terminie."],
    "formal_failed": ["Brak potwierdzenia pełnoletności trzeciej osoby i za mało wycenionej pracy wolontariuszy.",
                      "Budżet nie sumuje się z opisem działań; brak wskazania patrona."],
    "granted": ["Wysoka ocena komisji: dobrze rozpoznana potrzeba i szerokie zaangażowanie sąsiadów.",
                "Komisja przyznała dotację; budżet adekwatny do działań."],
    "refused": ["Niska ocena komisji: działania nie odpowiadają opisanej potrzebie.",
                "Brak zaangażowania mieszkańców poza wnioskodawcami; budżet zawyżony."],
    "in_progress": ["Rozpoczęcie realizacji.", "Grupa rusza z działaniami zgodnie z harmonogramem."],
    "report_submitted": ["Sprawozdanie merytoryczne i finansowe złożone."],
    "settled": ["Sprawozdanie przyjęte, inicjatywa rozliczona."],
    "returned": ["Część dotacji niewydana: zwrot na konto operatora."],
}
# (title, need, diagnosis, goals, activities, grant items [(item, qty, unit)])
THEMES = [
    ("Zielone podwórko przy Wierzbięcicach",
     "Podwórko jest zabetonowane i puste, dzieci i seniorzy nie mają gdzie usiąść w cieniu.",
     "Rozmowy z sąsiadami w klatkach i spacer badawczy z animatorką CIL; 40 podpisów pod pomysłem.",
     "Zazielenione podwórko, na którym sąsiedzi spotykają się i razem o nie dbają.",
     "Kwiecień: projekt z mieszkańcami. Maj: sadzenie i budowa donic. Czerwiec: piknik otwarcia.",
     [("Sadzonki krzewów i bylin", 40, Decimal("25.00")), ("Ziemia i kora", 20, Decimal("35.00")),
      ("Drewno na donice", 1, Decimal("900.00")), ("Piknik otwarcia: poczęstunek", 1, Decimal("500.00"))]),
    ("Sąsiedzka potańcówka pokoleń",
     "Seniorzy z kamienic czują się samotni, młode rodziny nie znają sąsiadów.",
     "Ankieta w klubie seniora i rozmowy na spotkaniu otwartym CIL.",
     "Trzy potańcówki, na których poznają się sąsiedzi w każdym wieku.",
     "Czerwiec, lipiec, sierpień: potańcówki w sobotnie wieczory; przygotowania w grupie 6 osób.",
     [("Wynajem nagłośnienia", 3, Decimal("400.00")), ("Plakaty i ulotki", 1, Decimal("350.00")),
      ("Poczęstunek", 3, Decimal("300.00"))]),
    ("Biblioteczka w każdej klatce",
     "Mieszkańcy chcą wymieniać się książkami, a osiedlowa biblioteka jest daleko.",
     "Rozmowy z mieszkańcami przy kawiarni i w bibliotece; lista 25 chętnych.",
     "Sześć półek z książkami w klatkach i comiesięczne spotkania czytelnicze.",
     "Maj: półki; od czerwca: spotkania czytelnicze raz w miesiącu.",
     [("Półki na książki", 6, Decimal("180.00")), ("Książki dla dzieci", 30, Decimal("25.00")),
      ("Materiały na spotkania", 1, Decimal("400.00"))]),
    ("Kino na trawie",
     "Młodzież nie ma co robić wieczorami, a sąsiedzi rzadko spędzają czas razem.",
     "Ankieta wśród młodzieży szkoły podstawowej i rozmowy z Radą Osiedla.",
     "Cztery seanse plenerowe przygotowane przez młodzież dla całego osiedla.",
     "Lipiec–sierpień: cztery seanse w piątki; młodzież wybiera filmy i prowadzi promocję.",
     [("Wynajem ekranu i projektora", 4, Decimal("450.00")), ("Licencje na projekcje", 4, Decimal("150.00")),
      ("Leżaki", 10, Decimal("60.00"))]),
    ("Warsztat naprawczy pod chmurką",
     "Sąsiedzi wyrzucają sprzęt, który dałoby się naprawić, i nie mają narzędzi.",
     "Spotkanie otwarte w CIL i obserwacja altan śmietnikowych.",
     "Sześć sobotnich warsztatów naprawczych i skrzynka wspólnych narzędzi.",
     "Maj–październik: warsztaty raz w miesiącu; prowadzą sąsiedzi-złote rączki.",
     [("Zestaw narzędzi", 1, Decimal("1200.00")), ("Materiały eksploatacyjne", 6, Decimal("120.00")),
      ("Namiot", 1, Decimal("600.00"))]),
    ("Historia naszego osiedla",
     "Starsi mieszkańcy pamiętają historię osiedla, młodsi jej nie znają.",
     "Rozmowy 1:1 z seniorami i spotkanie w bibliotece osiedlowej.",
     "Wystawa zdjęć i wspomnień oraz spacer historyczny dla sąsiadów.",
     "Czerwiec–sierpień: zbieranie zdjęć; wrzesień: wystawa i spacer.",
     [("Skanowanie i druk zdjęć", 1, Decimal("900.00")), ("Antyramy", 20, Decimal("35.00")),
      ("Przewodnik na spacer", 1, Decimal("400.00"))]),
    ("Bezpieczna droga do szkoły",
     "Samochody jeżdżą za szybko przy szkole, rodzice boją się puszczać dzieci samych.",
     "Liczenie samochodów z rodzicami i rozmowy przed szkołą.",
     "Akcja „Szkolna ulica” i rysunki dzieci na chodniku; rozmowa z dzielnicowym i ZDM.",
     "Wrzesień: pomiary i warsztaty z dziećmi; październik: akcja w dniu bez samochodu.",
     [("Kamizelki odblaskowe", 40, Decimal("12.00")), ("Kreda i farby do chodnika", 1, Decimal("300.00")),
      ("Warsztaty dla dzieci", 2, Decimal("450.00"))]),
    ("Ogród społeczny między blokami",
     "Między blokami jest zaniedbany trawnik, mieszkańcy chcą uprawiać warzywa.",
     "Spotkanie otwarte i rozmowy ze spółdzielnią mieszkaniową.",
     "Ogród z 12 grządkami prowadzony przez sąsiadów i dzieci z przedszkola.",
     "Kwiecień: grządki; maj–wrzesień: uprawa i dyżury; wrzesień: święto plonów.",
     [("Drewno na grządki", 12, Decimal("110.00")), ("Nasiona i sadzonki", 1, Decimal("450.00")),
      ("Narzędzia ogrodowe", 1, Decimal("700.00"))]),
]
GROUP_NAMES = ["Sąsiedzi z Kwiatowej", "Inicjatywa Podwórko 12", "Rodzice z Placu Zabaw", "Kolektyw Pod Lipami",
               "Seniorzy z Klatki B", "Młodzi z Osiedla", "Sąsiedzka Grupa Zieleni", "Klub Planszówek u Sąsiadów"]
NGO_NAMES = ["Stowarzyszenie Aktywni Sąsiedzi", "Fundacja Pracownia Sąsiedzka", "Stowarzyszenie Kultura na Osiedlu"]
DEFAULT_PATRONS = [("Fundacja Wspólne Podwórko", "0000412345"), ("Stowarzyszenie Centrum Inicjatyw", "0000298765"),
                   ("Fundacja Sąsiedzka Pyra", "0000554321")]


def generate(ctx, scale: str) -> None:
    centre = next((c for c in ctx.centres if c.kind == "regranting"), None)
    if centre is None:
        return
    gen = _Generator(ctx, centre)
    if scale == "city":
        for offset, status, n, weights in CITY_CALLS:
            stages = [s for s, w in weights.items() for _ in range(w)]
            stages = (stages * (n // max(len(stages), 1) + 1))[:n]
            gen.call(ctx.today.year + offset, status, stages, offset)
    else:
        gen.call(ctx.today.year, "closed", SMALL_STAGES, 0)
        gen.call(ctx.today.year + 1, "open", NEXT_STAGES, 1)
    gen.flush()


class _Generator:
    def __init__(self, ctx, centre):
        self.ctx, self.rng, self.today, self.centre = ctx, ctx.rng, ctx.today, centre
        self.rows = defaultdict(list)
        self.ids = {t: bulk.next_id(m.__table__) for t, m in (
            ("call", GrantCall), ("criterion", GrantCriterion), ("application", GrantApplication),
            ("member", GrantMember), ("line", GrantBudgetLine), ("change", GrantStatusChange),
            ("assignment", ReviewAssignment), ("review", Review), ("settlement", Settlement),
            ("document", SettlementDocument))}
        self.patrons = self._patrons()
        staff = ctx.staff.get(centre.id, {})
        self.coordinator = staff.get("coordinator")
        reviewers = db.session.scalars(select(User.id).where(User.centre_id == centre.id, User.role == "reviewer")
                                       .order_by(User.id)).all()
        self.reviewers = [*reviewers, self.coordinator] if self.coordinator else list(reviewers)
        self.hoods = sorted(ctx.hoods.values(), key=lambda n: n.slug)
        self.groups = self._groups()
        self.used_groups: set[int] = set()

    def next(self, table: str) -> int:
        i = self.ids[table]
        self.ids[table] += 1
        return i

    # --- patrons and groups -------------------------------------------------------------------------
    def _patrons(self) -> list[int]:
        found = db.session.scalars(select(Partner.id).where(Partner.centre_id == self.centre.id,
                                                            Partner.kind == "ngo", Partner.active.is_(True))
                                   .order_by(Partner.id)).all()
        if found:
            return list(found)
        made = []
        for name, krs in DEFAULT_PATRONS:
            p = Partner(centre_id=self.centre.id, neighbourhood_id=None, name=name, kind="ngo", krs=krs,
                        notes="Patron grup nieformalnych w naborach mikrograntów.")
            db.session.add(p)
            db.session.flush()
            made.append(p.id)
        return made

    def _groups(self) -> list[tuple[int, int, str, list[str]]]:
        """(group id, osiedle id, name, adult members' names) of active groups of the neighbourhood centres."""
        neighbourhood_centres = {c.id for c in self.ctx.centres if c.kind == "neighbourhood"}
        picked = [g for g in self.ctx.groups if g[1] in neighbourhood_centres and len(g[4]) >= 3]
        if not picked:
            return []
        names = dict(db.session.execute(select(Group.id, Group.name).where(Group.id.in_([g[0] for g in picked]))).all())
        people = {}
        member_ids = sorted({rid for g in picked for rid in g[4]})
        for chunk in range(0, len(member_ids), 900):
            for rid, first, last, age in db.session.execute(
                    select(Resident.id, Resident.first_name, Resident.last_name, Resident.age_group)
                    .where(Resident.id.in_(member_ids[chunk:chunk + 900]))):
                if first and last and age in ("adult", "senior"):
                    people[rid] = f"{first} {last}"
        out = []
        for gid, _c, hood, _a, members in picked:
            adults = [people[r] for r in members if r in people]
            if len(adults) >= 3:
                out.append((gid, hood, names[gid], adults[:6]))
        return out

    # --- a call and its applications ---------------------------------------------------------------
    def call(self, year: int, status: str, stages: list[str], offset: int) -> None:
        rng, today = self.rng, self.today
        call_id = self.next("call")
        if offset < 0:
            activities = (date(year, 4, 1), date(year, 11, 30))
            opens, closes = date(year, 2, 15), date(year, 3, 31)
        elif offset == 0:
            activities = (today - timedelta(days=210), today + timedelta(days=20))
            opens, closes = activities[0] - timedelta(days=30), None
        else:
            activities = (date(year, 4, 1), date(year, 11, 30))
            opens, closes = today - timedelta(days=5), today + timedelta(days=60)
        title = f"Mikrogranty na inicjatywy sąsiedzkie {year}"
        self.call_row = {
            "id": call_id, "centre_id": self.centre.id, "slug": f"mikrogranty-na-inicjatywy-sasiedzkie-{year}",
            "title": title, "budget": BUDGET, "max_grant": MAX_GRANT, "min_own_percent": Decimal("10.00"),
            "description": ("Mikrogranty do 4 000 zł na inicjatywy mieszkańców: grupy nieformalne (co najmniej "
                            "3 dorosłe osoby, z organizacją-patronem) i organizacje pozarządowe. Wkład własny co "
                            "najmniej 10% dotacji; w grupach nieformalnych liczy się wyceniona praca wolontariuszy."),
            "all_neighbourhoods": True, "opens_on": opens, "closes_on": closes, "activities_from": activities[0],
            "activities_to": activities[1], "status": status, "granted_total": Decimal("0.00"),
            "created_at": datetime.combine(opens - timedelta(days=20), time(9)), "created_by_id": self.coordinator,
            "version": 1,
        }
        self.rows["call"].append(self.call_row)
        criteria = []
        for i, (name, points) in enumerate(DEFAULT_CRITERIA):
            cid = self.next("criterion")
            criteria.append((cid, points))
            self.rows["criterion"].append({"id": cid, "call_id": call_id, "position": i, "name": name,
                                           "max_points": points})
        for k, stage in enumerate(stages):
            self.application(call_id, stage, k, criteria, activities, opens, matrix_slot=(offset == 0 and k))
        self.call_row["granted_total"] = sum(
            (a["granted_amount"] for a in self.rows["application"]
             if a["call_id"] == call_id and a["status"] in GRANTED_STATUSES), Decimal("0.00"))

    def application(self, call_id, stage, k, criteria, activities, opens, matrix_slot) -> None:
        rng, today = self.rng, self.today
        aid = self.next("application")
        theme = THEMES[(aid + k) % len(THEMES)]
        title, need, diagnosis, goals, activities_text, items = theme
        informal = rng.random() < 0.85
        group = None
        if informal and self.groups and rng.random() < 0.5:
            free = [g for g in self.groups if g[0] not in self.used_groups]
            if free:
                group = free[0]
                self.used_groups.add(group[0])
        hood = group[1] if group else rng.choice(self.hoods).id
        if informal:
            name = group[2] if group else rng.choice(GROUP_NAMES)
            members = group[3] if group else [person_name(rng) for _ in range(rng.choice((3, 4, 5)))]
        else:
            name, members = rng.choice(NGO_NAMES), []
        contact = members[0] if members else person_name(rng)
        first, last = contact.split(" ", 1)
        # the budget: grant lines up to the limit, volunteer work for at least 10%
        lines = []
        for item, qty, unit in items:
            lines.append({"item": item, "quantity": Decimal(qty), "unit_cost": unit, "source": "grant"})
        grant_sum = sum((money(line["quantity"] * line["unit_cost"]) for line in lines), Decimal("0.00"))
        while grant_sum > MAX_GRANT:
            line = lines.pop()
            grant_sum -= money(line["quantity"] * line["unit_cost"])
        hours = int((grant_sum * Decimal("0.12") / HOURLY).to_integral_value()) + rng.randrange(5, 40)
        lines.append({"item": "Praca wolontariuszy przy przygotowaniu i prowadzeniu działań",
                      "quantity": Decimal(hours), "unit_cost": HOURLY, "source": "volunteer"})
        if not informal:
            lines.append({"item": "Sala organizacji (wkład rzeczowy)", "quantity": Decimal(3),
                          "unit_cost": Decimal("150.00"), "source": "own"})
        totals = q.budget_totals(lines)
        span = (activities[1] - activities[0]).days
        start = activities[0] + timedelta(days=rng.randrange(0, max(span // 3, 1)))
        end = min(start + timedelta(days=rng.randrange(60, 120)), activities[1])
        path = PATHS[stage]
        submitted = datetime.combine(max(opens, start - timedelta(days=rng.randrange(20, 50))), time(18, 30))
        submitted = min(submitted, datetime.combine(today, time(7)))
        granted_amount = None
        if any(s in GRANTED_STATUSES for s in path):
            granted_amount = totals["grant"] if rng.random() < 0.8 else money(totals["grant"] * Decimal("0.9"))
        source = "public" if rng.random() < 0.7 else "staff"
        row = {
            "id": aid, "call_id": call_id, "centre_id": self.centre.id,
            "applicant_kind": "informal" if informal else "ngo", "applicant_name": name,
            "applicant_krs": None if informal else f"0000{rng.randrange(100000, 999999)}",
            "patron_id": rng.choice(self.patrons) if informal else None, "group_id": group[0] if group else None,
            "neighbourhood_id": hood, "title": title, "need": need, "diagnosis": diagnosis, "goals": goals,
            "activities": activities_text, "starts_on": start, "ends_on": end,
            "expected_participants": rng.randrange(20, 200), "contact_name": contact,
            "contact_email": f"{fold(first)}.{fold(last).replace(' ', '')}@example.org",
            "contact_phone": f"+4860{rng.randrange(1000000, 9999999)}",
            "requested_amount": totals["grant"], "own_amount": totals["own"], "volunteer_amount": totals["volunteer"],
            "granted_amount": granted_amount, "status": stage, "status_changed_at": submitted,
            "formal_reasons": None, "correction_due": None, "decision_note": None, "decided_on": None,
            "agreement_number": None, "agreement_date": None, "returned_amount": None, "source": source,
            "submitted_at": submitted, "created_by_id": None if source == "public" else self.coordinator,
            "reference_code": new_reference_code(),  # random, not from the seed: never guessable from the demo
            "version": len(path),
        }
        self.rows["application"].append(row)
        for i, person in enumerate(members):
            self.rows["member"].append({"id": self.next("member"), "application_id": aid, "position": i,
                                        "name": person, "adult": True, "contact": i == 0})
        line_ids = []
        for i, line in enumerate(lines):
            lid = self.next("line")
            line_ids.append((lid, line))
            self.rows["line"].append({"id": lid, "application_id": aid, "position": i, **line, "spent": None})
        self._history(row, path, submitted)
        reviewed = stage not in ("submitted", "formal_failed") and not (stage == "merit_review" and matrix_slot == 9)
        if stage != "submitted" and stage != "formal_failed":
            self._reviews(row, criteria, submitted, full=reviewed, group_id=row["group_id"])
        if stage in ("report_submitted", "settled", "returned"):
            self._settlement(row, line_ids)

    def _history(self, row, path, submitted) -> None:
        rng, today = self.rng, self.today
        at = submitted
        step = max((datetime.combine(today, time(8)) - submitted) / (len(path) + 1), timedelta(hours=2))
        for v, status in enumerate(path):
            if v:
                at = at + step * rng.uniform(0.6, 1.0)
            note = (("Wniosek złożony przez formularz publiczny." if row["source"] == "public"
                     else "Wniosek wprowadzony przez koordynatora.") if v == 0
                    else rng.choice(NOTES.get(status, ["—"])))
            user = None if (v == 0 and row["source"] == "public") else self.coordinator
            if status == "formal_failed":
                row["formal_reasons"] = note
                row["correction_due"] = today + timedelta(days=7)
            if status in ("granted", "refused"):
                row["decision_note"] = note
                row["decided_on"] = at.date()
            if status == "agreement":
                row["agreement_number"] = f"RG/{at.year}/{row['id']:03d}"
                row["agreement_date"] = at.date()
                note = f"Umowa nr {row['agreement_number']} z dnia {at:%d.%m.%Y}."
            if status == "returned":
                row["returned_amount"] = Decimal("180.00")
            self.rows["change"].append({"id": self.next("change"), "application_id": row["id"],
                                        "from_status": path[v - 1] if v else None, "to_status": status,
                                        "from_version": v, "changed_at": at, "user_id": user, "note": note})
            row["status_changed_at"] = at

    def _reviews(self, row, criteria, submitted, *, full: bool, group_id) -> None:
        rng = self.rng
        for n, reviewer in enumerate(self.reviewers[:2]):
            if reviewer is None or (group_id and q.coached(group_id, reviewer)):
                continue
            ra = self.next("assignment")
            at = submitted + timedelta(days=3)
            self.rows["assignment"].append({"id": ra, "application_id": row["id"], "reviewer_id": reviewer,
                                            "assigned_by_id": self.coordinator, "assigned_at": at,
                                            "declaration": "no_conflict", "declared_at": at + timedelta(days=1)})
            if not full:
                continue  # the demo reviewer still has this one to score
            rid = self.next("review")
            quality = rng.uniform(0.45, 0.95) if row["status"] != "refused" else rng.uniform(0.2, 0.45)
            points = [(cid, max(0, min(mx, round(mx * quality + rng.uniform(-1.5, 1.5))))) for cid, mx in criteria]
            self.rows["review"].append({"id": rid, "assignment_id": ra, "total": sum(p for _c, p in points),
                                        "comment": rng.choice(["Dobrze opisana potrzeba, realny plan.",
                                                               "Budżet adekwatny, warto wzmocnić promocję.",
                                                               "Ciekawa inicjatywa, mało partnerów.",
                                                               "Diagnoza oparta na rozmowach z sąsiadami."]),
                                        "submitted_at": at + timedelta(days=5), "updated_at": at + timedelta(days=5),
                                        "version": 1})
            for cid, p in points:
                self.rows["score"].append({"review_id": rid, "criterion_id": cid, "points": p})

    def _settlement(self, row, line_ids) -> None:
        rng = self.rng
        sid = self.next("settlement")
        returned = row["returned_amount"] or Decimal("0.00")
        left_to_cut = returned
        for lid, line in line_ids:
            spent = money(line["quantity"] * line["unit_cost"])
            if line["source"] == "grant" and left_to_cut > 0:
                cut = min(left_to_cut, spent)
                spent -= cut
                left_to_cut -= cut
            next(r for r in self.rows["line"] if r["id"] == lid)["spent"] = spent
        self.rows["settlement"].append({
            "id": sid, "application_id": row["id"],
            "what_happened": "Wszystkie zaplanowane działania się odbyły. Przyszło więcej sąsiadów, niż zakładaliśmy, "
                             "a grupa planuje kolejne spotkania bez wsparcia CIL.",
            "participants": rng.randrange(30, 250), "volunteers": rng.randrange(4, 20),
            "volunteer_hours": Decimal(rng.randrange(40, 160)), "submitted_at": row["status_changed_at"],
            "updated_at": row["status_changed_at"], "updated_by_id": self.coordinator, "version": 1})
        for lid, line in line_ids[:2]:
            if line["source"] != "grant":
                continue
            self.rows["document"].append({
                "id": self.next("document"), "settlement_id": sid, "number": f"FV/{rng.randrange(100, 999)}/"
                f"{row['ends_on'].year}", "issued_on": row["starts_on"] + timedelta(days=rng.randrange(1, 30)),
                "amount": money(line["quantity"] * line["unit_cost"]), "what_for": line["item"],
                "budget_line_id": lid, "created_at": row["status_changed_at"]})

    def flush(self) -> None:
        for key, model in (("call", GrantCall), ("criterion", GrantCriterion), ("application", GrantApplication),
                           ("member", GrantMember), ("line", GrantBudgetLine), ("change", GrantStatusChange),
                           ("assignment", ReviewAssignment), ("review", Review), ("score", ReviewScore),
                           ("settlement", Settlement), ("document", SettlementDocument)):
            bulk.insert(model.__table__, self.rows[key])
