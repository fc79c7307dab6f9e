"""Regranting: the call, the application (public and staff), the pipeline's steps, reviews, the
settlement. Every message is Polish and names the field it is about.

Rows of members, budget lines and criteria are FieldLists: the form starts with a few empty rows and
an "add a row" button (a plain submit, no script) adds one more, up to a limit."""
import re
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (BooleanField, FormField, RadioField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import AnyOf, DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms import Form, SubForm, choices
from app.forms.fields import (DateField, DecimalField, IntField, RowList, VersionField, coerce_id,
                              plain_decimal)
from app.forms.residents import phone_check
from models.grants import ApplicantKind, BudgetSource, Declaration, GrantStatus, money
from models.grants_queries import budget_totals

MAX_MEMBERS = 15
MAX_LINES = 30
MAX_CRITERIA = 15
START_MEMBERS = 3
START_LINES = 3
MAX_AMOUNT = Decimal("10000000")

APPLICANT_KIND_LABELS = [(ApplicantKind.informal.value, _l("grupa nieformalna (co najmniej 3 dorosłe osoby)")),
                         (ApplicantKind.ngo.value, _l("organizacja pozarządowa"))]
SOURCE_LABELS = [(BudgetSource.grant.value, _l("z dotacji")),
                 (BudgetSource.volunteer.value, _l("wkład własny: praca wolontariuszy")),
                 (BudgetSource.own.value, _l("wkład własny: finansowy lub rzeczowy"))]
# The merits criteria proposed for a new call (DOMAIN.md: the typical criteria of local grant committees).
DEFAULT_CRITERIA = [
    ("Jasno określona potrzeba służąca dobru wspólnemu", 10),
    ("Trafność diagnozy: skąd wiemy o potrzebie", 10),
    ("Szerokie zaangażowanie mieszkańców", 10),
    ("Działania adekwatne do potrzeby i realny harmonogram", 10),
    ("Mierzalne rezultaty", 5),
    ("Partnerzy i wolontariusze", 5),
    ("Kontynuacja po zakończeniu grantu", 5),
    ("Adekwatny budżet i zabezpieczony wkład własny", 5),
    ("Innowacyjność", 5),
]


# --- fields that speak Polish ----------------------------------------------------------------------

def positive(message):
    def check(form, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(message)
    return check


def at_most(limit: Decimal, message):
    def check(form, field):
        if field.data is not None and field.data > limit:
            raise ValidationError(message)
    return check


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- the call ----------------------------------------------------------------------------------------

class CriterionForm(SubForm):
    name = StringField(_l("Kryterium"), validators=[Optional(), Length(max=200)])
    max_points = IntField(_l("Maks. punktów"), validators=[
        Optional(), NumberRange(min=1, max=100, message=_l("Od 1 do 100 punktów."))],
        render_kw={"inputmode": "numeric"})


class CallForm(Form):
    """A call: money, dates, osiedla and the criteria of the merits assessment."""
    edits = "grant_call"  # carries its version (app/writes.py)

    title = StringField(_l("Tytuł naboru"), validators=[DataRequired(_l("Podaj tytuł naboru.")), Length(max=200)])
    description = TextAreaField(_l("Opis dla wnioskodawców"), validators=[Optional(), Length(max=5000)],
                                render_kw={"rows": 4})
    budget = DecimalField(_l("Pula środków (zł)"), validators=[
        InputRequired(_l("Podaj pulę środków.")), positive(_l("Pula musi być większa od zera.")),
        at_most(MAX_AMOUNT, _l("To za duża kwota."))])
    max_grant = DecimalField(_l("Maksymalna kwota jednego grantu (zł)"), validators=[
        InputRequired(_l("Podaj maksymalną kwotę grantu.")), positive(_l("Kwota musi być większa od zera."))])
    min_own_percent = DecimalField(_l("Minimalny wkład własny (% wnioskowanej dotacji)"), default=Decimal("10"), digits=3,
                                        validators=[InputRequired(_l("Podaj minimalny wkład własny (może być 0).")),
                                                    NumberRange(min=0, max=100, message=_l("Od 0 do 100%%."))])
    all_neighbourhoods = BooleanField(_l("Wszystkie osiedla Poznania"), default=True)
    neighbourhood_ids = SelectMultipleField(_l("albo tylko te osiedla"), coerce=coerce_id, validators=[Optional()])
    opens_on = DateField(_l("Nabór od"), validators=[InputRequired(_l("Podaj datę otwarcia naboru."))])
    closes_on = DateField(_l("Nabór do (puste: nabór ciągły do wyczerpania środków)"), validators=[Optional()])
    activities_from = DateField(_l("Działania nie wcześniej niż"), validators=[
        InputRequired(_l("Podaj, od kiedy mogą trwać działania."))])
    activities_to = DateField(_l("Działania nie później niż"), validators=[
        InputRequired(_l("Podaj, do kiedy mogą trwać działania."))])
    criteria = RowList(FormField(CriterionForm), min_entries=1, max_entries=MAX_CRITERIA,
                       too_many=_l("Najwyżej %(n)d kryteriów oceny.", n=MAX_CRITERIA))
    version = VersionField()

    criteria_errors: list = []

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.budget.data and self.max_grant.data and self.max_grant.data > self.budget.data:
            self.max_grant.errors.append(_l("Maksymalna kwota grantu nie może przekraczać puli."))
            ok = False
        if self.opens_on.data and self.closes_on.data and self.closes_on.data < self.opens_on.data:
            self.closes_on.errors.append(_l("Koniec naboru nie może być przed jego początkiem."))
            ok = False
        if self.activities_from.data and self.activities_to.data and \
                self.activities_to.data < self.activities_from.data:
            self.activities_to.errors.append(_l("Koniec działań nie może być przed ich początkiem."))
            ok = False
        if not self.all_neighbourhoods.data and not self.neighbourhood_ids.data:
            self.neighbourhood_ids.errors.append(_l("Zaznacz „wszystkie osiedla” albo wybierz co najmniej jedno."))
            ok = False
        named = 0
        for entry in self.criteria:
            c = entry.form
            if blank(c.name.data) and c.max_points.data is None:
                continue
            if blank(c.name.data):
                c.name.errors.append(_l("Podaj nazwę kryterium."))
                ok = False
            elif c.max_points.data is None:
                c.max_points.errors.append(_l("Podaj maksymalną liczbę punktów."))
                ok = False
            else:
                named += 1
        if not named:
            self.criteria_errors = [_l("Podaj co najmniej jedno kryterium oceny z liczbą punktów.")]
            ok = False
        return ok

    def criteria_rows(self) -> list[tuple[str, int]]:
        return [(e.form.name.data.strip(), e.form.max_points.data) for e in self.criteria
                if not blank(e.form.name.data) and e.form.max_points.data is not None]


class CallStatusForm(Form):
    edits = "grant_call"  # carries its version (app/writes.py)
    to_status = SelectField(_l("Nowy status"), validators=[DataRequired(_l("Wybierz status."))])
    version = VersionField()


# --- the application -------------------------------------------------------------------------------

class MemberForm(SubForm):
    name = StringField(_l("Imię i nazwisko"), validators=[Optional(), Length(max=120)],
                       render_kw={"autocomplete": "off", "autocapitalize": "words"})
    adult = BooleanField(_l("osoba pełnoletnia"))


class BudgetLineForm(SubForm):
    item = StringField(_l("Pozycja"), validators=[Optional(), Length(max=200)], render_kw={"autocomplete": "off"})
    quantity = DecimalField(_l("Ilość (albo godziny)"), validators=[Optional()])
    unit_cost = DecimalField(_l("Koszt jednostkowy (zł)"), validators=[Optional()])
    source = SelectField(_l("Źródło"), choices=choices(SOURCE_LABELS), default=BudgetSource.grant.value)


TEXT_LIMITS = {"need": 3000, "diagnosis": 3000, "goals": 2000, "activities": 4000}


class ApplicationForm(Form):
    """An application, as the staff enter it; the public form adds the privacy statement."""

    applicant_kind = RadioField(_l("Kto składa wniosek"), choices=choices(APPLICANT_KIND_LABELS),
                                default=ApplicantKind.informal.value,
                                validators=[DataRequired(_l("Wybierz, kto składa wniosek."))])
    applicant_name = StringField(_l("Nazwa grupy albo organizacji"), validators=[
        DataRequired(_l("Podaj nazwę grupy albo organizacji.")), Length(max=200)],
        render_kw={"placeholder": _l("np. Sąsiedzi z Wierzbięcic 12")})
    applicant_krs = StringField(_l("Numer KRS organizacji"), validators=[Optional(), Length(max=10)],
                                render_kw={"inputmode": "numeric", "autocomplete": "off"})
    patron_id = SelectField(_l("Organizacja-patron (podpisze umowę i rozliczy pieniądze)"), coerce=coerce_id,
                            validators=[Optional()])
    members = RowList(FormField(MemberForm), min_entries=START_MEMBERS, max_entries=MAX_MEMBERS,
                      too_many=_l("Najwyżej %(n)d osób w grupie.", n=MAX_MEMBERS))
    contact_name = StringField(_l("Osoba kontaktowa (imię i nazwisko)"), validators=[
        DataRequired(_l("Podaj osobę kontaktową.")), Length(max=120)], render_kw={"autocomplete": "name"})
    contact_email = StringField(_l("E-mail osoby kontaktowej"), validators=[
        Optional(), Length(max=254), Email(_l("To nie jest poprawny adres e-mail."))],
        render_kw={"inputmode": "email", "autocomplete": "email"})
    contact_phone = StringField(_l("Telefon osoby kontaktowej"), validators=[Optional(), Length(max=30), phone_check],
                                render_kw={"inputmode": "tel", "autocomplete": "tel"})
    neighbourhood_id = SelectField(_l("Osiedle, na którym odbędą się działania"), coerce=coerce_id,
                                   validators=[DataRequired(_l("Wybierz osiedle."))])
    title = StringField(_l("Tytuł inicjatywy"), validators=[DataRequired(_l("Podaj tytuł inicjatywy.")),
                                                            Length(max=200)])
    need = TextAreaField(_l("Jaka potrzeba mieszkańców stoi za inicjatywą?"), validators=[
        DataRequired(_l("Opisz potrzebę.")), Length(max=TEXT_LIMITS["need"])], render_kw={"rows": 4})
    diagnosis = TextAreaField(_l("Skąd wiecie o tej potrzebie (jak ją rozpoznaliście)?"), validators=[
        DataRequired(_l("Napisz, jak rozpoznaliście potrzebę.")), Length(max=TEXT_LIMITS["diagnosis"])],
        render_kw={"rows": 3})
    goals = TextAreaField(_l("Cele: co się zmieni dzięki inicjatywie?"), validators=[
        DataRequired(_l("Podaj cele.")), Length(max=TEXT_LIMITS["goals"])], render_kw={"rows": 3})
    activities = TextAreaField(_l("Działania i harmonogram"), validators=[
        DataRequired(_l("Opisz działania i ich terminy.")), Length(max=TEXT_LIMITS["activities"])],
        render_kw={"rows": 5})
    starts_on = DateField(_l("Początek działań"), validators=[InputRequired(_l("Podaj datę początku działań."))])
    ends_on = DateField(_l("Koniec działań"), validators=[InputRequired(_l("Podaj datę końca działań."))])
    expected_participants = IntField(_l("Ilu mieszkańców weźmie udział (szacunkowo)?"), validators=[
        InputRequired(_l("Podaj szacunkową liczbę uczestników.")),
        NumberRange(min=1, max=100000, message=_l("Od 1 do 100 000 osób."))], render_kw={"inputmode": "numeric"})
    lines = RowList(FormField(BudgetLineForm), min_entries=START_LINES, max_entries=MAX_LINES,
                    too_many=_l("Najwyżej %(n)d pozycji budżetu.", n=MAX_LINES))

    # Set by bind(): the call, and what the selects offer.
    failed = False
    call = None
    public = False
    today: date | None = None

    def bind(self, call, patrons, neighbourhoods, *, public: bool, today: date):
        """Fill the selects and remember the call whose rules the form checks."""
        self.call, self.public, self.today = call, public, today
        self.patron_id.choices = choices([(0, _l("— wybierz organizację —"))] + [(p.id, p.name) for p in patrons])
        self.patron_ids = {p.id for p in patrons}
        self.neighbourhood_id.choices = choices([(0, _l("— wybierz osiedle —"))] +
                                                [(n.id, n.name) for n in neighbourhoods])
        self.budget_errors = []
        self.members_errors = []
        self.totals = None
        return self

    def add_row(self, which: str) -> bool:
        """The "add a row" buttons: one more empty member or budget line, up to the limit."""
        return getattr(self, which).append_entry() is not None  # at the limit: its message on the form

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        call = self.call
        informal = self.applicant_kind.data == ApplicantKind.informal.value
        if self.neighbourhood_id.data and not call.eligible(self.neighbourhood_id.data):
            self.neighbourhood_id.errors.append(_l("To osiedle nie jest objęte tym naborem."))
            ok = False
        if informal:
            ok = self._check_group() and ok
        else:
            krs = (self.applicant_krs.data or "").strip()
            if not re.fullmatch(r"\d{10}", krs):
                self.applicant_krs.errors.append(_l("Podaj 10-cyfrowy numer KRS organizacji."))
                ok = False
        if not (self.contact_email.data or "").strip() and not (self.contact_phone.data or "").strip():
            self.contact_email.errors.append(_l("Podaj e-mail albo telefon osoby kontaktowej."))
            ok = False
        ok = self._check_dates() and ok
        ok = self._check_budget(informal) and ok
        self.failed = not ok  # row errors added here do not reach FieldList.errors: templates read this
        return ok

    def _check_group(self) -> bool:
        ok = True
        if not self.patron_id.data or self.patron_id.data not in self.patron_ids:
            self.patron_id.errors.append(_l("Grupa nieformalna potrzebuje organizacji-patrona: wybierz ją z listy."))
            ok = False
        adults = 0
        names = []
        for entry in self.members:
            m = entry.form
            name = " ".join((m.name.data or "").split())
            if not name:
                if m.adult.data:
                    m.name.errors.append(_l("Podaj imię i nazwisko."))
                    ok = False
                continue
            if len(name.split()) < 2:
                m.name.errors.append(_l("Podaj imię i nazwisko."))
                ok = False
                continue
            names.append(name.lower())
            adults += 1 if m.adult.data else 0
        if adults < 3:
            self.members_errors.append(_l("Grupa nieformalna to co najmniej 3 pełnoletnie osoby: wpisz ich imiona "
                                          "i nazwiska i potwierdź pełnoletność (jest %(n)d).", n=adults))
            ok = False
        contact = " ".join((self.contact_name.data or "").split()).lower()
        if contact and names and contact not in names:
            self.contact_name.errors.append(_l("Osoba kontaktowa musi być jedną z osób wymienionych w grupie."))
            ok = False
        return ok

    def _check_dates(self) -> bool:
        call, start, end = self.call, self.starts_on.data, self.ends_on.data
        ok = True
        if start and start < call.activities_from:
            self.starts_on.errors.append(_l("Działania mogą się zacząć najwcześniej %(day)s.",
                                            day=call.activities_from.strftime("%d.%m.%Y")))
            ok = False
        elif start and self.public and start < self.today:
            self.starts_on.errors.append(_l("Początek działań nie może być w przeszłości."))
            ok = False
        if end and end > call.activities_to:
            self.ends_on.errors.append(_l("Działania muszą się skończyć najpóźniej %(day)s.",
                                          day=call.activities_to.strftime("%d.%m.%Y")))
            ok = False
        if start and end and end < start:
            self.ends_on.errors.append(_l("Koniec działań nie może być przed ich początkiem."))
            ok = False
        return ok

    def _check_budget(self, informal: bool) -> bool:
        ok = True
        rows = []
        for entry in self.lines:
            line = entry.form
            filled = [not blank(line.item.data), line.quantity.data is not None, line.unit_cost.data is not None]
            if not any(filled):
                continue
            if blank(line.item.data):
                line.item.errors.append(_l("Podaj, na co jest ten wydatek."))
            if line.quantity.data is None or line.quantity.data <= 0:
                line.quantity.errors.append(_l("Podaj ilość większą od zera."))
            elif line.quantity.data > 100000:
                line.quantity.errors.append(_l("Ilość najwyżej 100 000."))
            if line.unit_cost.data is None or line.unit_cost.data < 0:
                line.unit_cost.errors.append(_l("Podaj koszt jednostkowy (0 lub więcej)."))
            elif line.unit_cost.data > 100000:
                line.unit_cost.errors.append(_l("Koszt jednostkowy najwyżej 100 000 zł."))
            if line.errors:
                ok = False
                continue
            rows.append({"item": " ".join(line.item.data.split()), "quantity": line.quantity.data,
                         "unit_cost": line.unit_cost.data, "source": line.source.data})
        self.budget_rows = rows
        if not ok:
            return False
        totals = budget_totals(rows)
        counted = totals["volunteer"] if informal else totals["volunteer"] + totals["own"]
        minimum = money(totals["grant"] * money(self.call.min_own_percent) / 100)
        self.totals = {**totals, "counted_own": counted, "min_own": minimum}
        if totals["grant"] <= 0:
            self.budget_errors.append(_l("Wpisz w budżecie co najmniej jedną pozycję finansowaną z dotacji."))
            ok = False
        elif totals["grant"] > money(self.call.max_grant):
            self.budget_errors.append(_l("Wnioskowana dotacja (%(asked)s zł) przekracza limit naboru: %(max)s zł.",
                                         asked=_plain(totals["grant"]), max=_plain(self.call.max_grant)))
            ok = False
        if totals["grant"] > 0 and counted < minimum:
            if informal:
                self.budget_errors.append(_l(
                    "Wkład własny grupy nieformalnej to tylko wyceniona praca wolontariuszy: jest %(has)s zł, "
                    "potrzeba co najmniej %(need)s zł (%(pct)s%% dotacji).",
                    has=_plain(counted), need=_plain(minimum), pct=_plain_pct(self.call.min_own_percent)))
            else:
                self.budget_errors.append(_l("Wkład własny: jest %(has)s zł, potrzeba co najmniej %(need)s zł "
                                             "(%(pct)s%% dotacji).", has=_plain(counted), need=_plain(minimum),
                                             pct=_plain_pct(self.call.min_own_percent)))
            ok = False
        return ok

    def members_rows(self) -> list[dict]:
        contact = " ".join((self.contact_name.data or "").split()).lower()
        rows = []
        for entry in self.members:
            name = " ".join((entry.form.name.data or "").split())
            if name:
                rows.append({"name": name[:120], "adult": bool(entry.form.adult.data),
                             "contact": name.lower() == contact})
        return rows

    def fields(self) -> dict:
        """The application's own columns, cleaned."""
        informal = self.applicant_kind.data == ApplicantKind.informal.value
        return {
            "applicant_kind": self.applicant_kind.data,
            "applicant_name": " ".join(self.applicant_name.data.split()),
            "applicant_krs": None if informal else self.applicant_krs.data.strip(),
            "patron_id": self.patron_id.data if informal else None,
            "neighbourhood_id": self.neighbourhood_id.data,
            "title": " ".join(self.title.data.split()),
            "need": self.need.data.strip(), "diagnosis": self.diagnosis.data.strip(),
            "goals": self.goals.data.strip(), "activities": self.activities.data.strip(),
            "starts_on": self.starts_on.data, "ends_on": self.ends_on.data,
            "expected_participants": self.expected_participants.data,
            "contact_name": " ".join(self.contact_name.data.split()),
            "contact_email": (self.contact_email.data or "").strip().lower() or None,
            "contact_phone": getattr(self.contact_phone, "normalised", None),
        }

    def fill_from(self, application) -> None:
        """An existing application in the form (staff corrections)."""
        for name in ("applicant_kind", "applicant_name", "applicant_krs", "neighbourhood_id", "title", "need",
                     "diagnosis", "goals", "activities", "starts_on", "ends_on", "expected_participants",
                     "contact_name", "contact_email", "contact_phone"):
            getattr(self, name).data = getattr(application, name)
        self.patron_id.data = application.patron_id or 0
        while len(self.members.entries):
            self.members.pop_entry()
        for m in application.members:
            self.members.append_entry({"name": m.name, "adult": m.adult})
        while len(self.members.entries) < START_MEMBERS:
            self.members.append_entry()
        while len(self.lines.entries):
            self.lines.pop_entry()
        for line in application.lines:
            self.lines.append_entry({"item": line.item, "quantity": money(line.quantity),
                                     "unit_cost": money(line.unit_cost), "source": line.source})
        while len(self.lines.entries) < START_LINES:
            self.lines.append_entry()


class PublicApplicationForm(ApplicationForm):
    privacy = BooleanField(_l("Zapoznałam/em się z informacją o przetwarzaniu danych osobowych, a osoby wymienione "
                              "we wniosku zgodziły się na podanie ich imion i nazwisk."),
                           validators=[DataRequired(_l("Bez tego oświadczenia nie możemy przyjąć wniosku."))])


class EditApplicationForm(ApplicationForm):
    edits = "grant_application"  # carries its version (app/writes.py)
    version = VersionField()


def _plain(value) -> str:
    """A sum inside a message: '4 000,00' (the templates use the money filter)."""
    q = money(value)
    whole, cents = f"{q:.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return "\xa0".join(groups) + "," + cents


def _plain_pct(value) -> str:
    return plain_decimal(money(value).normalize())


# --- the pipeline ----------------------------------------------------------------------------------

class FormalCheckForm(Form):
    edits = "grant_application"  # carries its version (app/writes.py)
    outcome = RadioField(_l("Wynik oceny formalnej"), choices=choices([
        ("passed", _l("pozytywna: wniosek przechodzi do oceny merytorycznej")),
        ("failed", _l("negatywna: do poprawy w terminie"))]), validators=[DataRequired(_l("Wybierz wynik."))])
    reasons = TextAreaField(_l("Uzasadnienie (przy negatywnej: co trzeba poprawić)"),
                            validators=[Optional(), Length(max=3000)], render_kw={"rows": 3})
    correction_due = DateField(_l("Termin poprawy"), validators=[Optional()])
    version = VersionField()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.outcome.data == "failed":
            if blank(self.reasons.data):
                self.reasons.errors.append(_l("Napisz, czego brakuje lub co trzeba poprawić."))
                ok = False
            if self.correction_due.data is None:
                self.correction_due.errors.append(_l("Podaj termin poprawy."))
                ok = False
            elif self.today and self.correction_due.data < self.today:
                self.correction_due.errors.append(_l("Termin poprawy nie może być w przeszłości."))
                ok = False
        return ok

    today: date | None = None


class DecisionForm(Form):
    edits = "grant_application"  # carries its version (app/writes.py)
    outcome = RadioField(_l("Decyzja"), choices=choices([("granted", _l("przyznać dotację")),
                                                        ("refused", _l("odmówić"))]),
                         validators=[DataRequired(_l("Wybierz decyzję."))])
    amount = DecimalField(_l("Przyznana kwota (zł)"), validators=[Optional()])
    justification = TextAreaField(_l("Uzasadnienie decyzji"), validators=[
        DataRequired(_l("Decyzja zawsze wymaga uzasadnienia.")), Length(max=3000)], render_kw={"rows": 3})
    version = VersionField()

    requested: Decimal | None = None

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.outcome.data == "granted":
            if self.amount.data is None or self.amount.data <= 0:
                self.amount.errors.append(_l("Podaj przyznaną kwotę."))
                ok = False
            elif self.requested is not None and self.amount.data > self.requested:
                self.amount.errors.append(_l("Przyznana kwota nie może być wyższa niż wnioskowana (%(max)s zł).",
                                             max=_plain(self.requested)))
                ok = False
        return ok


class AgreementForm(Form):
    edits = "grant_application"  # carries its version (app/writes.py)
    number = StringField(_l("Numer umowy"), validators=[DataRequired(_l("Podaj numer umowy.")), Length(max=40)])
    signed_on = DateField(_l("Data podpisania"), validators=[InputRequired(_l("Podaj datę podpisania umowy."))])
    version = VersionField()

    today: date | None = None

    def validate_signed_on(self, field):
        if field.data and self.today and field.data > self.today:
            raise ValidationError(_l("Data podpisania nie może być z przyszłości."))


class NoteForm(Form):
    """A move that needs only a note: the start of the initiative."""
    edits = "grant_application"  # carries its version (app/writes.py)
    note = TextAreaField(_l("Notatka"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    version = VersionField()


class CloseForm(Form):
    edits = "grant_application"  # carries its version (app/writes.py)
    outcome = RadioField(_l("Rozliczenie"), choices=choices([("settled", _l("rozliczony")),
                                                            ("returned", _l("rozliczony ze zwrotem środków"))]),
                         validators=[DataRequired(_l("Wybierz wynik rozliczenia."))])
    returned_amount = DecimalField(_l("Kwota zwrotu (zł)"), validators=[Optional()])
    note = TextAreaField(_l("Uzasadnienie"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    version = VersionField()

    granted: Decimal | None = None

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.outcome.data == "returned":
            if self.returned_amount.data is None or self.returned_amount.data <= 0:
                self.returned_amount.errors.append(_l("Podaj kwotę zwrotu."))
                ok = False
            elif self.granted is not None and self.returned_amount.data > self.granted:
                self.returned_amount.errors.append(_l("Zwrot nie może być wyższy niż przyznana kwota."))
                ok = False
            if blank(self.note.data):
                self.note.errors.append(_l("Napisz, dlaczego środki są zwracane."))
                ok = False
        return ok


class AssignReviewerForm(Form):
    reviewer_id = SelectField(_l("Osoba oceniająca"), coerce=coerce_id, validators=[
        DataRequired(_l("Wybierz osobę oceniającą."))])


class LinkGroupForm(Form):
    group_id = SelectField(_l("Grupa w Animo"), coerce=coerce_id, validators=[DataRequired(_l("Wybierz grupę."))])


class LinkReferenceForm(Form):
    reference = StringField(_l("Numer wniosku"), validators=[DataRequired(_l("Podaj numer wniosku.")),
                                                             Length(max=30, message=_l("Numer wniosku ma najwyżej 30 znaków."))],
                            render_kw={"placeholder": "MG/2026/0007-K7QX", "autocomplete": "off"})


class LinkDecisionForm(Form):
    """The coordinator of the centre running the call confirms or refuses a group's request for a link."""
    # Two buttons name="decision" (value "confirm" or "refuse"), not a choice field: nothing to render.
    decision = StringField(_l("Decyzja"), validators=[
        DataRequired(_l("Wybierz: potwierdzić czy odrzucić prośbę.")),
        AnyOf(("confirm", "refuse"), message=_l("Wybierz: potwierdzić czy odrzucić prośbę."))])


# --- reviews --------------------------------------------------------------------------------------

class DeclarationForm(Form):
    declaration = RadioField(_l("Oświadczenie"), choices=choices([
        (Declaration.no_conflict.value, _l("Oświadczam, że nie pozostaję w konflikcie interesów z wnioskodawcami: "
                                           "nie należę do grupy, nie wspierałam/em jej jako animator/ka, nie łączą "
                                           "mnie z jej członkami więzi rodzinne ani zawodowe.")),
        (Declaration.conflict.value, _l("Zachodzi konflikt interesów: nie oceniam tego wniosku."))]),
        validators=[DataRequired(_l("Złóż oświadczenie, zanim otworzysz wniosek."))])


class ReviewForm(Form):
    edits = "grant_review"  # carries its version (app/writes.py)
    scores = RowList(IntField(_l("Punkty"), validators=[InputRequired(_l("Przyznaj punkty."))]),
                       min_entries=0, max_entries=MAX_CRITERIA)
    comment = TextAreaField(_l("Komentarz do oceny"), validators=[DataRequired(_l("Napisz krótki komentarz."))
                                                                  , Length(max=3000)], render_kw={"rows": 4})
    version = VersionField()

    def check_against(self, criteria) -> bool:
        """One score per criterion, each between 0 and the criterion's maximum."""
        ok = True
        if len(self.scores.entries) != len(criteria):
            self.form_errors.append(_l("Oceń każde kryterium."))
            return False
        for entry, criterion in zip(self.scores.entries, criteria):
            if entry.data is not None and not 0 <= entry.data <= criterion.max_points:
                entry.errors = [*entry.errors, _l("Od 0 do %(max)d punktów.", max=criterion.max_points)]
                ok = False
        return ok


# --- the settlement -------------------------------------------------------------------------------

class SettlementForm(Form):
    edits = "grant_settlement"  # carries its version (app/writes.py)
    what_happened = TextAreaField(_l("Co się wydarzyło"), validators=[
        DataRequired(_l("Opisz, co się wydarzyło.")), Length(max=5000)], render_kw={"rows": 5})
    participants = IntField(_l("Uczestnicy"), validators=[
        InputRequired(_l("Podaj liczbę uczestników.")), NumberRange(min=0, max=100000)],
        render_kw={"inputmode": "numeric"})
    volunteers = IntField(_l("Wolontariusze"), validators=[
        InputRequired(_l("Podaj liczbę wolontariuszy.")), NumberRange(min=0, max=10000)],
        render_kw={"inputmode": "numeric"})
    volunteer_hours = DecimalField(_l("Godziny pracy wolontariuszy"), digits=6, validators=[
        InputRequired(_l("Podaj liczbę godzin (może być 0).")), NumberRange(min=0, max=100000)])
    spent = RowList(DecimalField(_l("Wydano (zł)"), validators=[Optional(), NumberRange(
        min=0, max=1000000, message=_l("Kwota od 0 zł."))]), min_entries=0, max_entries=MAX_LINES)
    version = VersionField()


class DocumentForm(Form):
    number = StringField(_l("Numer dokumentu"), validators=[DataRequired(_l("Podaj numer faktury lub rachunku.")),
                                                           Length(max=60)])
    issued_on = DateField(_l("Data wystawienia"), validators=[InputRequired(_l("Podaj datę dokumentu."))])
    amount = DecimalField(_l("Kwota (zł)"), validators=[InputRequired(_l("Podaj kwotę.")),
                                                             positive(_l("Kwota musi być większa od zera.")),
                                                             at_most(Decimal("1000000"), _l("To za duża kwota."))])
    what_for = StringField(_l("Za co"), validators=[DataRequired(_l("Napisz, za co zapłacono.")), Length(max=300)])
    budget_line_id = SelectField(_l("Pozycja budżetu"), coerce=coerce_id, validators=[Optional()])


class AttachmentForm(Form):
    file = FileField(_l("Plik (zdjęcie JPEG lub PNG, skan PDF)"))
    description = StringField(_l("Opis pliku"), validators=[Optional(), Length(max=200)])


STATUS_ORDER = [s.value for s in GrantStatus]
