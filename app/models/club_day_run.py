from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base


class ClubDayRun(Base):
    """A job's work for one club's local day, done once: the primary key is the claim."""

    __tablename__ = "club_day_runs"

    job_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    club_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clubs.id", ondelete="CASCADE"), primary_key=True
    )
    local_date: Mapped[date] = mapped_column(Date(), primary_key=True)
    done_at: Mapped[datetime]
