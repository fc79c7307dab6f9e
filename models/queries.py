"""Named queries for the lists that templates loop over, with what they read loaded eagerly."""
from sqlalchemy import false, func, select
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


def audit_events(user, *, user_id=None, action=None, object_type=None, object_id=None, since=None, until=None):
    """SELECT of audit events the user may read, filtered: admins all of them, coordinators the
    events of their centre's staff (anonymous events such as failed sign-ins stay with admins)."""
    stmt = select(AuditEvent)
    if user.role != "admin":
        staff = select(User.id).where(User.centre_id == user.centre_id)
        stmt = stmt.where(AuditEvent.user_id.in_(staff)) if user.centre_id else stmt.where(false())
    if user_id:
        stmt = stmt.where(AuditEvent.user_id == user_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    return stmt


def audit_page(stmt, page: int, per_page: int):
    """One page of `stmt`'s events, newest first, with who did them."""
    rows = db.session.scalars(stmt.options(selectinload(AuditEvent.user))
                              .order_by(AuditEvent.id.desc()).limit(per_page + 1).offset((page - 1) * per_page)).all()
    return rows[:per_page], len(rows) > per_page


def audit_filter_choices(user) -> tuple[list, list]:
    """(users, actions) the audit filters offer to `user`."""
    people = select(User.id, User.name).order_by(User.name)
    if user.role != "admin":
        people = people.where(User.centre_id == user.centre_id)
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return db.session.execute(people).all(), actions
