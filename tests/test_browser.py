"""Real Chromium against the app served over real HTTP, on a 360 px phone."""
# Other browser tests import these from here too.
from tests.browser_helpers import SMALLEST_TARGET, _overflows, _targets_too_small  # noqa: F401
from tests.conftest import PASSWORD


def test_sign_in_on_a_phone(live_server, phone, auth):
    dialogs = []
    phone.on("dialog", lambda d: dialogs.append(d.message))
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.goto(f"{live_server}/")
    assert "/login" in phone.url
    assert not _overflows(phone)
    assert _targets_too_small(phone) == []
    phone.get_by_label("E-mail").fill(auth.email("animator@wilda"))
    phone.get_by_label("Hasło").fill(PASSWORD)
    phone.get_by_role("button", name="Zaloguj").tap()
    phone.wait_for_url(f"{live_server}/")
    assert phone.get_by_role("heading", level=1).inner_text().startswith("Dzień dobry")
    assert phone.locator("#status[aria-live]").count() == 1
    assert not _overflows(phone)
    assert _targets_too_small(phone) == []
    assert dialogs == [] and errors == []  # CSP allows everything the page needs
    # The header's "+ Kontakt" button is readable: its text does not take the colour of the bar's links.
    colours = phone.get_by_role("link", name="+ Kontakt").evaluate(
        "el => { const s = getComputedStyle(el); return [s.color, s.backgroundColor]; }")
    assert colours[0] != colours[1], colours


def test_wrong_password_message_on_a_phone(live_server, phone, auth):
    phone.goto(f"{live_server}/login")
    phone.get_by_label("E-mail").fill(auth.email("animator@wilda"))
    phone.get_by_label("Hasło").fill("to-nie-jest-haslo")
    phone.get_by_role("button", name="Zaloguj").tap()
    assert phone.get_by_role("alert").inner_text() == "Nieprawidłowy e-mail lub hasło."


def test_keyboard_sign_in_and_team_page_on_desktop(live_server, desktop, auth):
    desktop.goto(f"{live_server}/login")
    desktop.keyboard.press("Tab")  # skip link first
    assert desktop.evaluate("document.activeElement.className") == "skip"
    desktop.get_by_label("E-mail").focus()
    desktop.keyboard.type(auth.email("coordinator@wilda"))
    desktop.keyboard.press("Tab")
    desktop.keyboard.type(PASSWORD)
    desktop.keyboard.press("Enter")
    desktop.wait_for_url(f"{live_server}/")
    desktop.get_by_role("link", name="Zespół").click()
    assert desktop.get_by_role("heading", level=1).inner_text() == "Zespół centrum"
    assert not _overflows(desktop)
