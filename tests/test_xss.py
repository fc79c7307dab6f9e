"""Stored script payloads come back escaped everywhere they are shown, and never run in a browser."""
import re

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
