"""Authorization in one place: what part of the data a user may reach, as SQL.

Every query that can touch personal data is narrowed with `personal_data_scope(user)`;
account management with `team_scope(user)`. A record outside the scope is simply not
found (the view answers 404), so no per-row checks live in Python.
"""
from dataclasses import dataclass

from sqlalchemy import false, true
from sqlalchemy.sql import ColumnElement

from models.user import Role


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    centre_id: int | None = None
    # None: the whole centre; a tuple: only these osiedla (animators).
    neighbourhood_ids: tuple[int, ...] | None = None

    @classmethod
    def nothing(cls) -> "Scope":
        return cls()

    @property
    def is_empty(self) -> bool:
        return not self.everything and self.centre_id is None

    def where(self, model, *, centre_col: str = "centre_id",
              neighbourhood_col: str | None = "neighbourhood_id") -> ColumnElement[bool]:
        """The SQL condition that keeps only rows of `model` in this scope."""
        if self.everything:
            return true()
        if self.centre_id is None:
            return false()
        cond = getattr(model, centre_col) == self.centre_id
        if self.neighbourhood_ids is not None and neighbourhood_col is not None:
            if not self.neighbourhood_ids:
                return false()
            cond = cond & getattr(model, neighbourhood_col).in_(self.neighbourhood_ids)
        return cond

    def apply(self, stmt, model, **kwargs):
        return stmt.where(self.where(model, **kwargs))


def personal_data_scope(user) -> Scope:
    """Residents, groups, meetings and everything else about people.

    Coordinators see their centre; animators the osiedla assigned to them within it.
    Admins, reviewers and the city see none of it (reviewers reach only the grant
    applications assigned to them, through their own query)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope.nothing()
    if user.role == Role.coordinator.value and user.centre_id:
        return Scope(centre_id=user.centre_id)
    if user.role == Role.animator.value and user.centre_id:
        return Scope(centre_id=user.centre_id, neighbourhood_ids=user.neighbourhood_ids)
    return Scope.nothing()


def team_scope(user) -> Scope:
    """Accounts a user may manage: admins all of them, coordinators their centre's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope.nothing()
    if user.role == Role.admin.value:
        return Scope(everything=True)
    if user.role == Role.coordinator.value and user.centre_id:
        return Scope(centre_id=user.centre_id)
    return Scope.nothing()
