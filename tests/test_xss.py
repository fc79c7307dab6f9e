"""Stored script payloads come back escaped everywhere they are shown, and never run in a browser."""
import re

import pytest

from tests.conftest import PASSWORD
from tests.test_residents import add_person, hood_id

PAYLOADS = ['"><script>alert(1)</script>', "' onmouseover='alert(2)", "<img src=x onerror=alert(3)>",
            "javascript:alert(4)"]


def _store(app, client):
    rid = add_person(client, app, first_name=PAYLOADS[0], last_name=PAYLOADS[1], description=PAYLOADS[2])
    version = re.search(r'name="version" type="hidden" value="(\d+)"',
                        client.get(f"/residents/{rid}/edit").get_data(as_text=True)).group(1)
    r = client.post(f"/residents/{rid}", data={"first_name": PAYLOADS[0], "last_name": PAYLOADS[1],
                                               "description": PAYLOADS[2], "neighbourhood_id": hood_id(app, "wilda"),
                                               "street": PAYLOADS[3], "interests": PAYLOADS[2],
                                               "notes": PAYLOADS[0], "version": version})
    assert r.status_code == 303
    client.post(f"/interactions/new?resident={rid}", data={"resident_id": rid, "channel": "street",
                                                            "note": PAYLOADS[0], "concerns": PAYLOADS[2],
                                                            "next_step": PAYLOADS[1], "follow_up_on": "2026-12-24"})
    return rid


def test_payloads_are_escaped_in_pages_and_fragments(app, client, auth):
    auth.login("animator@wilda")
    rid = _store(app, client)
    pages = [f"/residents/{rid}", f"/residents/{rid}/edit", "/residents?q=script", "/followups",
             f"/residents/{rid}/data", "/interactions/new?q=script"]
    for path in pages:
        for headers in ({}, {"HX-Request": "true"}):
            body = client.get(path, headers=headers).get_data(as_text=True)
            assert "<script>alert" not in body and "<img src=x" not in body, path
            assert "onmouseover='alert" not in body, path
            assert 'href="javascript:' not in body, path


def test_no_dialog_fires_in_chromium(live_server, phone, auth, app):
    auth.login("animator@wilda")
    rid = _store(app, auth._client)
    dialogs = []
    phone.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    phone.goto(f"{live_server}/login")
    phone.get_by_label("E-mail").fill(auth.email("animator@wilda"))
    phone.get_by_label("Hasło").fill(PASSWORD)
    phone.get_by_role("button", name="Zaloguj").tap()
    phone.wait_for_url(f"{live_server}/")
    for path in (f"/residents/{rid}", "/residents?q=script", "/followups", f"/residents/{rid}/data"):
        phone.goto(f"{live_server}{path}")
        phone.mouse.move(50, 300)
    phone.goto(f"{live_server}/residents")
    phone.get_by_label("Szukaj (imię, opis, telefon, e-mail, ulica, tag)").fill("script")
    phone.locator("#results").get_by_text("alert(1)", exact=False).first.wait_for()
    assert dialogs == []


# --- every page of every area, with every free-text column poisoned -----------------------------------------

# Free text that people type and pages show. Reference tables kept between tests (neighbourhood,
# processing_activity) and columns that are parsed or used as keys (slugs, e-mails used to sign in,
# hashes, JSON, folded search copies) are left alone.
FREE_TEXT = {
    "centre": ["name", "operator"],
    "user": ["name"],
    "resident": ["first_name", "last_name", "description", "street", "notes"],
    "resident_tag": ["tag"],
    "interaction": ["concerns", "note", "next_step"],
    "community_group": ["name", "matter", "description", "formal_name"],
    "goal": ["title"],
    "stage_change": ["note"],
    "meeting": ["title", "place", "notes", "decisions"],
    "commitment": ["what"],
    "finding": ["title", "description"],
    "partner": ["name", "address", "website", "notes"],
    "partner_contact": ["name", "role"],
    "cooperation": ["what"],
    "grant_call": ["title", "description"],
    "grant_criterion": ["name"],
    "grant_application": ["applicant_name", "title", "need", "diagnosis", "goals", "activities", "contact_name",
                          "formal_reasons", "decision_note"],
    "grant_member": ["name"],
    "grant_budget_line": ["item"],
    "grant_status_change": ["note"],
    "grant_review": ["comment"],
    "grant_settlement": ["what_happened"],
    "grant_settlement_document": ["what_for"],
}
MARKERS = ("<script>alert", "<img src=x", "onmouseover='alert", 'href="javascript:', "src=\"javascript:")


def _poison_everything(app):
    from sqlalchemy import text

    from models import db

    with app.app_context():
        for table, columns in FREE_TEXT.items():
            values = {c: PAYLOADS[n % len(PAYLOADS)] for n, c in enumerate(columns)}
            # the first column of each table gets the <script> payload, so every table carries the worst one
            values[columns[0]] = PAYLOADS[0]
            if "website" in values:  # a link: the javascript: URL is the payload that matters there
                values["website"] = PAYLOADS[3]
            # the row's id keeps unique columns unique (a tag per person, a name per call, ...)
            sets = ", ".join(f'"{c}" = :{c} || \' #\' || CAST(id AS VARCHAR(12))' for c in columns)
            db.session.execute(text(f'UPDATE "{table}" SET {sets}'), values)
        db.session.commit()


def _html_pages(app, role):
    """(path, status) of every GET route the role may open, ids filled from its own centre."""
    from tests.test_routes_matrix import GET_MATRIX, build, expected, ids_for, own_ids

    ids = ids_for(app, own_ids)
    return [build(rule, ids) for rule, table in GET_MATRIX.items()
            if expected(table, role) == 200 and not rule.startswith("/static")]


@pytest.mark.parametrize("role", ["animator@wilda", "coordinator@wilda", "reviewer@regranting", "city", "admin"])
def test_payloads_in_every_free_text_field_are_escaped_on_every_page(app, role):
    from tests.test_routes_matrix import _client_for

    _poison_everything(app)
    client = _client_for(app, role)
    failures, checked = [], 0
    for path in _html_pages(app, role):
        for headers in ({}, {"HX-Request": "true"}):
            r = client.get(path, headers=headers)
            body = r.get_data()  # read every body: a streamed download ends its contexts here
            if r.status_code >= 500:
                failures.append(f"{path} {headers}: {r.status_code}")
                continue
            if not r.content_type.startswith("text/html"):
                continue
            body = body.decode()
            checked += 1
            failures += [f"{path} {headers}: {m!r}" for m in MARKERS if m in body]
    assert checked >= 10 if role in ("animator@wilda", "coordinator@wilda") else checked >= 2
    assert failures == []


def test_no_dialog_fires_on_any_poisoned_page_in_chromium(live_server, phone, auth, app):
    _poison_everything(app)
    dialogs = []
    phone.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    phone.goto(f"{live_server}/login")
    phone.get_by_label("E-mail").fill(auth.email("coordinator@wilda"))
    phone.get_by_label("Hasło").fill(PASSWORD)
    phone.get_by_role("button", name="Zaloguj").tap()
    phone.wait_for_url(f"{live_server}/")
    visited = 0
    for path in _html_pages(app, "coordinator@wilda"):
        if "export" in path or path.endswith((".csv", ".xlsx", ".json", ".ics")) or "/calendar/" in path:
            continue  # downloads, not pages
        if "/xlsx" in path or "/csv" in path:
            continue
        response = phone.goto(f"{live_server}{path}")
        if response is None or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        phone.mouse.move(40, 200)
        phone.mouse.move(200, 400)
        visited += 1
    assert visited >= 20
    assert dialogs == []
