"""The after-meeting screen in a real Chromium on a 360 px phone: the tap budget, a dropped connection,
the headcount, and ticking a commitment done with hours."""
import time
from datetime import date, timedelta

from sqlalchemy import func, select

from models import Attendance, Commitment, Group, Meeting, Membership, Resident, db
from tests.test_browser import _overflows, _targets_too_small
from tests.test_meetings import hood_of, make_meeting, residents_of
from tests.test_residents_browser import sign_in

TAP_BUDGET = 15
SECONDS_BUDGET = 60
TYPING_DELAY_MS = 60  # a brisk thumb on a phone keyboard


class Taps:
    """Every pointer action goes through here and is counted; typing into a focused field is not a tap."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def tap(self, locator):
        self.count += 1
        locator.tap()

    def type(self, text: str):
        self.page.keyboard.type(text, delay=TYPING_DELAY_MS)


def make_group_with_members(app, n=12, name="Grupa Sąsiedzka z Wierzbięcic") -> tuple[int, list[int]]:
    members = residents_of(app, "wilda")[:n]
    with app.app_context():
        g = Group(centre_id=app.world.centres["wilda"], neighbourhood_id=hood_of(app, "wilda"), name=name,
                  animator_id=app.world.users["animator@wilda"], status="active")
        db.session.add(g)
        db.session.flush()
        for rid in members:
            db.session.add(Membership(group_id=g.id, resident_id=rid))
        db.session.commit()
        return g.id, members


def watch_console(page) -> list[str]:
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_after_meeting_flow_fits_the_tap_and_time_budget(live_server, phone, auth, app):
    """10 known people, 1 newcomer and 1 promise, counted from the start page (where signing in lands)."""
    gid, members = make_group_with_members(app)
    came = members[:10]
    errors = watch_console(phone)
    sign_in(phone, live_server, auth.email("animator@wilda"))
    phone.goto(f"{live_server}/")
    assert not _overflows(phone) and _targets_too_small(phone) == []
    taps = Taps(phone)
    started = time.perf_counter()

    taps.tap(phone.get_by_role("button", name="Spotkanie teraz: Grupa Sąsiedzka z Wierzbięcic"))
    phone.wait_for_url(f"{live_server}/meetings/*")
    for rid in came:
        taps.tap(phone.locator(f"#attb-{rid}"))
        phone.locator(f"#att-{rid}.is-present").wait_for()

    taps.tap(phone.get_by_label("Ktoś jeszcze? Wpisz imię, nazwisko albo opis"))
    taps.type("Ola Nowicka")
    taps.tap(phone.get_by_role("button", name="Dodaj i zaznacz obecność"))
    newcomer = phone.locator("#attendees li.is-present", has_text="Ola Nowicka")
    newcomer.wait_for()

    taps.tap(newcomer.get_by_role("link", name="+ zobowiązanie"))
    what = newcomer.get_by_label("Co zrobi")
    what.wait_for()
    assert what.evaluate("el => el === document.activeElement")  # ready to type, no extra tap
    taps.type("zrobi plakat na festyn")
    taps.tap(newcomer.get_by_role("button", name="Zapisz zobowiązanie"))
    phone.locator("#meeting-commitments li", has_text="zrobi plakat na festyn").wait_for()
    seconds = time.perf_counter() - started

    print(f"\nAFTER-MEETING FLOW: {taps.count} taps, {seconds:.1f} s "
          f"(10 known people, 1 newcomer, 1 commitment; budget {TAP_BUDGET} taps, {SECONDS_BUDGET} s)")
    assert taps.count <= TAP_BUDGET
    assert seconds <= SECONDS_BUDGET
    assert phone.locator("#attendees li.is-present").count() == 11
    assert not _overflows(phone) and _targets_too_small(phone) == []
    assert errors == []

    mid = int(phone.url.rsplit("/", 1)[1])
    with app.app_context():
        meeting = db.session.get(Meeting, mid)
        assert meeting.group_id == gid
        present = set(db.session.scalars(select(Attendance.resident_id).where(Attendance.meeting_id == mid)))
        assert set(came) <= present and len(present) == 11
        ola = db.session.scalars(select(Resident).where(Resident.first_name == "Ola",
                                                        Resident.last_name == "Nowicka")).one()
        assert ola.id in present and ola.neighbourhood_id == meeting.neighbourhood_id
        promise = db.session.scalars(select(Commitment).where(Commitment.resident_id == ola.id)).one()
        assert (promise.what, promise.meeting_id, promise.group_id) == ("zrobi plakat na festyn", mid, gid)
        assert promise.due_on == date.today() + timedelta(days=7)
        assert ola.rung == "volunteer"


def test_a_dropped_connection_says_not_saved_and_a_retry_saves_once(live_server, phone, auth, app):
    rid = residents_of(app, "wilda", 1)[0]
    mid = make_meeting(app, hours_ago=3, title="Spotkanie bez zasięgu")
    make_meeting(app, hours_ago=4, present=[rid])  # so that the person is on the checklist
    sign_in(phone, live_server, auth.email("animator@wilda"))
    phone.goto(f"{live_server}/meetings/{mid}")
    assert _targets_too_small(phone) == [] and not _overflows(phone)

    phone.route("**/attendance/**", lambda route: route.abort("internetdisconnected"))
    phone.locator(f"#attb-{rid}").tap()
    status = phone.locator("#status")
    status.get_by_text("Nie zapisano: brak połączenia").wait_for()
    form = phone.locator(f"#att-{rid} form")
    assert "not-saved" in form.get_attribute("class")
    assert form.get_by_text("Nie zapisano").is_visible()
    assert phone.locator(f"#attb-{rid}").get_attribute("aria-pressed") == "false"

    phone.unroute("**/attendance/**")
    phone.locator(f"#attb-{rid}").tap()  # the same tap again: the same request, now it arrives
    phone.locator(f"#att-{rid}.is-present").wait_for()
    assert "Zaznaczono obecność" in status.inner_text()
    assert not phone.locator(f"#att-{rid} form").get_by_text("Nie zapisano").is_visible()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attendance)
                                 .where(Attendance.meeting_id == mid)) == 1

    # notes typed while offline say so next to the field; typing again once online saves them
    phone.route("**/notes", lambda route: route.abort("internetdisconnected"))
    notes = phone.get_by_role("textbox", name="Notatki", exact=True)
    notes.tap()
    phone.keyboard.type("Ustaliliśmy termin pikniku.")
    phone.locator("textarea.not-saved").wait_for()
    status.get_by_text("Nie zapisano").wait_for()
    phone.unroute("**/notes")
    phone.keyboard.type(" Sobota 10:00.")
    phone.get_by_text("Zapisano o").wait_for()
    assert phone.locator("textarea.not-saved").count() == 0
    with app.app_context():
        assert db.session.get(Meeting, mid).notes == "Ustaliliśmy termin pikniku. Sobota 10:00."


def test_headcount_buttons_on_a_phone(live_server, phone, auth, app):
    mid = make_meeting(app, title="Piknik")
    sign_in(phone, live_server, auth.email("animator@wilda"))
    phone.goto(f"{live_server}/meetings/{mid}")
    plus = phone.get_by_role("button", name="Jedna osoba więcej")
    for expected in ("1", "2", "3"):
        plus.tap()
        phone.locator("#hc-value", has_text=expected).wait_for()
    phone.get_by_role("button", name="Jedna osoba mniej").tap()
    phone.locator("#hc-value", has_text="2").wait_for()
    with app.app_context():
        assert db.session.get(Meeting, mid).unnamed_count == 2


def test_tick_a_commitment_done_with_hours_on_a_phone(live_server, phone, auth, app):
    rid = residents_of(app, "wilda", 1)[0]
    with app.app_context():
        r = db.session.get(Resident, rid)
        c = Commitment(centre_id=r.centre_id, neighbourhood_id=r.neighbourhood_id, resident_id=rid,
                       what="pomaluje ławki na podwórku", due_on=date.today() + timedelta(days=3))
        db.session.add(c)
        db.session.commit()
        cid = c.id
    errors = watch_console(phone)
    sign_in(phone, live_server, auth.email("animator@wilda"))
    phone.get_by_role("link", name="Zobowiązania").tap()
    row = phone.locator(f"#c-{cid}")
    row.get_by_label("Godziny").tap()
    phone.keyboard.type("2.5")
    row.get_by_role("button", name="Zrobione").tap()
    phone.locator(f"#c-{cid}.status-done").wait_for()
    assert "2,5 godz." in phone.locator(f"#c-{cid}").inner_text()
    assert not _overflows(phone)
    assert errors == []
    with app.app_context():
        done = db.session.get(Commitment, cid)
        assert done.status == "done" and float(done.hours) == 2.5
