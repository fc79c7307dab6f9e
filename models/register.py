"""The record of processing activities (RODO art. 30), kept by the admin."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db, utcnow


class ProcessingActivity(db.Model):
    """One processing activity: what, why, on which basis, about whom, to whom, how long, how protected."""

    __tablename__ = "processing_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    data_subjects: Mapped[str] = mapped_column(Text)
    data_categories: Mapped[str] = mapped_column(Text)
    recipients: Mapped[str] = mapped_column(Text)
    retention: Mapped[str] = mapped_column(Text)
    security: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
