"""The audit trail: who did what to which record, and when. Never personal values."""
import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    # Field names, counts, reasons: never a name, phone, email, note or password.
    detail: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", lazy="raise")

    @property
    def detail_dict(self) -> dict:
        return json.loads(self.detail) if self.detail else {}


def record_audit(action: str, *, user_id: int | None = None, object_type: str | None = None,
                 object_id: int | None = None, ip: str | None = None, **detail) -> AuditEvent:
    """Add an audit row to the current transaction; the caller commits it with the change."""
    event = AuditEvent(
        action=action, user_id=user_id, object_type=object_type, object_id=object_id,
        ip=(ip or None) and ip[:64],
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
    )
    db.session.add(event)
    return event
