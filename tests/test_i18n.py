"""Polish first, English on request; Polish dates in Europe/Warsaw."""
from datetime import date, datetime


def test_polish_by_default_english_on_switch(client, auth):
    assert "Zaloguj się" in client.get("/login").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "next": "/login"})
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    auth.login("animator@wilda")  # the choice survives signing in
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.post("/language", data={"lang": "xx"})
    assert 'lang="pl"' in client.get("/login").get_data(as_text=True)


def test_dates_are_dd_mm_yyyy_in_warsaw(app):
    from app.templating import fmt_date, fmt_datetime

    with app.test_request_context():
        assert fmt_date(date(2026, 5, 3)) == "03.05.2026"
        # 22:30 UTC on 31 December is already New Year in Warsaw (UTC+1 in winter)
        assert fmt_datetime(datetime(2026, 12, 31, 22, 30)) == "31.12.2026 23:30"
        assert fmt_date(datetime(2026, 6, 30, 23, 0)) == "01.07.2026"  # UTC+2 in summer


def test_every_string_has_an_english_translation():
    from app.translations.untranslated import missing

    assert missing() == [], "run the commands in app/translations/README.md and translate these"


def test_catalog_is_up_to_date_with_the_code(tmp_path):
    """Every _() in the code is in the catalog: extraction finds nothing new."""
    import subprocess
    import sys
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    pot = tmp_path / "fresh.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "--ignore-dirs=.*", "-F", "babel.cfg",
                    "-k", "_l",
                    "-k", "lazy_gettext", "-o", str(pot), "app", "views", "models", "templates"],
                   cwd=root, check=True, capture_output=True)
    with pot.open("rb") as fh:
        fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with (root / "app/translations/en/LC_MESSAGES/messages.po").open("rb") as fh:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert sorted(fresh - known) == []


def test_no_gettext_inside_f_strings():
    """pybabel does not look inside f-strings: a `_()` there is never translated."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    inside = re.compile(r"""\bf(['"]).*\{[^}]*\b_l?\(""")
    found = [f"{path.relative_to(root)}:{n}" for folder in ("app", "views", "models")
             for path in sorted((root / folder).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if inside.search(line)]
    assert found == []
