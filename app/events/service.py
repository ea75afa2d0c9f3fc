"""The event outbox: `emit()` writes in the caller's transaction, so an event exists
exactly when the change it reports was committed. Webhooks and the events feed read it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from fastapi.encoders import jsonable_encoder
from sqlalchemy import Table, insert
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
EMIT_MANY_ROWS = 1000  # events per INSERT statement of emit_many()

_PLAIN = (str, int, float, bool, type(None))


def encode_data(value: Any) -> Any:
    """`jsonable_encoder(value)` for an event payload, with the types payloads are made
    of (text, numbers, ids, instants, dates, lists, dicts) converted directly: the same
    result without its generic walk, which cost more than the rest of emitting an event.
    Anything else (enums, decimals, models...) goes to jsonable_encoder itself."""
    t = type(value)
    if t in _PLAIN:
        return value
    if t is uuid.UUID:
        return str(value)
    if t is datetime or t is date:
        return value.isoformat()
    if t is list or t is tuple:
        return [encode_data(v) for v in value]
    if t is dict and all(type(k) is str and not k.startswith("_sa") for k in value):
        return {k: encode_data(v) for k, v in value.items()}
    return jsonable_encoder(value)


def _check_type(type: str) -> None:
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")


async def emit(
    session: AsyncSession, type: str, data: dict[str, Any], *, club_id: uuid.UUID | None
) -> Event:
    _check_type(type)
    event = Event(
        public_id=new_id(),
        type=type,
        club_id=club_id,
        data=encode_data(data),
        created_at=utcnow(),
    )
    session.add(event)
    return event


async def emit_many(
    session: AsyncSession,
    type: str,
    payloads: Sequence[dict[str, Any]],
    *,
    club_id: uuid.UUID | None,
) -> int:
    """`emit()` for many events of one type and club: the same rows in the caller's
    transaction, written at once in multi-row INSERTs of EMIT_MANY_ROWS, without an ORM
    object per event (a scan emits thousands). Ids follow the order of `payloads`, and
    changes still pending in the session (earlier `emit()`s included) are flushed first,
    so the feed shows the events in the order they were emitted. All get one
    `created_at`. Returns how many were written."""
    _check_type(type)
    if not payloads:
        return 0
    now = utcnow()
    rows = [
        {
            "public_id": new_id(),
            "type": type,
            "club_id": club_id,
            "data": encode_data(data),
            "created_at": now,
        }
        for data in payloads
    ]
    await session.flush()
    table = cast(Table, Event.__table__)  # Core: no ORM bookkeeping per row
    for i in range(0, len(rows), EMIT_MANY_ROWS):
        await session.execute(insert(table), rows[i : i + EMIT_MANY_ROWS])
    return len(rows)


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
