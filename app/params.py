"""Validated URL parameters: a bad value is a 400 that says which parameter and why, in Polish."""
import re
from datetime import date

from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest


class BadParameter(BadRequest):
    polish = True


def int_arg(name: str, default: int, minimum: int = 1, maximum: int = 1_000_000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise BadParameter(description=_("Parametr „%(name)s” musi być liczbą całkowitą od %(min)d do %(max)d.",
                                         name=name, min=minimum, max=maximum))
    return value


def date_arg(name: str, default=None):
    """A date given as YYYY-MM-DD; a missing or empty parameter gives `default`."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            value = None
    if value is None:
        raise BadParameter(description=_("Parametr „%(name)s” musi być datą w postaci RRRR-MM-DD.", name=name))
    return value
