"""Consent state: the latest event per purpose wins; history is kept in consent_events.

The one query every domain uses to know what a member agreed to (contact policy,
messaging, campaigns). Absent any event, a purpose is not consented.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import ConsentEvent


class ConsentPurpose(StrEnum):
    CALLS = "calls"
    SERVICE_SMS = "service_sms"
    MARKETING_SMS = "marketing_sms"
    MARKETING_EMAIL = "marketing_email"


def _ranked(ids: list[uuid.UUID], *columns: Any) -> Subquery:
    """Consent events of `ids`, numbered newest first within each (member, purpose).

    "Newest" is by `recorded_at` (when the member agreed or withdrew, which may be
    back-dated for paper forms), then by id, so a late-entered old form never overrides
    a newer decision."""
    return (
        select(
            *columns,
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


async def current_consents(
    session: AsyncSession, member_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[ConsentPurpose, bool]]:
    ids = list(member_ids)
    out: dict[uuid.UUID, dict[ConsentPurpose, bool]] = {
        m: dict.fromkeys(ConsentPurpose, False) for m in ids
    }
    if not ids:
        return out
    ranked = _ranked(ids, ConsentEvent.member_id, ConsentEvent.purpose, ConsentEvent.granted)
    rows = await session.execute(
        select(ranked.c.member_id, ranked.c.purpose, ranked.c.granted).where(ranked.c.rn == 1)
    )
    for member_id, purpose, granted in rows:
        if purpose in ConsentPurpose._value2member_map_:
            out[member_id][ConsentPurpose(purpose)] = bool(granted)
    return out


async def latest_consent_events(
    session: AsyncSession, member_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[ConsentPurpose, ConsentEvent]]:
    """The event that decides each purpose's current state, with its provenance (source,
    time, who recorded it). A purpose with no event is absent from the inner dict."""
    ids = list(member_ids)
    out: dict[uuid.UUID, dict[ConsentPurpose, ConsentEvent]] = {m: {} for m in ids}
    if not ids:
        return out
    ranked = _ranked(ids, ConsentEvent)
    latest = aliased(ConsentEvent, ranked)
    rows = await session.scalars(select(latest).where(ranked.c.rn == 1))
    for event in rows:
        if event.purpose in ConsentPurpose._value2member_map_:
            out[event.member_id][ConsentPurpose(event.purpose)] = event
    return out
