"""Real Chromium, CSRF on: create a group, add three members by search-as-you-type and move it a
stage with a note, on a 360 px phone and on a desktop (where the board is also used by keyboard)."""
import re

from sqlalchemy import select

from models import Group, Membership, Resident, StageChange, db
from tests.conftest import PASSWORD
from tests.test_browser import _overflows, _targets_too_small


def sign_in(page, base, auth, key):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(auth.email(key))
    page.get_by_label("Hasło").fill(PASSWORD)
    page.get_by_role("button", name="Zaloguj").click()
    page.wait_for_url(f"{base}/")


def three_adults(app) -> list[tuple[int, str]]:
    """Three named adults of Wilda whose full names nobody else in the centre shares."""
    with app.app_context():
        rows = db.session.execute(
            select(Resident.id, Resident.first_name, Resident.last_name, Resident.age_group)
            .where(Resident.centre_id == app.world.centres["wilda"], Resident.first_name.is_not(None),
                   Resident.last_name.is_not(None)).order_by(Resident.id)).all()
    names = [f"{r.first_name} {r.last_name}" for r in rows]
    unique = [(r.id, f"{r.first_name} {r.last_name}") for r in rows
              if r.age_group in ("adult", "senior") and names.count(f"{r.first_name} {r.last_name}") == 1]
    return unique[:3]


def check_page(page):
    assert not _overflows(page)
    assert _targets_too_small(page) == []


def create_group_add_three_and_move(page, base, app, name: str, tap):
    """The scenario of the issue, as a person does it; `tap` is click or tap for the viewport."""
    page.get_by_role("link", name="Grupy", exact=True).first.click()
    page.wait_for_url(f"{base}/groups/board")
    assert page.get_by_role("heading", level=1).inner_text() == "Grupy: tablica etapów"
    check_page(page)
    tap(page.get_by_role("link", name="Nowa grupa"))
    page.wait_for_url(f"{base}/groups/new")
    check_page(page)
    page.get_by_label("Nazwa grupy").fill(name)
    page.get_by_label("Sprawa, którą się zajmuje").fill("ławki i donice przy Rolnej")
    tap(page.get_by_role("button", name="Dodaj grupę"))
    page.wait_for_url(re.compile(rf"{base}/groups/\d+$"))
    gid = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert "dodana" in page.locator("#status").inner_text()
    check_page(page)

    search = page.get_by_label("Szukaj w osiedlu Wilda")
    for n, (rid, full_name) in enumerate(three_adults(app), start=1):
        search = page.get_by_label("Szukaj w osiedlu Wilda")
        search.fill("")
        search.press_sequentially(full_name[:-2].lower(), delay=20)  # typed, without diacritics care
        result = page.locator(f'#member-results button[name="resident_id"][value="{rid}"]')
        result.wait_for()
        tap(result)
        page.locator("#members-h", has_text=f"Członkowie ({n})").wait_for()
        assert "dołącza do grupy." in page.locator("#status").inner_text()
        assert page.locator("#members").get_by_role("link", name=full_name, exact=True).count() == 1
    page.get_by_text("Co najmniej 3 dorosłe osoby (jest 3)").wait_for()
    check_page(page)

    tap(page.get_by_text("Zmień etap (dalej albo wstecz)"))
    page.get_by_label("Przenieś na etap").select_option(label="Grupa inicjatywna")
    page.get_by_label("Notatka: co się wydarzyło?").fill("Trzy osoby chcą działać razem.")
    tap(page.get_by_role("button", name="Zmień etap", exact=True))
    page.locator("#stage-h", has_text="Etap: Grupa inicjatywna").wait_for()
    assert "etap zmieniony na „Grupa inicjatywna”" in page.locator("#status").inner_text()
    assert "Trzy osoby chcą działać razem." in page.locator("#stage").inner_text()
    # the timeline reloads itself after the move (htmx event from the response)
    page.locator("#timeline", has_text="Trzy osoby chcą działać razem.").wait_for()
    check_page(page)

    with app.app_context():
        assert db.session.get(Group, gid).stage == "core_group"
        assert len(db.session.scalars(select(Membership).where(Membership.group_id == gid)).all()) == 3
        changes = db.session.scalars(select(StageChange).where(StageChange.group_id == gid)
                                     .order_by(StageChange.id)).all()
        assert [(c.from_stage, c.to_stage, c.note) for c in changes] == [
            (None, "idea", ""), ("idea", "core_group", "Trzy osoby chcą działać razem.")]
    return gid


def test_animator_on_a_phone(live_server, phone, app, auth):
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(phone, live_server, auth, "animator@wilda")
    create_group_add_three_and_move(phone, live_server, app, "Sąsiedzi z Rolnej", lambda loc: loc.tap())
    # the board lists stages one under another on a phone, and the group is in its new stage
    phone.goto(f"{live_server}/groups/board")
    column = phone.locator("#cards-core_group")
    assert column.get_by_role("link", name="Sąsiedzi z Rolnej", exact=True).count() == 1
    boxes = [phone.locator(f"#col-{s}").bounding_box() for s in ("idea", "core_group", "planning")]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"] and abs(boxes[0]["x"] - boxes[1]["x"]) < 1
    check_page(phone)
    assert errors == []


def test_coordinator_on_a_desktop_with_the_keyboard_on_the_board(live_server, desktop, app, auth):
    errors = []
    desktop.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(desktop, live_server, auth, "coordinator@wilda")
    gid = create_group_add_three_and_move(desktop, live_server, app, "Kawiarenka Sąsiedzka",
                                          lambda loc: loc.click())
    # Make the first member the leader: the form opens under the member, the list comes back
    first = three_adults(app)[0][1]
    desktop.get_by_role("link", name=f"Zmień rolę lub usuń: {first}").click()
    desktop.locator("#members form.member-form select").select_option(label="lider/ka")
    desktop.get_by_role("button", name="Zapisz rolę").click()
    desktop.locator("#members li", has_text=first).locator(".role-leader").wait_for()
    assert "Rola zmieniona." in desktop.locator("#status").inner_text()
    desktop.locator("#health", has_text="Osoby z rolą w grupie").wait_for()
    # Enter in the search box searches in place (the page does not navigate away)
    page_url = desktop.url
    search = desktop.get_by_label("Szukaj w osiedlu Wilda")
    search.fill("a")
    search.press("Enter")
    desktop.locator('#member-results button[name="resident_id"]').first.wait_for()
    assert desktop.url == page_url
    # The board: columns side by side, a stalled group says why
    desktop.goto(f"{live_server}/groups/board")
    boxes = [desktop.locator(f"#col-{s}").bounding_box() for s in ("idea", "core_group")]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1 and boxes[0]["x"] < boxes[1]["x"]
    assert "Utknęła: ten sam etap od 210 dni" in desktop.locator("#cards-core_group").inner_text()
    assert desktop.locator("svg.chart-svg rect").count() > 0
    check_page(desktop)
    # Move the new group a stage further with the keyboard only
    desktop.get_by_role("link", name="Zmień etap: Kawiarenka Sąsiedzka").focus()
    desktop.keyboard.press("Enter")
    stage = desktop.locator(f"#move-form-{gid} select")
    stage.wait_for()
    stage.focus()
    assert stage.input_value() == "planning"  # the next stage is offered first
    desktop.keyboard.press("Tab")
    desktop.keyboard.type("Grupa rozpisała plan na wiosnę.")
    desktop.keyboard.press("Tab")
    desktop.keyboard.press("Enter")
    desktop.locator("#cards-planning").get_by_role("link", name="Kawiarenka Sąsiedzka", exact=True).wait_for()
    assert desktop.locator("#cards-core_group").get_by_role("link", name="Kawiarenka Sąsiedzka", exact=True).count() == 0
    assert desktop.locator(f"#card-{gid}-core_group").count() == 0
    assert "etap zmieniony na „Planowanie”" in desktop.locator("#status").inner_text()
    counts = {s: int(desktop.locator(f"#count-{s}").inner_text()) for s in ("core_group", "planning")}
    assert counts["planning"] == desktop.locator("#cards-planning li.group-card").count()
    assert counts["core_group"] == desktop.locator("#cards-core_group li.group-card").count()
    with app.app_context():
        assert db.session.get(Group, gid).stage == "planning"
    assert errors == []
