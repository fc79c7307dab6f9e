"""The scoping helper, in SQL: what each role may reach."""
from sqlalchemy import select

from models import Scope, User, db, personal_data_scope, team_scope
from models.queries import get_team_member, team_members


def test_personal_data_scope_by_role(app_ctx, world):
    coordinator = world.user("coordinator@wilda")
    animator = world.user("animator@regranting")
    assert personal_data_scope(coordinator) == Scope(centre_id=coordinator.centre_id)
    s = personal_data_scope(animator)
    assert s.centre_id == animator.centre_id and s.neighbourhood_ids == animator.neighbourhood_ids
    assert len(s.neighbourhood_ids) == 3
    for key in ("admin", "city", "reviewer@regranting"):
        assert personal_data_scope(world.user(key)).is_empty
    assert personal_data_scope(None).is_empty


def test_scope_is_a_sql_condition(app_ctx, world):
    """Applied to users (they carry centre_id), the condition filters in the database."""
    coordinator = world.user("coordinator@rataje")
    stmt = personal_data_scope(coordinator).apply(select(User.email), User, neighbourhood_col=None)
    assert "WHERE" in str(stmt)
    emails = set(db.session.scalars(stmt))
    assert emails == {"koordynator.rataje@animo.example", "animator.rataje@animo.example"}
    nothing = Scope.nothing().apply(select(User.id), User)
    assert db.session.scalars(nothing).all() == []


def test_animator_without_osiedla_sees_nothing(app_ctx, world):
    s = Scope(centre_id=1, neighbourhood_ids=())
    assert db.session.scalars(s.apply(select(User.id), User, neighbourhood_col="centre_id")).all() == []


def test_team_scope(app_ctx, world):
    assert team_scope(world.user("admin")).everything
    wilda = world.user("coordinator@wilda")
    members = team_members(wilda)
    assert {u.centre_id for u in members} == {wilda.centre_id}
    assert get_team_member(wilda, world.users["animator@rataje"]) is None
    assert get_team_member(wilda, world.users["animator@wilda"]).id == world.users["animator@wilda"]
    assert team_scope(world.user("animator@wilda")).is_empty
