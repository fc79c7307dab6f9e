"""The Animo application factory. Read `create_app()` as a table of contents."""
from flask import Flask

from app.config import INSTANCE_PATH, PROJECT_ROOT, load_config


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_PATH),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    load_config(app, test_config)
    register_extensions(app)
    register_security(app)
    register_templates(app)
    register_converters(app)
    register_blueprints(app)
    register_errors(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    from models import db
    from app import database
    from app.extensions import babel, compress, csrf, login_manager, migrate, select_locale

    db.init_app(app)
    database.configure_engine(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    compress.init_app(app)


def register_security(app: Flask) -> None:
    from app import security, sessions

    sessions.init_app(app)
    security.init_app(app)


def register_templates(app: Flask) -> None:
    from app import submissions, templating

    templating.init_app(app)
    submissions.init_app(app)


def register_converters(app: Flask) -> None:
    """<int:...> in every rule: ASCII digits within an id column, or no match (404), before any rule is added;
    a control character in the query string or the path: a 400 before any view reads it."""
    from app.params import IdConverter, refuse_control_characters

    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_control_characters)


def register_blueprints(app: Flask) -> None:
    from views import admin, auth, imports, interactions, main, privacy, residents

    for module in (auth, main, admin, imports, residents, interactions, privacy):
        app.register_blueprint(module.bp)
    from views import calendar, commitments, meetings

    for module in (meetings, calendar, commitments):
        app.register_blueprint(module.bp)
    from views import groups

    app.register_blueprint(groups.bp)
    from views import diagnosis, partners

    for module in (diagnosis, partners):
        app.register_blueprint(module.bp)
    from views import apply, grants

    for module in (grants, apply):
        app.register_blueprint(module.bp)
    from views import reports

    app.register_blueprint(reports.bp)
    from views import city

    app.register_blueprint(city.bp)


def register_errors(app: Flask) -> None:
    from app import errors

    errors.init_app(app)


def register_cli(app: Flask) -> None:
    from app import cli

    cli.init_app(app)
