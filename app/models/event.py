from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, FetchedValue, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base


class Event(Base):
    """The event outbox: written in the same transaction as the change it reports."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_type_id", "type", "id"),
        Index("ix_events_club_id_id", "club_id", "id"),
        # The feed's order on PostgreSQL (see app/events/repository.py).
        Index("ix_events_xact_id_id", "xact_id", "id"),
        Index("ix_events_club_id_xact_id_id", "club_id", "xact_id", "id"),
        # Events the webhook fan-out has not handled yet (a small partial index).
        Index(
            "ix_events_unfanned_id",
            "id",
            postgresql_where=text("fanned_out_at IS NULL"),
            sqlite_where=text("fanned_out_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    type: Mapped[str] = mapped_column(String(64))
    club_id: Mapped[uuid.UUID | None]
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    # PostgreSQL: the writing transaction's id, set by a column default
    # (pg_current_xact_id()); NULL on SQLite, whose single writer commits in id order.
    xact_id: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    # When the webhook fan-out turned this event into deliveries.
    fanned_out_at: Mapped[datetime | None]
