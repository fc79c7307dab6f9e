"""Machinery of the fuzz suite (tests/test_fuzz.py): the hostile values, what the pages' forms post,
which form classes each view uses, a record of the tables a request wrote, and checksums of tables.

Nothing here is a mock: requests go through the real app to the real test database; the write record
only listens to the SQL the app sends, to know which tables' checksums to compare after a refusal.
"""
import hashlib
import inspect
import re
from html.parser import HTMLParser

from flask_wtf import FlaskForm
from sqlalchemy import event, select

# --- hostile values -----------------------------------------------------------------------------
# (label shown in failure messages, value sent). Labels are what a fixer types to reproduce.
LONG = 100_000
HOSTILE = [
    (r"'Ala\x00Nul'", "Ala\x00Nul"),
    (r"'\x1b[31m'", "\x1b[31m"),
    (r"'a\x0bb'", "a\x0bb"),
    ("10**20", str(10 ** 20)),
    ("2**63", str(2 ** 63)),
    ("-1", "-1"),
    ("'²'", "²"),
    ("'٣'", "٣"),
    ("'５'", "５"),
    ("'NaN'", "NaN"),
    ("'Infinity'", "Infinity"),
    ("'1e-9999999'", "1e-9999999"),
    ("'0.004'", "0.004"),
    ("'0001-01-01'", "0001-01-01"),
    ("'9999-12-31'", "9999-12-31"),
    ("'0001-01-01T00:30'", "0001-01-01T00:30"),
    (f"'x'*{LONG}", "x" * LONG),
    (f"'7'*{LONG}", "7" * LONG),
    ("''", ""),
    ("'abc'", "abc"),
]
INDEX = {label: i for i, (label, _v) in enumerate(HOSTILE)}

ENGLISH = ["Not a valid", "This field is required", "Invalid Choice", "is not a valid choice", "Bad Request",
           "Method Not Allowed", "Field must be", "Invalid input", "Invalid date", "Number must be",
           "Invalid email", "Internal Server Error", "Not Found", "Forbidden", "Unauthorized",
           "Request Entity Too Large", "Payload Too Large", "Conflict", "Too Many Requests",
           "not a valid float", "not a valid integer", "not a valid decimal", "Invalid field name",
           "The browser (or proxy) sent", "The requested URL", "The method is not allowed"]
POLISH = re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")

# Tables that legitimately record a refusal (or any request): denials in the audit trail, failed
# sign-ins and the public form's throttle, failed look-ups of grant reference numbers (counted so that
# guessing them is throttled), the server-side sessions refreshed by every request.
LOG_TABLES = {"audit_event", "login_attempt", "user_session", "grant_apply_attempt", "grant_reference_attempt"}


# --- the forms the pages post ---------------------------------------------------------------------

class FormParser(HTMLParser):
    """Every <form method=post> (or hx-post) of a page: its action and the (name, value) pairs a
    browser would send unchanged, plus every field name it has (checked or not)."""

    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[dict] = []
        self.form = None
        self.select = None
        self.option = None
        self.textarea = None
        self.radios: dict = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            post = a.get("hx-post") or ((a.get("method") or "get").lower() == "post" and a.get("action", ""))
            if a.get("hx-post") or (a.get("method") or "").lower() == "post":
                self.form = {"action": post or self.page_path, "pairs": [], "names": set(), "buttons": [],
                             "files": set()}
                self.forms.append(self.form)
                self.radios = {}
            else:
                self.form = None
            return
        if tag in ("button", "a", "input") and a.get("hx-post") and self.form is None:
            self.forms.append({"action": a["hx-post"], "pairs": [], "names": set(), "buttons": [], "files": set()})
            return
        if self.form is None:
            return
        name = a.get("name")
        if (tag == "button" and (a.get("type") or "submit").lower() == "submit"
                or tag == "input" and (a.get("type") or "").lower() in ("submit", "image")):
            self.form["buttons"].append((name, a.get("value") or ""))  # name None: a plain submit
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            self.form["names"].add(name)
            if kind in ("submit", "image", "button"):
                pass
            elif kind == "file":
                self.form["files"].add(name)
            elif kind == "checkbox":
                if "checked" in a:
                    self.form["pairs"].append((name, a.get("value") or "on"))
            elif kind == "radio":
                if "checked" in a:
                    self.radios[name] = a.get("value") or "on"
                else:
                    self.radios.setdefault(name, a.get("value") or "on")
            else:
                self.form["pairs"].append((name, a.get("value") or ""))
        elif tag == "button" and name:
            self.form["names"].add(name)
        elif tag == "select" and name:
            self.form["names"].add(name)
            self.select = {"name": name, "multiple": "multiple" in a, "first": None, "selected": []}
        elif tag == "option" and self.select is not None:
            value = a.get("value")
            self.option = [value, ""] if value is None else None
            if value is not None:
                self._option(value, "selected" in a)
            else:
                self.option.append("selected" in a)
        elif tag == "textarea" and name:
            self.form["names"].add(name)
            self.textarea = [name, ""]

    def _option(self, value, selected):
        if self.select["first"] is None:
            self.select["first"] = value
        if selected:
            self.select["selected"].append(value)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data
        if self.option is not None:
            self.option[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self.option is not None and self.select is not None:
            self._option(self.option[1].strip(), self.option[2])
            self.option = None
        elif tag == "select" and self.select is not None and self.form is not None:
            s = self.select
            chosen = s["selected"] or ([] if s["multiple"] or s["first"] is None else [s["first"]])
            self.form["pairs"].extend((s["name"], v) for v in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            self.form["pairs"].append((self.textarea[0], self.textarea[1].removeprefix("\n")))
            self.textarea = None
        elif tag == "form" and self.form is not None:
            self.form["pairs"].extend(self.radios.items())
            self.radios = {}
            self.form = None


def post_forms(html: str, page_path: str) -> list[dict]:
    parser = FormParser(page_path)
    parser.feed(html)
    parser.close()
    return parser.forms


# --- form classes -------------------------------------------------------------------------------

def form_classes() -> dict:
    """Every FlaskForm subclass defined in the app.forms modules, by name."""
    import importlib
    import pkgutil

    import app.forms as forms_pkg

    found = {}
    for info in pkgutil.iter_modules(forms_pkg.__path__):
        module = importlib.import_module(f"app.forms.{info.name}")
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, FlaskForm) and obj is not FlaskForm \
                    and obj.__module__ == module.__name__:
                found[name] = obj
    import app.forms as root
    for name, obj in vars(root).items():
        if inspect.isclass(obj) and issubclass(obj, FlaskForm) and obj is not FlaskForm \
                and obj.__module__ == root.__name__:
            found[name] = obj
    return found


def _field_names(field):
    if hasattr(field, "entries"):  # FieldList
        for entry in field.entries:
            yield from _field_names(entry)
    elif hasattr(field, "form") and hasattr(field.form, "_fields"):  # FormField
        for sub in field.form:
            yield from _field_names(sub)
    else:
        yield field.name


def fields_of(app, cls) -> list[str]:
    """The names a browser would post for a form class (FieldList rows included)."""
    with app.test_request_context("/", method="POST"):
        try:
            form = cls(meta={"csrf": False})
        except TypeError:
            return sorted(name for name, value in vars(cls).items()
                          if type(value).__name__ == "UnboundField")
        return [name for field in form for name in _field_names(field) if name != "csrf_token"]


def view_source(view, depth: int = 2) -> str:
    """A view's source and that of the functions of its module it calls (two levels deep)."""
    view = inspect.unwrap(view)
    module = inspect.getmodule(view)
    seen, sources, todo = set(), [], [(view, 0)]
    while todo:
        func, level = todo.pop()
        if func in seen:
            continue
        seen.add(func)
        try:
            source = inspect.getsource(func)
        except (OSError, TypeError):
            continue
        sources.append(source)
        if level < depth:
            for name in set(re.findall(r"\b(\w+)\(", source)):
                called = getattr(module, name, None)
                if inspect.isfunction(called) and called.__module__ == module.__name__:
                    todo.append((called, level + 1))
    return "\n".join(sources)


def forms_used_by(view, classes: dict) -> list[str]:
    """The form classes a view function (or a helper of its module it calls) names."""
    source = view_source(view)
    return sorted({name for name in re.findall(r"\b([A-Z]\w*Form)\b", source) if name in classes})


def field_kinds(app, cls) -> dict:
    """Field name -> "int", "decimal", "date" or "text", for the hostile values that suit it."""
    kinds = {}
    with app.test_request_context("/", method="POST"):
        try:
            form = cls(meta={"csrf": False})
        except TypeError:
            return kinds
        stack = list(form)
        while stack:
            field = stack.pop()
            if hasattr(field, "entries"):
                stack.extend(field.entries)
            elif hasattr(field, "form") and hasattr(field.form, "_fields"):
                stack.extend(field.form)
            else:
                kinds[field.name] = kind_of(field.name, type(field).__name__, getattr(field, "coerce", None))
    return kinds


def line_fields(app, cls) -> set:
    """The visible single-line text fields of a form: a control character in one is refused with a message
    (app.forms.CONTROL_MESSAGE) that the page must show, in the error box or next to the field."""
    from app.forms import cleaner_for, line_filter

    names = set()
    with app.test_request_context("/", method="POST"):
        try:
            form = cls(meta={"csrf": False})
        except TypeError:
            return names
        for field in form:
            if cleaner_for(type(field)) is line_filter and getattr(field.widget, "input_type", "") != "hidden":
                names.add(field.name)
    return names


def kind_of(name: str, type_name: str = "", coerce=None) -> str:
    if "Decimal" in type_name or "Float" in type_name:
        return "decimal"
    if "Date" in type_name or name in ("from", "to") or name.endswith(("_on", "_at")):
        return "date"
    if "Integer" in type_name or coerce is int or name.endswith(("_id", "_ids", "id")) or name in (
            "version", "page", "position", "neighbourhood", "group", "animator", "user", "centre", "months",
            "no_contact", "object_id"):
        return "int"
    return "text"


# Hostile values by the kind of field they suit (labels of HOSTILE); every field meets two of its kind.
BY_KIND = {
    "int": ["10**20", "2**63", "'²'", "-1", "'٣'", f"'7'*{LONG}", "'５'", "'NaN'"],
    "decimal": ["'NaN'", "'Infinity'", "'1e-9999999'", "'0.004'", "10**20", "'²'"],
    "date": ["'0001-01-01'", "'9999-12-31'", "'0001-01-01T00:30'", "'²'"],
    "text": [r"'Ala\x00Nul'", r"'\x1b[31m'", r"'a\x0bb'", f"'x'*{LONG}"],
}


QUERY_NAME = re.compile(r"""(?:args\.get|args\.getlist|values\.get|int_arg|date_arg)\(\s*["'](\w+)["']""")


def query_names_of(view) -> set:
    source = view_source(view)
    names = set(QUERY_NAME.findall(source))
    if "period_from_args" in source:
        names |= {"from", "to"}
    return names


# --- what the database holds ----------------------------------------------------------------------

WRITE = re.compile(r'^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)"?',
                   re.IGNORECASE)


class WriteRecord:
    """The tables whose writes were committed, heard from the engine's own events."""

    def __init__(self, engine):
        self.pending: dict = {}
        self.committed: set = set()
        event.listen(engine, "before_cursor_execute", self._execute)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _execute(self, conn, cursor, statement, parameters, context, executemany):
        match = WRITE.match(statement)
        if match:
            self.pending.setdefault(id(conn), set()).add(match.group(1))

    def _commit(self, conn):
        self.committed |= self.pending.pop(id(conn), set())

    def _rollback(self, conn):
        self.pending.pop(id(conn), None)

    def take(self) -> set:
        # Writes not yet committed or rolled back (none between requests) count as written too.
        written = self.committed | set().union(*self.pending.values()) if self.pending else set(self.committed)
        self.committed = set()
        return written


def table_state(db, table) -> tuple:
    """(row count, sha256 of every row ordered by primary key)."""
    digest = hashlib.sha256()
    count = 0
    order = list(table.primary_key.columns) or list(table.columns)
    for row in db.session.execute(select(table).order_by(*order)):
        digest.update(repr(tuple(row)).encode())
        count += 1
    db.session.rollback()
    return count, digest.hexdigest()[:16]

