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
