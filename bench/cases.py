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

from sqlalchemy import func, select

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
    p95_ms: float | None = None  # a budget of its own instead of the read/write one (the dashboard, /city)


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


def two_word_search() -> str:
    """Two word prefixes ("anna ziel") of a named resident of the coordinator's centre: a search that
    finds people in both datasets, so that its statement counts compare like with like."""
    from models import Resident
    from models.text import words

    coordinator = db.session.get(User, demo_user_id(Role.coordinator.value))
    first, last = db.session.execute(
        select(Resident.first_name, Resident.last_name)
        .where(Resident.centre_id == coordinator.centre_id, Resident.first_name.is_not(None),
               Resident.last_name.is_not(None)).order_by(Resident.id).limit(1)).one()
    return f"/residents?q={words(first)[0][:4]}+{words(last)[0][:4]}"


def resident_data_page() -> str:
    return f"/residents/{_coordinator_resident_id()}/data"


def timesheet_page() -> str:
    return f"/commitments/timesheet/{_coordinator_resident_id()}"


def contact_path() -> str:
    return f"/interactions/new?resident={_coordinator_resident_id()}"


def contact_data() -> dict:
    return {"resident_id": str(_coordinator_resident_id()), "channel": "street",
            "concerns": "Ławki na podwórku", "note": "Rozmowa po spotkaniu"}


def _bench_meeting() -> tuple[int, int]:
    """The first demo animator's latest past group meeting, and a member of the group (same on every call)."""
    from models import Meeting, Membership, utcnow

    animator = db.session.get(User, demo_user_id(Role.animator.value))
    row = db.session.execute(
        select(Meeting.id, Membership.resident_id).join(Membership, Membership.group_id == Meeting.group_id)
        .where(Meeting.centre_id == animator.centre_id, Meeting.neighbourhood_id.in_(animator.neighbourhood_ids),
               Meeting.starts_at < utcnow(), Membership.left_on.is_(None))
        .order_by(Meeting.starts_at.desc(), Membership.resident_id).limit(1)).one()
    return row[0], row[1]


def meeting_page() -> str:
    return f"/meetings/{_bench_meeting()[0]}"


def attendance_path() -> str:
    meeting_id, resident_id = _bench_meeting()
    return f"/meetings/{meeting_id}/attendance/{resident_id}"


def meeting_search_path() -> str:
    return f"/meetings/{_bench_meeting()[0]}/people?q=anna"


def commitment_path() -> str:
    return f"/meetings/{_bench_meeting()[0]}/commitments"


def commitment_data() -> dict:
    from datetime import date, timedelta

    return {"resident_id": str(_bench_meeting()[1]), "what": "przyniesie sadzonki", "inline": "1",
            "due_on": (date.today() + timedelta(days=7)).isoformat()}


def _bench_group(role: str) -> int:
    """An active group the first demo account of `role` may open (the same one on every call): at
    city scale a group with about eight members, two years of meetings and a stage history."""
    from models import Group

    user = db.session.get(User, demo_user_id(role))
    stmt = select(Group.id).where(Group.centre_id == user.centre_id, Group.status == "active")
    if role == Role.animator.value:
        stmt = stmt.where(Group.neighbourhood_id.in_(user.neighbourhood_ids))
    return db.session.scalar(stmt.order_by(Group.id).limit(1))


def group_page() -> str:
    return f"/groups/{_bench_group(Role.coordinator.value)}"


def group_member_search() -> str:
    return f"/groups/{_bench_group(Role.animator.value)}/member-search?q=anna"


def stage_move_path() -> str:
    return f"/groups/{_bench_group(Role.coordinator.value)}/stage"


def stage_move_data() -> dict:
    from models import STAGE_ORDER, Group

    group = db.session.get(Group, _bench_group(Role.coordinator.value))
    i = STAGE_ORDER.index(group.stage)
    to_stage = STAGE_ORDER[i + 1] if i + 1 < len(STAGE_ORDER) else STAGE_ORDER[i - 1]
    return {"to_stage": to_stage, "note": "Grupa ustaliła plan na wiosnę.", "version": str(group.version)}


def _bench_hood(role: str) -> tuple[str, int]:
    """(slug, id) of the osiedle with the most findings among those the first demo account of `role`
    works in (the same one on every call)."""
    from models import Finding, Neighbourhood

    user = db.session.get(User, demo_user_id(role))
    stmt = (select(Neighbourhood.slug, Neighbourhood.id).join(Finding, Finding.neighbourhood_id == Neighbourhood.id)
            .where(Finding.centre_id == user.centre_id))
    if role == Role.animator.value:
        stmt = stmt.where(Neighbourhood.id.in_(user.neighbourhood_ids))
    row = db.session.execute(stmt.group_by(Neighbourhood.slug, Neighbourhood.id)
                             .order_by(func.count().desc(), Neighbourhood.slug).limit(1)).one()
    return row[0], row[1]


def diagnosis_page_animator() -> str:
    return f"/diagnosis/{_bench_hood(Role.animator.value)[0]}"


def diagnosis_page_coordinator() -> str:
    return f"/diagnosis/{_bench_hood(Role.coordinator.value)[0]}"


def diagnosis_export() -> str:
    return f"/diagnosis/{_bench_hood(Role.coordinator.value)[0]}/export.xlsx"


def _bench_finding() -> int:
    """The most talked-about need of the animator's busiest osiedle."""
    from models import Finding, finding_interaction

    hood_id = _bench_hood(Role.animator.value)[1]
    mentions = (select(func.count()).select_from(finding_interaction)
                .where(finding_interaction.c.finding_id == Finding.id).correlate(Finding).scalar_subquery())
    return db.session.scalar(select(Finding.id).where(Finding.neighbourhood_id == hood_id, Finding.kind == "need")
                             .order_by(mentions.desc(), Finding.id).limit(1))


def finding_page() -> str:
    return f"/diagnosis/findings/{_bench_finding()}"


def finding_from_contact() -> str:
    """The new-finding form from a contact of the animator's busiest osiedle."""
    from models import Interaction, Resident

    hood_id = _bench_hood(Role.animator.value)[1]
    user = db.session.get(User, demo_user_id(Role.animator.value))
    interaction = db.session.scalar(
        select(Interaction.id).join(Resident, Resident.id == Interaction.resident_id)
        .where(Resident.centre_id == user.centre_id, Resident.neighbourhood_id == hood_id)
        .order_by(Interaction.id.desc()).limit(1))
    return f"/diagnosis/findings/new?interaction={interaction}"


def finding_group_path() -> str:
    return f"/diagnosis/findings/{_bench_finding()}/groups"


def finding_group_data() -> dict:
    """A group of the finding's osiedle (linked by the first request; the retries change nothing)."""
    from models import Finding, Group

    finding = db.session.get(Finding, _bench_finding())
    group_id = db.session.scalar(select(Group.id).where(Group.centre_id == finding.centre_id,
                                                        Group.neighbourhood_id == finding.neighbourhood_id,
                                                        Group.status != "ended").order_by(Group.id).limit(1))
    return {"group_id": str(group_id)}


def _bench_partner() -> int:
    """The partner of the first demo coordinator's centre with the longest cooperation log."""
    from models import Cooperation, Partner

    coordinator = db.session.get(User, demo_user_id(Role.coordinator.value))
    return db.session.scalar(
        select(Partner.id).join(Cooperation, Cooperation.partner_id == Partner.id)
        .where(Partner.centre_id == coordinator.centre_id).group_by(Partner.id)
        .order_by(func.count().desc(), Partner.id).limit(1))


def partner_page() -> str:
    return f"/partners/{_bench_partner()}"


def cooperation_path() -> str:
    return f"/partners/{_bench_partner()}/cooperations"


def cooperation_data() -> dict:
    from datetime import date

    return {"what": "Wspólne spotkanie o pikniku sąsiedzkim", "happened_on": date.today().isoformat()}


def network_osiedle() -> str:
    return f"/partners/network?neighbourhood={_bench_hood(Role.animator.value)[0]}"


def _bench_grant_call() -> int:
    """The regranting centre's call with the most applications (this year's, at city scale)."""
    from models import GrantApplication

    return db.session.scalar(select(GrantApplication.call_id).group_by(GrantApplication.call_id)
                             .order_by(func.count().desc(), GrantApplication.call_id).limit(1))


def _bench_review() -> tuple[int, list[int]]:
    """An application in the merits assessment assigned (declared) to the first demo reviewer, and the
    maxima of its call's criteria."""
    from models import GrantApplication, GrantCriterion, ReviewAssignment

    reviewer = demo_user_id(Role.reviewer.value)
    application_id, call_id = db.session.execute(
        select(GrantApplication.id, GrantApplication.call_id)
        .join(ReviewAssignment, ReviewAssignment.application_id == GrantApplication.id)
        .where(ReviewAssignment.reviewer_id == reviewer, ReviewAssignment.declaration == "no_conflict",
               GrantApplication.status == "merit_review").order_by(GrantApplication.id).limit(1)).one()
    maxima = db.session.scalars(select(GrantCriterion.max_points).where(GrantCriterion.call_id == call_id)
                                .order_by(GrantCriterion.position)).all()
    return application_id, list(maxima)


def grant_call_page() -> str:
    return f"/grants/calls/{_bench_grant_call()}"


def grant_application_page() -> str:
    return f"/grants/applications/{_bench_review()[0]}"


def review_path() -> str:
    return f"/grants/applications/{_bench_review()[0]}/review"


def review_data() -> dict:
    """New scores on the current version of the reviewer's review (if there is one yet)."""
    from models import Review, ReviewAssignment

    application_id, maxima = _bench_review()
    version = db.session.scalar(select(Review.version).join(ReviewAssignment).where(
        ReviewAssignment.application_id == application_id,
        ReviewAssignment.reviewer_id == demo_user_id(Role.reviewer.value)))
    return {**{f"scores-{i}": str(m * 2 // 3) for i, m in enumerate(maxima)}, "comment": "Realny plan, dobra diagnoza.",
            "version": str(version or "")}


def _open_call():
    from models import GrantCall

    return db.session.scalar(select(GrantCall).where(GrantCall.status == "open").order_by(GrantCall.id).limit(1))


def apply_page() -> str:
    return f"/apply/{_open_call().slug}"


def apply_path() -> str:
    """The public form of the open call. Every bench request comes from 127.0.0.1: the per-address throttle
    (5 applications an hour) is lifted on the bench's own application, so that what is measured is an
    accepted application, not the 429 (test_apply.py covers the throttle)."""
    from flask import current_app

    current_app.config["APPLY_SUBMISSIONS_PER_HOUR"] = current_app.config["APPLY_ATTEMPTS_PER_HOUR"] = 10 ** 6
    return apply_page()


def apply_data() -> dict:
    from datetime import timedelta

    from models import Neighbourhood, Partner

    call = _open_call()
    patron = db.session.scalar(select(Partner.id).where(Partner.centre_id == call.centre_id, Partner.kind == "ngo")
                               .order_by(Partner.id).limit(1))
    hood = db.session.scalar(select(Neighbourhood.id).order_by(Neighbourhood.name).limit(1))
    start = max(call.activities_from, call.opens_on)
    return {
        "applicant_kind": "informal", "applicant_name": "Sąsiedzi z Kwiatowej", "patron_id": str(patron),
        "members-0-name": "Anna Nowak", "members-0-adult": "y", "members-1-name": "Piotr Kowalski",
        "members-1-adult": "y", "members-2-name": "Zofia Wiśniewska", "members-2-adult": "y",
        "contact_name": "Anna Nowak", "contact_phone": "601 234 567", "neighbourhood_id": str(hood),
        "title": "Zielone podwórko", "need": "Podwórko jest puste.", "diagnosis": "Rozmowy z sąsiadami.",
        "goals": "Zielone podwórko.", "activities": "Maj: sadzenie. Czerwiec: piknik.",
        "starts_on": start.isoformat(), "ends_on": (start + timedelta(days=90)).isoformat(),
        "expected_participants": "80",
        "lines-0-item": "Sadzonki", "lines-0-quantity": "40", "lines-0-unit_cost": "25", "lines-0-source": "grant",
        "lines-1-item": "Ziemia", "lines-1-quantity": "20", "lines-1-unit_cost": "35", "lines-1-source": "grant",
        "lines-2-item": "Praca wolontariuszy", "lines-2-quantity": "20", "lines-2-unit_cost": "30",
        "lines-2-source": "volunteer", "privacy": "y",
    }


def city_year() -> str:
    """The city's view for a year: the 365 days up to today, every centre and osiedle (p95 ≤ 500 ms)."""
    from datetime import timedelta

    from app.timeutil import today_local

    today = today_local()
    return f"/city?from={(today - timedelta(days=364)).isoformat()}&to={today.isoformat()}"


def city_year_csv() -> str:
    return city_year().replace("/city?", "/city/export.csv?table=osiedla&")


def _report_year() -> str:
    """A year of the report: the 365 days up to today (the city dataset holds two years of data)."""
    from datetime import timedelta

    from app.timeutil import today_local

    today = today_local()
    return f"from={(today - timedelta(days=364)).isoformat()}&to={today.isoformat()}"


def report_year_page() -> str:
    """The first demo coordinator's centre (the regranting one: every section, micro-grants too)."""
    return f"/reports?{_report_year()}"


def report_year_xlsx() -> str:
    return f"/reports/xlsx?{_report_year()}"


def report_year_city() -> str:
    """The city's report of the same centre: the centres to choose from, no group names."""
    coordinator = db.session.get(User, demo_user_id(Role.coordinator.value))
    return f"/reports?centre={coordinator.centre_id}&{_report_year()}"


CASES: list[Case] = [
    # the start page of staff is their dashboard (issue 6): p95 ≤ 150 ms at city scale
    Case("dashboard (start page)", "animator", "GET", "/", None, "read", p95_ms=150),
    Case("dashboard (start page)", "coordinator", "GET", "/", None, "read", p95_ms=150),
    Case("start page", "city", "GET", "/", None, "read"),
    # the city's view: a year of every centre and osiedle, counted in SQL on each request (nothing cached)
    Case("city view for a year", "city", "GET", city_year, None, "read", p95_ms=500),
    Case("city view: osiedla as CSV (a year)", "city", "GET", city_year_csv, None, "read", p95_ms=500),
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
    Case("search 'first4 last4'", "coordinator", "GET", two_word_search, None, "read", fragment=True, p50_ms=15),
    Case("list: no contact 90 days", "coordinator", "GET", "/residents?no_contact=90&rung=known", None, "read"),
    Case("resident page", "coordinator", "GET", resident_page, None, "read", p50_ms=15),
    Case("duplicates while typing", "coordinator", "GET", "/residents/duplicates?first_name=Anna&last_name=Nowak",
         None, "read", fragment=True),
    Case("contact: find a person", "coordinator", "GET", "/interactions/new?q=kowal", None, "read", fragment=True),
    Case("log a contact", "coordinator", "POST", contact_path, contact_data, "write"),
    Case("my follow-ups", "animator", "GET", "/followups", None, "read"),
    Case("new resident form", "animator", "GET", "/residents/new", None, "read"),
    Case("log a contact: the form", "animator", "GET", "/interactions/new", None, "read"),
    Case("resident's data (RODO access)", "coordinator", "GET", resident_data_page, None, "read"),
    Case("record of processing", "coordinator", "GET", "/privacy/register", None, "read"),
    Case("retention review", "coordinator", "GET", "/privacy/retention", None, "read"),
    # meetings and commitments: the after-meeting screen at city scale (60,000 meetings, 600,000 attendances)
    Case("meetings list", "animator", "GET", "/meetings", None, "read"),
    Case("meetings list", "coordinator", "GET", "/meetings", None, "read"),
    Case("meeting page (after the meeting)", "animator", "GET", meeting_page, None, "read"),
    # The same request every time: after the first it is the idempotent retry (nothing to write).
    Case("attendance tap (retry)", "animator", "POST", attendance_path, {"present": "1"}, "write", fragment=True),
    Case("meeting: find a person", "animator", "GET", meeting_search_path, None, "read", fragment=True),
    Case("add a commitment", "animator", "POST", commitment_path, commitment_data, "write", fragment=True),
    Case("commitments list (overdue)", "coordinator", "GET", "/commitments", None, "read"),
    Case("new meeting form", "animator", "GET", "/meetings/new", None, "read"),
    Case("calendar settings", "animator", "GET", "/meetings/calendar", None, "read"),
    Case("volunteer time sheet", "coordinator", "GET", timesheet_page, None, "read"),
    Case("new group form", "animator", "GET", "/groups/new", None, "read"),
    Case("commitments list (open)", "animator", "GET", "/commitments", None, "read"),
    # informal groups at city scale (1,000 groups): the board, the list, a group's page, a stage move
    Case("groups board", "coordinator", "GET", "/groups/board", None, "read"),
    Case("groups board", "animator", "GET", "/groups/board", None, "read"),
    Case("groups list", "coordinator", "GET", "/groups", None, "read"),
    Case("group page", "coordinator", "GET", group_page, None, "read"),
    Case("group: find a member", "animator", "GET", group_member_search, None, "read", fragment=True),
    # The first request moves the group; the same form sent again is answered without a write.
    Case("stage move (then its retry)", "coordinator", "POST", stage_move_path, stage_move_data, "write",
         fragment=True),
    # the local diagnosis and the cooperation network (city scale: 40 findings and 15 partners a centre)
    Case("diagnosis of an osiedle", "animator", "GET", diagnosis_page_animator, None, "read"),
    Case("diagnosis of an osiedle", "coordinator", "GET", diagnosis_page_coordinator, None, "read"),
    Case("diagnosis as XLSX", "coordinator", "GET", diagnosis_export, None, "read"),
    Case("finding page", "animator", "GET", finding_page, None, "read"),
    Case("add to diagnosis from a contact", "animator", "GET", finding_from_contact, None, "read"),
    # The first request links the group; the same form sent again is answered without a write.
    Case("link a group to a need (then its retry)", "animator", "POST", finding_group_path, finding_group_data,
         "write", fragment=True),
    Case("partners list", "coordinator", "GET", "/partners", None, "read"),
    Case("partners list", "animator", "GET", "/partners", None, "read"),
    Case("partner page", "coordinator", "GET", partner_page, None, "read"),
    Case("log a cooperation", "coordinator", "POST", cooperation_path, cooperation_data, "write", fragment=True),
    Case("network picture (centre)", "coordinator", "GET", "/partners/network", None, "read"),
    Case("network picture (osiedle)", "animator", "GET", network_osiedle, None, "read"),
    # micro-grants (city scale: 3 calls, about 150 applications, two reviewers each)
    Case("grant calls", "coordinator", "GET", "/grants/calls", None, "read"),
    Case("grant call with its ranking", "coordinator", "GET", grant_call_page, None, "read"),
    Case("grant application", "coordinator", "GET", grant_application_page, None, "read"),
    Case("grant application (reviewer)", "reviewer", "GET", grant_application_page, None, "read"),
    # The first request saves the scores; the same form sent again writes nothing (a double tap).
    Case("review save (then its retry)", "reviewer", "POST", review_path, review_data, "write", fragment=True),
    Case("public application form", ANONYMOUS, "GET", apply_page, None, "read"),
    Case("public application sent", ANONYMOUS, "POST", apply_path, apply_data, "write"),
    # the report for the city: a year of a centre at city scale (8,300 residents, 2,400 meetings and 25,000
    # attendances in the year): every figure counted in SQL on each request, nothing cached
    Case("report for a year", "coordinator", "GET", report_year_page, None, "read"),
    Case("report for a year (city)", "city", "GET", report_year_city, None, "read"),
    # The download is audited: each request also writes its audit row.
    Case("report for a year as XLSX", "coordinator", "GET", report_year_xlsx, None, "read"),
]
