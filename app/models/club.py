from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import String, Time
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Club(IdMixin, TimestampMixin, Base):
    __tablename__ = "clubs"

    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    address: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(32))
    # {"1": ["07:00", "22:00"], ..., "7": [...]}; ISO weekdays, a missing day is closed.
    opening_hours: Mapped[dict[str, Any]]
    quiet_hours_start: Mapped[time] = mapped_column(Time())
    quiet_hours_end: Mapped[time] = mapped_column(Time())
    # Contact-policy knobs (silence days, caps); defaults live in the clubs service.
    contact_policy: Mapped[dict[str, Any]]
    # Meeting knobs (slot length, buffer); defaults live in the clubs service.
    meeting_settings: Mapped[dict[str, Any]]
    freeze_ends_on_visit: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
