"""Named queries and writes for regranting: calls, applications, reviews, the ranking, the pipeline,
the budget guard, the public form's throttle and the call summary for the city report.

Scoping, in SQL:
- a coordinator manages the calls and applications of their own centre (a neighbourhood centre
  runs no calls, so it finds none);
- anyone assigned to review an application (a reviewer, or a coordinator of the centre) reaches
  that application, and the view opens it only after a declaration of no conflict of interest;
- nobody else reaches any of it: a record outside the scope is simply not found.

Every function answers with a constant number of statements, whatever the number of applications,
reviews or budget lines.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, delete, exists, false, func, insert, literal, or_, select, update
from sqlalchemy.orm import aliased, joinedload, load_only, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from models.base import db, utcnow
from models.diagnosis import Partner, PartnerKind
from models.geo import Centre, Neighbourhood
from models.grants import (CODE_ALPHABET, CODE_LENGTH, CODE_READS, FINAL_STATUSES, GRANTED_STATUSES,
                           REVIEWABLE_STATUSES, TRANSITIONS, ApplyAttempt, Attachment, CallStatus, GrantApplication,
                           GrantBudgetLine, GrantCall, GrantCriterion, GrantLinkRequest, GrantMember, GrantStatus,
                           GrantStatusChange, LinkStatus, ReferenceAttempt, Review, ReviewAssignment, ReviewScore,
                           Settlement, SettlementDocument, format_reference, grant_call_neighbourhood, money)
from models.group import Group, Membership
from models.meeting import Meeting, meeting_animator
from models.resident import Interaction
from models.scoping import personal_data_scope
from models.text import words
from models.user import Role, User

REVIEWER_ROLES = (Role.reviewer.value, Role.coordinator.value)
MAX_TASKS = 300  # a reviewer's open assignments shown at once


class OverBudget(Exception):
    """Granting this amount would take the call over its budget."""


class BadMove(Exception):
    """The application cannot move to that status from where it is."""


# --- scope ---------------------------------------------------------------------------------------

def manages_calls(user) -> bool:
    """Coordinators manage the calls of their centre (a neighbourhood centre simply has none)."""
    return bool(getattr(user, "is_authenticated", False) and user.role == Role.coordinator.value and user.centre_id)


def call_scope(user):
    """SQL condition: calls the user manages."""
    if not manages_calls(user):
        return false()
    return GrantCall.centre_id == user.centre_id


def _assigned_to(user):
    ra = aliased(ReviewAssignment)  # the callers may join ReviewAssignment themselves
    return exists(select(ra.id).where(ra.application_id == GrantApplication.id, ra.reviewer_id == user.id)
                  .correlate(GrantApplication))


def application_scope(user):
    """SQL condition: applications the user may reach (managed, or assigned to them for review)."""
    if not getattr(user, "is_authenticated", False) or user.role not in REVIEWER_ROLES:
        return false()
    conds = [_assigned_to(user)]
    if manages_calls(user):
        conds.append(GrantApplication.centre_id == user.centre_id)
    return or_(*conds)


# --- calls ---------------------------------------------------------------------------------------

@dataclass
class CallRow:
    call: GrantCall
    applications: int
    pending: int  # not yet decided
    granted: int
    settled: int


def calls_overview(user) -> list[CallRow]:
    """The calls of the coordinator's centre, newest first, with their counts (one statement)."""
    counts = (
        select(GrantApplication.call_id.label("call_id"), func.count().label("applications"),
               func.sum(case((GrantApplication.status.in_(
                   (GrantStatus.submitted.value, GrantStatus.formal_failed.value, GrantStatus.merit_review.value)),
                   1), else_=0)).label("pending"),
               func.sum(case((GrantApplication.status.in_(GRANTED_STATUSES), 1), else_=0)).label("granted"),
               func.sum(case((GrantApplication.status.in_(
                   (GrantStatus.settled.value, GrantStatus.returned.value)), 1), else_=0)).label("settled"))
        .group_by(GrantApplication.call_id).subquery())
    stmt = (select(GrantCall, counts.c.applications, counts.c.pending, counts.c.granted, counts.c.settled)
            .outerjoin(counts, counts.c.call_id == GrantCall.id)
            .where(call_scope(user)).order_by(GrantCall.opens_on.desc(), GrantCall.id.desc()))
    return [CallRow(c, a or 0, p or 0, g or 0, s or 0) for c, a, p, g, s in db.session.execute(stmt).all()]


def get_call(user, call_id: int) -> tuple[GrantCall, bool] | None:
    """(call, managed): a call the user manages, or one with an application assigned to them for review."""
    assigned = exists().where(GrantApplication.call_id == GrantCall.id,
                              ReviewAssignment.application_id == GrantApplication.id,
                              ReviewAssignment.reviewer_id == user.id)
    if user.role not in REVIEWER_ROLES:
        return None
    stmt = (select(GrantCall, call_scope(user).label("managed"))
            .where(GrantCall.id == call_id, or_(call_scope(user), assigned))
            .options(selectinload(GrantCall.criteria), selectinload(GrantCall.neighbourhoods)))
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    return row[0], bool(row[1])


def get_call_for_update(user, call_id: int) -> GrantCall | None:
    """A managed call with its criteria and osiedla (for the edit form and the status moves)."""
    stmt = (select(GrantCall).where(GrantCall.id == call_id, call_scope(user))
            .options(selectinload(GrantCall.criteria), selectinload(GrantCall.neighbourhoods)))
    return db.session.scalars(stmt).one_or_none()


def public_call(slug: str) -> GrantCall | None:
    """A call for the public form: anything but a draft, with its eligible osiedla and its centre."""
    stmt = (select(GrantCall).where(GrantCall.slug == slug, GrantCall.status != CallStatus.draft.value)
            .options(joinedload(GrantCall.centre)))
    call = db.session.scalars(stmt).one_or_none()
    if call is not None:
        # Only a call limited to some osiedla needs its list (one statement then, none otherwise).
        hoods = [] if call.all_neighbourhoods else db.session.scalars(
            select(Neighbourhood).join(grant_call_neighbourhood, grant_call_neighbourhood.c.neighbourhood_id
                                       == Neighbourhood.id)
            .where(grant_call_neighbourhood.c.call_id == call.id).order_by(Neighbourhood.name)).all()
        set_committed_value(call, "neighbourhoods", hoods)
    return call


def patrons(centre_id: int) -> list[Partner]:
    """The NGOs a group may choose as patron: active partners of kind ngo of the call's centre."""
    stmt = (select(Partner).where(Partner.centre_id == centre_id, Partner.kind == PartnerKind.ngo.value,
                                  Partner.active.is_(True)).order_by(Partner.name))
    return db.session.scalars(stmt).all()


def unique_slug(title: str, year: int) -> str:
    """A URL name for a call, from its title: 'mikrogranty-na-inicjatywy-sasiedzkie-2026'."""
    base = "-".join(words(title))[:60].strip("-") or "nabor"
    if str(year) not in base:
        base = f"{base}-{year}"
    taken = set(db.session.scalars(select(GrantCall.slug).where(GrantCall.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@dataclass
class RankRow:
    application: GrantApplication
    mean: float | None  # mean of the reviewers' totals
    reviews: int  # scores submitted
    assigned: int  # reviewers assigned
    left_after: Decimal | None = None  # the budget left after this line, for granted lines
    fits: bool | None = None  # undecided lines: would the request fit in what is left at this point


def ranking(call: GrantCall) -> list[RankRow]:
    """The call's applications by mean score (unscored last), with the budget left after each granted line."""
    agg = (select(ReviewAssignment.application_id.label("application_id"),
                  func.count(ReviewAssignment.id).label("assigned"),
                  func.count(Review.id).label("reviews"),
                  func.avg(Review.total).label("mean"))
           .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
           .join(GrantApplication, GrantApplication.id == ReviewAssignment.application_id)
           .where(GrantApplication.call_id == call.id)
           .group_by(ReviewAssignment.application_id).subquery())
    stmt = (select(GrantApplication, agg.c.mean, agg.c.reviews, agg.c.assigned)
            .outerjoin(agg, agg.c.application_id == GrantApplication.id)
            .where(GrantApplication.call_id == call.id)
            .options(load_only(GrantApplication.id, GrantApplication.call_id, GrantApplication.title,
                               GrantApplication.applicant_name, GrantApplication.status, GrantApplication.submitted_at,
                               GrantApplication.reference_code,
                               GrantApplication.requested_amount, GrantApplication.granted_amount,
                               GrantApplication.neighbourhood_id, GrantApplication.version, raiseload=True),
                     joinedload(GrantApplication.neighbourhood))
            .order_by(agg.c.mean.desc().nulls_last(), GrantApplication.submitted_at, GrantApplication.id))
    rows = [RankRow(a, float(m) if m is not None else None, r or 0, n or 0)
            for a, m, r, n in db.session.execute(stmt).all()]
    left = money(call.budget)
    for row in rows:
        a = row.application
        if a.status in GRANTED_STATUSES and a.granted_amount is not None:
            left -= money(a.granted_amount)
            row.left_after = left
        elif a.status not in FINAL_STATUSES:
            row.fits = money(a.requested_amount) <= left
    return rows


# --- applications --------------------------------------------------------------------------------

def get_application(user, application_id: int) -> tuple[GrantApplication, ReviewAssignment | None, bool] | None:
    """(application, the user's own review assignment or None, managed) in one statement; None outside scope.
    Sets `application.viewer_coached`: whether the user coached the applicant group (a conflict of interest)."""
    if not getattr(user, "is_authenticated", False):
        return None
    managed = (GrantApplication.centre_id == user.centre_id) if manages_calls(user) else false()
    coached_by_user = and_(GrantApplication.group_id.is_not(None),
                           coached_condition(GrantApplication.group_id, literal(user.id)))
    stmt = (select(GrantApplication, ReviewAssignment, managed.label("managed"), coached_by_user.label("coached"))
            .outerjoin(ReviewAssignment, and_(ReviewAssignment.application_id == GrantApplication.id,
                                              ReviewAssignment.reviewer_id == user.id))
            .where(GrantApplication.id == application_id, application_scope(user))
            .options(joinedload(GrantApplication.call).joinedload(GrantCall.criteria),
                     joinedload(GrantApplication.neighbourhood), joinedload(GrantApplication.patron),
                     joinedload(GrantApplication.group), joinedload(GrantApplication.settlement)))
    row = db.session.execute(stmt).unique().first()
    if row is None:
        return None
    row[0].viewer_coached = bool(row[3])  # did the user coach the application's group (see coached_condition)
    return row[0], row[1], bool(row[2])


def load_body(application: GrantApplication) -> None:
    """The application's members and budget lines (two statements)."""
    members = db.session.scalars(select(GrantMember).where(GrantMember.application_id == application.id)
                                 .order_by(GrantMember.position)).all()
    lines = db.session.scalars(select(GrantBudgetLine).where(GrantBudgetLine.application_id == application.id)
                               .order_by(GrantBudgetLine.position)).all()
    set_committed_value(application, "members", members)
    set_committed_value(application, "lines", lines)


def history(application_id: int) -> list[GrantStatusChange]:
    return db.session.scalars(
        select(GrantStatusChange).where(GrantStatusChange.application_id == application_id)
        .options(joinedload(GrantStatusChange.user)).order_by(GrantStatusChange.id)).all()


def assignments(application_id: int) -> list[ReviewAssignment]:
    """Every reviewer of an application, with their review and its scores (one statement)."""
    return db.session.scalars(
        select(ReviewAssignment).where(ReviewAssignment.application_id == application_id)
        .options(joinedload(ReviewAssignment.reviewer),
                 joinedload(ReviewAssignment.review).joinedload(Review.scores))
        .order_by(ReviewAssignment.id)).unique().all()


def own_review(assignment: ReviewAssignment) -> Review | None:
    """The user's own review, with its scores."""
    return db.session.scalars(select(Review).where(Review.assignment_id == assignment.id)
                              .options(joinedload(Review.scores))).unique().one_or_none()


def attachments(application_id: int) -> list[Attachment]:
    return db.session.scalars(select(Attachment).where(Attachment.application_id == application_id)
                              .order_by(Attachment.id)).all()


def documents(settlement_id: int) -> list[SettlementDocument]:
    return db.session.scalars(select(SettlementDocument).where(SettlementDocument.settlement_id == settlement_id)
                              .order_by(SettlementDocument.issued_on, SettlementDocument.id)).all()


def get_attachment(application_id: int, attachment_id: int) -> Attachment | None:
    return db.session.scalars(select(Attachment).where(Attachment.id == attachment_id,
                                                       Attachment.application_id == application_id)).one_or_none()


def coached_condition(group_id: int, user_id_col):
    """SQL: the user coached the group: its animator, at one of its meetings as animator or as the
    person who logged it, or logged a contact with one of its (past or present) members."""
    return or_(
        exists().where(Group.id == group_id, Group.animator_id == user_id_col),
        exists().where(Meeting.group_id == group_id, Meeting.created_by_id == user_id_col),
        exists(select(meeting_animator.c.user_id).join(Meeting, Meeting.id == meeting_animator.c.meeting_id)
               .where(Meeting.group_id == group_id, meeting_animator.c.user_id == user_id_col)),
        exists(select(Interaction.id).join(Membership, Membership.resident_id == Interaction.resident_id)
               .where(Membership.group_id == group_id, Interaction.user_id == user_id_col)),
    )


def coached(group_id: int | None, user_id: int) -> bool:
    """Did the user coach the application's group? (No group linked: nothing to check.)"""
    if group_id is None:
        return False
    return bool(db.session.scalar(select(coached_condition(group_id, literal(user_id)))))


def reviewer_choices(application: GrantApplication) -> list[tuple[int, str, bool]]:
    """(user id, name, coached the group) of the people who may review: reviewers and coordinators of the
    call's centre, not yet assigned. One statement."""
    already = select(ReviewAssignment.reviewer_id).where(ReviewAssignment.application_id == application.id)
    coached_col = (coached_condition(application.group_id, User.id) if application.group_id else literal(False))
    stmt = (select(User.id, User.name, User.role, coached_col.label("coached"))
            .where(User.centre_id == application.centre_id, User.role.in_(REVIEWER_ROLES), User.active.is_(True),
                   User.id.not_in(already))
            .order_by(User.role.desc(), User.name))
    return [(uid, name, role, bool(c)) for uid, name, role, c in db.session.execute(stmt).all()]


def group_choices(user) -> list[tuple[int, str]]:
    """Groups the user may see (their own scope), to link an application to its Group record."""
    stmt = (personal_data_scope(user).apply(select(Group.id, Group.name, Neighbourhood.name), Group)
            .join(Neighbourhood, Neighbourhood.id == Group.neighbourhood_id).order_by(Group.name).limit(500))
    return [(gid, f"{name} ({hood})") for gid, name, hood in db.session.execute(stmt).all()]


def group_in_scope(user, group_id: int) -> Group | None:
    stmt = personal_data_scope(user).apply(select(Group).where(Group.id == group_id), Group)
    return db.session.scalars(stmt.options(joinedload(Group.neighbourhood))).one_or_none()


@dataclass
class ReviewerTask:
    assignment: ReviewAssignment
    application: GrantApplication
    call_title: str
    reviewed: bool


def my_assignments(user) -> list[ReviewerTask]:
    """The applications assigned to the user that are still being assessed (before the decision),
    newest call first (one statement)."""
    stmt = (select(ReviewAssignment, GrantApplication, GrantCall.title, Review.id)
            .join(GrantApplication, GrantApplication.id == ReviewAssignment.application_id)
            .join(GrantCall, GrantCall.id == GrantApplication.call_id)
            .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
            .where(ReviewAssignment.reviewer_id == user.id, GrantApplication.status.in_(REVIEWABLE_STATUSES))
            .order_by(GrantCall.opens_on.desc(), GrantApplication.submitted_at, GrantApplication.id)
            .limit(MAX_TASKS))
    return [ReviewerTask(ra, a, title, rid is not None) for ra, a, title, rid in db.session.execute(stmt).all()]


def my_assignments_in(user, call_id: int) -> list[ReviewerTask]:
    return [t for t in my_assignments(user) if t.application.call_id == call_id]


@dataclass
class GroupGrant:
    id: int
    reference: str
    title: str
    call_title: str
    status: str
    requested: Decimal
    granted: Decimal | None
    can_open: bool


def grants_of_group(user, group_id: int) -> list[GroupGrant]:
    """The micro-grant applications linked to a group the user may see (one statement). No personal
    data: titles, statuses and amounts. Only confirmed links set `group_id`: a pending request shows
    nothing of its application (see `link_requests_of_group`)."""
    stmt = (select(GrantApplication.id, GrantApplication.submitted_at, GrantApplication.reference_code,
                   GrantApplication.title, GrantCall.title,
                   GrantApplication.status, GrantApplication.requested_amount, GrantApplication.granted_amount,
                   GrantApplication.centre_id)
            .join(GrantCall, GrantCall.id == GrantApplication.call_id)
            .join(Group, Group.id == GrantApplication.group_id)
            .where(GrantApplication.group_id == group_id, personal_data_scope(user).where(Group))
            .order_by(GrantApplication.submitted_at.desc()))
    own_centre = user.centre_id if manages_calls(user) else None
    return [GroupGrant(i, format_reference(i, at, code), t, ct, s, money(r), money(g) if g is not None else None,
                       cid == own_centre)
            for i, at, code, t, ct, s, r, g, cid in db.session.execute(stmt).all()]


def parse_reference(raw: str) -> tuple[int, int, str] | None:
    """'MG/2026/0007-K7QX' (any case, spaces, dashes or slashes, the dash before the code may be left out;
    O read as 0, I and L as 1) -> (2026, 7, 'K7QX'). A number without its code is no number."""
    text = (raw or "").upper()
    if not text.isascii():
        return None
    parts = "".join(c if c.isalnum() else " " for c in text).split()
    if len(parts) == 3 and len(parts[2]) > CODE_LENGTH:  # "MG/2026/0007K7QX": the code is the last four
        parts = [parts[0], parts[1], parts[2][:-CODE_LENGTH], parts[2][-CODE_LENGTH:]]
    if len(parts) != 4 or parts[0] != "MG":
        return None
    year, number, code = parts[1], parts[2], parts[3].translate(CODE_READS)
    if len(year) != 4 or not year.isdigit() or not 1 <= len(number) <= 9 or not number.isdigit():
        return None
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return int(year), int(number), code


def application_by_reference(raw: str, neighbourhood_id: int) -> GrantApplication | None:
    """An application not yet linked to a group, of this osiedle, by its full reference number (with the
    random code). Anything else (no such number, a wrong code, another osiedle, already linked) is None,
    all alike: the caller answers the same message and counts a failure."""
    parsed = parse_reference(raw)
    if parsed is None:
        return None
    year, application_id, code = parsed
    a = db.session.scalars(select(GrantApplication).where(
        GrantApplication.id == application_id, GrantApplication.reference_code == code,
        GrantApplication.group_id.is_(None), GrantApplication.neighbourhood_id == neighbourhood_id)).one_or_none()
    if a is None or a.submitted_at.year != year:
        return None
    return a


def in_application_scope(user, application_id: int) -> bool:
    """May the user reach the application (manage it, or review it)? Then a link needs no confirmation."""
    return bool(db.session.scalar(select(exists().where(GrantApplication.id == application_id,
                                                        application_scope(user)))))


# --- link requests: a group asks, the centre running the call confirms ----------------------------------

def link_request_for(application_id: int, group_id: int) -> GrantLinkRequest | None:
    return db.session.scalars(select(GrantLinkRequest).where(GrantLinkRequest.application_id == application_id,
                                                             GrantLinkRequest.group_id == group_id)).one_or_none()


def request_link(application: GrantApplication, group_id: int, user_id: int) -> GrantLinkRequest:
    """A pending request (the caller checked there is none for this group and application)."""
    req = GrantLinkRequest(application_id=application.id, group_id=group_id, requested_by_id=user_id,
                           status=LinkStatus.pending.value)
    db.session.add(req)
    return req


@dataclass
class GroupLinkRequest:
    """What a group's page may say about a request: when, and how it stands. Nothing of the application."""
    requested_at: datetime
    status: str
    decided_at: datetime | None


def link_requests_of_group(group_id: int, recent: timedelta = timedelta(days=30)) -> list[GroupLinkRequest]:
    """The group's pending requests, and those refused lately (one statement). The caller has checked the
    group is in the user's scope; no column of the application is read."""
    since = utcnow() - recent
    stmt = (select(GrantLinkRequest.requested_at, GrantLinkRequest.status, GrantLinkRequest.decided_at)
            .where(GrantLinkRequest.group_id == group_id,
                   or_(GrantLinkRequest.status == LinkStatus.pending.value,
                       and_(GrantLinkRequest.status == LinkStatus.refused.value, GrantLinkRequest.decided_at > since)))
            .order_by(GrantLinkRequest.requested_at.desc(), GrantLinkRequest.id.desc()))
    return [GroupLinkRequest(at, status, decided) for at, status, decided in db.session.execute(stmt).all()]


@dataclass
class LinkRequestRow:
    """A request as its decider sees it: which group, of which centre and osiedle, asked by whom."""
    id: int
    status: str
    requested_at: datetime
    decided_at: datetime | None
    group_name: str
    centre_name: str
    neighbourhood_name: str
    requested_by: str | None


def link_requests_of(application_id: int) -> list[LinkRequestRow]:
    """The requests to link a managed application to a group, pending first (one statement)."""
    requester = aliased(User)
    stmt = (select(GrantLinkRequest.id, GrantLinkRequest.status, GrantLinkRequest.requested_at,
                   GrantLinkRequest.decided_at, Group.name, Centre.name, Neighbourhood.name, requester.name)
            .join(Group, Group.id == GrantLinkRequest.group_id)
            .join(Centre, Centre.id == Group.centre_id)
            .join(Neighbourhood, Neighbourhood.id == Group.neighbourhood_id)
            .outerjoin(requester, requester.id == GrantLinkRequest.requested_by_id)
            .where(GrantLinkRequest.application_id == application_id)
            .order_by((GrantLinkRequest.status == LinkStatus.pending.value).desc(),
                      GrantLinkRequest.requested_at.desc(), GrantLinkRequest.id.desc()))
    return [LinkRequestRow(*row) for row in db.session.execute(stmt).all()]


def pending_link_counts(call_id: int) -> dict[int, int]:
    """{application id: pending link requests} for a call's ranking (one statement)."""
    stmt = (select(GrantLinkRequest.application_id, func.count())
            .join(GrantApplication, GrantApplication.id == GrantLinkRequest.application_id)
            .where(GrantApplication.call_id == call_id, GrantLinkRequest.status == LinkStatus.pending.value)
            .group_by(GrantLinkRequest.application_id))
    return {aid: int(n) for aid, n in db.session.execute(stmt).all()}


def get_link_request(application_id: int, request_id: int) -> GrantLinkRequest | None:
    """A request of this application (the caller has checked the application is managed by the user)."""
    return db.session.scalars(select(GrantLinkRequest).where(GrantLinkRequest.id == request_id,
                                                             GrantLinkRequest.application_id == application_id)
                              ).one_or_none()


def confirm_link(req: GrantLinkRequest, application: GrantApplication, user_id: int) -> int:
    """Link the application to the requesting group; other groups' pending requests for it are refused.
    Returns how many were refused so. The caller commits (the application's version guards a race)."""
    now = utcnow()
    application.group_id = req.group_id
    req.status, req.decided_at, req.decided_by_id = LinkStatus.confirmed.value, now, user_id
    others = db.session.execute(
        update(GrantLinkRequest)
        .where(GrantLinkRequest.application_id == application.id, GrantLinkRequest.id != req.id,
               GrantLinkRequest.status == LinkStatus.pending.value)
        .values(status=LinkStatus.refused.value, decided_at=now, decided_by_id=user_id)
        .execution_options(synchronize_session=False))
    return others.rowcount or 0


def refuse_link(req: GrantLinkRequest, user_id: int) -> None:
    req.status, req.decided_at, req.decided_by_id = LinkStatus.refused.value, utcnow(), user_id


# --- the reference look-up's throttle ------------------------------------------------------------------

def reference_failures(user_id: int, window: timedelta) -> int:
    """Failed reference look-ups of the user within `window` (one statement)."""
    return int(db.session.scalar(select(func.count()).select_from(ReferenceAttempt).where(
        ReferenceAttempt.user_id == user_id, ReferenceAttempt.at > utcnow() - window)) or 0)


def record_reference_failure(user_id: int, keep: timedelta = timedelta(days=1)) -> None:
    """Count a failed look-up; rows older than `keep` go as new ones come (only the throttle reads them)."""
    db.session.execute(delete(ReferenceAttempt).where(ReferenceAttempt.at < utcnow() - keep))
    db.session.add(ReferenceAttempt(user_id=user_id))


# --- writes --------------------------------------------------------------------------------------

def new_application(call: GrantCall, *, fields: dict, members: list[dict], lines: list[dict], source: str,
                    user_id: int | None, note: str) -> GrantApplication:
    """Add an application in status "złożony", with its members, budget lines and the first history row."""
    application = GrantApplication(call_id=call.id, centre_id=call.centre_id, source=source, created_by_id=user_id,
                                   status=GrantStatus.submitted.value, **fields)
    _set_totals(application, lines)
    db.session.add(application)
    db.session.flush()
    _insert_body(application.id, members, lines)
    db.session.add(GrantStatusChange(application_id=application.id, from_status=None,
                                     to_status=GrantStatus.submitted.value, from_version=0, user_id=user_id,
                                     note=note))
    return application


def replace_body(application: GrantApplication, members: list[dict], lines: list[dict]) -> None:
    """Replace the members and budget lines (corrections before the merits assessment) and the totals."""
    db.session.execute(delete(GrantMember).where(GrantMember.application_id == application.id))
    db.session.execute(delete(GrantBudgetLine).where(GrantBudgetLine.application_id == application.id))
    _insert_body(application.id, members, lines)
    _set_totals(application, lines)


def _insert_body(application_id: int, members: list[dict], lines: list[dict]) -> None:
    """Members and budget lines in one executemany each, however many there are."""
    if members:
        db.session.execute(insert(GrantMember), [{"application_id": application_id, "position": i, **m}
                                                 for i, m in enumerate(members)])
    if lines:
        db.session.execute(insert(GrantBudgetLine), [
            {"application_id": application_id, "position": i, **line, "quantity": money(line["quantity"]),
             "unit_cost": money(line["unit_cost"])} for i, line in enumerate(lines)])


def _set_totals(application: GrantApplication, lines: list[dict]) -> None:
    totals = budget_totals(lines)
    application.requested_amount = totals["grant"]
    application.own_amount = totals["own"]
    application.volunteer_amount = totals["volunteer"]


def budget_totals(lines: list[dict]) -> dict[str, Decimal]:
    totals = {"grant": Decimal("0.00"), "own": Decimal("0.00"), "volunteer": Decimal("0.00")}
    for line in lines:
        totals[line["source"]] += money(money(line["quantity"]) * money(line["unit_cost"]))
    totals["all"] = totals["grant"] + totals["own"] + totals["volunteer"]
    return totals


def move(application: GrantApplication, to_status: str, note: str, user_id: int | None) -> GrantStatusChange:
    """Move an application one step along the pipeline, recording who, when and why. The caller
    commits; a concurrent move of the same application fails there (version and unique history)."""
    if to_status not in TRANSITIONS.get(application.status, ()):
        raise BadMove(f"{application.status} -> {to_status}")
    change = GrantStatusChange(application_id=application.id, from_status=application.status, to_status=to_status,
                               from_version=application.version, user_id=user_id, note=note)
    application.status = to_status
    application.status_changed_at = utcnow()
    db.session.add(change)
    return change


def grant(application: GrantApplication, amount: Decimal, note: str, user_id: int, on: date) -> None:
    """Grant `amount` (at most what was asked) within the call's budget, in the current transaction.

    The call's running total moves in one conditional UPDATE: on PostgreSQL it takes the row lock,
    so a second coordinator granting at the same moment waits and then sees the new total; on SQLite
    writers are serialised and the UPDATE reads the latest total. If the money is not there, no row
    is updated and OverBudget is raised. The version of the call is bumped too (an edit of the call
    made meanwhile conflicts), and the CHECK constraint on the call is the last line of defence."""
    amount = money(amount)
    if amount <= 0 or amount > money(application.requested_amount):
        raise ValueError("amount")
    new_total = func.round(GrantCall.granted_total + amount, 2)
    result = db.session.execute(
        update(GrantCall)
        .where(GrantCall.id == application.call_id, new_total <= GrantCall.budget)
        .values(granted_total=new_total, version=GrantCall.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise OverBudget()
    if "call" in application.__dict__:
        db.session.expire(application.call, ["granted_total", "version"])
    move(application, GrantStatus.granted.value, note, user_id)
    application.granted_amount = amount
    application.decision_note = note
    application.decided_on = on
    db.session.flush()  # the application's version check happens here, inside the same transaction


def refuse(application: GrantApplication, note: str, user_id: int, on: date) -> None:
    move(application, GrantStatus.refused.value, note, user_id)
    application.decision_note = note
    application.decided_on = on


def assign(application: GrantApplication, reviewer_id: int, by_id: int) -> ReviewAssignment:
    ra = ReviewAssignment(application_id=application.id, reviewer_id=reviewer_id, assigned_by_id=by_id)
    db.session.add(ra)
    return ra


def declare(assignment: ReviewAssignment, declaration: str) -> None:
    assignment.declaration = declaration
    assignment.declared_at = utcnow()


def save_review(assignment: ReviewAssignment, review: Review | None, criteria: list[GrantCriterion],
                points: list[int], comment: str) -> tuple[Review, bool]:
    """Create or update the reviewer's scores (one per criterion, each within its maximum);
    (review, whether anything changed)."""
    if review is None:
        review = Review(assignment_id=assignment.id, comment=comment, total=0)
        set_committed_value(review, "scores", [])
        db.session.add(review)
    by_criterion = {s.criterion_id: s for s in review.scores}
    changed = review.id is None or review.comment != comment
    for criterion, p in zip(criteria, points, strict=True):
        if not 0 <= p <= criterion.max_points:
            raise ValueError("points")
        score = by_criterion.get(criterion.id)
        if score is None:
            review.scores.append(ReviewScore(criterion_id=criterion.id, points=p))
            changed = True
        elif score.points != p:
            score.points = p
            changed = True
    if changed:  # the same form sent again (a double tap) writes nothing and keeps the version
        review.total = sum(points)
        review.comment = comment
        review.updated_at = utcnow()
    return review, changed


# --- the public form's throttle ------------------------------------------------------------------

def apply_counts(ip: str, window: timedelta) -> tuple[int, int]:
    """(POSTs, accepted submissions) from this address within `window`, in one statement."""
    since = utcnow() - window
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((ApplyAttempt.accepted.is_(True), 1), else_=0)), 0))
        .where(ApplyAttempt.ip == ip, ApplyAttempt.at > since)).one()
    return int(row[0]), int(row[1])


def record_apply_attempt(ip: str, accepted: bool) -> None:
    db.session.add(ApplyAttempt(ip=ip[:64], accepted=accepted))


def forget_old_attempts(keep: timedelta = timedelta(days=1)) -> None:
    """Addresses are kept only as long as the throttle needs them."""
    db.session.execute(ApplyAttempt.__table__.delete().where(ApplyAttempt.at < utcnow() - keep))


# --- the report for the city ---------------------------------------------------------------------

def call_summary(centre_id: int | None = None, start: date | None = None, end: date | None = None) -> dict:
    """Figures of the calls (of one centre, or all) whose activities overlap [start, end]: applications,
    grants, amounts, settlements. No personal data: titles, osiedla, counts and sums. Three statements.

    Returns {"calls": [...], "totals": {...}, "by_neighbourhood": [...]}; amounts are Decimal."""
    conds = []
    if centre_id is not None:
        conds.append(GrantCall.centre_id == centre_id)
    if start is not None:
        conds.append(GrantCall.activities_to >= start)
    if end is not None:
        conds.append(GrantCall.activities_from <= end)
    calls = db.session.execute(
        select(GrantCall.id, GrantCall.title, GrantCall.status, GrantCall.budget, GrantCall.granted_total,
               Centre.name).join(Centre, Centre.id == GrantCall.centre_id).where(*conds)
        .order_by(GrantCall.opens_on, GrantCall.id)).all()
    ids = [c[0] for c in calls]
    a = GrantApplication
    granted = a.status.in_(GRANTED_STATUSES)
    closed = a.status.in_((GrantStatus.settled.value, GrantStatus.returned.value))
    pending = a.status.in_((GrantStatus.submitted.value, GrantStatus.formal_failed.value,
                            GrantStatus.merit_review.value))
    zero = literal(0)

    def total(cond, value=literal(1)):
        return func.coalesce(func.sum(case((cond, value), else_=zero)), zero)

    figures = {}
    if ids:
        rows = db.session.execute(
            select(a.call_id, func.count(a.id), total(pending), total(granted), total(a.status == "refused"),
                   total(closed), func.coalesce(func.sum(a.requested_amount), zero), total(granted, a.granted_amount),
                   total(closed, a.granted_amount - func.coalesce(a.returned_amount, zero)),
                   func.coalesce(func.sum(a.returned_amount), zero),
                   func.coalesce(func.sum(Settlement.participants), zero),
                   func.coalesce(func.sum(Settlement.volunteers), zero),
                   func.coalesce(func.sum(Settlement.volunteer_hours), zero))
            .outerjoin(Settlement, and_(Settlement.application_id == a.id, Settlement.submitted_at.is_not(None)))
            .where(a.call_id.in_(ids)).group_by(a.call_id)).all()
        figures = {r[0]: r[1:] for r in rows}
    keys = ("applications", "pending", "granted", "refused", "settled", "requested_amount", "granted_amount",
            "settled_amount", "returned_amount", "participants", "volunteers", "volunteer_hours")
    money_keys = {"requested_amount", "granted_amount", "settled_amount", "returned_amount", "volunteer_hours"}
    out_calls = []
    totals = {k: (Decimal("0.00") if k in money_keys else 0) for k in keys}
    totals.update(calls=len(calls), budget=Decimal("0.00"))
    for cid, title, status, budget, granted_total, centre in calls:
        values = figures.get(cid, (0,) * len(keys))
        row = {"id": cid, "title": title, "centre": centre, "status": status, "budget": money(budget),
               "budget_left": money(budget) - money(granted_total)}
        for k, v in zip(keys, values):
            row[k] = money(v) if k in money_keys else int(v or 0)
            totals[k] += row[k]
        totals["budget"] += row["budget"]
        out_calls.append(row)
    totals["budget_left"] = totals["budget"] - totals["granted_amount"]
    by_hood = []
    if ids:
        by_hood = [{"neighbourhood": name, "applications": int(n), "granted": int(g), "granted_amount": money(s)}
                   for name, n, g, s in db.session.execute(
                       select(Neighbourhood.name, func.count(a.id), total(granted), total(granted, a.granted_amount))
                       .join(Neighbourhood, Neighbourhood.id == a.neighbourhood_id)
                       .where(a.call_id.in_(ids)).group_by(Neighbourhood.name).order_by(Neighbourhood.name)).all()]
    return {"calls": out_calls, "totals": totals, "by_neighbourhood": by_hood}


@dataclass
class SettlementFigures:
    spent_grant: Decimal = Decimal("0.00")
    spent_all: Decimal = Decimal("0.00")
    documents: Decimal = Decimal("0.00")
    unspent: Decimal = Decimal("0.00")
    lines: list = field(default_factory=list)


def settlement_figures(application: GrantApplication, docs: list[SettlementDocument]) -> SettlementFigures:
    """Sums of the financial report, from what is loaded (no statement)."""
    f = SettlementFigures()
    for line in application.lines:
        spent = money(line.spent) if line.spent is not None else Decimal("0.00")
        f.spent_all += spent
        if line.source == "grant":
            f.spent_grant += spent
    f.documents = sum((money(d.amount) for d in docs), Decimal("0.00"))
    granted = money(application.granted_amount) if application.granted_amount is not None else Decimal("0.00")
    f.unspent = max(granted - f.spent_grant, Decimal("0.00"))
    return f
