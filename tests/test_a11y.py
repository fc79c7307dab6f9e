"""Accessibility in a real Chromium: axe-core on every main page, for each role that uses it, at
360 px and at desktop width (no serious or critical violation), targets of at least 24 px, and
logging a contact with the keyboard alone."""
import pytest
from sqlalchemy import select

from models import Centre, GrantApplication, GrantCall, Group, Meeting, Neighbourhood, Partner, Resident, User, db
from tests.browser_helpers import _targets_too_small, add_axe, axe_violations, describe_violations
from tests.conftest import PASSWORD
from tests.http_client import HttpSession


def _first(stmt):
    value = db.session.scalar(stmt.limit(1))
    assert value is not None, f"the demo data has none: {stmt}"
    return value


def main_pages(app) -> dict[str, list[str]]:
    """Who sees which page: every main page once, under a role that uses it (the start page under each)."""
    rules = {r.rule for r in app.url_map.iter_rules()}
    with app.app_context():
        wilda = app.world.centres["wilda"]
        regranting = app.world.centres["regranting"]
        resident = _first(select(Resident.id).where(Resident.centre_id == wilda, Resident.first_name.is_not(None))
                          .order_by(Resident.id))
        group = _first(select(Group.id).where(Group.centre_id == wilda).order_by(Group.id))
        meeting = _first(select(Meeting.id).where(Meeting.centre_id == wilda).order_by(Meeting.starts_at.desc()))
        partner = _first(select(Partner.id).where(Partner.centre_id == wilda).order_by(Partner.id))
        hood = _first(select(Neighbourhood.slug).join(Centre, Centre.neighbourhood_id == Neighbourhood.id)
                      .where(Centre.id == wilda))
        call = _first(select(GrantCall.id).where(GrantCall.centre_id == regranting).order_by(GrantCall.id))
        open_call = _first(select(GrantCall.slug).where(GrantCall.status == "open").order_by(GrantCall.id))
        application = _first(select(GrantApplication.id).where(GrantApplication.call_id == call)
                             .order_by(GrantApplication.id))
    pages = {
        "anonymous": ["/login", f"/apply/{open_call}"],
        "animator@wilda": ["/", "/residents", "/residents/new", f"/residents/{resident}", "/interactions/new",
                           f"/interactions/new?resident={resident}", "/followups", "/groups", "/groups/board",
                           f"/groups/{group}", "/meetings", "/meetings/new", f"/meetings/{meeting}", "/commitments",
                           f"/diagnosis/{hood}", "/partners", f"/partners/{partner}", "/privacy/clause"],
        "coordinator@wilda": ["/", "/admin/users", "/admin/audit", "/privacy/retention",
                              f"/residents/{resident}/data"],
        "coordinator@regranting": ["/", "/grants/calls", f"/grants/calls/{call}",
                                   f"/grants/applications/{application}"],
        "reviewer@regranting": ["/", "/grants/calls"],
        "city": ["/"],
        "admin": ["/", "/admin/users", "/admin/audit", "/privacy/register"],
    }
    # Pages other areas add: checked as soon as they exist.
    if "/reports" in rules:
        pages["coordinator@wilda"].append("/reports")
    if "/city" in rules:
        pages["city"].append("/city")
    return pages


def sign_in(context, app, base: str, who: str) -> None:
    """The browser context takes the cookies of a real sign-in (faster than typing it each time)."""
    context.clear_cookies()
    if who == "anonymous":
        return
    with app.app_context():
        email = db.session.get(User, app.world.users[who]).email
    session = HttpSession(base)
    session.login(email, PASSWORD)
    context.add_cookies([{"name": k, "value": v, "url": base} for k, v in session.cookies.items()])


def check_pages(page, app, base: str) -> tuple[dict, dict]:
    add_axe(page.context)
    violations, small = {}, {}
    for who, paths in main_pages(app).items():
        sign_in(page.context, app, base, who)
        for path in paths:
            response = page.goto(base + path)
            assert response.status == 200, f"{who} {path}: {response.status}"
            page.wait_for_load_state("load")
            where = f"{who} {path}"
            if found := axe_violations(page):
                violations[where] = found
            if too_small := _targets_too_small(page):
                small[where] = too_small
    return violations, small


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_main_page_passes_axe_and_has_big_enough_targets(request, app, live_server, width):
    page = request.getfixturevalue(width)
    violations, small = check_pages(page, app, live_server)
    assert not violations, "axe-core, serious or critical:\n" + describe_violations(violations)
    assert not small, "targets under 24 px:\n" + "\n".join(f"{where}: {items}" for where, items in small.items())


# --- the keyboard alone --------------------------------------------------------------------------

def _focused(page) -> dict:
    return page.evaluate("""() => { const el = document.activeElement; const s = getComputedStyle(el);
        return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '', type: el.type || '',
                value: el.value || '', checked: !!el.checked, text: (el.innerText || '').trim(),
                outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }""")


def tab_to(page, matches, limit: int = 40) -> dict:
    """Press Tab until the focused element matches; it must show where the focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        if matches(now):
            assert now["outline"], f"no visible focus on {now}"
            return now
    raise AssertionError(f"Tab never reached the element (last focus: {_focused(page)})")


def test_logging_a_contact_with_the_keyboard_alone(app, live_server, desktop):
    """From the start page to the saved contact: Tab, Enter, arrows and typing, no mouse."""
    from models import Interaction
    from tests.test_meetings import fresh_resident

    rid = fresh_resident(app, first_name="Klementyna", last_name="Klawiszowa")
    page = desktop
    add_axe(page.context)
    sign_in(page.context, app, live_server, "animator@wilda")
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "Przejdź do treści"  # the skip link comes first
    tab_to(page, lambda f: f["text"] == "+ Kontakt")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/interactions/new")
    assert _focused(page)["id"] == "who"  # step 1 starts in the search field
    page.keyboard.type("klementyna")
    page.locator("a.pick", has_text="Klementyna Klawiszowa").wait_for()
    assert axe_violations(page) == []  # the results htmx swapped in pass too
    tab_to(page, lambda f: "Klementyna Klawiszowa" in f["text"], limit=3)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/interactions/new?resident={rid}")

    radio = tab_to(page, lambda f: f["name"] == "channel")
    assert radio["checked"] and radio["value"] == "one_to_one"
    page.keyboard.press("ArrowRight")  # the next way of meeting, chosen with an arrow like any radio group
    assert _focused(page)["value"] == "door_to_door" and _focused(page)["checked"]
    tab_to(page, lambda f: f["id"] == "concerns")
    page.keyboard.type("Ławki na podwórku")
    tab_to(page, lambda f: f["id"] == "note")
    page.keyboard.type("Chętna do pomocy przy sadzeniu.")
    tab_to(page, lambda f: f["tag"] == "summary")
    page.keyboard.press("Enter")  # opens "Następny krok i data"
    tab_to(page, lambda f: f["id"] == "next_step")
    page.keyboard.type("Zaprosić na spotkanie")
    # The date fields are reached too; their segments' order follows the browser's own language
    # (not the page's), so this walk leaves the optional follow-up date empty.
    tab_to(page, lambda f: f["id"] == "follow_up_on")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Zapisz kontakt")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/residents/{rid}?logged=1")
    assert "Kontakt zapisany." in page.locator("main").inner_text()
    with app.app_context():
        saved = db.session.scalars(select(Interaction).where(Interaction.resident_id == rid)).one()
        assert (saved.channel, saved.concerns, saved.note, saved.next_step, saved.follow_up_on) == (
            "door_to_door", "Ławki na podwórku", "Chętna do pomocy przy sadzeniu.", "Zaprosić na spotkanie", None)
        assert saved.user_id == app.world.users["animator@wilda"]


def test_the_axe_check_finds_what_it_should(app, live_server, phone):
    """The check above can fail: a field without a label and pale text are reported on a served page."""
    add_axe(phone.context)
    phone.goto(live_server + "/login")
    assert axe_violations(phone) == []
    phone.evaluate("""() => { const main = document.querySelector('main');
        const input = document.createElement('input'); input.type = 'text'; main.append(input);
        const p = document.createElement('p'); p.textContent = 'blady tekst'; p.className = 'hint';
        p.setAttribute('data-test', 'pale'); main.append(p); p.style.color = '#ccc'; }""")
    found = {v["id"] for v in axe_violations(phone)}
    assert {"label", "color-contrast"} <= found, found
