"""One WTForms class per use case, shared by full-page and htmx posts.

Every form class derives from `Form` (a FlaskForm) and every row of a FieldList from `SubForm`:
their Meta is the one place where text entering the database is made clean and where WTForms'
own messages are made Polish.

- Each text field (StringField and its kin: HiddenField, EmailField, SearchField ...) is normalised
  (Unicode NFC, trimmed) by `models.text.clean_line`; a control character in it is refused with a
  Polish message next to the field. A TextAreaField goes through `clean_text` instead (control
  characters but tab and newline dropped, line breaks made \\n). A PasswordField is never touched.
- Every message WTForms itself produces ("Not a valid choice." ...) is translated by `WTFORMS_PL`,
  through our own catalog, so it is Polish on Polish pages whatever WTForms' catalog holds.
"""
import wtforms
from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms.fields import PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from models.text import ControlCharacterError, clean_line, clean_text


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms option objects."""
    return [SelectChoice(value, label) for value, label in pairs]


# --- text hygiene -----------------------------------------------------------------------------------

CONTROL_MESSAGE = _l("Pole zawiera niedozwolony znak sterujący (np. tabulator albo znak nowej linii). "
                     "Wpisz tekst jeszcze raz, bez wklejania.")


def line_filter(value):
    """A single line: NFC, trimmed; a control character is a field error (not a 500, not stored)."""
    if not isinstance(value, str):
        return value
    try:
        return clean_line(value)
    except ControlCharacterError:
        raise ValueError(CONTROL_MESSAGE) from None


def text_filter(value):
    """Multi-line text: NFC, \\n line breaks, control characters dropped."""
    return clean_text(value) if isinstance(value, str) else value


def cleaner_for(field_class):
    """The text filter a field class gets from the Meta, or None (not a text field, or a password)."""
    if not issubclass(field_class, StringField) or issubclass(field_class, PasswordField):
        return None
    if getattr(field_class, "keep_text", False):
        return None
    return text_filter if issubclass(field_class, TextAreaField) else line_filter


# --- WTForms' own messages, in Polish -----------------------------------------------------------------
# Keys are WTForms' English message ids (wtforms 3.x); values our Polish text. Messages that WTForms
# formats with % afterwards keep its placeholders; none holds a bare %.
WTFORMS_PL = {
    "This field is required.": _l("To pole jest wymagane."),
    "Not a valid choice.": _l("Wybierz jedną z możliwości z listy."),
    "Invalid Choice: could not coerce.": _l("Wybierz jedną z możliwości z listy."),
    "Invalid choice(s): one or more data inputs could not be coerced.": _l("Wybierz możliwości z listy."),
    "'%(value)s' is not a valid choice for this field.": _l("Wybrana wartość nie jest jedną z możliwości z listy."),
    "'%(value)s' are not valid choices for this field.": _l("Wybrane wartości nie są możliwościami z listy."),
    "Choices cannot be None.": _l("Wybierz jedną z możliwości z listy."),
    "Not a valid integer value.": _l("Podaj liczbę całkowitą, np. 25."),
    "Not a valid decimal value.": _l("Podaj liczbę, np. 12 albo 12,5."),
    "Not a valid float value.": _l("Podaj liczbę, np. 12 albo 12,5."),
    "Not a valid date value.": _l("Podaj poprawną datę (dzień, miesiąc, rok)."),
    "Not a valid datetime value.": _l("Podaj poprawną datę i godzinę."),
    "Not a valid time value.": _l("Podaj poprawną godzinę."),
    "Not a valid week value.": _l("Podaj poprawny tydzień."),
    "Number must be at least %(min)s.": _l("Liczba musi wynosić co najmniej %(min)s."),
    "Number must be at most %(max)s.": _l("Liczba może wynosić najwyżej %(max)s."),
    "Number must be between %(min)s and %(max)s.": _l("Podaj liczbę od %(min)s do %(max)s."),
    "Date must be at least %(min)s.": _l("Data nie może być wcześniejsza niż %(min)s."),
    "Date must be at most %(max)s.": _l("Data nie może być późniejsza niż %(max)s."),
    "Date must be between %(min)s and %(max)s.": _l("Podaj datę od %(min)s do %(max)s."),
    "Field must be at least %(min)d character long.": _l("Wpisz co najmniej %(min)d znaków."),
    "Field must be at least %(min)d characters long.": _l("Wpisz co najmniej %(min)d znaków."),
    "Field cannot be longer than %(max)d character.":
        _l("Tekst nie może mieć więcej niż %(max)d znaków (ma %(length)d)."),
    "Field cannot be longer than %(max)d characters.":
        _l("Tekst nie może mieć więcej niż %(max)d znaków (ma %(length)d)."),
    "Field must be exactly %(max)d character long.": _l("Wpisz dokładnie %(max)d znaków."),
    "Field must be exactly %(max)d characters long.": _l("Wpisz dokładnie %(max)d znaków."),
    "Field must be between %(min)d and %(max)d characters long.": _l("Wpisz od %(min)d do %(max)d znaków."),
    "Field must be equal to %(other_name)s.": _l("Wartość musi być taka sama jak w polu %(other_name)s."),
    "Invalid email address.": _l("To nie jest poprawny adres e-mail."),
    "Invalid input.": _l("Nieprawidłowa wartość."),
    "Invalid value, must be one of: %(values)s.": _l("Nieprawidłowa wartość: dozwolone są %(values)s."),
    "Invalid value, can't be any of: %(values)s.": _l("Nieprawidłowa wartość: niedozwolone są %(values)s."),
    "Invalid URL.": _l("To nie jest poprawny adres internetowy."),
    "Invalid UUID.": _l("Nieprawidłowy identyfikator."),
    "Invalid IP address.": _l("Nieprawidłowy adres IP."),
    "Invalid Mac address.": _l("Nieprawidłowy adres MAC."),
    "Invalid field name '%s'.": _l("Nieprawidłowe pole formularza."),
    "This field cannot be edited.": _l("Tego pola nie można zmienić."),
    "This field is disabled and cannot have a value.": _l("To pole jest wyłączone i nie może mieć wartości."),
    "CSRF token missing.": _l("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."),
    "CSRF token expired.": _l("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."),
    "Invalid CSRF Token.": _l("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."),
    "CSRF failed.": _l("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."),
    "The CSRF token is missing.":
        _l("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."),
    "The CSRF token has expired.":
        _l("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."),
    "The CSRF token is invalid.":
        _l("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."),
    "The CSRF tokens do not match.":
        _l("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."),
    "The CSRF session token is missing.":
        _l("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."),
}


class PolishMessages:
    """WTForms' translations object: its English messages become ours (Polish, through our catalog)."""

    def gettext(self, string):
        found = WTFORMS_PL.get(string)
        return str(found) if found is not None else string

    def ngettext(self, singular, plural, n):
        found = WTFORMS_PL.get(plural if n != 1 else singular)
        if found is not None:
            return str(found)
        return singular if n == 1 else plural


POLISH_MESSAGES = PolishMessages()


class CleanMeta:
    """What both bases share: text cleaned on the way in, WTForms speaking Polish."""

    def bind_field(self, form, unbound_field, options):
        cleaner = cleaner_for(unbound_field.field_class)
        if cleaner is not None:
            own = tuple(unbound_field.kwargs.get("filters", ()))
            options = {**options, "filters": (cleaner, *own)}
        return unbound_field.bind(form=form, **options)

    def get_translations(self, form):
        return POLISH_MESSAGES


class Form(FlaskForm):
    """The base of every form of the application."""

    class Meta(CleanMeta, FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            """Only a form body is read (a JSON body is none of our forms'), and an uploaded file reaches
            only the form's own file fields: a file sent in place of a text field is a missing value
            (a Polish "required" message), never a FileStorage handed to a text filter."""
            formdata = super().wrap_formdata(form, formdata)
            if isinstance(formdata, CombinedMultiDict):  # Flask-WTF's request.files + request.form
                names = {f.name for f in form if isinstance(f, wtforms.FileField)}
                files = MultiDict([(n, v) for n in names for v in request.files.getlist(n)])
                return CombinedMultiDict([files, request.form]) if files else request.form
            if formdata is not None and request.is_json:
                return None
            return formdata


class SubForm(wtforms.Form):
    """The base of a row of a FieldList (FormField): no CSRF of its own, the same hygiene."""

    class Meta(CleanMeta, wtforms.Form.Meta):
        pass
