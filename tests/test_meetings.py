"""Meetings: the list, planning and editing, the after-meeting screen (page and every htmx action),
idempotent taps, scoping, timelines, the iCalendar feed and its token."""
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import event, func, select

from app.timeutil import local_to_utc, now_local
from models import (Attendance, AuditEvent, Commitment, Consent, Group, Meeting, Membership, Neighbourhood, Resident,
                    User, db, timeline)

HX = {"HX-Request": "true"}
FRAGMENT_BUDGET = 8000
STATEMENT_BUDGET = 12


# --- fixtures and helpers --------------------------------------------------------------------

@contextmanager
def statements(app):
    """Count the SQL statements the block sends (as make bench does)."""
    with app.app_context():
        engine = db.engine
    sent = []
    listener = lambda *args: sent.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def residents_of(app, centre: str, n: int | None = None) -> list[int]:
    with app.app_context():
        stmt = (select(Resident.id).where(Resident.centre_id == app.world.centres[centre])
                .order_by(Resident.id))
        ids = list(db.session.scalars(stmt))
    return ids[:n] if n else ids


def hood_of(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == slug))


def make_group(app, centre="wilda", members=6, name="Zielone Podwórko Testowe") -> tuple[int, list[int]]:
    """A group with members in the centre's osiedle, animated by the centre's animator."""
    slug = {"wilda": "wilda", "rataje": "rataje"}[centre]
    people = residents_of(app, centre)[-members:]
    with app.app_context():
        g = Group(centre_id=app.world.centres[centre], neighbourhood_id=hood_of(app, slug), name=name,
                  animator_id=app.world.users[f"animator@{centre}"])
        db.session.add(g)
        db.session.flush()
        for rid in people:
            db.session.add(Membership(group_id=g.id, resident_id=rid))
        db.session.commit()
        return g.id, people


def make_meeting(app, centre="wilda", group_id=None, days_ago=0, title="Spotkanie testowe", present=(),
                 hours_ago=2) -> int:
    slug = {"wilda": "wilda", "rataje": "rataje"}[centre]
    with app.app_context():
        start = local_to_utc(now_local().replace(second=0, microsecond=0) - timedelta(days=days_ago, hours=hours_ago))
        m = Meeting(centre_id=app.world.centres[centre], neighbourhood_id=hood_of(app, slug), group_id=group_id,
                    kind="group" if group_id else "open", title=title, starts_at=start, duration_min=90)
        db.session.add(m)
        db.session.flush()
        for rid in present:
            db.session.add(Attendance(meeting_id=m.id, resident_id=rid))
        db.session.commit()
        return m.id


def attendance_count(app, meeting_id, resident_id=None) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(Attendance).where(Attendance.meeting_id == meeting_id)
        if resident_id:
            stmt = stmt.where(Attendance.resident_id == resident_id)
        return db.session.scalar(stmt)


def audits(app, action) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def rung(app, resident_id) -> str:
    with app.app_context():
        return db.session.get(Resident, resident_id).rung


def fresh_resident(app, centre="wilda", first_name="Teodora", last_name="Testowa") -> int:
    slug = {"wilda": "wilda", "rataje": "rataje"}[centre]
    with app.app_context():
        r = Resident(centre_id=app.world.centres[centre], neighbourhood_id=hood_of(app, slug), first_name=first_name,
                     last_name=last_name)
        db.session.add(r)
        db.session.commit()
        return r.id


# --- access ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "city", "reviewer@regranting"])
def test_other_roles_may_not_open_meetings(client, auth, role, app):
    mid = make_meeting(app)
    auth.login(role)
    for path in ("/meetings", "/meetings/new", f"/meetings/{mid}", "/meetings/calendar", "/commitments"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/meetings/{mid}/attendance/1", data={"present": "1"}).status_code == 403


def test_anonymous_htmx_request_is_sent_to_login(client, app):
    mid = make_meeting(app)
    r = client.post(f"/meetings/{mid}/headcount", data={"unnamed_count": "2"}, headers=HX)
    assert r.status_code == 401 and "/login" in r.headers["HX-Redirect"]


def test_meeting_of_another_centre_is_not_found(client, auth, app):
    foreign = make_meeting(app, "rataje", title="Spotkanie na Ratajach")
    own_resident = residents_of(app, "wilda", 1)[0]
    auth.login("animator@wilda")
    for path in (f"/meetings/{foreign}", f"/meetings/{foreign}/edit", f"/meetings/{foreign}/people?q=an",
                 f"/meetings/{foreign}/commitments/new"):
        assert client.get(path).status_code == 404, path
    for path, data in ((f"/meetings/{foreign}/attendance/{own_resident}", {"present": "1"}),
                       (f"/meetings/{foreign}/headcount", {"unnamed_count": "1"}),
                       (f"/meetings/{foreign}/notes", {"notes": "x"}),
                       (f"/meetings/{foreign}/people/new", {"new-first_name": "X"}),
                       (f"/meetings/{foreign}/commitments", {"resident_id": own_resident, "what": "x"}),
                       (f"/meetings/{foreign}/delete", {"confirm": "y"}),
                       (f"/meetings/{foreign}/edit", {})):
        assert client.post(path, data=data).status_code == 404, path
    assert attendance_count(app, foreign) == 0


def test_resident_of_another_centre_cannot_be_marked_present(client, auth, app):
    mid = make_meeting(app)
    foreign = residents_of(app, "rataje", 1)[0]
    auth.login("coordinator@wilda")
    assert client.post(f"/meetings/{mid}/attendance/{foreign}", data={"present": "1"}, headers=HX).status_code == 404
    assert client.post(f"/meetings/{mid}/commitments", data={"resident_id": foreign, "what": "x"}).status_code == 404
    assert attendance_count(app, mid) == 0


# --- the list --------------------------------------------------------------------------------

def test_list_has_upcoming_and_past_in_scope_only(client, auth, app):
    past = make_meeting(app, days_ago=3, title="Kawa sąsiedzka minęła")
    with app.app_context():
        m = Meeting(centre_id=app.world.centres["wilda"], neighbourhood_id=hood_of(app, "wilda"), kind="open",
                    title="Piknik za tydzień", starts_at=local_to_utc(now_local() + timedelta(days=7)))
        db.session.add(m)
        db.session.commit()
    make_meeting(app, "rataje", title="Tylko na Ratajach")
    auth.login("animator@wilda")
    body = client.get("/meetings").get_data(as_text=True)
    upcoming, past_part = body.split('id="past-h"')
    assert "Piknik za tydzień" in upcoming and "Kawa sąsiedzka minęła" in past_part
    assert "Tylko na Ratajach" not in body
    assert f'/meetings/{past}"' in body
    frag = client.get("/meetings", query_string={"neighbourhood": hood_of(app, "wilda")}, headers=HX)
    text = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in text and "Minione" in text
    assert "HX-Request" in frag.headers["Vary"]
    assert client.get("/meetings", query_string={"page": "abc"}).status_code == 400


def test_list_filters_by_group(client, auth, app):
    gid, _ = make_group(app)
    make_meeting(app, group_id=gid, days_ago=2, title="Spotkanie grupy X")
    make_meeting(app, days_ago=2, title="Inne spotkanie Y")
    auth.login("animator@wilda")
    body = client.get("/meetings", query_string={"group": gid}).get_data(as_text=True)
    assert "Spotkanie grupy X" in body and "Inne spotkanie Y" not in body


# --- planning, editing, deleting -------------------------------------------------------------

def meeting_form(app, **overrides):
    data = {"title": "Spotkanie otwarte w bibliotece", "kind": "open", "neighbourhood_id": hood_of(app, "wilda"),
            "group_id": "0", "starts_at": "2026-03-10T18:00", "duration_min": "90", "place": "Biblioteka",
            "animator_ids": str(app.world.users["animator@wilda"]), "unnamed_count": "2", "notes": "",
            "decisions": ""}
    data.update(overrides)
    return data


def test_new_meeting_is_stored_in_utc_with_animators(client, auth, app):
    auth.login("animator@wilda")
    assert client.get("/meetings/new").status_code == 200
    r = client.post("/meetings/new", data=meeting_form(app))
    assert r.status_code == 303
    mid = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        m = db.session.get(Meeting, mid)
        assert m.starts_at == datetime(2026, 3, 10, 17, 0)  # 18:00 in Warsaw (CET) is 17:00 UTC
        assert m.centre_id == app.world.centres["wilda"] and m.unnamed_count == 2
        named = db.session.execute(select(User.id).join(Meeting.animators).where(Meeting.id == mid)).scalars().all()
        assert named == [app.world.users["animator@wilda"]]
    assert audits(app, "meeting_created")[-1].object_id == mid
    page = client.get(f"/meetings/{mid}").get_data(as_text=True)
    assert "10.03.2026 18:00" in page


def test_new_meeting_validation(client, auth, app):
    gid, _ = make_group(app, "wilda")
    auth.login("animator@wilda")
    r = client.post("/meetings/new", data=meeting_form(app, title="", starts_at=""))
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "Podaj tytuł spotkania." in body and "Podaj datę i godzinę początku." in body
    # an osiedle the animator does not work in
    r = client.post("/meetings/new", data=meeting_form(app, neighbourhood_id=hood_of(app, "rataje")))
    assert r.status_code == 422
    # a group that is not in the chosen osiedle, and a group out of scope
    other = hood_of(app, "stare-miasto")
    with app.app_context():
        g = db.session.get(Group, gid)
        g.neighbourhood_id = other
        db.session.commit()
    r = client.post("/meetings/new", data=meeting_form(app, group_id=str(gid)))
    assert r.status_code == 422


def test_edit_with_a_stale_version_is_a_conflict(client, auth, app):
    mid = make_meeting(app)
    auth.login("animator@wilda")
    page = client.get(f"/meetings/{mid}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    r = client.post(f"/meetings/{mid}/edit", data=meeting_form(app, title="Nowy tytuł", version=version))
    assert r.status_code == 303
    r = client.post(f"/meetings/{mid}/edit", data=meeting_form(app, title="Mój tytuł", version=version))
    body = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Ktoś inny zapisał zmiany" in body and 'value="Mój tytuł"' in body and "Nowy tytuł" in body
    with app.app_context():
        assert db.session.get(Meeting, mid).title == "Nowy tytuł"


def test_delete_needs_confirmation_and_keeps_commitments(client, auth, app):
    people = residents_of(app, "wilda", 2)
    mid = make_meeting(app, present=people)
    auth.login("animator@wilda")
    assert client.post(f"/meetings/{mid}/commitments", data={"resident_id": people[0], "what": "zrobi plakat"}
                       ).status_code == 303
    assert client.post(f"/meetings/{mid}/delete", data={}).status_code == 422
    assert client.post(f"/meetings/{mid}/delete", data={"confirm": "y"}).status_code == 303
    with app.app_context():
        assert db.session.get(Meeting, mid) is None
        c = db.session.scalars(select(Commitment).where(Commitment.resident_id == people[0])
                               .order_by(Commitment.id.desc())).first()
        assert c.what == "zrobi plakat" and c.meeting_id is None
    assert attendance_count(app, mid) == 0
    assert audits(app, "meeting_deleted")[-1].detail_dict == {"attendees": 2}


def test_quick_start_opens_todays_meeting_once(client, auth, app):
    gid, members = make_group(app)
    make_meeting(app, group_id=gid, days_ago=14, title="Poprzednie")
    auth.login("animator@wilda")
    body = client.get("/meetings").get_data(as_text=True)
    assert "Spotkanie teraz: Zielone Podwórko Testowe" in body
    first = client.post("/meetings/quick", data={"group_id": gid})
    again = client.post("/meetings/quick", data={"group_id": gid})
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]  # a second tap opens the same meeting
    mid = int(first.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        m = db.session.get(Meeting, mid)
        assert (m.group_id, m.kind, m.title) == (gid, "group", "Zielone Podwórko Testowe")
    page = client.get(f"/meetings/{mid}").get_data(as_text=True)
    for rid in members:
        assert f'id="att-{rid}"' in page
    assert client.post("/meetings/quick", data={}).status_code == 422
    foreign_gid, _ = make_group(app, "rataje", name="Grupa z Ratajów")
    assert client.post("/meetings/quick", data={"group_id": foreign_gid}).status_code == 404


# --- the after-meeting screen ----------------------------------------------------------------

def test_checklist_has_members_and_recent_attendees(client, auth, app):
    gid, members = make_group(app, members=4)
    guest, stranger = residents_of(app, "wilda", 2)
    make_meeting(app, group_id=gid, days_ago=14, present=[guest, members[0]])
    mid = make_meeting(app, group_id=gid, present=[members[1]])
    auth.login("animator@wilda")
    body = client.get(f"/meetings/{mid}").get_data(as_text=True)
    for rid in members + [guest]:
        assert f'id="att-{rid}"' in body
    assert f'id="att-{stranger}"' not in body
    assert body.count('aria-pressed="true"') == 1
    row = re.search(rf'<li id="att-{members[1]}" class="att is-present">.*?</li>', body, re.S).group(0)
    assert "w grupie" in row and "+ zobowiązanie" in row


def test_open_meeting_checklist_uses_the_osiedles_last_meetings(client, auth, app):
    a, b = residents_of(app, "wilda", 2)
    make_meeting(app, hours_ago=3, present=[a, b])
    mid = make_meeting(app)
    auth.login("animator@wilda")
    body = client.get(f"/meetings/{mid}").get_data(as_text=True)
    assert f'id="att-{a}"' in body and f'id="att-{b}"' in body


def test_page_stays_within_the_statement_budget(client, auth, app):
    gid, members = make_group(app, members=8)
    mid = make_meeting(app, group_id=gid, present=members[:5])
    auth.login("animator@wilda")
    client.get(f"/meetings/{mid}")
    with statements(app) as sent:
        assert client.get(f"/meetings/{mid}").status_code == 200
    assert len(sent) <= STATEMENT_BUDGET, sent


def test_attendance_is_set_not_toggled_so_a_retry_changes_nothing(client, auth, app):
    rid = fresh_resident(app)
    mid = make_meeting(app)
    auth.login("animator@wilda")
    assert rung(app, rid) == "known"
    for _ in range(3):  # a double tap, then a retry after a lost answer
        r = client.post(f"/meetings/{mid}/attendance/{rid}", data={"present": "1"}, headers=HX)
        assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert body.startswith(f'<li id="att-{rid}" class="att is-present">')
    assert 'id="status" hx-swap-oob="innerHTML"' in body and "Zaznaczono obecność: Teodora Testowa." in body
    assert len(r.data) <= FRAGMENT_BUDGET
    assert attendance_count(app, mid, rid) == 1
    assert len(audits(app, "attendance_set")) == 1
    assert rung(app, rid) == "participant"
    for _ in range(2):
        r = client.post(f"/meetings/{mid}/attendance/{rid}", data={"present": "0"}, headers=HX)
        assert r.status_code == 200 and 'aria-pressed="false"' in r.get_data(as_text=True)
    assert attendance_count(app, mid, rid) == 0
    assert [a.detail_dict["present"] for a in audits(app, "attendance_set")] == [True, False]
    assert rung(app, rid) == "known"
    detail = audits(app, "attendance_set")[0].detail
    assert "Teodora" not in detail and "Testowa" not in detail


def test_attendance_full_page_redirects_and_bad_state_is_422(client, auth, app):
    rid = residents_of(app, "wilda", 1)[0]
    mid = make_meeting(app)
    auth.login("coordinator@wilda")
    r = client.post(f"/meetings/{mid}/attendance/{rid}", data={"present": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/meetings/{mid}")
    assert attendance_count(app, mid, rid) == 1
    assert client.post(f"/meetings/{mid}/attendance/{rid}", data={"present": "yes"}).status_code == 422
    r = client.post(f"/meetings/{mid}/attendance/{rid}", data={}, headers=HX)
    assert r.status_code == 422 and f'id="att-{rid}"' in r.get_data(as_text=True)


def test_retry_of_a_tap_costs_few_statements(client, auth, app):
    rid = fresh_resident(app)
    mid = make_meeting(app)
    auth.login("animator@wilda")
    client.post(f"/meetings/{mid}/attendance/{rid}", data={"present": "1"}, headers=HX)
    with statements(app) as sent:
        client.post(f"/meetings/{mid}/attendance/{rid}", data={"present": "1"}, headers=HX)
    assert len(sent) <= 4, sent


def test_search_finds_people_and_offers_a_new_person(client, auth, app):
    rid = fresh_resident(app, first_name="Łucja", last_name="Żabińska")
    mid = make_meeting(app)
    auth.login("animator@wilda")
    r = client.get(f"/meetings/{mid}/people", query_string={"q": "lucja zab"}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body
    assert "Obecna/y: Łucja Żabińska" in body
    assert f'hx-post="/meetings/{mid}/attendance/{rid}"' in body and 'hx-target="#attendees"' in body
    # the new person form: osiedle preset to the meeting's, the name typed so far, the consent questions
    assert f'<option selected value="{hood_of(app, "wilda")}">' in body
    assert 'name="new-first_name" type="text" value="lucja"' in body
    assert "zgoda na wykorzystanie wizerunku" in body
    assert len(r.data) <= FRAGMENT_BUDGET
    assert client.get(f"/meetings/{mid}/people", query_string={"q": "l"}, headers=HX).get_data(as_text=True).strip() == ""
    # someone on the checklist is swapped in place; someone present says so
    client.post(f"/meetings/{mid}/attendance/{rid}", data={"present": "1"})
    body = client.get(f"/meetings/{mid}/people", query_string={"q": "lucja"}, headers=HX).get_data(as_text=True)
    assert "już obecna/y" in body
    # a member not ticked yet is on the checklist: the answer swaps that row (meetings.js does the same for
    # anyone whose row is on screen)
    member = fresh_resident(app, first_name="Kleofas", last_name="Członkowski")
    gid, _ = make_group(app, members=1)
    with app.app_context():
        db.session.get(Meeting, mid).group_id = gid
        db.session.add(Membership(group_id=gid, resident_id=member))
        db.session.commit()
    body = client.get(f"/meetings/{mid}/people", query_string={"q": "kleofas"}, headers=HX).get_data(as_text=True)
    assert f'hx-target="#att-{member}"' in body and f'data-attendee="{member}"' in body
    # without htmx: the whole page with the results
    page = client.get(f"/meetings/{mid}/people", query_string={"q": "lucja"}).get_data(as_text=True)
    assert "<html" in page and "Łucja Żabińska · już obecna/y" in page


def test_search_result_marks_present_and_clears_the_search(client, auth, app):
    rid = fresh_resident(app, first_name="Hieronim", last_name="Wyszukany")
    mid = make_meeting(app)
    auth.login("animator@wilda")
    r = client.post(f"/meetings/{mid}/attendance/{rid}", data={"present": "1", "from_search": "1"}, headers=HX)
    body = r.get_data(as_text=True)
    assert body.startswith(f'<li id="att-{rid}" class="att is-present">')
    assert '<div id="person-search" class="person-search" hx-swap-oob="true">' in body


def test_new_person_is_added_and_marked_present_in_one_step(client, auth, app):
    mid = make_meeting(app)
    auth.login("animator@wilda")
    r = client.post(f"/meetings/{mid}/people/new", headers=HX, data={
        "new-first_name": "Ola", "new-last_name": "Nowicka", "new-neighbourhood_id": hood_of(app, "wilda"),
        "new-phone": "601 234 567", "new-consent_phone": "y", "new-consent_method": "verbal"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200, body
    with app.app_context():
        new = db.session.scalars(select(Resident).where(Resident.first_name == "Ola")).one()
        assert new.neighbourhood_id == hood_of(app, "wilda") and new.phone == "+48601234567"
        assert new.rung == "participant"
        assert [c.purpose for c in db.session.scalars(select(Consent).where(Consent.resident_id == new.id))] == ["phone"]
        new_id = new.id
    assert body.startswith(f'<li id="att-{new_id}" class="att is-present">')
    assert 'id="person-search"' in body and "Dodano nową osobę i zaznaczono obecność: Ola Nowicka." in body
    assert len(r.data) <= FRAGMENT_BUDGET
    assert attendance_count(app, mid, new_id) == 1
    created = audits(app, "resident_created")[-1]
    assert created.object_id == new_id and created.detail_dict["via"] == "meeting"


def test_new_person_errors_come_back_in_the_form(client, auth, app):
    mid = make_meeting(app)
    auth.login("animator@wilda")
    r = client.post(f"/meetings/{mid}/people/new", headers=HX, data={
        "new-neighbourhood_id": hood_of(app, "wilda"), "new-consent_email": "y"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert r.headers["HX-Retarget"] == "#new-person" and r.headers["HX-Reswap"] == "outerHTML"
    assert "Podaj imię, nazwisko albo opis osoby." in body and "wymaga adresu e-mail" in body
    assert client.post(f"/meetings/{mid}/people/new", data={
        "new-first_name": "X", "new-neighbourhood_id": hood_of(app, "rataje")}).status_code == 422
    r = client.post(f"/meetings/{mid}/people/new", data={"new-first_name": "Bogna",
                                                          "new-neighbourhood_id": hood_of(app, "wilda")})
    assert r.status_code == 303


def test_headcount_is_a_value_so_a_retry_does_not_count_twice(client, auth, app):
    mid = make_meeting(app)
    auth.login("animator@wilda")
    for _ in range(2):
        r = client.post(f"/meetings/{mid}/headcount", data={"unnamed_count": "3"}, headers=HX)
        assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert body.startswith('<div id="headcount"') and '<output id="hc-value" aria-labelledby="hc-label">3</output>' in body
    assert 'name="unnamed_count" value="4"' in body and 'name="unnamed_count" value="2"' in body
    with app.app_context():
        assert db.session.get(Meeting, mid).unnamed_count == 3
    assert len(audits(app, "meeting_updated")) == 1
    assert client.post(f"/meetings/{mid}/headcount", data={"unnamed_count": "-1"}, headers=HX).status_code == 422
    assert client.post(f"/meetings/{mid}/headcount", data={"unnamed_count": "0"}).status_code == 303


def test_notes_save_as_you_type_and_leave_the_other_field_alone(client, auth, app):
    mid = make_meeting(app)
    with app.app_context():
        db.session.get(Meeting, mid).decisions = "Piknik w sobotę"
        db.session.commit()

    def version():
        with app.app_context():
            return str(db.session.get(Meeting, mid).version)

    auth.login("animator@wilda")
    seen = version()
    r = client.post(f"/meetings/{mid}/notes", data={"notes": "Przyszło dużo osób.", "version": seen}, headers=HX)
    assert r.status_code == 200 and r.get_data(as_text=True).startswith('<p id="notes-state"')
    assert "Zapisano o" in r.get_data(as_text=True)
    # The answer carries the next version: the next autosave is checked against it.
    assert f'name="version" id="notes-version" value="{int(seen) + 1}"' in r.get_data(as_text=True)
    with app.app_context():
        m = db.session.get(Meeting, mid)
        assert (m.notes, m.decisions) == ("Przyszło dużo osób.", "Piknik w sobotę")
    r = client.post(f"/meetings/{mid}/notes", data={"notes": "PESEL 44051401458", "version": version()}, headers=HX)
    assert r.status_code == 422 and "PESEL" in r.get_data(as_text=True)
    assert client.post(f"/meetings/{mid}/notes", data={}, headers=HX).status_code == 422
    # Without the version it was typed on, a save is taken for a stale one: nothing is written.
    assert client.post(f"/meetings/{mid}/notes", data={"notes": "Bez wersji"}, headers=HX).status_code == 409
    assert client.post(f"/meetings/{mid}/notes", data={"notes": "", "decisions": "Nowe",
                                                       "version": version()}).status_code == 303
    with app.app_context():
        m = db.session.get(Meeting, mid)
        assert (m.notes, m.decisions) == (None, "Nowe")


def test_headcount_tap_keeps_a_current_notes_form_current(client, auth, app):
    """The headcount writes the meeting's row too; the notes form that was current gets the new
    version (out of band), so the next autosave is not refused as someone else's change."""
    mid = make_meeting(app)
    auth.login("animator@wilda")
    with app.app_context():
        seen = db.session.get(Meeting, mid).version
    r = client.post(f"/meetings/{mid}/headcount", data={"unnamed_count": "3", "version": str(seen)}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f'name="version" id="notes-version" value="{seen + 1}" hx-swap-oob="true"' in body
    r = client.post(f"/meetings/{mid}/notes", data={"notes": "Po liczeniu", "version": str(seen + 1)}, headers=HX)
    assert r.status_code == 200
    # A notes form already behind gets nothing out of band: its next save still answers 409.
    r = client.post(f"/meetings/{mid}/headcount", data={"unnamed_count": "4", "version": str(seen)}, headers=HX)
    assert r.status_code == 200 and "hx-swap-oob=\"true\"" not in r.get_data(as_text=True).split("<div id=\"status\"")[0]
    assert client.post(f"/meetings/{mid}/notes", data={"notes": "Stara wersja", "version": str(seen)},
                       headers=HX).status_code == 409
    with app.app_context():
        assert db.session.get(Meeting, mid).notes == "Po liczeniu"


def test_commitment_added_inline_for_someone_present(client, auth, app):
    rid = fresh_resident(app)
    gid, _ = make_group(app)
    mid = make_meeting(app, group_id=gid, present=[rid])
    auth.login("animator@wilda")
    r = client.get(f"/meetings/{mid}/commitments/new", query_string={"resident_id": rid}, headers=HX)
    form = r.get_data(as_text=True)
    assert r.status_code == 200 and form.startswith(f'<form id="cform-{rid}"')
    assert "autofocus" in form and "Zobowiązanie: Teodora Testowa" in form
    due = (date.today() + timedelta(days=7)).isoformat()
    assert f'value="{due}"' in form or f'value="{(date.today() + timedelta(days=8)).isoformat()}"' in form
    r = client.post(f"/meetings/{mid}/commitments", headers=HX,
                    data={"resident_id": rid, "what": "przyniesie sadzonki", "due_on": due, "inline": "1"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200, body
    assert re.match(r'<li id="mc-\d+"><strong>Teodora Testowa</strong>: przyniesie sadzonki', body)
    assert f'<li id="att-{rid}" class="att is-present" hx-swap-oob="true">' in body
    assert len(r.data) <= FRAGMENT_BUDGET
    with app.app_context():
        c = db.session.scalars(select(Commitment).where(Commitment.resident_id == rid)).one()
        assert (c.meeting_id, c.group_id, c.status, c.due_on.isoformat()) == (mid, gid, "promised", due)
        assert c.recorded_by_id == app.world.users["animator@wilda"]
        assert c.neighbourhood_id == hood_of(app, "wilda")
    assert rung(app, rid) == "volunteer"
    assert "przyniesie" not in audits(app, "commitment_created")[-1].detail
    page = client.get(f"/meetings/{mid}").get_data(as_text=True)
    assert "przyniesie sadzonki" in page


def test_commitment_errors_come_back_in_the_inline_form(client, auth, app):
    rid = fresh_resident(app)
    mid = make_meeting(app, present=[rid])
    auth.login("animator@wilda")
    r = client.post(f"/meetings/{mid}/commitments", data={"resident_id": rid, "what": ""}, headers=HX)
    assert r.status_code == 422 and r.headers["HX-Retarget"] == f"#cform-{rid}"
    assert "Napisz, co ta osoba zrobi." in r.get_data(as_text=True)
    assert client.post(f"/meetings/{mid}/commitments", data={}).status_code == 422
    page = client.get(f"/meetings/{mid}/commitments/new").get_data(as_text=True)
    assert "<html" in page and 'id="cform-any"' in page


def test_timelines_show_meetings_and_commitments(client, auth, app):
    rid = fresh_resident(app)
    gid, _ = make_group(app)
    mid = make_meeting(app, group_id=gid, present=[rid], title="Sadzimy drzewa")
    auth.login("animator@wilda")
    client.post(f"/meetings/{mid}/commitments", data={"resident_id": rid, "what": "podleje sadzonki"})
    with app.app_context():
        kinds = {(e.kind, e.title) for e in timeline.resident_timeline(rid)}
        assert ("meeting", "Sadzimy drzewa") in kinds and ("commitment", "podleje sadzonki") in kinds
        group = {(e.kind, e.title) for e in timeline.group_timeline(gid)}
        assert ("meeting", "Sadzimy drzewa") in group and ("commitment", "podleje sadzonki") in group
        entry = next(e for e in timeline.group_timeline(gid) if e.kind == "meeting")
        assert entry.extra["present"] == 1 and entry.link == ("meetings.show", {"meeting_id": mid})


def test_done_when_a_newcomer_and_a_promise_show_up_for_the_coordinator(client, auth, app, monkeypatch):
    """The issue's 'done when', through the HTTP API (the browser test does the same on a phone)."""
    gid, members = make_group(app, members=10)
    auth.login("animator@wilda")
    mid = int(client.post("/meetings/quick", data={"group_id": gid}).headers["Location"].rsplit("/", 1)[1])
    for rid in members:
        assert client.post(f"/meetings/{mid}/attendance/{rid}", data={"present": "1"}, headers=HX).status_code == 200
    r = client.post(f"/meetings/{mid}/people/new", headers=HX, data={
        "new-first_name": "Ola", "new-last_name": "Nowicka", "new-neighbourhood_id": hood_of(app, "wilda"),
        "new-consent_method": "verbal"})
    new_id = int(re.match(r'<li id="att-(\d+)"', r.get_data(as_text=True)).group(1))
    due = date.today() + timedelta(days=7)
    client.post(f"/meetings/{mid}/commitments", headers=HX,
                data={"resident_id": new_id, "what": "zrobi plakat o pikniku", "due_on": due.isoformat()})
    assert attendance_count(app, mid) == 11
    assert rung(app, new_id) == "volunteer"
    page = client.get(f"/residents/{new_id}").get_data(as_text=True)
    assert "Zielone Podwórko Testowe" in page and f"/meetings/{mid}" in page
    auth.logout()
    auth.login("coordinator@wilda")
    assert "zrobi plakat o pikniku" not in client.get("/commitments").get_data(as_text=True)  # not overdue yet
    import views.commitments
    monkeypatch.setattr(views.commitments, "today_local", lambda: due + timedelta(days=1))
    overdue = client.get("/commitments").get_data(as_text=True)
    assert "zrobi plakat o pikniku" in overdue and "Ola Nowicka" in overdue and "po terminie" in overdue


# --- the iCalendar feed ----------------------------------------------------------------------

def _token_from(page: str) -> str:
    return re.search(r'value="http://localhost/meetings/calendar/([A-Za-z0-9_-]+)\.ics"', page).group(1)


def test_calendar_feed_is_valid_personal_and_revocable(client, auth, app):
    gid, members = make_group(app)
    mine = make_meeting(app, group_id=gid, present=members, title="Spotkanie mojej grupy")
    other = make_meeting(app, title="Cudze spotkanie otwarte")
    with app.app_context():
        db.session.get(Meeting, mine).place = "Świetlica"
        db.session.commit()
    auth.login("animator@wilda")
    assert "Włącz kalendarz" in client.get("/meetings/calendar").get_data(as_text=True)
    r = client.post("/meetings/calendar/token")
    assert r.status_code == 303
    token = _token_from(client.get("/meetings/calendar").get_data(as_text=True))
    assert "value=\"http://localhost/meetings/calendar/" not in client.get("/meetings/calendar").get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(User, app.world.users["animator@wilda"]).calendar_token_hash
        assert stored and token not in stored and len(stored) == 64

    anonymous = app.test_client()
    feed = anonymous.get(f"/meetings/calendar/{token}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    cal = Calendar.from_ical(feed.data)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert "Spotkanie mojej grupy" in events and "Cudze spotkanie otwarte" not in events
    ev = events["Spotkanie mojej grupy"]
    assert str(ev["location"]) == "Świetlica" and "Zielone Podwórko Testowe" in str(ev["description"])
    assert ev.decoded("dtend") - ev.decoded("dtstart") == timedelta(minutes=90)
    assert ev.decoded("dtstart").utcoffset() == timedelta(0)
    with app.app_context():
        names = [n for r in db.session.scalars(select(Resident).where(Resident.id.in_(members)))
                 for n in (r.first_name, r.last_name) if n]
    text = feed.get_data(as_text=True)
    assert not [n for n in names if n in text]  # nobody's name is in the feed

    # a new address replaces the old one
    client.post("/meetings/calendar/token")
    token2 = _token_from(client.get("/meetings/calendar").get_data(as_text=True))
    assert anonymous.get(f"/meetings/calendar/{token}.ics").status_code == 404
    assert anonymous.get(f"/meetings/calendar/{token2}.ics").status_code == 200
    # revoked: gone
    assert client.post("/meetings/calendar/revoke").status_code == 303
    assert anonymous.get(f"/meetings/calendar/{token2}.ics").status_code == 404
    assert [a.action for a in audits(app, "calendar_token_created")] == ["calendar_token_created"] * 2
    assert len(audits(app, "calendar_token_revoked")) == 1
    assert other  # the open meeting exists but is not this animator's


def test_coordinator_calendar_has_the_centres_meetings(client, auth, app):
    make_meeting(app, title="Spotkanie na Wildzie")
    make_meeting(app, "rataje", title="Spotkanie na Ratajach")
    auth.login("coordinator@wilda")
    client.post("/meetings/calendar/token")
    token = _token_from(client.get("/meetings/calendar").get_data(as_text=True))
    cal = Calendar.from_ical(app.test_client().get(f"/meetings/calendar/{token}.ics").data)
    titles = {str(e["summary"]) for e in cal.walk("VEVENT")}
    assert "Spotkanie na Wildzie" in titles and "Spotkanie na Ratajach" not in titles


def test_calendar_of_a_deactivated_user_is_gone(client, auth, app):
    auth.login("animator@wilda")
    client.post("/meetings/calendar/token")
    token = _token_from(client.get("/meetings/calendar").get_data(as_text=True))
    with app.app_context():
        db.session.get(User, app.world.users["animator@wilda"]).active = False
        db.session.commit()
    assert app.test_client().get(f"/meetings/calendar/{token}.ics").status_code == 404
    assert app.test_client().get("/meetings/calendar/nie-ma-takiego.ics").status_code == 404


def test_a_retried_new_person_or_promise_is_saved_once(client, auth, app):
    """The answer was lost and the same form is sent again: its one-time key recognises it."""
    mid = make_meeting(app)
    auth.login("animator@wilda")
    form = client.get(f"/meetings/{mid}/people", query_string={"q": "Ola Ponowna"}, headers=HX).get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([A-Za-z0-9_-]{16,64})"', form).group(1)
    data = {"new-first_name": "Ola", "new-last_name": "Ponowna", "new-neighbourhood_id": hood_of(app, "wilda"),
            "new-consent_method": "verbal", "submission_key": key}
    first = client.post(f"/meetings/{mid}/people/new", data=data, headers=HX).get_data(as_text=True)
    again = client.post(f"/meetings/{mid}/people/new", data=data, headers=HX).get_data(as_text=True)
    with app.app_context():
        people = db.session.scalars(select(Resident).where(Resident.last_name == "Ponowna")).all()
    assert len(people) == 1
    assert first.split("\n")[0] == again.split("\n")[0] == f'<li id="att-{people[0].id}" class="att is-present">'
    rid = people[0].id
    form = client.get(f"/meetings/{mid}/commitments/new", query_string={"resident_id": rid}, headers=HX)
    key = re.search(r'name="submission_key" value="([A-Za-z0-9_-]{16,64})"', form.get_data(as_text=True)).group(1)
    promise = {"resident_id": rid, "what": "przyniesie krzesła", "submission_key": key, "inline": "1"}
    assert client.post(f"/meetings/{mid}/commitments", data=promise, headers=HX).status_code == 200
    again = client.post(f"/meetings/{mid}/commitments", data=promise, headers=HX)
    assert again.status_code == 200 and "przyniesie krzesła" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Commitment).where(Commitment.resident_id == rid)) == 1
    # a new form (a new key) is a new promise
    client.post(f"/meetings/{mid}/commitments", data={**promise, "submission_key": "0" * 32}, headers=HX)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Commitment).where(Commitment.resident_id == rid)) == 2


def test_animator_sees_only_the_osiedla_assigned_within_the_centre(client, auth, app):
    """The city-wide centre: its animator works in three osiedla, its coordinator everywhere."""
    with app.app_context():
        animator = db.session.get(User, app.world.users["animator@regranting"])
        mine = set(animator.neighbourhood_ids)
        elsewhere = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.id.not_in(mine)).limit(1))
        m = Meeting(centre_id=app.world.centres["regranting"], neighbourhood_id=elsewhere, kind="open",
                    title="Spotkanie poza moimi osiedlami", starts_at=local_to_utc(now_local() - timedelta(days=1)))
        db.session.add(m)
        db.session.commit()
        mid = m.id
    auth.login("animator@regranting")
    assert client.get(f"/meetings/{mid}").status_code == 404
    assert "Spotkanie poza moimi osiedlami" not in client.get("/meetings").get_data(as_text=True)
    auth.logout()
    auth.login("coordinator@regranting")
    assert client.get(f"/meetings/{mid}").status_code == 200
