"""Audit trail: who changed money, dates, consents, flags and credentials."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.core.clock import utcnow
from app.models import AuditEntry


def record(
    session: AsyncSession,
    actor: Principal | None,
    *,
    entity: str,
    entity_id: uuid.UUID | str,
    action: str,
    changes: dict[str, Any],
    club_id: uuid.UUID | None,
) -> AuditEntry:
    entry = AuditEntry(
        club_id=club_id,
        actor_staff_id=actor.staff_id if actor else None,
        actor_token_id=actor.token_id if actor else None,
        actor_label=actor.label if actor else "system",
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        changes=jsonable_encoder(changes),
        at=utcnow(),
    )
    session.add(entry)
    return entry


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: [old, new]} for the fields that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
