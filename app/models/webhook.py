from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class WebhookSubscription(IdMixin, TimestampMixin, Base):
    """An integrator's endpoint and the event types it wants.

    `secret` is kept in clear text because every delivery must be signed with it (HMAC
    needs the key itself, unlike token checks that only need a hash). Whoever can read
    this table can forge deliveries to the subscriber; see docs/integrations.md.
    """

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_club_id", "club_id"),)

    # None: chain-wide (admins only), receives every club's events.
    club_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clubs.id"))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]]
    description: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))


class WebhookDelivery(IdMixin, Base):
    """One event to one subscription, with its attempts. Unique per (subscription,
    event): fan-out may run twice, an event is still delivered once."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription_id_created_at", "subscription_id", "created_at"),
        Index("ix_webhook_deliveries_event_id", "event_id"),
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    # Deliveries live as long as their event (retention purges both).
    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("events.id", ondelete="CASCADE"),
    )
    # The event's public id: the `Webhook-Id` header, stable across retries.
    event_public_id: Mapped[uuid.UUID]
    club_id: Mapped[uuid.UUID | None]
    event_type: Mapped[str] = mapped_column(String(64))
    # pending | delivered | failed
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer)
    # The latest attempts, newest last: [{at, status_code, error, duration_ms}].
    attempt_log: Mapped[list[Any]]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
