"""Consent state: the latest event per purpose wins; history is kept in consent_events.

The one query every domain uses to know what a member agreed to (contact policy,
messaging, campaigns). Absent any event, a purpose is not consented.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ConsentEvent


class ConsentPurpose(StrEnum):
    CALLS = "calls"
    SERVICE_SMS = "service_sms"
    MARKETING_SMS = "marketing_sms"
    MARKETING_EMAIL = "marketing_email"


async def current_consents(
    session: AsyncSession, member_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[ConsentPurpose, bool]]:
    ids = list(member_ids)
    out: dict[uuid.UUID, dict[ConsentPurpose, bool]] = {
        m: dict.fromkeys(ConsentPurpose, False) for m in ids
    }
    if not ids:
        return out
    ranked = (
        select(
            ConsentEvent.member_id,
            ConsentEvent.purpose,
            ConsentEvent.granted,
            func.row_number()
            .over(
                partition_by=(ConsentEvent.member_id, ConsentEvent.purpose),
                order_by=(ConsentEvent.recorded_at.desc(), ConsentEvent.id.desc()),
            )
            .label("rn"),
        )
        .where(ConsentEvent.member_id.in_(ids))
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.member_id, ranked.c.purpose, ranked.c.granted).where(ranked.c.rn == 1)
    )
    for member_id, purpose, granted in rows:
        if purpose in ConsentPurpose._value2member_map_:
            out[member_id][ConsentPurpose(purpose)] = bool(granted)
    return out
