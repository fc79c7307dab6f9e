"""The diagnosis in a real Chromium on a 360 px phone: a need heard in a conversation goes into the
diagnosis straight from the resident's timeline, shows up as a gap, is linked to a group, and the gap
disappears; the network picture stays readable on the phone."""
import re

from sqlalchemy import select

from models import Group, Interaction, Resident, db
from tests.test_browser import _overflows, _targets_too_small
from tests.test_residents_browser import sign_in

NEED = "Brak stojaków na rowery przy bibliotece"


def _resident_with_a_contact_and_a_group(app):
    with app.app_context():
        centre = app.world.centres["wilda"]
        resident_id = db.session.scalar(
            select(Resident.id).join(Interaction, Interaction.resident_id == Resident.id)
            .where(Resident.centre_id == centre, Resident.anonymised_at.is_(None))
            .order_by(Resident.id).limit(1))
        group = db.session.scalar(select(Group.name).where(Group.centre_id == centre, Group.status == "active")
                                  .order_by(Group.id).limit(1))
    return resident_id, group


def test_a_need_from_a_contact_is_linked_to_a_group_and_the_gap_disappears(live_server, phone, auth, app):
    resident_id, group_name = _resident_with_a_contact_and_a_group(app)
    sign_in(phone, live_server, auth.email("animator@wilda"))

    # 1. on the resident's timeline, next to a logged contact
    phone.goto(f"{live_server}/residents/{resident_id}")
    phone.get_by_role("link", name="Dodaj do diagnozy").first.tap()
    phone.wait_for_url("**/diagnosis/findings/new?interaction=*")
    assert phone.get_by_text("Z kontaktu:").is_visible()
    assert not _overflows(phone) and _targets_too_small(phone) == []
    phone.get_by_label("Krótko: co").fill(NEED)
    phone.get_by_label("Tagi (po przecinku)").fill("rowery, biblioteka")
    phone.get_by_role("button", name="Zapisz w diagnozie").tap()
    phone.get_by_text("Zapisano w diagnozie: potrzeba.").wait_for()
    assert phone.get_by_text("Luka: nikt jeszcze nie odpowiada na tę potrzebę.").is_visible()

    # 2. the diagnosis of the osiedle lists it among the gaps
    phone.get_by_role("link", name="← Diagnoza osiedla Wilda").tap()
    phone.wait_for_url(f"{live_server}/diagnosis/wilda")
    gaps = phone.locator("#gaps")
    assert NEED in gaps.inner_text()
    assert not _overflows(phone) and _targets_too_small(phone) == []

    # 3. link it to a group that will act on it
    gaps.get_by_role("link", name=NEED).tap()
    phone.wait_for_url("**/diagnosis/findings/*")
    phone.get_by_label("Grupa", exact=True).select_option(label=group_name)
    phone.get_by_role("button", name="Połącz z grupą").tap()
    phone.locator("#status").get_by_text("Grupa połączona z wpisem.").wait_for()
    assert phone.locator("#groups").get_by_role("link", name=group_name).is_visible()
    assert phone.get_by_text("Luka: nikt jeszcze nie odpowiada na tę potrzebę.").count() == 0

    # 4. the gap is gone; the group is shown answering the need
    phone.get_by_role("link", name="← Diagnoza osiedla Wilda").tap()
    phone.wait_for_url(f"{live_server}/diagnosis/wilda")
    assert NEED not in phone.locator("#gaps").inner_text()
    who = phone.locator("table").filter(has_text=group_name)
    assert NEED in who.inner_text()
    assert not _overflows(phone)


def test_the_network_picture_is_readable_on_a_phone(live_server, phone, auth):
    sign_in(phone, live_server, auth.email("animator@wilda"))
    phone.goto(f"{live_server}/partners/network?neighbourhood=wilda")
    picture = phone.locator(".network-scroll svg")
    picture.wait_for()
    assert not _overflows(phone)  # the page does not scroll sideways: only the picture's box does
    box = phone.locator(".network-scroll")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    sizes = picture.evaluate(
        "svg => [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize))")
    assert sizes and min(sizes) >= 12
    assert picture.evaluate("svg => svg.getBoundingClientRect().width") >= 600  # not squeezed to 360 px
    assert _targets_too_small(phone) == []
    # the partner's box in the picture is a link to the partner's page
    picture.locator("a").first.tap()
    phone.wait_for_url(re.compile(r"/partners/\d+$"))
    assert phone.get_by_role("heading", name="Dziennik współpracy").is_visible()
