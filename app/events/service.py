"""The event outbox: `emit()` writes in the caller's transaction, so an event exists
exactly when the change it reports was committed. Webhooks and the events feed read it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.core.clock import utcnow
from app.core.ids import new_id
from app.core.pagination import decode_cursor, encode_cursor
from app.errors import RuleViolation
from app.events import repository
from app.models import Event

EVENT_TYPES = (
    "checkin.recorded",
    "member.at_risk",
    "call.due",
    "meeting.booked",
    "meeting.no_show",
    "membership.created",
    "membership.cancelled",
    "membership.renewed",
    "membership.expiring",
    "freeze.started",
    "freeze.ended",
    "complaint.opened",
)

_FEED_SCOPE = "events"
PURGE_BATCH = 5000
MAX_PURGE_BATCHES = 200


async def emit(
    session: AsyncSession, type: str, data: dict[str, Any], *, club_id: uuid.UUID | None
) -> Event:
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = Event(
        public_id=new_id(),
        type=type,
        club_id=club_id,
        data=jsonable_encoder(data),
        created_at=utcnow(),
    )
    session.add(event)
    return event


def position_of(event: Event) -> str:
    return encode_cursor(_FEED_SCOPE, [event.xact_id or 0, event.id])


async def feed(
    session: AsyncSession,
    actor: Principal,
    *,
    after: str | None,
    types: Sequence[str] | None,
    limit: int,
) -> tuple[list[Event], str | None]:
    """The outbox as a replayable feed in a stable order; see events/repository.py for
    why it never skips an event that commits late."""
    if types:
        unknown = sorted(set(types) - set(EVENT_TYPES))
        if unknown:
            raise RuleViolation(
                "Unknown event type(s): " + ", ".join(unknown),
                code="validation_error",
                errors=[{"pointer": "/types", "detail": "unknown event type"}],
            )
    position = None
    if after:
        xact, eid = decode_cursor(_FEED_SCOPE, after, 2)
        position = (int(xact), int(eid))
    horizon = await repository.settled_horizon(session)
    rows = await repository.feed(
        session,
        club_ids=actor.club_ids,
        types=types,
        after=position,
        limit=limit + 1,
        horizon=horizon,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, position_of(rows[-1]) if more else None


async def purge(session: AsyncSession, as_of: datetime, retention: timedelta) -> int:
    """Delete events (and their deliveries) older than the retention, in batches."""
    total = 0
    for _ in range(MAX_PURGE_BATCHES):
        deleted = await repository.purge_before(session, as_of - retention, PURGE_BATCH)
        total += deleted
        if deleted < PURGE_BATCH:
            break
    return total
