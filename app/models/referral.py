from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin

_LEAD_SQL = "status = 'lead'"


class Referral(IdMixin, TimestampMixin, Base):
    """A member recommends a person (name, phone): `lead`, then `joined` (linked to the
    new member; the referrer is credited) or `lost`."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint("status IN ('lead', 'joined', 'lost')", name="status"),
        # A new member joins through at most one referral, so one referrer is credited.
        UniqueConstraint("member_id"),
        # One open lead per phone number in a club: two members recommending the same
        # person is one lead, and concurrent creates cannot both win.
        Index(
            "uq_referrals_club_id_phone_lead",
            "club_id",
            "phone",
            unique=True,
            postgresql_where=text(_LEAD_SQL),
            sqlite_where=text(_LEAD_SQL),
        ),
        Index("ix_referrals_club_id_created_at", "club_id", "created_at"),
        Index("ix_referrals_referrer_id_created_at", "referrer_id", "created_at"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    referrer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    # The recommended person's name and E.164 phone; null once erased.
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(8), default="lead")
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    joined_at: Mapped[datetime | None]
    lost_at: Mapped[datetime | None]
    # When the referrer was credited with the new member (set once, on `joined`).
    credited_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
