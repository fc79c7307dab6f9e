"""Informal groups: the group itself, a stage move, members, goals. Labels of stages, statuses and roles."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.forms import Form, choices
from app.forms.fields import DateField, IdField, VersionField, coerce_id
from app.forms.residents import no_pesel, parse_tags, tags_check
from app.timeutil import today_local
from models import GoalStatus, GroupStatus, MemberRole, Stage

STAGE_LABELS = [
    (Stage.idea.value, _l("Pomysł")),
    (Stage.core_group.value, _l("Grupa inicjatywna")),
    (Stage.planning.value, _l("Planowanie")),
    (Stage.action.value, _l("Działanie")),
    (Stage.reflection.value, _l("Podsumowanie")),
    (Stage.independent.value, _l("Samodzielność")),
]
STATUS_LABELS = [
    (GroupStatus.active.value, _l("aktywna")),
    (GroupStatus.dormant.value, _l("uśpiona")),
    (GroupStatus.ended.value, _l("zakończona")),
]
STATUS_FILTER_LABELS = [
    ("current", _l("aktywne i uśpione")),
    ("active", _l("aktywne")),
    ("dormant", _l("uśpione")),
    ("ended", _l("zakończone")),
    ("all", _l("wszystkie")),
]
MEMBER_ROLE_LABELS = [
    (MemberRole.member.value, _l("członek/członkini")),
    (MemberRole.leader.value, _l("lider/ka")),
    (MemberRole.contact.value, _l("osoba kontaktowa")),
]
GOAL_STATUS_LABELS = [
    (GoalStatus.planned.value, _l("zaplanowany")),
    (GoalStatus.in_progress.value, _l("w toku")),
    (GoalStatus.done.value, _l("osiągnięty")),
    (GoalStatus.dropped.value, _l("porzucony")),
]


def join_tags(raw: str | None) -> str | None:
    """'Zieleń, dzieci ,' -> 'zieleń,dzieci' (what the tags column holds), or None."""
    return ",".join(parse_tags(raw)) or None


def not_in_future(message):
    def check(form, field):
        if field.data and field.data > today_local():
            raise ValidationError(message)
    return check


class GroupForm(Form):
    """A group's details. The stage is not here: it changes only by a noted move."""
    edits = "community_group"  # carries its version (app/writes.py)

    name = StringField(_l("Nazwa grupy"), validators=[DataRequired(_l("Podaj nazwę grupy.")), Length(max=160)],
                       render_kw={"autocomplete": "off"})
    matter = StringField(_l("Sprawa, którą się zajmuje"), validators=[Optional(), Length(max=300)],
                         render_kw={"placeholder": _l("np. zielone podwórko przy Wierzbięcice 12")})
    description = TextAreaField(_l("Opis"), validators=[Optional(), Length(max=5000), no_pesel],
                                render_kw={"rows": 3})
    tags = StringField(_l("Tagi (po przecinku)"), validators=[Optional(), Length(max=300), tags_check])
    neighbourhood_id = SelectField(_l("Osiedle"), coerce=coerce_id, validators=[DataRequired(_l("Wybierz osiedle."))])
    animator_id = SelectField(_l("Animator/ka"), coerce=coerce_id, validators=[Optional()])
    started_on = DateField(_l("Od kiedy działa"), default=today_local,
                           validators=[DataRequired(_l("Podaj datę (dzień, miesiąc, rok).")),
                                       not_in_future(_l("Data powstania nie może być z przyszłości."))])
    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS), default=GroupStatus.active.value)
    formalised_on = DateField(_l("Sformalizowana dnia"), validators=[
        Optional(), not_in_future(_l("Data sformalizowania nie może być z przyszłości."))])
    formal_name = StringField(_l("Forma prawna i nazwa"), validators=[Optional(), Length(max=200)],
                              render_kw={"placeholder": _l("np. Stowarzyszenie zwykłe „Zielone Podwórko”")})
    version = VersionField()

    def validate_formalised_on(self, field):
        if field.data and self.started_on.data and field.data < self.started_on.data:
            raise ValidationError(_l("Grupa nie mogła się sformalizować, zanim powstała."))

    def validate_formal_name(self, field):
        if (field.data or "").strip() and not self.formalised_on.data:
            raise ValidationError(_l("Podaj też datę sformalizowania."))


class NewGroupForm(GroupForm):
    edits = None  # creates a record
    stage = SelectField(_l("Etap na początek"), choices=choices(STAGE_LABELS), default=Stage.idea.value)
    note = TextAreaField(_l("Notatka do historii (skąd wziął się pomysł)"),
                         validators=[Optional(), Length(max=2000), no_pesel], render_kw={"rows": 2})


class StageMoveForm(Form):
    """A move to another stage, forward or back: always with a note."""
    edits = "community_group"  # carries its version (app/writes.py)

    to_stage = SelectField(_l("Przenieś na etap"), choices=choices(STAGE_LABELS))
    note = TextAreaField(_l("Notatka: co się wydarzyło?"), validators=[
        DataRequired(_l("Napisz krótko, dlaczego grupa zmienia etap.")), Length(max=2000), no_pesel],
        render_kw={"rows": 2})
    version = VersionField()

    def validate_version(self, field):
        if not field.data:  # VersionField lets only ASCII digits through
            raise ValidationError(_l("Odśwież stronę i spróbuj ponownie."))


class MemberAddForm(Form):
    """Add a resident found by search; the chosen person comes as the pressed button's value."""

    q = StringField(_l("Szukaj osoby"), validators=[Optional(), Length(max=100)],
                    render_kw={"type": "search", "autocomplete": "off", "placeholder": _l("imię, nazwisko, telefon…")})
    role = SelectField(_l("Rola"), choices=choices(MEMBER_ROLE_LABELS), default=MemberRole.member.value)
    resident_id = IdField()

    def validate_resident_id(self, field):
        if not field.data:  # an IdField: an id, or None
            raise ValidationError(_l("Wyszukaj osobę i wybierz ją z listy."))


class MemberRoleForm(Form):
    role = SelectField(_l("Rola"), choices=choices(MEMBER_ROLE_LABELS))


class GoalForm(Form):
    title = StringField(_l("Cel"), validators=[DataRequired(_l("Napisz, co grupa chce osiągnąć.")), Length(max=200)],
                        render_kw={"placeholder": _l("np. ławki na podwórku do czerwca")})
    due_on = DateField(_l("Termin (opcjonalnie)"), validators=[Optional()])


class GoalStatusForm(Form):
    edits = "goal"
    status = SelectField(_l("Status celu"), choices=choices(GOAL_STATUS_LABELS))
    version = VersionField()
