from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Member(IdMixin, TimestampMixin, Base):
    """A club member: contact data, preferences and what sales learned about them."""

    __tablename__ = "members"
    __table_args__ = (
        # A turnstile card identifies one member inside a club.
        UniqueConstraint("club_id", "card_number"),
        Index("ix_members_club_id_last_name", "club_id", "last_name"),
        Index("ix_members_club_id_phone", "club_id", "phone"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164; null only once erased
    phone_invalid_at: Mapped[datetime | None]  # set by a `wrong_number` call outcome
    email: Mapped[str | None] = mapped_column(String(320))
    birth_date: Mapped[date | None] = mapped_column(Date())
    card_number: Mapped[str | None] = mapped_column(String(64))
    # call | sms | email | none
    preferred_channel: Mapped[str] = mapped_column(String(8), default="call")
    contact_window_start: Mapped[time | None] = mapped_column(Time())
    contact_window_end: Mapped[time | None] = mapped_column(Time())
    interests: Mapped[list[str]]
    # [{"kind": "family_birthday" | "name_day" | "other", "date": "MM-DD", "label": "..."}]
    personal_dates: Mapped[list[Any]]
    goals: Mapped[str | None] = mapped_column(Text)
    do_not_contact: Mapped[bool] = mapped_column(default=False)
    referred_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    erased_at: Mapped[datetime | None]


class MemberNote(IdMixin, Base):
    """Hand-off notes (from sales) and later notes; they follow the member everywhere."""

    __tablename__ = "member_notes"
    __table_args__ = (Index("ix_member_notes_member_id_created_at", "member_id", "created_at"),)

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # handoff | desk | call | meeting
    body: Mapped[str] = mapped_column(Text)
    author_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]


class ConsentEvent(IdMixin, Base):
    """One grant or withdrawal of one consent purpose. The current state of a purpose is
    its latest event; history is never rewritten."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index(
            "ix_consent_events_member_id_purpose_recorded_at", "member_id", "purpose", "recorded_at"
        ),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # calls | service_sms | marketing_sms | marketing_email
    purpose: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool]
    # desk | app | call | import | web
    source: Mapped[str] = mapped_column(String(16))
    recorded_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(500))
