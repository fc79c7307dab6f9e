"""Accounts, their server-side sessions and the login attempts that throttle guessing."""
import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import Column, ForeignKey, Index, String, Table, and_, delete, false, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column, joinedload, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import db, utcnow
from models.geo import Centre, Neighbourhood


class Role(str, enum.Enum):
    animator = "animator"
    coordinator = "coordinator"
    reviewer = "reviewer"
    city = "city"
    admin = "admin"


# Roles that belong to a centre, and roles that never do.
ROLES_WITH_CENTRE = {Role.animator.value, Role.coordinator.value}
ROLES_WITHOUT_CENTRE = {Role.city.value, Role.admin.value}

user_neighbourhood = Table(
    "user_neighbourhood",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("neighbourhood_id", ForeignKey("neighbourhood.id"), primary_key=True),
)


class User(db.Model):
    """A login. Animators work in the osiedla assigned to them, coordinators in their whole centre."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    # sha256 of the personal token in the iCalendar feed URL; None when revoked or never made.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    centre: Mapped[Centre | None] = relationship(lazy="joined")
    neighbourhoods: Mapped[list[Neighbourhood]] = relationship(
        # Loaded with the signed-in user (UserSession.load_user) and by the team lists; other
        # users (authors, animators present) do not drag their osiedla along.
        secondary=user_neighbourhood, lazy="select", order_by=Neighbourhood.name
    )

    __mapper_args__ = {"version_id_col": version}

    # Set by the session loader: the token of the session this request runs in.
    session_token = None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"

    # --- Flask-Login protocol (the id is the session token, so a revoked session logs out) ---
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    # --- roles ---
    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def neighbourhood_ids(self) -> tuple[int, ...]:
        return tuple(n.id for n in self.neighbourhoods)

    # --- passwords ---
    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)
        self.password_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @staticmethod
    def by_email(email: str) -> "User | None":
        return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserSession(db.Model):
    """A signed-in browser. The cookie holds only a random token; its hash is kept here,
    so a session can be ended on the server (logout, deactivation, password change)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @staticmethod
    def start(user: User) -> str:
        """Open a new session for the user and return its token (a new identifier at every login)."""
        token = secrets.token_urlsafe(32)
        db.session.add(UserSession(token_hash=_hash_token(token), user_id=user.id))
        user.session_token = token
        return token

    @staticmethod
    def load_user(token: str, max_age: timedelta) -> User | None:
        """The active user behind a live session token, or None."""
        if not token:
            return None
        row = db.session.scalar(
            select(UserSession).options(joinedload(UserSession.user).selectinload(User.neighbourhoods)).where(
                UserSession.token_hash == _hash_token(token),
                UserSession.revoked_at.is_(None),
                UserSession.created_at > utcnow() - max_age,
            )
        )
        if row is None or not row.user.active:
            return None
        row.user.session_token = token
        return row.user

    @staticmethod
    def revoke(token: str) -> None:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _hash_token(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    @staticmethod
    def revoke_all(user_id: int) -> None:
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )

    @staticmethod
    def purge(max_age: timedelta, revoked_kept: timedelta) -> int:
        """Delete sessions that expired (past `max_age`, never revoked: they can no longer sign anyone
        in) and sessions revoked more than `revoked_kept` ago (kept that long for the audit: who was
        signed out when); returns how many."""
        now = utcnow()
        result = db.session.execute(delete(UserSession).where(or_(
            and_(UserSession.revoked_at.is_(None), UserSession.created_at <= now - max_age),
            UserSession.revoked_at <= now - revoked_kept)))
        return result.rowcount or 0


@dataclass(frozen=True)
class LoginLimits:
    """The numbers of the sign-in throttle (from the app's config; the rule is in views/auth.py)."""

    limit: int
    window: timedelta
    account_window: timedelta
    delay_base: timedelta
    delay_max: timedelta
    usual_address_age: timedelta


class LoginAttempt(db.Model):
    """A sign-in attempt, kept in the database so that throttling holds across every worker.

    Failures are counted per address, per device cookie and per account; successes only make an
    address the account's usual one. `device` is the sha256 of the device cookie's nonce (None for
    a browser without a valid one for the account); `usual_address` says the failure came from an
    address the account had signed in from: such failures do not delay the account."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
        Index("ix_login_attempt_device_at", "device", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(default=False, server_default=false())
    device: Mapped[str | None] = mapped_column(String(64))
    usual_address: Mapped[bool] = mapped_column(default=False, server_default=false())

    @staticmethod
    def is_usual_address(email: str, ip: str, age: timedelta) -> bool:
        """True when the account signed in successfully from `ip` within `age`."""
        return db.session.scalar(
            select(LoginAttempt.id).where(
                LoginAttempt.email == normalise_email(email), LoginAttempt.ip == ip[:64],
                LoginAttempt.succeeded.is_(True), LoginAttempt.at > utcnow() - age,
            ).limit(1)
        ) is not None

    @staticmethod
    def _window_wait(where, limit: int, window: timedelta, now: datetime) -> float:
        """Seconds until fewer than `limit` failures matching `where` remain within `window`."""
        nth = db.session.scalar(
            select(LoginAttempt.at).where(*where, LoginAttempt.succeeded.is_(False), LoginAttempt.at > now - window)
            .order_by(LoginAttempt.at.desc()).offset(limit - 1).limit(1)
        )
        return 0.0 if nth is None else (nth + window - now).total_seconds()

    @staticmethod
    def unknown_failures(email: str, window: timedelta,
                         now: datetime | None = None) -> tuple[int, int, datetime | None]:
        """Failures for the account from unknown browsers at unknown addresses within `window`:
        how many, from how many addresses, and when the last one was."""
        now = now or utcnow()
        return db.session.execute(
            select(func.count(), func.count(func.distinct(LoginAttempt.ip)), func.max(LoginAttempt.at)).where(
                LoginAttempt.email == normalise_email(email), LoginAttempt.succeeded.is_(False),
                LoginAttempt.device.is_(None), LoginAttempt.usual_address.is_(False),
                LoginAttempt.at > now - window,
            )
        ).one()

    @staticmethod
    def account_delay(failures: int, limits: LoginLimits) -> float:
        """The wait after the last failure once an account has `failures` from unknown browsers."""
        if failures < limits.limit:
            return 0.0
        doublings = min(failures - limits.limit, 32)
        return min(limits.delay_base.total_seconds() * 2 ** doublings, limits.delay_max.total_seconds())

    @staticmethod
    def wait(email: str, ip: str, device: str | None, usual: bool, limits: LoginLimits) -> tuple[int, str | None]:
        """Seconds this attempt must wait (0: go ahead) and which limit holds it: "device", "address"
        or "account". A browser with a device cookie for the account is limited only per device."""
        now = utcnow()
        if device is not None:
            seconds = LoginAttempt._window_wait([LoginAttempt.device == device], limits.limit, limits.window, now)
            return (ceil(seconds), "device") if seconds > 0 else (0, None)
        waits = [(LoginAttempt._window_wait([LoginAttempt.ip == ip[:64]], limits.limit, limits.window, now),
                  "address")]
        if not usual:
            failures, _addresses, last = LoginAttempt.unknown_failures(email, limits.account_window, now)
            if last is not None:
                delay = LoginAttempt.account_delay(failures, limits)
                waits.append(((last - now).total_seconds() + delay, "account"))
        seconds, reason = max(waits)
        return (ceil(seconds), reason) if seconds > 0 else (0, None)

    @staticmethod
    def record_failure(email: str, ip: str, device: str | None = None, usual: bool = False) -> None:
        db.session.add(LoginAttempt(email=normalise_email(email)[:254], ip=ip[:64], device=device,
                                    usual_address=usual))

    @staticmethod
    def record_success(email: str, ip: str, device: str | None = None) -> None:
        db.session.add(LoginAttempt(email=normalise_email(email)[:254], ip=ip[:64], device=device,
                                    succeeded=True, usual_address=True))

    @staticmethod
    def purge(older_than: timedelta) -> int:
        """Delete attempts older than `older_than` (they hold e-mail addresses); returns how many."""
        result = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - older_than))
        return result.rowcount or 0
