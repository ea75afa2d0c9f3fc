from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class WorkingHours(IdMixin, TimestampMixin, Base):
    """When a consultant or trainer takes meetings in one club: a weekly pattern of
    club-local wall-clock spans. No row, or `weekly` null: the club's opening hours."""

    __tablename__ = "working_hours"
    __table_args__ = (UniqueConstraint("staff_id", "club_id"),)

    club_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clubs.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    # {"1": [["09:00", "13:00"], ["14:00", "18:00"]], ...}; ISO weekdays, a missing day is off.
    weekly: Mapped[dict[str, Any] | None]


class WorkingHoursException(IdMixin, TimestampMixin, Base):
    """One club-local date that differs from the weekly pattern: changed hours, or a day
    off (no spans)."""

    __tablename__ = "working_hours_exceptions"
    __table_args__ = (
        UniqueConstraint("staff_id", "club_id", "on_date"),
        Index("ix_working_hours_exceptions_club_id_on_date", "club_id", "on_date"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id", ondelete="CASCADE"))
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    on_date: Mapped[date] = mapped_column(Date())
    # [["10:00", "14:00"]]; [] is a day off.
    hours: Mapped[list[Any]]
    note: Mapped[str | None] = mapped_column(String(500))
