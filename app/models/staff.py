from __future__ import annotations

import uuid

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import Base, IdMixin, TimestampMixin
from app.models.club import Club

staff_clubs = Table(
    "staff_clubs",
    Base.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("club_id", ForeignKey("clubs.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Staff(IdMixin, TimestampMixin, Base):
    __tablename__ = "staff"

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    roles: Mapped[list[str]]
    active: Mapped[bool] = mapped_column(default=True)

    clubs: Mapped[list[Club]] = relationship(secondary=staff_clubs, lazy="raise")

    @property
    def club_ids(self) -> list[uuid.UUID]:
        return [c.id for c in self.clubs]
