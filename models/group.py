"""Informal groups, their members, their path through the OSL stages, and their goals."""
import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.geo import Centre, Neighbourhood


class Stage(str, enum.Enum):
    """OSL stages, in order: Pomysł → Grupa inicjatywna → Planowanie → Działanie → Podsumowanie → Samodzielność."""
    idea = "idea"
    core_group = "core_group"
    planning = "planning"
    action = "action"
    reflection = "reflection"
    independent = "independent"


STAGE_ORDER = [s.value for s in Stage]


class GroupStatus(str, enum.Enum):
    active = "active"  # aktywna
    dormant = "dormant"  # uśpiona
    ended = "ended"  # zakończona


class MemberRole(str, enum.Enum):
    member = "member"  # członek
    leader = "leader"  # lider
    contact = "contact"  # osoba kontaktowa


class GoalStatus(str, enum.Enum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    dropped = "dropped"


class Group(db.Model):
    """Residents acting together on a shared matter (grupa nieformalna / inicjatywa)."""

    __tablename__ = "community_group"
    __table_args__ = (Index("ix_group_scope", "centre_id", "neighbourhood_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhood.id"))
    name: Mapped[str] = mapped_column(String(160))
    matter: Mapped[str | None] = mapped_column(String(300))  # the matter it works on
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[str | None] = mapped_column(String(300))  # comma-separated, folded for filtering
    started_on: Mapped[date] = mapped_column(default=date.today)
    status: Mapped[str] = mapped_column(String(10), default=GroupStatus.active.value)
    formalised_on: Mapped[date | None]
    formal_name: Mapped[str | None] = mapped_column(String(200))  # e.g. "Stowarzyszenie zwykłe ..."
    stage: Mapped[str] = mapped_column(String(12), default=Stage.idea.value, index=True)
    stage_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    animator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    centre: Mapped[Centre] = relationship(lazy="raise")
    neighbourhood: Mapped[Neighbourhood] = relationship(lazy="raise")
    animator = relationship("User", foreign_keys=[animator_id], lazy="raise")
    memberships: Mapped[list["Membership"]] = relationship(back_populates="group", lazy="raise",
                                                           cascade="all, delete-orphan")
    stage_changes: Mapped[list["StageChange"]] = relationship(back_populates="group", lazy="raise",
                                                              cascade="all, delete-orphan",
                                                              order_by="StageChange.id")
    goals: Mapped[list["Goal"]] = relationship(back_populates="group", lazy="raise", cascade="all, delete-orphan",
                                               order_by="Goal.id")

    __mapper_args__ = {"version_id_col": version}


class Membership(db.Model):
    """A resident in a group, with a role and dates; leaving sets left_on (history is kept)."""

    __tablename__ = "membership"
    __table_args__ = (
        Index("ix_membership_group", "group_id", "left_on"),
        Index("ix_membership_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("community_group.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10), default=MemberRole.member.value)
    joined_on: Mapped[date] = mapped_column(default=date.today)
    left_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    group: Mapped[Group] = relationship(back_populates="memberships", lazy="raise")
    resident = relationship("Resident", lazy="raise")


class StageChange(db.Model):
    """A dated, noted move between stages: the group's history. Never edited, never deleted."""

    __tablename__ = "stage_change"
    __table_args__ = (
        # Two people moving the same group at once cannot both record a move from the same state.
        UniqueConstraint("group_id", "from_version", name="uq_stage_change_group_from_version"),
        Index("ix_stage_change_group", "group_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("community_group.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(12))
    to_stage: Mapped[str] = mapped_column(String(12))
    from_version: Mapped[int]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_on: Mapped[date] = mapped_column(default=date.today)
    note: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    group: Mapped[Group] = relationship(back_populates="stage_changes", lazy="raise")
    user = relationship("User", lazy="raise")


class Goal(db.Model):
    __tablename__ = "goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("community_group.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=GoalStatus.planned.value)
    due_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    group: Mapped[Group] = relationship(back_populates="goals", lazy="raise")

    __mapper_args__ = {"version_id_col": version}
