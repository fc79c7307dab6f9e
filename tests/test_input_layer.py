"""The input layer (issue 14, items 1-3 and the smaller ones): every form, every URL id, every query
parameter and every export, walked whole rather than field by field.

- every form class derives from app.forms.Form / SubForm, so its text is NFC-normalised and cleaned,
  its numbers, ids and dates go through app/forms/fields.py, and WTForms speaks Polish;
- hostile values (control characters, 10**20, '²', NaN, Infinity, 1e-9999999, 0.004, 0001-01-01,
  9999-12-31, 100,000 characters) posted into every field of every form give Polish errors, never
  an exception;
- every <int:...> rule answers 404 to an id no column can hold; query parameters answer 400;
- every edit page posted back unchanged saves;
- every export opens with openpyxl although the data holds control characters.
"""
import importlib
import io
import pkgutil
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import wtforms
from flask_wtf import FlaskForm
from sqlalchemy import select, text, update
from werkzeug.datastructures import MultiDict
from wtforms.fields import FieldList, FormField, SelectFieldBase
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, NumberRange

import app.forms as forms_pkg
from app.forms import WTFORMS_PL, Form, SubForm, cleaner_for, line_filter
from app.forms import fields as F
from tests.conftest import TEST_DB
from tests.test_routes_matrix import _client_for, build, ids_for, own_ids

HUGE = "99999999999999999999"  # 10**20 - 1 (> 2**63)


# --- the form classes -----------------------------------------------------------------------------

def form_classes() -> list[type]:
    found = {}
    for info in pkgutil.iter_modules(forms_pkg.__path__):
        module = importlib.import_module(f"app.forms.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, wtforms.Form) and obj.__module__ == module.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


FORMS = form_classes()
TOP_FORMS = [c for c in FORMS if issubclass(c, FlaskForm)]


def unbound_fields(cls, prefix=""):
    """(name, UnboundField) of a form class, FieldList entries and FormField subforms included."""
    for name in dir(cls):
        value = getattr(cls, name, None)
        if isinstance(value, UnboundField):
            yield from _expand(prefix + name, value)


def _expand(name, unbound):
    yield name, unbound
    if issubclass(unbound.field_class, FieldList):
        yield from _expand(name + "-0", unbound.args[0])
    if issubclass(unbound.field_class, FormField):
        yield from unbound_fields(unbound.args[0], name + "-")


def test_the_walk_finds_the_forms():
    names = {c.__name__ for c in FORMS}
    assert {"ResidentForm", "CallForm", "CriterionForm", "MeetingForm", "PartnerForm", "UserForm",
            "ProcessingActivityForm", "CommitmentStatusForm"} <= names
    assert len(FORMS) > 40


@pytest.mark.parametrize("cls", FORMS, ids=lambda c: c.__name__)
def test_every_form_derives_from_the_base(cls):
    base = Form if issubclass(cls, FlaskForm) else SubForm
    assert issubclass(cls, base), f"{cls.__name__} must derive from app.forms.{base.__name__}"


@pytest.mark.parametrize("cls", FORMS, ids=lambda c: c.__name__)
def test_every_number_id_and_date_is_a_shared_field(cls):
    """No WTForms number, date or id field of its own: the shared ones (app/forms/fields.py) only."""
    refused = (wtforms.IntegerField, wtforms.DecimalField, wtforms.FloatField, wtforms.DateField,
               wtforms.DateTimeField, wtforms.DateTimeLocalField)
    ours = (F.IntField, F.DecimalField, F.DateField, F.DateTimeLocalField)
    for name, unbound in unbound_fields(cls):
        fc = unbound.field_class
        where = f"{cls.__name__}.{name}"
        if issubclass(fc, refused):
            assert issubclass(fc, ours), f"{where}: {fc.__name__} is not a shared field"
        if issubclass(fc, FieldList):
            assert issubclass(fc, F.RowList), f"{where}: a FieldList must be a RowList (limits explained)"
        if name.split("-")[-1] == "version":
            assert issubclass(fc, F.VersionField), f"{where}: a version must be a VersionField"
        if issubclass(fc, SelectFieldBase):
            assert unbound.kwargs.get("coerce") is not int, f"{where}: coerce=int takes '٣' and 10**20"
        if issubclass(fc, wtforms.HiddenField) and name.endswith("_id"):
            assert issubclass(fc, F.IdField), f"{where}: a hidden id must be an IdField"


# Text fields stored in a column: form class -> model. A field of the same name must not accept
# more than the column holds. Fields normalised before they are stored (a phone as E.164, a KRS as
# its digits) may be typed longer.
NORMALISED = {"phone", "contact_phone", "krs", "tags", "interests", "offers"}


def _column_lengths():
    from models import (Centre, Finding, GrantApplication, GrantBudgetLine, GrantCall, GrantCriterion, GrantMember,
                        Group, Interaction, Meeting, Partner, PartnerContact, ProcessingActivity, Resident, User)
    from models.diagnosis import Cooperation
    from models.grants import Attachment, SettlementDocument
    from models.group import Goal
    from models.meeting import Commitment

    return {
        "ResidentForm": Resident, "QuickResidentForm": Resident, "InteractionForm": Interaction,
        "UserForm": User, "NewUserForm": User, "CentreForm": Centre, "FindingForm": Finding,
        "NewFindingForm": Finding, "PartnerForm": Partner, "ContactForm": PartnerContact,
        "CooperationForm": Cooperation, "GroupForm": Group, "NewGroupForm": Group, "GoalForm": Goal,
        "MeetingForm": Meeting, "MeetingCommitmentForm": Commitment, "CommitmentForm": Commitment,
        "CommitmentEditForm": Commitment, "CallForm": GrantCall, "CriterionForm": GrantCriterion,
        "ApplicationForm": GrantApplication, "PublicApplicationForm": GrantApplication,
        "EditApplicationForm": GrantApplication, "MemberForm": GrantMember, "BudgetLineForm": GrantBudgetLine,
        "AgreementForm": None, "DocumentForm": SettlementDocument, "AttachmentForm": Attachment,
        "ProcessingActivityForm": ProcessingActivity,
    }


def _length_of(unbound):
    maxes = [v.max for v in unbound.kwargs.get("validators") or () if isinstance(v, Length) and v.max >= 0]
    return min(maxes) if maxes else None


@pytest.mark.parametrize("cls", FORMS, ids=lambda c: c.__name__)
def test_every_text_field_has_a_length_within_its_column(cls):
    models = _column_lengths()
    model = models.get(cls.__name__)
    for name, unbound in unbound_fields(cls):
        fc = unbound.field_class
        if cleaner_for(fc) is None or issubclass(fc, (F.IdField, F.VersionField)):
            continue
        short = name.split("-")[-1]
        validators = unbound.kwargs.get("validators") or ()
        fixed = any(type(v).__name__ in ("AnyOf", "Regexp") for v in validators)
        limit = _length_of(unbound)
        assert limit is not None or fixed, f"{cls.__name__}.{name}: a text field needs Length(max=...)"
        column = model.__table__.columns.get(short) if model is not None else None
        if column is not None and getattr(column.type, "length", None) and short not in NORMALISED:
            assert limit <= column.type.length, \
                f"{cls.__name__}.{name}: Length(max={limit}) but the column holds {column.type.length}"


@pytest.mark.parametrize("cls", FORMS, ids=lambda c: c.__name__)
def test_every_validator_message_formats(cls):
    """A message WTForms formats with % (NumberRange, Length) holds no bare % ("Od 0 do 100%.")."""
    for name, unbound in unbound_fields(cls):
        for v in unbound.kwargs.get("validators") or ():
            if isinstance(v, (NumberRange, Length)) and v.message is not None:
                str(v.message) % {"min": 1, "max": 2, "length": 3}


def test_wtforms_messages_are_all_translated():
    """Every message WTForms' own code can give (its gettext calls) has a Polish text here."""
    import wtforms as package

    root = package.__path__[0]
    found = set()
    for path in __import__("pathlib").Path(root).rglob("*.py"):
        source = path.read_text()
        found |= set(re.findall(r'gettext\(\s*"([^"]+)"', source))
        for single, plural in re.findall(r'ngettext\(\s*"([^"]+)",\s*"([^"]+)"', source):
            found |= {single, plural}
    missing = sorted(m for m in found if m not in WTFORMS_PL)
    assert len(found) > 30 and not missing, missing


# --- hostile values in every field of every form -------------------------------------------------------

ENGLISH = re.compile(r"Not a valid|This field|Field must|Field cannot|Invalid (choice|Choice|value|input|email|date)"
                     r"|is not a valid choice|are not valid choices|Number must|Date must|could not coerce"
                     r"|[Ii]nvalid")

HOSTILE = {
    "control": "Ala\x00Nul\x1b",
    "newline": "dwie\nlinie",
    "huge_id": HUGE,
    "big_id": str(2**31),  # past PostgreSQL's INTEGER
    "superscript": "²",
    "arabic_digit": "٣",
    "nan": "NaN",
    "infinity": "Infinity",
    "snan": "sNaN",
    "tiny": "1e-9999999",
    "too_precise": "0.004",
    "early": "0001-01-01",
    "early_local": "0001-01-01T00:30",
    "late": "9999-12-31",
    "long": "x" * 100_000,
}


def _field_names(form):
    for field in form:
        if isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    for sub in entry:
                        yield sub.name, sub
                else:
                    yield entry.name, entry
        elif isinstance(field, FormField):
            for sub in field:
                yield sub.name, sub
        else:
            yield field.name, field


def _prepare(form):
    """What a view does before validating: selects get (empty) choices, binds get their context."""
    for _name, field in _field_names(form):
        if isinstance(field, SelectFieldBase) and getattr(field, "choices", None) is None:
            field.choices = []


def _all_messages(form) -> list[str]:
    out = [str(m) for m in form.form_errors]
    for _name, field in _field_names(form):
        out += [str(m) for m in field.errors if not isinstance(m, (list, dict))]
    for attr in ("criteria_errors", "members_errors", "budget_errors"):
        out += [str(m) for m in getattr(form, attr, []) or []]
    return out


def _kind(field):
    if isinstance(field, F.IdField):
        return "id"
    if isinstance(field, F.VersionField):
        return "version"
    if isinstance(field, (F.IntField, F.DecimalField)):
        return "number"
    if isinstance(field, F.DateTimeLocalField):
        return "datetime"
    if isinstance(field, F.DateField):
        return "date"
    if isinstance(field, SelectFieldBase) and field.coerce in (F.coerce_id, F.coerce_id_or_none):
        return "select_id"
    cleaner = cleaner_for(type(field))
    if cleaner is line_filter:
        return "line"
    if cleaner is not None:
        return "text"
    return None


# which hostile values each kind of field must refuse with an error of its own
MUST_REFUSE = {
    "line": {"control", "newline", "long"},
    "text": {"long"},
    "id": {"huge_id", "big_id", "superscript", "arabic_digit", "nan", "control"},
    "version": {"huge_id", "superscript", "arabic_digit", "nan"},
    "number": {"huge_id", "big_id", "superscript", "arabic_digit", "nan", "infinity", "snan", "tiny", "control"},
    "date": {"superscript", "early", "late", "nan", "huge_id"},
    "datetime": {"superscript", "early_local", "late", "nan"},
    "select_id": {"huge_id", "big_id", "superscript", "arabic_digit", "nan"},
}
DECIMAL_REFUSE = {"too_precise"}  # every DecimalField keeps at most two places


def _validate(form):
    """The form's own validate, or (for forms that need a view's context) WTForms' base one."""
    try:
        return form.validate()
    except (AttributeError, TypeError):
        return wtforms.Form.validate(form)


@pytest.mark.parametrize("cls", TOP_FORMS, ids=lambda c: c.__name__)
def test_hostile_values_in_every_field_are_refused_in_polish(app, cls):
    with app.test_request_context(method="POST", data={}):
        names = [name for name, _f in _field_names(cls())]
    for label, value in HOSTILE.items():
        data = MultiDict({name: value for name in names})
        with app.test_request_context(method="POST", data=data):
            form = cls()
            _prepare(form)
            _validate(form)
            messages = _all_messages(form)
            english = [m for m in messages if ENGLISH.search(m)]
            assert not english, (cls.__name__, label, english)
            for name, field in _field_names(form):
                kind = _kind(field)
                refuse = MUST_REFUSE.get(kind, set()) | (DECIMAL_REFUSE if isinstance(field, F.DecimalField)
                                                         else set())
                if label in refuse and not getattr(field, "keep_raw", False):
                    field_messages = [str(m) for m in field.errors] + [str(m) for m in form.form_errors]
                    assert field_messages, (cls.__name__, name, label, field.data)
                if kind == "text" and isinstance(field.data, str):
                    assert "\x00" not in field.data and "\x1b" not in field.data, (cls.__name__, name)
                if kind == "line" and label == "control":
                    assert str(forms_pkg.CONTROL_MESSAGE) in [str(m) for m in field.errors], (cls.__name__, name)


@pytest.mark.parametrize("cls", TOP_FORMS, ids=lambda c: c.__name__)
def test_empty_posts_are_refused_in_polish(app, cls):
    with app.test_request_context(method="POST", data={"csrf_token": "x"}):
        form = cls()
        _prepare(form)
        _validate(form)
        english = [m for m in _all_messages(form) if ENGLISH.search(m)]
        assert not english, (cls.__name__, english)


def test_text_is_nfc_normalised_and_passwords_untouched(app):
    from app.forms.auth import LoginForm
    from app.forms.residents import ResidentForm

    decomposed = "Zo\u0301sia"  # o + combining acute
    with app.test_request_context(method="POST", data={"first_name": f"  {decomposed}  ", "notes": "a\x00b\r\nc",
                                                      "email": "x@example.org", "password": "  hasło\u0301 "}):
        form = ResidentForm()
        assert form.first_name.data == "Zósia" and len(form.first_name.data) == 5
        assert form.notes.data == "ab\nc"
        login = LoginForm()
        assert login.password.data == "  hasło\u0301 "


def test_shared_fields_parse_what_people_type(app):
    from app.forms.fields import DecimalField, plain_decimal

    class Sample(Form):
        amount = DecimalField()
        percent = DecimalField(digits=3)
        when = F.DateField()
        at = F.DateTimeLocalField()
        count = F.IntField(maximum=100)

    with app.test_request_context(method="POST", data={"amount": "1 200,50 zł", "percent": "10", "when": "3.2.2026",
                                                      "at": "2026-02-03T18:30", "count": "1 0"}):
        form = Sample()
        assert form.amount.data == Decimal("1200.50") and form.percent.data == Decimal("10")
        assert form.when.data == date(2026, 2, 3) and form.at.data.hour == 18 and form.count.data == 10
    assert plain_decimal(Decimal("1E+1")) == "10" and plain_decimal(Decimal("10.50")) == "10,50"
    with app.test_request_context(method="POST", data={"percent": "1000", "count": "101"}):
        form = Sample()
        assert not form.validate()
        assert form.percent.errors and form.count.errors


# --- ids in URLs, query parameters ------------------------------------------------------------------

def _int_rules(app):
    rules = {}
    for r in app.url_map.iter_rules():
        if "<int:" in r.rule:
            rules.setdefault(r.rule, set()).update(r.methods)
    return sorted(rules.items())


@pytest.mark.parametrize("role", ["animator@wilda", "coordinator@wilda"])
def test_every_int_rule_answers_404_to_an_impossible_id(app, role):
    client = _client_for(app, role)
    ids = ids_for(app, own_ids)
    failures = []
    for rule, methods in _int_rules(app):
        for bad in (HUGE, str(2**31), "²", "٣", "0" * 40 + "1"):
            path = build(re.sub(r"<int:(\w+)>", bad, rule), ids)
            for method in ("GET", "POST"):
                status = client.open(path, method=method).status_code
                # a method the rule does not take may say so (405) once the digits fit the pattern
                if status != 404 and not (status == 405 and method not in methods):
                    failures.append(f"{method} {path}: {status}")
    assert not failures, failures
    assert len(_int_rules(app)) > 60


def test_int_converter_keeps_the_ids_it_should(app, auth):
    auth.login("coordinator@wilda")
    client = auth._client
    ids = ids_for(app, own_ids)
    assert client.get(f"/residents/{ids['resident_id']}").status_code == 200
    assert client.get(f"/residents/{2**31 - 1}").status_code == 404  # the largest id an INTEGER column holds
    assert client.get(f"/residents/{2**31}").status_code == 404
    assert client.get(f"/residents/{2**63}").status_code == 404


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=2026-13-01", "from=²⁰²⁶-01-01",
                                   "page=²", "page=99999999999999999999", "page=٣"])
def test_audit_query_parameters_answer_400_in_polish(app, auth, query):
    auth.login("admin")
    r = auth._client.get(f"/admin/audit?{query}")
    assert r.status_code == 400, (query, r.status_code)
    assert "Parametr" in r.get_data(as_text=True)


def test_query_ids_and_numbers_are_ascii(app, auth):
    auth.login("coordinator@wilda")
    client = auth._client
    for path in ("/commitments/new?resident=²", f"/commitments/new?resident={HUGE}", "/residents?page=²",
                 "/partners?neighbourhood=²", f"/partners?neighbourhood={HUGE}", "/interactions/new?resident=²",
                 f"/interactions/new?resident={HUGE}", f"/diagnosis/findings/new?interaction={HUGE}",
                 "/diagnosis/findings/new?meeting=²"):
        assert client.get(path).status_code < 500, path


# --- posts that used to answer 500 --------------------------------------------------------------------

def _meeting_and_commitment(app):
    from models import Commitment, Meeting, db

    with app.app_context():
        centre = app.world.centres["wilda"]
        meeting = db.session.scalar(select(Meeting.id).where(Meeting.centre_id == centre).order_by(Meeting.id))
        commitment = db.session.scalar(select(Commitment.id).where(Commitment.centre_id == centre)
                                       .order_by(Commitment.id))
    return meeting, commitment


@pytest.mark.parametrize("hours", ["NaN", "Infinity", "-Infinity", "sNaN", "1e-9999999", "0.004", "1e3", "٣",
                                   "²", HUGE])
def test_commitment_hours_are_refused_in_polish(app, auth, hours):
    from models import Commitment, db

    auth.login("coordinator@wilda")
    _meeting, commitment = _meeting_and_commitment(app)
    with app.app_context():
        before = (db.session.get(Commitment, commitment).status, db.session.get(Commitment, commitment).hours)
    r = auth._client.post(f"/commitments/{commitment}/status", data={"status": "done", "hours": hours})
    assert r.status_code == 422, (hours, r.status_code)
    body = r.get_data(as_text=True)
    assert "Podaj liczbę" in body or "Liczba godzin" in body
    with app.app_context():
        after = db.session.get(Commitment, commitment)
        assert (after.status, after.hours) == before


@pytest.mark.parametrize("field, value", [("resident_id", HUGE), ("resident_id", "²"), ("resident_id", "٣")])
def test_meeting_commitment_ids_are_refused(app, auth, field, value):
    auth.login("coordinator@wilda")
    meeting, _c = _meeting_and_commitment(app)
    r = auth._client.post(f"/meetings/{meeting}/commitments", data={field: value, "what": "Przyniesie sadzonki"})
    assert r.status_code in (404, 422), r.status_code


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:30", "9999-12-31T23:59", "²⁰²⁶-01-01T10:00", "2026-02-30T10:00"])
def test_meeting_dates_outside_the_years_are_refused(app, auth, starts_at):
    auth.login("coordinator@wilda")
    meeting, _c = _meeting_and_commitment(app)
    page = auth._client.get(f"/meetings/{meeting}/edit").get_data(as_text=True)
    data = form_values(page, f"/meetings/{meeting}/edit")
    data["starts_at"] = starts_at
    r = auth._client.post(f"/meetings/{meeting}/edit", data=data)
    assert r.status_code == 422, (starts_at, r.status_code)
    assert "Podaj datę" in r.get_data(as_text=True)


def test_contact_dates_outside_the_years_are_refused(app, auth):
    auth.login("animator@wilda")
    ids = ids_for(app, own_ids)
    r = auth._client.post(f"/interactions/new?resident={ids['resident_id']}", data={
        "resident_id": ids["resident_id"], "channel": "one_to_one", "occurred_at": "0001-01-01T00:30",
        "note": "Rozmowa"})
    assert r.status_code == 422
    assert "Podaj datę z lat 1900–2100." in r.get_data(as_text=True)


def test_merge_with_an_impossible_id_is_no_500(app, auth):
    auth.login("coordinator@wilda")
    ids = ids_for(app, own_ids)
    for other in (HUGE, "²", "٣"):
        r = auth._client.post(f"/residents/{ids['resident_id']}/merge", data={"other_id": other})
        assert r.status_code < 500, (other, r.status_code)


# --- the grant call: round trip, percentages, limits ----------------------------------------------------

def _call_id(app):
    from models import GrantCall, db

    with app.app_context():
        return db.session.scalar(select(GrantCall.id).where(GrantCall.status == "open").order_by(GrantCall.id))


def test_call_form_shows_the_percentage_plainly_and_saves_unchanged(app, auth):
    auth.login("coordinator@regranting")
    call = _call_id(app)
    page = auth._client.get(f"/grants/calls/{call}/edit").get_data(as_text=True)
    assert "E+" not in page
    data = form_values(page, f"/grants/calls/{call}/edit")
    assert data["min_own_percent"] in ("10", "10,00", "10,5", "5", "0") or "," in data["min_own_percent"] or \
        data["min_own_percent"].isdigit()
    r = auth._client.post(f"/grants/calls/{call}/edit", data=data)
    assert r.status_code == 303, r.get_data(as_text=True)[:3000]


@pytest.mark.parametrize("value", ["150", "-5", "abc", "NaN", "1e2", "10,555"])
def test_call_percentage_out_of_range_is_a_polish_422(app, auth, value):
    auth.login("coordinator@regranting")
    call = _call_id(app)
    data = form_values(auth._client.get(f"/grants/calls/{call}/edit").get_data(as_text=True),
                       f"/grants/calls/{call}/edit")
    data["min_own_percent"] = value
    r = auth._client.post(f"/grants/calls/{call}/edit", data=data)
    assert r.status_code == 422, (value, r.status_code)
    body = r.get_data(as_text=True)
    assert "Od 0 do 100%." in body or "Podaj liczbę" in body


def test_call_criteria_limits_are_explained(app, auth):
    auth.login("coordinator@regranting")
    call = _call_id(app)
    url = f"/grants/calls/{call}/edit"
    data = form_values(auth._client.get(url).get_data(as_text=True), url)
    data = {k: v for k, v in data.items() if not k.startswith("criteria-")}
    fifteen = {**data, **{f"criteria-{i}-{k}": v for i in range(15) for k, v in
                          (("name", f"Kryterium {i}"), ("max_points", "5"))}}
    r = auth._client.post(url, data={**fifteen, "add_criterion": "1"})
    assert r.status_code == 200
    assert "Najwyżej 15 kryteriów oceny." in r.get_data(as_text=True)
    forty = {**data, **{f"criteria-{i}-{k}": v for i in range(40) for k, v in
                        (("name", f"Kryterium {i}"), ("max_points", "5"))}}
    r = auth._client.post(url, data=forty)
    assert r.status_code == 422
    assert "Najwyżej 15 kryteriów oceny." in r.get_data(as_text=True)
    r = auth._client.post(url, data={**data, "criteria-²-name": "Kryterium", "criteria-²-max_points": "5"})
    assert r.status_code < 500


def test_application_rows_beyond_the_limit_are_explained(app, auth):
    from app.forms.grants import MAX_MEMBERS

    auth.login("coordinator@regranting")
    call = _call_id(app)
    url = f"/grants/calls/{call}/applications/new"
    data = {f"members-{i}-name": f"Osoba Numer{i}" for i in range(MAX_MEMBERS + 5)}
    r = auth._client.post(url, data={**data, "title": "Coś"})
    assert r.status_code == 422
    assert "Najwyżej 15 osób w grupie." in r.get_data(as_text=True)
    r = auth._client.post(url, data={**{f"members-{i}-name": "" for i in range(MAX_MEMBERS)}, "add_members": "1"})
    assert r.status_code == 200
    assert "Najwyżej 15 osób w grupie." in r.get_data(as_text=True)


# --- every edit page, posted back as it is shown ------------------------------------------------------

class _FormReader(HTMLParser):
    """The fields of the form posting to `action`, as a browser would send them (no submit buttons)."""

    def __init__(self, action):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.depth = 0
        self.data = MultiDict()
        self.select = None
        self.select_multiple = False
        self.options = []
        self.textarea = None
        self.textarea_text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if self.inside:
                self.depth += 1
            elif (a.get("method") or "get").lower() == "post" and (a.get("action") in (None, "", self.action)):
                self.inside, self.depth = True, 0
            return
        if not self.inside:
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            name = a.get("name")
            if not name or kind in ("submit", "button", "image", "file", "reset") or "disabled" in a:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.add(name, a.get("value", "on"))
                return
            self.data.add(name, a.get("value", ""))
        elif tag == "select" and a.get("name") and "disabled" not in a:
            self.select, self.select_multiple, self.options = a["name"], "multiple" in a, []
        elif tag == "option" and self.select is not None:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self.textarea, self.textarea_text = a["name"], []

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            if self.depth:
                self.depth -= 1
            else:
                self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = [v for v, sel in self.options if sel]
            if not chosen and not self.select_multiple and self.options:
                chosen = [self.options[0][0]]
            for v in chosen:
                self.data.add(self.select, v)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            text = "".join(self.textarea_text)
            self.data.add(self.textarea, text[1:] if text.startswith("\n") else text)
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea_text.append(data)


def form_values(page: str, action: str) -> MultiDict:
    reader = _FormReader(action)
    reader.feed(page)
    assert reader.data, f"no form posting to {action}"
    return reader.data


def _edit_pages(app) -> list[tuple[str, str]]:
    """(role, edit URL) for every edit form the demo data offers."""
    from models import (Centre, Commitment, Finding, GrantApplication, GrantCall, Group, Meeting, Partner,
                        ProcessingActivity, Resident, User, db)
    w = app.world
    with app.app_context():
        wilda = w.centres["wilda"]

        def first(model, *where):
            return db.session.scalar(select(model.id).where(*where).order_by(model.id).limit(1))

        regranting_app = first(GrantApplication, GrantApplication.status.in_(("submitted", "formal_review")))
        from models.grants import Settlement

        settled = first(GrantApplication, GrantApplication.status == "in_progress",  # a report being written
                        GrantApplication.id.in_(select(Settlement.application_id)))
        pages = [
            ("coordinator@wilda", f"/residents/{first(Resident, Resident.centre_id == wilda)}/edit"),
            ("coordinator@wilda", f"/groups/{first(Group, Group.centre_id == wilda)}/edit"),
            ("coordinator@wilda", f"/meetings/{first(Meeting, Meeting.centre_id == wilda)}/edit"),
            ("coordinator@wilda", f"/commitments/{first(Commitment, Commitment.centre_id == wilda)}"),
            ("coordinator@wilda", f"/partners/{first(Partner, Partner.centre_id == wilda)}/edit"),
            ("coordinator@wilda", f"/diagnosis/findings/{first(Finding, Finding.centre_id == wilda)}/edit"),
            ("coordinator@regranting", f"/grants/calls/{first(GrantCall)}/edit"),
            ("coordinator@regranting", f"/grants/applications/{regranting_app}/edit"),
            ("coordinator@wilda", f"/admin/users/{w.users['animator@wilda']}"),
            ("admin", f"/admin/users/{w.users['coordinator@rataje']}"),
            ("admin", f"/admin/centres/{wilda}"),
            ("admin", f"/privacy/register/{first(ProcessingActivity)}"),
        ]
        if settled:
            pages.append(("coordinator@regranting", f"/grants/applications/{settled}/settlement"))
        assert all("None" not in url for _r, url in pages), pages
        assert db.session.get(Centre, wilda) and db.session.get(User, w.users["admin"])
    return pages


def test_every_edit_page_saves_unchanged(app):
    failures = []
    for role, url in _edit_pages(app):
        client = _client_for(app, role)
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        html = page.get_data(as_text=True)
        # residents and groups: the edit page posts to the record's own address
        target = url if f'action="{url}"' in html else url.removesuffix("/edit")
        data = form_values(html, target)
        r = client.post(target, data=data)
        if r.status_code not in (200, 303):
            failures.append((role, url, r.status_code, re.findall(r'class="error"[^>]*>([^<]+)<',
                                                                  r.get_data(as_text=True))[:5],
                             re.findall(r'role="alert"[^>]*>\s*<p>([^<]+)<', r.get_data(as_text=True))[:5]))
    assert not failures, failures


# --- exports with control characters in the data ------------------------------------------------------

def _plant(app) -> str:
    """Control characters in names, finding titles and group names, written by SQL past every form."""
    from models import Centre, Finding, Group, Resident, db

    bad = "".join(chr(c) for c in range(0 if TEST_DB == "sqlite" else 1, 32))  # PostgreSQL text holds no NUL
    with app.app_context():
        wilda = app.world.centres["wilda"]
        db.session.execute(update(Resident).where(Resident.centre_id == wilda).values(
            first_name="Ala" + bad + "Nul", phone="+48601234567", street="=1+1"))
        db.session.execute(update(Finding).where(Finding.centre_id == wilda).values(title="=Tytuł" + bad))
        db.session.execute(update(Group).values(name="Grupa" + bad))
        db.session.execute(update(Centre).where(Centre.id == wilda).values(name="CIL" + bad + "Wilda"))
        db.session.commit()
    return bad


def _exports(app) -> list[tuple[str, str]]:
    from models import Centre, db

    with app.app_context():
        hood = db.session.get(Centre, app.world.centres["wilda"]).neighbourhood.slug
    paths = []
    for fmt in ("xlsx", "csv"):
        paths += [("coordinator@wilda", f"/residents/export.{fmt}"), ("coordinator@wilda", f"/followups/export.{fmt}"),
                  ("admin", f"/admin/audit/export.{fmt}"), ("city", f"/city/export.{fmt}"),
                  ("city", f"/city/export.{fmt}?table=osiedla"), ("coordinator@wilda", f"/reports/{fmt}")]
    paths.append(("coordinator@wilda", f"/diagnosis/{hood}/export.xlsx"))
    return paths


def test_every_export_survives_control_characters(app):
    from openpyxl import load_workbook

    _plant(app)
    seen_text = []
    for role, path in _exports(app):
        client = _client_for(app, role)
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        body = r.get_data()
        if "xlsx" in path:
            wb = load_workbook(io.BytesIO(body))
            for ws in wb.worksheets:
                for row in ws.iter_rows():
                    for cell in row:
                        if isinstance(cell.value, str):
                            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", cell.value), (path, cell.value)
                            assert cell.data_type != "f", (path, cell.value)
                            seen_text.append(cell.value)
        else:
            assert r.headers["Content-Type"].lower().count("charset") == 1, r.headers["Content-Type"]
            decoded = body.decode("utf-8-sig")
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", decoded), path
    assert any(v.startswith("AlaNul") or "AlaNul" in v or v.startswith("Ala\t") for v in seen_text)
    assert "+48601234567" in seen_text and "'+48601234567" not in seen_text
    assert "=1+1" in seen_text  # a string cell in XLSX, not a formula and not prefixed


def test_csv_still_defuses_formulas(app):
    from app.exports import cell_value, safe_cell

    assert safe_cell("=1+1") == "'=1+1" and safe_cell("+48601234567") == "'+48601234567"
    assert cell_value("=1+1") == "=1+1"
    assert safe_cell("Ala\x00Nul") == "AlaNul"


# --- the CLI ------------------------------------------------------------------------------------------

def test_cli_cleans_its_text(app, runner):
    from models import User, db

    r = runner.invoke(args=["create-user", "nowa2@example.org", "--role", "admin", "--name", "Ala\x07Kot"],
                      input="dlugie-haslo-startowe\n")
    assert r.exit_code != 0 and "control character" in r.output
    r = runner.invoke(args=["create-user", "nowa2@example.org", "--role", "admin", "--name", "x" * 121],
                      input="dlugie-haslo-startowe\n")
    assert r.exit_code != 0
    r = runner.invoke(args=["create-user", "nowa2@example.org", "--role", "admin", "--name", " Zo\u0301sia "],
                      input="dlugie-haslo-startowe\n")
    assert r.exit_code == 0, r.output
    with app.app_context():
        assert db.session.scalar(select(User.name).where(User.email == "nowa2@example.org")) == "Zósia"
        assert db.session.execute(text("select 1")).scalar() == 1


@pytest.mark.parametrize("url", ["/groups?tag=Ala%00Nul", "/residents?q=a%1Bb", "/admin/audit?action=x%0Ay",
                                 "/apply/Ala%00Nul", "/residents/duplicates?email=a%00b"])
def test_a_control_character_in_the_url_is_a_polish_400(client, auth, url):
    """PostgreSQL refuses a NUL in any text it compares (a 500 there); one guard before every view."""
    auth.login("coordinator@wilda")
    r = client.get(url)
    assert r.status_code == 400
    assert "znak sterujący" in r.get_data(as_text=True)


def test_a_refused_line_says_why_on_the_page_not_only_with_a_red_border(app, client, auth):
    """The new-person form showed a red border and no message for a control character in the first name."""
    auth.login("animator@wilda")
    with app.app_context():
        from models import Neighbourhood, db

        hood = db.session.scalar(select(Neighbourhood.id).where(Neighbourhood.slug == "wilda"))
    r = client.post("/residents/new", data={"first_name": "Ala\x07Dzwonek", "last_name": "Test", "neighbourhood_id": hood})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert body.count("niedozwolony znak sterujący") >= 2  # in the summary at the top and next to the field
    assert 'href="#first_name"' in body and 'id="first_name-err"' in body
