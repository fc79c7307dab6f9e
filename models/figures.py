"""Figures of the work for the dashboard (`/`) and the city's view (`/city`): counts and sums, never people.

Definitions (shared with the report, models/reports.py, where the two overlap; the report also
counts meetings still planned when its period reaches into the future, these figures do not):

- A **period** is [start, end] of local (Europe/Warsaw) dates, both days included. `Period` also
  carries its UTC bounds [lo, hi) for the timestamp columns (Interaction.occurred_at,
  Meeting.starts_at, Resident.created_at, StageChange.changed_at, Commitment.created_at, all naive
  UTC); the caller makes them with app/timeutil.py (`app.periods.period`), because this package
  imports nothing from app/. Date columns (Commitment.done_on, due_on) compare with the dates.
- **New residents**: Resident.created_at in the period.
- **Contacts**: interactions with occurred_at in the period. A contact belongs where its resident
  belongs (the resident's centre and osiedle).
- **Meetings**: meetings with starts_at in the period that have already started (starts_at <= now):
  a planned meeting is not counted until it begins. A meeting belongs to its own centre and osiedle.
- **Attendance (named)**: attendance rows of those meetings: visits, not people.
  **Unnamed headcount**: the sum of Meeting.unnamed_count of those meetings.
- **Unique people reached**: distinct residents with a contact in the period or an attendance at a
  meeting counted in the period; a person is counted once however many contacts and meetings they
  had. For a scope (a coordinator's centre, an animator's osiedla; the dashboard): the scope's
  residents with a contact or at one of the scope's meetings. In the city's tables each person is
  counted where they belong (their own centre and osiedle), whichever meeting they came to: the
  osiedla of a centre add up to the centre, and the centres to the programme. The two agree unless
  somebody comes to a meeting outside their own centre or osiedla (the meeting screen only finds
  people in the user's scope, so this is rare); the report (models/reports.py) also counts, for a
  centre, people from elsewhere who came to its meetings.
  **People reached incl. unnamed** = unique people + unnamed headcount (an upper bound: an unnamed
  person may have come to several meetings). Residents erased under RODO (anonymised) still count:
  they were reached, and their row keeps centre, osiedle and age group.
- **Groups by stage**: groups that are not ended (active or dormant, as on the board), counted at
  the stage they were at when the period ends: the to_stage of their last StageChange before the
  end, or, with no change recorded by then, the stage their history starts from (the first
  record), or their current stage without any history; only groups started (Group.started_on) by
  the period's end. A group's status has no history, so a group ended today leaves past periods too.
  (The dashboard, whose period ends today, takes them from the groups board: the same groups, at
  their current stage.)
- **Stage moves**: StageChanges in the period with a from_stage (the first record of a group is its
  start, not a move), of groups in scope.
- **Commitments made**: Commitment.created_at in the period; **kept**: status done with done_on in
  the period; **volunteer hours**: the sum of hours of the kept ones; **overdue**: status promised
  with due_on before today: a state now, not a figure of the period. A commitment belongs to its
  own centre and osiedle.

Scope (models/scoping.py): a coordinator's figures count the rows of their centre, an animator's
the rows of their centre in their osiedla, each row by its own centre and osiedle as above; the city
and admins count everything (and only ever get numbers). Every filter is in SQL.

Statements, whatever the number of rows: the dashboard's figures are three (the people reached by
age group, the residents by rung, and one row of everything else built from single-row subqueries);
the city's are one grouped statement per table, the people reached in two (two halves of the
residents by id), and the centres and osiedla. The costly ones run in worker threads, on connections
of their own, alongside the request (see `_in_background`): on two cores a request takes about as
long as its longest share of the work, not the sum. Nothing is cached.
"""
import os
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, and_, case, func, literal_column, or_, select, true, union_all
from sqlalchemy.sql import ColumnElement

from models.base import db
from models.geo import Centre, Neighbourhood
from models.group import STAGE_ORDER, Group, GroupStatus, StageChange
from models.meeting import Attendance, Commitment, CommitmentStatus, Meeting
from models.resident import AgeGroup, RUNG_ORDER, Interaction, Resident
from models.scoping import Scope

AGE_ORDER = [a.value for a in AgeGroup] + [None]  # None: not given
CURRENT_STATUSES = (GroupStatus.active.value, GroupStatus.dormant.value)


@dataclass(frozen=True)
class Period:
    """Local dates [start, end], both included, and their UTC bounds [lo, hi) for timestamp columns."""

    start: date
    end: date
    lo: datetime
    hi: datetime


@dataclass
class Figures:
    """The figures of one period for one place (a scope, a centre, an osiedle, or everything)."""

    new_residents: int = 0
    contacts: int = 0
    meetings: int = 0
    attendance: int = 0
    unnamed: int = 0
    reached: int = 0
    stage_moves: int = 0
    commitments_made: int = 0
    commitments_kept: int = 0
    hours: Decimal = Decimal(0)
    # States, not figures of the period: commitments overdue now, groups by stage at the period's end.
    overdue: int = 0
    stages: dict = field(default_factory=lambda: {s: 0 for s in STAGE_ORDER})

    @property
    def reached_all(self) -> int:
        """Unique people plus the unnamed headcount (an upper bound, as the page says)."""
        return self.reached + self.unnamed

    @property
    def groups(self) -> int:
        return sum(self.stages.values())

    def add(self, other: "Figures") -> None:
        for name in ("new_residents", "contacts", "meetings", "attendance", "unnamed", "reached", "stage_moves",
                     "commitments_made", "commitments_kept", "hours", "overdue"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for stage, n in other.stages.items():
            self.stages[stage] = self.stages.get(stage, 0) + n


# --- building blocks -----------------------------------------------------------------------------

# The costliest statements of the dashboard and of the city's view run in worker threads, each thread
# on a connection of its own, while the request's session runs the others: both databases let several
# readers work at once (SQLite in WAL mode; the driver releases the GIL while SQLite works), so a
# request takes about as long as its longest share of the work, not the sum. Nothing is cached: every
# figure is counted again on every request.
_BACKGROUND = ThreadPoolExecutor(max_workers=2, thread_name_prefix="figures")


def _new_pool_after_fork() -> None:
    # A forked process inherits the pool but not its threads: it gets a pool of its own.
    global _BACKGROUND
    _BACKGROUND = ThreadPoolExecutor(max_workers=2, thread_name_prefix="figures")


os.register_at_fork(after_in_child=_new_pool_after_fork)


def _in_background(stmt, *more):
    """Start read-only statements, one after the other, in a worker thread; returns a function that
    waits for their rows (the rows of `stmt`, or a list of row lists when there are `more`)."""
    engine = db.engine

    def rows():
        with engine.connect() as conn:
            results = [conn.execute(s).mappings().all() for s in (stmt, *more)]
        return results if more else results[0]

    return _BACKGROUND.submit(rows).result


def _in(col, lo, hi) -> ColumnElement[bool]:
    return and_(col >= lo, col < hi)


def _count_if(cond) -> ColumnElement:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _sum_if(cond, value) -> ColumnElement:
    return func.coalesce(func.sum(case((cond, value), else_=0)), 0)


def _span(periods) -> tuple[datetime, datetime]:
    return min(p.lo for p in periods), max(p.hi for p in periods)


def _scoped(stmt: Select, scope: Scope, model) -> Select:
    return stmt if scope.everything else stmt.where(scope.where(model))


def _as_int(value) -> int:
    return int(value or 0)


# --- one statement per table, optionally grouped by centre and osiedle ----------------------------

def _residents_stmt(scope: Scope, periods, keys: list) -> Select:
    """New residents in each period, per `keys` (columns of Resident)."""
    lo, hi = _span(periods)
    cols = [_count_if(_in(Resident.created_at, p.lo, p.hi)).label(f"new{i}") for i, p in enumerate(periods)]
    stmt = select(*keys, *cols).where(_in(Resident.created_at, lo, hi))
    return _scoped(stmt, scope, Resident).group_by(*keys) if keys else _scoped(stmt, scope, Resident)


def _per_person(scope: Scope, periods, now: datetime, half: int | None = None):
    """A subquery with one row per person with a contact or an attendance in any of `periods`: `rid`,
    their contacts in each period (`c0`, ...), and whether they came to a meeting of each period
    (`a0`, ...; 1 or 0).

    The contacts are counted along the interactions index (resident, time), narrowed to the scope's
    residents; the attendance of each period's meetings (the scope's meetings) along the attendance
    key (meeting, resident): never a walk over all attendance.

    `half` (0 or 1) keeps only the residents with an id below (0) or from (1) half the highest id: the
    two halves are disjoint, each reads half of the interactions index, and two threads count them
    at once."""
    n = len(periods)
    lo, hi = _span(periods)
    zero = literal_column("0")
    contact_cols = [_count_if(_in(Interaction.occurred_at, p.lo, p.hi)).label(f"c{i}") for i, p in enumerate(periods)]
    contacts = (select(Interaction.resident_id.label("rid"), *contact_cols, *[zero.label(f"a{i}") for i in range(n)])
                .where(_in(Interaction.occurred_at, lo, hi)))
    if not scope.everything:
        contacts = contacts.join(Resident, Resident.id == Interaction.resident_id).where(scope.where(Resident))
    middle = select(func.max(Resident.id) / 2).scalar_subquery()

    def in_half(col):
        return true() if half is None else (col < middle if half == 0 else col >= middle)

    branches = [contacts.where(in_half(Interaction.resident_id)).group_by(Interaction.resident_id)]
    for i, p in enumerate(periods):
        held = _scoped(select(Meeting.id).where(_in(Meeting.starts_at, p.lo, p.hi), Meeting.starts_at <= now),
                       scope, Meeting)
        attended = select(Attendance.resident_id.label("rid"), *[zero.label(c.key) for c in contact_cols],
                          *[literal_column("1" if k == i else "0").label(f"a{k}") for k in range(n)]
                          ).where(Attendance.meeting_id.in_(held), in_half(Attendance.resident_id))
        branches.append(attended.distinct())
    both = union_all(*branches).subquery()
    return (select(both.c.rid, *[func.sum(both.c[c.key]).label(c.key) for c in contact_cols],
                   *[func.max(both.c[f"a{i}"]).label(f"a{i}") for i in range(n)])
            .group_by(both.c.rid).subquery("per_person"))


def _scope_people_stmt(scope: Scope, periods, now: datetime) -> Select:
    """The dashboard's people, by age group: contacts with the scope's residents in each period, and
    the scope's residents reached in each period (by a contact or at one of the scope's meetings), each
    counted once (COUNT DISTINCT over contacts and attendances together).

    One walk of the scope's residents' interactions (resident, time) and of the attendance of each
    period's meetings (meeting, resident); only the people found are looked up, for their age group."""
    n = len(periods)
    lo, hi = _span(periods)
    zero = literal_column("0")

    def flag(cond):
        return case((cond, 1), else_=0)

    contacts = (select(Interaction.resident_id.label("rid"),
                       *[flag(_in(Interaction.occurred_at, p.lo, p.hi)).label(f"c{i}") for i, p in enumerate(periods)])
                .where(_in(Interaction.occurred_at, lo, hi)))
    if not scope.everything:
        contacts = contacts.join(Resident, Resident.id == Interaction.resident_id).where(scope.where(Resident))
    branches = [contacts.add_columns(*[literal_column("0").label(f"a{i}") for i in range(n)])]
    for i, p in enumerate(periods):
        # The meetings of the period first, then their attendance: never a walk over all attendance.
        held = _scoped(select(Meeting.id).where(_in(Meeting.starts_at, p.lo, p.hi), Meeting.starts_at <= now),
                       scope, Meeting)
        branches.append(select(Attendance.resident_id.label("rid"), *[zero.label(f"c{k}") for k in range(n)],
                               *[literal_column("1" if k == i else "0").label(f"a{k}") for k in range(n)])
                        .where(Attendance.meeting_id.in_(held)))
    both = union_all(*branches).subquery("events")
    cols = []
    for i in range(n):
        reached = case((or_(both.c[f"c{i}"] == 1, both.c[f"a{i}"] == 1), both.c.rid))
        cols += [func.coalesce(func.sum(both.c[f"c{i}"]), 0).label(f"contacts{i}"),
                 func.count(func.distinct(reached)).label(f"reached{i}")]
    stmt = select(Resident.age_group, *cols).select_from(both).join(Resident, Resident.id == both.c.rid)
    return _scoped(stmt, scope, Resident).group_by(Resident.age_group)


def _people_cols(per_person, n: int) -> list:
    """Sums over people: contacts and people reached in each period."""
    cols = []
    for i in range(n):
        c, a = per_person.c[f"c{i}"], per_person.c[f"a{i}"]
        cols += [func.coalesce(func.sum(c), 0).label(f"contacts{i}"), _count_if(or_(c > 0, a > 0)).label(f"reached{i}")]
    return cols


def _people_stmt(scope: Scope, periods, now: datetime, keys: list, half: int | None = None) -> Select:
    """Contacts and unique people reached in each period, per `keys` (columns of Resident): each person
    counted once, where they belong (the city's tables; the scope is everything there). With `half`,
    only that half of the residents (see `_per_person`)."""
    per_person = _per_person(scope, periods, now, half)
    stmt = (select(*keys, *_people_cols(per_person, len(periods))).select_from(per_person)
            .join(Resident, Resident.id == per_person.c.rid))
    return stmt.group_by(*keys) if keys else stmt


def _meetings_stmt(scope: Scope, periods, now: datetime, keys: list, weeks=()) -> Select:
    """Meetings held, named attendance and unnamed headcount in each period (and meetings per week)."""
    lo, hi = _span(list(periods) + list(weeks))
    present = (select(func.count()).where(Attendance.meeting_id == Meeting.id).correlate(Meeting).scalar_subquery())
    cols = []
    for i, p in enumerate(periods):
        held = _in(Meeting.starts_at, p.lo, p.hi)
        cols += [_count_if(held).label(f"meetings{i}"), _sum_if(held, present).label(f"attendance{i}"),
                 _sum_if(held, Meeting.unnamed_count).label(f"unnamed{i}")]
    cols += [_count_if(_in(Meeting.starts_at, w.lo, w.hi)).label(f"wm{j}") for j, w in enumerate(weeks)]
    stmt = _scoped(select(*keys, *cols).where(_in(Meeting.starts_at, lo, hi), Meeting.starts_at <= now), scope,
                   Meeting)
    return stmt.group_by(*keys) if keys else stmt


def _weekly_contacts_stmt(scope: Scope, weeks) -> Select:
    """One row: the contacts with the scope's residents in each of `weeks`."""
    lo, hi = _span(weeks)
    cols = [_count_if(_in(Interaction.occurred_at, w.lo, w.hi)).label(f"wc{j}") for j, w in enumerate(weeks)]
    stmt = select(*cols).where(_in(Interaction.occurred_at, lo, hi))
    if not scope.everything:
        stmt = stmt.join(Resident, Resident.id == Interaction.resident_id).where(scope.where(Resident))
    return stmt


def _commitments_stmt(scope: Scope, periods, today: date, keys: list) -> Select:
    """Commitments made, kept and their hours in each period; overdue now."""
    lo, hi = _span(periods)
    done = Commitment.status == CommitmentStatus.done.value
    overdue = and_(Commitment.status == CommitmentStatus.promised.value, Commitment.due_on < today)
    cols = []
    for i, p in enumerate(periods):
        kept = and_(done, Commitment.done_on >= p.start, Commitment.done_on <= p.end)
        cols += [_count_if(_in(Commitment.created_at, p.lo, p.hi)).label(f"made{i}"),
                 _count_if(kept).label(f"kept{i}"), _sum_if(kept, Commitment.hours).label(f"hours{i}")]
    cols.append(_count_if(overdue).label("overdue"))
    start, end = min(p.start for p in periods), max(p.end for p in periods)
    relevant = or_(_in(Commitment.created_at, lo, hi), and_(done, Commitment.done_on >= start, Commitment.done_on <= end),
                   overdue)
    stmt = _scoped(select(*keys, *cols).where(relevant), scope, Commitment)
    return stmt.group_by(*keys) if keys else stmt


def _moves_stmt(scope: Scope, periods, keys: list) -> Select:
    """Stage moves (not a group's first record) in each period, by the group's centre and osiedle."""
    lo, hi = _span(periods)
    cols = [_count_if(_in(StageChange.changed_at, p.lo, p.hi)).label(f"moves{i}") for i, p in enumerate(periods)]
    stmt = (select(*keys, *cols).select_from(StageChange).join(Group, Group.id == StageChange.group_id)
            .where(StageChange.from_stage.is_not(None), _in(StageChange.changed_at, lo, hi)))
    stmt = _scoped(stmt, scope, Group)
    return stmt.group_by(*keys) if keys else stmt


def _stages_stmt(scope: Scope, period: Period, keys: list) -> Select:
    """Groups (not ended, started by the end) by the stage they were at when the period ends."""
    last = (select(StageChange.to_stage).where(StageChange.group_id == Group.id, StageChange.changed_at < period.hi)
            .order_by(StageChange.changed_at.desc(), StageChange.id.desc()).limit(1)
            .correlate(Group).scalar_subquery())
    first = (select(StageChange.to_stage).where(StageChange.group_id == Group.id)
             .order_by(StageChange.changed_at, StageChange.id).limit(1).correlate(Group).scalar_subquery())
    stage = func.coalesce(last, first, Group.stage).label("stage")
    inner = _scoped(select(*keys, stage).where(Group.status.in_(CURRENT_STATUSES), Group.started_on <= period.end),
                    scope, Group).subquery()
    outer_keys = [inner.c[k.key] for k in keys]
    return select(*outer_keys, inner.c.stage, func.count().label("n")).group_by(*outer_keys, inner.c.stage)


# --- the dashboard --------------------------------------------------------------------------------

@dataclass
class Dashboard:
    """What the start page of a coordinator or animator shows, for two periods (this month, the last)."""

    periods: list  # [Period, Period]
    figures: list  # [Figures, Figures], same order
    ladder: dict  # rung -> residents in scope now
    reached_by_age: list  # [(age group or None, [reached in period 0, reached in period 1])]
    weeks: list  # [(Period, contacts, meetings)], oldest first


def dashboard(scope: Scope, periods: list[Period], weeks: list[Period], now: datetime, today: date) -> Dashboard:
    """The scope's figures for `periods` and its activity in `weeks` (contacts and meetings per week):
    three statements."""
    return start_dashboard(scope, periods, weeks, now, today)()


def start_dashboard(scope: Scope, periods: list[Period], weeks: list[Period], now: datetime,
                    today: date) -> Callable[[], Dashboard]:
    """Like `dashboard`, in two steps: the two costlier statements (the people reached, the residents
    by rung) start in worker threads and the third runs at once; the function returned waits for the
    first two and puts the figures together. The page reads its other parts (groups, follow-ups) in
    between."""
    n = len(periods)
    # 1. (in the background) contacts and the scope's residents reached in each period, by age group
    people_rows = _in_background(_scope_people_stmt(scope, periods, now))
    # 2. the scope's residents by rung (the ladder now), with the new ones of each period
    new = [_count_if(_in(Resident.created_at, p.lo, p.hi)).label(f"new{i}") for i, p in enumerate(periods)]
    residents = _scoped(select(Resident.rung, func.count().label("n"), *new), scope, Resident).group_by(Resident.rung)
    resident_rows = _in_background(residents)
    # 3. one row: meetings and contacts per week, meetings, commitments, stage moves
    parts = [_meetings_stmt(scope, periods, now, [], weeks).subquery("m"),
             _commitments_stmt(scope, periods, today, []).subquery("c"),
             _moves_stmt(scope, periods, []).subquery("s")]
    if weeks:
        parts.append(_weekly_contacts_stmt(scope, weeks).subquery("w"))
    stmt = select(*[c for part in parts for c in part.c]).select_from(parts[0])
    for part in parts[1:]:
        stmt = stmt.join(part, true())
    row = db.session.execute(stmt).mappings().one()

    def finish() -> Dashboard:
        result = [Figures() for _ in periods]
        ladder = {r: 0 for r in RUNG_ORDER}
        for r in resident_rows():
            ladder[r["rung"]] = ladder.get(r["rung"], 0) + r["n"]
            for i in range(n):
                result[i].new_residents += _as_int(r[f"new{i}"])
        by_age = {a: [0] * n for a in AGE_ORDER}
        for r in people_rows():
            age = r["age_group"] if r["age_group"] in by_age else None
            for i in range(n):
                result[i].reached += _as_int(r[f"reached{i}"])
                result[i].contacts += _as_int(r[f"contacts{i}"])
                by_age[age][i] += _as_int(r[f"reached{i}"])
        for i, f in enumerate(result):
            f.meetings, f.attendance, f.unnamed = (_as_int(row[f"meetings{i}"]), _as_int(row[f"attendance{i}"]),
                                                   _as_int(row[f"unnamed{i}"]))
            f.commitments_made, f.commitments_kept = _as_int(row[f"made{i}"]), _as_int(row[f"kept{i}"])
            f.hours = Decimal(str(row[f"hours{i}"] or 0))
            f.overdue = _as_int(row["overdue"])
            f.stage_moves = _as_int(row[f"moves{i}"])
        week_rows = [(w, _as_int(row[f"wc{j}"]), _as_int(row[f"wm{j}"])) for j, w in enumerate(weeks)]
        return Dashboard(periods=periods, figures=result, ladder=ladder,
                         reached_by_age=[(a, by_age[a]) for a in AGE_ORDER], weeks=week_rows)

    return finish


# --- the city ---------------------------------------------------------------------------------------

@dataclass
class Place:
    """A row of the city's tables: a centre or an osiedle, with its figures."""

    id: int
    name: str
    slug: str
    figures: Figures
    kind: str | None = None  # centres: "neighbourhood" or "regranting"
    osiedle: str | None = None  # centres: the osiedle of a neighbourhood centre


@dataclass
class CityFigures:
    period: Period
    centres: list  # [Place], by name
    osiedla: list  # [Place], all 42, by name, zero rows included
    total: Figures


def city(period: Period, now: datetime, today: date) -> CityFigures:
    """Every figure of `period` per centre and per osiedle, and for the whole programme: one grouped
    statement per table (grouped by centre and osiedle), plus the centres and the osiedla."""
    scope = Scope(everything=True)
    cells: dict[tuple[int, int], Figures] = defaultdict(Figures)

    def keys(model):
        # "+ 0" changes no value (on PostgreSQL nothing at all); on SQLite it stops the planner from
        # walking a (centre, osiedle) index to get the groups in order, which costs a random table
        # lookup per row: one scan of the table and a sort is several times cheaper at city scale.
        return [(model.centre_id + 0).label("centre_id"), (model.neighbourhood_id + 0).label("neighbourhood_id")]

    def cell(row) -> Figures:
        return cells[(row["centre_id"], row["neighbourhood_id"])]

    # Two worker threads, each with half of the people reached (the costliest figure, split by resident
    # id) and about half of the rest; the request's session reads the centres and osiedla meanwhile.
    first = _in_background(_people_stmt(scope, [period], now, keys(Resident), 0),
                           _residents_stmt(scope, [period], keys(Resident)), _moves_stmt(scope, [period], keys(Group)),
                           _stages_stmt(scope, period, keys(Group)))
    second = _in_background(_people_stmt(scope, [period], now, keys(Resident), 1),
                            _meetings_stmt(scope, [period], now, keys(Meeting)),
                            _commitments_stmt(scope, [period], today, keys(Commitment)))
    centres = db.session.execute(
        select(Centre.id, Centre.name, Centre.slug, Centre.kind, Neighbourhood.name.label("osiedle"))
        .outerjoin(Neighbourhood, Neighbourhood.id == Centre.neighbourhood_id).order_by(Centre.name)).all()
    hoods = db.session.execute(select(Neighbourhood.id, Neighbourhood.name, Neighbourhood.slug)
                               .order_by(Neighbourhood.name)).all()
    people_low, residents, moves, stages = first()
    people_high, meetings, commitments = second()
    for row in people_low + people_high:
        f = cell(row)
        f.contacts += _as_int(row["contacts0"])
        f.reached += _as_int(row["reached0"])
    for row in residents:
        cell(row).new_residents += _as_int(row["new0"])
    for row in meetings:
        f = cell(row)
        f.meetings += _as_int(row["meetings0"])
        f.attendance += _as_int(row["attendance0"])
        f.unnamed += _as_int(row["unnamed0"])
    for row in commitments:
        f = cell(row)
        f.commitments_made += _as_int(row["made0"])
        f.commitments_kept += _as_int(row["kept0"])
        f.hours += Decimal(str(row["hours0"] or 0))
        f.overdue += _as_int(row["overdue"])
    for row in moves:
        cell(row).stage_moves += _as_int(row["moves0"])
    for row in stages:
        row_stages = cell(row).stages
        row_stages[row["stage"]] = row_stages.get(row["stage"], 0) + row["n"]

    by_centre = {c.id: Place(c.id, c.name, c.slug, Figures(), kind=c.kind, osiedle=c.osiedle) for c in centres}
    by_hood = {h.id: Place(h.id, h.name, h.slug, Figures()) for h in hoods}
    total = Figures()
    for (centre_id, hood_id), f in cells.items():
        if centre_id in by_centre:
            by_centre[centre_id].figures.add(f)
        if hood_id in by_hood:
            by_hood[hood_id].figures.add(f)
        total.add(f)
    return CityFigures(period=period, centres=list(by_centre.values()), osiedla=list(by_hood.values()), total=total)


def measure_value(figures: Figures, measure: str):
    """The value of one figure of a place by its name: an attribute of Figures, or `reached_all`, `groups`."""
    return getattr(figures, measure)


