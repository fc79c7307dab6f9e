"""Meetings, who came, and what people promised (volunteer commitments)."""
import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.geo import Centre, Neighbourhood


class MeetingKind(str, enum.Enum):
    group = "group"  # spotkanie grupy
    open = "open"  # spotkanie otwarte
    action = "action"  # akcja / wydarzenie
    consultation = "consultation"  # konsultacje
    training = "training"  # szkolenie
    other = "other"  # inne


class CommitmentStatus(str, enum.Enum):
    promised = "promised"  # obiecane
    done = "done"  # zrobione
    dropped = "dropped"  # porzucone


meeting_animator = Table(
    "meeting_animator",
    db.metadata,
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Meeting(db.Model):
    __tablename__ = "meeting"
    __table_args__ = (
        Index("ix_meeting_scope_start", "centre_id", "neighbourhood_id", "starts_at"),
        Index("ix_meeting_group_start", "group_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhood.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("community_group.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(14))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    duration_min: Mapped[int] = mapped_column(default=90)
    place: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    decisions: Mapped[str | None] = mapped_column(Text)
    unnamed_count: Mapped[int] = mapped_column(default=0)  # people present whose names were not taken
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    centre: Mapped[Centre] = relationship(lazy="raise")
    neighbourhood: Mapped[Neighbourhood] = relationship(lazy="raise")
    group = relationship("Group", lazy="raise")
    animators = relationship("User", secondary=meeting_animator, lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class Attendance(db.Model):
    """A resident present at a meeting; the primary key makes a double tap harmless."""

    __tablename__ = "attendance"
    __table_args__ = (Index("ix_attendance_resident", "resident_id"),)

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    meeting = relationship(Meeting, lazy="raise")
    resident = relationship("Resident", lazy="raise")


class Commitment(db.Model):
    """What a resident volunteered to do (zobowiązanie), and the hours given once done."""

    __tablename__ = "commitment"
    __table_args__ = (
        Index("ix_commitment_resident", "resident_id"),
        Index("ix_commitment_group", "group_id"),
        Index("ix_commitment_centre_status_due", "centre_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhood.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("community_group.id", ondelete="SET NULL"))
    what: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10), default=CommitmentStatus.promised.value)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    done_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    resident = relationship("Resident", lazy="raise")
    meeting = relationship(Meeting, lazy="raise")
    group = relationship("Group", lazy="raise")
    recorded_by = relationship("User", lazy="raise")

    __mapper_args__ = {"version_id_col": version}
