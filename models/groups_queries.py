"""Named queries for informal groups: the list, the board, one group's page, health signals, stage moves.

Everything here is narrowed by `personal_data_scope(user)` in SQL: a group outside the user's
scope is simply not found. Each function answers with a constant number of statements,
whatever the number of groups, members, meetings or commitments: aggregates are grouped
queries (or scalar subqueries of one SELECT), never a query per row.

Also registers the timeline sources of the group page (stage changes, members joining and
leaving; the meetings area adds the group's meetings and commitments) and of the resident page
(group memberships).
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, DateTime, Integer, Select, and_, bindparam, case, distinct, exists, func, literal, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from models.base import db, utcnow
from models.geo import Neighbourhood
from models.group import STAGE_ORDER, Goal, Group, GroupStatus, MemberRole, Membership, Stage, StageChange
from models.meeting import Attendance, Commitment, CommitmentStatus, Meeting, meeting_animator
from models.people import scoped_residents, search_condition
from models.resident import AgeGroup, Resident
from models.scoping import personal_data_scope
from models.timeline import Entry, group_source, group_timeline, resident_source
from models.user import Role, User

# The coordinator's flags (issue 4): stalled and at risk.
STALL_MEETING_DAYS = 30  # no meeting for this long
STALL_STAGE_DAYS = 120  # no stage change for this long
ACTIVE_DAYS = 60  # an active member came to a meeting of the group within this window
AT_RISK_BELOW = 3  # fewer active members than this: at risk
INDEPENDENCE_MEETINGS = 10  # independence: the share of the last N meetings held without an animator
ADULT_AGE_GROUPS = (AgeGroup.adult.value, AgeGroup.senior.value)
MIN_ADULTS = 3  # the usual condition for applying for a micro-grant
ROLE_HOLDERS = (MemberRole.leader.value, MemberRole.contact.value)
BOARD_LIMIT = 400  # a board larger than this asks for a filter

# Which statuses each status filter keeps; "current" (active and dormant) is the default.
STATUS_FILTERS = {
    "current": (GroupStatus.active.value, GroupStatus.dormant.value),
    "active": (GroupStatus.active.value,),
    "dormant": (GroupStatus.dormant.value,),
    "ended": (GroupStatus.ended.value,),
    "all": None,
}


# --- filters and scope ----------------------------------------------------------------------

@dataclass(frozen=True)
class GroupFilters:
    """What the list and the board are narrowed to, besides the user's scope."""

    neighbourhood_id: int | None = None
    animator_id: int | None = None
    status: str = "current"
    stage: str | None = None
    tag: str | None = None

    def as_args(self) -> dict:
        """The filters as URL parameters, defaults left out."""
        args = {}
        if self.neighbourhood_id:
            args["neighbourhood"] = self.neighbourhood_id
        if self.animator_id:
            args["animator"] = self.animator_id
        if self.status != "current":
            args["status"] = self.status
        if self.stage:
            args["stage"] = self.stage
        if self.tag:
            args["tag"] = self.tag
        return args


def scoped_groups(user) -> Select:
    """SELECT groups the user may see: a coordinator's centre, an animator's osiedla."""
    return personal_data_scope(user).apply(select(Group), Group)


def _filtered(stmt, filters: GroupFilters):
    if filters.neighbourhood_id:
        stmt = stmt.where(Group.neighbourhood_id == filters.neighbourhood_id)
    if filters.animator_id:
        stmt = stmt.where(Group.animator_id == filters.animator_id)
    statuses = STATUS_FILTERS.get(filters.status, STATUS_FILTERS["current"])
    if statuses:
        stmt = stmt.where(Group.status.in_(statuses))
    if filters.stage:
        stmt = stmt.where(Group.stage == filters.stage)
    if filters.tag:
        tags = literal(",") + func.coalesce(Group.tags, "") + literal(",")
        stmt = stmt.where(tags.contains("," + filters.tag + ",", autoescape=True))
    return stmt


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min)


# --- the list and the board -----------------------------------------------------------------

@dataclass
class GroupRow:
    """A group with what the list and the board show about it, and its flags."""

    group: Group
    neighbourhood: str
    animator: str | None
    last_meeting_at: datetime | None
    active_members: int
    members: int
    # [(code, days)]: "no_meeting" (days since the last meeting), "no_meeting_yet" (days since it
    # started), "stage_unchanged" (days on the current stage). Templates make sentences of them.
    stalled: list = field(default_factory=list)
    at_risk: bool = False

    @property
    def flagged(self) -> bool:
        return bool(self.stalled) or self.at_risk


def _came_lately(group_col, resident_col, since, now):
    """EXISTS: this resident came to a meeting of this group between `since` and `now`. Everything
    but the attendance and the meeting comes from the enclosing queries (the group, the member)."""
    return (exists().where(Attendance.resident_id == resident_col, Attendance.meeting_id == Meeting.id,
                           Meeting.group_id == group_col, Meeting.starts_at >= since, Meeting.starts_at <= now)
            .correlate_except(Attendance, Meeting))


def _rows_stmt(user, filters: GroupFilters, now: datetime):
    """Groups in scope with their last meeting, active and current members. The figures are
    correlated subqueries: inside the one statement, each reads only its group's index range."""
    current = and_(Membership.group_id == Group.id, Membership.left_on.is_(None))
    last_meeting = (select(func.max(Meeting.starts_at)).where(Meeting.group_id == Group.id, Meeting.starts_at <= now)
                    .scalar_subquery())
    active = (select(func.count(distinct(Membership.resident_id)))
              .where(current, _came_lately(Group.id, Membership.resident_id, now - timedelta(days=ACTIVE_DAYS), now))
              .scalar_subquery())
    members = select(func.count(distinct(Membership.resident_id))).where(current).scalar_subquery()
    stmt = (select(Group, Neighbourhood.name, User.name, last_meeting, active, members)
            .join(Neighbourhood, Neighbourhood.id == Group.neighbourhood_id)
            .outerjoin(User, User.id == Group.animator_id))
    return _filtered(personal_data_scope(user).apply(stmt, Group), filters)


def flag(row: GroupRow, now: datetime) -> GroupRow:
    """Set the stalled reasons and the at-risk flag from the row's aggregates."""
    g = row.group
    row.stalled, row.at_risk = [], False
    if g.status == GroupStatus.ended.value:
        return row  # an ended group is history, not a worry
    today = now.date()
    if row.last_meeting_at is None:
        since_start = (today - g.started_on).days
        if since_start > STALL_MEETING_DAYS:
            row.stalled.append(("no_meeting_yet", since_start))
    else:
        days = (today - row.last_meeting_at.date()).days
        if days > STALL_MEETING_DAYS:
            row.stalled.append(("no_meeting", days))
    # Independence is the aim: a group that got there is not stuck for staying there.
    if g.stage != Stage.independent.value and g.stage_changed_at is not None:
        days = (today - g.stage_changed_at.date()).days
        if days > STALL_STAGE_DAYS:
            row.stalled.append(("stage_unchanged", days))
    row.at_risk = row.active_members < AT_RISK_BELOW
    return row


def _to_rows(result, now: datetime) -> list[GroupRow]:
    return [flag(GroupRow(g, hood, animator, last, int(active or 0), int(members or 0)), now)
            for g, hood, animator, last, active, members in result]


def group_list(user, filters: GroupFilters, page: int, per_page: int,
               now: datetime | None = None) -> tuple[list[GroupRow], bool]:
    """One page of the groups in scope, by name, with their aggregates and flags."""
    now = now or utcnow()
    stmt = (_rows_stmt(user, filters, now).order_by(Group.name, Group.id)
            .limit(per_page + 1).offset((page - 1) * per_page))
    rows = _to_rows(db.session.execute(stmt).all(), now)
    return rows[:per_page], len(rows) > per_page


def board(user, filters: GroupFilters, now: datetime | None = None) -> tuple[dict[str, list[GroupRow]], bool]:
    """Every group in scope, in columns by stage: the flagged first, then by name."""
    now = now or utcnow()
    stmt = _rows_stmt(user, filters, now).order_by(Group.name, Group.id).limit(BOARD_LIMIT + 1)
    rows = _to_rows(db.session.execute(stmt).all(), now)
    columns: dict[str, list[GroupRow]] = {s: [] for s in STAGE_ORDER}
    for row in sorted(rows[:BOARD_LIMIT], key=lambda r: not r.flagged):
        columns.setdefault(row.group.stage, []).append(row)
    return columns, len(rows) > BOARD_LIMIT


def board_row(user, group_id: int, now: datetime | None = None) -> GroupRow | None:
    """One group's card on the board (after a move), in scope or None."""
    now = now or utcnow()
    stmt = _rows_stmt(user, GroupFilters(status="all"), now).where(Group.id == group_id)
    rows = _to_rows(db.session.execute(stmt).all(), now)
    return rows[0] if rows else None


def stage_counts(user, filters: GroupFilters) -> dict[str, int]:
    """How many groups in scope (and filters) are at each stage."""
    stmt = _filtered(personal_data_scope(user).apply(
        select(Group.stage, func.count()).group_by(Group.stage), Group), filters)
    counts = {s: 0 for s in STAGE_ORDER}
    counts.update(dict(db.session.execute(stmt).all()))
    return counts


# --- the chart: groups per stage, month by month --------------------------------------------

@dataclass
class ChartMonth:
    month: date  # the first day of the month
    counts: dict  # stage -> groups at that stage at the end of the month (or today)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _months_back(today: date, months: int) -> list[date]:
    firsts = []
    y, m = today.year, today.month
    for _ in range(months):
        firsts.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return list(reversed(firsts))


def stage_chart(user, filters: GroupFilters, rows: list[GroupRow], today: date, months: int = 12) -> list[ChartMonth]:
    """Groups per stage at the end of each of the last `months` months, from the stage history.

    One statement: the stage changes of the groups on the board. A group without any recorded
    change counts at its current stage from the day it was added."""
    stmt = _filtered(personal_data_scope(user).apply(
        select(StageChange.group_id, StageChange.to_stage, StageChange.changed_at)
        .join(Group, Group.id == StageChange.group_id)
        .order_by(StageChange.group_id, StageChange.changed_at, StageChange.id), Group), filters)
    history: dict[int, list[tuple[datetime, str]]] = {}
    for gid, to_stage, at in db.session.execute(stmt):
        history.setdefault(gid, []).append((at, to_stage))
    for row in rows:
        history.setdefault(row.group.id, [(row.group.created_at, row.group.stage)])
    result = []
    for first in _months_back(today, months):
        nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        end = _day_start(min(nxt, today + timedelta(days=1)))
        counts = {s: 0 for s in STAGE_ORDER}
        for changes in history.values():
            stage = None
            for at, to_stage in changes:
                if at >= end:
                    break
                stage = to_stage
            if stage in counts:
                counts[stage] += 1
        result.append(ChartMonth(first, counts))
    return result


# --- one group --------------------------------------------------------------------------------

def get_group(user, group_id: int) -> Group | None:
    """One group with its osiedle and animator, only if in the user's scope (None: 404)."""
    stmt = (scoped_groups(user).where(Group.id == group_id)
            .options(joinedload(Group.neighbourhood), joinedload(Group.animator).raiseload(User.neighbourhoods)))
    return db.session.scalars(stmt).unique().one_or_none()


ROLE_ORDER = {MemberRole.leader.value: 0, MemberRole.contact.value: 1, MemberRole.member.value: 2}


def current_members(group_id: int) -> list[Membership]:
    """The group's members now (leaders first), each with the resident; one statement."""
    stmt = (select(Membership).join(Resident, Resident.id == Membership.resident_id)
            .where(Membership.group_id == group_id, Membership.left_on.is_(None))
            .options(contains_eager(Membership.resident))
            .order_by(case(ROLE_ORDER, value=Membership.role, else_=3), Resident.sort_name, Membership.id))
    return db.session.scalars(stmt).unique().all()


def get_membership(group_id: int, membership_id: int) -> Membership | None:
    """A current membership of this group (the group is already known to be in scope)."""
    stmt = (select(Membership).where(Membership.id == membership_id, Membership.group_id == group_id,
                                     Membership.left_on.is_(None))
            .options(joinedload(Membership.resident).raiseload("*")))
    return db.session.scalars(stmt).unique().one_or_none()


def group_goals(group_id: int) -> list[Goal]:
    return db.session.scalars(select(Goal).where(Goal.group_id == group_id).order_by(Goal.id)).all()


def get_goal(group_id: int, goal_id: int) -> Goal | None:
    return db.session.scalar(select(Goal).where(Goal.id == goal_id, Goal.group_id == group_id))


def adult_count(members: list[Membership]) -> int:
    """Members who count as adults for a micro-grant: age group adult or senior (unknown does not)."""
    return sum(1 for m in members if m.resident.age_group in ADULT_AGE_GROUPS)


def member_candidates(user, group: Group, query: str, limit: int = 8) -> list[Resident]:
    """Residents who may join `group`: in the user's scope and the group's centre and osiedle,
    matching `query` (diacritic-insensitive word prefixes), not members already."""
    cond = search_condition(query)
    if cond is None:
        return []
    members = select(Membership.resident_id).where(Membership.group_id == group.id, Membership.left_on.is_(None))
    stmt = (scoped_residents(user)
            .where(cond, Resident.centre_id == group.centre_id, Resident.neighbourhood_id == group.neighbourhood_id,
                   Resident.id.not_in(members))
            .order_by(Resident.sort_name, Resident.id).limit(limit))
    return db.session.scalars(stmt).all()


def get_candidate(user, group: Group, resident_id: int) -> Resident | None:
    """The resident `resident_id` if they may join `group` (scope, centre and osiedle), else None."""
    stmt = scoped_residents(user).where(Resident.id == resident_id, Resident.centre_id == group.centre_id,
                                        Resident.neighbourhood_id == group.neighbourhood_id)
    return db.session.scalars(stmt).one_or_none()


def is_member(group_id: int, resident_id: int) -> bool:
    return db.session.scalar(select(exists().where(
        Membership.group_id == group_id, Membership.resident_id == resident_id, Membership.left_on.is_(None))))


def team_animators(user) -> list[tuple[int, str]]:
    """(id, name) of the active animators of the user's centre, for selects and filters."""
    if not user.centre_id:
        return []
    stmt = (select(User.id, User.name).where(User.centre_id == user.centre_id, User.role == Role.animator.value,
                                             User.active).order_by(User.name))
    return [(uid, name) for uid, name in db.session.execute(stmt)]


# --- health signals -----------------------------------------------------------------------------

@dataclass
class Health:
    """What tells whether a group is alive and growing independent; see `health()`."""

    last_meeting_at: datetime | None
    active_members: int
    members: int
    adults: int
    kept: int
    dropped: int
    overdue: int
    recent_meetings: int
    without_animator: int
    role_holders: int
    leaders_ever: int
    leaders_now: int
    now: datetime

    @property
    def days_since_meeting(self) -> int | None:
        return None if self.last_meeting_at is None else (self.now.date() - self.last_meeting_at.date()).days

    @property
    def judged_commitments(self) -> int:
        return self.kept + self.dropped + self.overdue

    @property
    def kept_share(self) -> float | None:
        """done / (done + dropped + overdue promised); None when nothing can be judged yet."""
        return self.kept / self.judged_commitments if self.judged_commitments else None

    @property
    def independence_share(self) -> float | None:
        """The share of the last meetings held without any animator present."""
        return self.without_animator / self.recent_meetings if self.recent_meetings else None

    @property
    def leadership_rotates(self) -> bool:
        return self.leaders_ever > 1

    @property
    def enough_adults(self) -> bool:
        return self.adults >= MIN_ADULTS


def _health_statement():
    """The health signals of one group as one SELECT of scalar subqueries, built once: only the
    parameters (group, now, the window, today) change from call to call."""
    g, now = bindparam("group_id", type_=Integer), bindparam("now", type_=DateTime)
    since, today = bindparam("since", type_=DateTime), bindparam("today", type_=Date)

    def scalar(stmt):
        return stmt.scalar_subquery()

    current = and_(Membership.group_id == g, Membership.left_on.is_(None))
    of_group = or_(Commitment.group_id == g, Commitment.meeting_id.in_(select(Meeting.id).where(Meeting.group_id == g)))
    recent = (select(Meeting.id).where(Meeting.group_id == g, Meeting.starts_at <= now)
              .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(INDEPENDENCE_MEETINGS).subquery("recent"))
    commitments = select(func.count()).select_from(Commitment).where(of_group)
    return select(
        scalar(select(func.max(Meeting.starts_at)).where(Meeting.group_id == g, Meeting.starts_at <= now)),
        scalar(select(func.count(distinct(Membership.resident_id)))
               .where(current, _came_lately(g, Membership.resident_id, since, now))),
        scalar(select(func.count(distinct(Membership.resident_id))).where(current)),
        scalar(select(func.count(distinct(Membership.resident_id)))
               .join(Resident, Resident.id == Membership.resident_id)
               .where(current, Resident.age_group.in_(ADULT_AGE_GROUPS))),
        scalar(commitments.where(Commitment.status == CommitmentStatus.done.value)),
        scalar(commitments.where(Commitment.status == CommitmentStatus.dropped.value)),
        scalar(commitments.where(Commitment.status == CommitmentStatus.promised.value, Commitment.due_on < today)),
        scalar(select(func.count()).select_from(recent)),
        scalar(select(func.count()).select_from(recent).where(
            ~exists().where(meeting_animator.c.meeting_id == recent.c.id))),
        scalar(select(func.count(distinct(Membership.resident_id))).where(current, Membership.role.in_(ROLE_HOLDERS))),
        scalar(select(func.count(distinct(Membership.resident_id))).where(
            Membership.group_id == g, Membership.role == MemberRole.leader.value)),
        scalar(select(func.count(distinct(Membership.resident_id))).where(current, Membership.role == MemberRole.leader.value)),
    )


_HEALTH: list = []


def health(group_id: int, now: datetime | None = None) -> Health:
    """The group's health signals in one statement (no query per member or per meeting)."""
    now = now or utcnow()
    if not _HEALTH:
        _HEALTH.append(_health_statement())
    params = {"group_id": group_id, "now": now, "since": now - timedelta(days=ACTIVE_DAYS), "today": now.date()}
    last, *counts = db.session.execute(_HEALTH[0], params).one()
    return Health(last, *(int(c or 0) for c in counts), now=now)


# --- writes: stage moves and memberships -------------------------------------------------------

class StaleGroup(Exception):
    """The group was changed (moved or edited) since the form was shown."""


def record_start(group: Group, user_id: int | None, note: str, when: datetime, on: date) -> StageChange:
    """The first entry of a new group's history: no previous stage, from version 0."""
    change = StageChange(group_id=group.id, from_stage=None, to_stage=group.stage, from_version=0,
                         note=note or "", user_id=user_id, changed_at=when, changed_on=on)
    db.session.add(change)
    return change


def move_stage(group: Group, to_stage: str, note: str, user_id: int | None, expected_version: int,
               when: datetime | None = None, on: date | None = None) -> StageChange:
    """Move `group` to `to_stage` with a note, forward or back, as one dated StageChange.

    The move is recorded against the version the user saw. If someone moved or edited the group
    since, StaleGroup is raised here; if that happens between this check and the commit, the
    UPDATE ... WHERE version = ... finds no row (StaleDataError) or the unique
    (group_id, from_version) refuses the second StageChange (IntegrityError): exactly one wins."""
    if group.version != expected_version:
        raise StaleGroup()
    when = when or utcnow()
    change = StageChange(group_id=group.id, from_stage=group.stage, to_stage=to_stage, from_version=group.version,
                         note=note, user_id=user_id, changed_at=when, changed_on=on or when.date())
    db.session.add(change)
    group.stage = to_stage
    group.stage_changed_at = when
    db.session.flush()
    return change


def is_repeat(group_id: int, from_version: int, user_id: int | None, to_stage: str, note: str) -> bool:
    """True when this very move (same person, version, stage and note) is already recorded: a form
    sent twice (a double tap, a retry on a bad connection) is not somebody else's conflicting move."""
    return db.session.scalar(select(exists().where(
        StageChange.group_id == group_id, StageChange.from_version == from_version, StageChange.user_id == user_id,
        StageChange.to_stage == to_stage, StageChange.note == note)))


def add_member(group: Group, resident_id: int, role: str, user_id: int | None, on: date) -> Membership:
    membership = Membership(group_id=group.id, resident_id=resident_id, role=role, joined_on=on,
                            created_by_id=user_id)
    db.session.add(membership)
    db.session.flush()
    return membership


def change_role(membership: Membership, role: str, user_id: int | None, on: date) -> Membership:
    """A new role is a new period: the old one ends today and a new one starts, so that the
    history (who led the group, and when) is kept. A same-day correction edits in place."""
    if membership.joined_on >= on:
        membership.role = role
        return membership
    membership.left_on = on
    successor = Membership(group_id=membership.group_id, resident_id=membership.resident_id, role=role,
                           joined_on=on, created_by_id=user_id)
    db.session.add(successor)
    db.session.flush()
    return successor


# --- timelines ----------------------------------------------------------------------------------

def _on_day(day: date) -> datetime:
    # Midnight UTC is the same calendar day in Warsaw (UTC+1 or +2), and never later than now.
    return datetime.combine(day, time.min)


def membership_events(rows) -> list[tuple[date, str, object, dict]]:
    """(day, event, row, extra) from membership periods, oldest first: "joined", "left", and
    "role" when a period ends on the day the same person's next one starts (a change of role)."""
    rows = sorted(rows, key=lambda r: (r[0].joined_on, r[0].id))
    events = []
    successors = {}
    for row in rows:
        m = row[0]
        successors.setdefault((m.resident_id, m.joined_on), row)
    for row in rows:
        m = row[0]
        follow = successors.get((m.resident_id, m.left_on)) if m.left_on else None
        if follow is not None and follow[0].id != m.id:
            events.append((m.left_on, "role", follow, {"from_role": m.role, "role": follow[0].role}))
        elif m.left_on:
            events.append((m.left_on, "left", row, {"role": m.role}))
        preceded = any(o[0].resident_id == m.resident_id and o[0].left_on == m.joined_on and o[0].id != m.id
                       for o in rows)
        if not preceded:
            events.append((m.joined_on, "joined", row, {"role": m.role}))
    return events


@group_source
def _group_stage_changes(group_id: int, limit: int) -> list[Entry]:
    rows = db.session.execute(
        select(StageChange, User.name).outerjoin(User, User.id == StageChange.user_id)
        .where(StageChange.group_id == group_id)
        .order_by(StageChange.changed_at.desc(), StageChange.id.desc()).limit(limit))
    return [Entry(at=c.changed_at, kind="stage", title=c.to_stage, detail=c.note or None, actor=name,
                  extra={"id": c.id, "from_stage": c.from_stage, "to_stage": c.to_stage})
            for c, name in rows]


@group_source
def _group_memberships(group_id: int, limit: int) -> list[Entry]:
    rows = db.session.execute(
        select(Membership, Resident.id, Resident.first_name, Resident.last_name, Resident.description,
               Resident.anonymised_at)
        .join(Resident, Resident.id == Membership.resident_id)
        .where(Membership.group_id == group_id)
        .order_by(func.coalesce(Membership.left_on, Membership.joined_on).desc(), Membership.id.desc())
        .limit(limit)).all()
    entries = []
    for day, event, row, extra in membership_events(rows):
        m, rid, first, last, description, anonymised = row
        # A transient Resident gives the one display rule (pseudonyms, anonymised records).
        name = Resident(id=rid, first_name=first, last_name=last, description=description,
                        anonymised_at=anonymised).display_name
        # The resident's page is /residents/<id> (a stable path); the template links it.
        entries.append(Entry(at=_on_day(day), kind="membership", title=name,
                             extra={"id": f"{m.id}-{event}", "event": event, "date_only": True,
                                    "resident_id": None if anonymised else rid, **extra}))
    return entries


def stage_history(group_id: int) -> list[tuple[StageChange, str | None]]:
    """Every stage change of the group, newest first, with who made it: the group's path."""
    return db.session.execute(
        select(StageChange, User.name).outerjoin(User, User.id == StageChange.user_id)
        .where(StageChange.group_id == group_id)
        .order_by(StageChange.changed_at.desc(), StageChange.id.desc())).all()


def group_history(group_id: int, limit: int = 20) -> list[Entry]:
    """The group's timeline, newest first: what has happened (planned meetings are not history yet).
    Entries are unique by kind and id, in case two areas ever register a source for the same rows."""
    now = utcnow()
    seen, unique = set(), []
    for e in group_timeline(group_id, limit):
        if e.at > now:
            continue
        key = (e.kind, e.extra.get("id")) if e.extra.get("id") is not None else None
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        unique.append(e)
    return unique


@resident_source
def _resident_groups(resident_id: int, limit: int) -> list[Entry]:
    """The resident's page: groups joined and left, and changes of role in them."""
    rows = db.session.execute(
        select(Membership, Group.id, Group.name)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.resident_id == resident_id)
        .order_by(func.coalesce(Membership.left_on, Membership.joined_on).desc(), Membership.id.desc())
        .limit(limit)).all()
    by_group: dict[int, list] = {}
    for row in rows:
        by_group.setdefault(row[1], []).append(row)
    entries = []
    for gid, group_rows in by_group.items():
        for day, event, row, extra in membership_events(group_rows):
            entries.append(Entry(at=_on_day(day), kind="membership", title=row[2],
                                 link=("groups.show", {"group_id": gid}),
                                 extra={"id": f"{row[0].id}-{event}", "event": event, "date_only": True,
                                        "group_id": gid, **extra}))
    return entries
