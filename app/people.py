"""Writing residents: one place that creates a person, records consents and leaves the audit row.

Used by the resident pages, the contact log and the after-meeting screen alike.
"""
from sqlalchemy import select

from app.sessions import client_ip
from app.timeutil import today_local
from models import Consent, Neighbourhood, Resident, ResidentTag, Role, db, ladder, record_audit


def neighbourhoods_for(user) -> list[Neighbourhood]:
    """The osiedla in which `user` may record people: an animator's own, a neighbourhood
    centre's one osiedle, or every osiedle for a city-wide (regranting) centre."""
    if user.role == Role.animator.value:
        return list(user.neighbourhoods)
    if user.role == Role.coordinator.value and user.centre:
        if user.centre.is_regranting:
            return Neighbourhood.all_by_name()
        return [user.centre.neighbourhood]
    return []


def neighbourhood_choices(user) -> list[tuple[int, str]]:
    return [(n.id, n.name) for n in neighbourhoods_for(user)]


def may_record_in(user, neighbourhood_id: int) -> bool:
    return any(n.id == neighbourhood_id for n in neighbourhoods_for(user))


def create_resident(user, *, neighbourhood_id: int, first_name=None, last_name=None, description=None,
                    phone=None, email=None, consents=(), consent_method="verbal", interests=(), offers=(),
                    via: str = "form") -> Resident:
    """Add a person in the user's centre; the caller has validated the fields and commits."""
    if not may_record_in(user, neighbourhood_id):
        raise PermissionError("neighbourhood outside the user's scope")
    clean = lambda v: (v or "").strip() or None  # noqa: E731
    resident = Resident(
        centre_id=user.centre_id, neighbourhood_id=neighbourhood_id,
        first_name=clean(first_name), last_name=clean(last_name), description=clean(description),
        phone=phone or None, email=(email or "").strip().lower() or None,
        created_by_id=user.id, updated_by_id=user.id,
        tags=[ResidentTag(kind="interest", tag=t) for t in interests] + [ResidentTag(kind="offer", tag=t) for t in offers],
        consents=[Consent(purpose=p, given_on=today_local(), method=consent_method, recorded_by_id=user.id)
                  for p in consents],
    )
    db.session.add(resident)
    db.session.flush()
    ladder.refresh([resident.id])
    record_audit("resident_created", user_id=user.id, object_type="resident", object_id=resident.id,
                 ip=client_ip(), via=via, consents=sorted(consents))
    return resident


def create_from_quick_form(user, form, via: str = "form") -> Resident:
    """A person from a validated `QuickResidentForm`."""
    return create_resident(
        user, neighbourhood_id=form.neighbourhood_id.data, first_name=form.first_name.data,
        last_name=form.last_name.data, description=form.description.data,
        phone=getattr(form.phone, "normalised", None), email=form.email.data,
        consents=form.given_consents(), consent_method=form.consent_method.data, via=via)


def merge_residents(user, keep: Resident, other: Resident) -> None:
    """Move everything about `other` to `keep`, fill `keep`'s empty fields, delete `other`.

    Both are in the user's scope (the caller fetched them through it). Attendance and tags that
    both records have are kept once."""
    from sqlalchemy import delete, update

    from models import Attendance, Commitment, Interaction, Membership

    for field in ("first_name", "last_name", "description", "phone", "email", "street", "building", "age_group"):
        if not getattr(keep, field) and getattr(other, field):
            setattr(keep, field, getattr(other, field))
    if other.notes:
        keep.notes = "\n\n".join(n for n in (keep.notes, other.notes) if n)
    db.session.flush()
    for model in (Interaction, Commitment, Membership, Consent):
        db.session.execute(update(model).where(model.resident_id == other.id).values(resident_id=keep.id))
    # Tags and attendance are unique per person: move only what `keep` lacks.
    keep_tags = {(t.kind, t.tag) for t in keep.tags}
    for t in list(other.tags):
        if (t.kind, t.tag) not in keep_tags:
            keep.tags.append(ResidentTag(kind=t.kind, tag=t.tag))
    kept_meetings = select(Attendance.meeting_id).where(Attendance.resident_id == keep.id)
    db.session.execute(update(Attendance).where(Attendance.resident_id == other.id,
                                                Attendance.meeting_id.not_in(kept_meetings))
                       .values(resident_id=keep.id))
    db.session.execute(delete(Attendance).where(Attendance.resident_id == other.id))
    other_id = other.id
    db.session.delete(other)
    db.session.flush()
    keep.updated_by_id = user.id
    keep.refresh_search()
    ladder.refresh([keep.id])
    record_audit("resident_merged", user_id=user.id, object_type="resident", object_id=keep.id, ip=client_ip(),
                 merged_id=other_id)
