"""Commitments: the lists by role, group and resident; ticking done with hours (idempotent), dropping,
editing with a version, adding one outside a meeting, and the volunteer's time sheet."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Commitment, Resident, db
from tests.test_meetings import FRAGMENT_BUDGET, HX, audits, fresh_resident, make_group, rung, statements

TODAY = date.today()


def make_commitment(app, resident_id, what="przyniesie sadzonki", due=None, status="promised", hours=None,
                    done_on=None, group_id=None, centre="wilda") -> int:
    with app.app_context():
        r = db.session.get(Resident, resident_id)
        c = Commitment(centre_id=r.centre_id, neighbourhood_id=r.neighbourhood_id, resident_id=resident_id,
                       what=what, due_on=due, status=status, hours=hours, done_on=done_on, group_id=group_id,
                       recorded_by_id=app.world.users[f"animator@{centre}"])
        db.session.add(c)
        db.session.commit()
        return c.id


def get(app, commitment_id) -> Commitment:
    with app.app_context():
        c = db.session.get(Commitment, commitment_id)
        db.session.expunge(c)
        return c


# --- lists ---------------------------------------------------------------------------------

def test_coordinator_sees_the_centres_overdue_promises(client, auth, app):
    rid = fresh_resident(app)
    late = make_commitment(app, rid, what="naprawi ławkę przed blokiem", due=TODAY - timedelta(days=3))
    make_commitment(app, rid, what="zrobi ulotkę na jutro", due=TODAY + timedelta(days=1))
    foreign = fresh_resident(app, "rataje", "Rajmund", "Ratajski")
    make_commitment(app, foreign, what="spóźnione na Ratajach", due=TODAY - timedelta(days=3), centre="rataje")
    auth.login("coordinator@wilda")
    body = client.get("/commitments").get_data(as_text=True)
    assert "naprawi ławkę przed blokiem" in body and "po terminie" in body
    assert "zrobi ulotkę na jutro" not in body and "spóźnione na Ratajach" not in body
    assert f'id="c-{late}"' in body
    open_ = client.get("/commitments", query_string={"view": "open"}).get_data(as_text=True)
    assert "zrobi ulotkę na jutro" in open_ and "naprawi ławkę przed blokiem" in open_
    frag = client.get("/commitments", query_string={"view": "open"}, headers=HX)
    assert "<html" not in frag.get_data(as_text=True) and frag.status_code == 200


def test_animator_sees_open_promises_in_their_osiedla(client, auth, app):
    rid = fresh_resident(app)
    make_commitment(app, rid, what="zadzwoni do spółdzielni", due=TODAY + timedelta(days=5))
    auth.login("animator@wilda")
    body = client.get("/commitments").get_data(as_text=True)
    assert "zadzwoni do spółdzielni" in body
    mine = client.get("/commitments", query_string={"mine": "1", "view": "all"}).get_data(as_text=True)
    assert "zadzwoni do spółdzielni" in mine  # recorded by this animator


def test_lists_by_group_and_by_resident(client, auth, app):
    gid, members = make_group(app)
    make_commitment(app, members[0], what="zadanie grupy", group_id=gid)
    other = fresh_resident(app)
    make_commitment(app, other, what="zadanie bez grupy")
    auth.login("animator@wilda")
    by_group = client.get("/commitments", query_string={"group": gid, "view": "all"}).get_data(as_text=True)
    assert "zadanie grupy" in by_group and "zadanie bez grupy" not in by_group
    by_person = client.get("/commitments", query_string={"resident": other, "view": "all"}).get_data(as_text=True)
    assert "zadanie bez grupy" in by_person and "zadanie grupy" not in by_person
    assert "Karta czasu pracy wolontariusza" in by_person
    foreign = fresh_resident(app, "rataje")
    assert client.get("/commitments", query_string={"resident": foreign}).status_code == 404
    r = client.get("/commitments", query_string={"view": "wszystko"})
    assert r.status_code == 400 and "view" in r.get_data(as_text=True)


def test_commitments_list_statement_count(client, auth, app):
    rid = fresh_resident(app)
    for k in range(5):
        make_commitment(app, rid, what=f"zadanie {k}", due=TODAY - timedelta(days=k + 1))
    auth.login("coordinator@wilda")
    client.get("/commitments")
    with statements(app) as sent:
        assert client.get("/commitments").status_code == 200
    assert len(sent) <= 12, sent


# --- ticking done, dropping, bringing back ---------------------------------------------------

def test_tick_done_with_hours_is_idempotent(client, auth, app):
    rid = fresh_resident(app)
    cid = make_commitment(app, rid, due=TODAY + timedelta(days=2))
    auth.login("animator@wilda")
    for _ in range(2):
        r = client.post(f"/commitments/{cid}/status", data={"status": "done", "hours": "2,5".replace(",", ".")},
                        headers=HX)
        assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert body.startswith(f'<li id="c-{cid}" class="row commitment status-done">')
    assert "2,5 godz." in body and "Zrobione: przyniesie sadzonki." in body
    assert len(r.data) <= FRAGMENT_BUDGET
    c = get(app, cid)
    assert (c.status, c.hours, c.done_on) == ("done", Decimal("2.50"), TODAY)
    assert len(audits(app, "commitment_status_set")) == 1
    assert "sadzonki" not in audits(app, "commitment_status_set")[0].detail


def test_drop_and_bring_back(client, auth, app):
    rid = fresh_resident(app)
    cid = make_commitment(app, rid)
    auth.login("coordinator@wilda")
    r = client.post(f"/commitments/{cid}/status", data={"status": "dropped", "next": "/commitments?view=all"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/commitments?view=all")
    assert get(app, cid).status == "dropped"
    r = client.post(f"/commitments/{cid}/status", data={"status": "promised", "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/commitments")
    c = get(app, cid)
    assert (c.status, c.hours, c.done_on) == ("promised", None, None)


@pytest.mark.parametrize("hours", ["-1", "0", "501", "dużo"])
def test_hours_are_validated(client, auth, app, hours):
    rid = fresh_resident(app)
    cid = make_commitment(app, rid)
    auth.login("animator@wilda")
    r = client.post(f"/commitments/{cid}/status", data={"status": "done", "hours": hours}, headers=HX)
    assert r.status_code == 422 and f'id="c-{cid}"' in r.get_data(as_text=True)
    assert get(app, cid).status == "promised"
    assert client.post(f"/commitments/{cid}/status", data={"status": "zgubione"}).status_code == 422


def test_kept_commitments_make_a_resident_active(client, auth, app):
    rid = fresh_resident(app)
    first, second = make_commitment(app, rid, what="a"), make_commitment(app, rid, what="b")
    auth.login("animator@wilda")
    client.post(f"/commitments/{first}/status", data={"status": "done", "hours": "1"})
    client.post(f"/commitments/{second}/status", data={"status": "done", "hours": "1"})
    assert rung(app, rid) == "active"
    client.post(f"/commitments/{second}/status", data={"status": "dropped"})
    assert rung(app, rid) != "active"


def test_commitment_of_another_centre_is_not_found(client, auth, app):
    foreign = make_commitment(app, fresh_resident(app, "rataje"), centre="rataje")
    auth.login("animator@wilda")
    assert client.get(f"/commitments/{foreign}").status_code == 404
    assert client.post(f"/commitments/{foreign}", data={}).status_code == 404
    assert client.post(f"/commitments/{foreign}/status", data={"status": "done"}).status_code == 404
    assert get(app, foreign).status == "promised"


# --- editing and adding --------------------------------------------------------------------

def test_edit_with_a_stale_version_is_a_conflict(client, auth, app):
    cid = make_commitment(app, fresh_resident(app))
    auth.login("animator@wilda")
    page = client.get(f"/commitments/{cid}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    data = {"what": "przyniesie dwie sadzonki", "due_on": "", "group_id": "0", "status": "done", "hours": "3",
            "done_on": TODAY.isoformat(), "version": version}
    assert client.post(f"/commitments/{cid}", data=data).status_code == 303
    c = get(app, cid)
    assert (c.what, c.status, c.hours) == ("przyniesie dwie sadzonki", "done", Decimal("3.00"))
    r = client.post(f"/commitments/{cid}", data={**data, "what": "moja wersja"})
    assert r.status_code == 409 and "Ktoś inny zapisał" in r.get_data(as_text=True)
    assert 'value="moja wersja"' in r.get_data(as_text=True)
    assert client.post(f"/commitments/{cid}", data={**data, "what": ""}).status_code == 422


def test_add_a_commitment_outside_a_meeting(client, auth, app):
    rid = fresh_resident(app, first_name="Eustachy", last_name="Pomocny")
    auth.login("animator@wilda")
    body = client.get("/commitments/new", query_string={"q": "eustachy"}).get_data(as_text=True)
    assert f"/commitments/new?resident={rid}" in body
    assert client.get("/commitments/new", query_string={"resident": rid}).status_code == 200
    assert client.post("/commitments/new", data={"resident_id": rid, "what": ""}).status_code == 422
    r = client.post("/commitments/new", data={"resident_id": rid, "what": "pomoże przy festynie", "group_id": "0"})
    assert r.status_code == 303
    with app.app_context():
        c = db.session.scalars(select(Commitment).where(Commitment.resident_id == rid)).one()
        assert c.meeting_id is None and c.status == "promised"
    assert rung(app, rid) == "volunteer"
    assert client.post("/commitments/new", data={"resident_id": fresh_resident(app, "rataje"), "what": "x"}
                       ).status_code == 404
    assert client.post("/commitments/new", data={}).status_code == 422


# --- the time sheet ------------------------------------------------------------------------

def test_time_sheet_lists_done_tasks_and_hours_for_the_period(client, auth, app):
    rid = fresh_resident(app, first_name="Wanda", last_name="Wolontariuszka")
    gid, _ = make_group(app)
    make_commitment(app, rid, what="sadzenie krzewów", status="done", hours=Decimal("3"),
                    done_on=date(2026, 4, 12), group_id=gid)
    make_commitment(app, rid, what="plakat na festyn", status="done", hours=Decimal("1.5"), done_on=date(2026, 4, 20))
    make_commitment(app, rid, what="poza okresem", status="done", hours=Decimal("9"), done_on=date(2026, 5, 2))
    make_commitment(app, rid, what="jeszcze obiecane", status="promised")
    auth.login("coordinator@wilda")
    r = client.get(f"/commitments/timesheet/{rid}", query_string={"from": "2026-04-01", "to": "2026-04-30"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Karta ewidencji czasu pracy wolontariusza" in body and "Wanda Wolontariuszka" in body
    assert "12.04.2026" in body and "sadzenie krzewów" in body and "Zielone Podwórko Testowe" in body
    assert "plakat na festyn" in body and "poza okresem" not in body and "jeszcze obiecane" not in body
    assert "<strong>4,5</strong>" in body
    assert "Podpis wolontariusza/ki" in body and "01.04.2026 – 30.04.2026" in body
    assert client.get(f"/commitments/timesheet/{rid}").status_code == 200  # this month by default


@pytest.mark.parametrize("query, needle", [
    ({"from": "2026-13-01"}, "„from”"), ({"to": "wczoraj"}, "„to”"), ({"from": "20260401"}, "„from”"),
    ({"from": "2026-05-01", "to": "2026-04-01"}, "„to”"), ({"from": "2020-01-01", "to": "2026-01-01"}, "rok"),
])
def test_time_sheet_parameters_are_validated_in_polish(client, auth, app, query, needle):
    rid = fresh_resident(app)
    auth.login("animator@wilda")
    r = client.get(f"/commitments/timesheet/{rid}", query_string=query)
    assert r.status_code == 400 and needle in r.get_data(as_text=True)


def test_time_sheet_out_of_scope_is_not_found(client, auth, app):
    foreign = fresh_resident(app, "rataje")
    auth.login("animator@wilda")
    assert client.get(f"/commitments/timesheet/{foreign}").status_code == 404
