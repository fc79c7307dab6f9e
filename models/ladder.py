"""The engagement ladder (drabina zaangażowania), derived from what happened, never typed.

known → participant → volunteer → active → leader:
- known: a contact is logged (or the person was added to the notebook);
- participant: came to a meeting;
- volunteer: made a commitment;
- active: kept at least two commitments, or came to at least three meetings of one group
  within the last 90 days;
- leader: leads a group now (membership role "leader").

`compute()` reads the facts for a set of residents in a constant number of grouped queries;
`refresh()` writes the result into the cached columns the list filters on. Every write that
changes a fact calls `refresh()` for the residents it touched; `flask recompute-ladder`
refreshes everyone (run it nightly: "active" ages out with time).
"""
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, select, update

from models.base import db
from models.resident import Interaction, Resident, Rung

ACTIVE_WINDOW_DAYS = 90
ACTIVE_MEETINGS = 3
ACTIVE_COMMITMENTS_KEPT = 2
CHUNK = 500


@dataclass
class Standing:
    rung: str
    reason: dict  # a code and parameters; templates turn it into a sentence
    since: date | None
    last_contact_at: datetime | None

    @property
    def reason_json(self) -> str:
        return json.dumps(self.reason, ensure_ascii=False, sort_keys=True, default=str)


def _as_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def compute(resident_ids: list[int], today: date | None = None) -> dict[int, Standing]:
    """The ladder rung of each resident, with its reason, from the facts in the database."""
    from models.group import Group, MemberRole, Membership
    from models.meeting import Attendance, Commitment, CommitmentStatus, Meeting

    today = today or date.today()
    result: dict[int, Standing] = {}
    for start in range(0, len(resident_ids), CHUNK):
        ids = resident_ids[start:start + CHUNK]
        # One row of facts per resident (correlated aggregates, each on its own index), instead of
        # one grouped query per fact: a refresh after a tap costs 4 statements, not 9.
        done = CommitmentStatus.done.value
        facts = select(
            Resident.id, Resident.created_at,
            select(func.min(Interaction.occurred_at)).where(Interaction.resident_id == Resident.id)
            .scalar_subquery().label("first_contact"),
            select(func.max(Interaction.occurred_at)).where(Interaction.resident_id == Resident.id)
            .scalar_subquery().label("last_contact"),
            select(func.min(Meeting.starts_at)).join(Attendance, Attendance.meeting_id == Meeting.id)
            .where(Attendance.resident_id == Resident.id).scalar_subquery().label("first_meeting"),
            select(func.min(Commitment.created_at)).where(Commitment.resident_id == Resident.id)
            .scalar_subquery().label("first_commitment"),
            select(func.count()).select_from(Commitment)
            .where(Commitment.resident_id == Resident.id, Commitment.status == done)
            .scalar_subquery().label("kept"),
            select(func.max(Commitment.done_on))
            .where(Commitment.resident_id == Resident.id, Commitment.status == done)
            .scalar_subquery().label("last_done"),
        ).where(Resident.id.in_(ids))
        base, contacts, last_contacts, first_meeting, first_commitment, kept = {}, {}, {}, {}, {}, {}
        for row in db.session.execute(facts):
            base[row.id] = row
            if row.first_contact is not None:
                contacts[row.id] = row.first_contact
                last_contacts[row.id] = row.last_contact
            if row.first_meeting is not None:
                first_meeting[row.id] = row.first_meeting
            if row.first_commitment is not None:
                first_commitment[row.id] = row.first_commitment
            if row.kept:
                kept[row.id] = (row.kept, row.last_done)
        since = datetime.combine(today - timedelta(days=ACTIVE_WINDOW_DAYS), datetime.min.time())
        regular: dict[int, tuple] = {}
        for row in db.session.execute(
            select(Attendance.resident_id, Meeting.group_id, Group.name, func.count().label("n"),
                   func.min(Meeting.starts_at).label("first"))
            .join(Meeting, Meeting.id == Attendance.meeting_id).join(Group, Group.id == Meeting.group_id)
            .where(Attendance.resident_id.in_(ids), Meeting.starts_at >= since)
            .group_by(Attendance.resident_id, Meeting.group_id, Group.name)
            .having(func.count() >= ACTIVE_MEETINGS)
        ):
            if row.resident_id not in regular or row.n > regular[row.resident_id][2]:
                regular[row.resident_id] = (row.group_id, row.name, row.n, row.first)
        leads: dict[int, tuple] = {}
        for row in db.session.execute(
            select(Membership.resident_id, Group.id, Group.name, Membership.joined_on)
            .join(Group, Group.id == Membership.group_id)
            .where(Membership.resident_id.in_(ids), Membership.role == MemberRole.leader.value,
                   Membership.left_on.is_(None))
            .order_by(Membership.joined_on)
        ):
            leads.setdefault(row.resident_id, (row.id, row.name, row.joined_on))

        for rid, row in base.items():
            last = last_contacts.get(rid)
            if rid in leads:
                gid, name, joined = leads[rid]
                st = Standing(Rung.leader.value, {"code": "leads_group", "group_id": gid, "group": name,
                                                  "since": _as_date(joined)}, _as_date(joined), last)
            elif rid in kept and kept[rid][0] >= ACTIVE_COMMITMENTS_KEPT:
                n, last_done = kept[rid]
                st = Standing(Rung.active.value, {"code": "kept_commitments", "count": n}, _as_date(last_done), last)
            elif rid in regular:
                gid, name, n, first = regular[rid]
                st = Standing(Rung.active.value, {"code": "regular_in_group", "group_id": gid, "group": name,
                                                  "count": n, "days": ACTIVE_WINDOW_DAYS}, _as_date(first), last)
            elif rid in first_commitment:
                when = _as_date(first_commitment[rid])
                st = Standing(Rung.volunteer.value, {"code": "made_commitment", "since": when}, when, last)
            elif rid in first_meeting:
                when = _as_date(first_meeting[rid])
                st = Standing(Rung.participant.value, {"code": "came_to_meeting", "since": when}, when, last)
            elif rid in contacts:
                when = _as_date(contacts[rid])
                st = Standing(Rung.known.value, {"code": "first_contact", "since": when}, when, last)
            else:
                when = _as_date(row.created_at)
                st = Standing(Rung.known.value, {"code": "added", "since": when}, when, last)
            result[rid] = st
    return result


def refresh(resident_ids, today: date | None = None) -> None:
    """Write the derived rung, its reason and the last contact into the residents' rows."""
    ids = sorted({int(i) for i in resident_ids if i})
    if not ids:
        return
    db.session.flush()
    standings = compute(ids, today)
    if not standings:
        return
    stmt = (update(Resident.__table__).where(Resident.__table__.c.id == bindparam("rid"))
            .values(rung=bindparam("rung"), rung_reason=bindparam("reason"), rung_since=bindparam("since"),
                    last_contact_at=bindparam("last"),
                    # derived columns are not an edit of the record: keep its updated_at
                    updated_at=Resident.__table__.c.updated_at))
    db.session.execute(stmt, [
        {"rid": rid, "rung": s.rung, "reason": s.reason_json, "since": s.since, "last": s.last_contact_at}
        for rid, s in standings.items()
    ])


def refresh_all(today: date | None = None) -> int:
    ids = list(db.session.scalars(select(Resident.id).order_by(Resident.id)))
    for start in range(0, len(ids), CHUNK * 4):
        refresh(ids[start:start + CHUNK * 4], today)
        db.session.commit()
    return len(ids)


def standing_of(resident) -> Standing:
    """The cached standing of a loaded resident (no query)."""
    reason = json.loads(resident.rung_reason) if resident.rung_reason else {"code": "added", "since": None}
    return Standing(resident.rung, reason, resident.rung_since, resident.last_contact_at)


def note_contact(resident_id: int, at: datetime) -> None:
    """A contact was logged: move last_contact_at forward, and turn "added" into "first contact".

    Two statements instead of a full `refresh`: a contact changes nothing else on the ladder."""
    table = Resident.__table__
    db.session.execute(update(table).where(table.c.id == resident_id,
                                           (table.c.last_contact_at.is_(None)) | (table.c.last_contact_at < at))
                       .values(last_contact_at=at, updated_at=table.c.updated_at))
    first = json.dumps({"code": "first_contact", "since": at.date()}, default=str, sort_keys=True)
    added = table.c.rung_reason.is_(None) | table.c.rung_reason.like('%"added"%')
    earlier = table.c.rung_since.is_(None) | (table.c.rung_since > at.date())  # a back-dated first contact
    db.session.execute(update(table).where(table.c.id == resident_id, table.c.rung == Rung.known.value,
                                           added | earlier)
                       .values(rung_reason=first, rung_since=at.date(), updated_at=table.c.updated_at))
