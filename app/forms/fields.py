"""Typed fields that speak Polish: ids, integers, decimals, dates and date-times.

Every number and date a form takes goes through one of these, so that what the database cannot hold
never reaches it: ASCII digits only (str.isdigit() says yes to '²', int() to '٣'), ids within an
INTEGER column, no NaN/Infinity/exponents, no more decimal places than the column keeps, dates
between 1900 and 2100. A refusal is a Polish message next to the field; a hidden field's refusal is
a message on the form.
"""
import re
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import fields as wtf

from app.params import FIRST_YEAR, LAST_YEAR, MAX_ID, MAX_INT, optional_id, parse_id, parse_int  # noqa: F401

_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)


def coerce_id(value):
    """A SelectField's coerce for ids (in place of `int`): '²', 10**20 and the like are not a choice.

    0 (the "— none —" option many selects offer) is kept."""
    if value in (0, "0"):
        return 0
    return parse_id(value)


def coerce_id_or_none(value):
    """A coerce for selects whose empty option means "none"; a value that is no id is a field error."""
    if value in (None, "", "None"):
        return None
    if value in (0, "0"):
        return 0
    return parse_id(value)


class IdField(wtf.HiddenField):
    """A hidden id (resident_id, group_id, meeting_id ...): an int in `data`, None when empty.

    A value that is no id is a form error in Polish (not an OverflowError in the database)."""

    keep_text = True  # parsed here, not by the text filter
    message = _l("Nieprawidłowy identyfikator w formularzu: odśwież stronę i spróbuj ponownie.")

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or valuelist[0] is None or not str(valuelist[0]).strip():
            return
        try:
            self.data = parse_id(valuelist[0])
        except ValueError:
            raise ValueError(self.message) from None

    def process_data(self, value):
        self.data = optional_id(value) if value not in (None, "") else None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def pre_validate(self, form):
        if self.process_errors:
            # errors of a hidden field are not shown next to it: say it on the form as well
            form.form_errors.append(self.message)


class VersionField(wtf.HiddenField):
    """The version an edit started from: digits in a string (views compare it with str(record.version))."""

    keep_text = True
    message = _l("Nieprawidłowa wersja formularza: odśwież stronę i wprowadź zmiany ponownie.")

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, int):  # not sent: the record's own version, from `obj`
            self.data = str(self.data)
        if self.data and not _DIGITS.fullmatch(self.data):
            self.data = ""
            raise ValueError(self.message)

    def pre_validate(self, form):
        if self.process_errors:
            form.form_errors.append(self.message)


class IntField(wtf.IntegerField):
    """A whole number typed by a person: ASCII digits (spaces allowed: "1 000"), within [minimum, maximum]."""

    def __init__(self, label=None, validators=None, minimum: int = 0, maximum: int = MAX_INT, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or valuelist[0] is None or not str(valuelist[0]).strip():
            return
        try:
            self.data = parse_int(str(valuelist[0]))
        except ValueError:
            raise ValueError(_l("Podaj liczbę całkowitą, np. 25.")) from None
        if not self.minimum <= self.data <= self.maximum:
            self.data = None
            raise ValueError(_l("Podaj liczbę całkowitą od %(min)s do %(max)s.",
                                min=_plain_int(self.minimum), max=_plain_int(self.maximum)))


def _plain_int(n: int) -> str:
    return f"{n:,}".replace(",", "\xa0")


class DecimalField(wtf.StringField):
    """A number typed the Polish way ("1 200,50", "4000 zł"); Decimal in `data`, None when empty.

    Only plain digits with at most `places` decimal places and `digits` before the point: no NaN,
    Infinity or exponent (1e-9999999 would pass "> 0" and be stored as 0), no 0.004 in a column of
    two places. Shown back plainly (10, not 1E+1), with a comma."""

    keep_text = True

    def __init__(self, label=None, validators=None, places: int = 2, digits: int = 8,
                 minimum: Decimal | None = None, maximum: Decimal | None = None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.places, self.digits = places, digits
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or valuelist[0] is None:
            return
        raw = str(valuelist[0]).strip()
        raw = raw.replace("\xa0", "").replace("\u202f", "").replace(" ", "").replace("zł", "").replace(",", ".")
        if not raw:
            return
        pattern = r"-?[0-9]{1,%d}(\.[0-9]{1,%d})?" % (self.digits, self.places) if self.places \
            else r"-?[0-9]{1,%d}" % self.digits
        if not re.fullmatch(pattern, raw, re.ASCII):
            if self.places:
                raise ValueError(_l("Podaj liczbę, np. 1200 albo 1200,50 (najwyżej %(n)d miejsca po przecinku).",
                                    n=self.places))
            raise ValueError(_l("Podaj liczbę całkowitą, np. 25."))
        value = Decimal(raw)
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise ValueError(_l("Podaj liczbę od %(min)s do %(max)s.", min=plain_decimal(self.minimum),
                                max=plain_decimal(self.maximum)))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        if isinstance(self.data, (Decimal, int, float)):
            return plain_decimal(self.data)
        return str(self.data)


def plain_decimal(value) -> str:
    """10 as '10', 10.50 as '10,50', never '1E+1'."""
    if value is None:
        return ""
    return format(Decimal(value), "f").replace(".", ",")


def _in_years(value) -> bool:
    return FIRST_YEAR <= value.year <= LAST_YEAR


class _YearsMixin:
    """Reads the sent text once, parses it with the field's `parse`, and keeps it within 1900-2100."""

    invalid = ""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or valuelist[0] is None or not str(valuelist[0]).strip():
            return
        value = self.parse(str(valuelist[0]).strip())
        if value is None:
            raise ValueError(self.invalid)
        if not _in_years(value):
            raise ValueError(_l("Podaj datę z lat %(first)d–%(last)d.", first=FIRST_YEAR, last=LAST_YEAR))
        self.data = value


class DateField(_YearsMixin, wtf.DateField):
    """A date as the browser sends it (RRRR-MM-DD) or as a person types it (DD.MM.RRRR), 1900-2100."""

    invalid = _l("Podaj datę (dzień, miesiąc, rok).")

    @staticmethod
    def parse(raw: str):
        try:
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw, re.ASCII):
                return date.fromisoformat(raw)
            if re.fullmatch(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}", raw, re.ASCII):
                d, m, y = (int(p) for p in raw.split("."))
                return date(y, m, d)
        except ValueError:
            pass
        return None


class DateTimeLocalField(_YearsMixin, wtf.DateTimeLocalField):
    """A date and time (RRRR-MM-DDTGG:MM, as a datetime-local input sends it), 1900-2100."""

    invalid = _l("Podaj datę i godzinę.")

    def __init__(self, label=None, validators=None, format="%Y-%m-%dT%H:%M", **kwargs):
        super().__init__(label, validators, format=format, **kwargs)

    @staticmethod
    def parse(raw: str):
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?", raw, re.ASCII):
            try:
                return datetime.fromisoformat(raw.replace(" ", "T")).replace(second=0, microsecond=0)
            except ValueError:
                pass
        return None


class RowList(wtf.FieldList):
    """A FieldList of rows (members, budget lines, criteria, scores) that explains its limit.

    Rows are read from ASCII indices only (WTForms' own isdigit() lets '²' through to int()); more
    rows than `max_entries` are an error on the list, not silently cut; `append_entry` beyond the
    limit is refused with the same message, not an AssertionError."""

    def __init__(self, unbound_field, label=None, validators=None, min_entries=0, max_entries=None,
                 too_many=None, **kwargs):
        super().__init__(unbound_field, label, validators, min_entries=min_entries, max_entries=max_entries,
                         **kwargs)
        self.too_many = too_many

    def limit_message(self):
        return self.too_many or _l("Najwyżej %(n)d wierszy.", n=self.max_entries)

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for k in formdata:
            if k.startswith(prefix):
                k = k[offset:].split(self._field_separator, 1)[0]
                if re.fullmatch(r"[0-9]{1,4}", k, re.ASCII):
                    yield int(k)

    def process(self, formdata, data=wtf.core.unset_value, extra_filters=None):
        self.over_limit = False
        if formdata and self.max_entries:
            posted = set(self._extract_indices(self.name, formdata))
            self.over_limit = len(posted) > self.max_entries
        super().process(formdata, data, extra_filters)
        if self.over_limit:
            self._say_limit(self._form)

    def _say_limit(self, form):
        errors = getattr(form, "form_errors", None)
        if errors is not None and self.limit_message() not in errors:
            errors.append(self.limit_message())

    def full(self) -> bool:
        return bool(self.max_entries) and len(self.entries) >= self.max_entries

    def append_entry(self, data=wtf.core.unset_value):
        """One more row; at the limit, no row but the limit's message on the form."""
        if self.full():
            self._say_limit(self._form)
            return None
        return super().append_entry(data)

    def validate(self, form, extra_validators=()):
        ok = super().validate(form, extra_validators)
        if self.over_limit:
            # on the form (rendered above it): the rows themselves were read only up to the limit
            self._say_limit(form)
            return False
        return ok
