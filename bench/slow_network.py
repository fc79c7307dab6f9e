"""The after-meeting flow on a slow phone network: Debian's Chromium at 360 px, throttled to the
"Slow 3G" profile of Chrome's DevTools (2 s round trip, 400 kbit/s each way), against gunicorn on
loopback serving the city dataset.

An animator's group gets twelve members; from the meetings list the animator taps "Spotkanie teraz",
ticks ten people present, adds a newcomer and one promise, exactly as tests/test_meetings_browser.py
does on a fast network. Reported: seconds and taps, against DESIGN.md's 60 s and 15 taps.
"""
import time
from pathlib import Path

from sqlalchemy import select

from app import demo
from bench.dataset import bench_app
from bench.load import serve
from models import Group, Membership, Resident, User, db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
GROUP_NAME = "Grupa pomiarowa (wolna sieć)"
KNOWN = 10


def _prepare(path: Path) -> dict:
    """A group of the first demo animator, in their first osiedle, with twelve members."""
    app = bench_app(path)
    with app.app_context():
        email = next(login.email for login in demo.demo_logins() if login.role == "animator")
        animator = db.session.scalar(select(User).where(User.email == email))
        hood = animator.neighbourhoods[0]
        members = db.session.scalars(
            select(Resident.id).where(Resident.centre_id == animator.centre_id, Resident.neighbourhood_id == hood.id,
                                      Resident.anonymised_at.is_(None), Resident.first_name.is_not(None))
            .order_by(Resident.id).limit(12)).all()
        group = Group(centre_id=animator.centre_id, neighbourhood_id=hood.id, name=GROUP_NAME,
                      animator_id=animator.id, status="active")
        db.session.add(group)
        db.session.flush()
        db.session.add_all(Membership(group_id=group.id, resident_id=rid) for rid in members)
        db.session.commit()
        db.engine.dispose()
    return {"email": email, "members": members[:KNOWN]}


def run(path: Path) -> dict:
    from playwright.sync_api import sync_playwright

    prepared = _prepare(path)
    with serve(path) as (base, _server), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True,
                                      locale="pl-PL", timezone_id="Europe/Warsaw")
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{base}/login")
        page.get_by_label("E-mail").fill(prepared["email"])
        page.get_by_label("Hasło").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Zaloguj").click()
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/meetings")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)

        taps = 0

        def tap(locator):
            nonlocal taps
            taps += 1
            locator.tap()

        started = time.perf_counter()
        tap(page.get_by_role("button", name=f"Spotkanie teraz: {GROUP_NAME}"))
        page.wait_for_url(f"{base}/meetings/*")
        for rid in prepared["members"]:
            tap(page.locator(f"#attb-{rid}"))
            page.locator(f"#att-{rid}.is-present").wait_for()
        tap(page.get_by_label("Ktoś jeszcze? Wpisz imię, nazwisko albo opis"))
        page.keyboard.type("Ola Nowicka", delay=60)
        tap(page.get_by_role("button", name="Dodaj i zaznacz obecność"))
        newcomer = page.locator("#attendees li.is-present", has_text="Ola Nowicka")
        newcomer.wait_for()
        tap(newcomer.get_by_role("link", name="+ zobowiązanie"))
        newcomer.get_by_label("Co zrobi").wait_for()
        page.keyboard.type("zrobi plakat na festyn", delay=60)
        tap(newcomer.get_by_role("button", name="Zapisz zobowiązanie"))
        page.locator("#meeting-commitments li", has_text="zrobi plakat na festyn").wait_for()
        seconds = time.perf_counter() - started
        browser.close()
    return {"profile": "Slow 3G (2,000 ms round trip, 400 kbit/s)", "seconds": round(seconds, 1), "taps": taps,
            "known": KNOWN, "newcomers": 1, "commitments": 1}
