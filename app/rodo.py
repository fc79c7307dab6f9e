"""Residents' rights under RODO (GDPR): access and portability (art. 15, 20) and erasure (art. 17).

Erasure anonymises rather than deletes: the person's row stays with only what statistics need
(centre, osiedle, age group, dates), every free text and contact detail about them is cleared in
every table, the search index is purged, and the audit trail keeps who erased whom and when,
never the values. Reports therefore count the same before and after.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import joinedload

from models import (AuditEvent, Attendance, Centre, Commitment, Consent, Interaction, Meeting, Membership, Resident,
                    db, record_audit)
from models.base import utcnow

ERASED = "[usunięto]"

# Other areas that keep free text about a resident add a function (resident_id) -> None here.
EXTRA_ERASERS: list = []


def anonymise(resident: Resident, user_id: int | None, ip: str | None, reason: str) -> None:
    """Clear everything that identifies the person, keep what the statistics count."""
    rid = resident.id
    for field in ("first_name", "last_name", "phone", "email", "street", "building", "notes"):
        setattr(resident, field, None)
    resident.description = None
    resident.anonymised_at = utcnow()
    resident.updated_by_id = user_id
    resident.tags = []
    resident.search_text = ""
    resident.sort_name = ""
    db.session.flush()
    db.session.execute(delete(Consent).where(Consent.resident_id == rid))
    db.session.execute(update(Interaction).where(Interaction.resident_id == rid)
                       .values(concerns=None, note=None, next_step=None))
    db.session.execute(update(Commitment).where(Commitment.resident_id == rid).values(what=ERASED))
    for eraser in EXTRA_ERASERS:
        eraser(rid)
    # The row keeps search_text = "": the FTS triggers replaced its index entry; merge the
    # index so no segment keeps the old words.
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO resident_fts(resident_fts) VALUES('optimize')"))
    record_audit("resident_erased", user_id=user_id, object_type="resident", object_id=rid, ip=ip, reason=reason)


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj, fields) -> dict:
    return {f: _iso(getattr(obj, f)) for f in fields}


def bundle(resident: Resident) -> dict:
    """Everything Animo holds about one person, as plain data (the JSON of art. 20).

    `resident` is loaded with its details (`models.people.get_resident(..., with_details=True)`)."""
    from models.group import Group
    from models.user import User

    rid = resident.id
    users = dict(db.session.execute(select(User.id, User.name)).all())
    person = _row(resident, ("id", "first_name", "last_name", "description", "phone", "email", "street", "building",
                             "age_group", "notes", "rung", "created_at", "updated_at", "anonymised_at"))
    person["osiedle"] = resident.neighbourhood.name
    person["centre"] = db.session.get(Centre, resident.centre_id).name
    person["created_by"] = users.get(resident.created_by_id)
    person["updated_by"] = users.get(resident.updated_by_id)
    # Tags and consents came with the resident (get_resident(..., with_details=True)): no query here.
    tags = sorted(resident.tags, key=lambda t: t.id)
    consents = resident.consents
    interactions = db.session.scalars(select(Interaction).where(Interaction.resident_id == rid)
                                      .order_by(Interaction.occurred_at))
    meetings = db.session.execute(
        select(Meeting.id, Meeting.title, Meeting.kind, Meeting.starts_at, Attendance.created_at)
        .join(Attendance, Attendance.meeting_id == Meeting.id).where(Attendance.resident_id == rid)
        .order_by(Meeting.starts_at))
    memberships = db.session.execute(
        select(Membership.group_id, Group.name, Membership.role, Membership.joined_on, Membership.left_on)
        .join(Group, Group.id == Membership.group_id).where(Membership.resident_id == rid)
        .order_by(Membership.joined_on))
    commitments = db.session.scalars(select(Commitment).where(Commitment.resident_id == rid)
                                     .order_by(Commitment.created_at))
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "resident",
                                                        AuditEvent.object_id == rid).order_by(AuditEvent.at))
    return {
        "format": "animo-resident-bundle/1",
        "generated_at": _iso(utcnow()),
        "person": person,
        "tags": [{"kind": t.kind, "tag": t.tag} for t in tags],
        "consents": [{**_row(c, ("purpose", "given_on", "method", "recorded_at", "withdrawn_on")),
                      "recorded_by": users.get(c.recorded_by_id)} for c in consents],
        "contacts": [{**_row(i, ("occurred_at", "channel", "concerns", "note", "next_step", "follow_up_on",
                                 "follow_up_done_at")), "animator": users.get(i.user_id)} for i in interactions],
        "meetings": [{"meeting_id": m.id, "title": m.title, "kind": m.kind, "starts_at": _iso(m.starts_at)}
                     for m in meetings],
        "groups": [{"group_id": g.group_id, "group": g.name, "role": g.role, "joined_on": _iso(g.joined_on),
                    "left_on": _iso(g.left_on)} for g in memberships],
        "commitments": [{**_row(c, ("what", "due_on", "status", "hours", "done_on", "created_at")),
                         "recorded_by": users.get(c.recorded_by_id)} for c in commitments],
        "record_history": [{"at": _iso(e.at), "who": users.get(e.user_id), "action": e.action} for e in audit],
    }
