from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Plan(IdMixin, TimestampMixin, Base):
    """A membership type. `club_id` null: chain-wide."""

    __tablename__ = "plans"

    club_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clubs.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    duration_months: Mapped[int | None] = mapped_column(Integer)
    duration_days: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(Integer)  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    visit_limit: Mapped[int | None] = mapped_column(Integer)  # per term; null: unlimited
    # [{"weekday": 1..7, "from": "HH:MM", "to": "HH:MM"}]; null: any time the club is open
    access_hours: Mapped[list[Any] | None]
    freeze_max_count: Mapped[int] = mapped_column(Integer, default=0)
    freeze_min_days: Mapped[int] = mapped_column(Integer, default=7)
    freeze_max_days: Mapped[int] = mapped_column(Integer, default=30)
    freeze_max_total_days: Mapped[int] = mapped_column(Integer, default=0)
    freeze_fee: Mapped[int] = mapped_column(Integer, default=0)
    renewal_target_ids: Mapped[list[Any]]  # plan ids (as strings) it renews/upgrades to
    active: Mapped[bool] = mapped_column(default=True)
