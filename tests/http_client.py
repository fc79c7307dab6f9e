"""A small HTTP client on the standard library alone, for tests that talk to a real server process
(gunicorn) the way a browser does: cookies, the CSRF token from the page, redirects not followed.

Also runnable as a script: `python tests/http_client.py BASE EMAIL PASSWORD HOOD_ID MARKER COUNT`
signs in as EMAIL and makes COUNT writes through the application (a new resident, then a contact
logged with that resident, alternately), printing one JSON line per write; see `write_loop`.
"""
import http.client
import json
import re
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Answer:
    status: int
    headers: dict
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class HttpSession:
    """One signed-in person: a kept-alive connection, the session cookie, the CSRF token."""

    def __init__(self, base: str, timeout: float = 30):
        parts = urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self._conn = None

    def _connection(self):
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None) -> Answer:
        send = {"Accept": "text/html"}
        if self.cookies:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            if self.csrf and "csrf_token" not in data:
                data = {**data, "csrf_token": self.csrf}
            body = urlencode(data, doseq=True)
            send["Content-Type"] = "application/x-www-form-urlencoded"
        send.update(headers or {})
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=send)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        except Exception:
            self.close()
            raise
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        answer = Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, text)
        if match := CSRF_META.search(text):
            self.csrf = match.group(1)
        return answer

    def get(self, path: str, **kw) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict, **kw) -> Answer:
        return self.request("POST", path, data=data, **kw)

    def login(self, email: str, password: str) -> None:
        self.get("/login")
        answer = self.post("/login", {"email": email, "password": password})
        if answer.status != 303:
            raise RuntimeError(f"sign-in as {email} answered {answer.status}")
        self.get("/")  # the signed-in page carries the token of the new session


class _FormReader(HTMLParser):
    """The fields of one <form> as a browser would send them: inputs (checked boxes only), the
    selected options of selects (a list for `multiple`), textareas."""

    def __init__(self, action: str):
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.found = action, False, False
        self.fields: dict[str, object] = {}
        self._select: tuple[str, bool] | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = not self.found and a.get("action", "").split("?")[0] == self.action
            self.found = self.found or self.inside
            return
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "reset", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[a["name"]] = a.get("value", "on" if kind in ("checkbox", "radio") else "")
        elif tag == "select":
            multiple = "multiple" in a
            self._select, self._first_option = (a["name"], multiple), None
            self.fields[a["name"]] = [] if multiple else None
        elif tag == "option" and self._select:
            name, multiple = self._select
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                if multiple:
                    self.fields[name].append(value)
                else:
                    self.fields[name] = value
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            name, multiple = self._select
            if not multiple and self.fields[name] is None:
                self.fields[name] = self._first_option or ""
            self._select = None
        elif tag == "textarea" and self._textarea:
            value = self.fields[self._textarea]
            # A browser drops the newline that follows <textarea> (WTForms writes one).
            self.fields[self._textarea] = value[2:] if value.startswith("\r\n") else value.removeprefix("\n")
            self._textarea = None

    def handle_data(self, data):
        if self.inside and self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str, action: str) -> dict:
    """What submitting the page's form with this action (path) would send, unchanged."""
    reader = _FormReader(action)
    reader.feed(html)
    if not reader.found:
        raise AssertionError(f"no form with action {action} on the page")
    return reader.fields


def wait_until_up(base: str, deadline_s: float = 20) -> None:
    """Poll /healthz until the server answers 200."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            if HttpSession(base, timeout=2).get("/healthz").status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > end:
            raise RuntimeError(f"{base} did not come up within {deadline_s} s")
        time.sleep(0.05)


def write_once(session: HttpSession, hood_id: int, marker: str, n: int, last_resident: int | None) -> dict:
    """Write number n: even n adds a resident, odd n logs a contact with the resident added just before."""
    if n % 2 == 0 or last_resident is None:
        answer = session.post("/residents/new", {"neighbourhood_id": str(hood_id), "first_name": marker,
                                                 "last_name": f"N{n}"})
        match = re.fullmatch(r"/residents/(\d+)", answer.location.split("?")[0])
        return {"kind": "resident", "n": n, "status": answer.status, "id": int(match.group(1)) if match else None,
                "locked": "locked" in answer.body}
    answer = session.post(f"/interactions/new?resident={last_resident}", {
        "resident_id": str(last_resident), "channel": "street", "note": f"{marker} kontakt {n}"})
    return {"kind": "contact", "n": n, "status": answer.status, "id": last_resident, "note": f"{marker} kontakt {n}",
            "locked": "locked" in answer.body}


def write_loop(base: str, email: str, password: str, hood_id: int, marker: str, count: int) -> None:
    session = HttpSession(base)
    session.login(email, password)
    last = None
    for n in range(count):
        result = write_once(session, hood_id, marker, n, last)
        if result["kind"] == "resident" and result["status"] == 303:
            last = result["id"]
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    base, email, password, hood, marker, count = sys.argv[1:7]
    write_loop(base, email, password, int(hood), marker, int(count))
