"""Edits that lose nobody's work: the version kit used by every form that changes existing text.

Every edited record has a `version` column, mapped as SQLAlchemy's `version_id_col`: the ORM's
UPDATE is `... WHERE id = ? AND version = ?` and sets `version + 1`, so the check and the write are
one statement. The form carries the version the user saw (a hidden field named `version`):

    stamp(form, record)                 # GET: the form starts from the record's version
    if stale(form, record):             # POST: someone saved after this user opened the form
        return render(..., **conflict(form, record, _("Ktoś inny ...")))
    ... apply the form to the record ...
    if not save():                      # the UPDATE found another version: the same 409
        return render(..., **conflict(form, reload(), _("Ktoś inny ...")))

`conflict()` keeps what the user typed in the form, sets the form's version to the current one (so
that saving again, having seen the other text, goes through), adds the Polish message and returns
the template context of a 409: `status`, `conflict` and `current_values` (label, value) of the fields
where the saved record differs from the input, shown by `_macros/conflict.html`. A refusal writes
nothing: the view returns before touching the record, or `save()` has rolled back.
"""
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from wtforms import BooleanField, FieldList, FormField, HiddenField, SelectFieldBase, SubmitField

from models import db

MAX_VERSION_DIGITS = 9  # a version is a small counter; anything longer is not one of ours
NOT_SHOWN = {"csrf_token", "version", "confirm_sensitive"}


def submitted_version(form) -> int | None:
    """The version the form was opened at, or None when it is missing or not a plain number
    (e.g. "²", "1e3", 10**20): such a save is treated as stale, never as an error."""
    raw = str(form.version.data or "").strip()
    if not raw or len(raw) > MAX_VERSION_DIGITS or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def stamp(form, record) -> None:
    """The form carries the record's current version (a GET, or a fresh form after a save)."""
    form.version.data = str(record.version)


def stale(form, record) -> bool:
    """True when the record changed since the form was opened (or the form carries no version)."""
    return submitted_version(form) != record.version


def bump(record) -> None:
    """Make the next flush write the record (and so check and raise its version) although none of its
    own columns changed: for edits that change only its rows (members, budget lines, tags)."""
    state = inspect(record)
    version_key = state.mapper.version_id_col.key
    pks = {c.key for c in state.mapper.primary_key}
    for attr in state.mapper.column_attrs:
        if attr.key not in pks and attr.key != version_key and attr.key in state.dict:
            flag_modified(record, attr.key)
            return


def save(*, commit: bool = True, also: tuple = ()) -> bool:
    """Flush (and commit) the edit. False, with the session rolled back, when the UPDATE ... WHERE
    version = ? found someone else's version in between (or `also`, e.g. IntegrityError of a unique
    history row, said the same)."""
    try:
        if commit:
            db.session.commit()
        else:
            db.session.flush()
    except (StaleDataError, *also):
        db.session.rollback()
        return False
    return True


SAVE_ERRORS = (StaleDataError, IntegrityError)


@dataclass
class Conflict:
    """What a 409 shows: the current values that differ from the input, and the current version."""
    version: int
    values: list = dc_field(default_factory=list)

    def __bool__(self) -> bool:
        return True


def _display(field, value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "—"
    if isinstance(field, BooleanField) or isinstance(value, bool):
        return _("tak") if value else _("nie")
    if isinstance(field, SelectFieldBase) and getattr(field, "choices", None):
        for choice in field.choices:
            key, label = (choice.value, choice.label) if hasattr(choice, "value") else (choice[0], choice[1])
            if str(key) == str(value):
                return str(label)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, Decimal):
        return f"{value:f}".replace(".", ",")
    return str(value)


def _same(field, typed, saved) -> bool:
    if isinstance(typed, str) or isinstance(saved, str):
        return " ".join(str(typed or "").split()) == " ".join(str(saved or "").split())
    if isinstance(saved, datetime) and isinstance(typed, datetime):
        return saved.replace(tzinfo=None) == typed.replace(tzinfo=None)
    if isinstance(field, SelectFieldBase) and typed in (0, None) and saved is None:
        return True
    return typed == saved


def current_values(form, current, extra=(), skip=()) -> list[tuple[str, str]]:
    """(label, saved value) of every form field whose saved value differs from what was typed; all of
    them when none differs. Fields the record has no attribute for, or keeps in another shape (UTC
    times, tags), are the view's to `skip` and add in `extra` as (label, value)."""
    differing, every = [], []
    for f in form:
        if f.name in NOT_SHOWN or f.name in skip or isinstance(f, (HiddenField, SubmitField, FieldList, FormField)):
            continue
        saved = getattr(current, f.name, Ellipsis)
        if saved is Ellipsis or callable(saved) or isinstance(saved, (list, tuple, set)):
            continue
        pair = (str(f.label.text), _display(f, saved))
        every.append(pair)
        if not _same(f, f.data, saved):
            differing.append(pair)
    return (differing or every) + [(str(label), "—" if v is None else str(v)) for label, v in extra]


def conflict(form, current, message: str, *, extra=(), skip=(), status: int = 409) -> dict:
    """Prepare the answer to a stale save: the user's input stays in `form`, which now carries the
    current version and `message`; returns the template context (`status`, `conflict`,
    `current_values`) to pass to the view's render."""
    values = current_values(form, current, extra, skip)
    stamp(form, current)
    form.form_errors.append(message)
    return {"status": status, "conflict": Conflict(version=current.version, values=values),
            "current_values": values}
