"""The fuzz suite: every rule of `app.url_map`, as every role, with hostile values in every path
parameter, query parameter and form field (issue 14, item 11).

For each rule and method, Hypothesis (seeded, derandomized, no example database: the same requests on
every run) draws cases (role, where, hostile value, shape) on top of explicit ones that make sure
every role meets the rule and every parameter and field meets a hostile value at least once. Where:
the path's parameters; the query parameters the view reads (found in its source); the fields of the
forms posting to the rule (parsed from the pages, as a browser would send them unchanged) and of the
form classes the view names (every FlaskForm subclass of app.forms must be reached). Shapes: the
value in place of a field, the field missing, the field twice, a file instead of text, invalid UTF-8,
Unicode digits or 10**20 as a list-row index, 41 rows of a list, the value in every field at once, an
empty body, JSON, raw bytes, a method the rule does not take; and first of all the page's form sent
unchanged (every edit form must save what it shows). Plain and htmx requests. After the walk, every
page and export is opened again: what hostile text a form accepted must not break them.

Asserted on every answer: (1) no 5xx; (2) a 4xx says so in Polish (no werkzeug/WTForms English, some
Polish text; a 405 names what is allowed); (3) a 4xx leaves the database as it was: row count and
checksum of every table the request wrote (heard from the engine's SQL), log tables apart
(fuzz_harness.LOG_TABLES); `test_write_record_missed_nothing` then checks every table's checksum, so
the record of writes cannot hide a change.

Size (printed at the end of the module): 171 rules x methods, 7 roles (the matrix's six and the regranting
centre's coordinator, the only one who runs calls), 20 hostile values, up to 11 shapes: about 7,600
requests, 70 s on SQLite and 100-140 s on PostgreSQL on two shared cores. Each rule's test lists every
failing answer with method, URL, role, field, value and status (the cases are collected rather than
raised, so that one failure does not hide the others; with fixed values there is nothing to shrink).
The demo data is made once for the module; each role signs in once (again only if its session ends).
FUZZ_REPORT=path writes every failure as a JSON line (for the issue's notes).
"""
import io
import json
import logging
import os
import re
import time
import urllib.parse
import uuid

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app import create_app, demo
from models import Centre, User, db
from models.text import has_control
from tests import fuzz_harness as H
from tests.conftest import BASE_CONFIG, FAST_HASH, PASSWORD, World, _key, reset_data
from tests.test_routes_matrix import GET_MATRIX, POST_MATRIX, ROLES, expected, own_ids

GENERATED = int(os.environ.get("FUZZ_EXAMPLES", "10"))  # drawn cases per rule and method, beyond the explicit
TRACE = bool(os.environ.get("FUZZ_TRACE"))  # print every request and its status (with -s)
DESTRUCTIVE = re.compile(r"delete|erase|remove|leave|logout|revoke|merge|password|withdraw|/done|close|import")
ROW_INDEX = re.compile(r"-(\d+)-")
OTHER_METHODS = ("PUT", "DELETE", "PATCH")
# The matrix's roles, and the regranting centre's coordinator: the only one who runs calls and applications
# (the matrix's coordinator@wilda meets every grant id as a 404); judged by the coordinator's column.
FUZZ_ROLES = [*ROLES, "coordinator@regranting"]


def _allowed(table: dict, role: str) -> bool:
    return expected(table, "coordinator@wilda" if role == "coordinator@regranting" else role) not in (302, 403)


def _reaches(table: dict, role: str, rule: str) -> bool:
    """The role opens the rule's own-scope record (not a 404): the roles the explicit cases go to first."""
    if role == "coordinator@regranting":
        if rule.startswith(("/grants/calls", "/grants/applications")):
            return True
        role = "coordinator@wilda"
    return expected(table, role) not in (302, 403, 404)


def _routes():
    shape = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    routes = [(method, rule.rule) for rule in shape.url_map.iter_rules()
              for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    # Deleting, erasing, signing out last: what they remove would starve the other rules of records.
    return sorted(routes, key=lambda r: (bool(DESTRUCTIVE.search(r[1])), r[1], r[0]))


ROUTES = _routes()


class _Incidents(logging.Handler):
    """The exception behind a 500, as the app's error handler logs it."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.seen = []

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            self.seen.append(record.exc_info)


def _where(exc_info) -> str:
    tb = exc_info[2]
    spot = ""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if "/site-packages/" not in name and "/lib/python" not in name and not name.startswith("<"):
            spot = f"{os.path.relpath(name)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return spot


def _short(text: str, n: int = 90) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= n else text[:n] + f"…({len(text)} chars)"


class Fuzz:
    def __init__(self, app, ids):
        self.app = app
        self.ids = ids
        self.adapter = app.url_map.bind("localhost")
        with app.app_context():
            self.tables = {t.name: t for t in db.metadata.sorted_tables if t.name not in H.LOG_TABLES}
            # A write to a table may change those whose foreign keys cascade from it, with no statement of theirs.
            self.dependents: dict = {}
            for t in db.metadata.sorted_tables:
                for fk in t.foreign_keys:
                    self.dependents.setdefault(fk.column.table.name, set()).add(t.name)
            self.record = H.WriteRecord(db.engine)
        self.state: dict = {}
        self.stale = set(self.tables)
        self.incidents = _Incidents()
        app.logger.addHandler(self.incidents)
        self.clients: dict = {}
        self.failures: list[dict] = []
        self.requests = 0
        self.classes = H.form_classes()
        self.class_fields = {name: H.fields_of(app, cls) for name, cls in self.classes.items()}
        self.class_kinds = {name: H.field_kinds(app, cls) for name, cls in self.classes.items()}
        self.class_lines = {name: H.line_fields(app, cls) for name, cls in self.classes.items()}
        self.posted: dict = {}  # endpoint -> what the pages' forms post there
        self.reached_forms: set = set()
        self.started = (time.monotonic(), time.process_time())

    # --- signing in ---------------------------------------------------------------------------
    def client(self, role):
        if role not in self.clients:
            client = self.app.test_client()
            if role != "anon":
                with self.app.app_context():
                    email = db.session.get(User, self.app.world.users[role]).email
                resp = client.post("/login", data={"email": email, "password": PASSWORD})
                assert resp.status_code == 303, f"{role} could not sign in: {resp.status_code}"
            self.clients[role] = client
        return self.clients[role]

    # --- the database ---------------------------------------------------------------------------
    def _refresh(self):
        if self.stale:
            with self.app.app_context():
                for name in self.stale & set(self.tables):
                    self.state[name] = H.table_state(db, self.tables[name])
                db.session.remove()
            self.stale = set()

    def _reach(self, written) -> set:
        reached, todo = set(written), list(written)
        while todo:
            for other in self.dependents.get(todo.pop(), ()):
                if other not in reached:
                    reached.add(other)
                    todo.append(other)
        return reached

    def _changed(self, written) -> list[str]:
        changed = []
        with self.app.app_context():
            for name in sorted(written & set(self.tables)):
                now = H.table_state(db, self.tables[name])
                if now != self.state[name]:
                    changed.append(f"{name} rows {self.state[name][0]}->{now[0]}"
                                   + ("" if now[0] != self.state[name][0] else " (rows rewritten)"))
            db.session.remove()
        return changed

    # --- one request, judged ----------------------------------------------------------------------
    def send(self, role, method, path, display, probe, *, query="", data=None, content_type=None,
             htmx=False, must_say=None):
        self._refresh()
        self.record.take()
        self.incidents.seen.clear()
        headers = {"HX-Request": "true"} if htmx else {}
        client = self.client(role)
        resp = client.open(path, method=method, query_string=query, data=data, content_type=content_type,
                           headers=headers)
        self.requests += 1
        body = resp.get_data().decode("utf-8", "replace")
        resp.close()  # a streamed download keeps its context until closed
        written = self.record.take()
        status = resp.status_code
        where = f"{method} {display} as {role}{' (htmx)' if htmx else ''}, {probe}"
        if TRACE:
            print(f"{status} {where}")
        found = []
        if status >= 500:
            detail = ""
            if self.incidents.seen:
                info = self.incidents.seen[-1]
                detail = f"{info[0].__name__}: {_short(str(info[1]), 100)} at {_where(info)}"
                kind = info[0].__name__
                orig = getattr(info[1], "orig", None)  # the driver's error behind SQLAlchemy's
                if orig is not None:
                    kind += f" ({_short(str(orig).splitlines()[0], 60)})"
                found.append((f"{status} {kind} at {_where(info)}", f"{status} {detail}"))
            else:
                found.append((f"{status} (no exception logged)", f"{status}"))
        elif 400 <= status < 500:
            if not (status == 401 and resp.headers.get("HX-Redirect")):
                english = [m for m in H.ENGLISH if m in body]
                if english:
                    found.append((f"English message {english[0]!r}", f"{status}, body says {english[0]!r}"))
                elif not H.POLISH.search(body):
                    found.append((f"{status} without Polish text", f"{status}, body {_short(body, 80)!r}"))
            if status == 422 and must_say and must_say not in body:  # a refusal that does not say why
                found.append(("422 without the refused field's message", f"422, no {must_say!r} on the page"))
            if status == 405 and not resp.headers.get("Allow"):
                found.append(("405 without Allow header", "405, no Allow header"))
            changed = self._changed(self._reach(written) - H.LOG_TABLES)
            if changed:
                found.append((f"DB changed on {status}: {', '.join(c.split()[0] for c in changed)}",
                              f"{status}, but {'; '.join(changed)}"))
        self.stale |= self._reach(written)
        if role != "anon" and (status == 401 or (300 <= status < 400 and "/login" in resp.headers.get("Location", ""))):
            self.clients.pop(role, None)  # the session ended (sign-out, password): sign in again next time
        messages = []
        for cls, detail in found:
            message = f"{cls}: {where} -> {detail}"
            self.failures.append({"class": cls, "method": method, "url": display, "role": role, "probe": probe,
                                  "status": status, "message": message})
            messages.append(message)
        return messages

    # --- what the pages post ------------------------------------------------------------------------
    def crawl(self):
        """Open every page as the roles that may see it; keep what each form posts, by endpoint."""
        for method, rule in ROUTES:
            if method != "GET" or rule.startswith("/static"):
                continue
            table = GET_MATRIX.get(rule, {"*": 200})
            for role in FUZZ_ROLES:
                if not _allowed(table, role):
                    continue
                path = _build(rule, self.ids)
                resp = self.client(role).get(path)
                html = resp.get_data(as_text=True) if "html" in resp.content_type else ""
                resp.close()  # a streamed download keeps its context until closed
                if resp.status_code != 200:
                    continue
                for form in H.post_forms(html, path):
                    action = urllib.parse.urlsplit(form["action"]).path or path
                    try:
                        endpoint, _args = self.adapter.match(action, method="POST")
                    except Exception:
                        continue
                    known = self.posted.setdefault(endpoint, {"pairs": None, "names": set(), "files": set(),
                                                              "buttons": []})
                    if known["pairs"] is None:
                        known["pairs"] = list(form["pairs"])
                        known["buttons"] = list(form["buttons"])
                    known["names"] |= form["names"]
                    known["files"] |= form["files"]

    # --- a rule's cases -----------------------------------------------------------------------------------
    def plan(self, method, rule):
        werk = next(r for r in self.app.url_map.iter_rules() if r.rule == rule and method in r.methods)
        view = self.app.view_functions[werk.endpoint]
        table = (GET_MATRIX if method == "GET" else POST_MATRIX).get(rule, {"*": 200})
        allowed = ([r for r in FUZZ_ROLES if _reaches(table, r, rule)]
                   or [r for r in FUZZ_ROLES if _allowed(table, r)] or list(FUZZ_ROLES))
        params = [(name, type(conv).__name__) for name, conv in werk._converters.items()]
        source = H.view_source(view)
        used = H.forms_used_by(view, self.classes)
        queries = H.query_names_of(view) | ({"q"} if method == "GET" else set())
        if "formdata=request.args" in source:  # a form filled from the query string
            queries |= {n for form in used for n in self.class_fields[form]}
        queries = sorted(queries)
        kinds = {name: H.kind_of(name) for name in queries}
        kinds.update({name: ("int" if conv in ("IntegerConverter", "NumberConverter") else "text")
                      for name, conv in params})
        fields, baseline, files, buttons, lines = [], [], set(), [], set()
        if method != "GET":
            posted = self.posted.get(werk.endpoint, {"pairs": None, "names": set(), "files": set(), "buttons": []})
            baseline = list(posted["pairs"] or [])
            buttons = posted["buttons"]
            # The form's last submit button is its main one ("Zapisz"); "add a row" buttons come before it.
            if buttons and buttons[-1][0] and buttons[-1][0] not in {k for k, _v in baseline}:
                baseline.append(buttons[-1])
            files = set(posted["files"])
            names = set(posted["names"]) | files
            for form in used:  # a line field the page really posts (a prefixed one is posted as "new-...")
                lines |= self.class_lines[form] & set(posted["names"])
                self.reached_forms.add(form)
                names |= set(self.class_fields[form])
                for name, kind in self.class_kinds[form].items():
                    kinds.setdefault(name, kind)
            if werk.endpoint == "auth.language":
                baseline = [(k, v) for k, v in baseline if k != "lang"] + [("lang", "pl")]
            fields = sorted(names - {"csrf_token"})
            for name in fields:
                kinds.setdefault(name, H.kind_of(name))
        probes = [("path", name, "replace") for name, _c in params]
        probes += [("path", name, "utf8") for name, _c in params[:1]]
        probes += [("query", name, shape) for name in queries for shape in ("replace", "repeat", "utf8")]
        for name in fields:
            shapes = ["replace", "missing", "repeat", "file", "utf8"]
            if ROW_INDEX.search(name):
                shapes += ["index", "rows", "rows+add"]
            probes += [("field", name, shape) for shape in shapes]
        if method != "GET":
            probes += [("body", "*", shape) for shape in ("unchanged", "all", "empty", "json", "raw", "method")]
        else:
            probes += [("body", "*", "method")]
        return {"werk": werk, "allowed": allowed, "probes": probes, "baseline": baseline, "files": files,
                "fields": fields, "params": params, "queries": queries, "kinds": kinds, "lines": lines}

    def run(self, method, rule, plan, role, probe, value_index, htmx):
        kind, name, shape = probe
        label, raw = H.HOSTILE[value_index]
        ids, shown = dict(self.ids), dict(self.ids)
        query, data, content_type = "", None, None
        send_method = method
        described = f"{kind} {name}={label} ({shape})"
        if kind == "path":
            if shape == "utf8":
                ids[name], shown[name], described = "%FF%FE", "%FF%FE", f"path {name}=%FF%FE (invalid UTF-8)"
            else:
                ids[name] = urllib.parse.quote(raw, safe="/" if "Path" in dict(plan["params"])[name] else "")
                shown[name] = "{" + label + "}"
        elif kind == "query":
            if shape == "replace":
                query = urllib.parse.urlencode([(name, raw)])
            elif shape == "repeat":
                query = urllib.parse.urlencode([(name, "1"), (name, raw)])
                described = f"query {name}=1&{name}={label} (repeated)"
            else:
                query, described = f"{name}=%FF%FE", f"query {name}=%FF%FE (invalid UTF-8)"
        # A fresh one-time key for every request, as a page gives each form: the page's own key would make
        # every send after the first success a replay of it (answered from the stored row, the view unrun).
        pairs = [(k, uuid.uuid4().hex if k == "submission_key" else v) for k, v in plan["baseline"]]
        if method != "GET" and kind != "body":
            if kind == "field":
                others = [(k, v) for k, v in pairs if k != name]
                if shape == "replace":
                    pairs = others + [(name, raw)]
                elif shape == "missing":
                    pairs, described = others, f"field {name} missing"
                elif shape == "repeat":
                    first = next((v for k, v in pairs if k == name), raw)
                    pairs, described = others + [(name, first), (name, raw)], f"field {name} twice: …, {label}"
                elif shape == "index":
                    index = raw if len(raw) < 30 else "99999"
                    renamed = ROW_INDEX.sub(f"-{index}-", name, count=1)
                    pairs, described = pairs + [(renamed, "1")], f"field {renamed}=1 (row index {label})"
                elif shape in ("rows", "rows+add"):
                    row = ROW_INDEX.sub("-{}-", name, count=1)
                    pairs = pairs + [(row.format(i), "1") for i in range(41)]
                    described = f"fields {row.format('0..40')}=1 (41 rows)"
                    if shape == "rows+add":  # and the form's "add a row" buttons pressed
                        adds = [f for f in plan["fields"] if f.startswith("add")]
                        pairs += [(f, "1") for f in adds]
                        described += f" and {', '.join(adds) or 'no add button'}"
            if kind == "field" and shape == "file":
                multi = MultiDict([(k, v) for k, v in pairs if k != name])
                multi.add(name, (io.BytesIO(raw.encode("utf-8", "surrogatepass")), "plik.txt"))
                data, content_type = multi, "multipart/form-data"
                described = f"field {name} sent as a file holding {label}"
            elif kind == "field" and shape == "utf8":
                body = urllib.parse.urlencode([(k, v) for k, v in pairs if k != name])
                data = (body + ("&" if body else "")).encode() + name.encode() + b"=%FF%FE\xff\xc0\x80"
                content_type = "application/x-www-form-urlencoded"
                described = f"field {name}=%FF%FE\\xff\\xc0\\x80 (invalid UTF-8)"
            else:
                data = urllib.parse.urlencode(pairs).encode()
                content_type = "application/x-www-form-urlencoded"
        elif method != "GET":  # the whole body
            if shape == "unchanged":  # what the page's form sends as it is: every edit form must save it
                data = urllib.parse.urlencode(pairs).encode()
                content_type = "application/x-www-form-urlencoded"
                described = "the page's form sent unchanged"
            elif shape == "all":
                names = plan["fields"] or ["x"]
                data = urllib.parse.urlencode([(k, raw) for k in names]).encode()
                content_type = "application/x-www-form-urlencoded"
                described = f"every field={label}"
            elif shape == "empty":
                described = "empty body"
            elif shape == "json":
                data = json.dumps({k: raw for k in plan["fields"] or ["x"]})
                content_type = "application/json"
                described = f"JSON body, every field={label}"
            elif shape == "raw":
                data = b"\xff\xfe\x00\x1b=%%%&&==" + raw.encode("utf-8")[:1000]
                content_type = "application/x-www-form-urlencoded"
                described = "raw body of invalid UTF-8 bytes and stray % and ="
        if kind == "body" and shape == "method":
            send_method = OTHER_METHODS[value_index % len(OTHER_METHODS)]
            described = f"method {send_method}"
            data, content_type = None, None
        path = _build(plan["werk"].rule, ids)
        display = _build(plan["werk"].rule, shown) + (f"?{_short(query, 60)}" if query else "")
        refused_line = kind == "field" and shape == "replace" and name in plan["lines"] and has_control(raw)
        return self.send(role, send_method, path, display, described, query=query, data=data,
                         content_type=content_type, htmx=htmx,
                         must_say="niedozwolony znak sterujący" if refused_line else None)

    def fuzz(self, method, rule) -> list[str]:
        plan = self.plan(method, rule)
        found: list[str] = []
        probes, allowed = plan["probes"], plan["allowed"]

        @settings(derandomize=True, database=None, deadline=None, max_examples=GENERATED,
                  phases=(Phase.explicit, Phase.generate), print_blob=False,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.tuples(st.sampled_from(allowed + list(FUZZ_ROLES)), st.sampled_from(probes),
                              st.integers(0, len(H.HOSTILE) - 1), st.booleans()))
        def walk(case):
            for message in self.run(method, rule, plan, *case):
                if message not in found:
                    found.append(message)

        # Explicit cases first: every role meets the rule, every parameter and field hostile values, as
        # many of its own kind as there are few (decimals, dates) or a rotating share (integers, text).
        cases = []
        if ("body", "*", "unchanged") in probes:
            cases += [(role, ("body", "*", "unchanged"), 0, False) for role in allowed]
        first = probes[0]
        for i, role in enumerate(FUZZ_ROLES):
            cases.append((role, first, (3 + i) % len(H.HOSTILE), False))
        replace = [p for p in probes if p[2] in ("replace", "unchanged", "all", "empty", "json", "raw", "method", "index")]
        for i, probe in enumerate(replace):
            role = allowed[i % len(allowed)]
            cases.append((role, probe, (i * 7) % len(H.HOSTILE), i % 3 == 0))
            if probe[2] == "replace":
                kind = plan["kinds"].get(probe[1], "text")
                suited = H.BY_KIND[kind]
                share = {"decimal": len(suited), "date": len(suited), "int": 3, "text": 2}[kind]
                for j in range(share):
                    cases.append((role, probe, H.INDEX[suited[(i + j * len(suited) // share) % len(suited)]], False))
        lists = {}  # one list field per FieldList (criteria, members, lines, ...): 41 rows, with and without "add"
        for probe in probes:
            if probe[2] in ("rows", "rows+add"):
                lists.setdefault((probe[1].split("-")[0], probe[2]), probe)
        cases += [(allowed[0], probe, 0, False) for probe in lists.values()]
        for case in reversed(list(dict.fromkeys(cases))):  # Hypothesis runs the last decorated first
            walk = example(case=case)(walk)
        walk()
        return found


def _build(rule: str, ids: dict) -> str:
    return re.sub(r"<(?:[\w()]+:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), rule)


@pytest.fixture(scope="module")
def fz(migrated, request):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": migrated})
    with app.app_context():
        reset_data()
        logins = demo.generate(scale="small", seed=2026, password_method=FAST_HASH)
        users = {u.email: u.id for u in db.session.scalars(select(User))}
        app.world = World(
            users={_key(login): users[login.email] for login in logins},
            centres={c.slug.removeprefix("cil-"): c.id for c in db.session.scalars(select(Centre))},
        )
        # A spare account of CIL Wilda for the user rules, so that no fuzzed edit locks out a role's own account,
        # and another centre than the roles' own for the centre rules.
        spare = User(email="proba.wilda@animo.example", name="Konto do prób", role="animator",
                     centre_id=app.world.centres["wilda"], password_hash="x")
        spare.set_password(PASSWORD, method=FAST_HASH)
        db.session.add(spare)
        db.session.commit()
        ids = {**own_ids(app.world), "user_id": spare.id, "centre_id": app.world.centres["rataje"]}
        db.session.remove()
    fuzz = Fuzz(app, ids)
    fuzz.crawl()
    yield fuzz
    took = time.monotonic() - fuzz.started[0]
    cpu = time.process_time() - fuzz.started[1]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter and capture:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nfuzz: {len(ROUTES)} rules x methods, {len(FUZZ_ROLES)} roles, {len(H.HOSTILE)} hostile values; "
                f"{fuzz.requests} requests in {took:.0f} s ({cpu:.0f} s of CPU); {len(fuzz.failures)} failing answers")
    if os.environ.get("FUZZ_REPORT"):
        with open(os.environ["FUZZ_REPORT"], "w") as out:
            for failure in fuzz.failures:
                out.write(json.dumps(failure, ensure_ascii=False) + "\n")
    app.logger.removeHandler(fuzz.incidents)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("method,rule", ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_hostile_input(fz, method, rule):
    found = fz.fuzz(method, rule)
    assert not found, f"{len(found)} failing answer(s):\n" + "\n".join(found)


def test_every_form_class_is_fuzzed(fz):
    """Each FlaskForm subclass of app.forms is named by a fuzzed view (or is the base of one that is)."""
    for method, rule in ROUTES:
        if method != "GET":
            fz.plan(method, rule)
    reached = set(fz.reached_forms)
    for name, cls in fz.classes.items():
        if any(issubclass(fz.classes[r], cls) for r in reached):
            reached.add(name)
    missing = sorted(set(fz.classes) - reached)
    assert not missing, f"form classes no fuzzed view uses: {missing}"


def test_pages_survive_what_was_stored(fz):
    """Whatever hostile text the walk got stored (where a form accepted it) must not break a page or a
    download afterwards: every page and export, as every role that may open it."""
    found = []
    for method, rule in ROUTES:
        if method != "GET" or rule.startswith("/static"):
            continue
        table = GET_MATRIX.get(rule, {"*": 200})
        for role in FUZZ_ROLES:
            if _allowed(table, role):
                path = _build(rule, fz.ids)
                found += fz.send(role, "GET", path, path, "after the walk, with what it stored")
    assert not found, f"{len(found)} failing answer(s):\n" + "\n".join(found)


def test_refusal_check_sees_a_write(fz):
    """The harness itself: a committed write is heard and its table's checksum differs."""
    from sqlalchemy import update

    from models import Resident

    fz._refresh()
    fz.record.take()
    with fz.app.app_context():
        resident_id = db.session.scalar(select(Resident.id).order_by(Resident.id).limit(1))
        before = db.session.get(Resident, resident_id).notes
        db.session.execute(update(Resident).where(Resident.id == resident_id).values(notes="zmiana kontrolna"))
        db.session.commit()
    written = fz.record.take()
    try:
        assert "resident" in written
        assert [c for c in fz._changed(written) if c.startswith("resident ")]
    finally:
        with fz.app.app_context():
            db.session.execute(update(Resident).where(Resident.id == resident_id).values(notes=before))
            db.session.commit()
        fz.stale |= {"resident"}
        fz.record.take()


def test_write_record_missed_nothing(fz):
    """The per-request check hashes only the tables the engine saw written: every table's checksum now
    must equal what that record predicts, or a write escaped it."""
    before = dict(fz.state)
    stale = set(fz.stale)
    with fz.app.app_context():
        now = {name: H.table_state(db, table) for name, table in fz.tables.items()}
        db.session.remove()
    missed = [name for name in fz.tables if name not in stale and name in before and before[name] != now[name]]
    assert not missed, f"tables changed without a write the record heard: {missed}"
