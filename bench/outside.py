"""Issue 14 tried again from outside: each finding of "What was found", over real HTTP, as a careless user
and an attacker would, against a freshly served copy with demo data (gunicorn on 127.0.0.1, CSRF on).

Not a test of the code from the inside: it builds a database in a temporary folder with the CLI, serves it
with gunicorn, signs in with the demo logins and sends what a browser or a script would send. It reads the
SQLite file only to plant bad bytes (finding 1), to find ids and to count what got written. It prints one
row per try (finding, what was tried, the answer seen, PASS when the finding does not reproduce) and exits
with 1 when anything FAILs. Run from the project root: `.venv/bin/python -m bench.outside`.
"""
import http.client
import io
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import openpyxl
from tabulate import tabulate

from tests.http_client import form_fields  # what a browser would send for a form on a page

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
IMPORTS = ROOT / "instance" / "imports"  # the app's instance_path is the project's instance/, whatever the database
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
ERRORS = re.compile(r'class="error[^"]*"[^>]*>([^<]+)<')
ENGLISH = re.compile(r"not a valid|this field is required|invalid (choice|value|input)", re.I)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESULTS: list[tuple[str, str, str, str]] = []
SERVER_ERRORS: list[str] = []  # every 5xx answer seen, whatever the probe


def check(n, tried: str, seen: str, ok) -> None:
    RESULTS.append((str(n), tried, seen, "PASS" if ok else "FAIL"))


class Browser:
    """One person's browser: cookies, the CSRF token of the last page, no redirects followed. An answer has
    .status, .headers (lower-case names, repeated ones joined), .body and .text."""

    def __init__(self, port: int, cookies=None, csrf=""):
        self.port, self.cookies, self.csrf = port, dict(cookies or {}), csrf

    def copy(self) -> "Browser":
        return Browser(self.port, self.cookies, self.csrf)

    def send(self, method: str, path: str, data=None, files=None) -> SimpleNamespace:
        h, body = {"Accept": "text/html", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}, None
        if files is not None:  # multipart, as a file input sends it
            b, fields = uuid.uuid4().hex, {**(data or {}), "csrf_token": self.csrf}
            parts = [f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                     for k, v in fields.items()]
            parts += [f'--{b}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\nContent-Type: {ctype}'
                      f"\r\n\r\n".encode() + content + b"\r\n" for k, (name, content, ctype) in files.items()]
            body, h["Content-Type"] = b"".join(parts) + f"--{b}--\r\n".encode(), f"multipart/form-data; boundary={b}"
        elif data is not None:
            body = urlencode({"csrf_token": self.csrf, **data}, doseq=True)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        headers: dict[str, str] = {}
        for k, v in resp.getheaders():
            headers[k.lower()] = f"{headers[k.lower()]}, {v}" if k.lower() in headers else v
            if k.lower() == "set-cookie":
                key, _, rest = v.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        answer = SimpleNamespace(status=resp.status, headers=headers, body=raw, text=raw.decode("utf-8", "replace"))
        if m := CSRF_META.search(answer.text):
            self.csrf = m.group(1)
        if resp.status >= 500:
            SERVER_ERRORS.append(f"{method} {path} -> {resp.status}")
        return answer

    def login(self, email: str, password: str) -> int:
        self.send("GET", "/login")
        status = self.send("POST", "/login", {"email": email, "password": password}).status
        self.send("GET", "/")  # the token of the new session
        return status


# --- spreadsheets that say what an attacker wants: openpyxl's package with a worksheet written by hand ---
SHEET = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def xlsx(sheet_chunks) -> bytes:
    template = io.BytesIO()
    openpyxl.Workbook().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            if name != "xl/worksheets/sheet1.xml":
                z.writestr(name, src.read(name))
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            for chunk in sheet_chunks:
                f.write(chunk)
    return out.getvalue()


def understated_sizes(data: bytes, size: int = 4096) -> bytes:
    """The same zip whose headers claim that every part unpacks to `size` bytes."""
    out = bytearray(data)
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        for m in re.finditer(re.escape(sig), data):
            out[m.start() + at:m.start() + at + 4] = size.to_bytes(4, "little")
    return bytes(out)


def cells(answer) -> list[str]:
    wb = openpyxl.load_workbook(io.BytesIO(answer.body))
    return [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]


# --- the served copy ----------------------------------------------------------------------------------
class Served:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="animo-outside-"))
        self.db, self.server = self.tmp / "animo.sqlite3", None
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{self.tmp / 'animo.sqlite3'}"}

    def flask(self, *args) -> str:
        done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout

    def start(self) -> None:
        for args in (("db", "upgrade"), ("seed-neighbourhoods",), ("demo-data", "--scale", "small", "--seed", "2026")):
            self.flask(*args)
        self.logins = {(role, centre): (email, pw) for role, centre, email, pw in re.findall(
            r"DEMO LOGIN role=(\S+) centre=(\S+) email=(\S+) password=(\S+)", self.flask("demo-logins"))}
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = open(self.tmp / "gunicorn.log", "wb")
        self.server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
                                        "app:create_app()"], cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log)
        for _ in range(150):  # 30 s at most
            try:
                if Browser(self.port).send("GET", "/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz within 30 s")

    def browser(self, role: str, centre: str = "-") -> Browser:
        b = Browser(self.port)
        if b.login(*self.logins[(role, centre)]) != 303:
            raise RuntimeError(f"sign-in as {role} of {centre} failed")
        return b

    def sql(self, query: str, *args, write=False) -> list:
        conn = sqlite3.connect(self.db if write else f"file:{self.db}?mode=ro", uri=not write, timeout=30)
        try:
            rows = conn.execute(query, args).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()  # an open reader would keep the -wal from being truncated

    def worker_peaks_mb(self) -> list[int]:
        pids = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text().split()
        return [int(re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{p}/status").read_text()).group(1)) // 1024
                for p in pids]

    def stop(self) -> None:
        if self.server is not None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- the probes, one per finding (osiedle 38 is Wilda, CIL Wilda's) -------------------------------------
def probe_1(s: Served, anim: Browser):
    a = anim.send("POST", "/residents/new", {"neighbourhood_id": "38", "first_name": "Ala\x00Nul", "last_name": "P"})
    said = "znak sterujący" in a.text
    check(1, "new resident first_name 'Ala\\x00Nul'", f"{a.status}, 'znak sterujący' shown: {said}",
          a.status == 422 and said)
    for table, column, value in (("resident", "first_name", "'Ala'||char(0)||'Nul'"),
                                 ("finding", "title", "'Ławki'||char(27)||'Zepsute'"),
                                 ("community_group", "name", "'Grupa'||char(7)||'Dzwon'")):
        s.sql(f"UPDATE {table} SET {column}={value} WHERE id=(SELECT min(id) FROM {table} WHERE neighbourhood_id=38)",
              write=True)
    for path, planted in (("/residents/export.xlsx", "Nul"), ("/diagnosis/wilda/export.xlsx", "Zepsute"),
                          ("/reports/xlsx", "Dzwon")):
        a = anim.send("GET", path)
        found = a.status == 200 and any(planted in c for c in cells(a))
        check(1, f"GET {path}, C0 char planted in SQLite", f"{a.status}, opens, planted row in it: {found}", found)


def probe_2(s: Served, anim: Browser, admin: Browser):
    cid = s.sql("SELECT c.id FROM commitment c JOIN resident r ON r.id=c.resident_id WHERE r.neighbourhood_id=38 "
                "AND c.status='promised' ORDER BY c.id LIMIT 1")[0][0]
    edit = form_fields(anim.send("GET", f"/commitments/{cid}").text, f"/commitments/{cid}")
    meeting = form_fields(anim.send("GET", "/meetings/new").text, "/meetings/new")
    any_4xx = range(400, 500)
    for who, method, path, data, expected in (
            (anim, "GET", "/residents/99999999999999999999", None, {404}),
            (anim, "GET", "/residents/%C2%B2", None, {404}),
            (anim, "GET", "/residents?page=%C2%B2", None, any_4xx),
            (anim, "POST", "/interactions/new", {"resident_id": "9" * 20, "channel": "street"}, any_4xx),
            (anim, "POST", f"/commitments/{cid}/status", {"status": "done", "hours": "NaN"}, any_4xx),
            (anim, "POST", f"/commitments/{cid}/status", {"status": "done", "hours": "1e-9999999"}, {422}),
            (anim, "POST", f"/commitments/{cid}", {**edit, "status": "done", "hours": "NaN"}, any_4xx),
            (admin, "GET", "/admin/audit?from=0001-01-01", None, {400}),
            (admin, "GET", "/admin/audit?to=9999-12-31", None, {400}),
            (anim, "POST", "/meetings/new", {**meeting, "title": "P", "starts_at": "0001-01-01T00:30"}, {422})):
        a = who.send(method, path, data)
        shown = {k: v for k, v in (data or {}).items() if k in ("resident_id", "hours", "starts_at")}
        check(2, f"{method} {path} {shown or ''}".strip(), str(a.status), a.status in expected)


def probe_3(s: Served, coord: Browser):
    url = "/grants/calls/2/edit"
    a = coord.send("POST", url, form_fields(coord.send("GET", url).text, url))
    check(3, f"POST {url} back unchanged", f"{a.status} {a.headers.get('location')}", a.status == 303)
    a = coord.send("POST", url, {**form_fields(coord.send("GET", url).text, url), "min_own_percent": "150"})
    check(3, "min_own_percent=150", f"{a.status} {ERRORS.findall(a.text)[:1]}", a.status == 422)


def upload(b: Browser, name: str, content: bytes, ctype: str):
    b.send("GET", "/residents/import")
    a = b.send("POST", "/residents/import", files={"file": (name, content, ctype)})
    return a, a.headers.get("location", "")


def probe_4_and_6(s: Served, anim: Browser):
    one_letter = b"A" * (1 << 20)  # 1000 MB of one letter in one cell: deflate packs it into ~1 MB
    big = xlsx([SHEET + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>', *[one_letter] * 1000,
                b"</t></is></c></row></sheetData></worksheet>"])
    wide_row = b"<row>" + b"<c><v>1</v></c>" * 200 + b"</row>"
    wide = xlsx([SHEET, b"<sheetData>", *([wide_row] * 20001), b"</sheetData></worksheet>"])
    for what, data in ((f"{len(big) // 1000} KB XLSX, one inline cell of 1000 MB", big),
                       ("same, zip headers claiming 4 KB unpacked", understated_sizes(big)),
                       ("200 columns x 20,001 rows XLSX", wide)):
        started = time.monotonic()
        a, _ = upload(anim, "osoby.xlsx", data, XLSX_TYPE)
        took, peak = time.monotonic() - started, max(s.worker_peaks_mb())
        check(4, what, f"{a.status} in {took:.1f} s, worker peak {peak} MB",
              a.status == 422 and took < 5 and peak < 300)
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{first}</t></is></c><c r="B{r}" t="inlineStr">'
                   f'<is><t>{last}</t></is></c></row>' for r, first, last in
                   [(1, "imię", "nazwisko")] + [(r, f"Jan{r}", f"Próbny{r}") for r in range(2, 12)])
    a, where = upload(anim, "wymiar.xlsx", xlsx([SHEET, b'<dimension ref="A1:C3"/><sheetData>', rows.encode(),
                                                 b"</sheetData></worksheet>"]), XLSX_TYPE)
    count = re.findall(r"Wierszy z danymi: (\d+)", anim.send("GET", where).text) if a.status == 303 else []
    check(4, '10 rows under <dimension ref="A1:C3"/>', f"{a.status}, preview rows {count}", count == ["10"])
    if a.status == 303:
        waiting = IMPORTS / f"{where.rsplit('/', 1)[1]}.json"
        mode = oct(waiting.stat().st_mode & 0o777) if waiting.exists() else "missing"
        check(6, f"upload waiting: instance/imports/{waiting.name[:8]}….json", f"mode {mode}", mode == "0o600")
        c = anim.send("POST", where + "/cancel", {})
        check(6, "cancel it", f"{c.status}, file still there: {waiting.exists()}",
              c.status == 303 and not waiting.exists())
    a, where = upload(anim, "utf16.csv", "imię;nazwisko\r\nZofia;Szesnastkowa\r\n".encode("utf-16"), "text/csv")
    read = a.status == 303 and "Szesnastkowa" in anim.send("GET", where).text
    check(4, "UTF-16 CSV", f"{a.status}, row read: {read}", read)
    if a.status == 303:
        anim.send("POST", where + "/cancel", {})


def probe_5(s: Served, coord: Browser):
    surname, phone, concern = "Wymazywalska", "512903471", "Plac Grzybowskiego potrzebuje ławek"
    f = form_fields(coord.send("GET", "/residents/new").text, "/residents/new")
    a = coord.send("POST", "/residents/new", {**f, "first_name": "Eliza", "last_name": surname, "phone": phone,
                                              "neighbourhood_id": "38"})
    rid = re.search(r"/residents/(\d+)", a.headers.get("location", "")).group(1)
    f = form_fields(coord.send("GET", f"/interactions/new?resident={rid}").text, "/interactions/new")
    coord.send("POST", f"/interactions/new?resident={rid}", {**f, "concerns": concern, "note": f"u {surname}"})
    iid = s.sql("SELECT max(id) FROM interaction WHERE resident_id=?", rid)[0][0]
    page = coord.send("GET", f"/diagnosis/findings/new?interaction={iid}").text  # the title comes from the contact
    coord.send("POST", f"/diagnosis/findings/new?interaction={iid}", form_fields(page, "/diagnosis/findings/new"))

    def left() -> list[str]:
        data = b"".join(p.read_bytes() for p in (Path(f"{s.db}{x}") for x in ("", "-wal", "-shm")) if p.exists())
        return [w for w in (surname, "+48" + phone, "Grzybowskiego") if w.encode() in data]

    before = left()
    a = coord.send("POST", f"/residents/{rid}/erase", {"reason": "request", "confirm": "yes"})
    after = left()
    check(5, "erase a resident (with a contact and a finding from it), grep db, -wal, -shm",
          f"{a.status}; found before {len(before)}/3, after: {after or 'none'}",
          a.status == 303 and len(before) == 3 and not after)


def probe_7(s: Served, anim: Browser):
    csv = "imię;nazwisko;osiedle;notatki\r\nZofia;Cukrowska;Wilda;choruje na cukrzycę\r\n".encode()
    _, where = upload(anim, "art9.csv", csv, "text/csv")
    fields = form_fields(anim.send("GET", where).text, "")  # the mapping form posts to its own page
    checked = anim.send("POST", where, {**fields, "action": "check"})
    asks = "art. 9" in checked.text and 'name="confirm_sensitive"' in checked.text
    a = anim.send("POST", where, {**fields, "action": "import"})
    written = s.sql("SELECT count(*) FROM resident WHERE last_name='Cukrowska'")[0][0]
    check(7, "CSV notes 'choruje na cukrzycę': check, then import without confirming",
          f"asks art. 9: {asks}; import {a.status}, rows written {written}", asks and a.status == 422 and written == 0)
    anim.send("POST", where + "/cancel", {})


def probe_8(s: Served, rataje: Browser):
    gid = s.sql("SELECT g.id FROM community_group g JOIN centre c ON c.id=g.centre_id WHERE c.slug='cil-rataje' AND "
                "NOT EXISTS (SELECT 1 FROM grant_application a WHERE a.group_id=g.id) ORDER BY g.id LIMIT 1")[0][0]
    url = f"/grants/groups/{gid}/link"
    f = form_fields(rataje.send("GET", url).text, url)
    statuses = [rataje.send("POST", url, {**f, "reference": f"MG/2026/{n:04d}"}).status for n in range(1, 25)]
    pages = rataje.send("GET", f"/groups/{gid}").text + rataje.send("GET", f"/grants/groups/{gid}").text
    titles = [t for (t,) in s.sql("SELECT DISTINCT title FROM grant_application") if t in pages]
    linked = s.sql("SELECT count(*) FROM grant_application WHERE group_id=?", gid)[0][0]
    check(8, f"Rataje animator posts MG/2026/0001..0024 to {url}",
          f"linked {linked}, titles shown {len(titles)}; tries 1-10 {sorted(set(statuses[:10]))}, "
          f"11-24 {sorted(set(statuses[10:]))}", linked == 0 and not titles and statuses[10:] == [429] * 14)


APPLICATION = {  # a valid public application (the open call's activities run from April to November 2027)
    "applicant_name": "Sąsiedzi z Rynku", "patron_id": "1", "contact_name": "Anna Nowak",
    "contact_email": "a@example.org", "contact_phone": "601 234 567", "neighbourhood_id": "38",
    "need": "Sąsiedzi się nie znają.", "diagnosis": "Rozmowy.", "goals": "Trzy potańcówki.",
    "activities": "Lipiec i sierpień.", "starts_on": "2027-05-01", "ends_on": "2027-07-31",
    "expected_participants": "150", "privacy": "y", "lines-0-item": "Nagłośnienie", "lines-0-quantity": "3",
    "lines-0-unit_cost": "800", "lines-1-item": "Praca wolontariuszy", "lines-1-quantity": "20",
    "lines-1-unit_cost": "30", "lines-1-source": "volunteer", **{f"members-{i}-{k}": v for i, name in
                                     enumerate(("Anna Nowak", "Piotr Kowal", "Zofia Wiśniewska"))
                                     for k, v in (("name", name), ("adult", "y"))}}


def probe_9(s: Served):
    slug = s.sql("SELECT slug FROM grant_call WHERE status='open' ORDER BY id LIMIT 1")[0][0]
    public = Browser(s.port)
    for attempt in ("one after the other", "at once"):
        title = f"Potańcówka próbna {secrets.token_hex(3)}"
        form = form_fields(public.send("GET", f"/apply/{slug}").text, f"/apply/{slug}")  # with its submission_key
        data, senders = {**form, **APPLICATION, "title": title}, [public.copy(), public.copy()]
        go = threading.Barrier(2)

        def send(b: Browser):
            if attempt == "at once":
                go.wait(timeout=10)
            return b.send("POST", f"/apply/{slug}", data)

        with ThreadPoolExecutor(2 if attempt == "at once" else 1) as pool:
            answers = list(pool.map(send, senders, timeout=120))
        refs = {r for b, a in zip(senders, answers) if a.status == 303
                for r in re.findall(r"MG/\d{4}/\d{4}-\w+", b.send("GET", a.headers["location"]).text)}
        rows = s.sql("SELECT count(*) FROM grant_application WHERE title=?", title)[0][0]
        check(9, f"public form twice with one submission_key, {attempt}",
              f"{[a.status for a in answers]}, references {len(refs)}, applications {rows}",
              rows == 1 and len(refs) == 1)


def probe_10(s: Served, coord: Browser, anim: Browser):
    mid = s.sql("SELECT min(id) FROM meeting WHERE neighbourhood_id=38")[0][0]
    url = f"/meetings/{mid}/notes"
    first, second = (form_fields(b.send("GET", f"/meetings/{mid}").text, url) for b in (coord, anim))
    a1 = coord.send("POST", url, {**first, "notes": "Koordynatorka: przyszło 12 osób."})
    a2 = anim.send("POST", url, {**second, "notes": "Animatorka: ławki w maju."})
    kept = "Animatorka: ławki w maju." in a2.text
    check(10, "coordinator and animator save one meeting's notes from one version",
          f"{a1.status} then {a2.status}, second text kept in the form: {kept}",
          a1.status in (200, 303) and a2.status == 409 and kept)


def probe_12(s: Served, anim: Browser):
    phones = [c for c in cells(anim.send("GET", "/residents/export.xlsx")) if c.lstrip("'").startswith("+48")]
    quoted = [c for c in phones if c.startswith("'")]
    check(12, "XLSX residents export: phone cells", f"{len(phones)} phones, {len(quoted)} with a leading '",
          phones and not quoted)
    for method, path in (("GET", "/logout"), ("POST", "/healthz"), ("DELETE", "/residents")):
        a = anim.send(method, path, {} if method == "POST" else None)
        allow = a.headers.get("allow")
        check(12, f"{method} {path}", f"{a.status}, Allow: {allow or '-'}", a.status == 405 and allow)
    ctype = anim.send("GET", "/residents/export.csv").headers.get("content-type", "")
    check(12, "CSV export Content-Type", ctype, ctype.lower().count("charset") == 1)
    meeting = form_fields(anim.send("GET", "/meetings/new").text, "/meetings/new")
    for path, data in (("/residents/new", {"neighbourhood_id": "5", "first_name": "X"}),
                       ("/meetings/new", {**meeting, "title": "P", "kind": "bogus", "group_id": "999"})):
        a = anim.send("POST", path, data)
        check(12, f"bad choice to a select on {path}", f"{a.status} {ERRORS.findall(a.text)[:1]}",
              a.status == 422 and not ENGLISH.search(a.text))


def probe_11(s: Served):
    email, password = s.logins[("reviewer", "cil-regranting")]
    owner = Browser(s.port)
    owner.login(email, password)  # the owner's browser gets its device cookie
    owner.send("POST", "/logout", {})
    statuses = []
    for i in range(30):
        attacker = Browser(s.port)  # a fresh session every time, no cookies
        attacker.send("GET", "/login")
        statuses.append(attacker.send("POST", "/login", {"email": email, "password": f"zgaduje-{i}"}).status)
    check(11, "30 wrong passwords for the owner, cookie-less sessions", f"first {statuses[0]}, last {statuses[-1]}",
          statuses[-1] == 429)
    owner.send("GET", "/login")
    a = owner.send("POST", "/login", {"email": email, "password": password})
    check(11, "then the owner (device cookie kept), right password", f"{a.status} {a.headers.get('location')}",
          a.status == 303 and "animo_device" in owner.cookies)


def main() -> int:
    served = Served()
    try:
        served.start()
        anim, coord = served.browser("animator", "cil-wilda"), served.browser("coordinator", "cil-wilda")
        admin, regranting = served.browser("admin"), served.browser("coordinator", "cil-regranting")
        rataje = served.browser("animator", "cil-rataje")
        for n, probe, args in ((1, probe_1, (anim,)), (2, probe_2, (anim, admin)), (3, probe_3, (regranting,)),
                               ("4/6", probe_4_and_6, (anim,)), (5, probe_5, (coord,)), (7, probe_7, (anim,)),
                               (8, probe_8, (rataje,)), (9, probe_9, ()), (10, probe_10, (coord, anim)),
                               (12, probe_12, (anim,)),
                               (11, probe_11, ())):  # last: its failures from 127.0.0.1 would slow later sign-ins
            try:
                probe(served, *args)
            except Exception as exc:  # a probe that cannot finish is a failure, and the others still run
                check(n, f"{probe.__name__} did not finish", f"{type(exc).__name__}: {exc}"[:120], False)
        tracebacks = (served.tmp / "gunicorn.log").read_text(errors="replace").count("Traceback")
        check("-", "every answer of this run; gunicorn's log", f"5xx: {SERVER_ERRORS[:3] or 'none'}; "
              f"tracebacks: {tracebacks}", not SERVER_ERRORS and not tracebacks)
    finally:
        served.stop()
    print(tabulate(RESULTS, headers=["#", "tried", "answer seen", "verdict"], maxcolwidths=[None, 55, 60, None]))
    failed = sum(r[3] == "FAIL" for r in RESULTS)
    print(f"outside probe: {len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
