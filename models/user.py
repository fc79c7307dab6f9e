"""Accounts, their server-side sessions and the login attempts that throttle guessing."""
import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Column, ForeignKey, Index, String, Table, func, select, update
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


class LoginAttempt(db.Model):
    """A failed sign-in, kept in the database so that throttling holds across every worker."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))

    @staticmethod
    def too_many(email: str, ip: str, limit: int, window: timedelta) -> bool:
        """True when the account or the address has `limit` failures within `window`."""
        since = utcnow() - window
        by_email = db.session.scalar(
            select(func.count()).where(LoginAttempt.email == normalise_email(email), LoginAttempt.at > since)
        )
        if by_email >= limit:
            return True
        by_ip = db.session.scalar(
            select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.at > since)
        )
        return by_ip >= limit

    @staticmethod
    def record_failure(email: str, ip: str) -> None:
        db.session.add(LoginAttempt(email=normalise_email(email)[:254], ip=ip[:64]))
