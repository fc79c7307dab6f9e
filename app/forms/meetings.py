"""Meetings, the after-meeting screen's small forms, and volunteer commitments.

The after-meeting screen posts one small form per change (a tap, a headcount, a note), so a
dropped connection loses only that change; each form here is one of those changes.
"""
from datetime import timedelta
from decimal import Decimal

from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import (AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional,
                                ValidationError)

from app.forms import Form, choices
from app.forms.fields import (DateField, DateTimeLocalField, DecimalField, IdField, IntField, VersionField,
                              coerce_id)
from app.forms.residents import no_pesel
from app.timeutil import today_local

MEETING_KIND_LABELS = [
    ("group", _l("spotkanie grupy")),
    ("open", _l("spotkanie otwarte")),
    ("action", _l("akcja / wydarzenie")),
    ("consultation", _l("konsultacje")),
    ("training", _l("szkolenie")),
    ("other", _l("inne")),
]
COMMITMENT_STATUS_LABELS = [
    ("promised", _l("obiecane")),
    ("done", _l("zrobione")),
    ("dropped", _l("porzucone")),
]
COMMITMENT_VIEW_LABELS = [
    ("overdue", _l("po terminie")),
    ("open", _l("obiecane")),
    ("done", _l("zrobione")),
    ("dropped", _l("porzucone")),
    ("all", _l("wszystkie")),
]
MAX_HOURS = Decimal("500")
DEFAULT_DUE_DAYS = 7


def default_due():
    """A week from today: the usual rhythm of a group's meetings."""
    return today_local() + timedelta(days=DEFAULT_DUE_DAYS)


class MeetingForm(Form):
    """Plan or describe a meeting. Choices come from the view: the user's osiedla, groups, team."""
    edits = "meeting"  # carries its version (app/writes.py)

    neighbourhood_id = SelectField(_l("Osiedle"), coerce=coerce_id, validators=[DataRequired(_l("Wybierz osiedle."))])
    group_id = SelectField(_l("Grupa"), coerce=coerce_id, default=0, validators=[Optional()])
    kind = SelectField(_l("Rodzaj"), choices=choices(MEETING_KIND_LABELS), default="group")
    title = StringField(_l("Tytuł"), validators=[DataRequired(_l("Podaj tytuł spotkania.")), Length(max=200)])
    starts_at = DateTimeLocalField(_l("Początek"),
                                   validators=[DataRequired(_l("Podaj datę i godzinę początku."))])
    duration_min = IntField(_l("Czas trwania (minuty)"), default=90, validators=[
        InputRequired(_l("Podaj czas trwania.")),
        NumberRange(5, 24 * 60, _l("Czas trwania: od 5 minut do 24 godzin."))],
        render_kw={"inputmode": "numeric", "min": 5, "max": 1440, "step": 5})
    place = StringField(_l("Miejsce"), validators=[Optional(), Length(max=200)])
    animator_ids = SelectMultipleField(_l("Obecni z zespołu"), coerce=coerce_id, validators=[Optional()])
    notes = TextAreaField(_l("Notatki"), validators=[Optional(), Length(max=10000), no_pesel], render_kw={"rows": 4})
    decisions = TextAreaField(_l("Ustalenia"), validators=[Optional(), Length(max=10000), no_pesel],
                              render_kw={"rows": 3})
    unnamed_count = IntField(_l("Osoby obecne bez nazwiska"), default=0, validators=[
        InputRequired(_l("Podaj liczbę (0, jeśli nikogo).")), NumberRange(0, 10000, _l("Od 0 do 10 000."))],
        render_kw={"inputmode": "numeric", "min": 0})
    version = VersionField()


class QuickMeetingForm(Form):
    """"Spotkanie teraz": one tap on a group creates its meeting with sensible defaults."""

    group_id = IdField(validators=[DataRequired(_l("Wybierz grupę."))])


class AttendanceForm(Form):
    """Set, not toggle: present=1 or present=0, so a retried or doubled request changes nothing."""

    present = StringField(validators=[InputRequired(_l("Brak stanu obecności.")),
                                      AnyOf(["0", "1"], _l("Obecność: 1 albo 0."))])
    from_search = HiddenField(validators=[Length(max=10)])


class HeadcountForm(Form):
    """The headcount as a value (not +1), so a retry cannot count anyone twice."""

    unnamed_count = IntField(_l("Osoby obecne bez nazwiska"), validators=[
        InputRequired(_l("Podaj liczbę.")), NumberRange(0, 10000, _l("Od 0 do 10 000."))])


class NotesForm(Form):
    """Notes and decisions, saved as they are typed. A field left out of the request is left alone.
    Each save carries the meeting's version and gets the next one back (app/writes.py)."""

    edits = "meeting"
    notes = TextAreaField(_l("Notatki"), validators=[Optional(), Length(max=10000), no_pesel],
                          render_kw={"rows": 4})
    decisions = TextAreaField(_l("Ustalenia"), validators=[Optional(), Length(max=10000), no_pesel],
                              render_kw={"rows": 3})
    version = VersionField()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.sent_fields():
            self.form_errors.append(_l("Nie ma czego zapisać."))
            return False
        return ok

    def sent_fields(self) -> list[str]:
        return [name for name in ("notes", "decisions") if name in request.form]


class MeetingCommitmentForm(Form):
    """A promise made at a meeting: who, what, by when."""

    resident_id = IdField(validators=[DataRequired(_l("Wybierz osobę."))])
    what = StringField(_l("Co zrobi"), validators=[DataRequired(_l("Napisz, co ta osoba zrobi.")), Length(max=300)],
                       render_kw={"autocomplete": "off", "placeholder": _l("np. przyniesie sadzonki")})
    due_on = DateField(_l("Do kiedy"), default=default_due, validators=[Optional()])
    inline = HiddenField(validators=[Length(max=10)])

    def validate_due_on(self, field):
        if field.data and field.data < today_local() - timedelta(days=366):
            raise ValidationError(_l("Termin sprzed ponad roku: sprawdź datę."))


class CommitmentForm(Form):
    """A promise recorded outside a meeting (from a resident's page or the list)."""

    resident_id = IdField(validators=[DataRequired(_l("Wybierz osobę."))])
    group_id = SelectField(_l("Grupa (opcjonalnie)"), coerce=coerce_id, default=0, validators=[Optional()])
    what = StringField(_l("Co zrobi"), validators=[DataRequired(_l("Napisz, co ta osoba zrobi.")), Length(max=300)])
    due_on = DateField(_l("Do kiedy"), default=default_due, validators=[Optional()])


def _hours_range(form, field):
    if field.data is not None and not (Decimal("0") < field.data <= MAX_HOURS):
        raise ValidationError(_l("Liczba godzin: więcej niż 0 i najwyżej %(max)s.", max=MAX_HOURS))


class CommitmentStatusForm(Form):
    """Set the status (promised, done, dropped); hours and the date only with "done". Safe to repeat."""

    status = StringField(validators=[InputRequired(_l("Brak stanu.")),
                                     AnyOf([v for v, _label in COMMITMENT_STATUS_LABELS], _l("Nieznany stan."))])
    hours = DecimalField(_l("Godziny"), places=2, digits=3, validators=[Optional(), _hours_range],
                         render_kw={"inputmode": "decimal", "step": "0.25", "min": "0"})
    done_on = DateField(_l("Kiedy zrobione"), validators=[Optional()])

    def validate_done_on(self, field):
        if field.data and field.data > today_local():
            raise ValidationError(_l("Data wykonania nie może być z przyszłości."))


class CommitmentEditForm(Form):
    edits = "commitment"  # carries its version (app/writes.py)
    what = StringField(_l("Co zrobi"), validators=[DataRequired(_l("Napisz, co ta osoba zrobi.")), Length(max=300)])
    due_on = DateField(_l("Do kiedy"), validators=[Optional()])
    group_id = SelectField(_l("Grupa (opcjonalnie)"), coerce=coerce_id, default=0, validators=[Optional()])
    status = SelectField(_l("Stan"), choices=choices(COMMITMENT_STATUS_LABELS))
    hours = DecimalField(_l("Godziny (po wykonaniu)"), places=2, digits=3, validators=[Optional(), _hours_range],
                         render_kw={"inputmode": "decimal", "step": "0.25", "min": "0"})
    done_on = DateField(_l("Kiedy zrobione"), validators=[Optional()])
    version = VersionField()

    def validate_done_on(self, field):
        if field.data and field.data > today_local():
            raise ValidationError(_l("Data wykonania nie może być z przyszłości."))


class ConfirmForm(Form):
    """A destructive action asks for an explicit yes."""

    confirm = BooleanField(_l("Tak, usuń"), validators=[DataRequired(_l("Zaznacz, że na pewno chcesz usunąć."))])
