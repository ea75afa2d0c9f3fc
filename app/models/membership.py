from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Membership(IdMixin, TimestampMixin, Base):
    """A member's contract on a plan. Status is derived (see memberships.status), never
    stored. `end_date` = `base_end_date` + frozen days + bonus days, end inclusive."""

    __tablename__ = "memberships"
    __table_args__ = (
        Index("ix_memberships_member_id_start_date", "member_id", "start_date"),
        Index("ix_memberships_club_id_end_date", "club_id", "end_date"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"))
    start_date: Mapped[date] = mapped_column(Date())
    base_end_date: Mapped[date] = mapped_column(Date())
    end_date: Mapped[date] = mapped_column(Date())
    frozen_days: Mapped[int] = mapped_column(Integer, default=0)
    bonus_days: Mapped[int] = mapped_column(Integer, default=0)
    list_price: Mapped[int] = mapped_column(Integer)
    price_paid: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    promotion_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("promotions.id"))
    special_conditions: Mapped[str | None] = mapped_column(Text)
    sold_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    source: Mapped[str] = mapped_column(String(16))  # new | renewal | upgrade | downgrade
    # A membership is renewed at most once: the unique constraint is the guarantee.
    renews_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("memberships.id"), unique=True)
    # The meeting it was sold at (call → meeting → renewal); use_alter: meetings also
    # refers to memberships (the outcome), so one of the two keys is added after both tables.
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meetings.id", use_alter=True), index=True
    )
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Freeze(IdMixin, TimestampMixin, Base):
    """A pause of a membership, local dates inclusive. Cancelled freezes are kept."""

    __tablename__ = "freezes"
    __table_args__ = (
        Index("ix_freezes_membership_id_start_date", "membership_id", "start_date"),
        # The freeze_events job looks for freezes whose start/end day arrived unreported.
        Index("ix_freezes_started_event_at_start_date", "started_event_at", "start_date"),
        Index("ix_freezes_ended_event_at_end_date", "ended_event_at", "end_date"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    membership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("memberships.id"))
    start_date: Mapped[date] = mapped_column(Date())
    end_date: Mapped[date] = mapped_column(Date())
    reason: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    # The plan's freeze fee when the freeze was taken (minor units, membership currency).
    fee: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ended_early_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # When freeze.started / freeze.ended were emitted: each exactly once (freeze_events job).
    started_event_at: Mapped[datetime | None]
    ended_event_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1
