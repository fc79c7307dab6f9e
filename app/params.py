"""Typed parameters in one place: ids, integers and dates from the URL and from raw request data.

A bad value in the query string is a 400 that says which parameter and why, in Polish; forms use the
same parsers through app/forms/fields.py, and the URL's <int:...> converter (IdConverter) makes an id
that no database column can hold a 404. Only ASCII digits count: str.isdigit() says yes to '²' and
int() reads '٣' as 3.
"""
import re
from datetime import date

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from models.text import has_control

MAX_ID = 2**31 - 1  # ids are INTEGER columns: PostgreSQL's int4 ends here (SQLite would go on to 2**63-1)
MAX_INT = 2**31 - 1  # an INTEGER column
FIRST_YEAR, LAST_YEAR = 1900, 2100
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class BadParameter(BadRequest):
    polish = True


def refuse_control_characters() -> None:
    """Before every request: a query parameter or a part of the path holding a control character (a
    NUL, an escape, a line break) is a 400 naming it. Nobody types one into a URL; PostgreSQL refuses a
    NUL in any text it is asked to compare, and a search or a slug has no use for the others."""
    for name, value in request.args.items(multi=True):
        if has_control(name) or has_control(value):
            raise BadParameter(description=_("Parametr „%(name)s” zawiera niedozwolony znak sterujący.",
                                             name=name if not has_control(name) else "?"))
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and has_control(value):
            raise BadParameter(description=_("Adres strony zawiera niedozwolony znak sterujący."))


def _at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit (no sign, leading zeros as typed):
    the range is in the pattern itself, so a URL past it matches no rule at all (404, not 405)."""
    digits = str(limit)
    parts = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        if d != "0":
            rest = len(digits) - i - 1
            parts.append(digits[:i] + (f"[0-{int(d) - 1}]" if d != "1" else "0") + (f"[0-9]{{{rest}}}" if rest else ""))
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """<int:...> in every URL rule: ASCII digits, 0 to MAX_ID; anything else is no match (404),
    never an overflow in the database."""

    regex = _at_most(MAX_ID)

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=False)
        self.regex = _at_most(MAX_ID)


def parse_id(raw) -> int:
    """A record id from a request: ASCII digits, 1 to MAX_ID; ValueError otherwise.

    Usable as werkzeug's `type=` (request.form.get("x", type=parse_id) gives None when refused)."""
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int):
        value = raw
    else:
        text = raw.strip() if isinstance(raw, str) else ""
        if not _DIGITS.fullmatch(text):
            raise ValueError(raw)
        value = int(text)
    if not 1 <= value <= MAX_ID:
        raise ValueError(raw)
    return value


def optional_id(raw) -> int | None:
    """parse_id, or None for anything that is not an id (missing, empty, foreign digits, too big)."""
    try:
        return parse_id(raw)
    except ValueError:
        return None


def parse_int(raw, minimum: int = -MAX_INT, maximum: int = MAX_INT) -> int:
    """An integer typed by a person ("1 000" allowed): ASCII digits within range; ValueError otherwise."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        text = raw.strip().replace(" ", "").replace("\xa0", "") if isinstance(raw, str) else ""
        if not _INTEGER.fullmatch(text):
            raise ValueError(raw)
        value = int(text)
    if not minimum <= value <= maximum:
        raise ValueError(raw)
    return value


def parse_date(raw) -> date:
    """RRRR-MM-DD between 1900 and 2100; ValueError otherwise (OutOfYears when only the year is wrong)."""
    if not isinstance(raw, str) or not _DATE.fullmatch(raw):
        raise ValueError(raw)
    value = date.fromisoformat(raw)
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise OutOfYears(raw)
    return value


class OutOfYears(ValueError):
    """A well-formed date outside 1900-2100 (0001-01-01, 9999-12-31): no period of Animo's reaches it."""


def int_arg(name: str, default: int, minimum: int = 1, maximum: int = 1_000_000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_int(raw, minimum, maximum)
    except ValueError:
        raise BadParameter(description=_("Parametr „%(name)s” musi być liczbą całkowitą od %(min)d do %(max)d.",
                                         name=name, min=minimum, max=maximum)) from None


def id_arg(name: str):
    """An id in the query string (?resident=12): None when missing or empty, 400 when it is no id."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_id(raw)
    except ValueError:
        raise BadParameter(description=_("Parametr „%(name)s” musi być identyfikatorem (liczbą całkowitą).",
                                         name=name)) from None


def date_arg(name: str, default=None):
    """A date given as YYYY-MM-DD (1900-2100); a missing or empty parameter gives `default`."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_date(raw)
    except OutOfYears:
        raise BadParameter(description=_("Parametr „%(name)s” musi być datą z lat %(first)d–%(last)d.",
                                         name=name, first=FIRST_YEAR, last=LAST_YEAR)) from None
    except ValueError:
        raise BadParameter(description=_("Parametr „%(name)s” musi być datą w postaci RRRR-MM-DD.",
                                         name=name)) from None
