"""Regranting through the test client: a call from draft to settlement, the pipeline with its history,
reviewers' scoping and declarations, the budget guard under concurrent decisions (threads, on SQLite
and PostgreSQL), attachments (type, size, scope), the call summary, and the statement budget."""
import io
import itertools
import re
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError

from models import (Attachment, AuditEvent, GrantApplication, GrantCall, GrantLinkRequest, GrantStatusChange, Group,
                    Neighbourhood, Partner, Review, ReviewAssignment, User, db)
from models import grants_queries as q
from tests.conftest import PASSWORD

HX = {"HX-Request": "true"}
TODAY = date.today()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


# --- helpers (test_apply*.py uses them too) -----------------------------------------------------------

def login(app, key: str):
    client = app.test_client()
    with app.app_context():
        email = db.session.get(User, app.world.users[key]).email
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 303
    return client


@contextmanager
def counting_statements(app):
    with app.app_context():
        engine = db.engine
    count = [0]

    def on_execute(*_args):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def iso(d: date) -> str:
    return d.isoformat()


def call_form(**overrides) -> dict:
    data = {
        "title": "Mikrogranty testowe", "description": "Nabór do testów.", "budget": "10 000", "max_grant": "4000",
        "min_own_percent": "10", "all_neighbourhoods": "y", "opens_on": iso(TODAY - timedelta(days=1)),
        "closes_on": iso(TODAY + timedelta(days=30)), "activities_from": iso(TODAY + timedelta(days=5)),
        "activities_to": iso(TODAY + timedelta(days=200)),
        "criteria-0-name": "Jasno określona potrzeba", "criteria-0-max_points": "10",
        "criteria-1-name": "Zaangażowanie mieszkańców", "criteria-1-max_points": "10",
        "criteria-2-name": "Realny budżet", "criteria-2-max_points": "5",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_call(app, client=None, **overrides) -> GrantCall:
    """A call created and opened through the pages, as the regranting coordinator does it."""
    client = client or login(app, "coordinator@regranting")
    r = client.post("/grants/calls/new", data=call_form(**overrides))
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]
    call_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        version = db.session.get(GrantCall, call_id).version
    r = client.post(f"/grants/calls/{call_id}/status", data={"to_status": "open", "version": str(version)})
    assert r.status_code == 303
    with app.app_context():
        call = db.session.get(GrantCall, call_id)
        db.session.expunge(call)
        return call


def patron_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Partner.id).where(Partner.centre_id == app.world.centres["regranting"],
                                                          Partner.kind == "ngo").order_by(Partner.id))


def hood_id(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == slug))


def application_form(app, **overrides) -> dict:
    """A valid application: 3 adults, a patron, 3 600 zł asked, 600 zł of volunteer work (≥ 10%)."""
    data = {
        "applicant_kind": "informal", "applicant_name": "Sąsiedzi z Rynku Wildeckiego",
        "patron_id": str(patron_id(app)),
        "members-0-name": "Anna Nowak", "members-0-adult": "y",
        "members-1-name": "Piotr Kowalski", "members-1-adult": "y",
        "members-2-name": "Zofia Wiśniewska", "members-2-adult": "y",
        "contact_name": "Anna Nowak", "contact_email": "anna.nowak@example.org", "contact_phone": "601 234 567",
        "neighbourhood_id": str(hood_id(app, "wilda")),
        "title": "Potańcówka na Rynku Wildeckim",
        "need": "Sąsiedzi w różnym wieku się nie znają.",
        "diagnosis": "Rozmowy w klatkach i spotkanie otwarte w CIL.",
        "goals": "Trzy potańcówki, na które przyjdzie 150 sąsiadów.",
        "activities": "Czerwiec: próba. Lipiec i sierpień: potańcówki.",
        "starts_on": iso(TODAY + timedelta(days=20)), "ends_on": iso(TODAY + timedelta(days=110)),
        "expected_participants": "150",
        "lines-0-item": "Nagłośnienie", "lines-0-quantity": "3", "lines-0-unit_cost": "800", "lines-0-source": "grant",
        "lines-1-item": "Plakaty", "lines-1-quantity": "1", "lines-1-unit_cost": "1 200,00", "lines-1-source": "grant",
        "lines-2-item": "Praca wolontariuszy", "lines-2-quantity": "20", "lines-2-unit_cost": "30",
        "lines-2-source": "volunteer",
        "privacy": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


_ADDRESSES = itertools.count(1)


def submit_public(app, call, ip: str | None = None, **overrides):
    """POST the public form from an address of its own (the throttle is per address), unless `ip` is given."""
    ip = ip or f"10.0.{next(_ADDRESSES) // 250}.{next(_ADDRESSES) % 250 + 1}"
    return app.test_client().post(f"/apply/{call.slug}", data=application_form(app, **overrides),
                                  environ_base={"REMOTE_ADDR": ip})


def latest_application(app) -> GrantApplication:
    with app.app_context():
        a = db.session.scalars(select(GrantApplication).order_by(GrantApplication.id.desc()).limit(1)).one()
        db.session.expunge(a)
        return a


def application_of(app, application_id: int) -> GrantApplication:
    with app.app_context():
        a = db.session.get(GrantApplication, application_id)
        db.session.expunge(a)
        return a


def version_of(app, application_id: int) -> str:
    return str(application_of(app, application_id).version)


def new_application(app, call, **overrides) -> int:
    r = submit_public(app, call, **overrides)
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    return latest_application(app).id


def pass_formal(app, client, aid):
    r = client.post(f"/grants/applications/{aid}/formal", data={"outcome": "passed", "version": version_of(app, aid)})
    assert r.status_code == 303, r.get_data(as_text=True)[:2000]


def assign(app, client, aid, key):
    r = client.post(f"/grants/applications/{aid}/reviewers", data={"reviewer_id": str(app.world.users[key])})
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]


def declare_and_score(app, key, aid, points, comment="Dobra inicjatywa."):
    client = login(app, key)
    r = client.post(f"/grants/applications/{aid}/declaration", data={"declaration": "no_conflict"})
    assert r.status_code == 303
    data = {f"scores-{i}": str(p) for i, p in enumerate(points)}
    data.update(comment=comment)
    r = client.post(f"/grants/applications/{aid}/review", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]
    return client


def decide(app, client, aid, amount="3600", outcome="granted", justification="Wysoka ocena komisji."):
    return client.post(f"/grants/applications/{aid}/decision", data={
        "outcome": outcome, "amount": amount, "justification": justification, "version": version_of(app, aid)})


def to_merit_review(app, call, coordinator, **overrides) -> int:
    aid = new_application(app, call, **overrides)
    pass_formal(app, coordinator, aid)
    return aid


def text_of(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("\xa0", " ")


@pytest.fixture
def uploads(app, tmp_path):
    app.config["GRANT_UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


# --- the whole pipeline (the "done when") -----------------------------------------------------

def test_call_to_settlement_through_the_pages(app, uploads):
    coordinator = login(app, "coordinator@regranting")
    # 1. the coordinator opens a call
    call = make_call(app, coordinator)
    assert call.status == "open" and call.slug == f"mikrogranty-testowe-{TODAY.year}"
    page = coordinator.get(f"/grants/calls/{call.id}").get_data(as_text=True)
    assert f"/apply/{call.slug}" in page and "10 000,00 zł" in page.replace("\xa0", " ")

    # 2. a resident applies (no login) and gets a reference number
    resident = app.test_client()
    form_page = resident.get(f"/apply/{call.slug}")
    assert form_page.status_code == 200 and "Osoba 3: imię i nazwisko" in form_page.get_data(as_text=True)
    r = resident.post(f"/apply/{call.slug}", data=application_form(app))
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/apply/{call.slug}/submitted")
    done = resident.get(r.headers["Location"]).get_data(as_text=True)
    a = latest_application(app)
    assert re.fullmatch(r"MG/\d{4}/\d{4}-[0-9A-HJKMNP-TV-Z]{4}", a.reference) and a.reference in done
    assert (a.status, a.requested_amount, a.volunteer_amount, a.source) == ("submitted", Decimal("3600.00"),
                                                                           Decimal("600.00"), "public")
    aid = a.id

    # 3. the formal check passes
    pass_formal(app, coordinator, aid)
    # 4. two reviewers, each declaring no conflict first, score it
    assign(app, coordinator, aid, "reviewer@regranting")
    assign(app, coordinator, aid, "coordinator@regranting")
    declare_and_score(app, "reviewer@regranting", aid, [8, 9, 4])
    declare_and_score(app, "coordinator@regranting", aid, [10, 7, 5])
    ranking = text_of(coordinator.get(f"/grants/calls/{call.id}").get_data(as_text=True))
    assert "21,5 / 25" in ranking and "ocen: 2 z 2" in ranking  # mean of 21 and 22

    # 5. the grant, within the budget and not above the request
    r = decide(app, coordinator, aid, amount="3700")
    assert r.status_code == 422 and "nie może być wyższa niż wnioskowana" in r.get_data(as_text=True)
    r = decide(app, coordinator, aid, amount="3 500,00")
    assert r.status_code == 303
    with app.app_context():
        assert db.session.get(GrantCall, call.id).granted_total == Decimal("3500.00")
    ranking = text_of(coordinator.get(f"/grants/calls/{call.id}").get_data(as_text=True))
    assert "3 500,00 zł 6 500,00 zł" in ranking  # granted, then what is left in the pool

    # 6. the agreement, the start, the report with a document and a photo, the settlement
    r = coordinator.post(f"/grants/applications/{aid}/agreement", data={
        "number": "RG/2026/007", "signed_on": iso(TODAY), "version": version_of(app, aid)})
    assert r.status_code == 303
    r = coordinator.post(f"/grants/applications/{aid}/start", data={"note": "", "version": version_of(app, aid)})
    assert r.status_code == 303
    r = coordinator.post(f"/grants/applications/{aid}/settlement/documents", data={
        "number": "FV/12/2026", "issued_on": iso(TODAY), "amount": "2400", "what_for": "Nagłośnienie, 3 wieczory",
        "budget_line_id": "0"})
    assert r.status_code == 303
    r = coordinator.post(f"/grants/applications/{aid}/attachments", data={
        "file": (io.BytesIO(PNG), "potańcówka.png"), "description": "Zdjęcie z pierwszej potańcówki"},
        content_type="multipart/form-data")
    assert r.status_code == 303
    settlement_data = {"what_happened": "Trzy potańcówki, przyszło 170 sąsiadów.", "participants": "170",
                       "volunteers": "8", "volunteer_hours": "24", "spent-0": "2400", "spent-1": "900",
                       "spent-2": "600"}
    page = coordinator.get(f"/grants/applications/{aid}/settlement").get_data(as_text=True)
    assert "FV/12/2026" in page and "potańcówka.png" in page
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    r = coordinator.post(f"/grants/applications/{aid}/settlement", data={**settlement_data, "version": version})
    assert r.status_code == 303  # saved, not yet submitted
    stale = coordinator.post(f"/grants/applications/{aid}/settlement", data={**settlement_data, "version": version})
    assert stale.status_code == 409
    r = coordinator.post(f"/grants/applications/{aid}/settlement", data={
        **settlement_data, "version": str(int(version) + 1), "submit_report": "1"})
    assert r.status_code == 303
    assert application_of(app, aid).status == "report_submitted"
    page = text_of(coordinator.get(f"/grants/applications/{aid}").get_data(as_text=True))
    assert "200,00 zł" in page  # the unspent part of the grant is proposed as the return
    r = coordinator.post(f"/grants/applications/{aid}/close", data={
        "outcome": "returned", "returned_amount": "200", "note": "Plakaty tańsze niż planowano.",
        "version": version_of(app, aid)})
    assert r.status_code == 303
    a = application_of(app, aid)
    assert (a.status, a.agreement_number, a.returned_amount) == ("returned", "RG/2026/007", Decimal("200.00"))

    # 7. every move has who, when and why
    with app.app_context():
        moves = db.session.execute(select(GrantStatusChange.from_status, GrantStatusChange.to_status,
                                          GrantStatusChange.user_id, GrantStatusChange.note)
                                   .where(GrantStatusChange.application_id == aid)
                                   .order_by(GrantStatusChange.id)).all()
    assert [m[1] for m in moves] == ["submitted", "merit_review", "granted", "agreement", "in_progress",
                                     "report_submitted", "returned"]
    assert moves[0][2] is None and all(m[2] == app.world.users["coordinator@regranting"] for m in moves[1:])
    assert all(m[3] for m in moves) and moves[2][3] == "Wysoka ocena komisji."
    history = text_of(coordinator.get(f"/grants/applications/{aid}").get_data(as_text=True))
    assert "złożony → ocena merytoryczna" in history and "Umowa nr RG/2026/007" in history

    # 8. the group's page shows it: its animator (of another centre) asks for the link by the number, and
    # the regranting coordinator confirms it
    animator = login(app, "animator@wilda")
    with app.app_context():
        gid = db.session.scalar(select(Group.id).where(Group.name == "Potańcówka na Rynku Wildeckim"))
    r = animator.post(f"/grants/groups/{gid}/link", data={"reference": a.reference.lower()})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/groups/{gid}#grants")
    group_page = animator.get(f"/groups/{gid}").get_data(as_text=True)
    assert f'hx-get="/grants/groups/{gid}"' in group_page
    fragment = text_of(animator.get(f"/grants/groups/{gid}", headers=HX).get_data(as_text=True))
    assert "czeka na potwierdzenie" in fragment and a.reference not in fragment and a.title not in fragment
    page = coordinator.get(f"/grants/applications/{aid}").get_data(as_text=True)
    request_id = re.search(rf'/grants/applications/{aid}/link-requests/(\d+)', page).group(1)
    r = coordinator.post(f"/grants/applications/{aid}/link-requests/{request_id}", data={"decision": "confirm"})
    assert r.status_code == 303
    fragment = text_of(animator.get(f"/grants/groups/{gid}", headers=HX).get_data(as_text=True))
    assert a.reference in fragment and "rozliczony ze zwrotem środków" in fragment and "przyznano 3 500,00 zł" in fragment
    assert "Anna Nowak" not in fragment and "czeka na potwierdzenie" not in fragment

    # 9. the city report's figures
    with app.app_context():
        summary = q.call_summary(centre_id=app.world.centres["regranting"])
    row = next(c for c in summary["calls"] if c["id"] == call.id)
    assert (row["applications"], row["granted"], row["settled"]) == (1, 1, 1)
    assert (row["granted_amount"], row["settled_amount"], row["returned_amount"], row["budget_left"]) == (
        Decimal("3500.00"), Decimal("3300.00"), Decimal("200.00"), Decimal("6500.00"))
    assert (row["participants"], row["volunteers"], row["volunteer_hours"]) == (170, 8, Decimal("24.00"))
    assert "Anna Nowak" not in repr(summary) and "anna.nowak" not in repr(summary)


def test_formal_failure_with_reasons_and_deadline_then_correction(app):
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    aid = new_application(app, call)
    r = coordinator.post(f"/grants/applications/{aid}/formal", data={"outcome": "failed", "version": version_of(app, aid)})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "Napisz, czego brakuje" in body and "Podaj termin poprawy." in body
    r = coordinator.post(f"/grants/applications/{aid}/formal", data={
        "outcome": "failed", "reasons": "Brak podpisu patrona.", "correction_due": iso(TODAY + timedelta(days=7)),
        "version": version_of(app, aid)})
    assert r.status_code == 303
    a = application_of(app, aid)
    assert (a.status, a.formal_reasons, a.correction_due) == ("formal_failed", "Brak podpisu patrona.",
                                                              TODAY + timedelta(days=7))
    # the correction, entered by staff, then the check passes
    edit = coordinator.get(f"/grants/applications/{aid}/edit").get_data(as_text=True)
    assert "Anna Nowak" in edit
    data = application_form(app, title="Potańcówka (poprawiona)", version=version_of(app, aid))
    data.pop("privacy")
    r = coordinator.post(f"/grants/applications/{aid}/edit", data=data)
    assert r.status_code == 303
    stale = coordinator.post(f"/grants/applications/{aid}/edit", data=data)  # the old version again
    assert stale.status_code == 409 and "Potańcówka (poprawiona)" in stale.get_data(as_text=True)
    pass_formal(app, coordinator, aid)
    assert application_of(app, aid).status == "merit_review"
    # a refusal always carries a justification
    r = coordinator.post(f"/grants/applications/{aid}/decision", data={"outcome": "refused",
                                                                        "version": version_of(app, aid)})
    assert r.status_code == 422 and "Decyzja zawsze wymaga uzasadnienia." in r.get_data(as_text=True)
    r = decide(app, coordinator, aid, outcome="refused", amount="", justification="Za mało mieszkańców.")
    assert r.status_code == 303 and application_of(app, aid).status == "refused"
    # a step that does not fit the stage is refused
    r = coordinator.post(f"/grants/applications/{aid}/agreement", data={
        "number": "X", "signed_on": iso(TODAY), "version": version_of(app, aid)})
    assert r.status_code == 409


def test_a_stale_decision_is_a_conflict(app):
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    aid = to_merit_review(app, call, coordinator)
    old = version_of(app, aid)
    assert decide(app, coordinator, aid).status_code == 303
    r = coordinator.post(f"/grants/applications/{aid}/decision", data={
        "outcome": "granted", "amount": "100", "justification": "x", "version": old})
    assert r.status_code == 409
    with app.app_context():
        assert db.session.get(GrantCall, call.id).granted_total == Decimal("3600.00")


def test_call_rules_are_validated_in_polish(app):
    coordinator = login(app, "coordinator@regranting")
    r = coordinator.post("/grants/calls/new", data=call_form(
        budget="abc", max_grant="5000", activities_to=iso(TODAY), all_neighbourhoods=None,
        **{"criteria-0-max_points": "", "criteria-1-name": "", "criteria-2-max_points": "500"}))
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    for message in ("Podaj liczbę", "Koniec działań nie może być przed ich początkiem.",
                    "Zaznacz „wszystkie osiedla” albo wybierz co najmniej jedno.",
                    "Podaj maksymalną liczbę punktów.", "Od 1 do 100 punktów."):
        assert message in body, message
    # the budget cannot drop below what has been granted; criteria stay once someone has scored
    call = make_call(app, coordinator)
    aid = to_merit_review(app, call, coordinator)
    assign(app, coordinator, aid, "reviewer@regranting")
    declare_and_score(app, "reviewer@regranting", aid, [5, 5, 5])
    decide(app, coordinator, aid)
    with app.app_context():
        version = db.session.get(GrantCall, call.id).version
    r = coordinator.post(f"/grants/calls/{call.id}/edit", data=call_form(budget="3000", max_grant="3000", version=str(version)))
    assert r.status_code == 422 and "pula nie może być mniejsza" in r.get_data(as_text=True)
    r = coordinator.post(f"/grants/calls/{call.id}/edit", data=call_form(
        version=str(version), **{"criteria-2-max_points": "7"}))
    assert r.status_code == 422 and "kryteriów nie można już zmienić" in r.get_data(as_text=True)
    r = coordinator.post(f"/grants/calls/{call.id}/edit", data=call_form(version=str(version), budget="12000"))
    assert r.status_code == 303
    r = coordinator.post(f"/grants/calls/{call.id}/edit", data=call_form(version=str(version), budget="13000"))
    assert r.status_code == 409  # the same old version again
    # settling a call needs every application closed
    r = coordinator.post(f"/grants/calls/{call.id}/status", data={"to_status": "closed", "version": str(version + 1)})
    assert r.status_code == 303
    r = coordinator.post(f"/grants/calls/{call.id}/status", data={"to_status": "settled", "version": str(version + 2)})
    assert r.status_code == 422 and "każdy wniosek jest rozliczony albo odrzucony" in r.get_data(as_text=True)


# --- scoping: who sees what -----------------------------------------------------------------------------

def test_reviewers_see_only_their_applications_and_only_after_declaring(app):
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    mine = to_merit_review(app, call, coordinator, title="Mój wniosek do oceny")
    other = to_merit_review(app, call, coordinator, title="Cudzy wniosek")
    assign(app, coordinator, mine, "reviewer@regranting")
    reviewer = login(app, "reviewer@regranting")

    listing = reviewer.get("/grants/calls").get_data(as_text=True)
    assert "Mój wniosek do oceny" in listing and "Cudzy wniosek" not in listing
    start = reviewer.get("/").get_data(as_text=True)  # the start page lists what waits for them
    assert "Mój wniosek do oceny" in start and "Cudzy wniosek" not in start
    assert "najpierw oświadczenie o konflikcie interesów" in start and "Nie masz przypisanych" not in start
    assert reviewer.get(f"/grants/applications/{other}").status_code == 404
    assert reviewer.get(f"/grants/calls/{call.id}").status_code == 200
    call_page = reviewer.get(f"/grants/calls/{call.id}").get_data(as_text=True)
    assert "Cudzy wniosek" not in call_page and "Lista rankingowa" not in call_page

    # before the declaration: only who applies (to judge a conflict), not the application itself
    before = reviewer.get(f"/grants/applications/{mine}").get_data(as_text=True)
    assert "Złóż oświadczenie" in before and "Anna Nowak" in before
    assert "Sąsiedzi w różnym wieku się nie znają." not in before and "Nagłośnienie" not in before
    r = reviewer.post(f"/grants/applications/{mine}/review", data={"scores-0": "5", "comment": "x"})
    assert r.status_code == 403
    # after it: the application, without the contact person's phone and e-mail
    assert reviewer.post(f"/grants/applications/{mine}/declaration", data={"declaration": "no_conflict"}
                         ).status_code == 303
    after = reviewer.get(f"/grants/applications/{mine}").get_data(as_text=True)
    assert "Sąsiedzi w różnym wieku się nie znają." in after and "Nagłośnienie" in after
    assert "anna.nowak@example.org" not in after and "+48601234567" not in after
    assert "Historia wniosku" not in after  # the other reviewers' work and the internal notes stay hidden
    # scores within each criterion's maximum
    r = reviewer.post(f"/grants/applications/{mine}/review", data={"scores-0": "11", "scores-1": "5",
                                                                    "scores-2": "5", "comment": "Dobre."})
    assert r.status_code == 422 and "Od 0 do 10 punktów." in r.get_data(as_text=True)
    r = reviewer.post(f"/grants/applications/{mine}/review", headers=HX, data={
        "scores-0": "9", "scores-1": "8", "scores-2": "4", "comment": "Dobre."})
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
    assert "Ocena zapisana: 21 z 25 pkt." in r.get_data(as_text=True)
    # reviewers do not move applications
    assert reviewer.post(f"/grants/applications/{mine}/decision", data={}).status_code == 403
    assert reviewer.get(f"/grants/applications/{mine}/settlement").status_code == 403


def test_a_declared_conflict_closes_the_application(app):
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    aid = to_merit_review(app, call, coordinator)
    assign(app, coordinator, aid, "reviewer@regranting")
    reviewer = login(app, "reviewer@regranting")
    assert reviewer.post(f"/grants/applications/{aid}/declaration", data={"declaration": "conflict"}
                         ).status_code == 303
    page = reviewer.get(f"/grants/applications/{aid}").get_data(as_text=True)
    assert "nie możesz go otworzyć" in page and "Sąsiedzi w różnym wieku" not in page
    # the declaration cannot be changed afterwards
    reviewer.post(f"/grants/applications/{aid}/declaration", data={"declaration": "no_conflict"})
    with app.app_context():
        assert db.session.scalar(select(ReviewAssignment.declaration)
                                 .where(ReviewAssignment.application_id == aid)) == "conflict"
    assert reviewer.post(f"/grants/applications/{aid}/review", data={}).status_code == 403


def test_who_coached_the_group_cannot_review_it(app):
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    aid = to_merit_review(app, call, coordinator)
    reviewer_id = app.world.users["reviewer@regranting"]
    coordinator_id = app.world.users["coordinator@regranting"]
    with app.app_context():
        group = db.session.scalar(select(Group).where(Group.name == "Kolektyw Muralowy"))
        group.animator_id = coordinator_id  # the coordinator coached this group
        db.session.commit()
        gid = group.id
    link_page = coordinator.get(f"/grants/applications/{aid}/group").get_data(as_text=True)
    assert "Kolektyw Muralowy" in link_page and "Zielone Podwórko" not in link_page  # only the centre's groups
    with app.app_context():
        wilda_group = db.session.scalar(select(Group.id).where(Group.name == "Zielone Podwórko"))
    assert coordinator.post(f"/grants/applications/{aid}/group", data={"group_id": str(wilda_group)}
                            ).status_code == 422
    r = coordinator.post(f"/grants/applications/{aid}/group", data={"group_id": str(gid)})
    assert r.status_code == 303
    page = coordinator.get(f"/grants/applications/{aid}").get_data(as_text=True)
    assert "Nie mogą oceniać (wspierali grupę):" in page
    r = coordinator.post(f"/grants/applications/{aid}/reviewers", data={"reviewer_id": str(coordinator_id)})
    assert r.status_code == 422 and "nie może oceniać jej wniosku" in r.get_data(as_text=True)
    # a reviewer assigned before the coaching became known is stopped at the declaration
    assign(app, coordinator, aid, "reviewer@regranting")
    with app.app_context():
        db.session.execute(update(Group).where(Group.id == gid).values(animator_id=reviewer_id))
        db.session.commit()
    reviewer = login(app, "reviewer@regranting")
    r = reviewer.post(f"/grants/applications/{aid}/declaration", data={"declaration": "no_conflict"})
    assert r.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(ReviewAssignment.declaration).where(
            ReviewAssignment.reviewer_id == reviewer_id, ReviewAssignment.application_id == aid)) == "conflict"
    assert "nie możesz go otworzyć" in reviewer.get(f"/grants/applications/{aid}").get_data(as_text=True)


def test_coaching_counts_meetings_and_contacts_with_members(app_ctx, world):
    from models import Interaction, Meeting, Membership, meeting_animator

    group = db.session.scalar(select(Group).where(Group.name == "Zielone Podwórko"))
    outsider = world.users["reviewer@regranting"]
    assert not q.coached(group.id, outsider)
    assert q.coached(group.id, group.animator_id)
    member = db.session.scalar(select(Membership.resident_id).where(Membership.group_id == group.id).limit(1))
    db.session.add(Interaction(resident_id=member, user_id=outsider, channel="street"))
    db.session.commit()
    assert q.coached(group.id, outsider)
    other = world.users["coordinator@rataje"]
    m = Meeting(centre_id=group.centre_id, neighbourhood_id=group.neighbourhood_id, group_id=group.id, kind="group",
                title="Spotkanie", starts_at=q.utcnow())
    db.session.add(m)
    db.session.flush()
    db.session.execute(meeting_animator.insert().values(meeting_id=m.id, user_id=other))
    db.session.commit()
    assert q.coached(group.id, other)


def test_other_roles_and_centres(app):
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    aid = new_application(app, call)
    wilda = login(app, "coordinator@wilda")
    page = wilda.get("/grants/calls")
    assert page.status_code == 200 and "nie prowadzi naborów" in page.get_data(as_text=True)
    assert "Nowy nabór" not in page.get_data(as_text=True)
    for path in (f"/grants/calls/{call.id}", f"/grants/applications/{aid}", f"/grants/calls/{call.id}/edit"):
        assert wilda.get(path).status_code == 404, path
    assert wilda.get("/grants/calls/new").status_code == 403
    for key in ("animator@regranting", "city", "admin"):
        client = login(app, key)
        for path in ("/grants/calls", f"/grants/applications/{aid}"):
            assert client.get(path).status_code == 403, (key, path)
    assert app.test_client().get("/grants/calls").status_code == 302
    # the menu: coordinators and reviewers
    assert 'href="/grants/calls"' in coordinator.get("/").get_data(as_text=True)
    assert 'href="/grants/calls"' in login(app, "reviewer@regranting").get("/").get_data(as_text=True)
    assert 'href="/grants/calls"' not in login(app, "animator@wilda").get("/").get_data(as_text=True)
    # denials leave an audit row
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "access_denied")) >= 6


def test_the_group_link_by_reference_is_scoped(app):
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    aid = new_application(app, call)  # osiedle Wilda
    ref = application_of(app, aid).reference
    with app.app_context():
        rataje_group = db.session.scalar(select(Group.id).where(Group.name == "Ratajskie Potańcówki"))
        wilda_group = db.session.scalar(select(Group.id).where(Group.name == "Rowerowa Wilda"))
    wilda = login(app, "animator@wilda")
    assert wilda.post(f"/grants/groups/{rataje_group}/link", data={"reference": ref}).status_code == 404
    rataje = login(app, "coordinator@rataje")
    r = rataje.post(f"/grants/groups/{rataje_group}/link", data={"reference": ref})
    assert r.status_code == 422 and "Sprawdź cały numer" in r.get_data(as_text=True)  # another osiedle
    assert wilda.post(f"/grants/groups/{wilda_group}/link", data={"reference": "MG/1999/0001-AAAA"}).status_code == 422
    assert wilda.post(f"/grants/groups/{wilda_group}/link", data={"reference": ref}).status_code == 303
    assert application_of(app, aid).group_id is None  # asked, not taken
    with app.app_context():
        request_id = db.session.scalar(select(GrantLinkRequest.id).where(GrantLinkRequest.application_id == aid))
    r = coordinator.post(f"/grants/applications/{aid}/link-requests/{request_id}", data={"decision": "confirm"})
    assert r.status_code == 303
    assert application_of(app, aid).group_id == wilda_group
    # once linked, no one links it elsewhere
    with app.app_context():
        another = db.session.scalar(select(Group.id).where(Group.name == "Sąsiedzka Biblioteczka"))
    assert wilda.post(f"/grants/groups/{another}/link", data={"reference": ref}).status_code == 422
    # the regranting coordinator opens it from the group's list only if it is theirs
    assert f"/grants/applications/{aid}" not in wilda.get(f"/grants/groups/{wilda_group}").get_data(as_text=True)


# --- the budget guard ------------------------------------------------------------------------------

def test_the_budget_is_never_exceeded_when_two_coordinators_decide_at_once(app):
    """Two applications of 3 600 zł, 5 000 zł in the pool: two coordinators grant at the same moment.
    Exactly one grant goes through; the other is told what is left."""
    coordinator = login(app, "coordinator@regranting")
    with app.app_context():
        second = User(email="koordynatorka2.regranting@animo.example", name="Druga Koordynatorka", role="coordinator",
                      centre_id=app.world.centres["regranting"],
                      password_hash=db.session.get(User, app.world.users["coordinator@regranting"]).password_hash)
        db.session.add(second)
        db.session.commit()
        app.world.users["coordinator2@regranting"] = second.id
    call = make_call(app, coordinator, budget="5000")
    first_id = to_merit_review(app, call, coordinator, title="Pierwszy")
    second_id = to_merit_review(app, call, coordinator, title="Drugi")
    clients = [coordinator, login(app, "coordinator2@regranting")]
    payloads = [(first_id, version_of(app, first_id)), (second_id, version_of(app, second_id))]
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i):
        aid, version = payloads[i]
        barrier.wait()
        results[i] = clients[i].post(f"/grants/applications/{aid}/decision", data={
            "outcome": "granted", "amount": "3600", "justification": "Dobry projekt.", "version": version})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [303, 422], statuses
    refused = next(r for r in results if r.status_code == 422).get_data(as_text=True)
    assert "tej kwoty nie można przyznać" in refused and "1 400,00 zł" in refused.replace("\xa0", " ")
    with app.app_context():
        assert db.session.get(GrantCall, call.id).granted_total == Decimal("3600.00")
        granted = db.session.scalar(select(func.count()).where(GrantApplication.call_id == call.id,
                                                               GrantApplication.status == "granted"))
        assert granted == 1


def test_the_guard_holds_even_after_both_read_the_same_total(make_app, app):
    """The race at its worst: both transactions have read the call (5 000 left) before either writes."""
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator, budget="5000")
    ids = [to_merit_review(app, call, coordinator, title=t) for t in ("A", "B")]
    barrier = threading.Barrier(2)
    outcomes = [None, None]
    user_id = app.world.users["coordinator@regranting"]

    def run(i):
        with app.app_context():
            a = db.session.get(GrantApplication, ids[i])
            left = db.session.get(GrantCall, call.id).budget_left  # both see 5 000
            assert left == Decimal("5000.00")
            barrier.wait()
            try:
                q.grant(a, Decimal("3600"), "Równocześnie.", user_id, TODAY)
                db.session.commit()
                outcomes[i] = "granted"
            except q.OverBudget:
                db.session.rollback()
                outcomes[i] = "over budget"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["granted", "over budget"]
    with app.app_context():
        assert db.session.get(GrantCall, call.id).granted_total == Decimal("3600.00")


def test_same_application_decided_twice_at_once_is_granted_once(app):
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator, budget="10000")
    aid = to_merit_review(app, call, coordinator)
    clients = [coordinator, login(app, "coordinator@regranting")]
    version = version_of(app, aid)
    barrier = threading.Barrier(2)
    results = [None, None]

    def run(i):
        barrier.wait()
        results[i] = clients[i].post(f"/grants/applications/{aid}/decision", data={
            "outcome": "granted", "amount": "3600", "justification": "Tak.", "version": version})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.status_code for r in results) == [303, 409]
    with app.app_context():
        assert db.session.get(GrantCall, call.id).granted_total == Decimal("3600.00")
        assert db.session.scalar(select(func.count()).where(GrantStatusChange.application_id == aid,
                                                            GrantStatusChange.to_status == "granted")) == 1


def test_the_database_refuses_a_total_above_the_budget(app_ctx, world):
    call = db.session.scalar(select(GrantCall).order_by(GrantCall.id).limit(1))
    with pytest.raises(IntegrityError):
        db.session.execute(update(GrantCall).where(GrantCall.id == call.id).values(granted_total=call.budget + 1))
        db.session.flush()
    db.session.rollback()


# --- attachments ------------------------------------------------------------------------------------

def _in_progress(app, coordinator) -> int:
    call = make_call(app, coordinator)
    aid = to_merit_review(app, call, coordinator)
    assert decide(app, coordinator, aid).status_code == 303
    coordinator.post(f"/grants/applications/{aid}/agreement", data={"number": "RG/1", "signed_on": iso(TODAY),
                                                                     "version": version_of(app, aid)})
    coordinator.post(f"/grants/applications/{aid}/start", data={"version": version_of(app, aid)})
    assert application_of(app, aid).status == "in_progress"
    return aid


def _upload(client, aid, content: bytes, name: str):
    return client.post(f"/grants/applications/{aid}/attachments", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_attachments_are_checked_by_content_and_size(app, uploads):
    coordinator = login(app, "coordinator@regranting")
    aid = _in_progress(app, coordinator)
    for content, name in ((PNG, "zdjęcie.png"), (JPEG, "skan.JPG"), (PDF, "faktura.pdf")):
        assert _upload(coordinator, aid, content, name).status_code == 303, name
    refused = [(b"<html><script>alert(1)</script></html>", "zdjecie.png"),  # HTML posing as a photo
               (b"GIF89a" + b"\x00" * 20, "animacja.gif"), (b"MZ\x90\x00" + b"\x00" * 60, "program.pdf"), (b"", "pusty.png")]
    for content, name in refused:
        r = _upload(coordinator, aid, content, name)
        assert r.status_code == 422, name
        body = r.get_data(as_text=True)
        assert "Dozwolone są tylko zdjęcia JPEG i PNG oraz skany PDF." in body or "Plik jest pusty." in body
    limit = app.config["GRANT_ATTACHMENT_MAX_BYTES"]
    r = _upload(coordinator, aid, PNG + b"\x00" * limit, "duże.png")
    assert r.status_code == 422 and "Plik jest za duży: najwyżej 5 MB." in r.get_data(as_text=True)
    r = _upload(coordinator, aid, PNG + b"\x00" * (11 * 1024 * 1024), "ogromne.png")
    assert r.status_code == 413
    with app.app_context():
        rows = db.session.scalars(select(Attachment).where(Attachment.application_id == aid)
                                  .order_by(Attachment.id)).all()
        assert [(a.original_name, a.content_type) for a in rows] == [
            ("zdjęcie.png", "image/png"), ("skan.JPG", "image/jpeg"), ("faktura.pdf", "application/pdf")]
        stored = sorted(p.name for p in uploads.iterdir())
        assert stored == sorted(a.stored_name for a in rows)  # nothing refused was kept
        assert all(re.fullmatch(r"[0-9a-f]{32}\.(png|jpg|pdf)", n) for n in stored)
        first = rows[0].id
    r = coordinator.get(f"/grants/applications/{aid}/attachments/{first}")
    assert r.status_code == 200 and r.data == PNG
    assert r.headers["Content-Type"] == "image/png" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("attachment;") and "zdj" in r.headers["Content-Disposition"]
    assert "sandbox" in r.headers["Content-Security-Policy"] and r.headers["Cache-Control"] == "no-store"


def test_attachments_are_never_served_out_of_scope(app, uploads):
    coordinator = login(app, "coordinator@regranting")
    aid = _in_progress(app, coordinator)
    assign_ok = coordinator.post(f"/grants/applications/{aid}/reviewers",
                                 data={"reviewer_id": str(app.world.users["reviewer@regranting"])})
    assert assign_ok.status_code == 422  # after the decision, no more reviewers
    assert _upload(coordinator, aid, PDF, "faktura.pdf").status_code == 303
    with app.app_context():
        att = db.session.scalar(select(Attachment.id).where(Attachment.application_id == aid))
        other = db.session.scalar(select(GrantApplication.id).where(GrantApplication.id != aid)
                                  .order_by(GrantApplication.id).limit(1))
        # a reviewer assigned to this application (before the decision) still does not get the files
        db.session.add(ReviewAssignment(application_id=aid, reviewer_id=app.world.users["reviewer@regranting"],
                                        declaration="no_conflict"))
        db.session.commit()
    path = f"/grants/applications/{aid}/attachments/{att}"
    assert login(app, "reviewer@regranting").get(path).status_code == 404
    assert login(app, "coordinator@wilda").get(path).status_code == 404
    assert login(app, "city").get(path).status_code == 403
    assert login(app, "animator@regranting").get(path).status_code == 403
    assert app.test_client().get(path).status_code == 302
    assert coordinator.get(f"/grants/applications/{other}/attachments/{att}").status_code == 404  # wrong parent
    assert login(app, "coordinator@wilda").post(f"/grants/applications/{aid}/attachments",
                                                data={"file": (io.BytesIO(PNG), "x.png")},
                                                content_type="multipart/form-data").status_code == 404
    assert coordinator.get(path).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "grant_attachment_downloaded")) == 1


# --- the demo, the summary, statements ------------------------------------------------------------------

def test_demo_call_has_every_stage_and_stays_within_budget(app_ctx, world):
    calls = db.session.scalars(select(GrantCall).order_by(GrantCall.id)).all()
    main = calls[0]
    assert main.title.startswith("Mikrogranty na inicjatywy sąsiedzkie") and main.budget == Decimal("230000.00")
    assert main.max_grant == Decimal("4000.00") and main.min_own_percent == Decimal("10.00")
    statuses = db.session.scalars(select(GrantApplication.status).where(GrantApplication.call_id == main.id)).all()
    assert len(statuses) == 12
    assert {"formal_failed", "merit_review", "granted", "refused", "agreement", "in_progress", "report_submitted",
            "settled", "returned"} <= set(statuses)
    total = db.session.scalar(select(func.sum(GrantApplication.granted_amount)).where(
        GrantApplication.call_id == main.id, GrantApplication.granted_amount.is_not(None)))
    assert q.money(main.granted_total) == q.money(total) <= main.budget
    assert db.session.scalar(select(func.count()).select_from(Review)) >= 10
    assert db.session.scalar(select(func.count()).where(GrantApplication.group_id.is_not(None))) >= 3
    assert any(c.status == "open" for c in calls)


def test_call_summary_has_no_personal_data(app_ctx, world):
    summary = q.call_summary()
    assert summary["totals"]["calls"] == 2 and summary["totals"]["applications"] == 14
    names = db.session.scalars(select(GrantApplication.contact_name)).all()
    flat = repr(summary)
    assert not any(n in flat for n in names)
    by_period = q.call_summary(start=TODAY + timedelta(days=400))
    assert by_period["calls"] == [] and by_period["totals"]["applications"] == 0
    assert q.call_summary(centre_id=world.centres["wilda"])["calls"] == []


def test_pages_cost_a_constant_number_of_statements(app):
    coordinator = login(app, "coordinator@regranting")
    reviewer = login(app, "reviewer@regranting")
    with app.app_context():
        main = db.session.scalar(select(GrantCall.id).order_by(GrantCall.id).limit(1))
        settled = db.session.scalar(select(GrantApplication.id).where(GrantApplication.status == "settled"))
        review = db.session.scalar(select(GrantApplication.id).where(GrantApplication.status == "merit_review")
                                   .order_by(GrantApplication.id))
        open_call = db.session.scalar(select(GrantCall).where(GrantCall.status == "open"))
        slug = open_call.slug
    pages = [(coordinator, "/grants/calls"), (coordinator, f"/grants/calls/{main}"),
             (coordinator, f"/grants/applications/{settled}"), (coordinator, f"/grants/applications/{review}"),
             (coordinator, f"/grants/applications/{settled}/settlement"), (reviewer, "/grants/calls"),
             (reviewer, f"/grants/applications/{review}"), (app.test_client(), f"/apply/{slug}")]

    def measure():
        counts = {}
        for client, path in pages:
            client.get(path)
            with counting_statements(app) as n:
                assert client.get(path).status_code == 200, path
            counts[path + str(id(client))] = n[0]
        return counts

    before = measure()
    # more of everything: applications, reviews, budget lines
    call = make_call(app, coordinator)
    extra = {f"lines-{i}-{k}": v for i in range(3, 12) for k, v in
             (("item", f"Pozycja {i}"), ("quantity", "1"), ("unit_cost", "1"), ("source", "volunteer"))}
    for _ in range(6):
        new_application(app, call, **extra)
    with app.app_context():
        db.session.execute(update(GrantApplication).where(GrantApplication.call_id == call.id)
                           .values(call_id=main))
        db.session.commit()
    after = measure()
    print("statements", sorted(after.values()))
    assert before == after, (before, after)
    assert max(after.values()) <= 12, after


def test_public_submission_statements(app):
    coordinator = login(app, "coordinator@regranting")
    call = make_call(app, coordinator)
    few = application_form(app)
    # as many members as an application may have (15: more is refused, never cut) and 20 budget lines
    many = application_form(app, **{f"{k}": v for i in range(3, 20) for k, v in (
        (f"lines-{i}-item", f"Pozycja {i}"), (f"lines-{i}-quantity", "1"), (f"lines-{i}-unit_cost", "1"),
        (f"lines-{i}-source", "volunteer"))},
        **{f"{k}": v for i in range(3, 15) for k, v in ((f"members-{i}-name", f"Osoba Numer{i}"),
                                                        (f"members-{i}-adult", "y"))})
    counts = []
    for i, data in enumerate((few, many)):
        client = app.test_client()
        with counting_statements(app) as n:
            r = client.post(f"/apply/{call.slug}", data=data, environ_base={"REMOTE_ADDR": f"10.9.9.{i + 1}"})
            assert r.status_code == 303, r.get_data(as_text=True)[:2000]
        counts.append(n[0])
    assert counts[0] == counts[1] <= 12, counts
    # a grant, an agreement: writes within the budget too
    aid = to_merit_review(app, call, coordinator)
    with counting_statements(app) as n:
        assert decide(app, coordinator, aid).status_code == 303
    assert n[0] <= 12, n[0]
