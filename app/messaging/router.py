from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.permissions import Perm, Principal
from app.core.schemas import Page
from app.dependencies import PageDep, SessionDep, requires
from app.errors import error_responses
from app.messaging.schemas import MessageRead, MessageStatus
from app.messaging.service import messaging_service
from app.routing import AppRoute

router = APIRouter(route_class=AppRoute)

Reader = Annotated[Principal, Depends(requires(Perm.MESSAGES_READ))]


@router.get(
    "/messages",
    summary="List outbox messages",
    status_code=status.HTTP_200_OK,
    response_model=Page[MessageRead],
    responses=error_responses(401, 403, 404, 422),
)
async def list_messages(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    member_id: Annotated[uuid.UUID | None, Query(description="Only this member's.")] = None,
    status: Annotated[
        MessageStatus | None,
        Query(description="`queued` (incl. deferred), `sent`, `failed` or `suppressed`."),
    ] = None,
    club_id: Annotated[uuid.UUID | None, Query(description="Only this club's.")] = None,
) -> Page[MessageRead]:
    """SMS and e-mail to members, newest first, with why any was suppressed or deferred."""
    items, cursor = await messaging_service.list(
        session,
        principal,
        page,
        club_id=club_id,
        member_id=member_id,
        status=status.value if status else None,
    )
    return Page[MessageRead](
        items=[MessageRead.model_validate(m) for m in items], next_cursor=cursor
    )
