from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Campaign(IdMixin, TimestampMixin, Base):
    """A marketing message to a segment of a club's members, sent once.

    `status` goes `draft` (or `scheduled`, with `send_at`) to `sent` in one guarded
    UPDATE: whoever flips it sends, everyone else gets `campaign_already_sent`.
    """

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_club_id_created_at", "club_id", "created_at"),
        # The campaigns job: scheduled ones by due time.
        Index("ix_campaigns_status_send_at", "status", "send_at"),
    )

    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    # {plan_ids?, ending_within_days?, risk_levels?, interests?, promotion_id?, birthday_month?}
    segment: Mapped[dict[str, Any]]
    # Values of the template's placeholders (beyond the member's own fields).
    context: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # draft | scheduled | sent
    send_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    # What the send did, as counted then: {"queued": n, "suppressed": {reason: n}}.
    send_summary: Mapped[dict[str, Any] | None]


class CampaignRecipient(IdMixin, Base):
    """One member a campaign reached for, and the outbox message it queued for them."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "member_id"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), index=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"), index=True)
    created_at: Mapped[datetime]
