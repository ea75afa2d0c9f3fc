from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.permissions import Perm, Principal
from app.core.pagination import MAX_LIMIT
from app.dependencies import SessionDep, requires
from app.errors import RuleViolation, error_responses
from app.events.schemas import EventPage, EventRead
from app.events.service import EVENT_TYPES, feed, position_of
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.EVENTS_READ))]


@router.get(
    "/events",
    summary="Read the events feed",
    status_code=status.HTTP_200_OK,
    response_model=EventPage,
    responses=error_responses(401, 403, 422),
)
async def list_events(
    session: SessionDep,
    principal: Reader,
    after: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Position of the last event you processed (its `position`, or a "
            "`next_cursor`). Omit to start from the oldest retained event.",
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=2000, description="Same as `after`.")] = None,
    types: Annotated[
        list[str] | None,
        Query(
            description="Only these event types (repeat, or comma-separated): "
            + ", ".join(EVENT_TYPES)
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = 50,
) -> EventPage:
    """Every event of the clubs this token may see, oldest first, in a stable order."""
    if after and cursor and after != cursor:
        raise RuleViolation("Give either after or cursor.", code="validation_error")
    wanted = [t.strip() for v in types or [] for t in v.split(",") if t.strip()] or None
    items, next_cursor = await feed(
        session, principal, after=after or cursor, types=wanted, limit=limit
    )
    return EventPage(
        items=[
            EventRead(
                id=e.public_id,
                type=e.type,
                club_id=e.club_id,
                created_at=e.created_at,
                data=e.data,
                position=position_of(e),
            )
            for e in items
        ],
        next_cursor=next_cursor,
    )
