from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.models import Base, IdMixin
from app.models.staff import Staff


class ApiToken(IdMixin, Base):
    """A bearer credential. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(200))
    # "staff": acts as a staff member with their roles and clubs (optionally narrowed by
    # scopes); "integration": a device or app limited to its scopes and one club.
    kind: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), index=True
    )
    club_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clubs.id", ondelete="CASCADE"), index=True
    )
    # Integration tokens for a member's own app are pinned to one member.
    member_id: Mapped[uuid.UUID | None]
    scopes: Mapped[list[str] | None]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]

    staff: Mapped[Staff | None] = relationship(lazy="raise")
