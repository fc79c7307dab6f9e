"""The dashboard and the city's view in a real Chromium: on a 360 px phone (nothing wider than the screen,
targets big enough, every picture drawn and readable, its numbers one tap away) and, for the city, on a
desktop too, with a period preset, a measure for the map and a download read back."""
import csv
import io
import re
from datetime import date

from tests.test_browser import _overflows, _targets_too_small
from tests.test_groups_browser import sign_in as sign_in_with_clicks
from tests.test_meetings_browser import watch_console
from tests.test_residents_browser import sign_in


def pictures(page) -> list[dict]:
    """Each picture's accessible name and its drawn width."""
    return page.evaluate("""() => [...document.querySelectorAll('svg[role="img"]')].map(svg => {
        const ids = (svg.getAttribute('aria-labelledby') || '').split(' ');
        const title = ids.map(id => document.getElementById(id)).filter(Boolean).map(e => e.textContent).join(' ');
        const r = svg.getBoundingClientRect();
        return {title: title, width: r.width, height: r.height, font: Math.min(...[...svg.querySelectorAll('text')]
            .map(t => t.getBoundingClientRect().height).filter(h => h > 0))};
    })""")


def test_a_coordinator_reads_the_month_on_a_phone(live_server, phone, auth):
    errors = watch_console(phone)
    sign_in(phone, live_server, auth.email("coordinator@wilda"))  # lands on the dashboard
    assert phone.get_by_role("heading", level=1).inner_text().startswith("Dzień dobry")
    phone.get_by_role("heading", name="Miesiąc centrum").wait_for()
    assert phone.locator("#fig-reached .now").is_visible()
    assert not _overflows(phone) and _targets_too_small(phone) == []
    drawn = pictures(phone)
    names = " | ".join(p["title"] for p in drawn)
    for title in ("Aktywność tydzień po tygodniu", "Grupy na poszczególnych etapach", "Drabina zaangażowania",
                  "Osoby dotarte według grupy wieku"):
        assert title in names
    for p in drawn:
        assert 0 < p["width"] <= 360 and p["height"] > 40
        assert p["font"] >= 9  # text in the pictures stays readable once scaled to the phone
    # the numbers behind a picture, one tap away
    ladder = phone.locator("section", has=phone.get_by_role("heading", name="Drabina zaangażowania"))
    ladder.get_by_text("Dane wykresu w tabeli").tap()
    assert ladder.get_by_role("row", name=re.compile("Uczestnik")).is_visible()
    assert not _overflows(phone)
    assert errors == []


def test_the_city_compares_centres_on_a_phone_and_downloads_a_table(live_server, phone, auth):
    errors = watch_console(phone)
    sign_in(phone, live_server, auth.email("city"))
    phone.get_by_role("link", name="Działania w liczbach: centra, osiedla, mapa").tap()
    phone.wait_for_url(f"{live_server}/city")
    phone.get_by_role("heading", name="Mapa osiedli: Unikalne osoby").wait_for()
    assert phone.locator("svg.map-svg path").count() == 42
    box = phone.locator("svg.map-svg").bounding_box()
    assert box["width"] > 250 and box["height"] > 250
    assert phone.get_by_text("© OpenStreetMap contributors, ODbL 1.0").is_visible()
    assert not _overflows(phone) and _targets_too_small(phone) == []

    phone.get_by_role("link", name="Poprzedni rok").tap()
    last_year = date.today().year - 1
    phone.wait_for_url(re.compile(rf".*/city\?from={last_year}-01-01&to={last_year}-12-31.*"))
    assert phone.get_by_role("heading", name=re.compile(f"Okres: 01.01.{last_year}")).is_visible()

    phone.get_by_label("Kolor na mapie").select_option(label="Spotkania")
    phone.get_by_role("button", name="Pokaż").tap()
    phone.get_by_role("heading", name="Mapa osiedli: Spotkania").wait_for()
    assert f"from={last_year}-01-01" in phone.url and "measure=meetings" in phone.url
    assert not _overflows(phone) and _targets_too_small(phone) == []

    osiedla = phone.locator("section", has=phone.get_by_role("heading", name="Osiedla", exact=True))
    with phone.expect_download() as info:
        osiedla.get_by_role("link", name="CSV").tap()
    download = info.value
    assert download.suggested_filename == f"cil-osiedla-{last_year}-01-01-{last_year}-12-31.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read()), delimiter=";"))
    assert rows[0][0] == "Osiedle" and len(rows) == 1 + 42 + 1
    shown = phone.locator("#osiedle-wilda td").first.inner_text()
    wilda = next(r for r in rows if r[0] == "Wilda")
    assert int(shown.replace("\xa0", "").replace(" ", "")) == int(wilda[1])
    assert errors == []


def test_the_city_view_on_a_desktop(live_server, desktop, auth):
    sign_in_with_clicks(desktop, live_server, auth, "city")
    desktop.get_by_role("link", name="Miasto w liczbach").click()
    desktop.wait_for_url(f"{live_server}/city")
    box = desktop.locator("svg.map-svg").bounding_box()
    assert box["width"] >= 500  # a map one can look at
    # the tooltip of an osiedle says its name and value
    title = desktop.locator("svg.map-svg path title").first.text_content()
    assert re.fullmatch(r".+: [\d\s\xa0]+", title)
    table = desktop.get_by_role("table", name="Liczby każdego centrum w okresie")
    assert table.get_by_role("row").count() == 1 + 3 + 1  # the header, three centres, the programme
    assert not _overflows(desktop)
