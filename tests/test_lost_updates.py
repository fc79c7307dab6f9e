"""Lost updates and retried taps, through real HTTP (the live server, CSRF on) with two people
signed in at once, on both databases.

- Two sessions open the same resident, group and meeting; the first save wins, the second gets
  409 with the current values on screen and its own input kept in the form; the first value
  survives; saving the 409 form again (it carries the current version) then goes through.
- Taps that set a state (attendance, a follow-up ticked off, a commitment marked done) sent three
  times at once and three times more, as a phone on a bad connection does: one row or one state,
  no error, and one audit event per real change.
"""
import re
import threading
from datetime import date, timedelta

from sqlalchemy import func, select

from models import Attendance, AuditEvent, Commitment, Group, Interaction, Meeting, Resident, User, db, utcnow
from tests.conftest import PASSWORD
from tests.http_client import HttpSession, form_fields
from tests.test_meetings import fresh_resident, make_meeting

HX = {"HX-Request": "true"}


def signed_in(app, base: str, key: str) -> HttpSession:
    with app.app_context():
        email = db.session.get(User, app.world.users[key]).email
    session = HttpSession(base)
    session.login(email, PASSWORD)
    return session


def two_people(app, base: str) -> tuple[HttpSession, HttpSession]:
    return signed_in(app, base, "coordinator@wilda"), signed_in(app, base, "animator@wilda")


def twin(session: HttpSession) -> HttpSession:
    """The same browser on another connection: a retry that overtakes the first request."""
    other = HttpSession(f"http://{session.host}:{session.port}")
    other.cookies, other.csrf = dict(session.cookies), session.csrf
    return other


def audit_count(app, action: str, object_id: int | None = None) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        if object_id is not None:
            stmt = stmt.where(AuditEvent.object_id == object_id)
        return db.session.scalar(stmt)


def at_once(requests) -> list:
    """Send the requests together (each on its own connection, lined up on a barrier)."""
    barrier = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def send(i, call):
        barrier.wait(5)
        answers[i] = call()

    threads = [threading.Thread(target=send, args=(i, call)) for i, call in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return answers


def both_open(a: HttpSession, b: HttpSession, page: str, action: str) -> tuple[dict, dict]:
    forms = []
    for s in (a, b):
        r = s.get(page)
        assert r.status == 200, (page, r.status)
        forms.append(form_fields(r.body, action))
    assert forms[0]["version"] == forms[1]["version"] != ""
    return forms[0], forms[1]


def version_in(body: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', body).group(1)


# --- two people edit the same record -------------------------------------------------------

def test_second_save_of_a_resident_gets_409_and_the_first_value_survives(app, live_server):
    rid = fresh_resident(app, first_name="Jadwiga", last_name="Wersja")
    coordinator, animator = two_people(app, live_server)
    # The inline editor, as on the page: htmx fetches the form and posts it.
    first, second = both_open(coordinator, animator, f"/residents/{rid}/edit", f"/residents/{rid}")
    r = coordinator.post(f"/residents/{rid}", {**first, "last_name": "Pierwsza", "street": "Górna Wilda"},
                         headers=HX)
    assert r.status == 200 and "Pierwsza" in r.body
    r = animator.post(f"/residents/{rid}", {**second, "last_name": "Druga"}, headers=HX)
    assert r.status == 409
    assert "<html" not in r.body  # htmx swaps the details block in place
    assert "Ktoś inny zapisał zmiany tej osoby" in r.body
    current = re.search(r"Aktualne wartości:.*?</dl>", r.body, re.S).group(0)  # the current values
    assert "Pierwsza" in current and "Górna Wilda" in current
    kept = form_fields(r.body, f"/residents/{rid}")
    assert kept["last_name"] == "Druga"  # this person's input is still in the form
    with app.app_context():
        resident = db.session.get(Resident, rid)
        assert (resident.last_name, resident.street, resident.version) == ("Pierwsza", "Górna Wilda", 2)
    assert kept["version"] == "2" and audit_count(app, "resident_updated", rid) == 1
    # Having seen the current values, the second person saves on purpose: now it goes through.
    r = animator.post(f"/residents/{rid}", kept, headers=HX)
    assert r.status == 200
    with app.app_context():
        assert db.session.get(Resident, rid).last_name == "Druga"
    assert audit_count(app, "resident_updated", rid) == 2


def test_second_save_of_a_group_gets_409_and_the_first_value_survives(app, live_server):
    with app.app_context():
        gid = db.session.scalar(select(Group.id).where(Group.name == "Zielone Podwórko"))
    coordinator, animator = two_people(app, live_server)
    first, second = both_open(coordinator, animator, f"/groups/{gid}/edit", f"/groups/{gid}")
    r = coordinator.post(f"/groups/{gid}", {**first, "name": "Zielone Podwórko Wildy", "matter": "nowe donice"})
    assert r.status == 303
    r = animator.post(f"/groups/{gid}", {**second, "name": "Podwórko Animatora"})
    assert r.status == 409
    assert "Ktoś inny zapisał zmiany w tej grupie" in r.body
    current = re.search(r"Aktualne wartości:.*?</dl>", r.body, re.S).group(0)
    assert "Zielone Podwórko Wildy" in current and "nowe donice" in current
    kept = form_fields(r.body, f"/groups/{gid}")
    assert kept["name"] == "Podwórko Animatora" and kept["version"] == str(int(first["version"]) + 1)
    with app.app_context():
        group = db.session.get(Group, gid)
        assert (group.name, group.matter) == ("Zielone Podwórko Wildy", "nowe donice")
    assert audit_count(app, "group_updated", gid) == 1
    assert animator.post(f"/groups/{gid}", kept).status == 303
    with app.app_context():
        assert db.session.get(Group, gid).name == "Podwórko Animatora"


def test_second_save_of_a_meeting_gets_409_and_the_first_value_survives(app, live_server):
    mid = make_meeting(app, title="Spotkanie sąsiedzkie")
    coordinator, animator = two_people(app, live_server)
    first, second = both_open(coordinator, animator, f"/meetings/{mid}/edit", f"/meetings/{mid}/edit")
    r = coordinator.post(f"/meetings/{mid}/edit", {**first, "title": "Spotkanie o podwórku", "place": "Świetlica"})
    assert r.status == 303
    r = animator.post(f"/meetings/{mid}/edit", {**second, "title": "Spotkanie animatora"})
    assert r.status == 409
    assert "Ktoś inny zapisał zmiany w tym spotkaniu" in r.body
    current = re.search(r"Aktualne wartości:.*?</dl>", r.body, re.S).group(0)
    assert "Spotkanie o podwórku" in current and "Świetlica" in current
    kept = form_fields(r.body, f"/meetings/{mid}/edit")
    assert kept["title"] == "Spotkanie animatora" and kept["version"] == version_in(r.body)
    with app.app_context():
        meeting = db.session.get(Meeting, mid)
        assert (meeting.title, meeting.place) == ("Spotkanie o podwórku", "Świetlica")
    assert audit_count(app, "meeting_updated", mid) == 1
    assert animator.post(f"/meetings/{mid}/edit", kept).status == 303
    with app.app_context():
        assert db.session.get(Meeting, mid).title == "Spotkanie animatora"


def test_second_save_of_meeting_notes_gets_409_with_both_texts(app, live_server):
    """Finding 10 of issue 14: notes saved by two people from the same starting version both answered
    200 and the first text was silently lost. Now the second gets the notes form back with a 409:
    its own text still in the form, the other person's text shown above it."""
    mid = make_meeting(app, title="Spotkanie o ławkach")
    coordinator, animator = two_people(app, live_server)
    first, second = both_open(coordinator, animator, f"/meetings/{mid}", f"/meetings/{mid}/notes")
    r = coordinator.post(f"/meetings/{mid}/notes", {**first, "notes": "Koordynatorka: przyszło 12 osób."},
                         headers=HX)
    assert r.status == 200 and "Zapisano o" in r.body
    r = animator.post(f"/meetings/{mid}/notes", {**second, "notes": "Animatorka: ławki w maju."}, headers=HX)
    assert r.status == 409
    assert r.headers["hx-retarget"] == "#notes-form" and "<html" not in r.body  # the form fragment, in place
    assert "ktoś inny zmienił notatki tego spotkania" in r.body
    current = re.search(r"Aktualne wartości:.*?</dl>", r.body, re.S).group(0)
    assert "Koordynatorka: przyszło 12 osób." in current  # the other person's text, shown
    kept = form_fields(r.body, f"/meetings/{mid}/notes")
    assert kept["notes"] == "Animatorka: ławki w maju."  # this person's text, kept in the form
    with app.app_context():
        meeting = db.session.get(Meeting, mid)
        assert meeting.notes == "Koordynatorka: przyszło 12 osób."
        assert kept["version"] == str(meeting.version)
    assert audit_count(app, "meeting_updated", mid) == 1
    # Having read both, the second person merges and saves: now it goes through.
    merged = "Koordynatorka: przyszło 12 osób. Animatorka: ławki w maju."
    r = animator.post(f"/meetings/{mid}/notes", {**kept, "notes": merged}, headers=HX)
    assert r.status == 200
    with app.app_context():
        assert db.session.get(Meeting, mid).notes == merged
    # The same race at the same instant: exactly one of the two saves is kept.
    first, second = both_open(coordinator, animator, f"/meetings/{mid}", f"/meetings/{mid}/notes")
    answers = at_once([lambda: coordinator.post(f"/meetings/{mid}/notes", {**first, "notes": "A"}, headers=HX),
                       lambda: animator.post(f"/meetings/{mid}/notes", {**second, "notes": "B"}, headers=HX)])
    assert sorted(a.status for a in answers) == [200, 409], [a.status for a in answers]
    winner = "A" if answers[0].status == 200 else "B"
    with app.app_context():
        assert db.session.get(Meeting, mid).notes == winner


def test_two_saves_at_the_same_instant_one_wins_one_gets_409(app, live_server):
    """No check-then-write gap: the two saves race inside the server, exactly one is kept."""
    rid = fresh_resident(app, first_name="Roman", last_name="Wyścig")
    coordinator, animator = two_people(app, live_server)
    first, second = both_open(coordinator, animator, f"/residents/{rid}/edit", f"/residents/{rid}")
    answers = at_once([lambda: coordinator.post(f"/residents/{rid}", {**first, "last_name": "Koordynatora"}),
                       lambda: animator.post(f"/residents/{rid}", {**second, "last_name": "Animatora"})])
    statuses = sorted(a.status for a in answers)
    assert statuses == [303, 409], statuses
    winner = "Koordynatora" if answers[0].status == 303 else "Animatora"
    with app.app_context():
        resident = db.session.get(Resident, rid)
        assert (resident.last_name, resident.version) == (winner, 2)
    assert audit_count(app, "resident_updated", rid) == 1


# --- retried taps ------------------------------------------------------------------------------

def test_attendance_sent_again_and_again_by_two_people_is_one_row(app, live_server):
    rid = fresh_resident(app, first_name="Stefania", last_name="Obecna")
    mid = make_meeting(app)
    animator = signed_in(app, live_server, "animator@wilda")
    coordinator = signed_in(app, live_server, "coordinator@wilda")
    url = f"/meetings/{mid}/attendance/{rid}"

    def tap(session, present):
        return lambda: session.post(url, {"present": present}, headers=HX)

    def rows():
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(Attendance).where(
                Attendance.meeting_id == mid, Attendance.resident_id == rid))

    answers = at_once([tap(animator, "1"), tap(twin(animator), "1"), tap(coordinator, "1")])
    answers += [tap(animator, "1")() for _ in range(3)]
    assert [a.status for a in answers] == [200] * 6
    assert all('aria-pressed="true"' in a.body for a in answers)
    assert rows() == 1 and audit_count(app, "attendance_set", mid) == 1
    answers = at_once([tap(animator, "0"), tap(twin(animator), "0"), tap(coordinator, "0")])
    answers += [tap(coordinator, "0")() for _ in range(3)]
    assert [a.status for a in answers] == [200] * 6
    assert rows() == 0 and audit_count(app, "attendance_set", mid) == 2  # two real changes, two events


def test_follow_up_ticked_off_again_and_again_is_done_once(app, live_server):
    rid = fresh_resident(app, first_name="Kazimierz", last_name="Oddzwoń")
    with app.app_context():
        interaction = Interaction(resident_id=rid, user_id=app.world.users["animator@wilda"],
                                  occurred_at=utcnow() - timedelta(days=3), channel="phone",
                                  next_step="Oddzwonić w sprawie ławek", follow_up_on=date.today())
        db.session.add(interaction)
        db.session.commit()
        iid = interaction.id
    animator = signed_in(app, live_server, "animator@wilda")
    url = f"/followups/{iid}/done"
    answers = at_once([lambda s=s: s.post(url, {}, headers=HX) for s in (animator, twin(animator), twin(animator))])
    assert [a.status for a in answers] == [200] * 3
    with app.app_context():
        done_at = db.session.get(Interaction, iid).follow_up_done_at
    assert done_at is not None
    answers = [animator.post(url, {}, headers=HX) for _ in range(2)] + [animator.post(url, {})]
    assert [a.status for a in answers] == [200, 200, 303]
    with app.app_context():
        assert db.session.get(Interaction, iid).follow_up_done_at == done_at  # the first tap's time stays
    assert audit_count(app, "followup_done", rid) == 1
    assert "Oddzwonić w sprawie ławek" not in animator.get("/followups").body


def test_commitment_marked_done_again_and_again_is_done_once(app, live_server):
    rid = fresh_resident(app, first_name="Leon", last_name="Pomocny")
    with app.app_context():
        resident = db.session.get(Resident, rid)
        commitment = Commitment(centre_id=resident.centre_id, neighbourhood_id=resident.neighbourhood_id,
                                resident_id=rid, what="przyniesie sadzonki", due_on=date.today(),
                                recorded_by_id=app.world.users["animator@wilda"])
        db.session.add(commitment)
        db.session.commit()
        cid = commitment.id
    animator = signed_in(app, live_server, "animator@wilda")
    coordinator = signed_in(app, live_server, "coordinator@wilda")
    url = f"/commitments/{cid}/status"
    done = {"status": "done", "hours": "2"}
    answers = at_once([lambda s=s: s.post(url, done, headers=HX) for s in (animator, twin(animator), coordinator)])
    answers += [animator.post(url, done, headers=HX) for _ in range(3)]
    assert [a.status for a in answers] == [200] * 6, [(a.status, a.body[:200]) for a in answers]
    assert all("status-done" in a.body for a in answers)
    with app.app_context():
        c = db.session.get(Commitment, cid)
        assert (c.status, float(c.hours), c.done_on, c.version) == ("done", 2.0, date.today(), 2)
    assert audit_count(app, "commitment_status_set", cid) == 1
