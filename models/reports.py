"""The report of a centre (CIL) for a period: what `/reports` shows and downloads.

Definitions (shared with the dashboard, `/` and `/city`):

- A **period** is [start, end] of local (Europe/Warsaw) calendar dates, both days included.
  Timestamp columns (Interaction.occurred_at, Meeting.starts_at, StageChange.changed_at,
  GrantStatusChange.changed_at) are naive UTC and are compared with the UTC bounds of the
  period: from local midnight at the start of `start` up to (excluding) local midnight after
  `end` (`period_bounds`, the same rule as app/timeutil.local_day_bounds_utc: this package
  imports nothing from app/, and tests/test_reports.py checks that the two agree). Date
  columns (Commitment.done_on, Group.started_on, Cooperation.happened_on) compare directly.
- **Meetings** of the period: the centre's meetings whose starts_at is in the period and that have
  begun (starts_at <= now): a planned meeting counts once it starts (as on the dashboard).
- **Unique people reached**: distinct residents of the centre with a logged contact
  (Interaction.occurred_at in the period) or an attendance at a meeting starting in the period
  (that has begun; any meeting: a person is counted where they belong, by their own centre and
  osiedle). A person is counted once however many contacts and meetings they had. Residents
  erased under RODO (anonymised) still count: their row keeps centre, osiedle and age group, so
  the report of a past period is the same before and after an erasure.
  By age group (with "not given" for residents without one) and by the resident's osiedle.
- **Unnamed headcount**: the sum of Meeting.unnamed_count over the meetings of the period.
  "People reached incl. unnamed" = unique named people + unnamed headcount (an upper bound: an
  unnamed person may have come to several meetings, or be a named one another time).
- **Meetings by kind**: the meetings of the period by kind, with named attendance (attendance rows:
  visits, not people) and the unnamed headcount.
- **Groups**: *formed in the period* = Group.started_on in the period. *Active in the period* =
  started on or before the period's end, and formed in it, or met in it (a meeting of the group
  in the period, that has begun), or moved between stages in it (a StageChange other than the first
  record of the group). The **stage reached by the end** of the period is the `to_stage` of the
  group's last StageChange at or before the end; a group whose whole recorded history lies after
  the end (entered into Animo later) is counted at the stage its history starts from; without any
  history, at its current stage. Counted per stage over the active groups.
- **Initiatives carried out**: (a) meetings of kind "action" (akcja / wydarzenie) held in the
  period, and (b) micro-grant initiatives: applications that moved to realisation, report or
  settlement (in_progress, report_submitted, settled, returned) in the period, each counted once,
  either run by this centre (a regranting centre's calls) or carried out by one of this centre's
  groups. The total adds (a) and (b): an action financed by a micro-grant and also logged as a
  meeting is counted in both.
- **Volunteers** = distinct residents with a done commitment of the centre with done_on in the
  period; **hours** = the sum of those commitments' hours.
- **Partners involved**: partners of the centre with a cooperation log entry in the period, or
  linked to a meeting of the period; counted by kind, and listed by name
  (institutions are not personal data).
- **Micro-grants** (regranting centres only): `grants_queries.call_summary()` of the centre for
  the period: the calls whose activities overlap the period, their applications, grants, the
  amount awarded and the amount settled.

Scope. `neighbourhood_ids` (an animator's osiedla) narrows every record by its own osiedle:
residents (wherever the meeting they came to was), meetings, groups, commitments, applications, and
partners (a partner without an
osiedle works centre-wide and stays in). The micro-grant section is then left out: calls belong
to the whole centre. `personal=False` (the city and admins) leaves every name of a group out of
the structure; what is left is counts, sums, osiedla, kinds, stages and institutions' names.

Statements: five grouped queries, plus three for a regranting centre (`call_summary`), whatever
the number of residents, meetings or groups.
"""
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.sql import ColumnElement

from models.base import db, utcnow
from models.diagnosis import Cooperation, Partner, PartnerKind, partner_meeting
from models.geo import Centre, CentreKind, Neighbourhood
from models.grants import GrantApplication, GrantStatus, GrantStatusChange, money
from models.group import STAGE_ORDER, Group, StageChange
from models.meeting import Attendance, Commitment, CommitmentStatus, Meeting, MeetingKind
from models.resident import AgeGroup, Interaction, Resident
from models.text import fold

WARSAW = ZoneInfo("Europe/Warsaw")
AGE_ORDER = [a.value for a in AgeGroup]
KIND_ORDER = [k.value for k in MeetingKind]
PARTNER_KIND_ORDER = [k.value for k in PartnerKind]
NOT_GIVEN = None  # the age group of residents without one ("nie podano" on the page)
# Moves of a micro-grant application that mean its initiative is (being) carried out.
REALISED_STATUSES = (GrantStatus.in_progress.value, GrantStatus.report_submitted.value, GrantStatus.settled.value,
                     GrantStatus.returned.value)
MAX_PERIOD_DAYS = 5 * 366 + 1  # the longest period a report covers


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[from, to) in naive UTC for the local days start..end (both included)."""

    def utc(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=WARSAW).astimezone(timezone.utc).replace(tzinfo=None)

    return utc(start), utc(end + timedelta(days=1))


def _in(col, lo, hi) -> ColumnElement[bool]:
    return and_(col >= lo, col < hi)


def centre_report(centre_id: int, start: date, end: date, neighbourhood_ids=None, *, personal: bool = True,
                  now: datetime | None = None) -> dict | None:
    """The report of one centre for [start, end] as plain dicts and lists (see the module's docstring);
    None when there is no such centre. Amounts and hours are Decimal. `now` (naive UTC) decides which
    meetings have begun."""
    if end < start:
        raise ValueError("end before start")
    lo, hi = period_bounds(start, end)
    now = now or utcnow()
    held = and_(_in(Meeting.starts_at, lo, hi), Meeting.starts_at <= now)  # the meetings of the period
    hoods = tuple(neighbourhood_ids) if neighbourhood_ids is not None else None

    def hood_ok(col) -> ColumnElement[bool]:
        return true() if hoods is None else col.in_(hoods)

    # --- 1. the centre, and the figures that are one number each ------------------------------
    done = (select(func.count(func.distinct(Commitment.resident_id)).label("people"),
                   func.coalesce(func.sum(Commitment.hours), 0).label("hours"), func.count().label("done"))
            .where(Commitment.centre_id == centre_id, hood_ok(Commitment.neighbourhood_id),
                   Commitment.status == CommitmentStatus.done.value, Commitment.done_on >= start,
                   Commitment.done_on <= end)
            .subquery("done"))
    centre_groups = select(Group.id).where(Group.centre_id == centre_id)
    realised = (select(func.count(func.distinct(GrantStatusChange.application_id)))
                .join(GrantApplication, GrantApplication.id == GrantStatusChange.application_id)
                .where(GrantStatusChange.to_status.in_(REALISED_STATUSES), _in(GrantStatusChange.changed_at, lo, hi),
                       or_(GrantApplication.centre_id == centre_id, GrantApplication.group_id.in_(centre_groups)),
                       hood_ok(GrantApplication.neighbourhood_id))
                .scalar_subquery())
    head = db.session.execute(
        select(Centre.slug, Centre.name, Centre.kind, done.c.people, done.c.hours, done.c.done, realised)
        .select_from(Centre).join(done, true()).where(Centre.id == centre_id)).first()
    if head is None:
        return None
    centre_slug, centre_name, centre_kind, n_volunteers, n_hours, n_done, n_realised = head

    # --- 2. people reached: one grouped query over the centre's residents -----------------------
    # A resident counts once: if they came to one of the centre's meetings of the period (those
    # attendees are found once, then looked up), or else had a contact in it, or else came to a
    # meeting elsewhere (one index probe each, only for the few left by the first test).
    here = (select(Attendance.resident_id).join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(Meeting.centre_id == centre_id, hood_ok(Meeting.neighbourhood_id), held))
    contacted = exists().where(Interaction.resident_id == Resident.id, _in(Interaction.occurred_at, lo, hi))
    elsewhere = exists().where(Attendance.resident_id == Resident.id, Meeting.id == Attendance.meeting_id, held)
    people_rows = db.session.execute(
        select(Resident.age_group, Neighbourhood.name, func.count())
        .join(Neighbourhood, Neighbourhood.id == Resident.neighbourhood_id)
        .where(Resident.centre_id == centre_id, hood_ok(Resident.neighbourhood_id),
               or_(Resident.id.in_(here), contacted, elsewhere))
        .group_by(Resident.age_group, Neighbourhood.name)).all()
    by_age: dict = {a: 0 for a in AGE_ORDER}
    by_age[NOT_GIVEN] = 0
    by_hood: dict[str, int] = defaultdict(int)
    for age, hood_name, n in people_rows:
        by_age[age if age in by_age else NOT_GIVEN] += int(n)
        by_hood[hood_name] += int(n)
    unique = sum(by_age.values())

    # --- 3. meetings by kind, with named attendance and unnamed headcounts ----------------------
    present = (select(func.count()).select_from(Attendance).where(Attendance.meeting_id == Meeting.id)
               .correlate(Meeting).scalar_subquery())
    meeting_rows = db.session.execute(
        select(Meeting.kind, func.count(), func.coalesce(func.sum(Meeting.unnamed_count), 0),
               func.coalesce(func.sum(present), 0))
        .where(Meeting.centre_id == centre_id, hood_ok(Meeting.neighbourhood_id), held)
        .group_by(Meeting.kind)).all()
    kinds = {k: {"kind": k, "meetings": 0, "named_attendance": 0, "unnamed": 0} for k in KIND_ORDER}
    for kind, n, unnamed, named in meeting_rows:
        row = kinds.setdefault(kind, {"kind": kind, "meetings": 0, "named_attendance": 0, "unnamed": 0})
        row.update(meetings=int(n), named_attendance=int(named), unnamed=int(unnamed))
    meeting_totals = {key: sum(r[key] for r in kinds.values()) for key in ("meetings", "named_attendance", "unnamed")}
    unnamed_total = meeting_totals["unnamed"]

    # --- 4. groups active in the period and the stage each reached by its end --------------------
    last_before = (select(StageChange.to_stage)
                   .where(StageChange.group_id == Group.id, StageChange.changed_at < hi)
                   .order_by(StageChange.changed_at.desc(), StageChange.id.desc()).limit(1)
                   .correlate(Group).scalar_subquery())
    first_after = (select(func.coalesce(StageChange.from_stage, StageChange.to_stage))
                   .where(StageChange.group_id == Group.id, StageChange.changed_at >= hi)
                   .order_by(StageChange.changed_at, StageChange.id).limit(1)
                   .correlate(Group).scalar_subquery())
    stage_at_end = func.coalesce(last_before, first_after, Group.stage)
    met = exists().where(Meeting.group_id == Group.id, held)
    moved = exists().where(StageChange.group_id == Group.id, StageChange.from_stage.is_not(None),
                           _in(StageChange.changed_at, lo, hi))
    formed = and_(Group.started_on >= start, Group.started_on <= end)
    group_rows = db.session.execute(
        select(Group.id, Group.name, Neighbourhood.name, Group.started_on, Group.status, stage_at_end)
        .join(Neighbourhood, Neighbourhood.id == Group.neighbourhood_id)
        .where(Group.centre_id == centre_id, hood_ok(Group.neighbourhood_id), Group.started_on <= end,
               or_(formed, met, moved))).all()
    by_stage = {s: 0 for s in STAGE_ORDER}
    groups = []
    for gid, name, hood_name, started_on, status, stage in group_rows:
        by_stage[stage] = by_stage.get(stage, 0) + 1
        row = {"neighbourhood": hood_name, "started_on": started_on, "formed": started_on >= start,
               "status": status, "stage": stage}
        if personal:
            row.update(id=gid, name=name)
        groups.append(row)
    if personal:
        groups.sort(key=lambda g: (fold(g["name"]), g["id"]))
    else:  # nothing that names a group, nor an order that would follow its name
        groups.sort(key=lambda g: (fold(g["neighbourhood"]), STAGE_ORDER.index(g["stage"])
                                   if g["stage"] in STAGE_ORDER else 99, g["started_on"]))

    # --- 5. partners involved --------------------------------------------------------------------
    cooperated = exists().where(Cooperation.partner_id == Partner.id, Cooperation.happened_on >= start,
                                Cooperation.happened_on <= end)
    # IN, not EXISTS: the meetings of the period are found once, not once per partner.
    at_meeting = Partner.id.in_(
        select(partner_meeting.c.partner_id).join(Meeting, Meeting.id == partner_meeting.c.meeting_id)
        .where(Meeting.centre_id == centre_id, hood_ok(Meeting.neighbourhood_id), held))
    partner_hood = (true() if hoods is None
                    else or_(Partner.neighbourhood_id.is_(None), Partner.neighbourhood_id.in_(hoods)))
    partner_rows = db.session.execute(
        select(Partner.id, Partner.name, Partner.kind)
        .where(Partner.centre_id == centre_id, partner_hood, or_(cooperated, at_meeting))).all()
    partners = sorted(({"name": name, "kind": kind} for _pid, name, kind in partner_rows),
                      key=lambda p: (fold(p["name"]), p["name"]))
    partner_kinds = {k: 0 for k in PARTNER_KIND_ORDER}
    for p in partners:
        partner_kinds[p["kind"]] = partner_kinds.get(p["kind"], 0) + 1

    # --- 6. micro-grants of a regranting centre ----------------------------------------------------
    grants = None
    if centre_kind == CentreKind.regranting.value and hoods is None:
        from models.grants_queries import call_summary

        summary = call_summary(centre_id, start, end)
        t = summary["totals"]
        grants = {
            "calls": t["calls"], "applications": t["applications"], "granted": t["granted"],
            "settled": t["settled"], "budget": t["budget"], "granted_amount": t["granted_amount"],
            "settled_amount": t["settled_amount"], "returned_amount": t["returned_amount"],
            "call_list": [{"title": c["title"], "status": c["status"], "applications": c["applications"],
                           "granted": c["granted"], "granted_amount": c["granted_amount"], "settled": c["settled"],
                           "settled_amount": c["settled_amount"]} for c in summary["calls"]],
        }

    actions = kinds[MeetingKind.action.value]["meetings"]
    return {
        "centre": {"id": centre_id, "slug": centre_slug, "name": centre_name, "kind": centre_kind},
        "period": {"start": start, "end": end},
        "neighbourhood_ids": hoods,
        "personal": personal,
        "people": {
            "unique": unique,
            "unnamed": unnamed_total,
            "with_unnamed": unique + unnamed_total,
            "by_age": [{"age_group": a, "people": n} for a, n in by_age.items()],
            "by_neighbourhood": [{"neighbourhood": h, "people": by_hood[h]}
                                 for h in sorted(by_hood, key=lambda h: (fold(h), h))],
        },
        "meetings": {"by_kind": list(kinds.values()), "totals": meeting_totals},
        "groups": {
            "formed": sum(1 for g in groups if g["formed"]),
            "active": len(groups),
            "by_stage": [{"stage": s, "groups": n} for s, n in by_stage.items()],
            "list": groups,
        },
        "initiatives": {"actions": actions, "grant_initiatives": int(n_realised or 0),
                        "total": actions + int(n_realised or 0)},
        "volunteers": {"people": int(n_volunteers or 0), "hours": money(n_hours),
                       "commitments_done": int(n_done or 0)},
        "partners": {"count": len(partners), "by_kind": [{"kind": k, "partners": n}
                                                         for k, n in partner_kinds.items()],
                     "list": partners},
        "grants": grants,
    }
