"""Named queries for the lists that templates loop over, with what they read loaded eagerly."""
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from models.audit import AuditEvent
from models.base import db
from models.geo import Centre, Neighbourhood
from models.scoping import team_scope
from models.user import User


def team_members(user):
    """The accounts `user` may manage (admins: everyone; coordinators: their centre)."""
    scope = team_scope(user)
    stmt = (scope.apply(select(User), User, neighbourhood_col=None).options(selectinload(User.neighbourhoods))
            .order_by(User.active.desc(), User.name))
    return db.session.scalars(stmt).unique().all()


def get_team_member(user, user_id: int) -> User | None:
    """One account, only if `user` may manage it (None otherwise: the view answers 404)."""
    scope = team_scope(user)
    stmt = scope.apply(select(User).where(User.id == user_id), User, neighbourhood_col=None).options(
        selectinload(User.neighbourhoods))
    return db.session.scalars(stmt).unique().one_or_none()


def users_by_role() -> dict[str, int]:
    rows = db.session.execute(select(User.role, func.count()).where(User.active).group_by(User.role))
    return dict(rows.all())


def programme_overview() -> dict:
    """Programme-wide figures with no personal data: centres and the osiedla they cover."""
    centres = db.session.scalars(select(Centre).where(Centre.active).order_by(Centre.kind, Centre.name)).all()
    covered = {c.neighbourhood_id for c in centres if c.neighbourhood_id}
    staff = dict(db.session.execute(
        select(User.centre_id, func.count()).where(User.active, User.centre_id.is_not(None)).group_by(User.centre_id)
    ).all())
    return {
        "centres": centres,
        "staff": staff,
        "neighbourhood_centres": sum(1 for c in centres if not c.is_regranting),
        "regranting_centres": sum(1 for c in centres if c.is_regranting),
        "covered": len(covered),
        "neighbourhoods": db.session.scalar(select(func.count()).select_from(Neighbourhood)),
    }


def audit_page(page: int, per_page: int):
    """The newest audit events, with who did them."""
    stmt = (select(AuditEvent).options(selectinload(AuditEvent.user))
            .order_by(AuditEvent.id.desc()).limit(per_page + 1).offset((page - 1) * per_page))
    rows = db.session.scalars(stmt).all()
    return rows[:per_page], len(rows) > per_page
