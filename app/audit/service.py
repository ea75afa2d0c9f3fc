"""Audit trail: who changed money, dates, consents, flags and credentials."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.auth.permissions import Perm, Principal
from app.core.clock import utcnow
from app.core.pagination import PageParams, SortKey, paginate
from app.errors import RuleViolation
from app.models import AuditEntry

MEMBER_ENTITY = "member"


@dataclass(frozen=True)
class AuditFilter:
    club_id: uuid.UUID | None = None
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


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


async def search(
    session: AsyncSession, actor: Principal, page: PageParams, flt: AuditFilter
) -> tuple[list[AuditEntry], str | None]:
    """Entries of the clubs this token sees, newest first (`at`, then id).

    `since` is inclusive, `until` exclusive. A token pinned to one member sees only the
    entries about that member."""
    actor.require(Perm.AUDIT_READ)
    if flt.club_id is not None:
        actor.require_club(flt.club_id, "club")
    if flt.since is not None and flt.until is not None and flt.since > flt.until:
        raise RuleViolation(
            "since must not be after until.",
            code="validation_error",
            errors=[{"pointer": "/query/since", "detail": "after until"}],
        )
    entity, entity_id = flt.entity, flt.entity_id
    if actor.member_id is not None:
        if (entity not in (None, MEMBER_ENTITY)) or (entity_id not in (None, str(actor.member_id))):
            return [], None
        entity, entity_id = MEMBER_ENTITY, str(actor.member_id)
    stmt = repository.listing(
        actor.club_ids,
        club_id=flt.club_id,
        entity=entity,
        entity_id=entity_id,
        action=flt.action,
        since=flt.since,
        until=flt.until,
    )
    return await paginate(
        session,
        stmt,
        [SortKey(AuditEntry.at, descending=True), SortKey(AuditEntry.id, descending=True)],
        page,
        scope="audit",
        key_of=lambda e: [e.at, e.id],
    )
