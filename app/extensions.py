"""Every Flask extension, created unbound here and bound in `create_app()`."""
from flask import request, session
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate(render_as_batch=True, compare_type=True)
compress = Compress()


def select_locale() -> str:
    """Polish unless the user switched to English (kept in the session)."""
    from flask import current_app

    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


babel = Babel()
