"""Real Chromium, CSRF on: a coordinator on a 360 px phone and the city on a desktop produce the year's
report, download the XLSX (a real download), read it back with openpyxl and find every figure of the
page in it; the printout leaves the navigation, the form and the buttons out."""
import re
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from app.timeutil import today_local
from tests.conftest import PASSWORD
from tests.test_browser import _overflows, _targets_too_small

NUMBER = re.compile(r"^-?\d{1,3}(?:[\s\u00a0\u202f]\d{3})*(?:,\d+)?(?:[\s\u00a0]zł)?$")
DAY = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


def sign_in(page, base, auth, key):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(auth.email(key))
    page.get_by_label("Hasło").fill(PASSWORD)
    page.get_by_role("button", name="Zaloguj").click()
    page.wait_for_url(f"{base}/")


def norm(value):
    """A cell of the page or of the sheet, comparable: numbers as Decimal, dates as ISO text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    text = str(value).strip()
    if NUMBER.match(text):
        digits = re.sub(r"[\s\u00a0\u202fzł]", "", text).replace(",", ".")
        return Decimal(digits)
    day = DAY.match(text)
    if day:
        return f"{day[3]}-{day[2]}-{day[1]}"
    return text


def page_sections(page) -> list[dict]:
    """Every table of the report as the page shows it: its title and its rows of cells."""
    return page.evaluate("""() => [...document.querySelectorAll('table[data-section]')].map(t => ({
        key: t.dataset.section,
        title: t.closest('section').querySelector('h2').innerText.trim(),
        headed: t.tHead !== null,
        rows: [...t.querySelectorAll('tbody tr, tfoot tr')].map(tr => [...tr.cells].map(c => c.innerText.trim()))
    }))""")


def sheet_rows(path) -> list[list]:
    ws = load_workbook(path).active
    rows = []
    for row in ws.iter_rows(values_only=True):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    return rows


def compare(page, path) -> int:
    """Every row of every table of the page is in the sheet, in order, under the same title; returns
    how many figures were compared."""
    rows = sheet_rows(path)
    titles = [r[0] if len(r) == 1 else None for r in rows]
    compared = 0
    for section in page_sections(page):
        assert section["title"] in titles, section["title"]
        i = titles.index(section["title"]) + 1
        if section["headed"]:
            i += 1  # the column headings
        for shown in section["rows"]:
            written = rows[i]
            assert [norm(v) for v in shown] == [norm(v) for v in written], (section["key"], shown, written)
            compared += sum(isinstance(norm(v), Decimal) for v in shown)
            i += 1
    return compared


def download_and_compare(page, tmp_path, tap) -> list[list]:
    with page.expect_download() as info:
        tap(page.get_by_role("link", name="Pobierz XLSX"))
    download = info.value
    assert re.fullmatch(r"raport-cil-[a-z-]+-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert compare(page, path) >= 30  # the page is full of figures, and each one is in the sheet
    return sheet_rows(path)


def check_print(page):
    page.emulate_media(media="print")
    try:
        assert page.locator("header.top").is_hidden()
        assert page.locator("form.report-form").is_hidden()
        assert page.locator(".downloads").is_hidden()
        assert page.get_by_role("heading", level=1).is_visible()
        assert page.locator("table[data-section='people']").is_visible()
    finally:
        page.emulate_media(media="screen")


def test_coordinator_produces_the_years_report_on_a_phone(live_server, phone, auth, tmp_path):
    base = live_server
    sign_in(phone, base, auth, "coordinator@wilda")
    phone.get_by_role("link", name="Raporty", exact=True).tap()
    phone.wait_for_url(f"{base}/reports")
    phone.get_by_role("link", name="Ten rok", exact=True).tap()
    today = today_local()
    phone.wait_for_url(re.compile(rf"/reports\?from={today.year}-01-01&to={today.isoformat()}$"))
    assert phone.get_by_role("heading", level=1).inner_text() == "Raport: CIL Wilda"
    assert f"01.01.{today.year} – {today:%d.%m.%Y}" in phone.locator(".report-head").inner_text()
    assert not _overflows(phone)
    assert _targets_too_small(phone) == []
    rows = download_and_compare(phone, tmp_path, lambda el: el.tap())
    assert rows[0] == ["Raport CIL", "CIL Wilda"]
    assert rows[1] == ["Okres od", f"{today.year}-01-01"] and rows[2] == ["Okres do", today.isoformat()]
    assert rows[3] == ["Zakres", "cały CIL"]
    check_print(phone)


def test_city_produces_a_centres_report_on_a_desktop(live_server, desktop, auth, tmp_path):
    base = live_server
    sign_in(desktop, base, auth, "city")
    desktop.get_by_role("link", name="Raporty", exact=True).click()
    desktop.wait_for_url(f"{base}/reports")
    assert desktop.get_by_role("heading", level=1).inner_text() == "Raport dla miasta"
    desktop.get_by_role("button", name="Pokaż raport").click()  # without a centre: the form says what is missing
    assert desktop.locator("#r-centre-err").inner_text() == "Wybierz CIL, dla którego ma powstać raport."
    desktop.get_by_label("CIL").select_option(label="CIL Regrantingowy")
    desktop.get_by_role("button", name="Pokaż raport").click()
    desktop.get_by_role("heading", level=1, name="Raport: CIL Regrantingowy").wait_for()
    last_year = today_local().year - 1
    desktop.get_by_role("link", name="Poprzedni rok", exact=True).click()
    desktop.wait_for_url(re.compile(rf"centre=\d+&from={last_year}-01-01&to={last_year}-12-31$"))
    desktop.get_by_role("link", name="Ten rok", exact=True).click()
    desktop.wait_for_url(re.compile(rf"centre=\d+&from={today_local().year}-01-01&to="))
    assert desktop.locator("#s-grants").is_visible()  # a regranting centre: its micro-grants
    assert desktop.locator("table[data-section='group_list']").count() == 0  # no group is named for the city
    assert "same liczby, bez danych osobowych" in desktop.locator(".report").inner_text()
    assert not _overflows(desktop)
    rows = download_and_compare(desktop, tmp_path, lambda el: el.click())
    assert rows[0] == ["Raport CIL", "CIL Regrantingowy"]
    assert rows[1] == ["Okres od", f"{date(today_local().year, 1, 1).isoformat()}"]
    check_print(desktop)
