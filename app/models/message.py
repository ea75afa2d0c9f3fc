from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Message(IdMixin, TimestampMixin, Base):
    """The messages outbox: one row per logical SMS or e-mail to a member.

    `dedupe_key` is unique, so queuing the same logical message twice (a retried job, two
    replicas) yields one row. Holds personal data (body, address): erasure blanks them.
    """

    __tablename__ = "messages"
    __table_args__ = (
        # The dispatcher's claim: queued rows by due time.
        Index("ix_messages_status_next_attempt_at", "status", "next_attempt_at"),
        # Caps (recent contacts per member) and the member's outbox listing.
        Index("ix_messages_member_id_created_at", "member_id", "created_at"),
        Index("ix_messages_club_id_created_at", "club_id", "created_at"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    template: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))  # service | marketing
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    to_address: Mapped[str] = mapped_column(String(320))
    # queued | sent | failed | suppressed
    status: Mapped[str] = mapped_column(String(16))
    suppressed_reason: Mapped[str | None] = mapped_column(String(32))
    # Why a queued message waits (quiet hours, silence days); cleared when sent.
    deferred_reason: Mapped[str | None] = mapped_column(String(32))
    exempt_from_caps: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    sent_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
