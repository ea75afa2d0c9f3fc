"""The event outbox: `emit()` writes in the caller's transaction, so an event exists
exactly when the change it reports was committed. Webhooks and the events feed read it."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.ids import new_id
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
