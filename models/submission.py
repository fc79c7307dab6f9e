"""One row per create form sent with a one-time submission key (see app/submissions.py).

Written in the same transaction as the record the form created, so a repeated or concurrent send of
the same key finds it (or collides with it on the unique key) and is answered as the first send was.
No personal values: the key, whose it is, the endpoint and its ids, the record's type and id, and the
answer's status and Location (a URL of ids).
"""
from datetime import datetime

from sqlalchemy import ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db, utcnow


class Submission(db.Model):
    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    # Whose key it is: the signed-in user, or (the public application form) nobody and the call.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("grant_call.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(80))
    target: Mapped[str] = mapped_column(String(200), default="")  # the URL's ids: "meeting_id=5"
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    status: Mapped[int | None] = mapped_column(SmallInteger)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
