"""Configuration: defaults here, then `instance/config.py`, then environment variables."""
import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_PATH = PROJECT_ROOT / "instance"


def database_url_from_env() -> str | None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    # Hosting platforms hand out postgres://; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Defaults:
    SECRET_KEY = None  # required: from instance/config.py or SECRET_KEY
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_PATH / 'animo.sqlite3'}"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    PRODUCTION = False

    # Sessions: the cookie is signed and carries only a session token checked on the server.
    # It is refreshed on every request; after IDLE_TIMEOUT without a request it is refused.
    IDLE_TIMEOUT = timedelta(hours=12)  # a field day: one sign-in in the morning is enough
    SESSION_MAX_AGE = timedelta(days=30)  # then sign in again whatever happens
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "animo_session"
    SESSION_REFRESH_EACH_REQUEST = True

    # CSRF tokens live as long as the session, so a long meeting does not void a form.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's scrypt: slow and salted
    PASSWORD_MIN_LENGTH = 12
    # Sign-in throttling (the rule is in views/auth.py's docstring): LIMIT failures within WINDOW
    # from one address, or with one device cookie, make that address or device wait. Failures for
    # an account from unknown browsers at unknown addresses, counted over ACCOUNT_WINDOW, make only
    # such browsers wait: DELAY_BASE after the LIMIT-th, doubling with each further one, at most
    # DELAY_MAX. The owner's browser (device cookie) and usual address are never delayed by them.
    LOGIN_FAILURE_LIMIT = 10
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    LOGIN_ACCOUNT_WINDOW = timedelta(hours=24)
    LOGIN_DELAY_BASE = timedelta(seconds=30)
    LOGIN_DELAY_MAX = timedelta(hours=1)
    LOGIN_DEVICE_MAX_AGE = timedelta(days=180)  # the device cookie; renewed at every sign-in
    LOGIN_USUAL_ADDRESS_AGE = timedelta(days=30)  # an address with a successful sign-in this recent
    # enforce-retention: sign-in attempts (they hold e-mail addresses) and ended sessions.
    LOGIN_ATTEMPT_RETENTION = timedelta(days=30)
    SESSION_RETENTION = timedelta(days=30)  # revoked sessions stay this long for the audit

    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    # Micro-grants: attachments (photos and scans) and the public application form.
    GRANT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    GRANT_UPLOAD_DIR = None  # None: instance/uploads/grants
    APPLY_MAX_BYTES = 100 * 1024  # the public form has no files: anything bigger is refused with 413
    APPLY_SUBMISSIONS_PER_HOUR = 5  # accepted applications per address per hour, then 429
    APPLY_ATTEMPTS_PER_HOUR = 30  # any POSTs (with errors too) per address per hour, then 429
    # Linking a group by reference number: failed look-ups per user within the window, then 429 (and an alert).
    GRANT_REFERENCE_FAILURE_LIMIT = 10
    GRANT_REFERENCE_FAILURE_WINDOW = timedelta(hours=1)

    BABEL_DEFAULT_LOCALE = "pl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Warsaw"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "app" / "translations")
    LANGUAGES = {"pl": "Polski", "en": "English"}

    COMPRESS_MIMETYPES = ["text/html", "text/css", "application/javascript", "text/javascript",
                          "application/json", "image/svg+xml", "text/csv"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    SEND_FILE_MAX_AGE_DEFAULT = timedelta(days=365)

    PER_PAGE = 50

    # RODO: residents with no activity for this long are listed for review (and anonymisation);
    # data covered by a withdrawn consent is hidden at once and removed after the grace period.
    RETENTION_MONTHS = 24
    CONSENT_WITHDRAWAL_GRACE_DAYS = 30


def load_config(app, test_config: dict | None = None) -> None:
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    env = os.environ
    if env.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = env["SECRET_KEY"]
    if url := database_url_from_env():
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if env.get("ANIMO_PRODUCTION", "").lower() in {"1", "true", "yes"}:
        app.config["PRODUCTION"] = True
    if env.get("ANIMO_IDLE_TIMEOUT_MINUTES"):
        app.config["IDLE_TIMEOUT"] = timedelta(minutes=int(env["ANIMO_IDLE_TIMEOUT_MINUTES"]))
    if test_config:
        app.config.update(test_config)
    if app.config["PRODUCTION"]:
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["IDLE_TIMEOUT"]
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set: put it in instance/config.py or the SECRET_KEY environment variable "
            "(`make run` writes one for you)."
        )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"], "connect_args": {"timeout": 15}
        }
