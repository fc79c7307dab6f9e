"""Command-line tasks: `flask --app app <command>`."""
import csv
import sqlite3
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.config import PROJECT_ROOT
from models import Centre, Neighbourhood, Role, User, db, record_audit
from models.text import ControlCharacterError, clean_line

OSIEDLA_CSV = PROJECT_ROOT / "app" / "data" / "poznan_osiedla.csv"


class CleanLine(click.ParamType):
    """A single-line text argument cleaned as forms clean theirs (models/text.py): NFC, trimmed, no
    control character, at most `max_length` characters (the column's length)."""

    name = "text"

    def __init__(self, max_length: int):
        self.max_length = max_length

    def convert(self, value, param, ctx):
        try:
            value = clean_line(value)
        except ControlCharacterError:
            self.fail("contains a control character (a tab, a line break or another)", param, ctx)
        if len(value) > self.max_length:
            self.fail(f"at most {self.max_length} characters, got {len(value)}", param, ctx)
        return value


def init_app(app) -> None:
    for command in (seed_neighbourhoods, demo_data, demo_logins_cmd, create_user, backup, restore, recompute_ladder,
                    enforce_retention):
        app.cli.add_command(command)


def load_neighbourhoods() -> int:
    """Insert any of Poznań's 42 osiedla that are missing; returns how many were added."""
    existing = set(db.session.scalars(select(Neighbourhood.slug)))
    added = 0
    with OSIEDLA_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["slug"] not in existing:
                db.session.add(Neighbourhood(slug=row["slug"], name=row["name"], official_name=row["official_name"]))
                added += 1
    db.session.commit()
    return added


@click.command("seed-neighbourhoods")
@with_appcontext
def seed_neighbourhoods():
    """Load Poznań's 42 osiedla (idempotent)."""
    added = load_neighbourhoods()
    total = db.session.query(Neighbourhood).count()
    click.echo(f"Osiedla: {total} in the database, {added} added.")


@click.command("demo-data")
@with_appcontext
@click.option("--scale", type=click.Choice(["small", "city"]), default="small", show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
def demo_data(scale: str, seed: int):
    """Generate the demo dataset once (does nothing if centres already exist)."""
    from app import demo

    load_neighbourhoods()
    if demo.already_seeded():
        click.echo("Demo data: the database already has centres, nothing generated.")
        return
    logins = demo.generate(scale=scale, seed=seed, password_method=current_app.config["PASSWORD_HASH_METHOD"])
    click.echo(f"Demo data ({scale}, seed {seed}): {len(logins)} accounts generated.")


@click.command("demo-logins")
@with_appcontext
def demo_logins_cmd():
    """Print each demo login on its own line."""
    from app import demo

    for login in demo.demo_logins():
        click.echo(f"DEMO LOGIN role={login.role} centre={login.centre} email={login.email} "
                   f"password={demo.DEMO_PASSWORD}")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")


@click.command("create-user")
@with_appcontext
@click.argument("email", type=CleanLine(254))
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", type=CleanLine(120), default=None,
              help="Display name (defaults to the part of the e-mail before @).")
@click.option("--centre", "centre_slug", type=CleanLine(80), default=None, help="Centre slug (animators and coordinators).")
@click.option("--neighbourhood", "hood_slugs", type=CleanLine(80), multiple=True,
              help="Osiedle slug for an animator; repeatable.")
def create_user(email, role, name, centre_slug, hood_slugs):
    """Create an account. The password is read from a prompt or standard input, never from argv."""
    from models.user import ROLES_WITH_CENTRE, normalise_email

    email = normalise_email(email)
    if "@" not in email:
        raise click.BadParameter("not an e-mail address", param_hint="EMAIL")
    if User.by_email(email):
        raise click.ClickException(f"An account with {email} already exists.")
    centre = None
    if centre_slug:
        centre = db.session.scalar(select(Centre).where(Centre.slug == centre_slug))
        if centre is None:
            raise click.BadParameter(f"no centre with slug {centre_slug!r}", param_hint="--centre")
    if role in ROLES_WITH_CENTRE and centre is None:
        raise click.BadParameter(f"role {role} needs --centre", param_hint="--centre")
    if role in ("city", "admin") and centre is not None:
        raise click.BadParameter(f"role {role} has no centre", param_hint="--centre")
    hoods = []
    for slug in hood_slugs:
        hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == slug))
        if hood is None:
            raise click.BadParameter(f"no osiedle with slug {slug!r}", param_hint="--neighbourhood")
        hoods.append(hood)
    if hoods and role != "animator":
        raise click.BadParameter("only animators are assigned osiedla", param_hint="--neighbourhood")
    password = _read_password()
    if len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
        raise click.ClickException(f"The password must have at least {current_app.config['PASSWORD_MIN_LENGTH']} characters.")
    user = User(email=email, name=name or email.split("@")[0], role=role, centre=centre, neighbourhoods=hoods,
                password_hash="")
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.flush()
    record_audit("user_created", object_type="user", object_id=user.id, via="cli", role=role)
    db.session.commit()
    click.echo(f"Created {role} {email} (id {user.id}).")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path):
    """Copy the SQLite database to PATH, consistently, while the application runs."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "This database is PostgreSQL: back it up with pg_dump, e.g. "
            "`pg_dump --format=custom --file=animo.dump \"$DATABASE_URL\"`, and restore with pg_restore."
        )
    if path.exists():
        raise click.ClickException(f"{path} exists; choose a new file name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(url.database)
    try:
        target = sqlite3.connect(path)
        with target:
            source.backup(target)  # SQLite's online backup API: a consistent snapshot while others write
        ok = target.execute("PRAGMA integrity_check").fetchone()[0]
        target.close()
    finally:
        source.close()
    if ok != "ok":
        raise click.ClickException(f"The backup at {path} failed its integrity check: {ok}")
    click.echo(f"Backup written to {path} (integrity ok).")


@click.command("recompute-ladder")
@with_appcontext
def recompute_ladder():
    """Derive every resident's rung on the engagement ladder again (run nightly: "active" ages out)."""
    from models import ladder

    count = ladder.refresh_all()
    click.echo(f"Ladder recomputed for {count} residents.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore(path: Path, yes: bool):
    """Replace the SQLite database with the backup at PATH (stop the application first)."""
    import time

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException("This database is PostgreSQL: restore with pg_restore --clean -d \"$DATABASE_URL\" FILE.")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = source.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise click.ClickException(f"{path} is damaged ({ok}); nothing was restored.")
        if not yes:
            click.confirm(f"Replace {url.database} with {path}?", abort=True)
        started = time.perf_counter()
        db.engine.dispose()
        target = sqlite3.connect(url.database)
        try:
            source.backup(target)  # page by page, in one transaction on the target
            problems = target.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            target.close()
    finally:
        source.close()
    if problems:
        raise click.ClickException(f"Restored, but foreign keys are broken in {len(problems)} rows.")
    click.echo(f"Restored {url.database} from {path} in {time.perf_counter() - started:.2f} s (integrity ok).")


@click.command("enforce-retention")
@with_appcontext
def enforce_retention():
    """Remove contact data whose consent was withdrawn longer ago than the grace period, and old sign-in
    attempts and ended sessions (run nightly)."""
    from datetime import timedelta

    from sqlalchemy import and_, exists, update

    from app.timeutil import today_local
    from models import Consent, Resident

    cutoff = today_local() - timedelta(days=current_app.config["CONSENT_WITHDRAWAL_GRACE_DAYS"])
    removed = {}
    for purpose, column in (("phone", Resident.phone), ("email", Resident.email)):
        withdrawn = exists().where(and_(Consent.resident_id == Resident.id, Consent.purpose == purpose,
                                        Consent.withdrawn_on.is_not(None), Consent.withdrawn_on <= cutoff))
        active = exists().where(and_(Consent.resident_id == Resident.id, Consent.purpose == purpose,
                                     Consent.withdrawn_on.is_(None)))
        ids = list(db.session.scalars(select(Resident.id).where(column.is_not(None), withdrawn, ~active)))
        for rid in ids:
            resident = db.session.get(Resident, rid)
            setattr(resident, column.key, None)  # through the ORM, so the search words follow
        removed[purpose] = len(ids)
    record_audit("consent_data_removed", via="cli", **removed)
    if any(removed.values()):  # like an erasure: the removed phones and e-mails must not stay in SQLite's -wal
        from app.database import truncate_wal_after_commit

        truncate_wal_after_commit(db.session)
    db.session.commit()
    click.echo(f"Contact data removed after withdrawn consent: {removed['phone']} phones, {removed['email']} e-mails.")
    _purge_sign_in_records()
    from app.importer import purge_uploads  # waiting imports hold whole rows; erasure cannot reach them

    click.echo(f"Import uploads older than 24 h removed: {purge_uploads()}.")
    from app import submissions

    purged = submissions.purge()
    db.session.commit()
    click.echo(f"Submission keys older than {submissions.KEEP_DAYS} days removed: {purged}.")


def _purge_sign_in_records() -> None:
    """Sign-in attempts (they hold e-mail addresses and addresses) after LOGIN_ATTEMPT_RETENTION;
    sessions once expired, or SESSION_RETENTION after they were revoked."""
    from models import LoginAttempt, UserSession

    cfg = current_app.config
    attempts = LoginAttempt.purge(cfg["LOGIN_ATTEMPT_RETENTION"])
    sessions = UserSession.purge(cfg["SESSION_MAX_AGE"], cfg["SESSION_RETENTION"])
    record_audit("sign_in_records_purged", via="cli", login_attempts=attempts, sessions=sessions)
    db.session.commit()
    click.echo(f"Sign-in records removed: {attempts} login attempts, {sessions} ended sessions.")
