"""Named queries about residents and contacts, always narrowed by the user's scope in SQL."""
import re

from sqlalchemy import Select, exists, func, select, text
from sqlalchemy.orm import joinedload, load_only, raiseload, selectinload

from models.base import db
from models.resident import Consent, Resident
from models.scoping import personal_data_scope
from models.text import words

MAX_QUERY_WORDS = 8
_PHONE_LIKE = re.compile(r"[\d\s+()./-]+")


def scoped_residents(user) -> Select:
    """SELECT residents the user may see (anonymised records are left out of lists)."""
    stmt = select(Resident).where(Resident.anonymised_at.is_(None))
    return personal_data_scope(user).apply(stmt, Resident)


def search_condition(query: str):
    """Diacritic-insensitive, word-prefix match over the folded search words, as SQL.

    "lukasz kow" finds "Łukasz Kowalski": every word of the query must start a word of the record.
    Query words are [a-z0-9]+ after folding, so they are safe inside the FTS syntax."""
    if _PHONE_LIKE.fullmatch(query or "") and any(c.isdigit() for c in query):
        terms = ["".join(c for c in query if c.isdigit())]  # "601 999 888" is one number
    else:
        terms = words(query)[:MAX_QUERY_WORDS]
    if not terms:
        return None
    if db.engine.dialect.name == "sqlite":
        match = " ".join(f'"{t}"*' for t in terms)
        return Resident.id.in_(
            text("SELECT rowid FROM resident_fts WHERE resident_fts MATCH :fts_match").bindparams(fts_match=match))
    tsquery = " & ".join(f"{t}:*" for t in terms)
    return func.to_tsvector("simple", Resident.search_text).op("@@")(func.to_tsquery("simple", tsquery))


def search_residents(user, query: str, limit: int = 10) -> list[Resident]:
    """Residents in scope matching `query`, for autocomplete and pickers."""
    cond = search_condition(query)
    if cond is None:
        return []
    stmt = (scoped_residents(user).where(cond).options(joinedload(Resident.neighbourhood))
            .order_by(Resident.sort_name, Resident.id).limit(limit))
    return db.session.scalars(stmt).all()


def get_resident(user, resident_id: int, *, with_details: bool = False) -> Resident | None:
    """One resident, only if in the user's scope (None: the view answers 404)."""
    stmt = personal_data_scope(user).apply(select(Resident).where(Resident.id == resident_id), Resident)
    stmt = stmt.options(joinedload(Resident.neighbourhood), selectinload(Resident.tags))
    if with_details:
        # Authors are shown by name only: without load_only each would bring its centre along.
        from models.user import User

        author = (load_only(User.id, User.name), raiseload("*"))
        stmt = stmt.options(selectinload(Resident.consents).joinedload(Consent.recorded_by).options(*author),
                            joinedload(Resident.created_by).options(*author),
                            joinedload(Resident.updated_by).options(*author))
    return db.session.scalars(stmt).one_or_none()


# --- the list --------------------------------------------------------------------------------

def filtered(stmt, *, query: str = "", neighbourhood_id=None, tag=None, rung=None, no_contact_days=None, now=None):
    """The list's filters (search, osiedle, tag, ladder rung, no contact for N days) on a resident SELECT."""
    from datetime import timedelta

    from models.base import utcnow
    from models.resident import ResidentTag

    cond = search_condition(query) if query else None
    if cond is not None:
        stmt = stmt.where(cond)
    if neighbourhood_id:
        stmt = stmt.where(Resident.neighbourhood_id == neighbourhood_id)
    if tag:
        stmt = stmt.where(Resident.id.in_(select(ResidentTag.resident_id).where(ResidentTag.tag == tag)))
    if rung:
        stmt = stmt.where(Resident.rung == rung)
    if no_contact_days:
        cutoff = (now or utcnow()) - timedelta(days=no_contact_days)
        stmt = stmt.where((Resident.last_contact_at.is_(None)) | (Resident.last_contact_at < cutoff))
    return stmt


def resident_page(user, *, query: str = "", neighbourhood_id: int | None = None, tag: str | None = None,
                  rung: str | None = None, no_contact_days: int | None = None, page: int = 1, per_page: int = 20,
                  now=None):
    """One page of the resident list with its filters; returns (residents, has_next)."""
    stmt = filtered(scoped_residents(user), query=query, neighbourhood_id=neighbourhood_id, tag=tag, rung=rung,
                    no_contact_days=no_contact_days, now=now)
    stmt = (stmt.options(joinedload(Resident.neighbourhood), selectinload(Resident.tags))
            .order_by(Resident.sort_name, Resident.id).limit(per_page + 1).offset((page - 1) * per_page))
    rows = db.session.scalars(stmt).all()
    return rows[:per_page], len(rows) > per_page


# --- duplicates ----------------------------------------------------------------------------

def possible_duplicates(user, *, first_name=None, last_name=None, description=None, phone=None, email=None,
                        exclude_id: int | None = None, limit: int = 5) -> list[tuple[Resident, str]]:
    """Residents in scope who may be the same person: same phone or e-mail, or a similar name
    (diacritics ignored, a typo or two tolerated). Returns (resident, reason code) pairs."""
    from difflib import SequenceMatcher

    from models.text import fold

    found: dict[int, tuple[Resident, str]] = {}
    base = scoped_residents(user).options(joinedload(Resident.neighbourhood))
    if exclude_id:
        base = base.where(Resident.id != exclude_id)
    exact = []
    if phone:
        exact.append((Resident.phone == phone, "phone"))
    if email:
        exact.append((Resident.email == email.strip().lower(), "email"))
    for cond, reason in exact:
        for r in db.session.scalars(base.where(cond).limit(limit)):
            found.setdefault(r.id, (r, reason))
    name = " ".join(p for p in (first_name, last_name) if p) or description or ""
    target = " ".join(words(name))
    if len(target) >= 3:
        # Candidates share the first three letters of some word; similarity decides.
        stems = sorted({w[:3] for w in words(name) if len(w) >= 3})[:4]
        if stems:
            if db.engine.dialect.name == "sqlite":
                cond = Resident.id.in_(text("SELECT rowid FROM resident_fts WHERE resident_fts MATCH :dup_match")
                                       .bindparams(dup_match=" OR ".join(f'"{s}"*' for s in stems)))
            else:
                cond = func.to_tsvector("simple", Resident.search_text).op("@@")(
                    func.to_tsquery("simple", " | ".join(f"{s}:*" for s in stems)))
            candidates = db.session.scalars(base.where(cond).order_by(Resident.id).limit(300)).all()
            scored = []
            for r in candidates:
                their = " ".join(words(" ".join(p for p in (r.first_name, r.last_name) if p) or r.description or ""))
                score = SequenceMatcher(None, target, their).ratio()
                if score >= 0.78:
                    scored.append((score, r))
            for score, r in sorted(scored, key=lambda x: -x[0]):
                found.setdefault(r.id, (r, "name"))
    return list(found.values())[:limit]


# --- follow-ups ------------------------------------------------------------------------------

def my_followups(user, today, horizon_days: int = 7, limit: int = 40):
    """The user's open next steps due within `horizon_days` or overdue, in scope: the most
    urgent `limit` of them (today and the last weeks first, then the week ahead, then older
    ones), and how many there are in all."""
    from datetime import timedelta

    from models.resident import Interaction

    stmt = (select(Interaction).join(Resident, Resident.id == Interaction.resident_id)
            .where(Interaction.user_id == user.id, Interaction.follow_up_on.is_not(None),
                   Interaction.follow_up_done_at.is_(None),
                   Interaction.follow_up_on <= today + timedelta(days=horizon_days),
                   Resident.anonymised_at.is_(None))
            .where(personal_data_scope(user).where(Resident))
            .options(selectinload(Interaction.resident).joinedload(Resident.neighbourhood)))
    total = db.session.scalar(stmt.with_only_columns(func.count()).order_by(None))
    items = db.session.scalars(stmt.order_by(Interaction.follow_up_on.desc(), Interaction.id).limit(limit)).all()
    return sorted(items, key=lambda i: (i.follow_up_on, i.id)), total


def get_interaction(user, interaction_id: int):
    from models.resident import Interaction

    stmt = (select(Interaction).join(Resident, Resident.id == Interaction.resident_id)
            .where(Interaction.id == interaction_id).where(personal_data_scope(user).where(Resident))
            .options(selectinload(Interaction.resident)))
    return db.session.scalars(stmt).one_or_none()


# --- exports and retention -------------------------------------------------------------------

def _consent_state(purpose: str):
    """(active, withdrawn) SQL flags for a consent purpose, per resident row."""
    from sqlalchemy import and_, exists

    from models.resident import Consent

    active = exists().where(and_(Consent.resident_id == Resident.id, Consent.purpose == purpose,
                                 Consent.withdrawn_on.is_(None)))
    withdrawn = exists().where(and_(Consent.resident_id == Resident.id, Consent.purpose == purpose,
                                    Consent.withdrawn_on.is_not(None)))
    return active, withdrawn


def export_rows(scope, *, query: str = "", neighbourhood_id=None, tag=None, rung=None, no_contact_days=None):
    """Every resident in `scope` (a Scope) as the list is filtered, as tuples, fetched in batches.

    Contact data covered by a withdrawn consent (and no new one) is left out."""
    from sqlalchemy import case

    from models.geo import Neighbourhood
    from models.resident import ResidentTag

    phone_ok, phone_withdrawn = _consent_state("phone")
    email_ok, email_withdrawn = _consent_state("email")
    stmt = filtered(scope.apply(select(Resident).where(Resident.anonymised_at.is_(None)), Resident)
                    .join(Neighbourhood, Neighbourhood.id == Resident.neighbourhood_id),
                    query=query, neighbourhood_id=neighbourhood_id, tag=tag, rung=rung,
                    no_contact_days=no_contact_days)
    tags = (select(func.group_concat(ResidentTag.tag) if db.engine.dialect.name == "sqlite"
                   else func.string_agg(ResidentTag.tag, ","))
            .where(ResidentTag.resident_id == Resident.id).scalar_subquery())
    stmt = stmt.with_only_columns(
        Resident.id, Resident.first_name, Resident.last_name, Resident.description, Neighbourhood.name,
        case((phone_withdrawn & ~phone_ok, None), else_=Resident.phone), phone_ok,
        case((email_withdrawn & ~email_ok, None), else_=Resident.email), email_ok,
        Resident.street, Resident.building, Resident.age_group, Resident.rung, Resident.last_contact_at, tags,
        Resident.created_at,
    ).order_by(Resident.sort_name, Resident.id)
    yield from db.session.execute(stmt.execution_options(yield_per=1000))


def inactive_residents(user, months: int, limit: int = 200, only_id: int | None = None):
    """Residents in scope with no activity (contact, meeting, commitment, change) for `months`."""
    from datetime import timedelta

    from models.base import utcnow
    from models.meeting import Attendance, Commitment, Meeting

    cutoff = utcnow() - timedelta(days=round(months * 30.44))
    # Correlated NOT EXISTS, each on the resident's own index: only the few residents that pass the
    # cheap column tests are looked up (a NOT IN built every city-wide attendance of two years first).
    recent_meeting = (exists().where(Attendance.resident_id == Resident.id, Meeting.id == Attendance.meeting_id,
                                     Meeting.starts_at >= cutoff))
    recent_commitment = exists().where(Commitment.resident_id == Resident.id, Commitment.created_at >= cutoff)
    stmt = (scoped_residents(user)
            .where((Resident.last_contact_at.is_(None)) | (Resident.last_contact_at < cutoff),
                   Resident.updated_at < cutoff, Resident.created_at < cutoff,
                   ~recent_meeting, ~recent_commitment)
            .options(joinedload(Resident.neighbourhood))
            .order_by(Resident.last_contact_at.is_not(None), Resident.last_contact_at, Resident.id))
    if only_id is not None:
        return db.session.scalar(stmt.where(Resident.id == only_id).with_only_columns(Resident.id)) is not None
    total = db.session.scalar(stmt.with_only_columns(func.count()).order_by(None))
    return db.session.scalars(stmt.limit(limit)).all(), total


def is_inactive(user, resident_id: int, months: int) -> bool:
    """Is this resident on the retention list for `months`?"""
    return inactive_residents(user, months, only_id=resident_id)
