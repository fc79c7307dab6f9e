"""Demo residents, their consents and tags, and the contacts animators logged with them."""
from datetime import date, datetime, time, timedelta

from app.demo import bulk
from models import Consent, Interaction, Resident, ResidentTag
from models.resident import search_fields

STREETS = ["Głogowska", "Górna Wilda", "Dolna Wilda", "Wierzbięcice", "Rolna", "Różana", "Hetmańska", "Piastowska",
           "Chartowo", "Os. Piastowskie", "Os. Jagiellońskie", "Os. Czecha", "Dąbrowskiego", "Kraszewskiego",
           "Szamarzewskiego", "Słowackiego", "Jackowskiego", "Kościelna", "Marcelińska", "Grunwaldzka",
           "Winogrady", "Os. Wichrowe Wzgórze", "Os. Kosmonautów", "Naramowicka", "Serbska", "Wojciechowskiego"]
DESCRIPTIONS = ["Pani Basia, klatka 3", "Pan z psem z podwórka", "Mama bliźniaków z placu zabaw",
                "Pan Henio spod sklepu", "Sąsiadka z parteru", "Student z trzeciego piętra", "Pani z kwiaciarni",
                "Emerytowany nauczyciel z bloku 12", "Pani z ogródka przy garażach", "Dziadek z ławki przy fontannie"]
INTERESTS = ["ogród", "zieleń", "seniorzy", "dzieci", "młodzież", "sport", "kultura", "historia osiedla",
             "bezpieczeństwo", "rowery", "muzyka", "gotowanie", "rękodzieło", "zwierzęta", "czytanie", "taniec"]
OFFERS = ["stolarka", "pieczenie", "fotografia", "miejsce na spotkania", "grafika", "porady prawne", "księgowość",
          "samochód", "narzędzia ogrodnicze", "nagłośnienie", "gra na gitarze", "szycie", "języki obce", "IT"]
CONCERNS = ["Brakuje ławek na podwórku", "Plac zabaw jest zaniedbany", "Chciałaby poznać sąsiadów",
            "Za szybko jeżdżą samochody pod szkołą", "Nie ma gdzie spotkać się zimą", "Seniorzy czują się samotni",
            "Chciałby posadzić drzewa przy bloku", "Młodzież nie ma co robić wieczorami", "Śmieci przy altanie",
            "Potrzebna świetlica dla dzieci", "Chce zorganizować potańcówkę", "Martwi się wycinką drzew"]
NOTES = ["Rozmowa przy klatce, bardzo otwarta.", "Zna wielu sąsiadów, może pomóc w rozpoznaniu.",
         "Ma doświadczenie w organizowaniu festynów.", "Na razie nieufna, warto wrócić.",
         "Zaproponowała swoje mieszkanie na spotkanie.", "Chętnie przyjdzie na spotkanie otwarte."]
NEXT_STEPS = ["Zaprosić na spotkanie otwarte", "Oddzwonić w sprawie ławek", "Przynieść ulotkę o mikrograntach",
              "Poznać z grupą ogrodową", "Umówić rozmowę 1:1", "Zapytać o salę w spółdzielni"]
CHANNELS = ["one_to_one"] * 3 + ["door_to_door"] * 2 + ["street"] * 3 + ["phone"] * 2 + ["event", "online"]
AGE_GROUPS = ["adult"] * 5 + ["senior"] * 3 + ["youth", "child"]
FEMALE = ["Anna", "Katarzyna", "Maria", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Krystyna", "Elżbieta",
          "Zofia", "Jadwiga", "Halina", "Joanna", "Aleksandra", "Natalia", "Julia", "Zuzanna", "Łucja", "Wiktoria"]
MALE = ["Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Jan", "Michał", "Marcin", "Stanisław", "Jerzy",
        "Łukasz", "Grzegorz", "Mateusz", "Wojciech", "Jakub", "Kacper", "Szymon", "Zbigniew", "Henryk"]
SURNAMES = [("Nowak", "Nowak"), ("Kowalska", "Kowalski"), ("Wiśniewska", "Wiśniewski"), ("Wójcik", "Wójcik"),
            ("Kowalczyk", "Kowalczyk"), ("Kamińska", "Kamiński"), ("Lewandowska", "Lewandowski"),
            ("Zielińska", "Zieliński"), ("Szymańska", "Szymański"), ("Woźniak", "Woźniak"),
            ("Dąbrowska", "Dąbrowski"), ("Kozłowska", "Kozłowski"), ("Jankowska", "Jankowski"), ("Mazur", "Mazur"),
            ("Kwiatkowska", "Kwiatkowski"), ("Krawczyk", "Krawczyk"), ("Piotrowska", "Piotrowski"),
            ("Grabowska", "Grabowski"), ("Nowakowska", "Nowakowski"), ("Pawłowska", "Pawłowski"),
            ("Michalska", "Michalski"), ("Nowicka", "Nowicki"), ("Adamczyk", "Adamczyk"), ("Dudek", "Dudek"),
            ("Zając", "Zając"), ("Wieczorek", "Wieczorek"), ("Jabłońska", "Jabłoński"), ("Król", "Król"),
            ("Majewska", "Majewski"), ("Olszewska", "Olszewski"), ("Jaworska", "Jaworski"), ("Wróbel", "Wróbel"),
            ("Malinowska", "Malinowski"), ("Pawlak", "Pawlak"), ("Witkowska", "Witkowski"), ("Walczak", "Walczak"),
            ("Stępień", "Stępień"), ("Górska", "Górski"), ("Rutkowska", "Rutkowski"), ("Michalak", "Michalak"),
            ("Sikora", "Sikora"), ("Ostrowska", "Ostrowski"), ("Baran", "Baran"), ("Duda", "Duda"),
            ("Szewczyk", "Szewczyk"), ("Tomaszewska", "Tomaszewski"), ("Pietrzak", "Pietrzak"), ("Marciniak", "Marciniak")]

SMALL_PER_CENTRE = 60
CITY_RESIDENTS = 100_000
CITY_INTERACTIONS = 400_000


def generate(ctx, scale: str) -> None:
    """Residents for every centre, spread over the osiedla its animators work in."""
    rng = ctx.rng
    today = ctx.today
    total = CITY_RESIDENTS if scale == "city" else SMALL_PER_CENTRE * len(ctx.centres)
    contacts_per_resident = CITY_INTERACTIONS / CITY_RESIDENTS if scale == "city" else 3
    residents, tags, consents, interactions = [], [], [], []
    rid, tid, cid, iid = (bulk.next_id(t.__table__) for t in (Resident, ResidentTag, Consent, Interaction))
    ctx.residents = []
    centres = ctx.centres
    for n in range(total):
        centre = centres[n % len(centres)]
        staff = ctx.staff[centre.id]
        animator_id, hoods = rng.choice(staff["animators"])
        hood_id = rng.choice(hoods)
        female = rng.random() < 0.58
        pseudonymous = rng.random() < 0.08
        first = None if pseudonymous else rng.choice(FEMALE if female else MALE)
        last = None if pseudonymous or rng.random() < 0.1 else rng.choice(SURNAMES)[0 if female else 1]
        description = rng.choice(DESCRIPTIONS) if pseudonymous else None
        phone = f"+48{rng.choice('5678')}{rng.randrange(10**7, 10**8)}" if rng.random() < 0.55 else None
        email = None
        if first and last and rng.random() < 0.3:
            from models.text import fold
            email = f"{fold(first)}.{fold(last)}{rng.randrange(1, 99)}@poczta.example"
        street = rng.choice(STREETS) if rng.random() < 0.5 else None
        building = str(rng.randrange(1, 120)) if street and rng.random() < 0.5 else None
        age = rng.choice(AGE_GROUPS)
        created = datetime.combine(today - timedelta(days=rng.randrange(1, 700)), time(rng.randrange(8, 20)))
        own_tags = []
        for kind, pool, k in (("interest", INTERESTS, rng.choice((0, 1, 1, 2, 3))), ("offer", OFFERS, rng.choice((0, 0, 1, 2)))):
            for tag in rng.sample(pool, k):
                tags.append({"id": tid, "resident_id": rid, "kind": kind, "tag": tag})
                own_tags.append(tag)
                tid += 1
        search_text, sort_name = search_fields(first, last, description, email, street, building, phone, own_tags)
        residents.append({
            "id": rid, "centre_id": centre.id, "neighbourhood_id": hood_id, "first_name": first, "last_name": last,
            "description": description, "phone": phone, "email": email, "street": street, "building": building,
            "age_group": age, "notes": None, "rung": "known", "rung_reason": None, "rung_since": None,
            "last_contact_at": None, "search_text": search_text, "sort_name": sort_name, "created_at": created,
            "created_by_id": animator_id, "updated_at": created, "updated_by_id": animator_id,
            "anonymised_at": None, "version": 1,
        })
        for purpose, p in (("phone", 0.5 if phone else 0), ("email", 0.8 if email else 0), ("image", 0.3),
                           ("newsletter", 0.15 if email else 0)):
            if rng.random() < p:
                withdrawn = created.date() + timedelta(days=rng.randrange(30, 300)) if rng.random() < 0.05 else None
                consents.append({"id": cid, "resident_id": rid, "purpose": purpose, "given_on": created.date(),
                                 "method": rng.choice(("verbal", "written", "online")), "recorded_by_id": animator_id,
                                 "recorded_at": created, "withdrawn_on": withdrawn if withdrawn and withdrawn < today else None,
                                 "withdrawn_by_id": None})
                cid += 1
        k = max(0, round(rng.expovariate(1 / contacts_per_resident)))
        for j in range(k):
            at = created + timedelta(days=rng.randrange(0, max(1, (today - created.date()).days)), hours=rng.randrange(0, 3))
            follow = None
            if rng.random() < 0.2:
                follow = at.date() + timedelta(days=rng.randrange(3, 30))
            done = None
            if follow and follow < today - timedelta(days=3) and rng.random() < 0.97:
                done = datetime.combine(follow, time(12))
            interactions.append({
                "id": iid, "resident_id": rid, "user_id": animator_id, "occurred_at": at,
                "channel": rng.choice(CHANNELS), "concerns": rng.choice(CONCERNS) if rng.random() < 0.6 else None,
                "note": rng.choice(NOTES) if rng.random() < 0.5 else None,
                "next_step": rng.choice(NEXT_STEPS) if follow else None, "follow_up_on": follow,
                "follow_up_done_at": done, "created_at": at,
            })
            iid += 1
        ctx.residents.append((rid, centre.id, hood_id, age, animator_id))
        rid += 1
    bulk.insert(Resident.__table__, residents)
    bulk.insert(ResidentTag.__table__, tags)
    bulk.insert(Consent.__table__, consents)
    bulk.insert(Interaction.__table__, interactions)
