"""The one demo-data generator. Deterministic for a given seed; each area adds its own step.

`small`: what `make run` shows: three centres (one regranting, two neighbourhood), a login for
every role, and, as areas land, realistic Polish residents, groups and meetings.
`city`: city scale for `make bench`: 12 centres across Poznań's 42 osiedla.
"""
import random
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from models import Centre, Neighbourhood, User, db

DEMO_PASSWORD = "animo-demo-2026"
DEMO_DOMAIN = "animo.example"

SMALL_CENTRES = [
    # slug, name, kind, osiedle slug, operator
    ("cil-regranting", "CIL Regrantingowy", "regranting", None, "Fundacja Wspólne Podwórko"),
    ("cil-wilda", "CIL Wilda", "neighbourhood", "wilda", "Stowarzyszenie Sąsiedzka Wilda"),
    ("cil-rataje", "CIL Rataje", "neighbourhood", "rataje", "Fundacja Razem na Ratajach"),
]

CITY_EXTRA_CENTRES = [
    ("cil-jezyce", "jezyce"), ("cil-lazarz", "sw-lazarz"), ("cil-winogrady", "stare-winogrady"),
    ("cil-piatkowo", "piatkowo"), ("cil-chartowo", "chartowo"), ("cil-glowna", "glowna"),
    ("cil-debiec", "zielony-debiec"), ("cil-srodka", "ostrow-tumski-srodka-zawady-komandoria"),
    ("cil-naramowice", "naramowice"),
]

OPERATORS = ["Fundacja Dobre Sąsiedztwo", "Stowarzyszenie Nasze Osiedle", "Fundacja Kulturalna Pyra",
             "Stowarzyszenie Podwórkowe Inicjatywy", "Fundacja Otwarte Klatki", "Stowarzyszenie Zielony Kwartał"]

FIRST_NAMES = ["Anna", "Katarzyna", "Magdalena", "Agnieszka", "Joanna", "Małgorzata", "Ewa", "Zofia",
               "Piotr", "Krzysztof", "Tomasz", "Łukasz", "Michał", "Paweł", "Jakub", "Wojciech"]
SURNAMES_F = ["Nowak", "Kowalska", "Wiśniewska", "Wójcik", "Kowalczyk", "Kamińska", "Lewandowska", "Zielińska",
              "Szymańska", "Woźniak", "Dąbrowska", "Kozłowska", "Jankowska", "Mazur", "Krawczyk", "Piotrowska"]
SURNAMES_M = ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
              "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Krawczyk", "Piotrowski"]


@dataclass
class DemoLogin:
    role: str
    centre: str  # slug or "-"
    email: str


def person_name(rng: random.Random) -> str:
    first = rng.choice(FIRST_NAMES)
    female = first.endswith("a") and first != "Kuba"
    return f"{first} {rng.choice(SURNAMES_F if female else SURNAMES_M)}"


def already_seeded() -> bool:
    return db.session.scalar(select(Centre.id).limit(1)) is not None


def generate(scale: str = "small", seed: int = 2026, password_method: str = "scrypt") -> list[DemoLogin]:
    """Fill an empty database with the demo dataset; returns the demo logins."""
    rng = random.Random(seed)
    hoods = {n.slug: n for n in db.session.scalars(select(Neighbourhood))}
    if not hoods:
        raise RuntimeError("Load the osiedla first: flask --app app seed-neighbourhoods")
    ctx = DemoContext(rng=rng, hoods=hoods, password_hash=_hasher(password_method))
    _centres_and_staff(ctx, scale)
    db.session.commit()
    for step in steps():
        step(ctx, scale)
        db.session.commit()
    return ctx.logins


@dataclass
class DemoContext:
    """What one step leaves for the next: centres, staff, residents, groups, ..."""
    rng: random.Random
    hoods: dict
    password_hash: str
    today: date = field(default_factory=date.today)
    logins: list = field(default_factory=list)
    centres: list = field(default_factory=list)
    staff: dict = field(default_factory=dict)  # centre id -> {"coordinator": id, "animators": [(id, [hood ids])]}
    residents: list = field(default_factory=list)  # (id, centre id, hood id, age group, animator id)
    groups: list = field(default_factory=list)  # (id, centre id, hood id, animator id, member resident ids)


def _hasher(method: str):
    # One hash for every demo account: they share the demo password, and scrypt is slow on purpose.
    probe = User(password_hash="")
    probe.set_password(DEMO_PASSWORD, method)
    return probe.password_hash


def steps() -> list:
    """The generator's steps after centres and staff, in order. Each area adds its own."""
    from app.demo import diagnosis, grants, groups, meetings, residents

    return [residents.generate, groups.generate, meetings.generate, diagnosis.generate, grants.generate,
            refresh_ladder]


def refresh_ladder(ctx, scale: str) -> None:
    """Last: derive every resident's rung on the engagement ladder from what was generated."""
    from models import ladder

    ladder.refresh_all(ctx.today)


def _add_user(ctx: DemoContext, email: str, name: str, role: str, centre: Centre | None, hoods=()) -> User:
    user = User(email=email, name=name, role=role, centre=centre, password_hash=ctx.password_hash,
                neighbourhoods=list(hoods))
    db.session.add(user)
    ctx.logins.append(DemoLogin(role=role, centre=centre.slug if centre else "-", email=email))
    return user


def _centres_and_staff(ctx: DemoContext, scale: str) -> None:
    rng = ctx.rng
    specs = [(slug, name, kind, hood, op) for slug, name, kind, hood, op in SMALL_CENTRES]
    if scale == "city":
        for i, (slug, hood) in enumerate(CITY_EXTRA_CENTRES):
            specs.append((slug, f"CIL {ctx.hoods[hood].name}", "neighbourhood", hood, OPERATORS[i % len(OPERATORS)]))
    animators_per_centre = 1 if scale == "small" else 3
    for slug, name, kind, hood, operator in specs:
        centre = Centre(slug=slug, name=name, kind=kind, operator=operator,
                        neighbourhood=ctx.hoods[hood] if hood else None)
        db.session.add(centre)
        db.session.flush()
        ctx.centres.append(centre)
        short = slug.removeprefix("cil-")
        coordinator = _add_user(ctx, f"koordynator.{short}@{DEMO_DOMAIN}", person_name(rng), "coordinator", centre)
        team = ctx.staff[centre.id] = {"coordinator": None, "animators": []}
        for i in range(animators_per_centre):
            if hood:
                assigned = [ctx.hoods[hood]]
            else:
                # The regranting centre works city-wide; its animators share out the osiedla.
                everywhere = sorted(ctx.hoods.values(), key=lambda n: n.slug)
                assigned = (everywhere[i::animators_per_centre] if scale == "city"
                            else sorted(rng.sample(everywhere, 3), key=lambda n: n.slug))
            suffix = "" if animators_per_centre == 1 else str(i + 1)
            animator = _add_user(ctx, f"animator{suffix}.{short}@{DEMO_DOMAIN}", person_name(rng), "animator", centre,
                                 assigned)
            db.session.flush()
            team["animators"].append((animator.id, [h.id for h in assigned]))
        db.session.flush()
        team["coordinator"] = coordinator.id
        if kind == "regranting":
            _add_user(ctx, f"oceniajacy.{short}@{DEMO_DOMAIN}", person_name(rng), "reviewer", centre)
    _add_user(ctx, f"miasto@{DEMO_DOMAIN}", "Wydział Zdrowia i Spraw Społecznych", "city", None)
    _add_user(ctx, f"admin@{DEMO_DOMAIN}", "Administrator Animo", "admin", None)


def demo_logins() -> list[DemoLogin]:
    """The demo accounts present in the database, in a stable order."""
    users = db.session.scalars(
        select(User).where(User.email.like(f"%@{DEMO_DOMAIN}")).order_by(User.centre_id.is_(None), User.centre_id, User.id)
    ).unique().all()
    return [DemoLogin(role=u.role, centre=u.centre.slug if u.centre else "-", email=u.email) for u in users]
