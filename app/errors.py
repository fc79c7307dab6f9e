"""Polish error pages. A 500 shows an incident id and logs the trace; the user never sees it."""
import secrets

from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.htmx import is_htmx
from models import db

MESSAGES = {
    400: (lambda: _("Nieprawidłowe żądanie"), lambda: _("Przeglądarka wysłała coś, czego nie rozumiemy. Wróć i spróbuj ponownie.")),
    401: (lambda: _("Zaloguj się"), lambda: _("Ta strona wymaga zalogowania.")),
    403: (lambda: _("Brak dostępu"), lambda: _("Twoje konto nie ma dostępu do tej strony.")),
    404: (lambda: _("Nie znaleziono"), lambda: _("Nie ma takiej strony albo nie masz do niej dostępu.")),
    405: (lambda: _("Niedozwolona operacja"), lambda: _("Tej strony nie można użyć w ten sposób.")),
    409: (lambda: _("Konflikt zmian"), lambda: _("Ktoś w międzyczasie zmienił te dane. Odśwież stronę i wprowadź zmiany ponownie.")),
    413: (lambda: _("Plik jest za duży"), lambda: _("Przesłane dane przekraczają dozwolony rozmiar.")),
    422: (lambda: _("Popraw dane"), lambda: _("Formularz zawiera błędy.")),
    429: (lambda: _("Zbyt wiele prób"), lambda: _("Zbyt wiele prób w krótkim czasie. Odczekaj kilkanaście minut i spróbuj ponownie.")),
    500: (lambda: _("Błąd serwera"), lambda: _("Coś poszło nie tak po naszej stronie. Podaj administratorowi numer zdarzenia.")),
    503: (lambda: _("Usługa niedostępna"), lambda: _("Aplikacja jest chwilowo niedostępna. Spróbuj za chwilę.")),
}


def render_error(code: int, message: str | None = None, incident: str | None = None):
    title, default = MESSAGES.get(code, MESSAGES[500])
    template = "errors/fragment.html" if is_htmx() else "errors/error.html"
    body = render_template(template, code=code, title=title(), message=message or default(),
                           incident=incident)
    return body, code


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err):
        return render_error(400, _("Formularz wygasł lub nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie."))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if err.code not in MESSAGES:
            return err
        # Our own aborts may carry a specific Polish description; werkzeug's defaults are English.
        own = err.description if getattr(err, "polish", False) else None
        body, code = render_error(err.code, own)
        # Keep the headers HTTP asks of the error (Allow on a 405, Retry-After on a 429,
        # WWW-Authenticate on a 401); the page and its content type are ours.
        headers = [(k, v) for k, v in err.get_headers() if k.lower() != "content-type"]
        return body, code, headers

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        incident = secrets.token_hex(4)
        db.session.rollback()
        app.logger.exception("incident %s on %s %s", incident, request.method, request.path)
        return render_error(500, incident=incident)
