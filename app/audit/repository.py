"""All SQL of the audit trail's reading side."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from app.models import AuditEntry


def listing(
    club_ids: frozenset[uuid.UUID] | None,
    *,
    club_id: uuid.UUID | None,
    entity: str | None,
    entity_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    """Audit entries visible to a token, filtered; the caller orders and pages.

    A club-scoped token sees its clubs' entries only: chain-level entries (club_id null:
    staff, chain-wide plans) stay with chain-wide tokens."""
    stmt = select(AuditEntry)
    if club_ids is not None:
        stmt = stmt.where(AuditEntry.club_id.in_(club_ids))
    if club_id is not None:
        stmt = stmt.where(AuditEntry.club_id == club_id)
    if entity is not None:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    return stmt
