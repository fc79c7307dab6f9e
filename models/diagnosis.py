"""The local diagnosis (findings: needs, resources, problems, ideas) and the cooperation network
(partners, their contact people, what was done together)."""
import enum
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import db, utcnow
from models.geo import Centre, Neighbourhood
from models.text import words


class FindingKind(str, enum.Enum):
    need = "need"  # potrzeba
    resource = "resource"  # zasób
    problem = "problem"  # problem
    idea = "idea"  # pomysł


class FindingSource(str, enum.Enum):
    conversation = "conversation"  # rozmowa
    survey = "survey"  # ankieta
    walk = "walk"  # spacer badawczy / obserwacja
    meeting = "meeting"  # spotkanie
    existing_data = "existing_data"  # dane zastane


finding_interaction = Table(
    "finding_interaction", db.metadata,
    Column("finding_id", ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True),
    Column("interaction_id", ForeignKey("interaction.id", ondelete="CASCADE"), primary_key=True, index=True),
)
finding_meeting = Table(
    "finding_meeting", db.metadata,
    Column("finding_id", ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True),
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True, index=True),
)
# Groups that act on a finding (usually a need or a problem).
finding_group = Table(
    "finding_group", db.metadata,
    Column("finding_id", ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("community_group.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Finding(db.Model):
    """One item of the local diagnosis, with where it came up and who acts on it."""

    __tablename__ = "finding"
    __table_args__ = (Index("ix_finding_scope", "centre_id", "neighbourhood_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    neighbourhood_id: Mapped[int] = mapped_column(ForeignKey("neighbourhood.id"))
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(14))
    found_on: Mapped[date] = mapped_column(default=date.today)
    tags: Mapped[str | None] = mapped_column(String(300))  # comma-separated, lowercase
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    centre: Mapped[Centre] = relationship(lazy="raise")
    neighbourhood: Mapped[Neighbourhood] = relationship(lazy="raise")
    recorded_by = relationship("User", lazy="raise")
    interactions = relationship("Interaction", secondary=finding_interaction, lazy="raise")
    meetings = relationship("Meeting", secondary=finding_meeting, lazy="raise")
    groups = relationship("Group", secondary=finding_group, lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class PartnerKind(str, enum.Enum):
    school = "school"  # szkoła
    kindergarten = "kindergarten"  # przedszkole
    library = "library"  # biblioteka
    culture_house = "culture_house"  # dom kultury
    council = "council"  # Rada Osiedla
    ngo = "ngo"  # organizacja pozarządowa
    parish = "parish"  # parafia
    business = "business"  # firma
    housing_coop = "housing_coop"  # spółdzielnia mieszkaniowa
    social_welfare = "social_welfare"  # ośrodek pomocy społecznej
    other = "other"  # inne


# Groups a partner supports, and meetings it took part in.
partner_group = Table(
    "partner_group", db.metadata,
    Column("partner_id", ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("community_group.id", ondelete="CASCADE"), primary_key=True, index=True),
)
partner_meeting = Table(
    "partner_meeting", db.metadata,
    Column("partner_id", ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True),
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True, index=True),
)


def fold_name(name: str | None) -> str:
    return " ".join(words(name))[:200]


class Partner(db.Model):
    """An institution or organisation in the centre's cooperation network (sieć współpracy).

    neighbourhood_id is None for a partner that works city-wide (e.g. an NGO acting as a patron)."""

    __tablename__ = "partner"
    __table_args__ = (Index("ix_partner_scope", "centre_id", "neighbourhood_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    neighbourhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhood.id"))
    name: Mapped[str] = mapped_column(String(200))
    # The name's folded words ("Szkoła Podstawowa nr 7" -> "szkola podstawowa nr 7"), kept by `_fold_name`:
    # the list's search ignores diacritics, as the residents' does.
    name_folded: Mapped[str] = mapped_column(String(200), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))  # the institution's, not a person's
    email: Mapped[str | None] = mapped_column(String(254))
    krs: Mapped[str | None] = mapped_column(String(10))  # NGO register number, for patrons
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    centre: Mapped[Centre] = relationship(lazy="raise")
    neighbourhood: Mapped[Neighbourhood | None] = relationship(lazy="raise")

    @validates("name")
    def _fold_name(self, _key, value):
        self.name_folded = fold_name(value)
        return value

    contacts: Mapped[list["PartnerContact"]] = relationship(back_populates="partner", lazy="raise",
                                                            cascade="all, delete-orphan", passive_deletes=True)
    cooperations: Mapped[list["Cooperation"]] = relationship(back_populates="partner", lazy="raise",
                                                             cascade="all, delete-orphan", passive_deletes=True,
                                                             order_by="Cooperation.happened_on.desc()")
    groups = relationship("Group", secondary=partner_group, lazy="raise")
    meetings = relationship("Meeting", secondary=partner_meeting, lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class PartnerContact(db.Model):
    """A contact person at a partner (personal data: name, role, phone, e-mail)."""

    __tablename__ = "partner_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))

    partner: Mapped[Partner] = relationship(back_populates="contacts", lazy="raise")


class Cooperation(db.Model):
    """An entry of the cooperation log: what was done together with a partner, and when."""

    __tablename__ = "cooperation"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    happened_on: Mapped[date] = mapped_column(default=date.today)
    what: Mapped[str] = mapped_column(String(500))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("community_group.id", ondelete="SET NULL"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="cooperations", lazy="raise")
    group = relationship("Group", lazy="raise")
    meeting = relationship("Meeting", lazy="raise")
