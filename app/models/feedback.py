from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin


class Feedback(IdMixin, Base):
    """A member's satisfaction score (0-10) and comment, from a feedback call, a meeting or
    the desk. The score feeds NPS; the comment is personal data (erased on request)."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score"),
        # One answer per call and per meeting: a retried form never counts twice.
        UniqueConstraint("call_id"),
        UniqueConstraint("meeting_id"),
        Index("ix_feedback_club_id_created_at", "club_id", "created_at"),
        Index("ix_feedback_member_id_created_at", "member_id", "created_at"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("service_calls.id"))
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meetings.id"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
