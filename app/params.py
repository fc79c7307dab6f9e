"""Validated URL parameters: a bad value is a 400 that says which parameter and why, in Polish."""
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
