"""Demo diagnosis and cooperation network: findings (needs, resources, problems, ideas) with tags,
linked to the contacts and meetings where they came up and to the groups that act on them; partners
with contact people, a cooperation log, the groups they support and the meetings they took part in.

Small scale: about 15 findings and 8 partners for each neighbourhood centre; the regranting centre
gets a few findings in its animators' first osiedla and city-wide NGO partners (no osiedle, with a KRS
number) that can act as patrons for grant applications. City scale: 40 findings and 15 partners a
centre. Reads contacts, meetings and groups from the database (whatever earlier steps made), so it
works with or without them; deterministic for a seed (`ctx.rng`, ordered queries); rows go in
through `bulk.insert` with explicit ids.
"""
from collections import defaultdict
from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.demo import bulk, person_name
from models.diagnosis import fold_name
from models import (Cooperation, Finding, Group, Interaction, Meeting, Partner, PartnerContact, Resident, db,
                    finding_group, finding_interaction, finding_meeting, partner_group, partner_meeting)

SMALL_FINDINGS, CITY_FINDINGS = 15, 40
SMALL_PARTNERS, CITY_PARTNERS = 8, 15
SMALL_PATRONS, CITY_PATRONS = 6, 15
SMALL_REGRANTING_FINDINGS = 6

# (kind, title, tags, source, description or None)
FINDINGS = [
    ("need", "Brak miejsca spotkań dla seniorów", "seniorzy,miejsce spotkań", "conversation",
     "Klub seniora jest za mały, a zimą nie ma gdzie się spotkać poza kościołem."),
    ("need", "Brak ławek na podwórkach", "zieleń,seniorzy", "walk", None),
    ("need", "Świetlica dla dzieci po lekcjach", "dzieci,miejsce spotkań", "conversation",
     "Rodzice pracujący do 17:00 nie mają co zrobić z dziećmi po szkole."),
    ("need", "Bezpieczne przejście przy szkole", "bezpieczeństwo,dzieci", "meeting", None),
    ("need", "Zajęcia dla młodzieży wieczorami", "młodzież", "survey", None),
    ("need", "Więcej zieleni i drzew przy blokach", "zieleń", "survey", None),
    ("need", "Pomoc w zakupach dla osób starszych", "seniorzy,pomoc sąsiedzka", "conversation", None),
    ("need", "Integracja nowych mieszkańców z sąsiadami", "sąsiedztwo", "meeting",
     "W nowych blokach ludzie się nie znają; chcą okazji do poznania sąsiadów."),
    ("need", "Miejsce na wspólne świętowanie na świeżym powietrzu", "sąsiedztwo,miejsce spotkań", "conversation",
     None),
    ("need", "Naprawa placu zabaw", "dzieci", "walk", None),
    ("problem", "Śmieci przy altanach śmietnikowych", "porządek", "walk", None),
    ("problem", "Samochody parkują na trawnikach", "zieleń,bezpieczeństwo", "walk", None),
    ("problem", "Samotność osób starszych w kamienicach", "seniorzy", "existing_data",
     "Z danych MOPR: coraz więcej osób 75+ mieszkających samotnie."),
    ("problem", "Za szybka jazda na osiedlowej uliczce", "bezpieczeństwo", "conversation", None),
    ("problem", "Zdewastowana wiata przy przystanku", "porządek", "walk", None),
    ("resource", "Świetlica w SP 12 – wolna po 17:00", "miejsce spotkań,dzieci", "conversation", None),
    ("resource", "Pan Zbyszek – stolarz, zrobi ławki", "zieleń,naprawy", "conversation",
     "Emerytowany stolarz z bloku 7, ma warsztat w garażu."),
    ("resource", "Sala parafialna na spotkania", "miejsce spotkań", "conversation", None),
    ("resource", "Pani Halina prowadzi chór emerytów", "seniorzy,muzyka", "meeting", None),
    ("resource", "Ogródek przy bibliotece", "zieleń", "walk", None),
    ("resource", "Boisko szkolne otwarte w weekendy", "młodzież,sport", "existing_data", None),
    ("resource", "Rada Osiedla ma pieniądze na małe inicjatywy", "pieniądze", "existing_data", None),
    ("resource", "Mama bliźniaków – graficzka, zrobi plakaty", "kultura", "conversation", None),
    ("idea", "Sąsiedzka potańcówka na podwórku", "sąsiedztwo,seniorzy", "meeting", None),
    ("idea", "Wymiana książek w klatkach schodowych", "czytanie,kultura", "conversation", None),
    ("idea", "Wspólne sadzenie drzew jesienią", "zieleń", "meeting", None),
    ("idea", "Kino plenerowe na boisku", "młodzież,kultura", "survey", None),
    ("idea", "Spacer historyczny z najstarszymi mieszkańcami", "historia osiedla,seniorzy", "conversation", None),
]
STREETS = ["Głogowska", "Górna Wilda", "Piastowska", "Jagiellońska", "Kościelna", "Słowackiego", "Wierzbięcice",
           "Rolna"]
PLACES = ["przy Rynku", "przy szkole", "przy parku", "w kamienicach", "przy pętli", "w nowych blokach",
          "przy bibliotece", "przy kościele"]

# (kind, name pattern, contact roles); {n} a number, {hood} the osiedle, {x} a name
PARTNERS = [
    ("council", "Rada Osiedla {hood}", ["przewodniczący zarządu", "radna"]),
    ("school", "Szkoła Podstawowa nr {n} im. {x}", ["dyrektorka", "pedagożka szkolna"]),
    ("library", "Biblioteka Raczyńskich – filia nr {n}", ["kierowniczka filii"]),
    ("parish", "Parafia pw. {x}", ["proboszcz", "siostra z Caritas"]),
    ("housing_coop", "Spółdzielnia Mieszkaniowa „{x}”", ["administratorka osiedla", "prezes"]),
    ("culture_house", "Osiedlowy Dom Kultury „{x}”", ["instruktorka", "dyrektor"]),
    ("ngo", "Stowarzyszenie Przyjaciół Osiedla {hood}", ["prezeska", "koordynator wolontariatu"]),
    ("kindergarten", "Przedszkole nr {n} „{x}”", ["dyrektorka"]),
    ("social_welfare", "MOPR – Filia {hood}", ["pracowniczka socjalna", "kierownik filii"]),
    ("business", "Piekarnia „{x}”", ["właścicielka"]),
    ("business", "Kawiarnia Sąsiedzka „{x}”", ["właściciel"]),
    ("school", "Zespół Szkół nr {n}", ["wicedyrektorka"]),
    ("other", "Klub Seniora „{x}”", ["przewodnicząca"]),
    ("ngo", "Fundacja Zielone Podwórka {hood}", ["prezes"]),
    ("other", "Komisariat Policji – dzielnicowy", ["dzielnicowy"]),
]
NAMES = {
    "school": ["Marii Konopnickiej", "Adama Mickiewicza", "Janusza Korczaka", "Powstańców Wielkopolskich",
               "Bolesława Prusa", "Ireny Sendlerowej"],
    "parish": ["św. Jana Bosko", "Matki Bożej Bolesnej", "św. Jadwigi", "Najświętszego Serca Pana Jezusa"],
    "housing_coop": ["Nasz Dom", "Piastowska", "Winogrady", "Przyszłość", "Kolejarz"],
    "culture_house": ["Słonecznik", "Pod Lipami", "Orfeusz", "Jutrzenka"],
    "kindergarten": ["Bajkowy Zakątek", "Pszczółka Maja", "Słoneczko", "Kolorowe Kredki"],
    "business": ["Pod Kasztanem", "U Sąsiada", "Rogalik", "Na Rogu"],
    "other": ["Złota Jesień", "Pogodni", "Wrzos"],
}
PATRONS = ["Fundacja Aktywni Razem", "Stowarzyszenie Sąsiedzi dla Poznania", "Fundacja Zielony Poznań",
           "Stowarzyszenie Kulturalne Pyrlandia", "Fundacja Seniorzy w Akcji", "Stowarzyszenie Rowerowy Poznań",
           "Fundacja Młodzi Działają", "Stowarzyszenie Historii Poznańskich Dzielnic", "Fundacja Podwórka Bez Granic",
           "Stowarzyszenie Edukacji Obywatelskiej", "Fundacja Dzieciaki z Podwórka", "Stowarzyszenie Teatr Sąsiedzki",
           "Fundacja Warta Razem", "Stowarzyszenie Ogrody Społeczne", "Fundacja Kuchnia Sąsiedzka"]
PATRON_ROLES = ["prezeska zarządu", "koordynatorka projektów", "księgowa", "członek zarządu"]
COOPERATION = {
    "council": ["Dofinansowanie pikniku sąsiedzkiego z budżetu Rady", "Wspólny dyżur na festynie osiedlowym",
                "Prezentacja diagnozy osiedla na sesji Rady"],
    "school": ["Szkoła udostępniła salę na spotkanie otwarte", "Wspólne sprzątanie terenu wokół szkoły",
               "Warsztaty dla uczniów o działaniu w sąsiedztwie"],
    "library": ["Spotkanie otwarte w czytelni", "Wymiana książek przed filią", "Wspólny plakat o mikrograntach"],
    "parish": ["Sala parafialna na spotkanie seniorów", "Ogłoszenie o spotkaniu po mszy"],
    "housing_coop": ["Zgoda na ławki i rabaty na podwórku", "Spółdzielnia przekazała farby na mural"],
    "culture_house": ["Wspólna potańcówka międzypokoleniowa", "Warsztaty plastyczne dla dzieci"],
    "ngo": ["Wspólny wniosek o grant na ogród", "Szkolenie dla wolontariuszy"],
    "kindergarten": ["Dzieci z przedszkola sadziły kwiaty na podwórku", "Festyn rodzinny"],
    "social_welfare": ["Wspólne odwiedziny samotnych seniorów", "Spotkanie o pomocy sąsiedzkiej"],
    "business": ["Piekarnia przekazała wypieki na piknik", "Plakaty o spotkaniu w witrynie"],
    "other": ["Wspólne spotkanie o bezpieczeństwie", "Pomoc przy organizacji wydarzenia"],
}
PATRON_COOPERATION = ["Patronat nad wnioskiem grupy nieformalnej o mikrogrant",
                      "Szkolenie z pisania wniosków dla grup nieformalnych",
                      "Rozliczenie mikrograntu grupy z pomocą patrona", "Wspólna gala inicjatyw sąsiedzkich"]


def _at(day, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour))


class _Rows:
    """The rows of every table, with ids counted from what is already there."""

    def __init__(self):
        self.finding_id = bulk.next_id(Finding.__table__)
        self.partner_id = bulk.next_id(Partner.__table__)
        self.contact_id = bulk.next_id(PartnerContact.__table__)
        self.coop_id = bulk.next_id(Cooperation.__table__)
        self.findings, self.partners, self.contacts, self.coops = [], [], [], []
        self.links = defaultdict(set)  # table -> {(a, b)}

    def insert(self) -> None:
        bulk.insert(Finding.__table__, self.findings)
        bulk.insert(Partner.__table__, self.partners)
        bulk.insert(PartnerContact.__table__, self.contacts)
        bulk.insert(Cooperation.__table__, self.coops)
        for table, (a, b) in ((finding_interaction, ("finding_id", "interaction_id")),
                              (finding_meeting, ("finding_id", "meeting_id")),
                              (finding_group, ("finding_id", "group_id")),
                              (partner_group, ("partner_id", "group_id")),
                              (partner_meeting, ("partner_id", "meeting_id"))):
            bulk.insert(table, [{a: x, b: y} for x, y in sorted(self.links[table.name])])


def _by_hood(rows) -> dict:
    out = defaultdict(list)
    for row in rows:
        out[(row[1], row[2])].append(row)
    return out


def generate(ctx, scale: str) -> None:
    rng = ctx.rng
    today = ctx.today
    city = scale == "city"
    centre_ids = [c.id for c in ctx.centres]
    # What earlier steps made, whatever they were: contacts and meetings by (centre, osiedle), groups too.
    interactions, meetings = defaultdict(list), defaultdict(list)
    for centre_id in centre_ids:
        for iid, hood_id in db.session.execute(
                select(Interaction.id, Resident.neighbourhood_id).join(Resident, Resident.id == Interaction.resident_id)
                .where(Resident.centre_id == centre_id).order_by(Interaction.id.desc()).limit(400)):
            interactions[(centre_id, hood_id)].append(iid)
        for mid, hood_id, kind in db.session.execute(
                select(Meeting.id, Meeting.neighbourhood_id, Meeting.kind).where(Meeting.centre_id == centre_id,
                                                                                Meeting.starts_at <= _at(today))
                .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(200)):
            meetings[(centre_id, hood_id)].append((mid, kind))
    groups = _by_hood(db.session.execute(
        select(Group.id, Group.centre_id, Group.neighbourhood_id, Group.tags)
        .where(Group.status != "ended").order_by(Group.id)).all())
    rows = _Rows()
    hood_names = {h.id: h.name for h in ctx.hoods.values()}
    for centre in ctx.centres:
        staff = ctx.staff[centre.id]
        people = {hood: animator for animator, hoods in staff["animators"] for hood in hoods}
        # The regranting centre works city-wide: its animators diagnose the first osiedle each is assigned.
        hoods = (sorted({assigned[0] for _a, assigned in staff["animators"] if assigned}) if centre.is_regranting
                 else [centre.neighbourhood_id])
        if centre.is_regranting:
            n_findings = CITY_FINDINGS if city else SMALL_REGRANTING_FINDINGS
        else:
            n_findings = CITY_FINDINGS if city else SMALL_FINDINGS
        _findings(rng, today, rows, centre.id, hoods, n_findings, people, staff["coordinator"], interactions,
                  meetings, groups)
        if centre.is_regranting:
            _patrons(rng, today, rows, centre.id, CITY_PATRONS if city else SMALL_PATRONS, staff, groups)
        else:
            _partners(rng, today, rows, centre.id, centre.neighbourhood_id, hood_names[centre.neighbourhood_id],
                      CITY_PARTNERS if city else SMALL_PARTNERS, staff, meetings, groups)
    rows.insert()


def _findings(rng, today, rows, centre_id, hoods, n, people, coordinator_id, interactions, meetings, groups):
    order = rng.sample(range(len(FINDINGS)), len(FINDINGS))
    for k in range(n):
        kind, title, tags, source, description = FINDINGS[order[k % len(FINDINGS)]]
        if k >= len(FINDINGS):  # city scale: the same matter in another corner of the osiedle
            title = f"{title} ({PLACES[(k // len(FINDINGS) + k) % len(PLACES)]})"
        hood_id = hoods[k % len(hoods)]
        fid = rows.finding_id
        rows.finding_id += 1
        found_on = today - timedelta(days=rng.randrange(1, 300))
        rows.findings.append({
            "id": fid, "centre_id": centre_id, "neighbourhood_id": hood_id, "kind": kind, "title": title,
            "description": description, "source": source, "found_on": found_on, "tags": tags,
            "recorded_by_id": people.get(hood_id, coordinator_id), "created_at": _at(found_on, 16), "version": 1,
        })
        # How often it came up: some matters in many conversations, most in one or two.
        pool = interactions.get((centre_id, hood_id), [])
        heard = min(len(pool), rng.choice((0, 1, 1, 2, 2, 3, 5)) + (1 if source == "conversation" else 0))
        for iid in rng.sample(pool, heard):
            rows.links["finding_interaction"].add((fid, iid))
        met = meetings.get((centre_id, hood_id), [])
        at_meetings = min(len(met), rng.choice((0, 0, 1, 2)) + (1 if source == "meeting" else 0))
        for mid, _kind in rng.sample(met, at_meetings):
            rows.links["finding_meeting"].add((fid, mid))
        # Groups acting on it: one sharing a tag, often but not always (the rest are the gaps).
        wanted = set(tags.split(","))
        matching = [g for g in groups.get((centre_id, hood_id), []) if wanted & set((g[3] or "").split(","))]
        chance = 0.65 if kind in ("need", "problem") else 0.3
        if matching and rng.random() < chance:
            rows.links["finding_group"].add((fid, rng.choice(matching)[0]))


def _phone(rng) -> str:
    return f"+4861{rng.randrange(8_000_000, 8_999_999)}"  # a Poznań landline


def _add_partner(rng, rows, *, centre_id, hood_id, kind, name, roles, created_by, today, krs=None) -> int:
    pid = rows.partner_id
    rows.partner_id += 1
    created = today - timedelta(days=rng.randrange(60, 700))
    rows.partners.append({
        "id": pid, "centre_id": centre_id, "neighbourhood_id": hood_id, "name": name, "name_folded": fold_name(name),
        "kind": kind,
        "address": f"ul. {rng.choice(STREETS)} {rng.randrange(1, 120)}",
        "website": f"www.partner{pid}.example" if rng.random() < 0.6 else None,
        "phone": _phone(rng), "email": f"kontakt@partner{pid}.example" if rng.random() < 0.8 else None,
        "krs": krs, "notes": None, "active": rng.random() < 0.93, "created_at": _at(created, 10),
        "created_by_id": created_by, "version": 1,
    })
    for role in roles[: 1 + (rng.random() < 0.5)]:
        name_ = person_name(rng)
        rows.contacts.append({"id": rows.contact_id, "partner_id": pid, "name": name_, "role": role,
                              "phone": f"+48{rng.choice('5678')}{rng.randrange(10**7, 10**8)}" if rng.random() < 0.7
                              else None,
                              "email": f"osoba{rows.contact_id}@partner{pid}.example" if rng.random() < 0.6 else None})
        rows.contact_id += 1
    return pid


def _log(rng, today, rows, pid, texts, recorded_by, group_ids, meeting_ids, n):
    for _i in range(n):
        day = today - timedelta(days=rng.randrange(1, 360))
        group_id = rng.choice(group_ids) if group_ids and rng.random() < 0.4 else None
        meeting_id = rng.choice(meeting_ids) if meeting_ids and rng.random() < 0.3 else None
        rows.coops.append({"id": rows.coop_id, "partner_id": pid, "happened_on": day, "what": rng.choice(texts),
                           "group_id": group_id, "meeting_id": meeting_id, "recorded_by_id": recorded_by,
                           "created_at": _at(day, 18)})
        rows.coop_id += 1
        if group_id:
            rows.links["partner_group"].add((pid, group_id))
        if meeting_id:
            rows.links["partner_meeting"].add((pid, meeting_id))


def _partners(rng, today, rows, centre_id, hood_id, hood_name, n, staff, meetings, groups):
    animator = staff["animators"][0][0] if staff["animators"] else staff["coordinator"]
    group_ids = [g[0] for g in groups.get((centre_id, hood_id), [])]
    met = meetings.get((centre_id, hood_id), [])
    open_meetings = [mid for mid, kind in met if kind in ("open", "action", "consultation")][:12]
    made = []
    for k in range(n):
        kind, pattern, roles = PARTNERS[k % len(PARTNERS)]
        name = pattern.format(n=rng.randrange(1, 90), hood=hood_name, x=rng.choice(NAMES.get(kind, ["Sąsiedzki"])))
        if k >= len(PARTNERS):
            name = f"{name} ({k // len(PARTNERS) + 1})"
        krs = f"0000{rng.randrange(100000, 999999)}" if kind == "ngo" else None
        pid = _add_partner(rng, rows, centre_id=centre_id, hood_id=hood_id, kind=kind, name=name, roles=roles,
                           created_by=animator, today=today, krs=krs)
        made.append(pid)
        _log(rng, today, rows, pid, COOPERATION[kind], animator, group_ids, [m for m, _k in met[:40]],
             rng.choice((0, 1, 2, 2, 3, 4)))
        if group_ids and rng.random() < 0.35:
            rows.links["partner_group"].add((pid, rng.choice(group_ids)))
    # Open meetings and actions where several partners came: the partner-to-partner lines of the network.
    for mid in open_meetings[:4]:
        for pid in rng.sample(made, min(len(made), rng.choice((2, 3)))):
            rows.links["partner_meeting"].add((pid, mid))


def _patrons(rng, today, rows, centre_id, n, staff, groups):
    """City-wide NGOs of the regranting centre: no osiedle, a KRS number, patrons of grant applications."""
    coordinator = staff["coordinator"]
    group_ids = sorted(g[0] for (c, _h), gs in groups.items() if c == centre_id for g in gs)
    for k in range(n):
        name = PATRONS[k % len(PATRONS)] + (f" ({k // len(PATRONS) + 1})" if k >= len(PATRONS) else "")
        pid = _add_partner(rng, rows, centre_id=centre_id, hood_id=None, kind="ngo", name=name, roles=PATRON_ROLES,
                           created_by=coordinator, today=today, krs=f"0000{rng.randrange(100000, 999999)}")
        _log(rng, today, rows, pid, PATRON_COOPERATION, coordinator, group_ids, [], rng.choice((1, 2, 3)))
