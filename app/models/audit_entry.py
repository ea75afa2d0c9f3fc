from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin


class AuditEntry(IdMixin, Base):
    """Who changed what and when: money, dates, consents, flags, credentials."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity_entity_id_at", "entity", "entity_id", "at"),
        Index("ix_audit_entries_club_id_at", "club_id", "at"),
    )

    club_id: Mapped[uuid.UUID | None]
    actor_staff_id: Mapped[uuid.UUID | None]
    actor_token_id: Mapped[uuid.UUID | None]
    actor_label: Mapped[str] = mapped_column(String(200))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]]
    at: Mapped[datetime]
