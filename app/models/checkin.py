from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.models import Base


class Checkin(Base):
    """One visit as a turnstile, front desk or app reported it. Append-only.

    Rows with a device id and the device's own event id are unique per club: replays of
    the same device event are harmless (`INSERT ... ON CONFLICT DO NOTHING`). Rows
    without them are not deduplicated; clients use `Idempotency-Key` for those.

    No foreign keys on `club_id`/`member_id`, on purpose: every write path resolves the
    member set-wise in the same statement (unknown members are rejected, never stored),
    members are never hard-deleted (erasure anonymises and keeps visit counts), and the
    referential-integrity triggers cost ~40% of bulk-ingest throughput (measured on
    PostgreSQL) plus a row lock on every referenced member. It also keeps the table free
    to become monthly partitions or a distributed table (docs/checkins.md).
    """

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("club_id", "device_id", "device_event_id"),
        Index("ix_checkins_member_id_checked_in_at", "member_id", "checked_in_at"),
        Index("ix_checkins_club_id_checked_in_at", "club_id", "checked_in_at"),
    )

    # bigint identity: cheap to generate in bulk (COPY), compact in the indexes.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    club_id: Mapped[uuid.UUID]
    member_id: Mapped[uuid.UUID]
    checked_in_at: Mapped[datetime]
    # turnstile | front_desk | app
    source: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(64))
    device_event_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
