"""Where the work happens: Poznań's osiedla and the centres (CIL) that work in them."""
import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow


class Neighbourhood(db.Model):
    """One of Poznań's 42 auxiliary units (osiedle), each with its Rada Osiedla."""

    __tablename__ = "neighbourhood"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    official_name: Mapped[str] = mapped_column(String(160))

    def __repr__(self) -> str:
        return f"<Neighbourhood {self.slug}>"

    @staticmethod
    def all_by_name():
        """Every osiedle, alphabetically, for selects and filters."""
        return db.session.scalars(select(Neighbourhood).order_by(Neighbourhood.name)).all()


class CentreKind(str, enum.Enum):
    neighbourhood = "neighbourhood"  # CIL Sąsiedzki: one osiedle
    regranting = "regranting"  # CIL Regrantingowy: city-wide micro-grants


class Centre(db.Model):
    """A Local Initiatives Centre (CIL), run by an NGO operator."""

    __tablename__ = "centre"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'neighbourhood' AND neighbourhood_id IS NOT NULL)"
            " OR (kind = 'regranting' AND neighbourhood_id IS NULL)",
            name="kind_matches_neighbourhood",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(20))
    operator: Mapped[str] = mapped_column(String(200))
    neighbourhood_id: Mapped[int | None] = mapped_column(ForeignKey("neighbourhood.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    neighbourhood: Mapped[Neighbourhood | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Centre {self.slug}>"

    @property
    def is_regranting(self) -> bool:
        return self.kind == CentreKind.regranting.value

    @staticmethod
    def all_by_name():
        """Every centre, alphabetically, with its osiedle loaded."""
        return db.session.scalars(select(Centre).order_by(Centre.name)).all()
