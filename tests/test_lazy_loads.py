"""Accidental lazy loads (N+1 queries) fail tests instead of slowing pages."""
import pytest
from sqlalchemy import select
from sqlalchemy.exc import InvalidRequestError

from models import Resident, db

# Small, one-row relationships that are always wanted with their parent.
ALLOWED = {("User", "centre"), ("User", "neighbourhoods"), ("UserSession", "user"), ("Centre", "neighbourhood")}


def test_every_relationship_refuses_to_lazy_load(app_ctx):
    lazy = [(m.class_.__name__, r.key, r.lazy) for m in db.Model.registry.mappers for r in m.relationships
            if r.lazy not in ("raise", "raise_on_sql") and (m.class_.__name__, r.key) not in ALLOWED]
    assert lazy == [], "declare lazy='raise' and load what the page reads in its named query"


def test_a_lazy_load_in_a_template_is_an_error(app):
    """A template that reads a relationship its query did not load raises, so the test fails."""
    with app.test_request_context():
        resident = db.session.scalars(select(Resident).limit(1)).one()
        with pytest.raises(InvalidRequestError, match="lazy='raise'"):
            app.jinja_env.from_string("{{ r.neighbourhood.name }}").render(r=resident)
