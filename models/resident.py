"""Residents met in the field, their consents and tags, and the contacts logged with them."""
import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.geo import Centre, Neighbourhood
from models.text import fold, words


class AgeGroup(str, enum.Enum):
    child = "child"  # dziecko
    youth = "youth"  # młodzież
    adult = "adult"  # dorosły
    senior = "senior"  # senior


class ConsentPurpose(str, enum.Enum):
    phone = "phone"  # contact by phone
    email = "email"  # contact by e-mail
    image = "image"  # use of image (photos)
    newsletter = "newsletter"


class ConsentMethod(str, enum.Enum):
    verbal = "verbal"
    written = "written"
    online = "online"


class Channel(str, enum.Enum):
    one_to_one = "one_to_one"  # rozmowa 1:1
    door_to_door = "door_to_door"
    street = "street"  # ulica / podwórko
    phone = "phone"
    event = "event"
    online = "online"


class Rung(str, enum.Enum):
    """The engagement ladder, lowest first. Derived from what happened (models/ladder.py)."""
    known = "known"
    participant = "participant"
    volunteer = "volunteer"
    active = "active"
    leader = "leader"


RUNG_ORDER = [r.value for r in Rung]


class Resident(db.Model):
    """A person met in the neighbourhood; may be pseudonymous ("Pani Basia, klatka 3")."""

    __tablename__ = "resident"
    __table_args__ = (
        Index("ix_resident_scope", "centre_id", "neighbourhood_id"),
        Index("ix_resident_centre_sort", "centre_id", "sort_name"),
        Index("ix_resident_phone", "phone"),
        Index("ix_resident_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhood.id"))
    first_name: Mapped[str | None] = mapped_column(String(80))
    last_name: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164, e.g. +48601234567
    email: Mapped[str | None] = mapped_column(String(254))
    street: Mapped[str | None] = mapped_column(String(120))
    building: Mapped[str | None] = mapped_column(String(20))
    age_group: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)

    # Derived, kept in step by models/ladder.py after every write that changes them.
    rung: Mapped[str] = mapped_column(String(12), default=Rung.known.value, index=True)
    rung_reason: Mapped[str | None] = mapped_column(String(200))
    rung_since: Mapped[date | None]
    last_contact_at: Mapped[datetime | None] = mapped_column(index=True)
    # Folded words of name, description, phone, email, street and tags: what search reads.
    search_text: Mapped[str] = mapped_column(Text, default="")
    sort_name: Mapped[str] = mapped_column(String(200), default="")

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    anonymised_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    centre: Mapped[Centre] = relationship(lazy="raise")
    neighbourhood: Mapped[Neighbourhood] = relationship(lazy="raise")
    tags: Mapped[list["ResidentTag"]] = relationship(
        back_populates="resident", cascade="all, delete-orphan", passive_deletes=True, lazy="raise",
        order_by="ResidentTag.tag")
    consents: Mapped[list["Consent"]] = relationship(
        back_populates="resident", cascade="all, delete-orphan", passive_deletes=True, lazy="raise",
        order_by="Consent.id")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="raise")
    updated_by = relationship("User", foreign_keys=[updated_by_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        if self.anonymised_at:
            return "[usunięto]"
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        if name and self.description:
            return f"{name} ({self.description})"
        return name or self.description or f"#{self.id}"

    def tag_list(self, kind: str) -> list[str]:
        return [t.tag for t in self.tags if t.kind == kind]

    def refresh_search(self, tags: list[str] | None = None) -> None:
        """Recompute the folded search words and the sort key from the current fields."""
        if tags is None:
            tags = [t.tag for t in self.tags]
        self.search_text, self.sort_name = search_fields(
            self.first_name, self.last_name, self.description, self.email, self.street, self.building,
            self.phone, tags)


def search_fields(first_name, last_name, description, email, street, building, phone, tags) -> tuple[str, str]:
    """(search_text, sort_name) for a resident: folded words, the phone also without +48."""
    digits = (phone or "").lstrip("+")
    local = digits[2:] if digits.startswith("48") else ""
    parts = [first_name, last_name, description, email, street, building, digits, local, " ".join(tags or [])]
    # Only [a-z0-9] words: SQLite's FTS5 and PostgreSQL's parser then split them the same way
    # ("teo@example.org" is three words to both).
    search_text = " ".join(w for p in parts if p for w in words(p))
    sort_name = fold(" ".join(p for p in (last_name, first_name, description) if p))[:200]
    return search_text, sort_name


class TagKind(str, enum.Enum):
    interest = "interest"  # zainteresowania
    offer = "offer"  # co może dać: umiejętności, miejsce, narzędzia (zasoby)


class ResidentTag(db.Model):
    __tablename__ = "resident_tag"
    __table_args__ = (
        UniqueConstraint("resident_id", "kind", "tag", name="uq_resident_tag_resident_kind_tag"),
        Index("ix_resident_tag_tag", "tag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    tag: Mapped[str] = mapped_column(String(60))

    resident: Mapped[Resident] = relationship(back_populates="tags", lazy="raise")


class Consent(db.Model):
    """A consent for one purpose: when and how it was given, by whom it was recorded, its withdrawal."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_resident_purpose", "resident_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(12))
    given_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(10))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_on: Mapped[date | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    resident: Mapped[Resident] = relationship(back_populates="consents", lazy="raise")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id], lazy="raise")

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None


class Interaction(db.Model):
    """One logged contact with a resident (kontakt)."""

    __tablename__ = "interaction"
    __table_args__ = (
        Index("ix_interaction_resident_at", "resident_id", "occurred_at"),
        Index("ix_interaction_followup", "user_id", "follow_up_done_at", "follow_up_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    concerns: Mapped[str | None] = mapped_column(Text)  # what matters to the person
    note: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(300))
    follow_up_on: Mapped[date | None]
    follow_up_done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    resident: Mapped[Resident] = relationship(lazy="raise")
    user = relationship("User", lazy="raise")


@event.listens_for(Resident, "before_insert")
@event.listens_for(Resident, "before_update")
def _resident_search(mapper, connection, target: Resident) -> None:
    """Keep the folded search words in step with every save, whoever saves."""
    if "tags" in target.__dict__:
        target.refresh_search()
    else:
        tags = connection.execute(select(ResidentTag.tag).where(ResidentTag.resident_id == target.id)).scalars().all()
        target.refresh_search(tags=list(tags))
