"""Residents and contacts: the quick add, the full record, consents, logging a contact."""
import re
from datetime import timedelta

import phonenumbers
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.forms import Form, choices
from app.forms.fields import DateField, DateTimeLocalField, IdField, VersionField, coerce_id
from app.privacy import pesel_numbers, sensitive_categories
from app.timeutil import now_local, today_local

AGE_GROUP_LABELS = [("", _l("— nie wiem —")), ("child", _l("dziecko")), ("youth", _l("młodzież")),
                    ("adult", _l("dorosły/a")), ("senior", _l("senior/ka"))]
CONSENT_PURPOSE_LABELS = [("phone", _l("kontakt telefoniczny")), ("email", _l("kontakt e-mailowy")),
                          ("image", _l("wykorzystanie wizerunku (zdjęcia)")), ("newsletter", _l("newsletter"))]
CONSENT_METHOD_LABELS = [("verbal", _l("ustnie")), ("written", _l("na piśmie")), ("online", _l("online"))]
CHANNEL_LABELS = [("one_to_one", _l("rozmowa 1:1")), ("door_to_door", _l("od drzwi do drzwi")),
                  ("street", _l("ulica / podwórko")), ("phone", _l("telefon")), ("event", _l("wydarzenie")),
                  ("online", _l("online"))]
SENSITIVE_LABELS = {"health": _l("zdrowie"), "religion": _l("religia"), "politics": _l("poglądy polityczne"),
                    "ethnicity": _l("pochodzenie etniczne"), "sexuality": _l("orientacja seksualna"),
                    "union": _l("przynależność związkowa")}
MAX_TAGS = 12
_SEPARATORS = re.compile(r"[\s().-]")
_POLISH_NUMBER = re.compile(r"(?:\+48|0048)?([1-9]\d{8})")


def normalise_phone(raw: str | None) -> str | None:
    """A Polish or international number as E.164 (+48601234567); ValueError when not a valid number."""
    if not raw or not raw.strip():
        return None
    compact = _SEPARATORS.sub("", raw)
    if m := _POLISH_NUMBER.fullmatch(compact):  # the usual "601 234 567": skip the general parser
        number = phonenumbers.PhoneNumber(country_code=48, national_number=int(m.group(1)))
        if not phonenumbers.is_valid_number_for_region(number, "PL"):
            raise ValueError("invalid")
        return "+48" + m.group(1)
    try:
        number = phonenumbers.parse(raw, "PL")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_tags(raw: str | None) -> list[str]:
    """'Ogród, seniorzy ,, dzieci' -> ['ogród', 'seniorzy', 'dzieci'] (lowercase, unique, in order)."""
    seen: list[str] = []
    for part in (raw or "").split(","):
        tag = " ".join(part.split()).lower()[:60]
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def phone_check(form, field):
    try:
        field.normalised = normalise_phone(field.data)
    except ValueError:
        raise ValidationError(_l("To nie jest poprawny numer telefonu (np. 601 234 567 albo +48 601 234 567)."))


def tags_check(form, field):
    tags = parse_tags(field.data)
    if len(tags) > MAX_TAGS:
        raise ValidationError(_l("Najwyżej %(n)d tagów.", n=MAX_TAGS))


def no_pesel(form, field):
    if pesel_numbers(field.data):
        raise ValidationError(_l("Notatka zawiera numer PESEL. Animo nie przechowuje numerów PESEL: usuń go."))


class SensitiveCheckMixin:
    """Warn before saving text that looks like special-category data; saving needs a confirmation."""

    confirm_sensitive = BooleanField(_l("Rozumiem. Te informacje są potrzebne i osoba o nich wie; zapisz."))
    sensitive_fields: tuple[str, ...] = ()

    def check_sensitive(self) -> bool:
        if self.confirm_sensitive.data:
            return True
        found = []
        for name in self.sensitive_fields:
            found += [c for c in sensitive_categories(getattr(self, name).data) if c not in found]
        if found:
            self.sensitive_found = [str(SENSITIVE_LABELS[c]) for c in found]
            return False
        return True


class ResidentFieldsMixin:
    first_name = StringField(_l("Imię"), validators=[Optional(), Length(max=80)],
                             render_kw={"autocomplete": "off", "autocapitalize": "words"})
    last_name = StringField(_l("Nazwisko"), validators=[Optional(), Length(max=80)],
                            render_kw={"autocomplete": "off", "autocapitalize": "words"})
    description = StringField(_l("Opis zamiast nazwiska"), validators=[Optional(), Length(max=200)],
                              render_kw={"placeholder": _l("np. Pani Basia, klatka 3"), "autocomplete": "off"})
    neighbourhood_id = SelectField(_l("Osiedle"), coerce=coerce_id,
                                   validators=[DataRequired(_l("Wybierz osiedle."))])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        named = any((f.data or "").strip() for f in (self.first_name, self.last_name, self.description))
        if not named:
            self.description.errors = [*self.description.errors, _l("Podaj imię, nazwisko albo opis osoby.")]
        return ok and named


class QuickResidentForm(ResidentFieldsMixin, Form):
    """A new person in seconds: a name or a description and an osiedle; contact data and consents optional."""

    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=30), phone_check],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254),
                                                   Email(_l("To nie jest poprawny adres e-mail."))],
                        render_kw={"inputmode": "email", "autocomplete": "off"})
    consent_phone = BooleanField(_l("zgoda na kontakt telefoniczny"))
    consent_email = BooleanField(_l("zgoda na kontakt e-mailowy"))
    consent_image = BooleanField(_l("zgoda na wykorzystanie wizerunku"))
    consent_newsletter = BooleanField(_l("zgoda na newsletter"))
    consent_method = SelectField(_l("Jak wyrażono zgodę"), choices=choices(CONSENT_METHOD_LABELS), default="verbal")

    def validate_consent_phone(self, field):
        if field.data and not self.phone.data:
            raise ValidationError(_l("Zgoda na kontakt telefoniczny wymaga numeru telefonu."))

    def validate_consent_email(self, field):
        if field.data and not self.email.data:
            raise ValidationError(_l("Zgoda na kontakt e-mailowy wymaga adresu e-mail."))

    def given_consents(self) -> list[str]:
        return [p for p in ("phone", "email", "image", "newsletter") if getattr(self, f"consent_{p}").data]


class ResidentForm(ResidentFieldsMixin, SensitiveCheckMixin, Form):
    """The whole record, edited on the resident's page."""
    edits = "resident"  # carries its version (app/writes.py)

    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=30), phone_check],
                        render_kw={"inputmode": "tel"})
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254),
                                                   Email(_l("To nie jest poprawny adres e-mail."))],
                        render_kw={"inputmode": "email"})
    street = StringField(_l("Ulica"), validators=[Optional(), Length(max=120)])
    building = StringField(_l("Nr budynku"), validators=[Optional(), Length(max=20)],
                           render_kw={"placeholder": _l("bez numeru mieszkania")})
    age_group = SelectField(_l("Grupa wiekowa"), choices=choices(AGE_GROUP_LABELS), validators=[Optional()])
    interests = StringField(_l("Zainteresowania (po przecinku)"), validators=[Optional(), Length(max=600), tags_check])
    offers = StringField(_l("Co może dać: umiejętności, miejsce, narzędzia (po przecinku)"),
                         validators=[Optional(), Length(max=600), tags_check])
    notes = TextAreaField(_l("Notatki"), validators=[Optional(), Length(max=5000), no_pesel])
    version = VersionField()
    sensitive_fields = ("notes",)


class ConsentForm(Form):
    purpose = SelectField(_l("Cel"), choices=choices(CONSENT_PURPOSE_LABELS))
    method = SelectField(_l("Jak wyrażono zgodę"), choices=choices(CONSENT_METHOD_LABELS))
    given_on = DateField(_l("Data"), default=today_local, validators=[DataRequired(_l("Podaj datę."))])

    def validate_given_on(self, field):
        if field.data and field.data > today_local():
            raise ValidationError(_l("Data zgody nie może być z przyszłości."))


class InteractionForm(SensitiveCheckMixin, Form):
    """Log a contact: who, how, what matters, the next step."""

    resident_id = IdField(validators=[DataRequired(_l("Wybierz osobę albo dodaj nową."))])
    channel = RadioField(_l("Jak"), choices=choices(CHANNEL_LABELS), default="one_to_one",
                         validators=[DataRequired(_l("Wybierz rodzaj kontaktu."))])
    occurred_at = DateTimeLocalField(_l("Kiedy"), validators=[Optional()])
    concerns = TextAreaField(_l("Co jest dla tej osoby ważne"), validators=[Optional(), Length(max=2000), no_pesel],
                             render_kw={"rows": 2})
    note = TextAreaField(_l("Notatka"), validators=[Optional(), Length(max=5000), no_pesel], render_kw={"rows": 3})
    next_step = StringField(_l("Następny krok"), validators=[Optional(), Length(max=300)])
    follow_up_on = DateField(_l("Kiedy wrócić"), validators=[Optional()])
    sensitive_fields = ("concerns", "note", "next_step")

    def validate_occurred_at(self, field):
        if field.data and field.data > now_local() + timedelta(hours=1):
            raise ValidationError(_l("Kontakt nie może być z przyszłości."))

    def validate_follow_up_on(self, field):
        if field.data and not (self.next_step.data or "").strip():
            raise ValidationError(_l("Podaj następny krok, do którego ta data się odnosi."))
