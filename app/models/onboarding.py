from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Onboarding(IdMixin, TimestampMixin, Base):
    """The onboarding of one new membership (source `new`): created at the sale, with its
    checklist items. `retention_on` is day 100 (club-local), when analytics judge whether
    the member stayed; `retention_at` is the instant that day begins in the club."""

    __tablename__ = "onboardings"
    __table_args__ = (Index("ix_onboardings_club_id_started_on", "club_id", "started_on"),)

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    membership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("memberships.id"), unique=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    started_on: Mapped[date] = mapped_column(Date())
    retention_on: Mapped[date] = mapped_column(Date())
    retention_at: Mapped[datetime]


class OnboardingItem(IdMixin, TimestampMixin, Base):
    """One checklist item: open until done or skipped."""

    __tablename__ = "onboarding_items"
    __table_args__ = (
        UniqueConstraint("membership_id", "kind"),
        # Completing a member's open item (wellness test, visit plan, attended meeting).
        Index("ix_onboarding_items_member_id_kind_status", "member_id", "kind", "status"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    onboarding_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("onboardings.id", ondelete="CASCADE"), index=True
    )
    membership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("memberships.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    # first_session | wellness_test | meet_trainers | visit_plan
    kind: Mapped[str] = mapped_column(String(32))
    # open | done | skipped
    status: Mapped[str] = mapped_column(String(16), default="open")
    due_date: Mapped[date] = mapped_column(Date())
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    # What completed it: `staff`, `wellness_test`, `visit_plan`, `meeting`.
    completed_via: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
    # meet_trainers: the trainers the member was introduced to (staff ids as strings).
    trainer_ids: Mapped[list[Any]]
    # first_session: the attended onboarding meeting that completed it.
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meetings.id"))


class WellnessTest(IdMixin, TimestampMixin, Base):
    """A body-composition measurement. Health data: exported and erased with the member."""

    __tablename__ = "wellness_tests"
    __table_args__ = (Index("ix_wellness_tests_member_id_measured_on", "member_id", "measured_on"),)

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    measured_on: Mapped[date] = mapped_column(Date())
    weight_kg: Mapped[float | None] = mapped_column(Numeric(6, 2, asdecimal=False))
    body_fat_pct: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    muscle_mass_kg: Mapped[float | None] = mapped_column(Numeric(6, 2, asdecimal=False))
    body_water_pct: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    bmr_kcal: Mapped[int | None] = mapped_column(Integer)
    trainer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    erased_at: Mapped[datetime | None]


class VisitPlanSlot(IdMixin, TimestampMixin, Base):
    """One weekly slot of a member's visit plan: when they mean to come and for what."""

    __tablename__ = "visit_plan_slots"
    __table_args__ = (UniqueConstraint("member_id", "weekday", "time"),)

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)  # ISO, 1 = Monday
    time: Mapped[time] = mapped_column(Time())
    activity: Mapped[str] = mapped_column(String(100))
