"""Signing in and managing one's own password."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.forms import Form


def password_policy(form, field):
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(field.data or "") < minimum:
        raise ValidationError(_l("Hasło musi mieć co najmniej %(n)d znaków.", n=minimum))
    if len(field.data) > 256:
        raise ValidationError(_l("Hasło może mieć najwyżej 256 znaków."))


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Podaj adres e-mail.")), Length(max=254)],
                       render_kw={"autocomplete": "username", "inputmode": "email"})
    password = PasswordField(_l("Hasło"), validators=[DataRequired(_l("Podaj hasło.")), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class PasswordChangeForm(Form):
    current = PasswordField(_l("Obecne hasło"), validators=[DataRequired(_l("Podaj obecne hasło."))],
                            render_kw={"autocomplete": "current-password"})
    password = PasswordField(_l("Nowe hasło"), validators=[DataRequired(_l("Podaj nowe hasło.")), password_policy],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Powtórz nowe hasło"),
                            validators=[EqualTo("password", _l("Hasła nie są takie same."))],
                            render_kw={"autocomplete": "new-password"})
