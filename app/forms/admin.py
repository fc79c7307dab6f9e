"""Accounts and centres, for admins (all) and coordinators (their own team)."""
from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, EmailField, PasswordField, SelectField,
                     SelectMultipleField, StringField)
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from app.forms import Form, choices
from app.forms.auth import password_policy
from app.forms.fields import VersionField, coerce_id
from models import CentreKind, Role
from models.user import ROLES_WITH_CENTRE, ROLES_WITHOUT_CENTRE

ROLE_LABELS = [
    (Role.animator.value, _l("Animator/ka")),
    (Role.coordinator.value, _l("Koordynator/ka")),
    (Role.reviewer.value, _l("Oceniający/a")),
    (Role.city.value, _l("Urząd Miasta")),
    (Role.admin.value, _l("Administrator/ka")),
]


class UserForm(Form):
    """Create or edit an account. Choices are filled by the view from what the editor may grant."""
    edits = "user"  # carries its version (app/writes.py)

    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Podaj adres e-mail.")),
                                                 Email(_l("To nie jest poprawny adres e-mail.")), Length(max=254)])
    name = StringField(_l("Imię i nazwisko"), validators=[DataRequired(_l("Podaj imię i nazwisko.")), Length(max=120)])
    role = SelectField(_l("Rola"), choices=choices(ROLE_LABELS), validators=[DataRequired()])
    centre_id = SelectField(_l("Centrum (CIL)"), coerce=coerce_id, validators=[Optional()])
    neighbourhood_ids = SelectMultipleField(_l("Osiedla (dla animatorów)"), coerce=coerce_id, validators=[Optional()])
    active = BooleanField(_l("Konto aktywne"), default=True)
    version = VersionField()

    def validate_centre_id(self, field):
        role = self.role.data
        if role in ROLES_WITH_CENTRE and not field.data:
            raise ValidationError(_l("Animator i koordynator muszą należeć do centrum."))
        if role in ROLES_WITHOUT_CENTRE and field.data:
            raise ValidationError(_l("Ta rola nie należy do żadnego centrum."))

    def validate_neighbourhood_ids(self, field):
        if self.role.data != Role.animator.value and field.data:
            raise ValidationError(_l("Osiedla przypisuje się tylko animatorom."))


class NewUserForm(UserForm):
    edits = None  # creates a record
    password = PasswordField(_l("Hasło startowe"), validators=[DataRequired(_l("Podaj hasło.")), password_policy],
                             render_kw={"autocomplete": "new-password"})


class PasswordResetForm(Form):
    password = PasswordField(_l("Nowe hasło"), validators=[DataRequired(_l("Podaj nowe hasło.")), password_policy],
                             render_kw={"autocomplete": "new-password"})


class CentreForm(Form):
    edits = "centre"  # carries its version (app/writes.py)
    name = StringField(_l("Nazwa"), validators=[DataRequired(_l("Podaj nazwę centrum.")), Length(max=160)])
    slug = StringField(_l("Skrót do adresów (np. cil-wilda)"), validators=[
        DataRequired(_l("Podaj skrót.")), Length(max=80),
        Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", message=_l("Tylko małe litery bez polskich znaków, cyfry i myślniki.")),
    ])
    kind = SelectField(_l("Rodzaj"), choices=choices([
        (CentreKind.neighbourhood.value, _l("CIL Sąsiedzki (jedno osiedle)")),
        (CentreKind.regranting.value, _l("CIL Regrantingowy (całe miasto)")),
    ]))
    operator = StringField(_l("Operator (organizacja pozarządowa)"),
                           validators=[DataRequired(_l("Podaj operatora.")), Length(max=200)])
    neighbourhood_id = SelectField(_l("Osiedle"), coerce=coerce_id, validators=[Optional()])
    active = BooleanField(_l("Aktywne"), default=True)
    version = VersionField()

    def validate_neighbourhood_id(self, field):
        if self.kind.data == CentreKind.neighbourhood.value and not field.data:
            raise ValidationError(_l("CIL Sąsiedzki działa na jednym osiedlu: wybierz je."))
        if self.kind.data == CentreKind.regranting.value and field.data:
            raise ValidationError(_l("CIL Regrantingowy działa w całym mieście: nie wybieraj osiedla."))
