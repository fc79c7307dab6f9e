"""The record of processing activities, edited by the admin."""
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import Form
from app.forms.fields import IntField, VersionField

_required = DataRequired(_l("To pole jest wymagane."))


class ProcessingActivityForm(Form):
    edits = "processing_activity"  # carries its version (app/writes.py)
    name = StringField(_l("Nazwa czynności przetwarzania"), validators=[_required, Length(max=200)])
    purpose = TextAreaField(_l("Cel"), validators=[_required, Length(max=4000)])
    legal_basis = TextAreaField(_l("Podstawa prawna"), validators=[_required, Length(max=4000)])
    data_subjects = TextAreaField(_l("Kategorie osób"), validators=[_required, Length(max=4000)])
    data_categories = TextAreaField(_l("Kategorie danych"), validators=[_required, Length(max=4000)])
    recipients = TextAreaField(_l("Odbiorcy"), validators=[_required, Length(max=4000)])
    retention = TextAreaField(_l("Okres przechowywania"), validators=[_required, Length(max=4000)])
    security = TextAreaField(_l("Środki bezpieczeństwa"), validators=[_required, Length(max=4000)])
    position = IntField(_l("Kolejność"), default=10, minimum=0, maximum=1000, validators=[Optional()])
    version = VersionField()
