"""The local diagnosis and the cooperation network: a finding, links to it, a partner, its contact
people, the cooperation log, and the groups and meetings a partner works with."""
import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.forms import Form, choices
from app.forms.fields import DateField, IdField, VersionField, coerce_id_or_none
from app.forms.residents import no_pesel, parse_tags, phone_check, tags_check
from app.labels import TABLES
from app.timeutil import today_local

FINDING_KIND_LABELS = list(TABLES["finding_kind"].items())
FINDING_SOURCE_LABELS = list(TABLES["finding_source"].items())
PARTNER_KIND_LABELS = list(TABLES["partner_kind"].items())
CITY_WIDE = 0  # the osiedle choice of a partner working across the whole centre


def join_tags(raw: str | None) -> str | None:
    """'Seniorzy, Ławki ,' -> 'seniorzy,ławki' (what the tags column holds), or None."""
    return ",".join(parse_tags(raw))[:300] or None


def not_in_future(message):
    def check(form, field):
        if field.data and field.data > today_local():
            raise ValidationError(message)
    return check


def int_choice(message):
    """A select whose options are filled in the view from the user's scope: a value that is not
    one of them (made up, or out of scope) gets a Polish message, not WTForms' English one."""
    def check(form, field):
        allowed = {c.value if hasattr(c, "value") else c[0] for c in field.choices or []}
        if field.data not in allowed:
            raise ValidationError(message)
    return check


class FindingForm(Form):
    """An item of the diagnosis: what, where, from which source, when, tags."""
    edits = "finding"  # carries its version (app/writes.py)

    kind = RadioField(_l("Co to jest"), choices=choices(FINDING_KIND_LABELS), default="need", validate_choice=False,
                      validators=[DataRequired(_l("Wybierz: potrzeba, zasób, problem czy pomysł."))])
    title = StringField(_l("Krótko: co"), validators=[DataRequired(_l("Napisz krótko, czego to dotyczy.")),
                                                      Length(max=200)],
                        render_kw={"placeholder": _l("np. brak miejsca spotkań dla seniorów"), "autocomplete": "off"})
    description = TextAreaField(_l("Opis (opcjonalnie)"), validators=[Optional(), Length(max=5000), no_pesel],
                                render_kw={"rows": 3})
    neighbourhood_id = SelectField(_l("Osiedle"), coerce=coerce_id_or_none, validate_choice=False,
                                   validators=[int_choice(_l("Wybierz osiedle z listy."))])
    source = SelectField(_l("Skąd wiemy"), choices=choices(FINDING_SOURCE_LABELS), default="conversation",
                         validate_choice=False)
    found_on = DateField(_l("Kiedy"), default=today_local,
                         validators=[DataRequired(_l("Podaj datę (dzień, miesiąc, rok).")),
                                     not_in_future(_l("Data nie może być z przyszłości."))])
    tags = StringField(_l("Tagi (po przecinku)"), validators=[Optional(), Length(max=300), tags_check],
                       render_kw={"placeholder": _l("np. seniorzy, zieleń"), "autocomplete": "off"})
    version = VersionField()

    def validate_source(self, field):
        if field.data not in {v for v, _label in FINDING_SOURCE_LABELS}:
            raise ValidationError(_l("Wybierz źródło z listy."))

    def validate_kind(self, field):
        if field.data not in {v for v, _label in FINDING_KIND_LABELS}:
            raise ValidationError(_l("Wybierz: potrzeba, zasób, problem czy pomysł."))


class NewFindingForm(FindingForm):
    """Adding a finding, perhaps straight from a logged contact or a meeting, perhaps with a group
    that already acts on it."""
    edits = None  # creates a record

    group_id = SelectField(_l("Grupa, która już się tym zajmuje (opcjonalnie)"), coerce=coerce_id_or_none,
                           validate_choice=False, validators=[Optional()])
    interaction_id = IdField()
    meeting_id = IdField()

    def validate_group_id(self, field):
        allowed = {c.value for c in field.choices or []}
        if field.data and field.data not in allowed:
            raise ValidationError(_l("Wybierz grupę z listy."))


class LinkGroupForm(Form):
    """Link a group in scope (to a finding it acts on, or to a partner that supports it)."""

    group_id = SelectField(_l("Grupa"), coerce=coerce_id_or_none, validate_choice=False,
                           validators=[int_choice(_l("Wybierz grupę z listy."))])


class LinkMeetingForm(Form):
    """Link a meeting. The select offers the recent ones; the view checks any id against the scope."""

    meeting_id = SelectField(_l("Spotkanie"), coerce=coerce_id_or_none, validate_choice=False,
                             validators=[DataRequired(_l("Wybierz spotkanie z listy."))])


class SourceForm(Form):
    """Count a contact or a meeting in for an existing finding ("this came up again")."""

    interaction_id = IdField()
    meeting_id = IdField()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        given = [f for f in (self.interaction_id, self.meeting_id) if f.data]  # IdFields: an id or None
        if len(given) != 1:
            self.form_errors.append(_l("Wskaż jeden kontakt albo jedno spotkanie."))
            return False
        return ok


class DeleteForm(Form):
    confirm = BooleanField(_l("Tak, usuń"), validators=[DataRequired(_l("Zaznacz, że na pewno chcesz usunąć."))])


def krs_check(form, field):
    raw = (field.data or "").strip().replace(" ", "")
    if not raw:
        field.normalised = None
        return
    if not re.fullmatch(r"\d{1,10}", raw):
        raise ValidationError(_l("Numer KRS to do 10 cyfr (np. 0000123456)."))
    field.normalised = raw.zfill(10)


def website_check(form, field):
    raw = (field.data or "").strip()
    if raw and (" " in raw or "." not in raw or raw.lower().startswith(("javascript:", "data:"))):
        raise ValidationError(_l("To nie wygląda na adres strony (np. sp12.poznan.pl)."))


class PartnerForm(Form):
    """An institution or organisation in the cooperation network."""
    edits = "partner"  # carries its version (app/writes.py)

    name = StringField(_l("Nazwa"), validators=[DataRequired(_l("Podaj nazwę instytucji lub organizacji.")),
                                                Length(max=200)],
                       render_kw={"autocomplete": "off", "placeholder": _l("np. Szkoła Podstawowa nr 12")})
    kind = SelectField(_l("Rodzaj"), choices=choices(PARTNER_KIND_LABELS), default="school", validate_choice=False)
    neighbourhood_id = SelectField(_l("Osiedle"), coerce=coerce_id_or_none, validate_choice=False,
                                   validators=[int_choice(_l("Wybierz osiedle z listy."))])
    address = StringField(_l("Adres"), validators=[Optional(), Length(max=200)])
    website = StringField(_l("Strona internetowa"), validators=[Optional(), Length(max=200), website_check],
                          render_kw={"inputmode": "url"})
    phone = StringField(_l("Telefon instytucji"), validators=[Optional(), Length(max=30), phone_check],
                        render_kw={"inputmode": "tel"})
    email = StringField(_l("E-mail instytucji"), validators=[Optional(), Length(max=254),
                                                             Email(_l("To nie jest poprawny adres e-mail."))],
                        render_kw={"inputmode": "email"})
    krs = StringField(_l("Numer KRS (organizacje)"), validators=[Optional(), Length(max=14), krs_check],
                      render_kw={"inputmode": "numeric"})
    notes = TextAreaField(_l("Notatki"), validators=[Optional(), Length(max=5000), no_pesel], render_kw={"rows": 3})
    active = BooleanField(_l("Współpraca trwa"), default=True)
    version = VersionField()

    def validate_kind(self, field):
        if field.data not in {v for v, _label in PARTNER_KIND_LABELS}:
            raise ValidationError(_l("Wybierz rodzaj z listy."))


class ContactForm(Form):
    """A contact person at a partner (personal data: only what the cooperation needs)."""

    name = StringField(_l("Imię i nazwisko"), validators=[DataRequired(_l("Podaj imię i nazwisko osoby.")),
                                                          Length(max=120)],
                       render_kw={"autocomplete": "off", "autocapitalize": "words"})
    role = StringField(_l("Funkcja"), validators=[Optional(), Length(max=120)],
                       render_kw={"placeholder": _l("np. pedagożka szkolna")})
    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=30), phone_check],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254),
                                                  Email(_l("To nie jest poprawny adres e-mail."))],
                        render_kw={"inputmode": "email", "autocomplete": "off"})


class CooperationForm(Form):
    """An entry of the cooperation log: what was done together, when, with which group or at which meeting."""

    happened_on = DateField(_l("Kiedy"), default=today_local,
                            validators=[DataRequired(_l("Podaj datę (dzień, miesiąc, rok).")),
                                        not_in_future(_l("Wpisz to, co już się wydarzyło: data nie może być "
                                                         "z przyszłości."))])
    what = TextAreaField(_l("Co zrobiliśmy razem"), validators=[
        DataRequired(_l("Napisz krótko, co zrobiliście razem.")), Length(max=500), no_pesel],
        render_kw={"rows": 2, "placeholder": _l("np. szkoła udostępniła salę na spotkanie otwarte")})
    group_id = SelectField(_l("Z grupą (opcjonalnie)"), coerce=coerce_id_or_none, validate_choice=False,
                           validators=[Optional()])
    meeting_id = SelectField(_l("Przy spotkaniu (opcjonalnie)"), coerce=coerce_id_or_none, validate_choice=False,
                             validators=[Optional()])

    # The view checks a chosen group or meeting against the user's scope (the selects offer the likely ones).
    def validate_group_id(self, field):
        if field.data is not None and field.data < 0:
            raise ValidationError(_l("Wybierz grupę z listy."))

    def validate_meeting_id(self, field):
        if field.data is not None and field.data < 0:
            raise ValidationError(_l("Wybierz spotkanie z listy."))
