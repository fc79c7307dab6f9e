"""Named queries about meetings, attendance and volunteer commitments, always narrowed by the
user's scope in SQL, and the timeline sources they feed (resident and group pages).

Times: `starts_at` is naive UTC; callers pass `now` (UTC) and `today` (Warsaw) because this
package imports nothing from `app/`.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, delete, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload, load_only, raiseload, selectinload

from models.base import db, utcnow
from models.geo import Neighbourhood
from models.group import Group, GroupStatus, Membership
from models.meeting import Attendance, Commitment, CommitmentStatus, Meeting, meeting_animator
from models.resident import Resident
from models.scoping import personal_data_scope
from models.timeline import Entry, group_source, resident_source
from models.user import Role, User

# How many earlier meetings (of the group, or of the osiedle for a meeting without a group)
# lend their attendees to the after-meeting checklist.
RECENT_MEETINGS = 3
# The checklist never grows past this; everyone present is always on it.
CHECKLIST_LIMIT = 150
SEARCH_LIMIT = 6
CALENDAR_PAST_DAYS = 90
CALENDAR_FUTURE_DAYS = 366
CALENDAR_LIMIT = 1000

COMMITMENT_VIEWS = ("overdue", "open", "done", "dropped", "all")

# What the lists read of a resident (display_name and the scope columns); the rest raises if touched.
_RESIDENT_NAME = (Resident.id, Resident.first_name, Resident.last_name, Resident.description, Resident.sort_name,
                  Resident.neighbourhood_id, Resident.centre_id, Resident.rung, Resident.anonymised_at)


# --- meetings ------------------------------------------------------------------------------

def scoped_meetings(user):
    return personal_data_scope(user).apply(select(Meeting), Meeting)


def get_meeting(user, meeting_id: int, *, animators: bool = True) -> Meeting | None:
    """One meeting in the user's scope, with its group and osiedle (and the animators present)."""
    stmt = scoped_meetings(user).where(Meeting.id == meeting_id).options(
        joinedload(Meeting.group).load_only(Group.id, Group.name, Group.neighbourhood_id, Group.status),
        joinedload(Meeting.neighbourhood))
    if animators:
        stmt = stmt.options(selectinload(Meeting.animators).options(load_only(User.id, User.name), raiseload("*")))
    return db.session.scalars(stmt).unique().one_or_none()


def _attendee_count():
    return (select(func.count()).where(Attendance.meeting_id == Meeting.id)
            .correlate(Meeting).scalar_subquery())


def meeting_list(user, *, now: datetime, upcoming: bool, neighbourhood_id: int | None = None,
                 group_id: int | None = None, limit: int = 50, offset: int = 0) -> list[tuple[Meeting, int]]:
    """Upcoming (soonest first) or past (newest first) meetings in scope, with how many came by name."""
    # The page of ids first (index range, sort of bare rows), then what the rows show for that page
    # only: the joins and the per-meeting count are not computed for every meeting in scope.
    page = personal_data_scope(user).apply(select(Meeting.id, Meeting.starts_at), Meeting)
    if neighbourhood_id:
        page = page.where(Meeting.neighbourhood_id == neighbourhood_id)
    if group_id:
        page = page.where(Meeting.group_id == group_id)
    if upcoming:
        order = (Meeting.starts_at, Meeting.id)
        page = page.where(Meeting.starts_at >= now)
    else:
        order = (Meeting.starts_at.desc(), Meeting.id.desc())
        page = page.where(Meeting.starts_at < now)
    page = page.order_by(*order).limit(limit).offset(offset).subquery()
    stmt = (select(Meeting, _attendee_count().label("named")).join(page, page.c.id == Meeting.id)
            .options(joinedload(Meeting.group).load_only(Group.id, Group.name),
                     joinedload(Meeting.neighbourhood))
            .order_by(*order))
    return [(m, n) for m, n in db.session.execute(stmt).unique().all()]


def scoped_groups(user, *, include_ended: bool = False) -> list[Group]:
    """Groups in scope, by name, for pickers and filters (only what those read is loaded)."""
    stmt = personal_data_scope(user).apply(
        select(Group).options(load_only(Group.id, Group.name, Group.neighbourhood_id, Group.animator_id,
                                        Group.status)), Group)
    if not include_ended:
        stmt = stmt.where(Group.status != GroupStatus.ended.value)
    return db.session.scalars(stmt.order_by(Group.name, Group.id)).all()


def get_group(user, group_id: int) -> Group | None:
    stmt = personal_data_scope(user).apply(select(Group).where(Group.id == group_id), Group)
    return db.session.scalars(stmt).one_or_none()


def meeting_of_group_around(group_id: int, start: datetime, end: datetime) -> Meeting | None:
    """A meeting of the group already logged in [start, end): quick start reuses it."""
    return db.session.scalars(
        select(Meeting).where(Meeting.group_id == group_id, Meeting.starts_at >= start, Meeting.starts_at < end)
        .order_by(Meeting.starts_at.desc()).limit(1)).first()


def last_place(group_id: int) -> str | None:
    return db.session.scalar(select(Meeting.place).where(Meeting.group_id == group_id, Meeting.place.is_not(None))
                             .order_by(Meeting.starts_at.desc()).limit(1))


def centre_staff(centre_id: int, include_ids=()) -> list[User]:
    """Animators and coordinators of a centre who may be named as present at its meetings."""
    stmt = (select(User).options(load_only(User.id, User.name, User.role, User.active), raiseload("*"))
            .where(User.centre_id == centre_id,
                   User.role.in_((Role.animator.value, Role.coordinator.value)),
                   or_(User.active, User.id.in_(list(include_ids) or [0])))
            .order_by(User.name))
    return db.session.scalars(stmt).all()


def users_by_ids(centre_id: int, ids) -> list[User]:
    ids = [int(i) for i in ids if i]
    if not ids:
        return []
    return db.session.scalars(select(User).where(User.centre_id == centre_id, User.id.in_(ids))).unique().all()


# --- the after-meeting checklist -----------------------------------------------------------

@dataclass
class Person:
    """One line of the attendance checklist."""
    resident: Resident
    present: bool
    member: bool

    @property
    def id(self) -> int:
        return self.resident.id


def _recent_meeting_ids(meeting: Meeting):
    if meeting.group_id:
        cond = Meeting.group_id == meeting.group_id
    else:
        cond = and_(Meeting.centre_id == meeting.centre_id, Meeting.neighbourhood_id == meeting.neighbourhood_id)
    return (select(Meeting.id).where(cond, Meeting.id != meeting.id, Meeting.starts_at < meeting.starts_at)
            .order_by(Meeting.starts_at.desc()).limit(RECENT_MEETINGS).subquery())


def _candidates(meeting: Meeting):
    """(rid, present, member) for everyone the checklist offers: present, current members, recent attendees."""
    parts = [select(Attendance.resident_id.label("rid"), literal(1).label("present"), literal(0).label("member"))
             .where(Attendance.meeting_id == meeting.id)]
    if meeting.group_id:
        parts.append(select(Membership.resident_id, literal(0), literal(1))
                     .where(Membership.group_id == meeting.group_id, Membership.left_on.is_(None)))
    recent = _recent_meeting_ids(meeting)
    parts.append(select(Attendance.resident_id, literal(0), literal(0))
                 .where(Attendance.meeting_id.in_(select(recent.c.id))))
    u = union_all(*parts).subquery()
    return (select(u.c.rid, func.max(u.c.present).label("present"), func.max(u.c.member).label("member"))
            .group_by(u.c.rid).subquery())


def checklist(user, meeting: Meeting) -> list[Person]:
    """The attendance checklist: members first, then everyone else, each by name; one query."""
    agg = _candidates(meeting)
    stmt = personal_data_scope(user).apply(
        select(Resident, agg.c.present, agg.c.member).join(agg, agg.c.rid == Resident.id)
        .options(load_only(*_RESIDENT_NAME, raiseload=True))
        .where(Resident.anonymised_at.is_(None))
        .order_by(agg.c.present.desc(), agg.c.member.desc(), Resident.sort_name, Resident.id)
        .limit(CHECKLIST_LIMIT), Resident)
    people = [Person(r, bool(p), bool(m)) for r, p, m in db.session.execute(stmt).all()]
    people.sort(key=lambda p: (not p.member, p.resident.sort_name, p.resident.id))
    return people


def checklist_presence(meeting: Meeting) -> dict[int, bool]:
    """Who is on the checklist, and present or not (a search hit on the list swaps its row in place)."""
    agg = _candidates(meeting)
    return {rid: bool(present) for rid, present in db.session.execute(select(agg.c.rid, agg.c.present))}


class Target(NamedTuple):
    meeting: Meeting
    resident: Resident
    present: bool
    member: bool


def attendance_target(user, meeting_id: int, resident_id: int) -> Target | None:
    """The meeting and the resident when both are in the user's scope (else None), whether the person is
    present and a member. One query."""
    scope = personal_data_scope(user)
    present = exists().where(Attendance.meeting_id == Meeting.id, Attendance.resident_id == Resident.id)
    member = exists().where(Membership.group_id == Meeting.group_id, Membership.resident_id == Resident.id,
                            Membership.left_on.is_(None))
    columns = [Meeting, Resident, present.label("present"), member.label("member")]
    # Two single-row lookups side by side: an explicit join on the resident's id, not a product.
    stmt = (select(*columns)
            .select_from(Meeting).join(Resident, Resident.id == resident_id)
            .options(load_only(*_RESIDENT_NAME, raiseload=True))
            .where(Meeting.id == meeting_id, Resident.anonymised_at.is_(None),
                   scope.where(Meeting), scope.where(Resident)))
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    return Target(row[0], row[1], bool(row[2]), bool(row[3]))


def _insert_ignoring_duplicates(table, values: dict) -> bool:
    """INSERT that does nothing when the primary key is already there; True when a row went in.
    (RETURNING, because rowcount is not reliable across drivers for ON CONFLICT DO NOTHING.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    key = list(table.primary_key.columns)[0]
    stmt = insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return db.session.execute(stmt).first() is not None


def set_attendance(meeting_id: int, resident_id: int, present: bool, user_id: int | None) -> bool:
    """Make the resident present or absent; True when something changed. Safe to repeat."""
    if present:
        return _insert_ignoring_duplicates(Attendance.__table__, {
            "meeting_id": meeting_id, "resident_id": resident_id, "created_by_id": user_id,
            "created_at": utcnow()})
    result = db.session.execute(delete(Attendance.__table__).where(
        Attendance.__table__.c.meeting_id == meeting_id, Attendance.__table__.c.resident_id == resident_id))
    return result.rowcount > 0


def search_for_meeting(user, query: str) -> list[Resident]:
    from models.people import search_residents

    return search_residents(user, query, limit=SEARCH_LIMIT)


def meeting_commitments(meeting_id: int) -> list[Commitment]:
    stmt = (select(Commitment).where(Commitment.meeting_id == meeting_id)
            .options(joinedload(Commitment.resident).load_only(*_RESIDENT_NAME, raiseload=True))
            .order_by(Commitment.id))
    return db.session.scalars(stmt).all()


def attendee_ids(meeting_id: int) -> list[int]:
    return list(db.session.scalars(select(Attendance.resident_id).where(Attendance.meeting_id == meeting_id)))


# --- commitments ---------------------------------------------------------------------------

def _commitment_options():
    return (joinedload(Commitment.resident).load_only(*_RESIDENT_NAME, raiseload=True),
            joinedload(Commitment.group).load_only(Group.id, Group.name),
            joinedload(Commitment.meeting).load_only(Meeting.id, Meeting.title, Meeting.starts_at),
            joinedload(Commitment.recorded_by).options(load_only(User.id, User.name), raiseload("*")))


def get_commitment(user, commitment_id: int) -> Commitment | None:
    stmt = personal_data_scope(user).apply(
        select(Commitment).where(Commitment.id == commitment_id).options(*_commitment_options()), Commitment)
    return db.session.scalars(stmt).unique().one_or_none()


def commitment_list(user, *, view: str, today: date, group_id: int | None = None, resident_id: int | None = None,
                    neighbourhood_id: int | None = None, recorded_by_id: int | None = None,
                    page: int = 1, per_page: int = 50) -> tuple[list[Commitment], bool]:
    """One page of commitments in scope for a view (overdue, open, done, dropped, all); (rows, has_next)."""
    ids = personal_data_scope(user).apply(select(Commitment.id), Commitment)
    promised = CommitmentStatus.promised.value
    if view == "overdue":
        ids = ids.where(Commitment.status == promised, Commitment.due_on < today)
        order = (Commitment.due_on, Commitment.id)
    elif view == "open":
        ids = ids.where(Commitment.status == promised)
        order = (Commitment.due_on.is_(None), Commitment.due_on, Commitment.id)
    elif view == "done":
        ids = ids.where(Commitment.status == CommitmentStatus.done.value)
        order = (Commitment.done_on.desc(), Commitment.id.desc())
    elif view == "dropped":
        ids = ids.where(Commitment.status == CommitmentStatus.dropped.value)
        order = (Commitment.id.desc(),)
    else:
        order = (Commitment.id.desc(),)
    if group_id:
        ids = ids.where(Commitment.group_id == group_id)
    if resident_id:
        ids = ids.where(Commitment.resident_id == resident_id)
    if neighbourhood_id:
        ids = ids.where(Commitment.neighbourhood_id == neighbourhood_id)
    if recorded_by_id:
        ids = ids.where(Commitment.recorded_by_id == recorded_by_id)
    # The page of ids first (sorting bare rows), then the people, groups and meetings of that page only.
    page_ids = ids.order_by(*order).limit(per_page + 1).offset((page - 1) * per_page).subquery()
    stmt = (select(Commitment).join(page_ids, page_ids.c.id == Commitment.id)
            .options(*_commitment_options()).order_by(*order))
    rows = db.session.scalars(stmt).unique().all()
    return rows[:per_page], len(rows) > per_page


def get_scoped_resident(user, resident_id: int) -> Resident | None:
    stmt = personal_data_scope(user).apply(
        select(Resident).options(load_only(*_RESIDENT_NAME, raiseload=True))
        .where(Resident.id == resident_id, Resident.anonymised_at.is_(None)), Resident)
    return db.session.scalars(stmt).one_or_none()


def timesheet(user, resident_id: int, start: date, end: date) -> list[Commitment]:
    """Done commitments of a resident with their dates and hours, in [start, end], oldest first."""
    stmt = personal_data_scope(user).apply(
        select(Commitment).options(joinedload(Commitment.group).load_only(Group.id, Group.name),
                                   joinedload(Commitment.meeting).load_only(Meeting.id, Meeting.title))
        .where(Commitment.resident_id == resident_id, Commitment.status == CommitmentStatus.done.value,
               Commitment.done_on >= start, Commitment.done_on <= end)
        .order_by(Commitment.done_on, Commitment.id), Commitment)
    return db.session.scalars(stmt).unique().all()


# --- the iCalendar feed --------------------------------------------------------------------

def user_by_calendar_token(token_hash: str) -> User | None:
    return db.session.scalar(select(User).where(User.calendar_token_hash == token_hash, User.active))


def calendar_meetings(user, now: datetime) -> list[Meeting]:
    """What a user's calendar shows. Animators: meetings they were named at, and the meetings of
    groups they animate; coordinators: every meeting of their centre. Always within their scope."""
    stmt = (scoped_meetings(user)
            .options(joinedload(Meeting.group).load_only(Group.id, Group.name), joinedload(Meeting.neighbourhood))
            .where(Meeting.starts_at >= now - timedelta(days=CALENDAR_PAST_DAYS),
                   Meeting.starts_at < now + timedelta(days=CALENDAR_FUTURE_DAYS))
            .order_by(Meeting.starts_at).limit(CALENDAR_LIMIT))
    if user.role != Role.coordinator.value:
        named = exists().where(meeting_animator.c.meeting_id == Meeting.id, meeting_animator.c.user_id == user.id)
        animates = Meeting.group_id.in_(select(Group.id).where(Group.animator_id == user.id))
        stmt = stmt.where(or_(named, animates))
    return db.session.scalars(stmt).unique().all()


# --- timelines -----------------------------------------------------------------------------

@resident_source
def _meetings_attended(resident_id: int, limit: int) -> list[Entry]:
    rows = db.session.execute(
        select(Meeting.id, Meeting.title, Meeting.kind, Meeting.starts_at, Meeting.group_id, Group.name)
        .join(Attendance, Attendance.meeting_id == Meeting.id).outerjoin(Group, Group.id == Meeting.group_id)
        .where(Attendance.resident_id == resident_id).order_by(Meeting.starts_at.desc()).limit(limit))
    return [Entry(at=r.starts_at, kind="meeting", title=r.title, detail=r.name,
                  link=("meetings.show", {"meeting_id": r.id}),
                  extra={"id": r.id, "meeting_kind": r.kind, "group_id": r.group_id, "group": r.name})
            for r in rows]


def _commitment_entry(c: Commitment, with_resident: bool) -> Entry:
    extra = {"id": c.id, "status": c.status, "due_on": c.due_on, "done_on": c.done_on, "hours": c.hours,
             "meeting_id": c.meeting_id, "group_id": c.group_id}
    if with_resident:
        extra.update(resident_id=c.resident_id, resident=c.resident.display_name)
    return Entry(at=c.created_at, kind="commitment", title=c.what,
                 link=("commitments.edit", {"commitment_id": c.id}),
                 actor=c.recorded_by.name if c.recorded_by else None, extra=extra)


@resident_source
def _resident_commitments(resident_id: int, limit: int) -> list[Entry]:
    rows = db.session.scalars(
        select(Commitment).where(Commitment.resident_id == resident_id)
        .options(joinedload(Commitment.recorded_by).options(load_only(User.id, User.name), raiseload("*")))
        .order_by(Commitment.created_at.desc(), Commitment.id.desc()).limit(limit)).unique()
    return [_commitment_entry(c, with_resident=False) for c in rows]


@group_source
def _group_meetings(group_id: int, limit: int) -> list[Entry]:
    rows = db.session.execute(
        select(Meeting.id, Meeting.title, Meeting.kind, Meeting.starts_at, Meeting.unnamed_count,
               _attendee_count().label("named"))
        .where(Meeting.group_id == group_id).order_by(Meeting.starts_at.desc()).limit(limit))
    return [Entry(at=r.starts_at, kind="meeting", title=r.title, link=("meetings.show", {"meeting_id": r.id}),
                  extra={"id": r.id, "meeting_kind": r.kind, "present": r.named, "unnamed": r.unnamed_count})
            for r in rows]


@group_source
def _group_commitments(group_id: int, limit: int) -> list[Entry]:
    rows = db.session.scalars(
        select(Commitment).where(Commitment.group_id == group_id)
        .options(joinedload(Commitment.recorded_by).options(load_only(User.id, User.name), raiseload("*")),
                 joinedload(Commitment.resident).load_only(*_RESIDENT_NAME, raiseload=True))
        .order_by(Commitment.created_at.desc(), Commitment.id.desc()).limit(limit)).unique()
    return [_commitment_entry(c, with_resident=True) for c in rows]


def neighbourhood_names(ids) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Neighbourhood.id, Neighbourhood.name).where(Neighbourhood.id.in_(ids))).all())
