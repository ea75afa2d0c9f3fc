from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Promotion(IdMixin, TimestampMixin, Base):
    """A club's offer for purchases, renewals or both, with exactly one kind of discount.

    Dates are club-local and inclusive. Usage limits are enforced when a sale records a
    `PromotionUse`, under a row lock on the promotion (see promotions.service)."""

    __tablename__ = "promotions"
    __table_args__ = (
        Index("ix_promotions_club_id_valid_until", "club_id", "valid_until"),
        CheckConstraint("kind IN ('purchase', 'renewal', 'both')", name="kind"),
        CheckConstraint(
            "(CASE WHEN discount_percent IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN discount_amount IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN bonus_days IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN free_sessions IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_discount",
        ),
        CheckConstraint(
            "discount_percent IS NULL OR (discount_percent > 0 AND discount_percent <= 100)",
            name="discount_percent",
        ),
        CheckConstraint("discount_amount IS NULL OR discount_amount > 0", name="discount_amount"),
        CheckConstraint("bonus_days IS NULL OR bonus_days > 0", name="bonus_days"),
        CheckConstraint("free_sessions IS NULL OR free_sessions > 0", name="free_sessions"),
        CheckConstraint("valid_until >= valid_from", name="valid_range"),
        CheckConstraint("max_uses IS NULL OR max_uses > 0", name="max_uses"),
        CheckConstraint(
            "max_uses_per_member IS NULL OR max_uses_per_member > 0", name="max_uses_per_member"
        ),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))  # purchase | renewal | both
    discount_percent: Mapped[int | None] = mapped_column(Integer)  # whole percent, 1..100
    discount_amount: Mapped[int | None] = mapped_column(Integer)  # minor units
    bonus_days: Mapped[int | None] = mapped_column(Integer)
    free_sessions: Mapped[int | None] = mapped_column(Integer)
    # What one free session is worth (minor units) when promotions are compared.
    session_value: Mapped[int | None] = mapped_column(Integer)
    plan_ids: Mapped[list[Any]]  # plan ids as strings; empty: every plan
    valid_from: Mapped[date] = mapped_column(Date())
    valid_until: Mapped[date] = mapped_column(Date())
    early_renewal_days: Mapped[int | None] = mapped_column(Integer)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_member: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)


class PromotionUse(IdMixin, Base):
    """One sale made on a promotion. A membership uses at most one promotion."""

    __tablename__ = "promotion_uses"
    __table_args__ = (
        Index("ix_promotion_uses_promotion_id_member_id", "promotion_id", "member_id"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    promotion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promotions.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    membership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("memberships.id"), unique=True)
    used_at: Mapped[datetime]
