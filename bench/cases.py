"""The pages the bench measures: one row per case. Add a row when a page lands.

Each row is `Case(name, role, method, path, data, kind)`, plus `fragment=True` for an htmx
fragment (the request carries `HX-Request: true` and the body is held to the fragment budget).

- `role`: whose logged-in client sends the request, or `ANONYMOUS` for a fresh client with
  no cookies on every request.
- `path` and `data`: a value, or a callable without arguments that builds it; callables run
  inside an application context, once per database, so they may query `db`.
- `kind`: "read" or "write", which decides the p95 budget.
"""
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select

from app.demo import DEMO_DOMAIN, DEMO_PASSWORD
from models import Role, User, db

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Case:
    name: str
    role: str
    method: str
    path: str | Callable[[], str]
    data: dict | Callable[[], dict] | None
    kind: str
    fragment: bool = False
    p50_ms: float | None = None  # a stricter median budget (the resident list, search and page: 15 ms)


def demo_user_id(role: str) -> int:
    """The first demo account of `role`."""
    return db.session.scalar(
        select(User.id).where(User.role == role, User.email.like(f"%@{DEMO_DOMAIN}")).order_by(User.id).limit(1))


def user_page() -> str:
    return f"/admin/users/{demo_user_id(Role.animator.value)}"


def coordinator_credentials() -> dict:
    return {"email": db.session.get(User, demo_user_id(Role.coordinator.value)).email, "password": DEMO_PASSWORD}


def _coordinator_resident_id() -> int:
    """A resident of the first demo coordinator's centre (the same person on every call)."""
    from models import Resident

    coordinator = db.session.get(User, demo_user_id(Role.coordinator.value))
    return db.session.scalar(select(Resident.id).where(Resident.centre_id == coordinator.centre_id)
                             .order_by(Resident.id).limit(1))


def resident_page() -> str:
    return f"/residents/{_coordinator_resident_id()}"


def contact_path() -> str:
    return f"/interactions/new?resident={_coordinator_resident_id()}"


def contact_data() -> dict:
    return {"resident_id": str(_coordinator_resident_id()), "channel": "street",
            "concerns": "Ławki na podwórku", "note": "Rozmowa po spotkaniu"}


CASES: list[Case] = [
    Case("start page", "animator", "GET", "/", None, "read"),
    Case("start page", "coordinator", "GET", "/", None, "read"),
    Case("start page", "city", "GET", "/", None, "read"),
    Case("start page", "admin", "GET", "/", None, "read"),
    Case("start page", "reviewer", "GET", "/", None, "read"),
    Case("users", "coordinator", "GET", "/admin/users", None, "read"),
    Case("users", "admin", "GET", "/admin/users", None, "read"),
    Case("one user", "admin", "GET", user_page, None, "read"),
    Case("centres", "admin", "GET", "/admin/centres", None, "read"),
    Case("audit trail", "admin", "GET", "/admin/audit", None, "read"),
    Case("health check", ANONYMOUS, "GET", "/healthz", None, "read"),
    Case("login form", ANONYMOUS, "GET", "/login", None, "read"),
    Case("sign in (coordinator)", ANONYMOUS, "POST", "/login", coordinator_credentials, "write"),
    # residents and contacts (DESIGN.md: list, search and a resident's page p50 ≤ 15 ms)
    Case("resident list", "animator", "GET", "/residents", None, "read", p50_ms=15),
    Case("resident list", "coordinator", "GET", "/residents", None, "read", p50_ms=15),
    Case("search 'kow'", "coordinator", "GET", "/residents?q=kow", None, "read", fragment=True, p50_ms=15),
    Case("search 'anna now'", "coordinator", "GET", "/residents?q=anna+now", None, "read", fragment=True, p50_ms=15),
    Case("list: no contact 90 days", "coordinator", "GET", "/residents?no_contact=90&rung=known", None, "read"),
    Case("resident page", "coordinator", "GET", resident_page, None, "read", p50_ms=15),
    Case("duplicates while typing", "coordinator", "GET", "/residents/duplicates?first_name=Anna&last_name=Nowak",
         None, "read", fragment=True),
    Case("contact: find a person", "coordinator", "GET", "/interactions/new?q=kowal", None, "read", fragment=True),
    Case("log a contact", "coordinator", "POST", contact_path, contact_data, "write"),
    Case("my follow-ups", "animator", "GET", "/followups", None, "read"),
]
