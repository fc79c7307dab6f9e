"""Named queries about residents and contacts, always narrowed by the user's scope in SQL."""
from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import selectinload

from models.base import db
from models.resident import Consent, Resident
from models.scoping import personal_data_scope
from models.text import words

MAX_QUERY_WORDS = 8


def scoped_residents(user) -> Select:
    """SELECT residents the user may see (anonymised records are left out of lists)."""
    stmt = select(Resident).where(Resident.anonymised_at.is_(None))
    return personal_data_scope(user).apply(stmt, Resident)


def search_condition(query: str):
    """Diacritic-insensitive, word-prefix match over the folded search words, as SQL.

    "lukasz kow" finds "Łukasz Kowalski": every word of the query must start a word of the record.
    Query words are [a-z0-9]+ after folding, so they are safe inside the FTS syntax."""
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
    stmt = (scoped_residents(user).where(cond).options(selectinload(Resident.neighbourhood))
            .order_by(Resident.sort_name, Resident.id).limit(limit))
    return db.session.scalars(stmt).all()


def get_resident(user, resident_id: int, *, with_details: bool = False) -> Resident | None:
    """One resident, only if in the user's scope (None: the view answers 404)."""
    stmt = personal_data_scope(user).apply(select(Resident).where(Resident.id == resident_id), Resident)
    stmt = stmt.options(selectinload(Resident.neighbourhood), selectinload(Resident.tags))
    if with_details:
        stmt = stmt.options(selectinload(Resident.consents).selectinload(Consent.recorded_by),
                            selectinload(Resident.created_by), selectinload(Resident.updated_by))
    return db.session.scalars(stmt).one_or_none()
